package scenarios

import (
	"context"
	"testing"
)

// BenchmarkRunMycoach plays mycoach headless from the lab's creation to its
// last expectation, as `tinylab run mycoach --fast` does (without printing).
func BenchmarkRunMycoach(b *testing.B) {
	sc := mustLoad(b, "mycoach")
	for range b.N {
		r, err := NewRunner(sc, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Play(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkFleetScenario is the fleet built-in: its start (1,000 boards,
// each with two containers loaded and started over CoAP) and its one step
// (60 virtual seconds).
func BenchmarkFleetScenario(b *testing.B) {
	sc := mustLoad(b, "fleet")
	b.Run("start", func(b *testing.B) {
		for range b.N {
			r, err := NewRunner(sc, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			r.Close()
			b.StartTimer()
		}
	})
	b.Run("advance60s", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			r, err := NewRunner(sc, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := r.Step(context.Background())
			if err != nil || !res.OK() {
				b.Fatalf("%v %s", err, res.Failure())
			}
			b.StopTimer()
			r.Close()
			b.StartTimer()
		}
	})
}
