package attach

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"tinylab/device/coapnet"
)

// BenchmarkNotificationLatency: a state change on an observed peer until
// the attacher's view shows it (NON notification on loopback, CBOR decode,
// diff, event).
func BenchmarkNotificationLatency(b *testing.B) {
	o := &observable{state: "RUNNING"}
	srv, err := coapnet.Listen("127.0.0.1:0", o.handler(), coapnet.Options{})
	must(b, err)
	defer srv.Close()
	u, err := NewUDP("127.0.0.1:0")
	must(b, err)
	defer u.Close()
	var ev log
	a := New(Options{Dialer: u, Probe: time.Minute, Timeout: time.Second, OnEvent: ev.add})
	defer a.Close()
	must(b, a.Attach("obs", srv.URI()))
	eventually(b, 3*time.Second, "observing", func() bool { return remote(a, "obs").Observing })
	states := []string{"READY", "RUNNING"}
	for i := 0; b.Loop(); i++ {
		want := states[i%2]
		o.set(want)
		for stateOf(remote(a, "obs"), "coach") != want {
			runtime.Gosched()
		}
	}
}

// BenchmarkAttach100 attaches 100 real devices (one lab on loopback, as 100
// `tinylab device` processes would be) and waits until every one is live
// and has reported its containers: the time per op. It also reports the heap
// the attacher holds per device and the CPU it takes per second of
// following (probes and polls every 2 s), measured over 3 s against the
// same lab without an attacher.
func BenchmarkAttach100(b *testing.B) {
	const n = 100
	l := fleet(b, n)
	nodes := l.Nodes()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	window := 3 * time.Second
	c0 := cpu()
	time.Sleep(window)
	base := cpu() - c0
	var heapPerDev, cpuPerSec float64
	for i := 0; b.Loop(); i++ {
		u, err := NewUDP("127.0.0.1:0")
		must(b, err)
		a := New(Options{Dialer: u})
		for _, nd := range nodes {
			must(b, a.Attach(nd.ID(), nd.URI()))
		}
		for {
			live := 0
			for _, r := range a.Devices() {
				if r.Live && len(r.Containers) == 1 {
					live++
				}
			}
			if live == n {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if i == 0 {
			// what the attacher holds: the live heap with it, then without it
			b.StopTimer()
			c1 := cpu()
			time.Sleep(window)
			following := cpu() - c1
			var with, without runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&with)
			a.Close()
			u.Close()
			runtime.GC()
			runtime.ReadMemStats(&without)
			heapPerDev = float64(int64(with.HeapAlloc)-int64(without.HeapAlloc)) / n
			cpuPerSec = float64((following - base).Milliseconds()) / window.Seconds()
			b.StartTimer()
			continue
		}
		a.Close()
		u.Close()
	}
	b.ReportMetric(heapPerDev, "heap-B/device")
	b.ReportMetric(cpuPerSec, "cpu-ms/s")
}

// BenchmarkDeviceChangeLatency: a real device, a stop or start sent over
// CoAP until the view shows the new state: by notification where the device
// grants the observation, else by the next poll (Probe = 100 ms).
func BenchmarkDeviceChangeLatency(b *testing.B) {
	l := fleet(b, 1)
	n := l.Nodes()[0]
	u, err := NewUDP("127.0.0.1:0")
	must(b, err)
	defer u.Close()
	a := New(Options{Dialer: u, Probe: 100 * time.Millisecond, Timeout: time.Second})
	defer a.Close()
	must(b, a.Attach(n.ID(), n.URI()))
	eventually(b, 3*time.Second, "live", func() bool { return stateOf(remote(a, n.ID()), "coach") == "RUNNING" })
	observed := 0.0
	if remote(a, n.ID()).Observing {
		observed = 1
	}
	cmds := []struct{ cmd, want string }{{"stop", "READY"}, {"start", "RUNNING"}}
	for i := 0; b.Loop(); i++ {
		c := cmds[i%2]
		must(b, a.Command(context.Background(), n.ID(), c.cmd, "coach"))
		for stateOf(remote(a, n.ID()), "coach") != c.want {
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(observed, "observed")
}
