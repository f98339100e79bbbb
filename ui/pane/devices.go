package pane

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/ui/theme"
)

// Devices is what the device list shows.
type Devices struct {
	// IDs is every row's device, when List holds only some rows (a window
	// of a fleet); nil when List is the whole list.
	IDs      []string
	List     []device.Summary // the rows from First on
	First    int
	Selected int // selected row
	Top      int // first visible row
	Now      time.Duration
	Speed    float64
}

// PulseWall is how long (in wall time) a heartbeat keeps the pulse lit.
const PulseWall = 300 * time.Millisecond

// Pulse reports whether a heartbeat at virtual time last still lights the
// pulse at now, the clock running at speed.
func Pulse(now, last time.Duration, speed float64) bool {
	if last < 0 {
		return false
	}
	return now-last <= time.Duration(float64(PulseWall)*max(speed, 0.25))
}

// Abbrev is a container state in four letters or fewer, for narrow rows.
func Abbrev(s device.State) string {
	switch s {
	case device.Provisioning:
		return "PROV"
	case device.Running:
		return "RUN"
	case device.Ready:
		return "RDY"
	case device.Stopping:
		return "STOP"
	case device.Deleting:
		return "DEL"
	case device.Failed:
		return "FAIL"
	}
	return "EMPT"
}

// Render draws the list's visible rows: h lines of w cells. A row outside
// List (the window moved since it was taken) shows its id and a "…" until
// the next snapshot brings its summary.
func (d Devices) Render(t *theme.Theme, w, h int) []string {
	n := d.rows()
	if n == 0 {
		return Lines([]string{t.Dim.Render("no devices")}, w, h)
	}
	end := min(n, d.Top+h)
	idW := 4
	for i := d.Top; i < end; i++ {
		idW = max(idW, Width(d.id(i)))
	}
	idW = min(idW, max(w/3, 8))
	board := w >= idW+36
	// the denied column is as wide as the largest count shown, or absent
	deniedW := 0
	for i := d.Top; i < end; i++ {
		if s := d.summary(i); s != nil && s.Denied > 0 {
			deniedW = max(deniedW, len(fmt.Sprint(s.Denied))+1)
		}
	}
	out := make([]string, 0, h)
	for i := d.Top; i < end; i++ {
		if s := d.summary(i); s != nil {
			out = append(out, d.row(t, s, i == d.Selected, idW, deniedW, board, w))
		} else {
			out = append(out, d.pending(t, d.id(i), i == d.Selected, idW))
		}
	}
	return Lines(out, w, h)
}

func (d Devices) rows() int {
	if d.IDs == nil {
		return len(d.List)
	}
	return len(d.IDs)
}

func (d Devices) id(i int) string {
	if d.IDs == nil {
		return d.List[i].ID
	}
	return d.IDs[i]
}

// summary is row i's summary, nil when List does not hold it.
func (d Devices) summary(i int) *device.Summary {
	j := i - d.First
	if j < 0 || j >= len(d.List) || d.List[j].ID != d.id(i) {
		return nil
	}
	return &d.List[j]
}

func (d Devices) pending(t *theme.Theme, id string, sel bool, idW int) string {
	if sel {
		return t.Selected.Render("▶ "+Fit(id, idW)) + " " + t.Dim.Render("…")
	}
	return "  " + t.Strong.Render(Fit(id, idW)) + " " + t.Dim.Render("…")
}

func (d Devices) row(t *theme.Theme, s *device.Summary, sel bool, idW, deniedW int, board bool, w int) string {
	var b strings.Builder
	mark := "  "
	if sel {
		mark = "▶ "
	}
	id := Fit(s.ID, idW)
	if sel {
		b.WriteString(t.Selected.Render(mark + id))
	} else {
		b.WriteString(mark + t.Strong.Render(id))
	}
	if board {
		b.WriteString(" " + t.Dim.Render(Fit(s.Board, 10)))
	}
	// heartbeat pulse of the device: lit while any watched container's beat is fresh
	watched, lit := false, false
	for _, c := range s.Containers {
		if c.Watched {
			watched = true
			lit = lit || Pulse(d.Now, c.LastBeat, d.Speed)
		}
	}
	switch {
	case s.Remote != "":
		// attached: real time, outside the lab's clock
		if s.Powered {
			b.WriteString(" " + t.Info.Render("⇄"))
		} else {
			b.WriteString(" " + t.Bad.Render("⇄"))
		}
	case !s.Powered:
		b.WriteString(" " + t.Dim.Render("⏻"))
	case lit:
		b.WriteString(" " + t.Heart.Render("♥"))
	case watched:
		b.WriteString(" " + t.Dim.Render("♡"))
	default:
		b.WriteString(" " + t.Dim.Render("·"))
	}
	pct := fmt.Sprintf("%d%%", (s.BatteryPermille+5)/10)
	bat := t.Text
	if s.BatteryPermille < 200 {
		bat = t.Warn
	}
	if s.Remote != "" {
		pct, bat = "live", t.Info
		if !s.Powered {
			pct, bat = "lost", t.Bad
		}
	}
	b.WriteString(" " + bat.Render(FitLeft(pct, 4)))
	switch {
	case s.Denied > 0:
		b.WriteString(" " + t.Bad.Render(Fit(fmt.Sprintf("✗%d", s.Denied), deniedW)))
	case deniedW > 0:
		b.WriteString(" " + strings.Repeat(" ", deniedW))
	}
	rest := w - Width(b.String()) - 1
	b.WriteString(" " + d.containers(t, s, rest))
	return b.String()
}

// initial is a runtime's one-letter mark (b, w) for narrow lists.
func initial(rt string) string {
	if rt == "" {
		return ""
	}
	return rt[:1]
}

// containers shows a device's containers and their states in n cells:
// names and states when they fit, counts per state when not.
func (d Devices) containers(t *theme.Theme, s *device.Summary, n int) string {
	if s.Remote != "" && !s.Powered {
		return t.Bad.Render(Fit(s.Remote, n))
	}
	if !s.Powered {
		return t.Bad.Render("OFF")
	}
	if s.Updating {
		p := ""
		if s.UpdateTotal > 0 {
			p = fmt.Sprintf(" %d%%", s.UpdateDone*100/s.UpdateTotal)
		}
		if n >= 14 {
			return t.Info.Render("⇩ updating" + p)
		}
		return t.Info.Render("⇩" + p)
	}
	if len(s.Containers) == 0 {
		return t.Dim.Render("—")
	}
	// names, runtimes and states; runtimes by their initial; names and
	// states; else counts per state
	tiers := [3][]string{}
	plain := [3]int{}
	for _, c := range s.Containers {
		st := t.State(c.State).Render(Abbrev(c.State))
		base := Width(c.UID) + 1 + len(Abbrev(c.State)) + 1
		rt := ""
		if c.Runtime != firewall.TypeUndefined { // a replay does not know it
			rt = c.Runtime.String()
		}
		for k, name := range []string{rt, initial(rt), ""} {
			if name == "" {
				tiers[k] = append(tiers[k], c.UID+" "+st)
				plain[k] += base
				continue
			}
			tiers[k] = append(tiers[k], c.UID+t.Dim.Render("·")+Runtime(t, name)+" "+st)
			plain[k] += base + 1 + len(name)
		}
	}
	for k := range tiers {
		if plain[k]-1 <= n {
			return strings.Join(tiers[k], " ")
		}
	}
	var counts [7]int
	for _, c := range s.Containers {
		if int(c.State) < len(counts) {
			counts[c.State]++
		}
	}
	var parts []string
	for st, k := range counts {
		if k == 0 {
			continue
		}
		p := Abbrev(device.State(st))
		if k > 1 {
			p = fmt.Sprintf("%d %s", k, p)
		}
		parts = append(parts, t.State(device.State(st)).Render(p))
	}
	return strings.Join(parts, " ")
}

// TallyNote is a fleet's counts for the device list's frame: containers by
// state (failed first: what a presenter looks for), boards off, denials, each only when
// there is any; the first that does not fit in w cells ends the note.
func TallyNote(t *theme.Theme, y lab.Tally, w int) string {
	var parts []string
	full := false
	add := func(s string) {
		if n := len(parts); !full && ansi.StringWidth(strings.Join(append(parts[:n:n], s), " · ")) <= w {
			parts = append(parts, s)
			return
		}
		full = true
	}
	order := []device.State{device.Failed, device.Running, device.Provisioning, device.Ready, device.Stopping, device.Deleting}
	for _, s := range order {
		if n := y.Of(s); n > 0 {
			text := fmt.Sprintf("%d %s", n, Abbrev(s))
			if s == device.Failed {
				text = t.Bad.Render(text)
			}
			add(text)
		}
	}
	if y.Off > 0 {
		add(fmt.Sprintf("⏻ %d", y.Off))
	}
	if y.Denied > 0 {
		add(t.Bad.Render(fmt.Sprintf("✗ %d", y.Denied)))
	}
	return strings.Join(parts, " · ")
}
