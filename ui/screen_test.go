package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/lab/sim"
	"tinylab/scenarios"
	"tinylab/ui/pane"
	"tinylab/ui/theme"
)

// screenSizes are the sizes the screen's honesty is checked at: the
// smallest the UI promises and a usual laptop terminal.
var screenSizes = [][2]int{{80, 24}, {120, 35}}

func eachSize(t *testing.T, fn func(t *testing.T, w, h int)) {
	for _, sz := range screenSizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) { fn(t, sz[0], sz[1]) })
	}
}

// playSteps presses n for steps from..to and waits for each to end.
func (f *flow) playSteps(from, to int) {
	f.t.Helper()
	for i := from; i <= to; i++ {
		f.press("n")
		f.until(fmt.Sprintf("step %d to end", i), 60*time.Second, func(m *model) bool {
			return m.story.Played() >= i && !m.story.Playing()
		})
	}
}

// command types a line on the command line and waits for its answer.
func (f *flow) command(line string) {
	f.t.Helper()
	var n int
	f.look(func(m *model) { n = len(m.cmd.console) })
	f.press(":")
	f.typeText(line)
	f.press("enter")
	f.until("the answer to "+line, 15*time.Second, func(m *model) bool { return len(m.cmd.console) > n+1 })
	f.press("esc")
	f.until("the command line closed", 5*time.Second, func(m *model) bool { return !m.cmdOpen })
}

var litState = regexp.MustCompile(`\[(EMPTY|PROVISIONING|READY|RUNNING|STOPPING|DELETING|FAILED|EMPT|PROV|RDY|RUN|STOP|DEL|FAIL)\]`)

// TestFlowUpdateShowsEveryState: MyCoach's step 7 replaces the running
// coach in one virtual instant; the state machine line, which follows the
// coach (the step is about it, not about the analytics container denied
// meanwhile), shows RUNNING → STOPPING → PROVISIONING → READY → RUNNING one
// state at a time.
func TestFlowUpdateShowsEveryState(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		f := startFlow(t, "mycoach", w, h)
		f.playSteps(1, 6)
		f.look(func(m *model) {
			if strings.Contains(m.msg, "n plays step 1") {
				t.Errorf("the footer still says %q after six steps", m.msg)
			}
		})
		f.press("n")
		var seen []string
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var lit string
			var done bool
			f.look(func(m *model) {
				if m.ctrUID != "coach" && m.story.Current == 6 {
					lit = "selected " + m.ctrUID
				} else if s := litState.FindStringSubmatch(ansi.Strip(m.render())); s != nil {
					lit = strings.NewReplacer("STOPPING", "STOP", "PROVISIONING", "PROV", "READY", "RDY", "RUNNING", "RUN").Replace(s[1])
				}
				done = m.story.Played() >= 7 && !m.story.Playing() && len(m.held) == 0
			})
			if lit != "" && (len(seen) == 0 || seen[len(seen)-1] != lit) {
				seen = append(seen, lit)
			}
			if done {
				break
			}
			time.Sleep(15 * time.Millisecond)
		}
		got := strings.Join(seen, " ")
		if !strings.Contains(got, "RUN STOP PROV RDY RUN") {
			t.Fatalf("the state machine line showed %q; want RUN STOP PROV RDY RUN in it", got)
		}
		f.quit()
	})
}

// TestFlowArmedAttack: an attack armed with tamper next shows in the update
// pane, survives an update command the lab refuses, and is spent by the
// next real update, which fails as the attack says.
func TestFlowArmedAttack(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		f := startFlow(t, "update-attacks", w, h)
		f.playSteps(1, 1)
		f.command("tamper next digest-mismatch")
		f.command("update gw appx")
		shows := func(parts ...string) func(m *model) bool {
			return func(m *model) bool {
				s := ansi.Strip(m.render())
				for _, p := range parts {
					if !strings.Contains(s, p) {
						return false
					}
				}
				return true
			}
		}
		f.until("the armed attack shown after a refused update", 5*time.Second, shows("armed: next update", "digest-mismatch"))
		f.command("update gw app-v2")
		// the world is paused between steps: the update waits, and says so
		f.until("the update pane saying the clock is paused", 5*time.Second, shows("⏸ fetching", "clock paused: space resumes"))
		f.look(func(m *model) {
			last := m.cmd.console[len(m.cmd.console)-1].text
			if last != pausedHint {
				t.Errorf("the console's last line is %q, want the paused hint", last)
			}
		})
		f.press("space")
		f.until("the attack carried", 20*time.Second, func(m *model) bool {
			d := m.snap.Detail
			return d != nil && d.Suit.Last.Result == "SUIT_ERR_DIGEST_MISMATCH" && d.Suit.State == "idle"
		})
		f.until("the attack's result shown", 5*time.Second, shows("SUIT_ERR_DIGEST_MISMATCH"))
		if s := f.screen(); strings.Contains(s, "armed:") {
			t.Errorf("the attack still shows armed after an update carried it:\n%s", s)
		}
		f.quit()
	})
}

// TestFlowNResumesAPausedStep: n on a step paused with space goes on with
// it instead of saying it is still playing.
func TestFlowNResumesAPausedStep(t *testing.T) {
	f := startFlow(t, "hello", 120, 35)
	f.playSteps(1, 2)
	for range 8 {
		f.press("-")
	}
	f.until("0.25x", 5*time.Second, func(m *model) bool { return m.snap.Speed == 0.25 })
	f.press("n")
	f.until("step 3 playing", 10*time.Second, func(m *model) bool { return m.story.Playing() && !m.snap.Paused })
	f.press("space")
	f.until("paused", 5*time.Second, func(m *model) bool { return m.snap.Paused })
	f.press("n")
	f.until("resumed", 5*time.Second, func(m *model) bool {
		return !m.snap.Paused && m.story.Playing() && strings.Contains(m.msg, "goes on")
	})
	f.quit()
}

// TestFlowBackSaysWhatIsNotReplayed: p rebuilds the lab from the story;
// the commands typed since are not replayed, and the footer says which.
func TestFlowBackSaysWhatIsNotReplayed(t *testing.T) {
	f := startFlow(t, "hello", 120, 35)
	f.playSteps(1, 3)
	f.command("stop board-1 hello")
	f.press("p")
	f.until("back, and told", 30*time.Second, func(m *model) bool {
		return m.busy == "" && strings.Contains(m.msg, "not replayed: stop board-1 hello")
	})
	f.quit()
}

// TestFlowResetReadsTheFileAgain: r on a scenario given as a file reads the
// file again, so a fix made meanwhile plays.
func TestFlowResetReadsTheFileAgain(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../scenarios/builtin/hello.yaml")
	if err != nil {
		t.Fatal(err)
	}
	asm, err := os.ReadFile("../scenarios/builtin/containers/hello.asm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "containers"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "mine.yaml")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "containers", "hello.asm"), asm, 0o644))
	must(os.WriteFile(file, src, 0o644))
	f := startFlow(t, file, 120, 35)
	fixed := strings.Replace(string(src), "and nothing else yet.", "and nothing else yet (fixed).", 1)
	must(os.WriteFile(file, []byte(fixed), 0o644))
	f.press("r")
	f.until("the fixed narration", 30*time.Second, func(m *model) bool {
		return m.busy == "" && len(m.story.Steps) > 0 && strings.Contains(m.story.Steps[0].Say, "(fixed)")
	})
	// a file broken meanwhile is reported, and the lab goes on
	must(os.WriteFile(file, []byte("name: [\n"), 0o644))
	f.press("r")
	f.until("the broken file reported", 10*time.Second, func(m *model) bool {
		return m.msgBad && strings.Contains(m.msg, "could not be read again") && len(m.snap.Devices) > 0
	})
	f.quit()
}

// TestFlowSmallTableShowsTheStepsContainer: at 80x24 the container table
// of the firewall tour's step 5 cannot hold every container; it shows the
// one the step is about and says how many are out of sight.
func TestFlowSmallTableShowsTheStepsContainer(t *testing.T) {
	f := startFlow(t, "firewall-tour", 80, 24)
	f.playSteps(1, 5)
	s := f.screen()
	if !regexp.MustCompile(`│ *foreign +(RUN|PROV|RDY)`).MatchString(s) {
		t.Errorf("step 5's container is not in the table:\n%s", s)
	}
	if !regexp.MustCompile(`\+\d+ more`).MatchString(s) {
		t.Errorf("the table hides rows without saying so:\n%s", s)
	}
	f.quit()
}

// TestHoldShowsEachStateOfABurst: transitions that happen at one virtual
// instant are shown one at a time, each for holdFor, with the states to
// come; then the snapshot shows as it is.
func TestHoldShowsEachStateOfABurst(t *testing.T) {
	at := 19895 * time.Millisecond
	var evs []device.Event
	chain := []device.State{device.Running, device.Stopping, device.Provisioning, device.Ready, device.Running}
	for i := 1; i < len(chain); i++ {
		evs = append(evs, ev(at, "bench-1", device.StateChange{Container: "coach", From: chain[i-1], To: chain[i], Reason: "update"}))
	}
	snap := lab.Snapshot{
		Devices: []device.Summary{{ID: "bench-1", Containers: []device.ContainerBrief{{UID: "coach", State: device.Running}, {UID: "analytics", State: device.Running}}}},
		Detail: &device.Snapshot{ID: "bench-1", Containers: []device.ContainerInfo{
			{UID: "coach", State: "RUNNING", Last: device.Transition{From: device.Ready, To: device.Running, At: at}},
			{UID: "analytics", State: "RUNNING"}}},
	}
	now := fixedNow()
	hs := holds{}
	hs.add(evs, now)
	for i, want := range chain[1:] {
		shown, then := hs.apply(snap)
		if got := shown.Detail.Containers[0].State; got != want.String() {
			t.Fatalf("at %d×holdFor the coach shows %s, want %s", i, got, want)
		}
		if got := shown.Devices[0].Containers[0].State; got != want {
			t.Fatalf("at %d×holdFor the device list shows %s, want %s", i, got, want)
		}
		if len(then["coach"]) != len(chain)-2-i {
			t.Fatalf("at %d×holdFor %d states still to come: %v", i, len(then["coach"]), then["coach"])
		}
		if shown.Detail.Containers[1].State != "RUNNING" {
			t.Fatal("a container without transitions changed")
		}
		now = now.Add(holdFor / 2)
		hs.advance(now)
		if got, _ := hs.apply(snap); got.Detail.Containers[0].State != want.String() {
			t.Fatalf("after half of holdFor the coach already shows %s", got.Detail.Containers[0].State)
		}
		now = now.Add(holdFor / 2)
		hs.advance(now)
	}
	if len(hs) != 0 || snap.Detail.Containers[0].State != "RUNNING" || snap.Devices[0].Containers[0].State != device.Running {
		t.Fatalf("after the burst: %d held, the snapshot was changed: %+v", len(hs), snap)
	}
	// a container cycling fast does not leave the screen lagging
	for range 50 {
		hs.add(evs, now)
	}
	if n := len(hs[[2]string{"bench-1", "coach"}].queue); n > maxHeld {
		t.Fatalf("%d transitions held", n)
	}
}

// TestHoldShowsAPowerCut: a power cut and a boot in one virtual instant
// show the board dark for holdFor, then its container coming back state by
// state.
func TestHoldShowsAPowerCut(t *testing.T) {
	at := 15 * time.Second
	evs := []device.Event{
		ev(at, "gw", device.Power{On: false, Reason: "power cut by the lab"}),
		ev(at, "gw", device.Boot{Board: "nrf52840dk", Reason: "power restored"}),
		ev(at, "gw", device.StateChange{Container: "app", From: device.Empty, To: device.Provisioning}),
		ev(at, "gw", device.StateChange{Container: "app", From: device.Provisioning, To: device.Ready}),
		ev(at, "gw", device.StateChange{Container: "app", From: device.Ready, To: device.Running}),
	}
	snap := lab.Snapshot{
		Devices: []device.Summary{{ID: "gw", Powered: true, Containers: []device.ContainerBrief{{UID: "app", State: device.Running}}}},
		Detail:  &device.Snapshot{ID: "gw", Powered: true, Containers: []device.ContainerInfo{{UID: "app", State: "RUNNING"}}},
	}
	now := fixedNow()
	hs := holds{}
	// a burst still on screen from before the cut is over when it comes
	hs.add([]device.Event{
		ev(at, "gw", device.StateChange{Container: "app", From: device.Running, To: device.Stopping}),
		ev(at, "gw", device.StateChange{Container: "app", From: device.Stopping, To: device.Provisioning}),
	}, now)
	hs.add(evs, now)
	shown, _ := hs.apply(snap)
	if shown.Devices[0].Powered || shown.Detail.Powered || len(shown.Detail.Containers) != 0 ||
		len(shown.Detail.InFlash) != 1 || shown.Detail.InFlash[0] != "app" {
		t.Fatalf("right after the cut the board shows %+v / %+v", shown.Devices[0], *shown.Detail)
	}
	var seen []string
	for range 6 {
		now = now.Add(holdFor)
		hs.advance(now)
		shown, _ = hs.apply(snap)
		if shown.Detail.Powered {
			seen = append(seen, shown.Detail.Containers[0].State)
		}
	}
	if got := strings.Join(seen, " "); got != "PROVISIONING READY RUNNING RUNNING RUNNING RUNNING" {
		t.Fatalf("after the cut the container showed %s", got)
	}
	if len(hs) != 0 || !snap.Detail.Powered {
		t.Fatalf("%d still held; the snapshot was changed", len(hs))
	}
}

// TestConsoleScrolls: a long answer does not lose its top: pgup scrolls the
// console back to it, and the console says what is out of sight.
func TestConsoleScrolls(t *testing.T) {
	for _, sz := range screenSizes {
		m, _ := fixtureModel(theme.New(theme.Default, false), sz[0], sz[1])
		m.Update(press(":"))
		lines := []string{"{"}
		for i := range 60 {
			lines = append(lines, fmt.Sprintf(`  "field%02d": %d,`, i, i))
		}
		m.Update(noteMsg{text: "long", console: append(lines, "}")})
		s := ansi.Strip(m.render())
		checkBox(t, m.render(), sz[0], sz[1])
		if strings.Contains(s, `"field00"`) || !strings.Contains(s, "older") {
			t.Fatalf("%dx%d: the newest lines with a note of the older ones expected:\n%s", sz[0], sz[1], s)
		}
		for range 30 {
			m.Update(tea.KeyPressMsg{Code: tea.KeyPgUp})
		}
		s = ansi.Strip(m.render())
		if !strings.Contains(s, `"field00"`) || !strings.Contains(s, "↓") {
			t.Fatalf("%dx%d: pgup does not reach the top:\n%s", sz[0], sz[1], s)
		}
		m.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
		m.Update(noteMsg{text: "new", console: []string{"the newest"}})
		if s := ansi.Strip(m.render()); !strings.Contains(s, "the newest") {
			t.Fatalf("%dx%d: new output does not scroll the console to it:\n%s", sz[0], sz[1], s)
		}
	}
}

// TestEventFooterNamesTheDevice: the footer's full line of the selected
// event keeps the device's name.
func TestEventFooterNamesTheDevice(t *testing.T) {
	for _, sz := range screenSizes {
		m, _ := fixtureModel(theme.New(theme.Default, false), sz[0], sz[1])
		m.focus = paneEvents
		m.Update(press("down"))
		lines := strings.Split(ansi.Strip(m.render()), "\n")
		foot := lines[len(lines)-1]
		if !strings.Contains(foot, "bench-1") {
			t.Errorf("%dx%d: the footer's event line has no device: %q", sz[0], sz[1], foot)
		}
	}
}

// truthModel is a model showing a real lab: the scenario played headless
// to the start of step k+1, then the commands; the device dev selected.
func truthModel(t *testing.T, name string, k int, dev string, cmds []string, w, h int) *model {
	t.Helper()
	sc, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := scenarios.Rewind(context.Background(), sc, scenarios.Options{Mode: sim.Fast}, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	for _, c := range cmds {
		if d, ok := strings.CutPrefix(c, "advance "); ok {
			dd, _ := time.ParseDuration(d)
			if err := r.Lab().Advance(context.Background(), dd); err != nil {
				t.Fatal(err)
			}
			continue
		}
		_, _ = r.Lab().Exec(c)
	}
	snap := r.Lab().Snapshot(dev)
	snap.Mode, snap.Speed, snap.Paused = sim.Paced, 1, false
	f := frame{snap: snap, story: storyOf(sc, r)}
	src := &fakeSource{frames: []frame{f}}
	m := newModel(src, theme.New(theme.Default, false), fixedNow)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.selID, m.follow = dev, false
	m.Update(frameMsg(src.frame("", lab.AllRows)))
	return m
}

// TestGoldenTruth: what the screen shows of real labs where it used to
// show what did not happen. Goldens at 80x24 and 120x35, and the facts
// checked in words.
func TestGoldenTruth(t *testing.T) {
	cases := []struct {
		name, scenario string
		k              int
		dev            string
		cmds           []string
		want, not      []string
	}{
		{"armed", "update-attacks", 1, "gw", []string{"tamper next digest-mismatch", "update gw appx"},
			[]string{"armed: next update", "digest-mismatch"}, []string{"RAM slots"}},
		{"just-sent", "update-attacks", 1, "gw", []string{"update gw app-v2"},
			[]string{"update → gw · ⟳ fetching"}, []string{"RAM slots"}},
		{"mid-fetch", "smartdronebox", 10, "box-3", []string{"update box-3 delivery-v2", "advance 150ms"},
			[]string{"▸ fetch", "· image"}, []string{"✓ fetch", "✓ image"}},
		{"power-cut", "smartdronebox", 10, "box-3", []string{"update box-3 delivery-v2", "advance 150ms", "power-cut box-3"},
			[]string{"POWER OFF", "✗ fetch", "SUIT_ERR_STORAGE", "RAM ", " 0.0/"}, []string{"✓ fetch", "fetching coap", "“", "⟳"}},
		{"size-mismatch", "update-attacks", 12, "gw", nil,
			[]string{"✗ fetch", "SUIT_ERR_STORAGE_EXCEEDED"}, []string{"✓ image", "▸"}},
	}
	for _, c := range cases {
		for _, sz := range screenSizes {
			t.Run(fmt.Sprintf("%s/%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				m := truthModel(t, c.scenario, c.k, c.dev, c.cmds, sz[0], sz[1])
				out := m.render()
				checkBox(t, out, sz[0], sz[1])
				s := ansi.Strip(out)
				for _, w := range c.want {
					if !strings.Contains(s, w) {
						t.Errorf("the screen does not show %q:\n%s", w, s)
					}
				}
				for _, n := range c.not {
					if strings.Contains(s, n) {
						t.Errorf("the screen shows %q:\n%s", n, s)
					}
				}
				golden.RequireEqual(t, fixed(t, out))
			})
		}
	}
}

// TestClickInAScrolledTable: a click on a row of a container table scrolled
// to its selection selects the container drawn there.
func TestClickInAScrolledTable(t *testing.T) {
	m := truthModel(t, "firewall-tour", 5, "hub", nil, 80, 24)
	n := len(m.snap.Detail.Containers)
	m.selectContainer(n - 1)
	r := m.lay.panes[paneDetail]
	top, rows := pane.Detail{Dev: m.snap.Detail, Selected: m.selCtr}.Window(r.h - 2)
	if top == 0 || rows >= n {
		t.Fatalf("the table is not scrolled: top %d, %d of %d rows", top, rows, n)
	}
	m.Update(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 2, Button: tea.MouseLeft}) // the first row drawn
	if want := m.snap.Detail.Containers[top].UID; m.ctrUID != want {
		t.Fatalf("the click selected %s, want %s (the row drawn there)", m.ctrUID, want)
	}
}
