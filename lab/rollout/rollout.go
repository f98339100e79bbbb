package rollout

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tinylab/device"
)

// Percent is a share in hundredths of a percent (150 is 1.5%), so that
// wave sizes and thresholds are exact integers and runs repeat.
type Percent int

// ParsePercent reads "5%", "0.5%" or "5" (a percent).
func ParsePercent(s string) (Percent, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("%w: %q: a percentage from 0%% to 100%%, like 5%% or 0.5%%", ErrSpec, s)
	}
	return Percent(v*100 + 0.5), nil
}

func (p Percent) String() string {
	if p%100 == 0 {
		return strconv.Itoa(int(p)/100) + "%"
	}
	return strconv.FormatFloat(float64(p)/100, 'f', -1, 64) + "%"
}

// of is how many of n the share is, rounded up.
func (p Percent) of(n int) int { return (int(p)*n + 9999) / 10000 }

// exceeded reports whether failed of n is above the share.
func (p Percent) exceeded(failed, n int) bool { return n > 0 && failed*10000 > int(p)*n }

// DeviceState is where one device of a campaign is.
type DeviceState uint8

const (
	Pending   DeviceState = iota // not triggered yet
	Fetching                     // triggered: fetching, verifying, installing
	Installed                    // the update installed and its container has not failed
	Failed                       // the update failed, or the container went FAILED afterwards
	Offline                      // powered off during its update
	nStates
)

var deviceStateNames = [...]string{"pending", "fetching", "installed", "failed", "offline"}

func (s DeviceState) String() string {
	if s < nStates {
		return deviceStateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

func (s DeviceState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *DeviceState) UnmarshalText(b []byte) error {
	i := slices.Index(deviceStateNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown device state %q", b)
	}
	*s = DeviceState(i)
	return nil
}

// State is where the campaign is.
type State uint8

const (
	Rolling     State = iota // a wave's devices are updating
	Observing                // a wave has its outcomes and is watched for the pause
	Halted                   // a wave crossed the halt share; the operator decides
	Aborted                  // the operator stopped it; nothing more is sent
	Completed                // every wave went out and was watched
	RollingBack              // the previous version is going out
	RolledBack               // the previous version is back
)

var stateNames = [...]string{"rolling", "observing", "halted", "aborted", "completed", "rolling-back", "rolled-back"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// ParseState reads a state name as String writes it.
func ParseState(name string) (State, bool) {
	i := slices.Index(stateNames[:], name)
	return State(i), i >= 0
}

func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s *State) UnmarshalText(b []byte) error {
	v, ok := ParseState(string(b))
	if !ok {
		return fmt.Errorf("unknown campaign state %q", b)
	}
	*s = v
	return nil
}

// Over reports whether the campaign will send nothing more by itself.
func (s State) Over() bool { return s == Aborted || s == Completed || s == RolledBack }

// Errors of the operator's commands.
var (
	ErrSpec  = errors.New("bad rollout")
	ErrState = errors.New("not possible now")
)

// Spec is a campaign as the operator asks for it.
type Spec struct {
	Name      string   // the campaign's name in the transcript ("delivery-v2")
	Container string   // the container's uid
	Release   string   // the definition sent
	Seq       uint64   // its sequence number
	From      string   // the definition a rollback sends
	Targets   []string // device ids, in the order waves take them
	Canary    Percent  // the first wave's share (0: no canary)
	Waves     []Percent
	HaltOn    Percent       // halt when failed devices of a wave exceed this share
	Pause     time.Duration // the observation window after each wave
	To        string        // the pattern Targets matched, for the transcript
}

// Wave is one wave of the campaign.
type Wave struct {
	Name     string
	Share    Percent // cumulative share of the targets (0 for the rollback)
	Rollback bool
	Devices  []int // indices in Spec.Targets
	Counts   [nStates]int
	Reasons  map[string]int // failure reasons of the wave's failed devices
	Started  bool
	Accepted bool // a resume accepted its failures: it halts no more
	Until    time.Duration
}

// Count is how many of the wave's devices are in a state.
func (w *Wave) Count(s DeviceState) int { return w.Counts[s] }

// Done reports whether every device of the wave has an outcome.
func (w *Wave) Done() bool { return w.Counts[Pending] == 0 && w.Counts[Fetching] == 0 }

type failKind uint8

const (
	noFailure failKind = iota
	updateFailure
	containerFailure
)

type dev struct {
	wave     int
	state    DeviceState
	reason   string
	failedAt time.Duration
	kind     failKind
	inflight bool // triggered by the campaign, no result yet
	queued   bool // to trigger again once the update in flight ends
	touched  bool
}

// Actions is what the lab must do after an input.
type Actions struct {
	Release string   // the definition to send
	Seq     uint64   // its sequence number
	Trigger []string // devices to trigger with it, now
	Wake    time.Duration
}

// Campaign is one rollout.
type Campaign struct {
	spec  Spec
	emit  func(device.Payload)
	state State
	cur   int // index of the current wave
	waves []*Wave
	devs  []dev
	index map[string]int
	rbSeq uint64 // the rollback's sequence number, once sent
}

// New checks a spec and lays out its waves. emit receives every step.
func New(spec Spec, emit func(device.Payload)) (*Campaign, error) {
	if len(spec.Targets) == 0 {
		return nil, fmt.Errorf("%w: no device matches", ErrSpec)
	}
	if spec.Release == "" || spec.Container == "" {
		return nil, fmt.Errorf("%w: no release", ErrSpec)
	}
	shares := spec.Waves
	if len(shares) == 0 {
		shares = []Percent{10000}
	}
	if spec.Canary > 0 {
		shares = append([]Percent{spec.Canary}, shares...)
	}
	c := &Campaign{spec: spec, emit: emit, devs: make([]dev, len(spec.Targets)), index: make(map[string]int, len(spec.Targets))}
	for i, id := range spec.Targets {
		if _, dup := c.index[id]; dup {
			return nil, fmt.Errorf("%w: device %s listed twice", ErrSpec, id)
		}
		c.index[id] = i
	}
	n, prev := len(spec.Targets), 0
	for i, s := range shares {
		if s <= 0 || i > 0 && s <= shares[i-1] {
			return nil, fmt.Errorf("%w: wave shares must grow (%s after %s)", ErrSpec, s, shares[max(i-1, 0)])
		}
		upto := min(max(s.of(n), prev+1), n)
		if upto <= prev {
			continue
		}
		w := &Wave{Name: fmt.Sprintf("wave %d", len(c.waves)+1), Share: s, Reasons: map[string]int{}}
		if spec.Canary > 0 && i == 0 {
			w.Name = "canary"
		}
		for d := prev; d < upto; d++ {
			w.Devices = append(w.Devices, d)
			c.devs[d].wave = len(c.waves)
		}
		w.Counts[Pending] = len(w.Devices)
		c.waves = append(c.waves, w)
		prev = upto
	}
	return c, nil
}

// Spec is what the campaign was asked to do.
func (c *Campaign) Spec() Spec { return c.spec }

// State is where the campaign is.
func (c *Campaign) State() State { return c.state }

// Waves are the campaign's waves (the rollback last, once sent); read only.
func (c *Campaign) Waves() []*Wave { return c.waves }

// Current is the index of the current wave.
func (c *Campaign) Current() int { return c.cur }

// Device is where a target is, and why when it failed.
func (c *Campaign) Device(id string) (DeviceState, string, bool) {
	i, ok := c.index[id]
	if !ok {
		return 0, "", false
	}
	return c.devs[i].state, c.devs[i].reason, true
}

// DeviceAt is the state of the i-th target.
func (c *Campaign) DeviceAt(i int) DeviceState { return c.devs[i].state }

// Start sends the first wave.
func (c *Campaign) Start(now time.Duration) Actions {
	sizes := make([]string, len(c.waves))
	plan := &Plan{Release: c.spec.Release, Seq: c.spec.Seq, From: c.spec.From, To: c.spec.To, HaltOn: c.spec.HaltOn}
	for i, w := range c.waves {
		sizes[i] = fmt.Sprintf("%s %d", w.Name, len(w.Devices))
		plan.Waves = append(plan.Waves, WavePlan{Name: w.Name, Share: w.Share, Devices: len(w.Devices)})
	}
	c.step(Step{What: StepStarted, Devices: len(c.devs), Plan: plan,
		Detail: fmt.Sprintf("%s (seq %d) to %d devices: %s; halt above %s failed per wave; watch each wave %s",
			c.spec.Release, c.spec.Seq, len(c.devs), strings.Join(sizes, ", "), c.spec.HaltOn, device.FormatDuration(c.spec.Pause))})
	var a Actions
	c.startWave(now, 0, &a)
	return a
}

func (c *Campaign) release() (string, uint64) {
	if c.rbSeq > 0 {
		return c.spec.From, c.rbSeq
	}
	return c.spec.Release, c.spec.Seq
}

func (c *Campaign) startWave(now time.Duration, i int, a *Actions) {
	c.cur = i
	w := c.waves[i]
	w.Started = true
	c.state = Rolling
	if w.Rollback {
		c.state = RollingBack
	}
	c.step(Step{What: StepWave, Wave: i + 1, Name: w.Name, Devices: len(w.Devices)})
	for _, d := range w.Devices {
		c.trigger(d, a)
	}
	c.checkDone(now, a)
}

// trigger sends the current release to a device (or queues it behind the
// update in flight).
func (c *Campaign) trigger(i int, a *Actions) {
	d := &c.devs[i]
	d.touched = true
	if d.inflight {
		d.queued = true
		return
	}
	c.set(i, Fetching, "")
	d.inflight = true
	a.Release, a.Seq = c.release()
	a.Trigger = append(a.Trigger, c.spec.Targets[i])
}

// set moves a device to a state in its wave, keeping the counts.
func (c *Campaign) set(i int, s DeviceState, reason string) {
	d := &c.devs[i]
	w := c.waves[d.wave]
	w.Counts[d.state]--
	if d.state == Failed {
		if w.Reasons[d.reason]--; w.Reasons[d.reason] <= 0 {
			delete(w.Reasons, d.reason)
		}
	}
	d.state, d.reason = s, reason
	w.Counts[s]++
	if s == Failed {
		w.Reasons[reason]++
	} else {
		d.kind = noFailure
	}
}

// ObsKind is what the lab saw happen to a device.
type ObsKind uint8

const (
	UpdateOK        ObsKind = iota // the update installed
	UpdateFailed                   // the update failed (Reason) or its trigger was refused
	ContainerFailed                // the campaign's container went FAILED (Reason)
	PowerOff
	PowerOn
)

var obsNames = [...]string{"update-ok", "update-failed", "container-failed", "power-off", "power-on"}

func (k ObsKind) String() string {
	if int(k) < len(obsNames) {
		return obsNames[k]
	}
	return "obs(" + strconv.Itoa(int(k)) + ")"
}

// Observation is one thing that happened to a device.
type Observation struct {
	Device string
	What   ObsKind
	Reason string
}

// Observe takes what happened to devices at virtual time now. The lab
// hands over everything of one instant together, so that a device that
// reports its interrupted update and then goes dark (a power cut) is seen
// offline before the halt share is checked.
func (c *Campaign) Observe(now time.Duration, obs ...Observation) Actions {
	var a Actions
	waves := map[int]bool{}
	for _, o := range obs {
		if i, ok := c.index[o.Device]; ok {
			waves[c.devs[i].wave] = true
			c.observe(now, i, o, &a)
		}
	}
	for wi := range c.waves {
		if waves[wi] {
			c.checkHalt(now, wi)
		}
	}
	c.checkDone(now, &a)
	return a
}

func (c *Campaign) observe(now time.Duration, i int, o Observation, a *Actions) {
	d := &c.devs[i]
	switch o.What {
	case UpdateOK, UpdateFailed:
		if !d.inflight {
			return // not an update the campaign sent
		}
		d.inflight = false
		if d.queued {
			// The result of what was sent before a rollback or a retry:
			// the device now gets what the campaign sends today.
			d.queued = false
			c.set(i, Fetching, "")
			d.inflight = true
			a.Release, a.Seq = c.release()
			a.Trigger = append(a.Trigger, o.Device)
			return
		}
		if o.What == UpdateOK {
			c.outcome(now, i, Installed, "")
		} else {
			d.failedAt, d.kind = now, updateFailure
			c.outcome(now, i, Failed, o.Reason)
		}
	case ContainerFailed:
		if d.state != Installed {
			return // the old version failing, or one failure counted already
		}
		d.failedAt, d.kind = now, containerFailure
		c.outcome(now, i, Failed, o.Reason)
	case PowerOff:
		switch {
		case d.inflight:
			d.inflight, d.queued = false, false
			c.outcome(now, i, Offline, "powered off during the update")
		case d.state == Failed && d.kind == updateFailure && d.failedAt == now:
			// The device reported its interrupted update just before it
			// went dark: the power cut, not the release, ended it.
			c.outcome(now, i, Offline, "powered off during the update")
		}
	case PowerOn:
		if d.state == Offline && (c.state == Rolling || c.state == Observing || c.state == RollingBack) && c.waves[d.wave].Started {
			c.trigger(i, a)
			c.deviceStep(i)
		}
	}
}

func (c *Campaign) outcome(now time.Duration, i int, s DeviceState, reason string) {
	c.set(i, s, reason)
	c.deviceStep(i)
}

func (c *Campaign) deviceStep(i int) {
	d := &c.devs[i]
	c.emit(DeviceOutcome{Campaign: c.spec.Name, Device: c.spec.Targets[i], Wave: d.wave + 1, State: d.state, Reason: d.reason})
}

// checkHalt halts the campaign when a wave's failures exceed the share.
func (c *Campaign) checkHalt(now time.Duration, wi int) {
	w := c.waves[wi]
	if (c.state != Rolling && c.state != Observing) || w.Rollback || w.Accepted || !c.spec.HaltOn.exceeded(w.Counts[Failed], len(w.Devices)) {
		return
	}
	c.state = Halted
	c.step(Step{What: StepHalted, Wave: wi + 1, Name: w.Name, Devices: len(w.Devices), Failed: w.Counts[Failed],
		Detail: fmt.Sprintf("%d of %d failed (%s > %s): %s", w.Counts[Failed], len(w.Devices),
			share(w.Counts[Failed], len(w.Devices)), c.spec.HaltOn, FormatReasons(w.Reasons))})
}

func share(k, n int) string {
	if n == 0 {
		return "0%"
	}
	return strconv.FormatFloat(float64(k)*100/float64(n), 'f', 1, 64) + "%"
}

// checkDone starts the observation window of a wave that has every outcome.
func (c *Campaign) checkDone(now time.Duration, a *Actions) {
	w := c.waves[c.cur]
	if (c.state != Rolling && c.state != RollingBack) || !w.Done() {
		return
	}
	if c.state == Rolling {
		c.state = Observing
	}
	w.Until = now + c.spec.Pause
	a.Wake = w.Until
	c.step(Step{What: StepObserving, Wave: c.cur + 1, Name: w.Name, Devices: len(w.Devices), Failed: w.Counts[Failed],
		Detail: fmt.Sprintf("%d installed, %d failed, %d offline; watching until %s", w.Counts[Installed], w.Counts[Failed], w.Counts[Offline], device.FormatDuration(w.Until))})
}

// Tick is the wake-up Actions asked for.
func (c *Campaign) Tick(now time.Duration) Actions {
	var a Actions
	w := c.waves[c.cur]
	if !w.Done() || now < w.Until {
		return a
	}
	switch {
	case c.state == Observing:
		c.step(Step{What: StepWaveDone, Wave: c.cur + 1, Name: w.Name, Devices: len(w.Devices), Failed: w.Counts[Failed], Detail: c.counts(w)})
		c.next(now, &a)
	case c.state == RollingBack:
		c.state = RolledBack
		c.step(Step{What: StepRolledBack, Wave: c.cur + 1, Name: w.Name, Devices: len(w.Devices), Failed: w.Counts[Failed], Detail: c.counts(w)})
	}
	return a
}

func (c *Campaign) next(now time.Duration, a *Actions) {
	if c.cur+1 < len(c.waves) && !c.waves[c.cur+1].Rollback {
		c.startWave(now, c.cur+1, a)
		return
	}
	c.state = Completed
	total := [nStates]int{}
	for _, d := range c.devs {
		total[d.state]++
	}
	c.step(Step{What: StepCompleted, Devices: len(c.devs), Failed: total[Failed],
		Detail: fmt.Sprintf("%d installed, %d failed, %d offline", total[Installed], total[Failed], total[Offline])})
}

func (c *Campaign) counts(w *Wave) string {
	s := fmt.Sprintf("%d installed, %d failed, %d offline", w.Counts[Installed], w.Counts[Failed], w.Counts[Offline])
	if len(w.Reasons) > 0 {
		s += ": " + FormatReasons(w.Reasons)
	}
	return s
}

// Resume accepts the halted wave's failures and goes on.
func (c *Campaign) Resume(now time.Duration) (Actions, error) {
	var a Actions
	if c.state != Halted {
		return a, fmt.Errorf("%w: resume: the campaign is %s, not halted", ErrState, c.state)
	}
	for _, w := range c.waves {
		if w.Started && !w.Rollback && c.spec.HaltOn.exceeded(w.Counts[Failed], len(w.Devices)) {
			w.Accepted = true
		}
	}
	c.state = Rolling
	c.step(Step{What: StepResumed, Wave: c.cur + 1, Name: c.waves[c.cur].Name})
	// Offline devices of started waves get another chance.
	for _, w := range c.waves[:c.cur+1] {
		for _, i := range w.Devices {
			if c.devs[i].state == Offline {
				c.trigger(i, &a)
			}
		}
	}
	if w := c.waves[c.cur]; w.Done() {
		c.next(now, &a)
	}
	return a, nil
}

// Abort stops the campaign: nothing more is sent; updates in flight end
// as they will and are still counted.
func (c *Campaign) Abort(now time.Duration) error {
	switch c.state {
	case Rolling, Observing, Halted:
	default:
		return fmt.Errorf("%w: abort: the campaign is %s", ErrState, c.state)
	}
	c.state = Aborted
	c.step(Step{What: StepAborted, Wave: c.cur + 1, Name: c.waves[c.cur].Name})
	return nil
}

// Retry triggers again every failed and offline device of the waves sent
// so far (of the rollback, once rolling back). The campaign's state is
// left as it is: a halted campaign stays halted until resumed.
func (c *Campaign) Retry(now time.Duration) (Actions, error) {
	var a Actions
	if c.state == Aborted || c.state == RolledBack {
		return a, fmt.Errorf("%w: retry: the campaign is %s", ErrState, c.state)
	}
	first := 0
	if c.waves[c.cur].Rollback {
		first = c.cur
	}
	n := 0
	for _, w := range c.waves[first : c.cur+1] {
		for _, i := range w.Devices {
			if s := c.devs[i].state; s == Failed || s == Offline {
				c.trigger(i, &a)
				n++
			}
		}
	}
	if n == 0 {
		return a, fmt.Errorf("%w: retry: no failed or offline device", ErrState)
	}
	if c.state == Observing || c.state == Completed {
		c.state = Rolling
	}
	c.step(Step{What: StepRetried, Wave: c.cur + 1, Name: c.waves[c.cur].Name, Devices: n})
	return a, nil
}

// Rollback sends the previous version (the From definition, published with
// sequence number seq, above the release's) to every device the campaign
// touched, in one wave.
func (c *Campaign) Rollback(now time.Duration, seq uint64) (Actions, error) {
	var a Actions
	if c.state == RollingBack || c.state == RolledBack {
		return a, fmt.Errorf("%w: rollback: the campaign is %s", ErrState, c.state)
	}
	if c.spec.From == "" {
		return a, fmt.Errorf("%w: rollback: no previous version known for %s", ErrState, c.spec.Container)
	}
	if seq <= c.spec.Seq {
		return a, fmt.Errorf("%w: rollback: sequence %d is not above the release's %d (SUIT refuses a downgrade by sequence)", ErrSpec, seq, c.spec.Seq)
	}
	w := &Wave{Name: "rollback", Rollback: true, Reasons: map[string]int{}}
	idx := len(c.waves)
	for i := range c.devs {
		if c.devs[i].touched {
			w.Devices = append(w.Devices, i)
		}
	}
	c.waves = append(c.waves, w)
	// Each touched device leaves its wave's counts as history and starts
	// pending in the rollback.
	for _, i := range w.Devices {
		d := &c.devs[i]
		d.wave, d.state, d.reason, d.kind = idx, Pending, "", noFailure
		w.Counts[Pending]++
	}
	c.rbSeq = seq
	c.step(Step{What: StepRollback, Wave: idx + 1, Name: w.Name, Devices: len(w.Devices),
		Plan:   &Plan{Release: c.spec.From, Seq: seq, HaltOn: c.spec.HaltOn, Waves: []WavePlan{{Name: w.Name, Devices: len(w.Devices)}}},
		Detail: fmt.Sprintf("%s as seq %d (above %d)", c.spec.From, seq, c.spec.Seq)})
	c.startWave(now, idx, &a)
	if len(w.Devices) == 0 {
		c.state = RolledBack
	}
	return a, nil
}

// FormatReasons groups failure reasons, most frequent first:
// "watchdog ×12, digest mismatch ×3".
func FormatReasons(m map[string]int) string {
	type rc struct {
		r string
		n int
	}
	var list []rc
	for r, n := range m {
		list = append(list, rc{r, n})
	}
	slices.SortFunc(list, func(a, b rc) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.r, b.r)
	})
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = fmt.Sprintf("%s ×%d", x.r, x.n)
	}
	return strings.Join(parts, ", ")
}

func (c *Campaign) step(s Step) {
	s.Campaign = c.spec.Name
	s.State = c.state
	c.emit(s)
}
