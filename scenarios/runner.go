package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/lab/sim"
)

// StepStarted is published when a step begins: the narration in the
// transcript, beside the events it explains.
type StepStarted struct {
	Index int    `json:"step"`
	Total int    `json:"of"`
	Title string `json:"title"`
	Say   string `json:"say"`
	Watch string `json:"watch,omitempty"`
	// About is the device, or DEVICE/UID the container, the step is about.
	About string `json:"about,omitempty"`
}

// Started is the first record of a scenario's transcript: what is played.
type Started struct {
	Name  string `json:"scenario"`
	Title string `json:"title"`
	Seed  uint64 `json:"seed"`
	Steps int    `json:"steps"`
}

// Checked is published for each expectation at the end of a step.
type Checked struct {
	Index int    `json:"step"`
	OK    bool   `json:"ok"`
	Want  string `json:"want"`
	Got   string `json:"got,omitempty"`
	At    string `json:"at"` // file:line of the expectation
}

// Kinds of the runner's transcript records.
var (
	KindScenario = device.RegisterKind[Started]("scenario")
	KindStep     = device.RegisterKind[StepStarted]("step")
	KindChecked  = device.RegisterKind[Checked]("expect")
)

func (Started) Kind() device.Kind { return KindScenario }
func (s Started) String() string {
	return fmt.Sprintf("scenario %s: %s (seed %d, %d steps)", s.Name, s.Title, s.Seed, s.Steps)
}

func (StepStarted) Kind() device.Kind { return KindStep }
func (s StepStarted) String() string {
	return fmt.Sprintf("step %d/%d: %s", s.Index, s.Total, s.Title)
}
func (Checked) Kind() device.Kind { return KindChecked }
func (c Checked) String() string {
	if c.OK {
		return "✓ " + c.Want
	}
	return "✗ " + c.Want + ": " + c.Got
}

// Check is one expectation's outcome.
type Check struct {
	Expect Expect
	OK     bool
	Want   string // what was expected, in words
	Got    string // what was found, when it failed
}

// StepResult is the outcome of one step.
type StepResult struct {
	Index  int // from 1
	Step   *Step
	Checks []Check
	Err    error // an action that failed, or a wait that timed out
	Start  time.Duration
	End    time.Duration
}

// OK reports whether the step's actions ran and every expectation held.
func (s StepResult) OK() bool {
	if s.Err != nil {
		return false
	}
	for _, c := range s.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failure describes the first thing that went wrong, with its position.
func (s StepResult) Failure() string {
	if s.Err != nil {
		return fmt.Sprintf("step %d (%s): %v", s.Index, s.Step.Title, s.Err)
	}
	for _, c := range s.Checks {
		if !c.OK {
			return fmt.Sprintf("step %d (%s), %s: expected %s, got %s", s.Index, s.Step.Title, c.Expect.Pos, c.Want, c.Got)
		}
	}
	return ""
}

// Options configure a run.
type Options struct {
	Seed     *uint64 // overrides the scenario's seed
	Mode     sim.Mode
	Speed    float64
	StateDir string
	Host     string
	Quiet    bool   // devices without sockets (big fleets)
	Gateway  string // address of the lab's gateway endpoint (RD, /lab/devices); "" none
	// Runtimes are the devices' container runtimes (nil: the built-in ones),
	// e.g. device.RuntimesWithEngine to run wasm on one wazero engine.
	Runtimes map[firewall.RuntimeType]device.Runtime
	// Setup is called with the new lab before any device boots: attach a
	// recorder or a printer there to see the whole story.
	Setup func(l *lab.Lab)
}

// Runner plays a scenario on its own lab.
type Runner struct {
	sc   *Scenario
	lab  *lab.Lab
	opts Options

	mu      sync.Mutex
	next    int // index of the next step
	waiting bool
	results []StepResult

	// in the world
	events    []device.Event  // since the current step began, of the devices it checks
	watched   map[string]bool // the devices the current step's expectations name
	stepStart time.Duration
	capture   func()
	done      chan StepResult
}

// boardsPerSocket is how many boards of a fleet share one socket.
const boardsPerSocket = 256

// ErrFinished is returned when every step has been played.
var ErrFinished = errors.New("the scenario is finished")

// ErrBusy is returned when a step is still running.
var ErrBusy = errors.New("a step is still running")

// NewRunner builds the scenario's lab and returns a runner before its first step.
func NewRunner(sc *Scenario, o Options) (*Runner, error) {
	seed := sc.Seed
	if o.Seed != nil {
		seed = *o.Seed
	}
	// The lab is built at virtual time 0 in Fast mode, then paced runs wait,
	// paused, for their first step: building never lets wall time in.
	// Fleets share sockets, a few hundred boards each, so that 10,000
	// boards stay far under the process's open-file limit.
	per := 0
	if len(sc.DeviceIDs()) > boardsPerSocket {
		per = boardsPerSocket
	}
	l, err := lab.New(lab.Options{Seed: seed, Mode: sim.Fast, StateDir: o.StateDir, Host: o.Host, Quiet: o.Quiet, BoardsPerSocket: per, Runtimes: o.Runtimes, Gateway: o.Gateway})
	if err != nil {
		return nil, err
	}
	r := &Runner{sc: sc, lab: l, opts: o, done: make(chan StepResult, len(sc.Steps))}
	// Only the events a step's expectations read are kept: a fleet's
	// heartbeats would otherwise pile up for the whole step.
	r.capture = l.Bus().Sink(func(e device.Event) {
		if r.watched[e.Device] {
			r.events = append(r.events, e)
		}
	})
	if o.Setup != nil {
		o.Setup(l)
	}
	l.Bus().Publish(device.Event{Device: "scenario", Data: Started{Name: sc.Name, Title: sc.Title, Seed: seed, Steps: len(sc.Steps)}})
	if err := sc.populate(l, per > 0); err != nil {
		r.Close()
		return nil, err
	}
	if o.Speed > 0 {
		l.World().SetSpeed(o.Speed)
	}
	if o.Mode == sim.Paced {
		l.World().SetPaused(true)
		l.World().SetMode(sim.Paced)
	}
	return r, nil
}

// Close stops the lab.
func (r *Runner) Close() {
	r.capture()
	r.lab.Close()
}

// Lab is the runner's lab.
func (r *Runner) Lab() *lab.Lab { return r.lab }

// Scenario is the scenario played.
func (r *Runner) Scenario() *Scenario { return r.sc }

// Next is the index (from 0) of the step that runs next; len(Steps) when done.
func (r *Runner) Next() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// Waiting reports whether a paced step is still running.
func (r *Runner) Waiting() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waiting
}

// Results are the outcomes of the steps played so far.
func (r *Runner) Results() []StepResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StepResult(nil), r.results...)
}

// Done delivers each paced step's result when its wait ends; it holds every
// step's result, so none is lost when nobody reads at once.
func (r *Runner) Done() <-chan StepResult { return r.done }

// begin starts the next step: narration, then its actions.
func (r *Runner) begin() (int, *Step, error) {
	r.mu.Lock()
	if r.waiting {
		r.mu.Unlock()
		return 0, nil, ErrBusy
	}
	if r.next >= len(r.sc.Steps) {
		r.mu.Unlock()
		return 0, nil, ErrFinished
	}
	i := r.next
	r.next++
	r.waiting = true
	r.mu.Unlock()
	st := &r.sc.Steps[i]
	w := r.lab.World()
	w.Do(func() {
		r.events = r.events[:0]
		r.watched = st.devices()
		r.stepStart = w.Now()
		r.lab.Bus().Publish(device.Event{At: w.Now(), Device: "scenario", Seq: uint64(i + 1),
			Data: StepStarted{Index: i + 1, Total: len(r.sc.Steps), Title: st.Title, Say: st.Say, Watch: st.Watch, About: st.About.String()}})
	})
	for _, a := range st.Do {
		if _, err := r.lab.Exec(a.Line); err != nil {
			return i, st, fmt.Errorf("%s: %q: %w", a.Pos, a.Line, err)
		}
	}
	return i, st, nil
}

// devices are the devices the step's expectations and wait name.
func (st *Step) devices() map[string]bool {
	m := map[string]bool{}
	for _, e := range st.Expect {
		m[e.Device] = true
	}
	if st.Wait.Until != nil {
		m[st.Wait.Until.Device] = true
	}
	return m
}

// limit is when the step's wait ends at the latest.
func (st *Step) limit(start time.Duration) time.Duration {
	if st.Wait.Until != nil {
		return start + max(st.Wait.For, st.Wait.Timeout)
	}
	return start + st.Wait.For
}

// Step plays the next step to its end (Fast mode) and returns its result.
func (r *Runner) Step(ctx context.Context) (StepResult, error) {
	i, st, err := r.begin()
	if errors.Is(err, ErrFinished) || errors.Is(err, ErrBusy) {
		return StepResult{}, err
	}
	w := r.lab.World()
	res := StepResult{Index: i + 1, Step: st, Start: r.stepStart, Err: err}
	if err == nil {
		limit := st.limit(r.stepStart)
		if st.Wait.Until == nil {
			err = w.RunUntil(ctx, limit)
		} else {
			if err = w.RunUntil(ctx, r.stepStart+st.Wait.For); err == nil {
				var met bool
				met, err = w.RunWhile(ctx, limit, func() bool { return !r.check(*st.Wait.Until).OK })
				if err == nil && !met {
					res.Err = r.timedOut(st)
				}
			}
		}
		if err != nil {
			return res, err
		}
	}
	r.finish(&res)
	return res, nil
}

func (r *Runner) timedOut(st *Step) error {
	var c Check
	r.lab.World().Do(func() { c = r.check(*st.Wait.Until) })
	return fmt.Errorf("%s: waited %s for %s: %s", st.Wait.Until.Pos, st.Wait.Timeout, c.Want, c.Got)
}

// finish checks a step's expectations (outside the world) and records it.
func (r *Runner) finish(res *StepResult) {
	w := r.lab.World()
	w.Do(func() { r.evaluate(res) })
	r.mu.Lock()
	r.results = append(r.results, *res)
	r.waiting = false
	r.mu.Unlock()
}

// evaluate checks the expectations and publishes them. World held.
func (r *Runner) evaluate(res *StepResult) {
	w := r.lab.World()
	res.End = w.Now()
	for _, e := range res.Step.Expect {
		c := r.check(e)
		res.Checks = append(res.Checks, c)
		r.lab.Bus().Publish(device.Event{At: w.Now(), Device: "scenario", Seq: uint64(res.Index),
			Data: Checked{Index: res.Index, OK: c.OK, Want: c.Want, Got: c.Got, At: e.Pos.String()}})
	}
}

// Begin starts the next step in Paced mode: it performs the step's actions
// (real CoAP exchanges: call it off a UI's event loop), then lets the world
// run on (World().Run must be going) and returns; the world pauses itself
// when the step's wait ends, and the result arrives on Done.
func (r *Runner) Begin() error {
	i, st, err := r.begin()
	if errors.Is(err, ErrFinished) || errors.Is(err, ErrBusy) {
		return err
	}
	res := StepResult{Index: i + 1, Step: st, Start: r.stepStart, Err: err}
	w := r.lab.World()
	deliver := func() {
		r.mu.Lock()
		r.results = append(r.results, res)
		r.waiting = false
		r.mu.Unlock()
		select {
		case r.done <- res:
		default:
		}
	}
	if err != nil {
		w.Do(func() { r.evaluate(&res) })
		deliver()
		return nil
	}
	// The world is paused between steps: nothing runs between this Do and
	// SetBreak below.
	immediate := false
	var cond func() bool
	var end func()
	w.Do(func() {
		timedOut, minDone := false, st.Wait.For == 0
		minTimer := w.At(r.stepStart+st.Wait.For, func() { minDone = true })
		deadline := w.At(st.limit(r.stepStart), func() { timedOut = true })
		// The wait ends as Fast mode's does: at the deadline once every
		// timer due at that instant has run, or as soon as the condition holds.
		cond = func() bool {
			atDeadline := timedOut && !w.DueNow()
			if st.Wait.Until == nil {
				return atDeadline
			}
			return minDone && (atDeadline || r.check(*st.Wait.Until).OK)
		}
		end = func() {
			minTimer.Stop()
			deadline.Stop()
			if st.Wait.Until != nil && !r.check(*st.Wait.Until).OK {
				c := r.check(*st.Wait.Until)
				res.Err = fmt.Errorf("%s: waited %s for %s: %s", st.Wait.Until.Pos, st.Wait.Timeout, c.Want, c.Got)
			}
			r.evaluate(&res)
			go deliver()
		}
		if st.Wait.For == 0 && (st.Wait.Until == nil || r.check(*st.Wait.Until).OK) {
			immediate = true
			end()
		}
	})
	if !immediate {
		w.SetBreak(cond, end)
		w.SetPaused(false)
	}
	return nil
}

// Play runs every remaining step in Fast mode, calling onStep after each,
// and stops at the first step that fails. It returns the failing result's
// error (nil when the whole story held).
func (r *Runner) Play(ctx context.Context, onStep func(StepResult)) error {
	for {
		res, err := r.Step(ctx)
		if errors.Is(err, ErrFinished) {
			return nil
		}
		if err != nil {
			return err
		}
		if onStep != nil {
			onStep(res)
		}
		if !res.OK() {
			return &StepError{Result: res}
		}
	}
}

// StepError is a step whose actions or expectations failed.
type StepError struct{ Result StepResult }

func (e *StepError) Error() string { return e.Result.Failure() }

// Summary is a one-line account of the steps played.
func (r *Runner) Summary() string {
	res := r.Results()
	ok := 0
	for _, s := range res {
		if s.OK() {
			ok++
		}
	}
	return fmt.Sprintf("%s: %d of %d steps held (%s virtual)", r.sc.Name, ok, len(r.sc.Steps), device.FormatDuration(r.lab.Now()))
}

// Rewind builds the scenario's lab afresh and plays its first k steps in
// Fast mode, then returns the runner paused at the start of step k+1 in the
// mode o asks for: the presenter's "previous step" re-runs deterministically
// to where the story was (what a tester did by hand is not replayed).
func Rewind(ctx context.Context, sc *Scenario, o Options, k int) (*Runner, error) {
	mode := o.Mode
	o.Mode = sim.Fast
	r, err := NewRunner(sc, o)
	if err != nil {
		return nil, err
	}
	for r.Next() < k {
		res, err := r.Step(ctx)
		if err != nil {
			r.Close()
			return nil, err
		}
		if !res.OK() {
			r.Close()
			return nil, &StepError{Result: res}
		}
	}
	r.opts.Mode = mode
	if mode == sim.Paced {
		w := r.lab.World()
		w.SetPaused(true)
		w.SetMode(sim.Paced)
	}
	return r, nil
}
