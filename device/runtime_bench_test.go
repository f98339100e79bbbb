package device

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
	"tinylab/lab/sim"
)

// coachCode is MyCoach's coach as the scenarios build it: the same C logic
// for eBPF (coach_bpf.o) and for WebAssembly (coach.wasm).
func coachCode(tb testing.TB, rt firewall.RuntimeType) []byte {
	tb.Helper()
	name := "coach_bpf.o"
	if rt == firewall.TypeWasm {
		name = "coach.wasm"
	}
	b, err := os.ReadFile(filepath.Join("..", "scenarios", "builtin", "containers", name))
	if err != nil {
		tb.Skipf("the scenarios' coach is not here: %v", err)
	}
	return b
}

// startCoach provisions and starts the coach built for rt on the rig.
func (r *rig) startCoach(uid string, rt firewall.RuntimeType) {
	r.t.Helper()
	code := coachCode(r.t, rt)
	data := []byte("100,120,140,160")
	mask, _ := firewall.ParseGrants([]string{"heartbeat", "open", "close", "read", "write", "log"})
	meta, err := firewall.Build(firewall.Spec{UID: uid, Type: CodeType(code), Grants: mask,
		Endpoints: []firewall.Endpoint{hrIn, displayOut},
		Timing:    firewall.Timing{StartMaxMS: 100, LoopPeriodMS: 1000, LoopMaxMS: 20, StopMaxMS: 100}, Code: code, Data: data}, ownerKey)
	if err != nil {
		r.t.Fatal(err)
	}
	r.do(func() {
		if _, err = r.d.Load(meta, code, data, "bench"); err == nil {
			err = r.d.Start(uid)
		}
	})
	if err != nil {
		r.t.Fatalf("%s on %s: %v", uid, rt, err)
	}
}

// BenchmarkCoachLoopTick is one loop period of the same container on each
// runtime, the agent's work included: the hook, its natives through the
// firewall (open, read, write, close, heartbeat), the watchdog and events.
func BenchmarkCoachLoopTick(b *testing.B) {
	for _, rt := range []firewall.RuntimeType{firewall.TypeBPF, firewall.TypeWasm} {
		b.Run(rt.String(), func(b *testing.B) {
			r := newRig(b, nil)
			r.startCoach("coach", rt)
			r.advance(2 * time.Second)
			r.env.events = nil
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.advance(time.Second)
				if i%1024 == 0 {
					r.env.events = r.env.events[:0]
				}
			}
		})
	}
}

// BenchmarkWasmInstantiate is runtime_create and finalize of the coach: a
// fresh instance of an already compiled module.
func BenchmarkWasmInstantiate(b *testing.B) {
	code := coachCode(b, firewall.TypeWasm)
	mod, err := WASM.Load(code)
	if err != nil {
		b.Fatal(err)
	}
	r := newRig(b, nil)
	r.startCoach("coach", firewall.TypeWasm)
	var natives Natives
	r.do(func() { natives = &hostCalls{c: r.d.container("coach")} })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, err := mod.Create([]byte("100,120,140,160"), natives)
		if err != nil {
			b.Fatal(err)
		}
		in.Finalize()
	}
}

// BenchmarkHostMemory runs 1,000 coaches on 125 nRF52840 boards (8 slots
// each) in one world, on each runtime, and reports what each costs the
// host: Go heap and resident memory (linear memories are anonymous
// mappings, outside the heap), after every one has looped. The devices'
// own share is in both; the difference is the runtime's.
func BenchmarkHostMemory(b *testing.B) {
	for _, rt := range []firewall.RuntimeType{firewall.TypeBPF, firewall.TypeWasm} {
		b.Run(rt.String(), func(b *testing.B) { hostMemoryRun(b, rt) })
	}
}

func hostMemoryRun(b *testing.B, rt firewall.RuntimeType) {
	const boards, per = 125, 8
	for i := 0; i < b.N; i++ {
		heap0, rss0 := hostMemory()
		env := &testEnv{w: sim.New(sim.Fast)}
		board, _ := LookupBoard("nrf52840dk")
		var rigs []*rig
		for k := range boards {
			r := &rig{t: b, env: env}
			cfg := Config{ID: fmt.Sprintf("dev-%d", k), Board: board, Seed: uint64(k), Owners: []ed25519.PublicKey{ownerKey.Public().(ed25519.PublicKey)},
				Peers: []PeerSpec{
					{ID: 10, Name: "hr", Class: ClassHeartRate, Model: ModelWalk, Start: 70, Min: 60, Max: 180},
					{ID: 20, Name: "display", Class: ClassDisplay},
				}}
			var err error
			env.w.Do(func() {
				if r.d, err = New(cfg, env); err == nil {
					err = r.d.PowerOn("power on")
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			for j := range per {
				r.startCoach(fmt.Sprintf("c%d", j), rt)
			}
			rigs = append(rigs, r)
		}
		rigs[0].advance(3 * time.Second)
		env.events = nil
		heap1, rss1 := hostMemory()
		n := boards * per
		running := 0
		for _, r := range rigs {
			r.do(func() {
				for _, c := range r.d.Containers() {
					if c.State == Running {
						running++
					}
				}
			})
		}
		if running != n {
			b.Fatalf("%d of %d running", running, n)
		}
		b.ReportMetric(float64(heap1-heap0)/float64(n), "heapB/container")
		b.ReportMetric(float64(rss1-rss0)/float64(n), "rssB/container")
		runtime.KeepAlive(rigs)
	}
}

// hostMemory is the Go heap in use and the process's resident set, in
// bytes, after a collection.
func hostMemory() (heap, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = int64(ms.HeapInuse)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return heap, rss
}
