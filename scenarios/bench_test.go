package scenarios

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
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

// fleetOf is the fleet built-in with its count raised to n boards.
func fleetOf(tb testing.TB, n int) *Scenario {
	tb.Helper()
	src, err := fs.ReadFile(builtinFS, "builtin/fleet.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	text := strings.Replace(string(src), "count: 1000", "count: "+strconv.Itoa(n), 1)
	text = strings.Replace(text, "node-1000/sampler", "node-"+strconv.Itoa(n)+"/sampler", 1)
	sc, err := Parse("fleet.yaml", []byte(text), builtinFS, "builtin")
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

// BenchmarkFleetBoards plays the fleet built-in at several sizes, from the
// lab's creation to the end of its minute: the time of a run per board and
// virtual second, and the live heap and goroutine stacks each board holds
// at the end (the peak RSS of `tinylab run` is measured beside it with
// /usr/bin/time).
func BenchmarkFleetBoards(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("boards=%d", n), func(b *testing.B) {
			sc := fleetOf(b, n)
			for range b.N {
				b.StopTimer()
				// A lab closed before (another run, another benchmark) is
				// freed once its servers leave the CoAP housekeeping
				// runner, at its next tick (4 s).
				time.Sleep(5 * time.Second)
				base, baseStack := mem()
				b.StartTimer()
				start, cpu := time.Now(), cpuTime()
				r, err := NewRunner(sc, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Play(context.Background(), nil); err != nil {
					b.Fatal(err)
				}
				wall, cpuUsed := time.Since(start), cpuTime()-cpu
				b.StopTimer()
				held, stack := mem()
				r.Close()
				b.StartTimer()
				b.ReportMetric(float64(wall.Nanoseconds())/float64(n)/60, "ns/board-s")
				b.ReportMetric(float64(cpuUsed.Nanoseconds())/float64(n)/60, "cpu-ns/board-s")
				b.ReportMetric(float64(int64(held)-int64(base))/float64(n)/1024, "heap-KiB/board")
				b.ReportMetric(float64(int64(stack)-int64(baseStack))/float64(n)/1024, "stack-KiB/board")
			}
		})
	}
}

// mem is the live heap and the goroutine stacks, after collecting.
func mem() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}
