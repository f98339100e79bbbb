package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/ui/pane"
)

func (m *model) View() tea.View {
	if m.dirty || m.view == "" {
		m.view = m.render()
		m.dirty = false
	}
	v := tea.NewView(m.view)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "tinylab · " + m.story.Short()
	return v
}

// render draws the whole screen: exactly h lines of w cells.
func (m *model) render() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	if m.lay.tooSmall {
		msg := []string{
			"tinylab needs a terminal of at least",
			fmt.Sprintf("%dx%d; this one is %dx%d.", minW, minH, m.w, m.h),
			"Make it larger, or press q to quit.",
		}
		out := pane.Blank(m.h, m.w)
		for i, l := range msg {
			if y := m.h/2 - 1 + i; y >= 0 && y < m.h {
				out[y] = pane.Fit(l, m.w)
			}
		}
		return strings.Join(out, "\n")
	}
	lines := make([]string, m.h)
	lines[0] = m.statusLine()
	for p := range paneCount {
		r := m.lay.panes[p]
		if r.w == 0 {
			continue
		}
		box := m.pane(p, r)
		for i, l := range box {
			if y := r.y + i; y > 0 && y < m.h-1 {
				lines[y] += l
			}
		}
	}
	lines[m.h-1] = m.footer()
	if m.cmdOpen && len(m.cmd.console) > 0 {
		m.overlayConsole(lines)
	}
	if m.showHelp {
		m.overlayHelp(lines)
	}
	return strings.Join(lines, "\n")
}

// pane draws one framed pane in its rectangle.
func (m *model) pane(p paneID, r rect) []string {
	th, focused := m.th, p == m.focus
	iw, ih := pane.Inner(r.w), r.h-2
	var title, note string
	var body []string
	switch p {
	case paneDevices:
		title = "devices"
		if n := len(m.snap.IDs); n > ih && ih > 0 {
			// a fleet longer than the pane says what the rows off screen hold
			note = th.Dim.Render(fmt.Sprintf("%d/%d", m.selIdx+1, n))
			pos := ansi.StringWidth(note)
			// the frame's own cells: "┌─ " title " ─ " note " · " tally " ─┐"
			if t := pane.TallyNote(th, m.snap.Tally, r.w-ansi.StringWidth(title)-pos-11); t != "" {
				note += th.Dim.Render(" · ") + t
			}
		} else if n > 0 {
			note = th.Dim.Render(fmt.Sprint(n))
		}
		body = pane.Devices{IDs: m.shown.IDs, List: m.shown.Devices, First: m.shown.First, Selected: m.selIdx, Top: m.devTop, Now: m.snap.Now, Speed: m.snap.Speed}.Render(th, iw, ih)
		if m.failed != "" && len(m.snap.IDs) == 0 {
			var lines []string
			for _, l := range pane.Wrap("The lab could not be built: "+m.failed, iw) {
				lines = append(lines, th.Bad.Render(l))
			}
			body = pane.Lines(append(lines, "", th.Dim.Render("r tries again, q quits")), iw, ih)
		}
	case paneDetail:
		d := pane.Detail{Dev: m.shown.Detail, Then: m.then, Selected: m.selCtr, Now: m.snap.Now, Speed: m.snap.Speed, Partial: m.src.replay()}
		title = d.Title()
		body = d.Render(th, iw, ih)
	case paneSuit:
		if ro := m.snap.Rollout; ro != nil {
			// A campaign in the lab takes the update pane: the fleet's
			// update is the story then, not one device's check list.
			r := pane.Rollout{View: *ro}
			title = r.Title()
			body = r.Render(th, iw, ih)
			break
		}
		s := pane.Suit{Device: m.selID, Paused: m.snap.Paused}
		if m.snap.Armed != lab.NoAttack {
			s.Armed = m.snap.Armed.String()
		}
		if m.snap.Detail != nil {
			s.Status = m.snap.Detail.Suit
		}
		title = s.Title()
		body = s.Render(th, iw, ih)
	case paneEvents:
		title, note = m.eventsTitle()
		body = m.eventRows(iw, ih)
	case paneStory:
		title = "scenario · " + m.story.Short()
		body = m.story.Render(th, iw, ih, m.storyHint())
	}
	return pane.Frame(th, title, note, focused, r.w, r.h, body)
}

func (m *model) eventsTitle() (string, string) {
	th := m.th
	title := "events"
	var notes []string
	if f := m.log.filter; f != "" {
		notes = append(notes, th.Accent.Render(fmt.Sprintf("/%s %d", f, m.log.count())))
	} else if !m.filterOpen {
		notes = append(notes, th.Dim.Render("/ filter"))
	}
	if !m.evFollow {
		if n := m.log.row(m.evTop); n > 0 {
			notes = append(notes, th.Warn.Render(fmt.Sprintf("↑ %d newer · g follows", n)))
		} else {
			notes = append(notes, th.Warn.Render("held · g follows"))
		}
	}
	if m.dropped > 0 {
		notes = append(notes, th.Bad.Render(fmt.Sprintf("⚠ %d dropped by the bus", m.dropped)))
	}
	return title, strings.Join(notes, " ")
}

func (m *model) eventRows(w, h int) []string {
	top, sel := 0, -1
	if !m.evFollow {
		top = m.log.row(m.evTop)
		sel = m.log.row(m.evSel) - top
	}
	empty := "no events yet"
	if m.log.filter != "" {
		empty = "no event matches /" + m.log.filter
	}
	return pane.Events{Rows: m.log.rows(top, h), Selected: sel, DevW: m.log.devW}.Render(m.th, w, h, empty)
}

func (m *model) storyHint() string {
	th := m.th
	if m.busy != "" {
		return th.Warn.Render(m.busy)
	}
	if m.src.replay() {
		return th.Dim.Render("space play · n/p steps")
	}
	switch {
	case m.story.Playing():
		return th.Dim.Render("playing · space pauses")
	case m.story.Current >= len(m.story.Steps)-1 && len(m.story.Steps) > 0:
		return th.Dim.Render("p back · r reset")
	}
	return th.Key.Render("n") + th.Dim.Render(" next · ") + th.Key.Render("p") + th.Dim.Render(" back")
}

// statusLine is the top line: scenario, step, virtual time, speed, play or
// pause; the main keys on the right.
func (m *model) statusLine() string {
	th := m.th
	n := len(m.story.Steps)
	step := fmt.Sprintf("step %d/%d", m.story.Current+1, n)
	if m.story.Current < 0 {
		step = fmt.Sprintf("step 0/%d", n)
	}
	state := "▶ playing"
	if m.snap.Paused {
		state = "⏸ paused"
	}
	parts := []string{m.story.Short(), step, "t=" + pane.Clock(m.snap.Now), pane.Speed(m.snap.Speed), state}
	brand := " tinylab "
	if m.src.replay() {
		brand = " tinylab REPLAY "
	}
	left := th.Brand.Render(brand) + th.Bar.Render(" "+strings.Join(parts, " · ")+" ")
	if m.busy != "" {
		left += th.Bar.Render("⟳ " + m.busy + " ")
	}
	right := th.Bar.Render("? help  : command  q quit ")
	if m.w < 100 {
		right = th.Bar.Render("? help ")
	}
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if lw+rw > m.w {
		return pane.Fit(left, m.w)
	}
	return left + th.Bar.Render(strings.Repeat(" ", m.w-lw-rw)) + right
}

// footer is the bottom line: the command line or the filter when open,
// else the last message, else a reminder of the keys.
func (m *model) footer() string {
	th := m.th
	switch {
	case m.cmdOpen:
		return pane.Fit(m.cmd.in.View(), m.w)
	case m.filterOpen:
		return pane.Fit(m.filter.View(), m.w)
	case m.msg != "" && m.now().Sub(m.msgAt) < noteFor:
		st := th.Info
		if m.msgBad {
			st = th.Bad
		}
		return pane.Fit(st.Render(" "+m.msg), m.w)
	}
	if m.focus == paneEvents && !m.evFollow && m.log.count() > 0 {
		// the selected event in full, for lines cut by the pane's width
		ev := m.log.event(m.evSel)
		return pane.Fit(" "+pane.EventLine(m.th, ev, pane.Width(ev.Device), m.w), m.w)
	}
	var hints []string
	for _, b := range m.keys.short() {
		hints = append(hints, th.Key.Render(b.Help().Key)+" "+th.Dim.Render(shortDesc[b.Help().Key]))
	}
	// drop the hints before "? help" and "q quit" until the line fits
	line := " " + strings.Join(hints, th.Dim.Render(" · "))
	for len(hints) > 2 && ansi.StringWidth(line) > m.w {
		hints = append(hints[:len(hints)-3], hints[len(hints)-2:]...)
		line = " " + strings.Join(hints, th.Dim.Render(" · "))
	}
	return pane.Fit(line, m.w)
}

// shortDesc are the footer's words for its keys.
var shortDesc = map[string]string{
	"n": "next", "space": "play", "p": "back", "tab": "focus", "/": "filter",
	":": "command", "?": "help", "q": "quit",
}

// consoleRows is how many lines of output the console shows.
func (m *model) consoleRows() int { return max((m.h-2)/2, 4) - 2 }

// consolePage is how far pgup and pgdown scroll the console.
func (m *model) consolePage() int { return max(m.consoleRows()-1, 1) }

// overlayConsole draws the command console above the command line: the
// newest lines, or older ones scrolled back to with pgup.
func (m *model) overlayConsole(lines []string) {
	th := m.th
	iw := pane.Inner(m.w)
	limit := m.consoleRows()
	// every line wrapped to the console's width; ansi.Wrap keeps the
	// indentation of JSON answers
	var all []string
	for _, l := range m.cmd.console {
		wrapped := strings.Split(ansi.Wrap(l.text, max(iw-2, 1), ""), "\n")
		for k, w := range wrapped {
			var s string
			switch {
			case l.kind == lineCmd && k == 0:
				s = th.Accent.Render("› ") + th.Strong.Render(w)
			case l.kind == lineErr:
				s = th.Bad.Render("  " + w)
			case l.kind == lineHint:
				s = th.Dim.Render("  " + w)
			default:
				s = "  " + w
			}
			all = append(all, s)
		}
	}
	back := min(m.cmd.scroll, max(len(all)-limit, 0))
	m.cmd.scroll = back
	end := len(all) - back
	body := all[max(end-limit, 0):end]
	note := th.Dim.Render("esc closes · clear empties")
	if len(all) > limit {
		older := end - len(body)
		note = th.Dim.Render(fmt.Sprintf("↑ %d older · ↓ %d newer · pgup/pgdn scroll · esc closes", older, back))
	}
	h := len(body) + 2
	box := pane.Frame(th, "console", note, true, m.w, h, body)
	y0 := m.h - 1 - h
	for i, l := range box {
		if y := y0 + i; y > 0 && y < m.h-1 {
			lines[y] = l
		}
	}
}

// overlayHelp draws every key over the middle of the screen.
func (m *model) overlayHelp(lines []string) {
	th := m.th
	titles, groups := m.keys.groups()
	h := help.New()
	h.Styles.FullKey, h.Styles.FullDesc, h.Styles.FullSeparator = th.Key, th.Text, th.Dim
	col := func(i int) string {
		return th.Accent.Render(titles[i]) + "\n" + h.FullHelpView([][]key.Binding{groups[i]})
	}
	var body string
	if m.w >= 110 {
		body = lipgloss.JoinHorizontal(lipgloss.Top, col(0), "    ", col(1), "    ", col(2))
	} else {
		body = lipgloss.JoinHorizontal(lipgloss.Top, col(0)+"\n\n"+col(2), "   ", col(1))
	}
	legend := []string{
		"",
		th.Dim.Render("states ") + strings.Join([]string{
			th.State(device.Empty).Render("EMPTY"), th.State(device.Provisioning).Render("PROV"),
			th.State(device.Ready).Render("RDY"), th.State(device.Running).Render("RUN"),
			th.State(device.Stopping).Render("STOP"), th.State(device.Deleting).Render("DEL"),
			th.State(device.Failed).Render("FAIL")}, " "),
		th.Heart.Render("♥") + " heartbeat  " + th.Bad.Render("✗") + " denied or failed  ⏻ powered off  " +
			th.OK.Render("✓") + " check held",
		th.Key.Render("mouse") + " click selects a device, container or event; the wheel scrolls",
	}
	rows := append(strings.Split(body, "\n"), legend...)
	bw := 0
	for _, r := range rows {
		bw = max(bw, ansi.StringWidth(r))
	}
	bw = min(bw+5, m.w)
	bh := min(len(rows)+2, m.h-2)
	box := pane.Frame(th, "keys", th.Dim.Render("? or esc closes"), true, bw, bh, indent(rows))
	splice(lines, box, (m.w-bw)/2, max((m.h-bh)/2, 1))
}

func indent(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = " " + r
	}
	return out
}

// splice draws box over lines with its top left corner at x, y.
func splice(lines, box []string, x, y int) {
	for i, b := range box {
		k := y + i
		if k < 0 || k >= len(lines) {
			continue
		}
		l := lines[k]
		lines[k] = ansi.Truncate(l, x, "") + b + ansi.TruncateLeft(l, x+ansi.StringWidth(b), "")
	}
}
