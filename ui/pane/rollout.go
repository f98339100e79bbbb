package pane

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"tinylab/lab"
	"tinylab/lab/rollout"
	"tinylab/ui/theme"
)

// Rollout is what the rollout pane shows: the latest campaign's waves with
// their counts, a progress bar, the failures grouped by reason, and a map
// of the fleet with one cell per board (or per few boards, when there are
// more boards than cells).
type Rollout struct {
	View lab.RolloutView
}

// Title names the campaign and where it is.
func (r Rollout) Title() string {
	return "rollout · " + r.View.Name + " · " + r.View.State.String()
}

// cellKind is what one map cell shows: a device state, or pending devices
// a halted campaign holds back.
type cellKind uint8

const (
	cellPending cellKind = iota
	cellFetching
	cellInstalled
	cellFailed
	cellOffline
	cellHalted
	cellSomeFailed // an aggregated cell where a minority failed
	cellKinds
)

var cellGlyphs = [cellKinds]string{"░", "▒", "█", "✗", "·", "▪", "×"}
var cellNames = [cellKinds]string{"pending", "fetching", "installed", "failed", "offline", "halted", "some failed"}
var cellShort = [cellKinds]string{"pend", "fetch", "inst", "fail", "off", "held", "some"}

func cellStyle(t *theme.Theme, k cellKind) theme.Style {
	switch k {
	case cellFetching:
		return t.Info
	case cellInstalled:
		return t.OK
	case cellFailed, cellSomeFailed:
		return t.Bad
	case cellOffline:
		return t.Warn
	case cellHalted:
		return t.Accent
	}
	return t.Dim
}

// held reports whether pending devices are held back by the campaign's state.
func (r Rollout) held() bool {
	s := r.View.State
	return s == rollout.Halted || s == rollout.Aborted
}

// Render draws the pane's body in w x h cells.
func (r Rollout) Render(t *theme.Theme, w, h int) []string {
	v := r.View
	if w <= 0 || h <= 0 {
		return Blank(h, w)
	}
	total := len(v.Cells)
	installed := 0
	for _, wv := range v.Waves {
		if wv.Rollback == (v.State == rollout.RollingBack || v.State == rollout.RolledBack) {
			installed += wv.Counts[rollout.Installed]
		}
	}
	var lines []string
	what := fmt.Sprintf("%s seq %d to %d boards · halt above %s", v.Release, v.Seq, total, v.HaltOn)
	if v.From != "" {
		what += " · rollback to " + v.From
	}
	lines = append(lines, t.Strong.Render(what))
	phase := "installed"
	if v.State == rollout.RollingBack || v.State == rollout.RolledBack {
		phase = "rolled back"
	}
	label := fmt.Sprintf(" %d/%d %s %d%%", installed, total, phase, percent(installed, total))
	lines = append(lines, Bar(t, frac(installed, total), max(w-Width(label), 4))+label)
	if v.Reasons != "" {
		lines = append(lines, t.Bad.Render("failures: ")+v.Reasons)
	}
	if w < wideTable {
		lines = append(lines, r.compactRows(t, w)...)
	} else {
		lines = append(lines, r.waveRows(t, w)...)
	}
	if rows := h - len(lines) - 1; rows >= 1 && total > 0 {
		lines = append(lines, r.fleetMap(t, w, rows)...)
	}
	return Lines(lines, w, h)
}

func percent(k, n int) int {
	if n == 0 {
		return 0
	}
	return k * 100 / n
}

func frac(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// wideTable is the narrowest pane that holds the table of waves; narrower
// panes list each wave's non-zero counts by glyph.
const wideTable = 56

// compactRows is one short row per wave: "▶ wave 2  900 █826 ✗70 ▒3 ·1".
func (r Rollout) compactRows(t *theme.Theme, w int) []string {
	v := r.View
	var out []string
	for i, wv := range v.Waves {
		mark := "  "
		if i == v.Current && !v.State.Over() {
			mark = t.Accent.Render("▶ ")
		}
		row := mark + fmt.Sprintf("%-7s %5d", Fit(wv.Name, 7), wv.Devices)
		for _, k := range []cellKind{cellInstalled, cellFailed, cellFetching, cellOffline, cellPending} {
			n := wv.Counts[k]
			if n == 0 {
				continue
			}
			g := k
			if k == cellPending && r.held() {
				g = cellHalted
			}
			row += " " + cellStyle(t, g).Render(cellGlyphs[g]+fmt.Sprint(n))
		}
		out = append(out, Fit(row, w))
	}
	return out
}

// waveRows is the table of waves: a header and one row each.
func (r Rollout) waveRows(t *theme.Theme, w int) []string {
	v := r.View
	pend := "pend"
	if r.held() {
		pend = "halted"
	}
	out := []string{t.Dim.Render(fmt.Sprintf("  %-9s %6s %6s %6s %6s %6s %6s", "wave", "boards", pend, "fetch", "inst", "fail", "off"))}
	for i, wv := range v.Waves {
		mark := "  "
		if i == v.Current && !v.State.Over() {
			mark = t.Accent.Render("▶ ")
		}
		c := wv.Counts
		row := fmt.Sprintf("%-9s %6d %6d %6d %6d ", Fit(wv.Name, 9), wv.Devices, c[rollout.Pending], c[rollout.Fetching], c[rollout.Installed])
		fail := fmt.Sprintf("%6d", c[rollout.Failed])
		if c[rollout.Failed] > 0 {
			fail = t.Bad.Render(fail)
		}
		row = mark + row + fail + fmt.Sprintf(" %6d", c[rollout.Offline])
		if !wv.Started {
			row = mark + t.Dim.Render(ansi.Strip(row[len(mark):]))
		}
		out = append(out, Fit(row, w))
	}
	return out
}

// fleetMap draws every target as a cell, in rollout order, row by row; when
// the targets outnumber the cells each cell stands for the same number of
// boards and shows their most common state, except that failures are never
// hidden: a cell where at least half failed is failed, one where fewer did
// shows "some failed". The last row is the legend.
func (r Rollout) fleetMap(t *theme.Theme, w, rows int) []string {
	cells := r.View.Cells
	legendRow := 1
	rows -= legendRow
	if rows < 1 || w < 1 {
		return nil
	}
	per := (len(cells) + w*rows - 1) / (w * rows)
	per = max(per, 1)
	n := (len(cells) + per - 1) / per
	kinds := make([]cellKind, n)
	held := r.held()
	for i := range kinds {
		var count [cellKinds]int
		for _, s := range cells[i*per : min((i+1)*per, len(cells))] {
			k := cellKind(s)
			if s == rollout.Pending && held {
				k = cellHalted
			}
			count[k]++
		}
		cnt := min((i+1)*per, len(cells)) - i*per
		switch {
		case count[cellFailed]*2 >= cnt:
			kinds[i] = cellFailed
		case count[cellFailed] > 0:
			kinds[i] = cellSomeFailed
		default:
			best := cellPending
			for _, k := range []cellKind{cellFetching, cellOffline, cellHalted, cellInstalled, cellPending} {
				if count[k] > count[best] || count[k] == count[best] && k != best && best == cellPending {
					best = k
				}
			}
			kinds[i] = best
		}
	}
	var out []string
	for y := 0; y*w < n; y++ {
		row := kinds[y*w : min((y+1)*w, n)]
		var b strings.Builder
		// One style per run of equal cells, not per cell: a row of a
		// 10,000-board map is a few runs.
		for i := 0; i < len(row); {
			j := i
			for j < len(row) && row[j] == row[i] {
				j++
			}
			b.WriteString(cellStyle(t, row[i]).Render(strings.Repeat(cellGlyphs[row[i]], j-i)))
			i = j
		}
		out = append(out, b.String())
	}
	scale := "1 cell = 1 board"
	if per > 1 {
		scale = fmt.Sprintf("1 cell = %d boards", per)
	}
	var line string
	for _, names := range [][cellKinds]string{cellNames, cellShort} {
		var legend []string
		for k := range cellKinds {
			if k == cellHalted && !held || k == cellPending && held || k == cellSomeFailed && per == 1 {
				continue
			}
			legend = append(legend, cellStyle(t, k).Render(cellGlyphs[k])+" "+names[k])
		}
		if line = strings.Join(legend, "  ") + t.Dim.Render("  · "+scale); Width(line) <= w {
			break
		}
	}
	return append(out, Fit(line, w))
}
