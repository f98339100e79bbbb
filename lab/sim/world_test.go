package sim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTimersRunInTimeThenSchedulingOrder(t *testing.T) {
	w := New(Fast)
	var got []string
	add := func(at time.Duration, name string) {
		w.At(at, func() { got = append(got, fmt.Sprintf("%s@%v", name, w.Now())) })
	}
	w.Do(func() {
		add(3*time.Second, "c")
		add(time.Second, "a")
		add(3*time.Second, "d")
		add(2*time.Second, "b")
	})
	if err := w.RunUntil(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	want := "a@1s b@2s c@3s d@3s"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("order = %s, want %s", s, want)
	}
	if w.Now() != 10*time.Second {
		t.Fatalf("clock = %v after RunUntil(10s)", w.Now())
	}
}

func TestTimerResetAndStop(t *testing.T) {
	w := New(Fast)
	n := 0
	var tm *Timer
	w.Do(func() {
		tm = w.NewTimer(func() {
			n++
			if n < 5 {
				tm.Reset(w.Now() + time.Second)
			}
		})
		tm.Reset(time.Second)
	})
	_ = w.RunUntil(context.Background(), time.Minute)
	if n != 5 {
		t.Fatalf("periodic timer ran %d times, want 5", n)
	}
	w.Do(func() {
		tm.Reset(w.Now() + time.Second)
		if !tm.Stop() || tm.Stop() {
			t.Error("Stop should report true once, then false")
		}
	})
	_ = w.RunUntil(context.Background(), 2*time.Minute)
	if n != 5 {
		t.Fatalf("stopped timer ran")
	}
}

func TestTaskSleepsInVirtualTimeAndInterleaves(t *testing.T) {
	w := New(Fast)
	var log []string
	w.Do(func() {
		w.Go(func(tk *Task) {
			for i := 0; i < 3; i++ {
				log = append(log, fmt.Sprintf("task%d@%v", i, tk.Now()))
				if err := tk.Sleep(1500 * time.Millisecond); err != nil {
					t.Error(err)
				}
			}
		})
		for i := 1; i <= 4; i++ {
			w.At(time.Duration(i)*time.Second, func() { log = append(log, fmt.Sprintf("tick@%v", w.Now())) })
		}
	})
	_ = w.RunUntil(context.Background(), 10*time.Second)
	want := "task0@0s tick@1s task1@1.5s tick@2s tick@3s task2@3s tick@4s"
	if s := strings.Join(log, " "); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
}

func TestTaskCancelWakesSleeperAtCurrentTime(t *testing.T) {
	w := New(Fast)
	var woke time.Duration
	var err error
	var tk *Task
	w.Do(func() {
		tk = w.Go(func(tk *Task) {
			err = tk.Sleep(time.Hour)
			woke = tk.Now()
		})
		w.At(2*time.Second, func() { tk.Cancel() })
	})
	_ = w.RunUntil(context.Background(), 2*time.Hour)
	if err == nil || woke != 2*time.Second || !tk.Done() {
		t.Fatalf("cancelled sleeper: err=%v woke=%v done=%v", err, woke, tk.Done())
	}
}

func TestTaskUnlockedLetsOthersUseTheWorld(t *testing.T) {
	w := New(Fast)
	var handled bool
	w.Do(func() {
		w.Go(func(tk *Task) {
			var wg sync.WaitGroup
			wg.Add(1)
			tk.Unlocked(func() {
				go func() { // a CoAP handler on another goroutine needs the world
					defer wg.Done()
					w.Do(func() { handled = true })
				}()
				wg.Wait()
			})
		})
	})
	_ = w.RunUntil(context.Background(), time.Second)
	if !handled {
		t.Fatal("handler did not run while the task was doing I/O")
	}
}

func TestRunWhileStopsWhenConditionTurns(t *testing.T) {
	w := New(Fast)
	count := 0
	var tm *Timer
	w.Do(func() {
		tm = w.NewTimer(func() { count++; tm.Reset(w.Now() + time.Second) })
		tm.Reset(time.Second)
	})
	ok, err := w.RunWhile(context.Background(), time.Minute, func() bool { return count < 7 })
	if err != nil || !ok || count != 7 || w.Now() != 7*time.Second {
		t.Fatalf("ok=%v err=%v count=%d now=%v", ok, err, count, w.Now())
	}
	ok, _ = w.RunWhile(context.Background(), 20*time.Second, func() bool { return count < 100 })
	if ok || w.Now() != 20*time.Second {
		t.Fatalf("limit: ok=%v now=%v", ok, w.Now())
	}
}

// fakeWall is a wall clock a test moves by hand.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeWall) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeWall) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestPacedNowFollowsWallTimesSpeed(t *testing.T) {
	fw := &fakeWall{t: time.Unix(1000, 0)}
	w := New(Paced, WithWallClock(fw.now))
	w.SetSpeed(4)
	fw.add(500 * time.Millisecond)
	var now time.Duration
	w.Do(func() { now = w.Now() })
	if now != 2*time.Second {
		t.Fatalf("after 0.5 s wall at 4x: now = %v, want 2s", now)
	}
	w.SetPaused(true)
	fw.add(10 * time.Second)
	w.Do(func() { now = w.Now() })
	if now != 2*time.Second {
		t.Fatalf("paused clock moved to %v", now)
	}
	if s := w.SetSpeed(1000); s != MaxSpeed {
		t.Fatalf("speed not clamped: %v", s)
	}
}

func TestPacedRunRunsDueTimers(t *testing.T) {
	w := New(Paced)
	w.SetSpeed(100)
	done := make(chan time.Duration, 1)
	w.Do(func() { w.At(2*time.Second, func() { done <- w.Now() }) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go w.Run(ctx)
	select {
	case at := <-done:
		if at != 2*time.Second {
			t.Fatalf("timer saw now = %v", at)
		}
	case <-ctx.Done():
		t.Fatal("paced timer at 2 s virtual (20 ms wall at 100x) never ran")
	}
	w.Stop()
}

// TestAwaitHoldsFastClockAndKeepsOrder: a task awaiting slow I/O holds the
// fast clock at its start; timers due at that instant still run; the task
// resumes at start + its modelled duration, in the order reserved at the call.
func TestAwaitHoldsFastClockAndKeepsOrder(t *testing.T) {
	w := New(Fast)
	var log []string
	w.Do(func() {
		w.At(time.Second, func() {
			w.Go(func(tk *Task) {
				_ = tk.Await(func() time.Duration {
					time.Sleep(30 * time.Millisecond) // slow wall-clock I/O
					return 500 * time.Millisecond
				})
				log = append(log, fmt.Sprintf("resumed@%v", tk.Now()))
			})
			w.At(time.Second, func() { log = append(log, fmt.Sprintf("same-instant@%v", w.Now())) })
			w.At(1500*time.Millisecond, func() { log = append(log, fmt.Sprintf("later@%v", w.Now())) })
		})
	})
	_ = w.RunUntil(context.Background(), 3*time.Second)
	want := "same-instant@1s later@1.5s resumed@1.5s" // "later" was scheduled before Await reserved its place
	if s := strings.Join(log, " "); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
}

func TestAwaitCancelled(t *testing.T) {
	w := New(Fast)
	var err error
	var tk *Task
	release := make(chan struct{})
	w.Do(func() {
		tk = w.Go(func(tk *Task) {
			err = tk.Await(func() time.Duration { <-release; return time.Second })
		})
		w.At(0, func() { tk.Cancel(); close(release) })
	})
	_ = w.RunUntil(context.Background(), 5*time.Second)
	if err == nil || !tk.Done() {
		t.Fatalf("cancelled await: err=%v done=%v", err, tk.Done())
	}
}

// TestPacedBreakPausesAtTheTimer: a paced world with a break pauses right
// after the timer that made the condition true, at that timer's virtual time.
func TestPacedBreakPausesAtTheTimer(t *testing.T) {
	w := New(Paced)
	w.SetSpeed(100)
	n := 0
	var tm *Timer
	w.Do(func() {
		tm = w.NewTimer(func() { n++; tm.Reset(w.Now() + 100*time.Millisecond) })
		tm.Reset(100 * time.Millisecond)
	})
	hit := make(chan time.Duration, 1)
	w.SetBreak(func() bool { return n == 5 }, func() { hit <- w.Now() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go w.Run(ctx)
	select {
	case at := <-hit:
		if at != 500*time.Millisecond || !w.Paused() {
			t.Fatalf("break at %v, paused %v", at, w.Paused())
		}
	case <-ctx.Done():
		t.Fatal("the break never happened")
	}
	time.Sleep(20 * time.Millisecond)
	var m int
	w.Do(func() { m = n })
	if m != 5 {
		t.Fatalf("the paused world went on running timers: %d", m)
	}
	w.Stop()
}

func TestPanicsAreReportedAndTheWorldGoesOn(t *testing.T) {
	w := New(Fast)
	var reported []any
	w.OnPanic(func(v any) { reported = append(reported, v) })
	ran := false
	w.Do(func() {
		w.At(time.Second, func() { panic("a bug in a timer") })
		w.Go(func(*Task) { panic("a bug in a task") })
		w.At(2*time.Second, func() { ran = true })
	})
	if err := w.RunUntil(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(reported) != 2 || !ran {
		t.Fatalf("reported %v, later timer ran: %v", reported, ran)
	}
}
