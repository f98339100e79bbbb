package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/lab/sim"
	"tinylab/scenarios"
	"tinylab/ui/pane"
)

// live is a scenario played on a live lab: the runner, the world's paced
// loop in its own goroutine, and the UI's reader of the bus.
type live struct {
	opts scenarios.Options
	// reload reads the scenario's file again (nil for a built-in): r after
	// fixing a file plays what the file now says
	reload func() (*scenarios.Scenario, error)
	ctl    chan func() // pause and speed changes, applied in order off the UI loop
	done   chan struct{}

	mu     sync.Mutex
	sc     *scenarios.Scenario
	typed  []string // commands typed on this lab: a rebuild does not replay them
	r      *scenarios.Runner
	rd     *lab.Reader
	stop   context.CancelFunc
	gen    int // counts builds; a stale build is thrown away
	busy   string
	err    error
	fresh  bool // the next frame starts a new log
	speed  float64
	closed bool
	remote *remotes // devices attached from elsewhere, if any
}

func newLive(sc *scenarios.Scenario, seed *uint64, speed float64) *live {
	if speed <= 0 {
		speed = 1
	}
	s := &live{
		sc:    sc,
		opts:  scenarios.Options{Mode: sim.Paced, Seed: seed},
		ctl:   make(chan func(), 64),
		done:  make(chan struct{}),
		speed: min(max(speed, sim.MinSpeed), sim.MaxSpeed),
	}
	go func() {
		for {
			select {
			case fn := <-s.ctl:
				fn()
			case <-s.done:
				return
			}
		}
	}()
	return s
}

// openLive loads a scenario by name or file for a live lab; a file is read
// again at each reset.
func openLive(scenario string, seed *uint64, speed float64) (*live, error) {
	sc, err := scenarios.Load(scenario)
	if err != nil {
		return nil, err
	}
	scenarios.HoldMemory(sc)
	l := newLive(sc, seed, speed)
	if !sc.Builtin {
		l.reload = func() (*scenarios.Scenario, error) { return scenarios.Load(scenario) }
	}
	return l, nil
}

func (s *live) replay() bool { return false }

// build makes a new lab at the start of step k+1 (0: the beginning) and
// swaps it in for the old one, which is closed.
func (s *live) build(k int, what string) tea.Cmd {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.gen++
	gen := s.gen
	s.busy = what
	o := s.opts
	o.Speed = s.speed
	sc := s.sc
	lost := s.typed
	s.mu.Unlock()
	return func() tea.Msg {
		var rd *lab.Reader
		// the reader is attached before any device boots, so the log starts
		// with the boot and, after a rewind, holds the steps replayed
		o.Setup = func(l *lab.Lab) { rd = l.Bus().Reader() }
		r, err := scenarios.Rewind(context.Background(), sc, o, k)
		s.mu.Lock()
		if gen != s.gen || s.closed {
			s.mu.Unlock()
			if r != nil {
				r.Close()
			}
			return nil
		}
		s.busy = ""
		if err != nil {
			s.err = err
			s.mu.Unlock()
			return noteMsg{text: "could not build the lab: " + err.Error(), bad: true}
		}
		oldR, oldRd, oldStop := s.r, s.rd, s.stop
		ctx, cancel := context.WithCancel(context.Background())
		s.r, s.rd, s.stop, s.err, s.fresh = r, rd, cancel, nil, true
		s.typed = nil
		s.mu.Unlock()
		go func() { _ = r.Lab().World().Run(ctx) }()
		if oldR != nil {
			oldStop()
			oldRd.Close()
			oldR.Close()
		}
		text := fmt.Sprintf("back at the start of step %d/%d · n plays it", k+1, len(sc.Steps))
		if k == 0 {
			text = fmt.Sprintf("%s: %d device(s) ready · n plays step 1", sc.Name, len(r.Lab().Nodes()))
		}
		if len(lost) > 0 {
			// the story is played again, not what the tester typed
			return noteMsg{text: text + fmt.Sprintf(" · %s typed since were not replayed: %s", plural(len(lost), "command"), strings.Join(lost, "; ")), bad: true}
		}
		return noteMsg{text: text}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (s *live) runner() *scenarios.Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r
}

// ready is the runner when no rebuild is under way, else a command saying
// what the lab is busy with.
func (s *live) ready() (*scenarios.Runner, tea.Cmd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.busy != "":
		return nil, note("one moment: "+s.busy, false)
	case s.r == nil:
		return nil, note("the lab could not be built; r tries again", true)
	}
	return s.r, nil
}

func (s *live) frame(detail string, rows lab.Rows) frame {
	start := time.Now()
	s.mu.Lock()
	r, rd, busy, err, fresh, sc := s.r, s.rd, s.busy, s.err, s.fresh, s.sc
	s.fresh = false
	s.mu.Unlock()
	f := frame{busy: busy, err: err, restart: fresh}
	if r == nil {
		f.story = storyOf(sc, nil)
		f.snap.Speed, f.snap.Paused, f.snap.Mode = s.speed, true, sim.Paced
		return f
	}
	f.events, f.dropped = rd.Read(0)
	f.snap = r.Lab().SnapshotRows(detail, rows)
	if s.remote != nil {
		f.snap.IDs, f.snap.Devices = withRemote(f.snap, s.remote.summaries())
		if f.snap.Detail == nil && detail != "" {
			f.snap.Detail = s.remote.detail(detail)
		}
		f.events = append(f.events, s.remote.drain()...)
	}
	f.story = storyOf(r.Scenario(), r)
	f.took = time.Since(start)
	return f
}

// withRemote puts the attached devices after the lab's in the device list:
// their ids after the lab's (a new slice: the lab's is shared), and their
// summaries after the window when it reaches the lab's last row.
func withRemote(s lab.Snapshot, sums []device.Summary) ([]string, []device.Summary) {
	if len(sums) == 0 {
		return s.IDs, s.Devices
	}
	ids := make([]string, len(s.IDs), len(s.IDs)+len(sums))
	copy(ids, s.IDs)
	for _, d := range sums {
		ids = append(ids, d.ID)
	}
	if s.First+len(s.Devices) == len(s.IDs) {
		return ids, append(s.Devices, sums...)
	}
	return ids, s.Devices
}

// storyOf is the scenario as played so far.
func storyOf(sc *scenarios.Scenario, r *scenarios.Runner) pane.Story {
	st := pane.Story{Name: sc.Name, Title: sc.Title, Summary: sc.Summary, Current: -1}
	st.Steps = make([]pane.StoryStep, len(sc.Steps))
	for i, s := range sc.Steps {
		st.Steps[i] = pane.StoryStep{Title: s.Title, Say: s.Say, Watch: s.Watch}
	}
	if r == nil {
		return st
	}
	next, waiting := r.Next(), r.Waiting()
	for i, res := range r.Results() {
		if i >= len(st.Steps) {
			break
		}
		step := &st.Steps[i]
		step.State = pane.Held
		if !res.OK() {
			step.State = pane.Failed
		}
		if res.Err != nil {
			step.Err = res.Err.Error()
		}
		for _, c := range res.Checks {
			step.Checks = append(step.Checks, pane.StoryCheck{OK: c.OK, Want: c.Want, Got: c.Got})
		}
	}
	if waiting && next > 0 && next <= len(st.Steps) {
		st.Steps[next-1].State = pane.Playing
	}
	st.Current = min(next, len(st.Steps)) - 1
	return st
}

func (s *live) next() tea.Cmd {
	r, busy := s.ready()
	if r == nil {
		return busy
	}
	return func() tea.Msg {
		n := r.Next()
		w := r.Lab().World()
		switch {
		case r.Waiting() && w.Paused():
			s.queue(func() { w.SetPaused(false) })
			return noteMsg{text: fmt.Sprintf("step %d goes on · space pauses it", n)}
		case r.Waiting():
			return noteMsg{text: fmt.Sprintf("step %d is still playing · space pauses it · n again when it ends", n)}
		case n >= len(r.Scenario().Steps):
			return noteMsg{text: "the story is over · p goes back a step · r starts again"}
		}
		// steps start from a paused world, so they play as they would headless
		r.Lab().World().SetPaused(true)
		err := r.Begin()
		switch {
		case errors.Is(err, scenarios.ErrBusy):
			return noteMsg{text: "a step is still playing"}
		case errors.Is(err, scenarios.ErrFinished):
			return noteMsg{text: "the story is over · p goes back a step · r starts again"}
		case err != nil:
			return noteMsg{text: err.Error(), bad: true}
		}
		return nil
	}
}

func (s *live) back() tea.Cmd {
	r, busy := s.ready()
	if r == nil {
		return busy
	}
	k := r.Next() - 1
	if k < 0 {
		return note("already at the start", false)
	}
	return s.build(k, fmt.Sprintf("going back to step %d…", k+1))
}

// reset starts the story again; a scenario file is read again first, so
// what was fixed in it since is what plays.
func (s *live) reset() tea.Cmd {
	if s.reload == nil {
		return s.build(0, "starting again…")
	}
	// reading and checking the file takes time: off the UI loop
	return func() tea.Msg {
		sc, err := s.reload()
		if err != nil {
			return noteMsg{text: "the scenario file could not be read again: " + err.Error(), bad: true}
		}
		s.mu.Lock()
		s.sc = sc
		s.mu.Unlock()
		if b := s.build(0, "starting "+sc.Pos.File+" again…"); b != nil {
			return b()
		}
		return nil
	}
}

func (s *live) playPause() tea.Cmd {
	r := s.runner()
	if r == nil {
		return nil
	}
	w := r.Lab().World()
	s.queue(func() { w.SetPaused(!w.Paused()) })
	return nil
}

func (s *live) faster(up bool) tea.Cmd {
	s.mu.Lock()
	s.speed = nextSpeed(s.speed, up)
	v := s.speed
	r := s.r
	s.mu.Unlock()
	if r != nil {
		w := r.Lab().World()
		s.queue(func() { w.SetSpeed(v) })
	}
	return note("speed "+pane.Speed(v), false)
}

// queue hands a control change to the control goroutine without blocking
// the UI; a full queue (someone holding + down) drops the change.
func (s *live) queue(fn func()) {
	select {
	case s.ctl <- fn:
	default:
	}
}

func (s *live) exec(line string) tea.Cmd {
	r, busy := s.ready()
	if r == nil {
		return busy
	}
	return func() tea.Msg {
		if s.remote != nil {
			if out, ok, err := s.remote.command(line); ok {
				if err != nil {
					return noteMsg{text: err.Error(), bad: true, console: []string{"✗ " + err.Error()}}
				}
				if out == "" {
					out = "done: " + line
				}
				return noteMsg{text: out, console: []string{out}}
			}
		}
		out, err := r.Lab().Exec(line)
		if err != nil {
			return noteMsg{text: err.Error(), bad: true, console: []string{"✗ " + err.Error()}}
		}
		s.mu.Lock()
		if s.r == r {
			s.typed = append(s.typed, line)
		}
		s.mu.Unlock()
		out = strings.TrimRight(out, "\n")
		text := out
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[:i] + " …"
		}
		if text == "" {
			text = "done: " + line
		}
		if r.Lab().World().Paused() && waitsForTheClock(line) {
			out = strings.TrimLeft(out+"\n"+pausedHint, "\n")
			text += " · " + pausedHint
		}
		var lines []string
		if out != "" {
			lines = strings.Split(out, "\n")
		}
		return noteMsg{text: text, console: lines}
	}
}

// pausedHint is added to what a command answers when its effect waits for
// a clock that is paused.
const pausedHint = "⏸ the clock is paused: this goes on when it runs (space resumes)"

// waitsForTheClock reports whether a command's effect unfolds in virtual
// time (an update's fetch, a container's loops, a boot).
func waitsForTheClock(line string) bool {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "update", "grant", "revoke", "start", "restart", "power-on":
		return true
	}
	return false
}

func (s *live) complete(line string) []string {
	r := s.runner()
	if r == nil {
		return nil
	}
	return r.Lab().Complete(line)
}

func (s *live) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	r, rd, stop := s.r, s.rd, s.stop
	s.r = nil
	s.mu.Unlock()
	close(s.done)
	if r != nil {
		stop()
		rd.Close()
		r.Close()
	}
	if s.remote != nil {
		s.remote.close()
	}
}

// note is a command reporting text at once.
func note(text string, bad bool) tea.Cmd {
	return func() tea.Msg { return noteMsg{text: text, bad: bad} }
}
