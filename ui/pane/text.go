package pane

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinylab/ui/theme"
)

// Fit pads or cuts s (which may hold ANSI styles) to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	if n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// FitLeft is Fit with the text aligned right.
func FitLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-n) + s
}

// Width is the number of cells s takes.
func Width(s string) int { return ansi.StringWidth(s) }

// Blank is n empty lines of width w.
func Blank(n, w int) []string {
	out := make([]string, max(n, 0))
	for i := range out {
		out[i] = strings.Repeat(" ", max(w, 0))
	}
	return out
}

// Lines fits every line to w and pads or cuts the list to h lines.
func Lines(in []string, w, h int) []string {
	if h <= 0 {
		return nil
	}
	out := make([]string, h)
	for i := range out {
		if i < len(in) {
			out[i] = Fit(in[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return out
}

// Wrap breaks plain text into lines of at most w cells at spaces.
func Wrap(s string, w int) []string {
	if w <= 0 {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, word := range words {
			for ansi.StringWidth(word) > w {
				if line != "" {
					out = append(out, line)
					line = ""
				}
				out = append(out, ansi.Truncate(word, w, ""))
				word = ansi.TruncateLeft(word, w, "")
			}
			switch {
			case line == "":
				line = word
			case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Spread puts left and right on one line of w cells, right-aligned, dropping
// right when both do not fit.
func Spread(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if lw+1+rw > w {
		return Fit(left, w)
	}
	return left + strings.Repeat(" ", w-lw-rw) + right
}

// Inner is the width of a frame's body for a frame w cells wide.
func Inner(w int) int {
	if w-2 >= 12 {
		return w - 4
	}
	return max(w-2, 0)
}

// Frame draws a box of w×h cells around body with title (and an optional
// note on the right) in its top border. The focused box is drawn with heavy
// lines, so focus shows without colour too.
func Frame(t *theme.Theme, title, note string, focused bool, w, h int, body []string) []string {
	if w < 2 || h < 2 {
		return Blank(h, w)
	}
	b, fs, ts := t.Box, t.Frame, t.Title
	if focused {
		b, fs, ts = t.BoxFocus, t.FrameFocus, t.TitleFocus
	}
	inner := w - 2
	// one cell of padding inside each side, when there is room for it
	pad := 0
	if inner >= 12 {
		pad = 1
	}
	out := make([]string, 0, h)
	top := fs.Render(b.TL+b.H) + ts.Render(" "+title+" ")
	if note != "" {
		top += fs.Render(b.H) + " " + note + " "
	}
	top = ansi.Truncate(top, w-1, "")
	if n := w - 1 - ansi.StringWidth(top); n > 0 {
		top += fs.Render(strings.Repeat(b.H, n))
	}
	out = append(out, top+fs.Render(b.TR))
	v := fs.Render(b.V)
	sp := strings.Repeat(" ", pad)
	for _, l := range Lines(body, inner-2*pad, h-2) {
		out = append(out, v+sp+l+sp+v)
	}
	return append(out, fs.Render(b.BL+strings.Repeat(b.H, inner)+b.BR))
}

// Bar draws a gauge of w cells filled to frac (0..1).
func Bar(t *theme.Theme, frac float64, w int) string {
	if w <= 0 {
		return ""
	}
	frac = min(max(frac, 0), 1)
	full := int(frac*float64(w) + 0.5)
	if frac > 0 && full == 0 {
		full = 1
	}
	return t.Fill.Render(strings.Repeat("█", full)) + t.Empty.Render(strings.Repeat("░", w-full))
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values (durations) as one character each, the last w of
// them, scaled between their minimum and maximum.
func Sparkline(vals []time.Duration, w int) string {
	if w <= 0 || len(vals) == 0 {
		return ""
	}
	if len(vals) > w {
		vals = vals[len(vals)-w:]
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := len(sparks) / 2
		if hi > lo {
			i = int(float64(v-lo) / float64(hi-lo) * float64(len(sparks)-1))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

// Energy writes microjoules for people.
func Energy(uj int64) string {
	switch {
	case uj < 1000:
		return fmt.Sprintf("%d µJ", uj)
	case uj < 1_000_000:
		return fmt.Sprintf("%.1f mJ", float64(uj)/1e3)
	default:
		return fmt.Sprintf("%.2f J", float64(uj)/1e6)
	}
}

// Bytes writes a size in bytes, as KiB with one decimal from 10 KiB.
func Bytes(n int) string {
	if n < 10<<10 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}

// Runtime names a container's runtime (bpf, wasm), WebAssembly stressed so
// the two stand apart in a table; "" (not known, as in a replay) is a dash.
func Runtime(t *theme.Theme, rt string) string {
	switch rt {
	case "":
		return t.Dim.Render("—")
	case "wasm", "w":
		return t.Info.Render(rt)
	}
	return rt
}

// KiB writes bytes as KiB with one decimal under 100 KiB.
func KiB(n int) string {
	k := float64(n) / 1024
	if k < 100 {
		return fmt.Sprintf("%.1f", k)
	}
	return fmt.Sprintf("%.0f", k)
}

// Clock writes a virtual time as the status line shows it: mm:ss.d.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ds := int64(d / (100 * time.Millisecond))
	h, m, s, frac := ds/36000, ds/600%60, ds/10%60, ds%10
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d.%d", h, m, s, frac)
	}
	return fmt.Sprintf("%02d:%02d.%d", m, s, frac)
}

// Ago writes how long ago something happened, briefly.
func Ago(d time.Duration) string {
	switch {
	case d < 0:
		return "0.0s"
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < 100*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	default:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
}

// Speed writes a speed factor: 1x, 0.25x, 10x.
func Speed(s float64) string {
	if s == float64(int(s)) {
		return fmt.Sprintf("%dx", int(s))
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", s), "0"), ".") + "x"
}

// Scroll returns the first visible row so that sel stays in view in a list of
// n rows shown h at a time, moving top as little as possible.
func Scroll(top, sel, n, h int) int {
	if h <= 0 || n <= h {
		return 0
	}
	if sel < top {
		top = sel
	}
	if sel >= top+h {
		top = sel - h + 1
	}
	return min(max(top, 0), n-h)
}
