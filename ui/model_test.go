package ui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/scenarios"
	"tinylab/ui/pane"
	"tinylab/ui/theme"
)

func TestNextSpeed(t *testing.T) {
	for _, c := range []struct {
		from float64
		up   bool
		want float64
	}{
		{1, true, 2}, {1, false, 0.5}, {0.25, false, 0.25}, {100, true, 100},
		{3, true, 5}, {3, false, 2}, {0.3, false, 0.25}, {50, true, 100},
	} {
		if got := nextSpeed(c.from, c.up); got != c.want {
			t.Errorf("nextSpeed(%g, %v) = %g, want %g", c.from, c.up, got, c.want)
		}
	}
}

// TestLayoutTiles checks that at every size the panes tile the body
// exactly: no cell twice, none left out, none off screen.
func TestLayoutTiles(t *testing.T) {
	for w := minW; w <= 200; w += 7 {
		for h := minH; h <= 70; h += 3 {
			for _, story := range []int{1, 4, 30} {
				l := computeLayout(w, h, 0, false, story)
				seen := make([]int, w*h)
				for p := range paneCount {
					r := l.panes[p]
					if r.w < 4 || r.h < 3 {
						t.Fatalf("%dx%d: pane %s is %dx%d", w, h, p, r.w, r.h)
					}
					for y := r.y; y < r.y+r.h; y++ {
						for x := r.x; x < r.x+r.w; x++ {
							if x >= w || y < 1 || y >= h-1 {
								t.Fatalf("%dx%d: pane %s leaves the body at %d,%d", w, h, p, x, y)
							}
							seen[y*w+x]++
						}
					}
				}
				for y := 1; y < h-1; y++ {
					for x := range w {
						if seen[y*w+x] != 1 {
							t.Fatalf("%dx%d story %d: cell %d,%d covered %d times", w, h, story, x, y, seen[y*w+x])
						}
					}
				}
			}
		}
	}
	if l := computeLayout(minW-1, 30, 0, false, 3); !l.tooSmall {
		t.Error("a terminal narrower than the minimum is drawn in")
	}
	z := computeLayout(100, 30, paneEvents, true, 3)
	if r := z.panes[paneEvents]; r != (rect{0, 1, 100, 28}) {
		t.Errorf("zoomed events pane is %+v", r)
	}
}

func TestEventLog(t *testing.T) {
	l := newEventLog()
	var evs []device.Event
	for i := range 30 {
		var p device.Payload = device.Heartbeat{Container: "c"}
		if i%10 == 3 {
			p = device.Denied{Container: "c", Call: "read", Reason: "not-granted"}
		}
		evs = append(evs, device.Event{At: time.Duration(i) * time.Second, Device: "dev", Seq: uint64(i), Data: p})
	}
	l.append(evs)
	if l.count() != 30 || l.rows(0, 1)[0].Seq != 29 {
		t.Fatalf("count %d, newest %v", l.count(), l.rows(0, 1))
	}
	l.setFilter("DENIED")
	if l.count() != 3 {
		t.Fatalf("filtered count %d, want 3", l.count())
	}
	rows := l.rows(0, 10)
	if rows[0].Seq != 23 || rows[2].Seq != 3 {
		t.Errorf("filtered rows %v", rows)
	}
	// new events are tested against the filter as they come
	l.append([]device.Event{{Device: "dev", Seq: 30, Data: device.Denied{Container: "c", Call: "write"}}, {Device: "dev", Seq: 31, Data: device.Log{Container: "c", Text: "x"}}})
	if l.count() != 4 || l.rows(0, 1)[0].Seq != 30 {
		t.Errorf("after append: %d rows, newest %v", l.count(), l.rows(0, 1))
	}
	// row and abs are inverse; a filtered-out event maps to the next older row
	for i := range l.count() {
		if r := l.row(l.abs(i)); r != i {
			t.Errorf("row(abs(%d)) = %d", i, r)
		}
	}
	if r := l.row(25); r != 1 { // event 25 is a heartbeat: the next older match is 23, row 1
		t.Errorf("row(25) = %d, want 1", r)
	}
	l.setFilter("!")
	if l.count() != 4 {
		t.Errorf("failures: %d rows, want 4", l.count())
	}
	l.setFilter("")
	if l.count() != 32 {
		t.Errorf("unfiltered count %d", l.count())
	}
	// the ring forgets the oldest
	big := make([]device.Event, logCap+100)
	for i := range big {
		big[i] = device.Event{Device: "dev", Seq: uint64(1000 + i), Data: device.Log{Container: "c", Text: "x"}}
	}
	l.setFilter("denied")
	l.append(big)
	if l.count() != 0 {
		t.Errorf("the filter still matches %d forgotten events", l.count())
	}
	l.setFilter("")
	if l.count() != logCap || l.rows(l.count()-1, 1)[0].Seq != 1100 {
		t.Errorf("ring: %d rows, oldest %v", l.count(), l.rows(l.count()-1, 1))
	}
}

func TestKeysReachTheSource(t *testing.T) {
	m, src := fixtureModel(theme.New(theme.Default, false), 100, 30)
	for _, k := range []string{"n", "space", "p", "r", "+", "-", "="} {
		m.Update(press(k))
	}
	want := "next play back reset faster slower faster"
	if got := strings.Join(src.asked, " "); got != want {
		t.Errorf("source was asked %q, want %q", got, want)
	}
	// q quits; ctrl+c quits even with the command line open
	if _, cmd := m.Update(press("q")); !isQuit(cmd) {
		t.Error("q does not quit")
	}
	m.Update(press(":"))
	if _, cmd := m.Update(press("q")); isQuit(cmd) {
		t.Error("q quits while typing a command")
	}
	if _, cmd := m.Update(press("ctrl+c")); !isQuit(cmd) {
		t.Error("ctrl+c does not quit from the command line")
	}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestFocusAndNavigation(t *testing.T) {
	m, _ := fixtureModel(theme.New(theme.Default, false), 120, 35)
	if m.focus != paneEvents {
		t.Fatalf("starts focused on %s", m.focus)
	}
	m.Update(press("tab"))
	if m.focus != paneStory {
		t.Errorf("tab went to %s", m.focus)
	}
	m.Update(press("shift+tab"))
	m.Update(press("shift+tab"))
	if m.focus != paneSuit {
		t.Errorf("shift+tab twice went to %s", m.focus)
	}
	// the device list: j moves down, the detail follows the device
	m.focus = paneDevices
	m.Update(press("j"))
	if m.selID != "bench-2" {
		t.Errorf("j selected %q", m.selID)
	}
	m.Update(press("end"))
	if m.selID != "kiosk" {
		t.Errorf("end selected %q", m.selID)
	}
	m.Update(press("home"))
	if m.selID != "bench-1" {
		t.Errorf("home selected %q", m.selID)
	}
	// the event log: down holds the view on a row, up past the top follows again
	m.focus = paneEvents
	m.Update(press("down"))
	m.Update(press("down"))
	if m.evFollow || m.log.row(m.evSel) != 1 {
		t.Errorf("down twice: follow %v, row %d", m.evFollow, m.log.row(m.evSel))
	}
	// new events do not move the selected row's event
	sel := m.log.event(m.evSel)
	m.Update(frameMsg(frame{snap: m.snap, story: m.story, events: []device.Event{{Device: "bench-1", Data: device.Log{Container: "coach", Text: "new"}}}}))
	if got := m.log.event(m.evSel); got.At != sel.At || got.Data != sel.Data {
		t.Errorf("the selection moved to %v", got)
	}
	if !strings.Contains(ansi.Strip(m.render()), "1 newer") {
		t.Error("the log does not say a newer event arrived")
	}
	m.Update(press("g"))
	if !m.evFollow {
		t.Error("g does not follow the log again")
	}
	// z zooms the focused pane over the body; esc unzooms
	m.Update(press("z"))
	if r := m.lay.panes[paneEvents]; r.w != 120 || r.h != 33 {
		t.Errorf("zoomed pane is %+v", r)
	}
	m.Update(press("esc"))
	if m.zoomed {
		t.Error("esc does not unzoom")
	}
}

func TestMouse(t *testing.T) {
	m, _ := fixtureModel(theme.New(theme.Default, false), 120, 35)
	r := m.lay.panes[paneDevices]
	m.Update(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 3, Button: tea.MouseLeft}) // third row
	if m.selID != "kiosk" || m.focus != paneDevices {
		t.Errorf("click selected %q, focus %s", m.selID, m.focus)
	}
	m.Update(tea.MouseWheelMsg{X: r.x + 3, Y: r.y + 3, Button: tea.MouseWheelUp})
	if m.selID != "bench-2" {
		t.Errorf("wheel up selected %q", m.selID)
	}
	m.Update(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 1, Button: tea.MouseLeft})
	d := m.lay.panes[paneDetail]
	m.Update(tea.MouseClickMsg{X: d.x + 5, Y: d.y + 3, Button: tea.MouseLeft}) // header, coach, analytics
	if m.selCtr != 1 || m.focus != paneDetail {
		t.Errorf("click on the second container: selected %d, focus %s", m.selCtr, m.focus)
	}
	e := m.lay.panes[paneEvents]
	m.Update(tea.MouseClickMsg{X: e.x + 5, Y: e.y + 2, Button: tea.MouseLeft})
	if m.evFollow || m.log.row(m.evSel) != 1 {
		t.Errorf("click on the second event: follow %v row %d", m.evFollow, m.log.row(m.evSel))
	}
	// clicks outside any pane and on borders change nothing and break nothing
	for _, xy := range [][2]int{{0, 0}, {119, 34}, {e.x, e.y}, {-5, 400}} {
		m.Update(tea.MouseClickMsg{X: xy[0], Y: xy[1], Button: tea.MouseLeft})
	}
	checkBox(t, m.render(), 120, 35)
}

// TestFollowStory: when a step starts, the first device its events name is
// selected, unless the tester picks one meanwhile.
func TestFollowStory(t *testing.T) {
	m, _ := fixtureModel(theme.New(theme.Default, false), 120, 35)
	step := device.Event{Device: "scenario", Data: scenarios.StepStarted{Index: 8, Total: 9, Title: "t"}}
	beat := device.Event{Device: "bench-1", Data: device.Heartbeat{Container: "coach"}}
	suit := device.Event{Device: "bench-1", Data: device.SuitStep{Step: "signature", Status: "passed"}}
	act := device.Event{Device: "bench-2", Data: device.StateChange{Container: "coach", From: device.Failed, To: device.Ready}}
	deny := device.Event{Device: "bench-1", Data: device.Denied{Container: "analytics", Call: "read"}}
	m.Update(frameMsg(frame{snap: m.snap, story: m.story, events: []device.Event{step, beat, suit, act, deny}}))
	if m.selID != "bench-1" || m.ctrUID != "analytics" || m.selCtr != 1 {
		t.Errorf("the step's device and container were not selected: %q %q row %d", m.selID, m.ctrUID, m.selCtr)
	}
	m.focus = paneDevices
	m.Update(press("j"))
	m.Update(frameMsg(frame{snap: m.snap, story: m.story, events: []device.Event{step, deny}}))
	m.focus = paneDetail
	m.Update(press("k"))
	m.Update(frameMsg(frame{snap: m.snap, story: m.story, events: []device.Event{act}}))
	if m.selID != "bench-1" || m.ctrUID != "coach" {
		t.Errorf("the story did not follow or the tester's choice was overridden: %q %q", m.selID, m.ctrUID)
	}
	m.Update(frameMsg(frame{snap: m.snap, story: m.story, events: []device.Event{deny}}))
	if m.ctrUID != "coach" {
		t.Errorf("the tester's container was overridden: %q", m.ctrUID)
	}
}

func TestNamespace(t *testing.T) {
	for in, want := range map[string]string{".tc.coach.code": "tc.coach", ".ram.0": "ram", "": "old", "coap://x/y": "old"} {
		if got := namespace(in, "old"); got != want {
			t.Errorf("namespace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandLineCompletion(t *testing.T) {
	m, src := fixtureModel(theme.New(theme.Default, false), 120, 35)
	m.Update(press(":"))
	src.comps = []string{"start", "stop"}
	typeText(m, "s")
	m.Update(press("tab"))
	if v := m.cmd.in.Value(); v != "st" {
		t.Errorf("common prefix: %q", v)
	}
	m.Update(press("tab"))
	if v := m.cmd.in.Value(); v != "start" {
		t.Errorf("cycling: %q", v)
	}
	m.Update(press("tab"))
	if v := m.cmd.in.Value(); v != "stop" {
		t.Errorf("cycling on: %q", v)
	}
	src.comps = []string{"bench-1"}
	typeText(m, " ")
	m.Update(press("tab"))
	if v := m.cmd.in.Value(); v != "stop bench-1 " {
		t.Errorf("single completion: %q", v)
	}
	src.comps = nil
	m.Update(press("tab"))
	if last := m.cmd.console[len(m.cmd.console)-1]; !strings.Contains(last.text, "no completion") {
		t.Errorf("no completion says %q", last.text)
	}
	m.Update(press("enter"))
	if got := src.asked[len(src.asked)-1]; got != "exec stop bench-1" {
		t.Errorf("enter ran %q", got)
	}
	typeText(m, "clear")
	m.Update(press("enter"))
	if len(m.cmd.console) != 0 {
		t.Error("clear leaves the console")
	}
}

// TestReplayCommandLine: in a replay `:` opens the command line as live,
// so what is typed next goes into it, not to the keys (n, p, q...); a
// command says it needs a lab.
func TestReplayCommandLine(t *testing.T) {
	m, src := fixtureModel(theme.New(theme.Default, false), 120, 35)
	src.isRep = true
	m.Update(press(":"))
	if !m.cmdOpen {
		t.Fatal("a replay did not open the command line")
	}
	typeText(m, "np q")
	if len(src.asked) > 0 {
		t.Fatalf("keys typed after : acted as hotkeys: %v", src.asked)
	}
	if v := m.cmd.in.Value(); v != "np q" {
		t.Fatalf("the command line holds %q", v)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "a replay has no lab behind it") {
		t.Errorf("the console does not say commands need a lab:\n%s", s)
	}
	m.Update(press("enter"))
	if len(src.asked) != 1 || src.asked[0] != "exec np q" {
		t.Errorf("enter asked %v", src.asked)
	}
}

func TestTooSmall(t *testing.T) {
	m, _ := fixtureModel(theme.New(theme.Default, false), 120, 35)
	for _, sz := range [][2]int{{0, 0}, {1, 1}, {10, 3}, {minW - 1, minH}, {minW, minH}, {minW, minH - 1}, {300, 100}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		out := m.render()
		if sz[0] == 0 {
			if out != "" {
				t.Errorf("0x0 draws %q", out)
			}
			continue
		}
		checkBox(t, out, sz[0], sz[1])
	}
}

// TestReplay plays a recorded run of hello: the fold shows the container's
// life, and n, p and r move between steps.
func TestReplay(t *testing.T) {
	events := recordHello(t)
	clock := time.Unix(0, 0)
	r := newReplay(events, "hello.jsonl", 1, func() time.Time { return clock })
	f := r.frame("board-1", lab.AllRows)
	if f.snap.Now != 0 || len(f.story.Steps) != 5 {
		t.Fatalf("first frame: now %v, %d steps", f.snap.Now, len(f.story.Steps))
	}
	// four seconds in: hello runs and beats
	clock = clock.Add(4 * time.Second)
	f = r.frame("board-1", lab.AllRows)
	if f.snap.Detail == nil || len(f.snap.Detail.Containers) != 1 || f.snap.Detail.Containers[0].State != "RUNNING" {
		t.Fatalf("at 4s: %+v", f.snap.Detail)
	}
	if c := f.snap.Detail.Containers[0]; c.Heartbeats < 2 || len(c.Intervals) == 0 {
		t.Errorf("heartbeats not folded: %+v", c)
	}
	if f.story.Current != 2 || f.story.Steps[1].State != pane.Held {
		t.Errorf("story at 4s: current %d, step 2 %s", f.story.Current, f.story.Steps[1].State)
	}
	// n plays step 4 (the rest of step 3 at once)
	r.next()
	f = r.frame("board-1", lab.AllRows)
	if f.story.Current != 3 || f.snap.Paused {
		t.Errorf("after n: current step %d, paused %v", f.story.Current, f.snap.Paused)
	}
	// it holds at the end of step 4, as a live step does
	clock = clock.Add(time.Minute)
	f = r.frame("board-1", lab.AllRows)
	if f.story.Current != 3 || !f.snap.Paused || f.story.Steps[3].State != pane.Held {
		t.Errorf("at the end of step 4: current %d, paused %v, %s", f.story.Current, f.snap.Paused, f.story.Steps[3].State)
	}
	// p goes back before step 4, paused, and the log starts again
	r.back()
	f = r.frame("board-1", lab.AllRows)
	if !f.restart || f.story.Current != 2 || !f.snap.Paused {
		t.Errorf("after p: restart %v, current %d, paused %v", f.restart, f.story.Current, f.snap.Paused)
	}
	// space plays to the end; the replay then pauses and says so
	r.playPause()
	clock = clock.Add(time.Hour)
	f = r.frame("board-1", lab.AllRows)
	if !f.snap.Paused || f.busy == "" || f.story.Played() != 5 {
		t.Errorf("at the end: paused %v, busy %q, played %d", f.snap.Paused, f.busy, f.story.Played())
	}
	if f.snap.Detail == nil || len(f.snap.Detail.Containers) != 0 {
		t.Errorf("hello was deleted but the fold holds %+v", f.snap.Detail)
	}
	if r.next(); r.frame("board-1", lab.AllRows).story.Played() != 5 {
		t.Error("n past the last step changed the story")
	}
	r.reset()
	f = r.frame("board-1", lab.AllRows)
	if !f.restart || f.story.Current != -1 || len(f.events) != 0 {
		t.Errorf("after r: restart %v, current %d, %d events", f.restart, f.story.Current, len(f.events))
	}
}

// recordHello plays hello headless and returns its transcript, as
// `tinylab run --record` writes it.
func recordHello(t testing.TB) []device.Event {
	t.Helper()
	sc, err := scenarios.Load("hello")
	if err != nil {
		t.Fatal(err)
	}
	var evs []device.Event
	r, err := scenarios.NewRunner(sc, scenarios.Options{Setup: func(l *lab.Lab) { l.Bus().Sink(func(e device.Event) { evs = append(evs, e) }) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Play(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestReplayRenders(t *testing.T) {
	events := recordHello(t)
	src := newReplay(events, "hello.jsonl", 100, time.Now)
	m := newModel(src, theme.New(theme.Default, false), fixedNow)
	for _, sz := range sizes {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for range 5 {
			m.Update(frameMsg(src.frame(m.selID, lab.AllRows)))
			out := m.render()
			checkBox(t, out, sz[0], sz[1])
			if !strings.Contains(ansi.Strip(out), "REPLAY") {
				t.Fatal("a replay does not say so")
			}
		}
	}
	if err := Replay(nil, Options{}); err != ErrEmpty {
		t.Errorf("empty replay: %v", err)
	}
}

func TestRunUnknownScenario(t *testing.T) {
	err := Run("no-such-scenario", Options{})
	if err == nil || !strings.Contains(fmt.Sprint(err), "no-such-scenario") {
		t.Errorf("Run of an unknown scenario: %v", err)
	}
}

// TestBuildError: a lab that cannot be built says why, for as long as it
// lasts, and the UI stays up.
func TestBuildError(t *testing.T) {
	src := &fakeSource{frames: []frame{{err: fmt.Errorf("my.yaml:11:3: container counter: open containers/missing.asm: no such file")}}}
	m := newModel(src, theme.New(theme.Default, false), time.Now)
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	for range 3 {
		m.Update(frameMsg(src.frame("", lab.AllRows)))
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "could not be built") || !strings.Contains(s, "missing.asm") {
		t.Errorf("the build error is not shown:\n%s", s)
	}
}

// TestReplayRollout: a recorded bad-release, written to JSON Lines and read
// back, replays its campaign into the rollout pane: the halt in wave 2 and
// the rollback, with the counts the live run had.
func TestReplayRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 boards are long for -short")
	}
	sc, err := scenarios.Load("bad-release")
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	r, err := scenarios.NewRunner(sc, scenarios.Options{Setup: func(l *lab.Lab) {
		l.Bus().Sink(func(e device.Event) {
			if b, err := json.Marshal(e); err == nil {
				lines = append(lines, b)
			}
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Play(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	live, _ := r.Lab().RolloutView()
	var events []device.Event
	for _, b := range lines {
		var e device.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		events = append(events, e)
	}
	clock := time.Unix(0, 0)
	rep := newReplay(events, "bad-release.jsonl", 100, func() time.Time { return clock })
	clock = clock.Add(time.Hour)
	f := rep.frame("", lab.AllRows)
	v := f.snap.Rollout
	if v == nil {
		t.Fatal("no rollout in the replay")
	}
	if v.State != live.State || len(v.Waves) != len(live.Waves) || v.Reasons != live.Reasons || len(v.Cells) != len(live.Cells) {
		t.Fatalf("replay %s %d waves %q %d cells; live %s %d waves %q %d cells", v.State, len(v.Waves), v.Reasons, len(v.Cells),
			live.State, len(live.Waves), live.Reasons, len(live.Cells))
	}
	for i := range v.Waves {
		if v.Waves[i].Counts != live.Waves[i].Counts {
			t.Errorf("%s: replay %v, live %v", v.Waves[i].Name, v.Waves[i].Counts, live.Waves[i].Counts)
		}
	}
}

// rowSource is a fleet that, as a live lab, summarises only the rows the UI
// asks for; it records what was asked.
type rowSource struct {
	fakeSource
	ids   []string
	asked []lab.Rows
}

func (s *rowSource) frame(detail string, rows lab.Rows) frame {
	s.asked = append(s.asked, rows)
	from, to := rows.Clip(len(s.ids))
	snap := lab.Snapshot{Speed: 1, IDs: s.ids, First: from}
	for _, id := range s.ids[from:to] {
		snap.Devices = append(snap.Devices, device.Summary{ID: id, Board: "nrf52dk", Powered: true, BatteryPermille: 870})
	}
	return frame{snap: snap}
}

// With 10,000 boards the UI asks for the rows it shows and a screenful
// either side: a jump to the end shows the ids at once and their summaries
// with the next frame; every frame stays a few screens of summaries.
func TestDeviceListWindow(t *testing.T) {
	src := &rowSource{}
	for i := range 10000 {
		src.ids = append(src.ids, fmt.Sprintf("box-%d", i+1))
	}
	m := newModel(src, theme.New(theme.Default, false), fixedNow)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m.Update(frameMsg(src.frame(m.selID, m.devRows())))
	m.focus = paneDevices
	screen := func() string { return ansi.Strip(m.render()) }
	if s := screen(); !strings.Contains(s, "▶ box-1 ") || !strings.Contains(s, "box-2 ") || !strings.Contains(s, "1/10000") {
		t.Fatalf("first screen:\n%s", s)
	}
	m.Update(press("end"))
	if s := screen(); !strings.Contains(s, "▶ box-10000 …") || !strings.Contains(s, "10000/10000") {
		t.Fatalf("right after the jump:\n%s", s)
	}
	m.Update(frameMsg(src.frame(m.selID, m.devRows())))
	if s := screen(); !strings.Contains(s, "▶ box-10000 ·  87%") || strings.Contains(s, "…") {
		t.Fatalf("after the next frame:\n%s", s)
	}
	m.Update(press("up"))
	if s := screen(); !strings.Contains(s, "▶ box-9999  ·  87%") {
		t.Fatalf("a row up, before the next frame:\n%s", s)
	}
	h := m.lay.panes[paneDevices].h - 2
	for _, r := range src.asked[1:] {
		if r.Count != 3*h || r.From < 0 {
			t.Errorf("asked for %+v with %d rows on screen", r, h)
		}
	}
	if last := src.asked[len(src.asked)-1]; last.From+last.Count < 10000 {
		t.Errorf("the last frame asked for %+v, short of the selection", last)
	}
}
