package ui

import (
	"fmt"
	"sort"
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

// replaying plays a recorded transcript: no lab behind it, only what the
// events say. Virtual time comes from the records; playing moves a cursor
// through them at the chosen speed, and the panes are folded from the
// events already passed.
type replaying struct {
	title  string
	events []device.Event
	starts []int // indices of the step markers

	mu      sync.Mutex
	pos     int           // next event to deliver
	t       time.Duration // playback position in virtual time
	paused  bool
	speed   float64
	wall    time.Time // when t was last advanced
	fold    *fold
	fresh   bool
	ended   bool
	pending int // deliver at least the events before this index (a jump)
	hold    int // deliver no event from this index on (-1: none): a step's end
	now     func() time.Time
}

func newReplay(events []device.Event, title string, speed float64, now func() time.Time) *replaying {
	evs := append([]device.Event(nil), events...)
	// records are in order already; a hand-edited file may not be
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	if speed <= 0 {
		speed = 1
	}
	r := &replaying{title: title, events: evs, speed: min(max(speed, sim.MinSpeed), sim.MaxSpeed), now: now, hold: -1}
	for i, e := range evs {
		if _, ok := e.Data.(scenarios.StepStarted); ok {
			r.starts = append(r.starts, i)
		}
	}
	r.fold = newFold(title, evs)
	if len(evs) > 0 {
		r.t = evs[0].At
	}
	r.wall = now()
	return r
}

func (r *replaying) replay() bool { return true }

func (r *replaying) frame(detail string, rows lab.Rows) frame {
	start := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.paused {
		r.t += time.Duration(float64(now.Sub(r.wall)) * r.speed)
	}
	r.wall = now
	f := frame{restart: r.fresh}
	r.fresh = false
	// the events before a step jumped to at once, then those whose time has
	// come, never past the hold
	f.events = r.deliver(func(e device.Event) bool {
		return (r.hold < 0 || r.pos < r.hold) && (r.pos < r.pending || e.At <= r.t)
	})
	r.pending = 0
	if r.hold >= 0 && r.pos >= r.hold && !r.paused {
		// the step played to its end: wait for the presenter, as live
		r.paused = true
		if r.pos > 0 {
			r.t = r.events[r.pos-1].At
		}
	}
	if r.pos >= len(r.events) && !r.ended {
		r.ended, r.paused = true, true
		if len(r.events) > 0 {
			r.t = r.events[len(r.events)-1].At
		}
	}
	f.snap = r.fold.snapshot(detail, rows, r.t)
	f.snap.Speed, f.snap.Paused, f.snap.Mode = r.speed, r.paused, sim.Paced
	f.story = r.fold.story
	if r.ended {
		f.busy = "end of the recording · space plays it again"
	}
	f.took = time.Since(start)
	return f
}

// deliver folds the events from pos on while ok holds and returns them.
func (r *replaying) deliver(ok func(device.Event) bool) []device.Event {
	from := r.pos
	for r.pos < len(r.events) && ok(r.events[r.pos]) {
		r.fold.apply(r.events[r.pos])
		r.pos++
	}
	return r.events[from:r.pos]
}

// at is where the replay is: the next event to show, counting a jump asked
// for and not yet shown.
func (r *replaying) at() int { return max(r.pos, r.pending) }

// next plays the next step, as a presenter's n does live: the rest of the
// current step at once, then the next step in time, holding at its end.
func (r *replaying) next() tea.Cmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := sort.SearchInts(r.starts, r.at())
	if k >= len(r.starts) {
		return note("no step after this point in the recording", false)
	}
	m := r.starts[k]
	r.pending, r.t, r.paused, r.ended = m, r.events[m].At, false, false
	r.hold = -1
	if k+1 < len(r.starts) {
		r.hold = r.starts[k+1]
	}
	r.wall = r.now()
	st := r.events[m].Data.(scenarios.StepStarted)
	return note(fmt.Sprintf("step %d/%d: %s", st.Index, st.Total, st.Title), false)
}

// back goes to the start of the step shown (of the one before when already
// there), paused.
func (r *replaying) back() tea.Cmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := sort.SearchInts(r.starts, r.at()) - 1
	if k < 0 {
		r.rewind(0)
		return note("at the start of the recording", false)
	}
	r.rewind(r.starts[k])
	st := r.events[r.starts[k]].Data.(scenarios.StepStarted)
	return note(fmt.Sprintf("before step %d/%d · n plays it", st.Index, st.Total), false)
}

func (r *replaying) reset() tea.Cmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rewind(0)
	return note("the recording starts again · space plays, n plays a step", false)
}

// rewind starts the fold again, shows the first n events and holds there,
// paused.
func (r *replaying) rewind(n int) {
	r.fold = newFold(r.title, r.events)
	r.pos, r.fresh, r.ended, r.paused = 0, true, false, true
	r.pending, r.hold = n, n
	r.t = 0
	if n > 0 {
		r.t = r.events[n-1].At
	} else if len(r.events) > 0 {
		r.t = r.events[0].At
	}
	r.wall = r.now()
}

func (r *replaying) playPause() tea.Cmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		r.rewind(0)
	}
	r.paused = !r.paused
	r.hold = -1
	r.wall = r.now()
	return nil
}

func (r *replaying) faster(up bool) tea.Cmd {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.speed = nextSpeed(r.speed, up)
	return note("speed "+pane.Speed(r.speed), false)
}

func (r *replaying) exec(string) tea.Cmd {
	return note("a replay has no lab behind it: commands need a live lab (tinylab ui NAME)", true)
}

func (r *replaying) complete(string) []string { return nil }

func (r *replaying) close() {}

// fold rebuilds what a transcript says about the lab: devices, containers,
// heartbeats, denials, updates and the story.
type fold struct {
	devs    []*devFold
	byID    map[string]*devFold
	story   pane.Story
	rollout lab.RolloutFold // the latest campaign, for the rollout pane
}

type devFold struct {
	id, board string
	powered   bool
	battery   int
	usedUJ    int64
	ctrs      []*ctrFold
	denied    uint64
	suit      device.SuitStatus
	peers     []device.PeerInfo
	events    uint64
}

type ctrFold struct {
	info device.ContainerInfo
	beat time.Duration
}

// newFold starts a fold; the step markers of the whole transcript give the
// story its steps before they are reached.
func newFold(title string, evs []device.Event) *fold {
	f := &fold{byID: map[string]*devFold{}}
	f.story = pane.Story{Name: title, Title: title, Current: -1,
		Summary: "a recorded run: space plays and pauses, n and p jump between steps"}
	for _, e := range evs {
		if s, ok := e.Data.(scenarios.StepStarted); ok && s.Index >= 1 && s.Index <= 10000 {
			f.ensureSteps(max(s.Index, s.Total))
			f.story.Steps[s.Index-1] = pane.StoryStep{Title: s.Title, Say: s.Say, Watch: s.Watch}
		}
	}
	return f
}

func (f *fold) ensureSteps(n int) {
	for len(f.story.Steps) < n {
		f.story.Steps = append(f.story.Steps, pane.StoryStep{Title: "(not in the recording)"})
	}
}

func (f *fold) dev(id string) *devFold {
	d, ok := f.byID[id]
	if !ok {
		d = &devFold{id: id, powered: true, battery: 1000, suit: device.SuitStatus{State: "idle"}}
		f.byID[id] = d
		f.devs = append(f.devs, d)
	}
	return d
}

func (d *devFold) ctr(uid string) *ctrFold {
	for _, c := range d.ctrs {
		if c.info.UID == uid {
			return c
		}
	}
	c := &ctrFold{info: device.ContainerInfo{UID: uid, State: device.Empty.String(), LastBeatMs: -1}, beat: -1}
	d.ctrs = append(d.ctrs, c)
	return c
}

func (f *fold) apply(e device.Event) {
	switch p := e.Data.(type) {
	case scenarios.StepStarted:
		if p.Index < 1 || p.Index > 10000 {
			return
		}
		f.ensureSteps(p.Index)
		for i := range f.story.Steps {
			if f.story.Steps[i].State == pane.Playing {
				f.story.Steps[i].State = pane.Held
			}
		}
		f.story.Steps[p.Index-1] = pane.StoryStep{Title: p.Title, Say: p.Say, Watch: p.Watch, State: pane.Playing}
		f.story.Current = p.Index - 1
		return
	case scenarios.Checked:
		if p.Index < 1 || p.Index > len(f.story.Steps) {
			return
		}
		s := &f.story.Steps[p.Index-1]
		s.Checks = append(s.Checks, pane.StoryCheck{OK: p.OK, Want: p.Want, Got: p.Got})
		if !p.OK {
			s.State = pane.Failed
		} else if s.State != pane.Failed {
			s.State = pane.Held
		}
		return
	case lab.Note:
		return
	}
	if e.Device == lab.LabSource {
		f.rollout.Apply(e.Data)
		return
	}
	if e.Device == "" || e.Device == "scenario" {
		return
	}
	d := f.dev(e.Device)
	d.events++
	switch p := e.Data.(type) {
	case device.Boot:
		d.board, d.powered = p.Board, true
	case device.Power:
		d.powered = p.On
	case device.StateChange:
		c := d.ctr(p.Container)
		c.info.State, c.info.Reason, c.info.Since = p.To.String(), p.Reason, e.At.Milliseconds()
		c.info.Last = device.Transition{From: p.From, To: p.To, Reason: p.Reason, At: e.At}
		c.info.Watched = p.To == device.Running
		if p.To == device.Running {
			c.info.Missed = 0
		}
		if p.To == device.Empty {
			d.ctrs = deleteCtr(d.ctrs, c)
		}
	case device.Heartbeat:
		c := d.ctr(p.Container)
		c.info.Heartbeats++
		c.info.LastBeatMs, c.beat, c.info.Missed = e.At.Milliseconds(), e.At, 0
		if p.Interval > 0 {
			c.info.Intervals = append(c.info.Intervals, p.Interval)
			if len(c.info.Intervals) > 32 {
				c.info.Intervals = c.info.Intervals[1:]
			}
		}
	case device.MissedHeartbeat:
		d.ctr(p.Container).info.Missed = p.Missed
	case device.Denied:
		d.ctr(p.Container).info.Denied++
		d.denied++
	case device.Fault:
		d.ctr(p.Container).info.Faults++
	case device.Energy:
		d.battery, d.usedUJ = p.BatteryPermille, p.UsedMicroJoule
	case device.SuitStep:
		if d.suit.State == "idle" {
			d.suit.Steps, d.suit.Done, d.suit.Total, d.suit.Component = nil, 0, 0, ""
		}
		d.suit.State = "verifying"
		if p.Step == "install" {
			d.suit.State = "installing"
		}
		d.suit.Steps = append(d.suit.Steps, p)
		d.suit.LastStep = p.Step
		d.suit.Namespace = namespace(p.Component, d.suit.Namespace)
		if strings.HasPrefix(p.Message, "suit_coap: downloading ") {
			d.suit.URI = strings.Trim(strings.TrimPrefix(p.Message, "suit_coap: downloading "), `"`)
		}
	case device.SuitProgress:
		d.suit.State, d.suit.Done, d.suit.Total, d.suit.Component = "fetching", p.Done, p.Total, p.URI
		d.suit.Namespace = namespace(p.URI, d.suit.Namespace)
	case device.SuitResult:
		d.suit.State, d.suit.Last = "idle", p
		d.suit.Updates++
	case device.SensorChange:
		d.setPeer(p.Sensor, fmt.Sprint(p.Value), device.ClassTemperature)
	case device.Actuator:
		d.setPeer(p.Peer, p.Text, device.ClassDisplay)
	}
}

// namespace is the sequence-number namespace a SUIT component belongs to,
// as the device names it: ".tc.coach.code" is "tc.coach", ".ram.0" is "ram".
func namespace(component, old string) string {
	parts := strings.Split(strings.TrimPrefix(component, "."), ".")
	switch {
	case len(parts) >= 2 && parts[0] == "tc":
		return "tc." + parts[1]
	case len(parts) >= 1 && parts[0] == "ram":
		return "ram"
	}
	return old
}

func (d *devFold) setPeer(name, v string, c device.Class) {
	for i := range d.peers {
		if d.peers[i].Name == name {
			d.peers[i].Value = v
			return
		}
	}
	d.peers = append(d.peers, device.PeerInfo{Name: name, Class: c, Value: v})
}

func deleteCtr(cs []*ctrFold, c *ctrFold) []*ctrFold {
	for i := range cs {
		if cs[i] == c {
			return append(cs[:i], cs[i+1:]...)
		}
	}
	return cs
}

// snapshot is the fold as the panes read a live lab's snapshot: the rows
// asked for summarised, the device detail in full. Memory use is not in the
// events, so it stays zero and the pane leaves it out.
func (f *fold) snapshot(detail string, rows lab.Rows, now time.Duration) lab.Snapshot {
	ids := make([]string, len(f.devs))
	for i, d := range f.devs {
		ids[i] = d.id
	}
	from, to := rows.Clip(len(f.devs))
	s := lab.Snapshot{Now: now, IDs: ids, First: from, Devices: make([]device.Summary, 0, to-from)}
	for _, d := range f.devs[from:to] {
		s.Devices = append(s.Devices, d.summary())
	}
	for _, d := range f.devs {
		if d.id != detail {
			continue
		}
		b, _ := device.LookupBoard(d.board)
		snap := device.Snapshot{ID: d.id, Board: b, Powered: d.powered, BatteryPermille: d.battery,
			UsedMicroJoule: d.usedUJ, Suit: d.suit, Events: d.events}
		if b.Name == "" {
			snap.Board.Name = d.board
		}
		for _, c := range d.ctrs {
			ci := c.info
			ci.Intervals = append([]time.Duration(nil), ci.Intervals...)
			snap.Containers = append(snap.Containers, ci)
		}
		snap.Suit.Steps = append([]device.SuitStep(nil), d.suit.Steps...)
		snap.Peers = append([]device.PeerInfo(nil), d.peers...)
		s.Detail = &snap
	}
	if v, ok := f.rollout.View(ids); ok {
		s.Rollout = &v
	}
	return s
}

// summary is the device as a device list shows it.
func (d *devFold) summary() device.Summary {
	sum := device.Summary{ID: d.id, Board: d.board, Powered: d.powered, BatteryPermille: d.battery,
		Denied: d.denied, Updating: d.suit.State != "idle", UpdateDone: d.suit.Done, UpdateTotal: d.suit.Total,
		LastResult: d.suit.Last.Code, Updates: d.suit.Updates}
	for _, c := range d.ctrs {
		st, _ := device.ParseState(c.info.State)
		sum.Containers = append(sum.Containers, device.ContainerBrief{UID: c.info.UID, State: st, LastBeat: c.beat,
			Watched: c.info.Watched, Denied: c.info.Denied})
	}
	return sum
}
