package sim

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// Mode says how virtual time moves.
type Mode uint8

const (
	// Fast jumps virtual time to the next due timer.
	Fast Mode = iota
	// Paced makes virtual time follow wall time times the speed factor.
	Paced
)

func (m Mode) String() string {
	if m == Paced {
		return "paced"
	}
	return "fast"
}

// Speed limits of the paced clock.
const (
	MinSpeed = 0.25
	MaxSpeed = 100
)

// maxLag is how far paced virtual time may trail the wall clock before the
// clock gives up catching up (a long pause in the process, a debugger): it
// rebases instead of running a burst of overdue timers.
const maxLag = 250 * time.Millisecond

// maxHold is how long a paced world holds virtual time for real I/O in
// flight, as a fast world always does: long enough for any loopback
// exchange, short enough that a peer that never answers cannot freeze a
// live demo. Held wall time is not counted as virtual time.
const maxHold = 250 * time.Millisecond

// ErrStopped is returned by the run loop and by Task.Sleep after Stop.
var ErrStopped = errors.New("world stopped")

// World owns the virtual clock, the timer queue and the world lock.
type World struct {
	mu sync.Mutex // the world lock: held while any timer or task runs

	now    time.Duration
	queue  timerQueue
	order  uint64
	mode   Mode
	speed  float64
	paused bool
	// Paced mapping: virtual = virtBase + (wall - wallBase) * speed.
	wallBase time.Time
	virtBase time.Duration
	wall     func() time.Time

	wake    chan struct{} // nudges a paced loop that sleeps
	stopped bool

	// inflight counts tasks awaiting real I/O; in Fast mode the clock does
	// not advance while any is in flight. settled is signalled (with mu
	// held) each time one completes.
	inflight int
	settled  *sync.Cond

	// brk, when set, is checked after every timer a paced Run runs; when it
	// holds the world pauses right there and onBreak is called (world held).
	brk     func() bool
	onBreak func()

	holdStart time.Time // when a paced world began holding for I/O in flight
	holding   bool

	onPanic func(v any) // told of a timer or task that panicked; the world goes on
}

// OnPanic sets what to do when a timer or a task panics: a bug in one device
// must not stop a demo, so the world recovers, reports it here and goes on.
// Without it a panic propagates.
func (w *World) OnPanic(fn func(v any)) {
	w.mu.Lock()
	w.onPanic = fn
	w.mu.Unlock()
}

// guard runs fn, recovering a panic when OnPanic is set. World held.
func (w *World) guard(fn func()) {
	if w.onPanic == nil {
		fn()
		return
	}
	defer func() {
		if v := recover(); v != nil {
			w.onPanic(v)
		}
	}()
	fn()
}

// Option configures a World.
type Option func(*World)

// WithWallClock injects the wall clock used by Paced mode (tests).
func WithWallClock(now func() time.Time) Option { return func(w *World) { w.wall = now } }

// New makes a world at virtual time 0 in the given mode, at speed 1.
func New(mode Mode, opts ...Option) *World {
	w := &World{mode: mode, speed: 1, wall: time.Now, wake: make(chan struct{}, 1)}
	w.settled = sync.NewCond(&w.mu)
	for _, o := range opts {
		o(w)
	}
	w.wallBase = w.wall()
	return w
}

// Now is the current virtual time. Inside a timer or task it is that timer's
// due time; from outside (a CoAP handler in Do) in Paced mode it follows the
// wall clock, never before the last timer run nor past the next one due.
func (w *World) Now() time.Duration { return w.now }

// Do runs fn with the world locked, for code that does not run in a timer:
// a CoAP handler answering a tester, a UI command. It must not be called from
// inside a timer or task (the world is already theirs).
func (w *World) Do(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.catchUp()
	w.guard(fn)
}

// catchUp moves Now to the paced wall-derived time when nothing is due before it.
func (w *World) catchUp() {
	if w.mode != Paced || w.paused || w.holding {
		return
	}
	v := w.pacedNow()
	if len(w.queue) > 0 && w.queue[0].at < v {
		v = w.queue[0].at
	}
	if v > w.now {
		w.now = v
	}
}

func (w *World) pacedNow() time.Duration {
	return w.virtBase + time.Duration(float64(w.wall().Sub(w.wallBase))*w.speed)
}

// rebase pins the paced mapping to the current virtual time.
func (w *World) rebase() {
	w.wallBase = w.wall()
	w.virtBase = w.now
}

// Mode is the current mode.
func (w *World) Mode() Mode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mode
}

// SetMode switches between Fast and Paced from now on.
func (w *World) SetMode(m Mode) {
	w.mu.Lock()
	w.mode = m
	w.rebase()
	w.mu.Unlock()
	w.nudge()
}

// Speed is the paced speed factor.
func (w *World) Speed() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.speed
}

// SetSpeed changes the paced speed factor, clamped to [MinSpeed, MaxSpeed].
func (w *World) SetSpeed(s float64) float64 {
	s = math.Max(MinSpeed, math.Min(MaxSpeed, s))
	w.mu.Lock()
	w.catchUp()
	w.rebase()
	w.speed = s
	w.mu.Unlock()
	w.nudge()
	return s
}

// Paused reports whether the paced clock is paused.
func (w *World) Paused() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.paused
}

// SetPaused pauses or resumes the paced clock.
func (w *World) SetPaused(p bool) {
	w.mu.Lock()
	if !w.paused {
		w.catchUp()
	}
	w.paused = p
	w.rebase()
	w.mu.Unlock()
	w.nudge()
}

func (w *World) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Timer is a scheduled call. The zero value is not usable; get one from At or NewTimer.
type Timer struct {
	w     *World
	at    time.Duration
	order uint64
	fn    func()
	index int // position in the queue, -1 when not scheduled
}

// NewTimer makes an unscheduled timer that calls fn; Reset schedules it. A
// device keeps one per periodic job so rescheduling allocates nothing.
func (w *World) NewTimer(fn func()) *Timer { return &Timer{w: w, fn: fn, index: -1} }

// At schedules fn at virtual time t (or now, if t is in the past).
func (w *World) At(t time.Duration, fn func()) *Timer {
	tm := w.NewTimer(fn)
	tm.Reset(t)
	return tm
}

// Reset (re)schedules the timer at virtual time t. It must be called with the
// world held (from a timer, a task, or Do).
func (t *Timer) Reset(at time.Duration) {
	t.w.order++
	t.resetOrdered(at, t.w.order)
}

// resetOrdered schedules the timer with an order number reserved earlier, so
// that its place among timers due at the same instant does not depend on
// when the call is made.
func (t *Timer) resetOrdered(at time.Duration, order uint64) {
	w := t.w
	if at < w.now {
		at = w.now
	}
	t.at = at
	t.order = order
	if t.index >= 0 {
		w.queue[t.index].at, w.queue[t.index].order = at, order
		w.queue.fix(t.index)
	} else {
		w.queue.push(t)
	}
	if w.mode == Paced {
		w.nudge()
	}
}

// Stop unschedules the timer; it reports whether it was scheduled.
func (t *Timer) Stop() bool {
	if t.index < 0 {
		return false
	}
	t.w.queue.remove(t.index)
	return true
}

// Pending reports whether the timer is scheduled.
func (t *Timer) Pending() bool { return t.index >= 0 }

// When is the virtual time the timer is (or was last) scheduled for.
func (t *Timer) When() time.Duration { return t.at }

// timerQueue is a 4-ary min-heap ordered by (at, order). Each entry holds
// its timer's key beside the pointer, so sifting through a queue of tens of
// thousands of timers compares without loading every timer it passes; the
// four-way fan-out halves the depth. Keys are unique (order is), so the
// sequence of timers run does not depend on the heap's shape.
type timerQueue []queued

type queued struct {
	at    time.Duration
	order uint64
	t     *Timer
}

func (a *queued) before(b *queued) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.order < b.order
}

func (q *timerQueue) push(t *Timer) {
	t.index = len(*q)
	*q = append(*q, queued{at: t.at, order: t.order, t: t})
	q.up(t.index)
}

// pop removes and returns the earliest timer; the queue must not be empty.
func (q *timerQueue) pop() *Timer {
	t := (*q)[0].t
	q.remove(0)
	return t
}

// remove takes the entry at i out of the queue.
func (q *timerQueue) remove(i int) {
	h := *q
	last := len(h) - 1
	h[i].t.index = -1
	if i != last {
		h[i] = h[last]
		h[i].t.index = i
	}
	h[last] = queued{}
	*q = h[:last]
	if i != last {
		q.fix(i)
	}
}

// fix restores the order after the entry at i changed its key.
func (q *timerQueue) fix(i int) {
	if !q.down(i) {
		q.up(i)
	}
}

func (q timerQueue) up(i int) {
	e := q[i]
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&q[p]) {
			break
		}
		q[i] = q[p]
		q[i].t.index = i
		i = p
	}
	q[i] = e
	e.t.index = i
}

// down sifts the entry at i toward the leaves; it reports whether it moved.
func (q timerQueue) down(i int) bool {
	e := q[i]
	start, n := i, len(q)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if q[k].before(&q[m]) {
				m = k
			}
		}
		if !q[m].before(&e) {
			break
		}
		q[i] = q[m]
		q[i].t.index = i
		i = m
	}
	q[i] = e
	e.t.index = i
	return i > start
}

// NextDue is the virtual time of the next scheduled timer.
func (w *World) NextDue() (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return 0, false
	}
	return w.queue[0].at, true
}

// runOne runs the earliest timer if it is due at or before limit. The world
// is held. In Fast mode it first waits for real I/O in flight to complete
// whenever running the timer would move the clock: an exchange in flight
// holds virtual time where it started.
func (w *World) runOne(limit time.Duration) bool {
	for w.mode == Fast && w.inflight > 0 && (len(w.queue) == 0 || w.queue[0].at > w.now) {
		w.settled.Wait()
	}
	if len(w.queue) == 0 || w.queue[0].at > limit {
		return false
	}
	t := w.queue.pop()
	w.now = t.at
	w.guard(t.fn)
	return true
}

// RunUntil runs, in Fast order, every timer due up to virtual time t, then
// sets the clock to t. It returns early with ctx's error when ctx ends. It is
// the headless driver; Paced worlds use Run.
func (w *World) RunUntil(ctx context.Context, t time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.runOne(t) {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if t > w.now {
		w.now = t
	}
	return nil
}

// RunWhile runs timers in Fast order until cond (checked with the world held,
// after each timer) turns false, nothing is left to run, or virtual time would
// pass limit. It reports whether cond turned false.
func (w *World) RunWhile(ctx context.Context, limit time.Duration, cond func() bool) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for cond() {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if !w.runOne(limit) {
			if limit > w.now {
				w.now = limit
			}
			return !cond(), nil
		}
	}
	return true, nil
}

// Run drives the world until ctx ends or Stop is called: in Fast mode as fast
// as timers come, in Paced mode following the wall clock. It returns ctx's
// error or ErrStopped.
func (w *World) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, w.nudge)
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if w.stopped {
			return ErrStopped
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.mode == Fast && !w.paused {
			if w.runOne(math.MaxInt64) {
				w.checkBreak()
			} else {
				w.sleep(ctx, -1)
			}
			continue
		}
		if w.paused {
			w.sleep(ctx, -1)
			continue
		}
		if w.holdForIO(ctx) {
			continue
		}
		v := w.pacedNow()
		if len(w.queue) > 0 && w.queue[0].at <= v {
			if v-w.queue[0].at > time.Duration(float64(maxLag)*w.speed) {
				w.now = w.queue[0].at
				w.rebase()
			}
			w.runOne(v)
			w.checkBreak()
			continue
		}
		if v > w.now {
			w.now = v
		}
		wait := time.Duration(-1)
		if len(w.queue) > 0 {
			wait = time.Duration(float64(w.queue[0].at-v) / w.speed)
		}
		w.sleep(ctx, wait)
	}
}

// holdForIO keeps a paced clock where it is while real I/O is in flight and
// nothing else is due now, for up to maxHold of wall time; when the I/O ends
// (or the hold gives up) the clock resumes from where it was held. It
// reports whether it slept, so the run loop looks again.
func (w *World) holdForIO(ctx context.Context) bool {
	waiting := w.inflight > 0 && (len(w.queue) == 0 || w.queue[0].at > w.now)
	if !waiting {
		if !w.holdStart.IsZero() {
			w.holdStart, w.holding = time.Time{}, false
			w.rebase()
		}
		return false
	}
	if w.holdStart.IsZero() {
		w.holdStart, w.holding = w.wall(), true
	}
	if !w.holding {
		return false
	}
	if held := w.wall().Sub(w.holdStart); held < maxHold {
		w.sleep(ctx, maxHold-held)
		return true
	}
	w.holding = false
	w.rebase()
	return false
}

// sleep releases the world for up to d of wall time (forever if d < 0), or
// until nudged.
func (w *World) sleep(ctx context.Context, d time.Duration) {
	w.mu.Unlock()
	defer w.mu.Lock()
	if d < 0 {
		select {
		case <-w.wake:
		case <-ctx.Done():
		}
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.wake:
	case <-ctx.Done():
	case <-t.C:
	}
}

// DueNow reports whether a timer is due at the current virtual time. Call it
// with the world held (from a timer, a task, or a break condition): a break
// at a deadline waits until every timer due at that instant has run, as
// RunUntil does.
func (w *World) DueNow() bool { return len(w.queue) > 0 && w.queue[0].at <= w.now }

// SetBreak makes a paced Run pause itself after the first timer that makes
// cond true (checked with the world held), then call onBreak, also with the
// world held; the break is then cleared. A scenario step's wait ends this way
// at the same virtual time as in Fast mode. nil clears the break.
func (w *World) SetBreak(cond func() bool, onBreak func()) {
	w.mu.Lock()
	w.brk, w.onBreak = cond, onBreak
	w.mu.Unlock()
	w.nudge()
}

// checkBreak pauses the world if its break condition holds. World held.
func (w *World) checkBreak() {
	if w.brk == nil || !w.brk() {
		return
	}
	fn := w.onBreak
	w.brk, w.onBreak = nil, nil
	w.paused = true
	w.rebase()
	if fn != nil {
		fn()
	}
}

// Stop makes Run return.
func (w *World) Stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.nudge()
}

// Unlocked runs fn with the world lock released, for blocking real I/O done
// from inside a timer or task (a CoAP exchange with a peer that itself needs
// the world). The clock cannot move meanwhile: only the run loop moves it,
// and it is waiting for this timer or task to finish.
func (w *World) Unlocked(fn func()) {
	w.mu.Unlock()
	defer w.mu.Lock()
	fn()
}
