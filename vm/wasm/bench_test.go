package wasm

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The benchmarks mirror vm/bench_test.go (BenchmarkLoop, BenchmarkFletcher16,
// BenchmarkStateMachine) on the same kernels, compiled from C: each reports
// ns per metered wasm instruction (ns/insn) on both engines, metered and
// unmetered (the same module compiled by wazero as it is, timed against the
// metered instruction count, so the ratio of the two is the meter's
// overhead), and x-native against the Go twin.

type kernelCase struct {
	fn     string
	args   func(base uint64) []uint64
	runs   int
	native func() uint64
}

func kernelCases() map[string]kernelCase {
	text := benchText()
	return map[string]kernelCase{
		"loop":     {"loop", func(uint64) []uint64 { return []uint64{loopIterations} }, 1, func() uint64 { return loopNative(loopIterations) }},
		"fletcher": {"fletcher", func(b uint64) []uint64 { return []uint64{b, 4096} }, 1000, func() uint64 { return fletcherNative(text) }},
		"token":    {"token", func(b uint64) []uint64 { return []uint64{b, 4096} }, 1000, func() uint64 { return tokenNative(text) }},
	}
}

// unmetered instantiates the kernels in a plain wazero runtime.
func unmetered(b *testing.B, e Engine) (api.Module, uint64, func()) {
	cfg := wazero.NewRuntimeConfigInterpreter()
	if e == Compiler {
		cfg = wazero.NewRuntimeConfigCompiler()
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg.WithCoreFeatures(features))
	mod, err := rt.Instantiate(ctx, kernels(b))
	if err != nil {
		b.Fatal(err)
	}
	base := uint64(mod.ExportedGlobal("__heap_base").Get())
	mod.Memory().Write(uint32(base), benchText())
	return mod, base, func() { rt.Close(ctx) }
}

func benchKernel(b *testing.B, name string) {
	c := kernelCases()[name]
	for _, e := range engines {
		if e == Compiler && !compilerPlatform() {
			continue
		}
		in, base := kernelInstance(b, e)
		args := c.args(base)
		runs := c.runs
		if e == Interpreter {
			// wazero's interpreter is some 50 times slower: a tenth of the
			// work keeps an op near a second (ns/insn does not change).
			if c.fn == "loop" {
				args = []uint64{loopIterations / 10}
			} else {
				runs /= 10
			}
		}
		res, err := in.Call(c.fn, args...)
		if err != nil {
			b.Fatal(err)
		}
		insns := res.Stats.Instructions
		b.Run(e.String()+"/metered", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for range runs {
					if _, err := in.Call(c.fn, args...); err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b, insns*uint64(runs), c, runs, args)
		})
		b.Run(e.String()+"/unmetered", func(b *testing.B) {
			mod, base, done := unmetered(b, e)
			defer done()
			fn := mod.ExportedFunction(c.fn)
			stack := make([]uint64, 2)
			raw := append([]uint64(nil), args...)
			if len(raw) == 2 {
				raw[0] = base
			}
			b.ReportAllocs()
			for b.Loop() {
				for range runs {
					copy(stack, raw)
					if err := fn.CallWithStack(context.Background(), stack); err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b, insns*uint64(runs), c, runs, args)
		})
		in.Close()
	}
}

// report gives ns per metered instruction and the ratio to the Go twin,
// timed right after for the same number of ops.
func report(b *testing.B, insnsPerOp uint64, c kernelCase, runs int, args []uint64) {
	b.StopTimer()
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(insnsPerOp*uint64(b.N)), "ns/insn")
	var sink uint64
	start := testingNow()
	native := c.native
	if c.fn == "loop" {
		native = func() uint64 { return loopNative(args[0]) }
	}
	for range b.N {
		for range runs {
			sink += native()
		}
	}
	nativeTime := testingSince(start)
	if sink == 1 {
		b.Log(sink)
	}
	b.ReportMetric(float64(elapsed)/float64(nativeTime), "x-native")
}

func BenchmarkLoop(b *testing.B)         { benchKernel(b, "loop") }
func BenchmarkFletcher16(b *testing.B)   { benchKernel(b, "fletcher") }
func BenchmarkStateMachine(b *testing.B) { benchKernel(b, "token") }

// BenchmarkInstantiate is the cost of a fresh instance of a compiled module
// (the kernels: one page, three functions) and of closing it.
func BenchmarkInstantiate(b *testing.B) {
	for _, e := range engines {
		m, err := Compile(kernels(b), Config{Engine: e})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(e.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in, err := m.Instantiate(nil)
				if err != nil {
					b.Fatal(err)
				}
				in.Close()
			}
		})
	}
}

// BenchmarkInstances1000 holds 1,000 running instances (each has 4 KiB of
// context at its heap base and has run its three exports)
// and reports the host memory
// each costs: Go heap, and resident memory as the kernel counts it (Linux).
func BenchmarkInstances1000(b *testing.B) {
	const n = 1000
	text := benchText()
	for _, e := range engines {
		m, err := Compile(kernels(b), Config{Engine: e})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(e.String(), func(b *testing.B) {
			var heap, rss, linear float64
			for b.Loop() {
				h0, r0 := hostMemory()
				ins := make([]*Instance, n)
				for i := range ins {
					in, err := m.Instantiate(nil)
					if err != nil {
						b.Fatal(err)
					}
					w, _ := in.Memory().Write(m.HeapBase(), len(text))
					copy(w, text)
					// Three exports called, as an agent calls start, loop and stop.
					for _, c := range []struct {
						fn   string
						args []uint64
					}{{"loop", []uint64{10}}, {"fletcher", []uint64{m.HeapBase(), 64}}, {"token", []uint64{m.HeapBase(), 64}}} {
						if _, err := in.Call(c.fn, c.args...); err != nil {
							b.Fatal(err)
						}
					}
					ins[i] = in
				}
				h1, r1 := hostMemory()
				heap += float64(h1-h0) / n
				rss += float64(r1-r0) / n
				for _, in := range ins {
					if r := residentLinear(in); r >= 0 {
						linear += float64(r) / n
					}
				}
				for _, in := range ins {
					in.Close()
				}
			}
			b.ReportMetric(heap/float64(b.N), "heapB/instance")
			// Go heap plus the pages of linear memory in RAM: what the
			// instances cost the host (rssB counts the Go heap's reuse of
			// pages it already had, so it is lower).
			b.ReportMetric(linear/float64(b.N), "linearB/instance")
			b.ReportMetric((heap+linear)/float64(b.N), "hostB/instance")
			if rss > 0 {
				b.ReportMetric(rss/float64(b.N), "rssB/instance")
			}
		})
	}
}

// hostMemory is the live Go heap and the resident set size, after a GC.
func hostMemory() (heap, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return int64(ms.HeapAlloc), rss
}
