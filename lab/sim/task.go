package sim

import (
	"context"
	"time"
)

// Task is a coroutine in virtual time: a goroutine that runs only while the
// world is handed to it. It may Sleep (virtual time passes, other timers run)
// and do real I/O with Unlocked. Between those points it owns the world exactly
// as a timer does, so it may touch device state.
type Task struct {
	w      *World
	ctx    context.Context
	cancel context.CancelFunc
	wake   *Timer
	resume chan struct{} // world -> task
	yield  chan struct{} // task -> world
	done   bool
}

// Go starts fn as a task at the current virtual time. Must be called with the
// world held. fn's first run happens in a timer at Now, after the caller returns.
func (w *World) Go(fn func(*Task)) *Task {
	ctx, cancel := context.WithCancel(context.Background())
	t := &Task{w: w, ctx: ctx, cancel: cancel, resume: make(chan struct{}), yield: make(chan struct{})}
	t.wake = w.NewTimer(t.step)
	go func() {
		<-t.resume
		defer func() {
			t.done = true
			t.cancel()
			t.yield <- struct{}{}
		}()
		w.guard(func() { fn(t) })
	}()
	t.wake.Reset(w.now)
	return t
}

// step hands the world to the task until it sleeps or ends. Runs as a timer.
func (t *Task) step() {
	t.resume <- struct{}{}
	<-t.yield
}

// Context is cancelled by Cancel (a power cut) and when the task ends.
func (t *Task) Context() context.Context { return t.ctx }

// Now is the virtual time.
func (t *Task) Now() time.Duration { return t.w.now }

// Sleep lets d of virtual time pass. It returns early with the context's
// error when the task is cancelled.
func (t *Task) Sleep(d time.Duration) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	t.wake.Reset(t.w.now + d)
	t.yield <- struct{}{}
	<-t.resume
	return t.ctx.Err()
}

// Unlocked runs blocking I/O with the world released (see World.Unlocked).
// The world's run loop waits for it; Await does not.
func (t *Task) Unlocked(fn func()) { t.w.Unlocked(fn) }

// Await runs blocking real I/O off the world and resumes the task once it is
// done and the virtual time fn returns has passed since the call: fn returns
// how long the exchange takes in the modelled world (its air time). Other
// timers and tasks run meanwhile. In Fast mode the clock does not advance
// while fn runs; in Paced mode it does, and the task resumes no earlier than
// when fn returned. The task's place among timers due at the same instant is
// fixed when Await is called, so the outcome does not depend on how long fn
// takes in wall time. It returns the context's error when the task was
// cancelled meanwhile.
func (t *Task) Await(fn func() time.Duration) error {
	w := t.w
	start := w.now
	w.order++
	order := w.order
	w.inflight++
	go func() {
		d := fn()
		w.mu.Lock()
		w.inflight--
		t.wake.resetOrdered(max(start+d, w.now), order)
		w.settled.Broadcast()
		w.mu.Unlock()
		w.nudge()
	}()
	t.yield <- struct{}{}
	<-t.resume
	return t.ctx.Err()
}

// Cancel cancels the task's context; a sleeping task wakes at the current
// virtual time to see it. Must be called with the world held.
func (t *Task) Cancel() {
	if t.done {
		return
	}
	t.cancel()
	if t.wake.Pending() {
		t.wake.Reset(t.w.now)
	}
}

// Done reports whether the task's function has returned.
func (t *Task) Done() bool { return t.done }
