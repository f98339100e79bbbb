package lab

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab/rollout"
	"tinylab/lab/sim"
)

// fleet builds a lab of n devices, each with its own CoAP socket, and with
// running containers (0, 1 or 2) of a heartbeating program, loop period 1 s.
func fleet(tb testing.TB, n, running int) *Lab {
	tb.Helper()
	l, err := New(Options{Seed: 1, Mode: sim.Fast})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(l.Close)
	must(tb, firstErr(l.AddParty("owner", Owner)))
	must(tb, firstErr(l.AddParty("ops", Tenant)))
	for _, name := range []string{"a", "b"}[:running] {
		must(tb, l.Define(ContainerDef{Name: name, Tenant: "ops", Code: code(tb, beatSrc), Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	}
	for i := range n {
		id := fmt.Sprintf("node-%d", i+1)
		if _, err := l.AddDevice(DeviceSpec{ID: id, Board: "nrf52dk"}); err != nil {
			tb.Fatal(err)
		}
		for _, name := range []string{"a", "b"}[:running] {
			must(tb, l.Load(id, name))
			must(tb, l.Start(id, name))
		}
	}
	return l
}

func firstErr[T any](_ T, err error) error { return err }

// mem is the live heap and the goroutine stacks.
func mem() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// BenchmarkDeviceMemory reports the host heap one device takes, idle and with
// two running containers, as heap growth over 1,000 devices (sockets,
// go-coap servers, agents, firewalls, VM instances, and the events the bus
// keeps), and the goroutine stacks beside it (one CoAP server each).
func BenchmarkDeviceMemory(b *testing.B) {
	for _, running := range []int{0, 2} {
		b.Run(fmt.Sprintf("containers=%d", running), func(b *testing.B) {
			for range b.N {
				h0, s0 := mem()
				l := fleet(b, 1000, running)
				must(b, l.Advance(context.Background(), 5*time.Second))
				h1, s1 := mem()
				b.ReportMetric(float64(h1-h0)/1000/1024, "heap-KiB/device")
				b.ReportMetric(float64(s1-s0)/1000/1024, "stack-KiB/device")
				l.Close()
			}
		})
	}
}

// BenchmarkFleet is 1,000 devices with two containers each, loop period 1 s:
// building the lab (start) and advancing it 60 virtual seconds in Fast mode.
func BenchmarkFleet(b *testing.B) {
	b.Run("start", func(b *testing.B) {
		for range b.N {
			l := fleet(b, 1000, 2)
			b.StopTimer()
			l.Close()
			b.StartTimer()
		}
	})
	b.Run("advance60s", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			l := fleet(b, 1000, 2)
			var beats int
			l.Bus().Sink(func(e device.Event) {
				if e.Data.Kind() == device.KindHeartbeat {
					beats++
				}
			})
			b.StartTimer()
			must(b, l.Advance(context.Background(), 60*time.Second))
			b.StopTimer()
			if beats < 2*1000*59 {
				b.Fatalf("%d heartbeats in 60 s from 2,000 containers", beats)
			}
			l.Close()
			b.StartTimer()
		}
	})
}

// BenchmarkRollout is a campaign over a whole fleet in one wave: every
// board fetches the release over CoAP (manifest and three components,
// block by block), verifies it and installs it, in Fast mode, from the
// rollout command to the campaign's completion. The goal at 10,000 boards
// is 10 s.
func BenchmarkRollout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("boards=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				l := bigFleet(b, n)
				b.StartTimer()
				cpu := cpuTime()
				if _, err := l.Exec("rollout app v2 --to box-* --pause 1s"); err != nil {
					b.Fatal(err)
				}
				done, err := l.World().RunWhile(context.Background(), l.Now()+5*time.Minute, func() bool {
					v, _ := l.RolloutViewHeld()
					return !v.State.Over()
				})
				b.StopTimer()
				b.ReportMetric((cpuTime() - cpu).Seconds(), "cpu-s")
				v, _ := l.RolloutView()
				if err != nil || !done || v.Waves[0].Counts[rollout.Installed] != n {
					b.Fatalf("rollout %v %v:\n%s", done, err, v)
				}
				l.Close()
				b.StartTimer()
			}
		})
	}
}

// bigFleet is n boards sharing sockets, each running app v1, with app-v2
// defined: the lab of the rollout and snapshot benchmarks.
func bigFleet(b *testing.B, n int) *Lab {
	b.Helper()
	l, err := New(Options{Seed: 1, Mode: sim.Fast, BoardsPerSocket: 256, BlockSize: 1024})
	if err != nil {
		b.Fatal(err)
	}
	must(b, firstErr(l.AddParty("owner", Owner)))
	must(b, firstErr(l.AddParty("ops", Tenant)))
	grants := firewall.MaskOf(firewall.CallHeartbeat)
	must(b, l.Define(ContainerDef{Name: "app", Tenant: "ops", Code: code(b, beatSrc), Grants: grants}))
	must(b, l.Define(ContainerDef{Name: "app-v2", UID: "app", Tenant: "ops", Code: code(b, beatSrc), Data: []byte("v2"), Grants: grants}))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("box-%d", i+1)
		if _, err := l.AddDevice(DeviceSpec{ID: ids[i], Board: "nrf52dk"}); err != nil {
			b.Fatal(err)
		}
	}
	must(b, l.Provision(ids, []string{"app"}))
	return l
}

// BenchmarkSnapshot is the copy of the lab the UI takes each frame with
// 1,000 and 10,000 boards and a rollout under way: the rows the device list
// asks for (44 on screen of a 160x48 terminal and a screen either side, in
// the middle of the fleet), one device in full, the campaign with its map;
// and, beside it, the whole list (the gateway's /lab/devices).
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		l := bigFleet(b, n)
		if _, err := l.Exec("rollout app v2 --to box-* --canary 1% --waves 10%,100%"); err != nil {
			b.Fatal(err)
		}
		must(b, l.Advance(context.Background(), 3*time.Second))
		for _, rows := range []struct {
			name string
			Rows
		}{{"window", Rows{From: n/2 - 44, Count: 3 * 44}}, {"all", AllRows}} {
			b.Run(fmt.Sprintf("boards=%d/rows=%s", n, rows.name), func(b *testing.B) {
				for range b.N {
					if s := l.SnapshotRows("box-42", rows.Rows); s.Rollout == nil || len(s.IDs) != n || s.Detail == nil {
						b.Fatal("no rollout or no detail in the snapshot")
					}
				}
			})
		}
		l.Close()
	}
}
