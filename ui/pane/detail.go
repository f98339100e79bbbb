package pane

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinylab/device"
	"tinylab/ui/theme"
)

// Detail is what the device pane shows: the selected device in full.
type Detail struct {
	Dev      *device.Snapshot // nil: nothing selected yet
	Selected int              // selected container (row of the table)
	Now      time.Duration
	Speed    float64
	// Partial is set for a replay: only what the events say is known, so
	// loops, energy, CPU and memory are left out.
	Partial bool
	// Then are the states still to be shown of containers whose burst of
	// transitions the UI shows one by one (by uid).
	Then map[string][]device.State
}

// Title is the pane's title: the device, its board and its battery.
func (d Detail) Title() string {
	if d.Dev == nil {
		return "device"
	}
	return fmt.Sprintf("%s · %s · %d.%d%%", d.Dev.ID, d.Dev.Board.Name, d.Dev.BatteryPermille/10, d.Dev.BatteryPermille%10)
}

// column is one column of the container table.
type column struct {
	head  string
	width int
	prio  int // lower stays longer when the pane is narrow
	cell  func(c *device.ContainerInfo) string
}

// Render draws the device: its container table, the selected container's
// state machine and last transition, its local peers, memory and heartbeat.
func (d Detail) Render(t *theme.Theme, w, h int) []string {
	if d.Dev == nil {
		return Lines([]string{t.Dim.Render("no device selected")}, w, h)
	}
	dev := d.Dev
	var out []string
	if !dev.Powered {
		out = append(out, t.Bad.Render("⏻ POWER OFF")+t.Dim.Render(" · RAM lost, flash kept · power-on "+dev.ID))
		if len(dev.InFlash) > 0 {
			out = append(out, t.Dim.Render("in flash, back at boot: "+strings.Join(dev.InFlash, ", ")))
		}
	}
	var sel *device.ContainerInfo
	if len(dev.Containers) == 0 {
		if dev.Powered {
			out = append(out, t.Dim.Render("no containers: the board runs its firmware alone"))
		}
	} else {
		i := min(max(d.Selected, 0), len(dev.Containers)-1)
		sel = &dev.Containers[i]
		cols := d.columns(t, w)
		var hd strings.Builder
		for _, c := range cols {
			hd.WriteString(Fit(c.head, c.width-1) + " ")
		}
		out = append(out, t.Dim.Render(hd.String()))
		n := len(dev.Containers)
		top, rows := d.Window(h)
		end := min(top+rows, n)
		for k := top; k < end; k++ {
			var r strings.Builder
			for _, c := range cols {
				r.WriteString(Fit(c.cell(&dev.Containers[k]), c.width-1) + " ")
			}
			line := r.String()
			if k == i && len(dev.Containers) > 1 {
				line = t.Selected.Render(Fit(ansi.Strip(line), w))
			}
			out = append(out, line)
		}
		if hidden := n - (end - top); hidden > 0 {
			out = append(out, t.Dim.Render(fmt.Sprintf("+%d more (%s) · tab here, ↑↓ to see them", hidden, moreWhere(top, n-end))))
		}
	}
	if sel != nil {
		out = append(out, StateMachine(t, sel.Last.To, w))
		out = append(out, d.transition(t, sel))
	}
	out = append(out, d.peers(t, w)...)
	if !d.Partial {
		out = append(out, d.memory(t, w))
	}
	if sel != nil && len(sel.Intervals) > 0 {
		last := sel.Intervals[len(sel.Intervals)-1]
		sw := max(w-24-Width(sel.UID), 4)
		out = append(out, t.Heart.Render("♥ ")+sel.UID+" "+t.Info.Render(Sparkline(sel.Intervals, sw))+t.Dim.Render(fmt.Sprintf(" last +%.3fs", last.Seconds())))
	}
	// with room to spare: who spends the energy, and the selected container
	// in full
	if !d.Partial && len(dev.Containers) > 1 {
		out = append(out, d.shares(t, w))
	}
	if sel != nil {
		out = append(out, d.about(t, sel))
	}
	return Lines(out, w, h)
}

// Window is the part of the container table a pane of h lines shows: the
// first row and how many, the selected one among them. It keeps room below
// the table for the state machine and the transition, and a line to say
// how many rows are out of sight.
func (d Detail) Window(h int) (top, rows int) {
	dev := d.Dev
	if dev == nil || len(dev.Containers) == 0 {
		return 0, 0
	}
	above := 1 // the table's head
	if !dev.Powered {
		above++
		if len(dev.InFlash) > 0 {
			above++
		}
	}
	n := len(dev.Containers)
	rows = max(h-above-2, 1)
	if n > rows && rows >= 2 {
		rows--
	}
	i := min(max(d.Selected, 0), n-1)
	return Scroll(0, i, n, rows), rows
}

// TableRow is the line of the pane (from 0) the container table's first
// row is drawn on.
func (d Detail) TableRow() int {
	r := 1
	if d.Dev != nil && !d.Dev.Powered {
		r++
		if len(d.Dev.InFlash) > 0 {
			r++
		}
	}
	return r
}

// moreWhere says where the rows out of sight are.
func moreWhere(above, below int) string {
	switch {
	case above > 0 && below > 0:
		return fmt.Sprintf("%d above, %d below", above, below)
	case above > 0:
		return "above"
	}
	return "below"
}

func (d Detail) columns(t *theme.Theme, w int) []column {
	uidW := 10
	for _, c := range d.Dev.Containers {
		uidW = max(uidW, Width(c.UID)+1)
	}
	uidW = min(uidW, 17)
	all := []column{
		{"container", uidW, 0, func(c *device.ContainerInfo) string { return t.Strong.Render(c.UID) }},
		{"state", 13, 0, func(c *device.ContainerInfo) string {
			st, _ := device.ParseState(c.State)
			return t.State(st).Render(c.State)
		}},
		{"rt", 5, 1, func(c *device.ContainerInfo) string { return Runtime(t, c.Runtime) }},
		{"♥ last", 8, 1, func(c *device.ContainerInfo) string { return d.beat(t, c) }},
		{"loops", 7, 4, func(c *device.ContainerInfo) string { return fmt.Sprint(c.Loops) }},
		{"denied", 8, 2, func(c *device.ContainerInfo) string {
			if c.Denied == 0 {
				return t.Dim.Render("0")
			}
			return t.Bad.Render(fmt.Sprintf("%d ✗", c.Denied))
		}},
		{"energy", 10, 3, func(c *device.ContainerInfo) string { return Energy(c.EnergyMicroJ) }},
		{"cpu", 9, 5, func(c *device.ContainerInfo) string {
			return fmt.Sprintf("%.1f ms", float64(c.CPUMicros)/1000)
		}},
		{"seq", 5, 6, func(c *device.ContainerInfo) string { return fmt.Sprint(c.Seq) }},
		{"code", 8, 6, func(c *device.ContainerInfo) string { return Bytes(c.Size) }},
		{"ram", 8, 6, func(c *device.ContainerInfo) string { return Bytes(c.RAM) }},
	}
	// narrow panes use short state names
	if w < 50 {
		all[1].width = 6
		all[1].cell = func(c *device.ContainerInfo) string {
			st, _ := device.ParseState(c.State)
			return t.State(st).Render(Abbrev(st))
		}
	}
	if d.Partial { // a replay knows neither the runtime nor the loops
		all = []column{all[0], all[1], all[3], all[5]}
	}
	used := 0
	keep := make([]bool, len(all))
	for p := 0; p <= 6; p++ {
		for i, c := range all {
			if c.prio == p && used+c.width <= w {
				keep[i] = true
				used += c.width
			}
		}
	}
	var cols []column
	for i, c := range all {
		if keep[i] {
			cols = append(cols, c)
		}
	}
	return cols
}

func (d Detail) beat(t *theme.Theme, c *device.ContainerInfo) string {
	if c.Missed > 0 {
		return t.Bad.Render(fmt.Sprintf("✗%d miss", c.Missed))
	}
	if c.LastBeatMs < 0 || !c.Watched && c.Heartbeats == 0 {
		return t.Dim.Render("—")
	}
	last := time.Duration(c.LastBeatMs) * time.Millisecond
	ago := Ago(d.Now - last)
	if c.Watched && Pulse(d.Now, last, d.Speed) {
		return t.Heart.Render("♥ ") + ago
	}
	return t.Dim.Render("♡ ") + ago
}

func (d Detail) transition(t *theme.Theme, c *device.ContainerInfo) string {
	tr := c.Last
	if tr.From == tr.To && tr.Reason == "" {
		return t.Dim.Render("last: —")
	}
	why := tr.Reason
	if why == "" {
		why = "no reason given"
	}
	s := t.Dim.Render("last: ") + t.State(tr.From).Render(tr.From.String()) + " → " +
		t.State(tr.To).Render(tr.To.String()) + t.Dim.Render(" (") + why + t.Dim.Render(", t="+Clock(tr.At)+")")
	if next := d.Then[c.UID]; len(next) > 0 {
		names := make([]string, len(next))
		for i, st := range next {
			names[i] = t.State(st).Render(st.String())
		}
		s += t.Dim.Render(" · then ") + strings.Join(names, t.Dim.Render(" → "))
	}
	return s
}

// peers are the board's sensors and actuators with their values, on as
// many lines as they need (two at most).
func (d Detail) peers(t *theme.Theme, w int) []string {
	var lines []string
	line := ""
	for _, p := range d.Dev.Peers {
		v := p.Value
		switch {
		case p.Class.IsActuator() && !d.Dev.Powered:
			v = "off" // a display without power shows nothing
		case v == "":
			v = "—"
		case p.Class.IsActuator():
			v = "“" + v + "”"
		}
		part := t.Dim.Render(p.Name+" ") + t.Strong.Render(v)
		switch {
		case line == "":
			line = part
		case Width(line)+3+Width(part) <= w:
			line += t.Dim.Render(" · ") + part
		default:
			lines = append(lines, line)
			line = part
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines[:min(len(lines), 2)]
}

// shares draws each container's part of the energy the containers spent.
func (d Detail) shares(t *theme.Theme, w int) string {
	var total int64
	for _, c := range d.Dev.Containers {
		total += c.EnergyMicroJ
	}
	if total <= 0 {
		return ""
	}
	bw := max(min((w-8)/len(d.Dev.Containers)-16, 10), 3)
	parts := []string{t.Dim.Render("energy")}
	for _, c := range d.Dev.Containers {
		f := float64(c.EnergyMicroJ) / float64(total)
		parts = append(parts, c.UID+" "+Bar(t, f, bw)+fmt.Sprintf(" %d%%", int(f*100+0.5)))
	}
	return strings.Join(parts, "  ")
}

// about is the selected container's counters on one line.
func (d Detail) about(t *theme.Theme, c *device.ContainerInfo) string {
	dim := t.Dim.Render
	s := t.Strong.Render(c.UID)
	if !d.Partial {
		// what a runtime costs first, so that two boards compare at any width
		s += dim(" · ") + Runtime(t, c.Runtime) + dim(" · code ") + Bytes(c.Size) + dim(" · ram ") + Bytes(c.RAM) +
			dim(" · cpu ") + fmt.Sprintf("%.1f ms", float64(c.CPUMicros)/1000) + dim(" · ") + Energy(c.EnergyMicroJ) + dim(" · slot ") + fmt.Sprint(c.Slot) + dim(" · seq ") + fmt.Sprint(c.Seq) + dim(" · from ") + c.Origin + dim(" · grants ") + c.Mask +
			dim(" · allowed ") + fmt.Sprint(c.Allowed)
	}
	s += dim(" · denied ") + fmt.Sprint(c.Denied) + dim(" · faults ") + fmt.Sprint(c.Faults)
	if !d.Partial {
		s += dim(" · restarts ") + fmt.Sprint(c.Restarts) + dim(" · last loop ") + fmt.Sprintf("%d µs", c.LastLoopUs)
	}
	return s
}

func (d Detail) memory(t *theme.Theme, w int) string {
	u := d.Dev.Usage
	if !d.Dev.Powered {
		// RAM does not survive a power cut: nothing of it is in use
		u.RAMUsed = 0
	}
	bw := 6
	if w >= 70 {
		bw = 10
	}
	frac := func(a, b int) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	s := "RAM " + Bar(t, frac(u.RAMUsed, u.RAMTotal), bw) + fmt.Sprintf(" %s/%s KiB", KiB(u.RAMUsed), KiB(u.RAMTotal)) +
		"  flash " + Bar(t, frac(u.FlashUsed, u.FlashTotal), bw) + fmt.Sprintf(" %s/%s KiB", KiB(u.FlashUsed), KiB(u.FlashTotal))
	if Width(s)+12 <= w {
		s += fmt.Sprintf("  slots %d/%d", u.SlotsUsed, u.Slots)
	}
	return s
}

// StateMachine draws the container lifecycle on one line of at most w cells
// with the current state lit: full names when they fit, short ones if not.
func StateMachine(t *theme.Theme, cur device.State, w int) string {
	chain := []device.State{device.Empty, device.Provisioning, device.Ready, device.Running, device.Stopping}
	side := []device.State{device.Deleting, device.Failed}
	draw := func(name func(device.State) string, arrow, sep string) string {
		var b strings.Builder
		for i, s := range chain {
			if i > 0 {
				b.WriteString(t.Dim.Render(arrow))
			}
			b.WriteString(stateCell(t, s, cur, name(s)))
		}
		for _, s := range side {
			b.WriteString(t.Dim.Render(sep))
			b.WriteString(stateCell(t, s, cur, name(s)))
		}
		return b.String()
	}
	if s := draw(device.State.String, " → ", "  "); Width(s) <= w {
		return s
	}
	if s := draw(Abbrev, "→", " "); Width(s) <= w {
		return s
	}
	if s := t.Dim.Render("state ") + stateCell(t, cur, cur, cur.String()); Width(s) <= w {
		return s
	}
	return stateCell(t, cur, cur, Abbrev(cur))
}

func stateCell(t *theme.Theme, s, cur device.State, name string) string {
	if s == cur {
		return t.Lit.Render("[" + name + "]")
	}
	return t.Dim.Render(name)
}
