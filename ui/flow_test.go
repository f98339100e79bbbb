package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"tinylab/device"
	"tinylab/scenarios"
	"tinylab/ui/pane"
	"tinylab/ui/theme"
)

// probed wraps the root model so a test can look at it between messages,
// inside the program's own goroutine.
type probed struct{ *model }

// probeMsg runs fn on the model inside Update.
type probeMsg struct{ fn func(*model) }

func (p probed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if pm, ok := msg.(probeMsg); ok {
		pm.fn(p.model)
		return p, nil
	}
	_, cmd := p.model.Update(msg)
	return p, cmd
}

// flow is a UI program under test on a live lab.
type flow struct {
	t  *testing.T
	tm *teatest.TestModel
	m  *model
}

// startFlow opens a scenario in a headless program at w×h, fast.
func startFlow(t *testing.T, name string, w, h int) *flow {
	t.Helper()
	src, err := openLive(name, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.close)
	m := newModel(src, theme.New(theme.Default, false), time.Now)
	tm := teatest.NewTestModel(t, probed{m}, teatest.WithInitialTermSize(w, h))
	f := &flow{t: t, tm: tm, m: m}
	f.until("the lab is built", 10*time.Second, func(m *model) bool {
		return len(m.snap.Devices) > 0 && m.busy == ""
	})
	return f
}

// look runs fn on the model in the program's goroutine and waits for it.
func (f *flow) look(fn func(*model)) {
	f.t.Helper()
	done := make(chan struct{})
	f.tm.Send(probeMsg{func(m *model) { fn(m); close(done) }})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		f.t.Fatal("the program stopped answering")
	}
}

// until waits for cond to hold.
func (f *flow) until(what string, limit time.Duration, cond func(*model) bool) {
	f.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok := false
		f.look(func(m *model) { ok = cond(m) })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var screen string
			f.look(func(m *model) { screen = ansi.Strip(m.render()) })
			f.t.Fatalf("waited %s for %s; the screen:\n%s", limit, what, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screen is the screen as text.
func (f *flow) screen() string {
	var s string
	f.look(func(m *model) { s = ansi.Strip(m.render()) })
	return s
}

func (f *flow) press(keys ...string) {
	for _, k := range keys {
		f.tm.Send(press(k))
	}
}

func (f *flow) typeText(s string) { f.tm.Type(s) }

func (f *flow) quit() {
	f.press("q")
	f.tm.WaitFinished(f.t, teatest.WithFinalTimeout(5*time.Second))
}

func (f *flow) container(dev, uid string) (state string) {
	f.look(func(m *model) {
		if m.snap.Detail == nil || m.snap.Detail.ID != dev {
			return
		}
		for _, c := range m.snap.Detail.Containers {
			if c.UID == uid {
				state = c.State
			}
		}
	})
	return state
}

// TestFlowStory steps through the default scenario to its end with n, as a
// presenter does, and checks every step held.
func TestFlowStory(t *testing.T) {
	f := startFlow(t, scenarios.DefaultScenario, 120, 35)
	var n int
	f.look(func(m *model) { n = len(m.story.Steps) })
	if n == 0 {
		t.Fatal("the default scenario has no steps")
	}
	for i := 1; i <= n; i++ {
		f.press("n")
		f.until("step to end", 60*time.Second, func(m *model) bool {
			return m.story.Played() >= i && !m.story.Playing()
		})
	}
	f.look(func(m *model) {
		for i, st := range m.story.Steps {
			if st.State != pane.Held {
				t.Errorf("step %d (%s) is %s: %+v", i+1, st.Title, st.State, st)
			}
		}
	})
	if s := f.screen(); !strings.Contains(s, "the end") || !strings.Contains(s, "steps held") {
		t.Errorf("the last screen does not say the story ended:\n%s", s)
	}
	// past the end, n says so and nothing breaks
	f.press("n")
	f.until("the end is said", 5*time.Second, func(m *model) bool { return strings.Contains(m.msg, "over") })
	f.quit()
}

// TestFlowBackAndReset goes back a step (the lab is rebuilt and replayed to
// it) and resets to the start.
func TestFlowBackAndReset(t *testing.T) {
	f := startFlow(t, "hello", 100, 30)
	for i := 1; i <= 3; i++ {
		f.press("n")
		f.until("step to end", 30*time.Second, func(m *model) bool { return m.story.Played() >= i && !m.story.Playing() })
	}
	f.press("p")
	f.until("back at step 3", 30*time.Second, func(m *model) bool {
		return m.busy == "" && m.story.Played() == 2 && m.story.Current == 1
	})
	// the log was replayed: step 2's events are in it
	f.look(func(m *model) {
		found := false
		for _, e := range m.log.rows(0, m.log.count()) {
			if s, ok := e.Data.(scenarios.StepStarted); ok && s.Index == 2 {
				found = true
			}
		}
		if !found {
			t.Error("after going back, the log does not hold step 2")
		}
	})
	f.press("n")
	f.until("step 3 again", 30*time.Second, func(m *model) bool { return m.story.Played() == 3 && !m.story.Playing() })
	f.press("r")
	f.until("reset", 30*time.Second, func(m *model) bool { return m.busy == "" && m.story.Current == -1 })
	f.quit()
}

// TestFlowHelp opens the help overlay and finds every key in it.
func TestFlowHelp(t *testing.T) {
	f := startFlow(t, "hello", 120, 35)
	f.press("?")
	s := f.screen()
	_, groups := newKeyMap().groups()
	for _, g := range groups {
		for _, b := range g {
			if !strings.Contains(s, b.Help().Key) || !strings.Contains(s, b.Help().Desc) {
				t.Errorf("help does not list %q (%s)", b.Help().Key, b.Help().Desc)
			}
		}
	}
	// keys do nothing else while help is open; esc closes it
	f.press("n", "esc")
	f.until("help closed", 5*time.Second, func(m *model) bool { return !m.showHelp })
	f.look(func(m *model) {
		if m.story.Current != -1 {
			t.Error("n acted behind the help overlay")
		}
	})
	f.quit()
}

// TestFlowFilter filters the log for the container's log lines, then
// clears the filter.
func TestFlowFilter(t *testing.T) {
	f := startFlow(t, "hello", 120, 35)
	for i := 1; i <= 3; i++ {
		f.press("n")
		f.until("step to end", 30*time.Second, func(m *model) bool { return m.story.Played() >= i && !m.story.Playing() })
	}
	f.press("/")
	f.typeText("heartbeat")
	f.press("enter")
	f.until("filter applied", 5*time.Second, func(m *model) bool { return !m.filterOpen && m.log.filter == "heartbeat" })
	f.look(func(m *model) {
		if m.log.count() == 0 {
			t.Fatal("no heartbeat in the filtered log")
		}
		for _, e := range m.log.rows(0, m.log.count()) {
			if e.Data.Kind() != device.KindHeartbeat && !strings.Contains(strings.ToLower(pane.Text(e)), "heartbeat") {
				t.Errorf("the filter let through %s", e)
			}
		}
	})
	if s := f.screen(); !strings.Contains(s, "/heartbeat") {
		t.Errorf("the events pane does not show the filter:\n%s", s)
	}
	f.press("esc")
	f.until("filter cleared", 5*time.Second, func(m *model) bool { return m.log.filter == "" })
	f.quit()
}

// TestFlowCommandLine starts and stops a container from the command line,
// with completion, history and an error that changes nothing.
func TestFlowCommandLine(t *testing.T) {
	f := startFlow(t, "hello", 120, 35)
	for i := 1; i <= 2; i++ { // load: the container is READY
		f.press("n")
		f.until("step to end", 30*time.Second, func(m *model) bool { return m.story.Played() >= i && !m.story.Playing() })
	}
	f.press(":")
	f.typeText("sta")
	f.press("tab") // start
	f.press("tab") // board-1
	f.press("tab") // hello
	f.look(func(m *model) {
		if v := m.cmd.in.Value(); v != "start board-1 hello " {
			t.Fatalf("completion gave %q", v)
		}
	})
	f.press("enter")
	f.until("hello RUNNING", 10*time.Second, func(m *model) bool { return f.stateIn(m, "hello") == "RUNNING" })
	f.typeText("stop board-1 hello")
	f.press("enter")
	f.until("hello READY", 10*time.Second, func(m *model) bool { return f.stateIn(m, "hello") == "READY" })
	// an error is shown in the console and the footer; the lab goes on
	f.typeText("start board-1 nothing")
	f.press("enter")
	f.until("the error shown", 10*time.Second, func(m *model) bool {
		return m.msgBad && len(m.cmd.console) > 0 && m.cmd.console[len(m.cmd.console)-1].kind == lineErr
	})
	// history: up twice is the stop
	f.press("up", "up")
	f.look(func(m *model) {
		if v := m.cmd.in.Value(); v != "stop board-1 hello" {
			t.Errorf("history gave %q", v)
		}
	})
	f.press("esc")
	f.until("closed", 5*time.Second, func(m *model) bool { return !m.cmdOpen })
	if st := f.container("board-1", "hello"); st != "READY" {
		t.Errorf("hello is %q after the failed command", st)
	}
	f.quit()
}

func (f *flow) stateIn(m *model, uid string) string {
	if m.snap.Detail == nil {
		return ""
	}
	for _, c := range m.snap.Detail.Containers {
		if c.UID == uid {
			return c.State
		}
	}
	return ""
}

// TestFlowResize resizes the terminal while the lab runs, down to a size
// too small to draw in and back.
func TestFlowResize(t *testing.T) {
	f := startFlow(t, "hello", 80, 24)
	f.press("n", "n", "n")
	for _, sz := range [][2]int{{160, 48}, {80, 24}, {39, 11}, {1, 1}, {120, 35}, {81, 25}} {
		f.tm.Send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		f.until("resized", 5*time.Second, func(m *model) bool { return m.w == sz[0] && m.h == sz[1] })
		var out string
		f.look(func(m *model) { out = m.render() })
		checkBox(t, out, sz[0], sz[1])
		if sz[0] < minW && sz[0] >= 38 && !strings.Contains(ansi.Strip(out), "needs") {
			t.Errorf("at %dx%d the UI does not say it is too small", sz[0], sz[1])
		}
	}
	f.quit()
}
