package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/scenarios"
	"tinylab/ui/pane"
	"tinylab/ui/theme"
)

// Frame pacing: at most one UI update per frame, fewer when nothing moves.
const (
	frameEvery = time.Second / 30
	idleEvery  = time.Second / 20
	// noteFor is how long a message stays in the footer.
	noteFor = 6 * time.Second
)

// frameMsg carries one frame from the source.
type frameMsg frame

// model is the root of the UI: it owns focus, layout, overlays and key
// routing; the panes only draw what it hands them.
type model struct {
	src  source
	th   *theme.Theme
	keys keyMap
	w, h int
	lay  layout
	now  func() time.Time

	// the latest frame
	snap    lab.Snapshot
	shown   lab.Snapshot // snap with the held states on screen (hold.go)
	then    map[string][]device.State
	held    holds
	story   pane.Story
	busy    string
	failed  string // why the lab could not be built
	dropped uint64
	frames  int
	took    time.Duration // what the last frame cost the source

	focus    paneID
	zoomed   bool
	showHelp bool

	// device list: the selection follows the device, not the row
	selID     string
	selIdx    int
	devTop    int
	follow    bool   // the next notable event of a step selects its device
	followCtr bool   // and the next naming a container of it, that container
	selCtr    int    // selected container of the device pane (its row)
	ctrUID    string // and its uid, which the selection follows across frames
	wantCtr   string // a container a step is about, selected once it is in the table

	log        *eventLog
	evFollow   bool   // the log shows the newest events as they come
	evSel      uint64 // selected event (absolute number) when not following
	evTop      uint64 // event shown on the top row when not following
	filter     textinput.Model
	filterOpen bool

	cmd     cmdLine
	cmdOpen bool

	msg    string
	msgBad bool
	msgAt  time.Time

	dirty bool
	view  string
}

func newModel(src source, th *theme.Theme, now func() time.Time) *model {
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "text to look for (device, kind, content), or ! for failures · enter keeps · esc clears"
	st := textinput.DefaultDarkStyles()
	st.Focused.Prompt = th.Accent
	st.Focused.Text = th.Input
	st.Focused.Placeholder = th.Dim
	st.Cursor.Blink = false
	f.SetStyles(st)
	return &model{
		src: src, th: th, keys: newKeyMap(), now: now,
		log: newEventLog(), evFollow: true, follow: true, followCtr: true, held: holds{},
		filter: f, cmd: newCmdLine(th), focus: paneEvents, dirty: true,
	}
}

func (m *model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if l, ok := m.src.(*live); ok {
		cmds = append(cmds, l.build(0, "building the lab…"))
	}
	cmds = append(cmds, m.frameCmd(0))
	return tea.Batch(cmds...)
}

// frameCmd takes the next frame after delay, off the UI loop.
func (m *model) frameCmd(delay time.Duration) tea.Cmd {
	detail, rows, src := m.selID, m.devRows(), m.src
	return func() tea.Msg {
		if delay > 0 {
			time.Sleep(delay)
		}
		return frameMsg(src.frame(detail, rows))
	}
}

// devRows is the part of the device list the next frame summarises: the
// rows on screen and a screenful either side, so scrolling shows summaries
// at once; a jump farther shows ids until the next frame (see pane.Devices).
func (m *model) devRows() lab.Rows {
	h := max(m.lay.panes[paneDevices].h-2, 0)
	return lab.Rows{From: max(m.devTop-h, 0), Count: 3 * h}
}

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.fixScroll()
	return m, cmd
}

func (m *model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.relayout()
		m.cmd.in.SetWidth(max(m.w-4, 10))
		m.filter.SetWidth(max(m.w-4, 10))
		m.dirty = true
	case frameMsg:
		return m.applyFrame(frame(msg))
	case noteMsg:
		m.note(msg.text, msg.bad)
		if msg.console != nil || m.cmdOpen {
			kind := lineOut
			if msg.bad {
				kind = lineErr
			}
			if msg.console == nil {
				msg.console = []string{msg.text}
			}
			m.cmd.print(kind, msg.console...)
		}
	case tea.KeyPressMsg:
		m.dirty = true
		return m.key(msg)
	case tea.PasteMsg:
		m.dirty = true
		switch {
		case m.cmdOpen:
			return m.cmd.update(msg)
		case m.filterOpen:
			var c tea.Cmd
			m.filter, c = m.filter.Update(msg)
			m.log.setFilter(m.filter.Value())
			return c
		}
	case tea.MouseClickMsg:
		m.dirty = true
		m.click(msg.Mouse())
	case tea.MouseWheelMsg:
		m.dirty = true
		m.wheel(msg.Mouse())
	}
	return nil
}

func (m *model) note(text string, bad bool) {
	m.msg, m.msgBad, m.msgAt = text, bad, m.now()
	m.dirty = true
}

func (m *model) applyFrame(f frame) tea.Cmd {
	m.frames++
	if f.restart {
		m.log.clear()
		m.evFollow = true
		clear(m.held)
	}
	m.held.advance(m.now())
	m.held.add(f.events, m.now())
	m.log.append(f.events)
	if !m.evFollow && len(f.events) > 0 {
		// a frozen log keeps showing the rows the tester is reading
		m.evTop = max(m.evTop, m.log.oldest())
		m.evSel = max(m.evSel, m.log.oldest())
	}
	m.followStory(f.events)
	if f.story.Current != m.story.Current || len(f.story.Steps) != len(m.story.Steps) {
		defer m.relayout()
	}
	m.snap, m.story, m.busy, m.dropped, m.took = f.snap, f.story, f.busy, f.dropped, f.took
	m.failed = ""
	if f.err != nil {
		m.failed = f.err.Error()
	}
	m.shown, m.then = m.held.apply(m.snap)
	m.resolveSelection()
	m.resolveContainer()
	m.dirty = true
	delay := frameEvery
	if len(f.events) == 0 && f.snap.Paused {
		delay = idleEvery
	}
	return m.frameCmd(delay - min(f.took, delay))
}

// followStory selects the device a step is about: the first device (and
// container) a step's notable event names, unless the tester chose one
// meanwhile.
func (m *model) followStory(evs []device.Event) {
	for _, e := range evs {
		// Heartbeats and logs are routine; only what changes the story moves
		// the selection.
		switch d := e.Data.(type) {
		case scenarios.StepStarted:
			m.follow, m.followCtr = true, true
			if m.msg != "" && !m.msgBad {
				// "n plays step 1" and the like are spent once a step begins
				m.msg = ""
			}
			if d.About != "" {
				m.followAbout(d.About)
			}
			continue
		case device.StateChange, device.Denied, device.Refused, device.Fault, device.BudgetExceeded, device.MissedHeartbeat,
			device.Actuator, device.Update, device.SuitStep, device.SuitProgress, device.SensorChange, device.Power:
		default:
			continue
		}
		ctr := device.ContainerOf(e.Data)
		if m.follow {
			if slices.Contains(m.snap.IDs, e.Device) {
				m.selID = e.Device
			}
			m.follow = false
		}
		if m.followCtr && ctr != "" && e.Device == m.selID {
			m.ctrUID, m.followCtr = ctr, false
		}
	}
}

// followAbout selects what a step says it is about: DEVICE or DEVICE/UID.
func (m *model) followAbout(about string) {
	dev, uid, _ := strings.Cut(about, "/")
	if !slices.Contains(m.snap.IDs, dev) {
		return
	}
	if m.selID != dev {
		m.selCtr = 0
	}
	m.selID, m.follow = dev, false
	if uid != "" {
		m.wantCtr, m.followCtr = uid, false
	}
}

// resolveSelection finds the selected device's row (devices keep their id
// across frames and rebuilds), defaulting to the first device.
func (m *model) resolveSelection() {
	ids := m.snap.IDs
	if len(ids) == 0 {
		m.selIdx = 0
		return
	}
	if m.selIdx < len(ids) && ids[m.selIdx] == m.selID {
		return
	}
	if i := slices.Index(ids, m.selID); i >= 0 {
		m.selIdx = i
		return
	}
	m.selIdx = min(m.selIdx, len(ids)-1)
	m.selID = ids[m.selIdx]
}

// resolveContainer finds the selected container's row in the device pane
// by its uid; a container gone leaves the row where it was.
func (m *model) resolveContainer() {
	d := m.snap.Detail
	if d == nil || len(d.Containers) == 0 {
		return
	}
	if m.wantCtr != "" && d.ID == m.selID {
		for i, c := range d.Containers {
			if c.UID == m.wantCtr {
				m.selCtr, m.ctrUID, m.wantCtr = i, c.UID, ""
				return
			}
		}
	}
	for i, c := range d.Containers {
		if c.UID == m.ctrUID {
			m.selCtr = i
			return
		}
	}
	m.selCtr = min(m.selCtr, len(d.Containers)-1)
	m.ctrUID = d.Containers[m.selCtr].UID
}

// selectContainer selects row i of the device pane's table.
func (m *model) selectContainer(i int) {
	d := m.snap.Detail
	if d == nil || len(d.Containers) == 0 {
		return
	}
	m.selCtr = min(max(i, 0), len(d.Containers)-1)
	m.ctrUID, m.followCtr, m.wantCtr = d.Containers[m.selCtr].UID, false, ""
}

func (m *model) selectDevice(i int) {
	ids := m.snap.IDs
	if len(ids) == 0 {
		return
	}
	i = min(max(i, 0), len(ids)-1)
	if ids[i] != m.selID {
		m.selCtr, m.ctrUID = 0, ""
	}
	m.selIdx, m.selID, m.follow, m.followCtr, m.wantCtr = i, ids[i], false, false, ""
}

func (m *model) key(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "ctrl+c" {
		return tea.Quit
	}
	if m.showHelp {
		switch k.String() {
		case "?", "esc", "q", "enter", "space":
			m.showHelp = false
		}
		return nil
	}
	if m.cmdOpen {
		return m.cmdKey(k)
	}
	if m.filterOpen {
		return m.filterKey(k)
	}
	km := m.keys
	switch {
	case key.Matches(k, km.Quit):
		return tea.Quit
	case key.Matches(k, km.Help):
		m.showHelp = true
	case key.Matches(k, km.Command):
		// a replay opens the command line too, so what is typed next goes
		// into it and not to the keys; its commands say they need a lab
		m.cmdOpen = true
		m.cmd.open(m.w)
		if m.src.replay() {
			m.cmd.print(lineHint, "a replay has no lab behind it: commands need a live lab (tinylab ui NAME) · esc closes")
		}
	case key.Matches(k, km.Filter):
		m.filterOpen, m.focus = true, paneEvents
		m.filter.SetValue(m.log.filter)
		m.filter.CursorEnd()
		m.filter.Focus()
		m.relayout()
	case key.Matches(k, km.Next):
		return m.src.next()
	case key.Matches(k, km.Play):
		return m.src.playPause()
	case key.Matches(k, km.Back):
		return m.src.back()
	case key.Matches(k, km.Reset):
		return m.src.reset()
	case key.Matches(k, km.Faster):
		return m.src.faster(true)
	case key.Matches(k, km.Slower):
		return m.src.faster(false)
	case key.Matches(k, km.Focus):
		m.focus = (m.focus + 1) % paneCount
		m.relayout()
	case key.Matches(k, km.FocusBack):
		m.focus = (m.focus + paneCount - 1) % paneCount
		m.relayout()
	case key.Matches(k, km.Zoom):
		m.zoomed = !m.zoomed
		m.relayout()
	case key.Matches(k, km.Esc):
		switch {
		case m.zoomed:
			m.zoomed = false
			m.relayout()
		case m.log.filter != "":
			m.log.setFilter("")
		case !m.evFollow:
			m.evFollow = true
		default:
			m.msg = ""
		}
	default:
		m.navigate(k)
	}
	return nil
}

func (m *model) relayout() {
	m.lay = computeLayout(m.w, m.h, m.focus, m.zoomed, m.storyRows())
}

// storyRows is how many lines the current step's narration takes at the
// screen's width, with its title and last line.
func (m *model) storyRows() int {
	say := m.story.Summary
	if c := m.story.Current; c >= 0 && c < len(m.story.Steps) {
		say = m.story.Steps[c].Say
	}
	return len(pane.Wrap(say, pane.Inner(m.w))) + 2
}

// navigate moves within the focused pane.
func (m *model) navigate(k tea.KeyPressMsg) {
	km := m.keys
	delta := 0
	page := max(m.lay.panes[m.focus].h-3, 1)
	switch {
	case key.Matches(k, km.Up):
		delta = -1
	case key.Matches(k, km.Down):
		delta = 1
	case key.Matches(k, km.PageUp):
		delta = -page
	case key.Matches(k, km.PageDown):
		delta = page
	case key.Matches(k, km.Home):
		delta = -1 << 30
	case key.Matches(k, km.End):
		delta = 1 << 30
	default:
		return
	}
	m.move(m.focus, delta)
}

// move moves the selection of pane p by delta rows (down is positive).
func (m *model) move(p paneID, delta int) {
	switch p {
	case paneDevices:
		m.selectDevice(clampAdd(m.selIdx, delta))
	case paneDetail:
		m.selectContainer(clampAdd(m.selCtr, delta))
	case paneEvents:
		n := m.log.count()
		if n == 0 {
			return
		}
		row := -1
		if !m.evFollow {
			row = m.log.row(m.evSel)
		}
		row = clampAdd(row, delta)
		if row < 0 {
			m.evFollow = true
			return
		}
		row = min(row, n-1)
		if m.evFollow {
			m.evTop = m.log.abs(0)
		}
		m.evFollow = false
		m.evSel = m.log.abs(row)
	}
}

// clampAdd adds without overflowing for the "very far" deltas of home/end.
func clampAdd(a, d int) int {
	switch {
	case d > 1<<29:
		return 1 << 29
	case d < -(1 << 29):
		return -1
	}
	return a + d
}

func (m *model) cmdKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "esc":
		m.cmdOpen = false
		m.cmd.close()
		return nil
	case "enter":
		line := m.cmd.submit()
		switch line {
		case "":
			return nil
		case "clear":
			m.cmd.console = nil
			return nil
		}
		return m.src.exec(line)
	case "tab":
		m.cmd.complete(m.src.complete(m.cmd.in.Value()))
		return nil
	case "up":
		m.cmd.browse(true)
		return nil
	case "down":
		m.cmd.browse(false)
		return nil
	case "pgup", "shift+up":
		m.cmd.scrollBy(m.consolePage())
		return nil
	case "pgdown", "shift+down":
		m.cmd.scrollBy(-m.consolePage())
		return nil
	}
	return m.cmd.update(k)
}

func (m *model) filterKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "esc":
		m.filterOpen = false
		m.filter.Blur()
		m.filter.SetValue("")
		m.log.setFilter("")
		return nil
	case "enter":
		m.filterOpen = false
		m.filter.Blur()
		return nil
	}
	var c tea.Cmd
	m.filter, c = m.filter.Update(k)
	m.log.setFilter(m.filter.Value())
	return c
}

func (m *model) click(ms tea.Mouse) {
	if ms.Button != tea.MouseLeft || m.showHelp {
		m.showHelp = false
		return
	}
	p, ok := m.lay.at(ms.X, ms.Y)
	if !ok {
		return
	}
	if p != m.focus {
		m.focus = p
		m.relayout()
	}
	r := m.lay.panes[p]
	row := ms.Y - r.y - 1 // under the top border
	if row < 0 || row >= r.h-2 {
		return
	}
	switch p {
	case paneDevices:
		m.selectDevice(m.devTop + row)
	case paneDetail:
		d := m.snap.Detail
		if d == nil {
			return
		}
		det := pane.Detail{Dev: d, Selected: m.selCtr}
		top, rows := det.Window(r.h - 2)
		if i := row - det.TableRow(); i >= 0 && i < rows && top+i < len(d.Containers) {
			m.selectContainer(top + i)
		}
	case paneEvents:
		top := 0
		if !m.evFollow {
			top = m.log.row(m.evTop)
		}
		if i := top + row; i < m.log.count() {
			if m.evFollow {
				m.evTop = m.log.abs(0)
			}
			m.evFollow, m.evSel = false, m.log.abs(i)
		}
	}
}

func (m *model) wheel(ms tea.Mouse) {
	p, ok := m.lay.at(ms.X, ms.Y)
	if !ok {
		return
	}
	switch ms.Button {
	case tea.MouseWheelUp:
		m.move(p, -1)
	case tea.MouseWheelDown:
		m.move(p, 1)
	}
}

// fixScroll keeps the selections of the device list and the event log in
// view.
func (m *model) fixScroll() {
	if h := m.lay.panes[paneDevices].h - 2; h > 0 {
		m.devTop = pane.Scroll(m.devTop, m.selIdx, len(m.snap.IDs), h)
	}
	if m.evFollow || m.log.count() == 0 {
		m.evFollow = true
		return
	}
	h := max(m.lay.panes[paneEvents].h-2, 1)
	top := pane.Scroll(m.log.row(m.evTop), m.log.row(m.evSel), m.log.count(), h)
	m.evTop = m.log.abs(top)
}
