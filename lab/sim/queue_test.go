package sim

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestQueueRunsInKeyOrderUnderChurn schedules, reschedules and stops many
// timers at random and checks that what runs is exactly the pending timers
// in (time, scheduling order), as a sorted list of them says.
func TestQueueRunsInKeyOrderUnderChurn(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		w := New(Fast)
		var ran []int
		timers := make([]*Timer, 300)
		for i := range timers {
			timers[i] = w.NewTimer(func() { ran = append(ran, i) })
		}
		w.Do(func() {
			for range 3000 {
				tm := timers[rng.IntN(len(timers))]
				switch rng.IntN(4) {
				case 0:
					tm.Stop()
				default:
					tm.Reset(time.Duration(rng.IntN(50)) * time.Millisecond)
				}
			}
		})
		type key struct {
			at    time.Duration
			order uint64
			i     int
		}
		var want []key
		for i, tm := range timers {
			if tm.Pending() {
				want = append(want, key{tm.at, tm.order, i})
			}
		}
		slices.SortFunc(want, func(a, b key) int {
			if a.at != b.at {
				return int(a.at - b.at)
			}
			return int(a.order) - int(b.order)
		})
		if err := w.RunUntil(context.Background(), time.Second); err != nil {
			t.Fatal(err)
		}
		if len(ran) != len(want) {
			t.Fatalf("seed %d: %d timers ran, want %d", seed, len(ran), len(want))
		}
		for k := range want {
			if ran[k] != want[k].i {
				t.Fatalf("seed %d: run %d was timer %d, want %d", seed, k, ran[k], want[k].i)
			}
		}
	}
}
