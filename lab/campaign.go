package lab

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/lab/rollout"
	"tinylab/lab/sim"
	"tinylab/suit"
)

// RolloutOptions is a campaign as the rollout command asks for it.
type RolloutOptions struct {
	Def    string // the definition sent (the new version)
	From   string // the definition a rollback sends ("": the version before Def)
	To     string // a glob over device ids (path.Match), like box-*
	Canary rollout.Percent
	Waves  []rollout.Percent
	HaltOn rollout.Percent
	Pause  time.Duration
}

// DefaultPause is a wave's observation window when none is given: long
// enough for the watchdog (3 missed heartbeats of a 1 s loop) to speak.
const DefaultPause = 30 * time.Second

// campaign drives a rollout.Campaign in the lab: it feeds it the devices'
// events, sends its triggers over CoAP and wakes it at the times it asks.
type campaign struct {
	l      *Lab
	m      *rollout.Campaign
	uid    string
	boards map[string]string // device id -> board
	wake   *sim.Timer
	flush  *sim.Timer
	batch  []rollout.Observation
	kick   *sim.Timer        // performs what a command asked, in a timer
	queued []rollout.Actions // what commands asked, not performed yet
	remove func()
	// perContainer: the targets number their updates per container, not
	// device-wide (DeviceSpec.SeqPerContainer of the first target).
	perContainer bool
}

// ErrNoRollout is returned by campaign commands when none was started.
var ErrNoRollout = errors.New("no rollout campaign was started")

// Rollout starts a campaign: the release is published for every board of
// the targets and the first wave is triggered. Devices fetch it through
// the normal SUIT path, as `update` does.
func (l *Lab) Rollout(o RolloutOptions) (string, error) {
	def, err := l.Def(o.Def)
	if err != nil {
		return "", err
	}
	if o.From == "" {
		o.From = previousVersion(l, def)
	}
	if o.From != "" {
		from, err := l.Def(o.From)
		if err != nil {
			return "", fmt.Errorf("rollback version: %w", err)
		}
		if from.UID != def.UID {
			return "", fmt.Errorf("%w: %s is container %s, not %s", rollout.ErrSpec, o.From, from.UID, def.UID)
		}
	}
	if _, err := path.Match(o.To, ""); err != nil || o.To == "" {
		return "", fmt.Errorf("%w: --to %q: a device id or a pattern like box-*", rollout.ErrSpec, o.To)
	}
	c := &campaign{l: l, uid: def.UID, boards: map[string]string{}}
	var targets []string
	for _, n := range l.Nodes() {
		if ok, _ := path.Match(o.To, n.Spec.ID); ok {
			targets = append(targets, n.Spec.ID)
			c.boards[n.Spec.ID] = boardOf(n)
		}
	}
	// As update does: the release already published is sent again while
	// the devices would take it, a new one takes the next sequence number
	// (device-wide unless the devices number per container).
	first := l.firstNode(targets)
	perContainer := first != nil && first.Spec.SeqPerContainer
	c.perContainer = perContainer
	seq := l.nextSeq(def.UID, perContainer)
	if rel := l.latest(def.Name, boardOf(first)); rel != nil && first != nil && rel.Seq > l.highest(first, def.UID) {
		seq = rel.Seq
	}
	name := def.Name
	l.mu.Lock()
	for _, r := range l.rollouts {
		if r.m.Spec().Name == name {
			name = fmt.Sprintf("%s-%d", def.Name, len(l.rollouts)+1)
		}
	}
	l.mu.Unlock()
	m, err := rollout.New(rollout.Spec{Name: name, Container: def.UID, Release: def.Name, Seq: seq, From: o.From,
		Targets: targets, Canary: o.Canary, Waves: o.Waves, HaltOn: o.HaltOn, Pause: o.Pause, To: o.To}, c.emit)
	if err != nil {
		return "", err
	}
	c.m = m
	if err := c.publish(def.Name, seq); err != nil {
		return "", err
	}
	l.mu.Lock()
	l.rollouts = append(l.rollouts, c)
	l.mu.Unlock()
	l.world.Do(func() {
		c.wake = l.world.NewTimer(func() { c.perform(c.m.Tick(l.world.Now())) })
		c.flush = l.world.NewTimer(c.flushBatch)
		c.kick = l.world.NewTimer(c.performQueued)
		c.remove = l.bus.Sink(c.observe)
		c.later(c.m.Start(l.world.Now()))
	})
	return name, nil
}

func boardOf(n *Node) string {
	if n == nil || n.Spec.Board == "" {
		return device.DefaultBoard
	}
	return n.Spec.Board
}

func (l *Lab) firstNode(ids []string) *Node {
	if len(ids) == 0 {
		return nil
	}
	n, _ := l.node(ids[0])
	return n
}

// previousVersion is the definition of the same container one version
// before: NAME-vN comes after NAME-v(N-1), and NAME-v2 after NAME.
func previousVersion(l *Lab, def *ContainerDef) string {
	base, v, ok := strings.Cut(def.Name, "-v")
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < 2 {
		return ""
	}
	for _, cand := range []string{fmt.Sprintf("%s-v%d", base, n-1), base} {
		if d, err := l.Def(cand); err == nil && d.UID == def.UID {
			return cand
		}
	}
	return ""
}

// publish makes sure a clean release of def with seq exists for every
// board of the campaign.
func (c *campaign) publish(def string, seq uint64) error {
	boards := map[string]bool{}
	for _, b := range c.boards {
		boards[b] = true
	}
	names := make([]string, 0, len(boards))
	for b := range boards {
		names = append(names, b)
	}
	slices.Sort(names)
	for _, b := range names {
		if rel := c.l.release(c.uid, b, seq); rel != nil && rel.Def == def && rel.Format == suit.FormatDraft09 {
			continue
		}
		if _, err := c.l.Publish(def, b, seq, suit.FormatDraft09, NoAttack); err != nil {
			return err
		}
	}
	return nil
}

// emit publishes a campaign step as a lab event. World held.
func (c *campaign) emit(p device.Payload) {
	c.l.seq++
	c.l.bus.Publish(device.Event{At: c.l.world.Now(), Device: LabSource, Seq: c.l.seq, Data: p})
}

// observe turns the events of the campaign's devices into observations,
// gathered per instant. It is a bus sink: it runs in the world.
func (c *campaign) observe(e device.Event) {
	if _, ok := c.boards[e.Device]; !ok {
		return
	}
	o := rollout.Observation{Device: e.Device}
	switch p := e.Data.(type) {
	case device.SuitResult:
		o.What = rollout.UpdateOK
		if p.Code != int(suit.CodeOK) {
			o.What, o.Reason = rollout.UpdateFailed, suitReason(p.Result)
		}
	case device.StateChange:
		if p.Container != c.uid || p.To != device.Failed {
			return
		}
		o.What, o.Reason = rollout.ContainerFailed, failureReason(p.Reason)
	case device.Power:
		if p.On {
			return
		}
		o.What = rollout.PowerOff
	case device.Boot:
		o.What = rollout.PowerOn
	default:
		return
	}
	c.batch = append(c.batch, o)
	if !c.flush.Pending() {
		c.flush.Reset(c.l.world.Now())
	}
}

func (c *campaign) flushBatch() {
	b := c.batch
	c.batch = nil
	c.perform(c.m.Observe(c.l.world.Now(), b...))
}

// suitReason names a SUIT result for people: SUIT_ERR_DIGEST_MISMATCH is
// "digest mismatch".
func suitReason(result string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(result, "SUIT_ERR_"), "_", " "))
}

// failureReason groups a container's failure by its cause: "watchdog",
// "loop_max_ms exceeded", "fault", "energy budget exceeded".
func failureReason(reason string) string {
	r, _, _ := strings.Cut(reason, ":")
	r, _, _ = strings.Cut(r, " in ")
	return r
}

// later performs what a command asked in a timer at this instant: the
// triggers then go out with the run loop waiting for them, as those of the
// campaign's own timers do, in paced mode as in fast. World held (Do).
func (c *campaign) later(a rollout.Actions) {
	c.queued = append(c.queued, a)
	if !c.kick.Pending() {
		c.kick.Reset(c.l.world.Now())
	}
}

func (c *campaign) performQueued() {
	q := c.queued
	c.queued = nil
	for _, a := range q {
		c.perform(a)
	}
}

// perform does what the campaign asks. World held, in a timer: the
// triggers are sent with the world released, and the run loop, which is
// running this timer, moves nothing meanwhile.
func (c *campaign) perform(a rollout.Actions) {
	if a.Wake > 0 {
		c.wake.Reset(a.Wake)
	}
	if len(a.Trigger) == 0 {
		return
	}
	uris := map[string]string{}
	for _, id := range a.Trigger {
		b := c.boards[id]
		if _, ok := uris[b]; !ok {
			rel := c.l.release(c.uid, b, a.Seq)
			if rel == nil {
				// Published when the campaign started or rolled back.
				c.l.note(fmt.Sprintf("rollout %s: no release of %s seq %d for %s", c.m.Spec().Name, c.uid, a.Seq, b))
				return
			}
			uris[b] = rel.URI
		}
	}
	// Triggers go out one by one with the world released, as a tester's
	// coap-client would send them: each device starts its update at this
	// instant, in the campaign's order, whatever the network's timing.
	refused := map[string]error{}
	c.l.world.Unlocked(func() {
		for _, id := range a.Trigger {
			if err := c.l.command(id, codes.POST, "/suit/trigger", []byte(uris[c.boards[id]]), codes.Created); err != nil {
				refused[id] = err
			}
		}
	})
	if len(refused) == 0 {
		return
	}
	var obs []rollout.Observation
	for _, id := range a.Trigger {
		err, ok := refused[id]
		if !ok {
			continue
		}
		n, _ := c.l.node(id)
		if n != nil && !n.Dev.Powered() {
			obs = append(obs, rollout.Observation{Device: id, What: rollout.PowerOff})
			continue
		}
		var ce *CoAPError
		reason := err.Error()
		if errors.As(err, &ce) {
			reason = "trigger refused: " + ce.Code.String()
		}
		obs = append(obs, rollout.Observation{Device: id, What: rollout.UpdateFailed, Reason: reason})
	}
	c.perform(c.m.Observe(c.l.world.Now(), obs...))
}

// campaignNamed finds a campaign by name ("" is the latest).
func (l *Lab) campaignNamed(name string) (*campaign, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.rollouts) == 0 {
		return nil, ErrNoRollout
	}
	if name == "" {
		return l.rollouts[len(l.rollouts)-1], nil
	}
	var names []string
	for _, c := range l.rollouts {
		if c.m.Spec().Name == name {
			return c, nil
		}
		names = append(names, c.m.Spec().Name)
	}
	return nil, fmt.Errorf("no rollout %q (rollouts: %s)", name, strings.Join(names, ", "))
}

// RolloutCommand runs resume, abort, retry or rollback on a campaign ("" is
// the latest) and says what it did.
func (l *Lab) RolloutCommand(verb, name string) (string, error) {
	c, err := l.campaignNamed(name)
	if err != nil {
		return "", err
	}
	spec := c.m.Spec()
	var seq uint64
	if verb == "rollback" {
		if spec.From == "" {
			return "", fmt.Errorf("%w: rollback: no previous version of %s known (start the rollout with --from DEF)", rollout.ErrState, spec.Container)
		}
		seq = l.nextSeq(c.uid, c.perContainer)
		if err := c.publish(spec.From, seq); err != nil {
			return "", err
		}
	}
	var done string
	l.world.Do(func() {
		now := l.world.Now()
		var a rollout.Actions
		switch verb {
		case "resume":
			a, err = c.m.Resume(now)
		case "abort":
			err = c.m.Abort(now)
		case "retry":
			a, err = c.m.Retry(now)
		case "rollback":
			a, err = c.m.Rollback(now, seq)
		default:
			err = fmt.Errorf("rollout %s: resume, abort, retry or rollback", verb)
		}
		if err == nil {
			c.later(a)
			done = fmt.Sprintf("rollout %s: %s (%s)", spec.Name, verb, c.m.State())
		}
	})
	return done, err
}

// RolloutView is a campaign as the UI shows it, copied in the world.
type RolloutView struct {
	Name, Container, Release, From string
	Seq                            uint64
	State                          rollout.State
	HaltOn                         rollout.Percent
	Current                        int // index of the current wave
	Waves                          []WaveView
	Reasons                        string                // every wave's failures, grouped
	Cells                          []rollout.DeviceState // every target, in order
}

// WaveView is one wave of a RolloutView.
type WaveView struct {
	Name     string
	Share    rollout.Percent
	Rollback bool
	Started  bool
	Devices  int
	Counts   [5]int // by rollout.DeviceState
	Reasons  string // grouped: "watchdog ×12, digest mismatch ×3"
}

// Rollout copies the latest campaign, or reports false when none was started.
func (l *Lab) RolloutView() (RolloutView, bool) {
	c, err := l.campaignNamed("")
	if err != nil {
		return RolloutView{}, false
	}
	var v RolloutView
	l.world.Do(func() { v = c.view(true) })
	return v, true
}

// RolloutViewHeld is RolloutView for callers that hold the world already
// (a scenario's expectations).
func (l *Lab) RolloutViewHeld() (RolloutView, bool) {
	c, err := l.campaignNamed("")
	if err != nil {
		return RolloutView{}, false
	}
	return c.view(false), true
}

func (c *campaign) view(cells bool) RolloutView { return ViewCampaign(c.m, cells) }

// ViewCampaign copies a campaign; cells adds every target's state and the
// failure reasons (for the pane), which the expectations checked after
// every timer do without.
func ViewCampaign(m *rollout.Campaign, cells bool) RolloutView {
	s := m.Spec()
	v := RolloutView{Name: s.Name, Container: s.Container, Release: s.Release, From: s.From, Seq: s.Seq,
		State: m.State(), HaltOn: s.HaltOn, Current: m.Current()}
	if cells {
		v.Cells = make([]rollout.DeviceState, len(s.Targets))
		for i := range v.Cells {
			v.Cells[i] = m.DeviceAt(i)
		}
	}
	total := map[string]int{}
	for _, w := range m.Waves() {
		if cells {
			for r, n := range w.Reasons {
				total[r] += n
			}
		}
		wv := WaveView{Name: w.Name, Share: w.Share, Rollback: w.Rollback, Started: w.Started, Devices: len(w.Devices)}
		if cells {
			wv.Reasons = rollout.FormatReasons(w.Reasons)
		}
		for st := range wv.Counts {
			wv.Counts[st] = w.Count(rollout.DeviceState(st))
		}
		v.Waves = append(v.Waves, wv)
	}
	v.Reasons = rollout.FormatReasons(total)
	return v
}

// RolloutVerbs are the words that steer a campaign after `rollout`.
var RolloutVerbs = []string{"status", "resume", "abort", "retry", "rollback"}

// ParseRollout reads the arguments of `rollout CONTAINER [vN] --to GLOB
// [--canary P] [--waves P,P,...] [--halt-on P] [--pause D] [--from DEF]`.
// vN names the definition CONTAINER-vN (v1 is CONTAINER itself); defs
// says which definitions exist.
func ParseRollout(args []string, defs func(string) bool) (RolloutOptions, error) {
	o := RolloutOptions{HaltOn: 500, Pause: DefaultPause}
	if len(args) == 0 || strings.HasPrefix(args[0], "--") {
		return o, fmt.Errorf("%w: usage: rollout CONTAINER [vN] --to GLOB [--canary P] [--waves P,P] [--halt-on P] [--pause D]", rollout.ErrSpec)
	}
	o.Def, args = args[0], args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		v := args[0]
		n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
		if !strings.HasPrefix(v, "v") || err != nil || n < 1 {
			return o, fmt.Errorf("%w: version %q: write v2", rollout.ErrSpec, v)
		}
		if name := fmt.Sprintf("%s-v%d", o.Def, n); defs(name) {
			o.Def = name
		} else if n != 1 {
			return o, fmt.Errorf("%w: no definition %s for version %s of %s", rollout.ErrSpec, name, v, o.Def)
		}
		args = args[1:]
	}
	for len(args) > 0 {
		flag, val, has := strings.Cut(args[0], "=")
		args = args[1:]
		if !has {
			if len(args) == 0 {
				return o, fmt.Errorf("%w: %s needs a value", rollout.ErrSpec, flag)
			}
			val, args = args[0], args[1:]
		}
		var err error
		switch flag {
		case "--to":
			o.To = val
		case "--from":
			o.From = val
		case "--canary":
			o.Canary, err = rollout.ParsePercent(val)
		case "--halt-on":
			o.HaltOn, err = rollout.ParsePercent(val)
		case "--pause":
			o.Pause, err = time.ParseDuration(val)
			if err != nil || o.Pause < 0 {
				err = fmt.Errorf("%w: --pause %q: a duration like 30s", rollout.ErrSpec, val)
			}
		case "--waves":
			o.Waves = nil
			for _, w := range strings.Split(val, ",") {
				p, perr := rollout.ParsePercent(w)
				if perr != nil {
					err = perr
					break
				}
				o.Waves = append(o.Waves, p)
			}
		default:
			err = fmt.Errorf("%w: unknown option %q (--to, --canary, --waves, --halt-on, --pause, --from)", rollout.ErrSpec, flag)
		}
		if err != nil {
			return o, err
		}
	}
	if o.To == "" {
		return o, fmt.Errorf("%w: --to GLOB says which devices (like box-*)", rollout.ErrSpec)
	}
	return o, nil
}

func (l *Lab) execRollout(args []string) (string, error) {
	if slices.Contains(RolloutVerbs, args[0]) {
		name := ""
		if len(args) > 1 {
			name = args[1]
		}
		if args[0] == "status" {
			c, err := l.campaignNamed(name)
			if err != nil {
				return "", err
			}
			var v RolloutView
			l.world.Do(func() { v = c.view(true) })
			return v.String(), nil
		}
		return l.RolloutCommand(args[0], name)
	}
	o, err := ParseRollout(args, func(name string) bool { _, err := l.Def(name); return err == nil })
	if err != nil {
		return "", err
	}
	name, err := l.Rollout(o)
	if err != nil {
		return "", err
	}
	return "rollout " + name + " started", nil
}

// String is the campaign in a few lines, for the command line.
func (v RolloutView) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rollout %s: %s seq %d, %s (halt above %s)\n", v.Name, v.Release, v.Seq, v.State, v.HaltOn)
	for i, w := range v.Waves {
		mark := " "
		if i == v.Current {
			mark = "▶"
		}
		fmt.Fprintf(&b, "%s %-8s %5d devices: %d pending, %d fetching, %d installed, %d failed, %d offline", mark, w.Name, w.Devices,
			w.Counts[rollout.Pending], w.Counts[rollout.Fetching], w.Counts[rollout.Installed], w.Counts[rollout.Failed], w.Counts[rollout.Offline])
		if w.Reasons != "" {
			b.WriteString(" (" + w.Reasons + ")")
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// rolloutCandidates completes `rollout`: a verb or a definition first, then
// a version, the options, and for --to the device ids and a glob of each
// prefix.
func (l *Lab) rolloutCandidates(before []string, pos int) []string {
	if pos == 1 {
		out := slices.Clone(RolloutVerbs)
		for _, d := range l.Defs() {
			out = append(out, d.Name)
		}
		return out
	}
	if slices.Contains(RolloutVerbs, before[0]) {
		var names []string
		l.mu.Lock()
		for _, c := range l.rollouts {
			names = append(names, c.m.Spec().Name)
		}
		l.mu.Unlock()
		return names
	}
	switch before[len(before)-1] {
	case "--to":
		globs := map[string]bool{}
		var out []string
		for _, n := range l.Nodes() {
			if i := strings.LastIndexByte(n.Spec.ID, '-'); i > 0 && !globs[n.Spec.ID[:i]] {
				globs[n.Spec.ID[:i]] = true
				out = append(out, n.Spec.ID[:i+1]+"*")
			}
		}
		return out
	case "--from":
		var out []string
		for _, d := range l.Defs() {
			out = append(out, d.Name)
		}
		return out
	case "--canary", "--halt-on", "--waves", "--pause":
		return nil
	}
	out := []string{"--to", "--canary", "--waves", "--halt-on", "--pause", "--from"}
	if pos == 2 {
		for _, d := range l.Defs() {
			if base, v, ok := strings.Cut(d.Name, "-v"); ok && base == before[0] {
				out = append(out, "v"+v)
			}
		}
	}
	return out
}
