package wasm

import (
	"errors"
	"fmt"
	"testing"
)

// TestHostile runs hostile modules beside a well-behaved one: each fails
// with its own reason, in bounded time and memory, and the good instance
// keeps giving its answer between them.
func TestHostile(t *testing.T) {
	i32 := []ValType{I32}
	good := build(modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "beat", results: i32, body: i32c(42)}}}).bin
	cases := []struct {
		name string
		spec modSpec
		want Kind
	}{
		{"infinite loop", modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(loop, br(0), end)}}}, ErrOutOfBranches},
		{"infinite loop without branches", modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(loop, i32c(1), brIf(0), end)}}}, ErrOutOfBranches},
		{"unbounded recursion", modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(call(0))}}}, ErrStackExhausted},
		{"mutual recursion", modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{name: "f", body: call(1)}, {body: call(0)}}}, ErrStackExhausted},
		{"memory.grow storm", modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(loop, i32c(1), memGrow, drop, br(0), end)}}}, ErrOutOfBranches},
		{"pointer outside memory to a native", modSpec{imports: []string{"write"}, memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(i32c(1), i32c(65000), i32c(4096), call(0), drop)}}}, ErrNative},
		{"store outside memory", modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(i32c(-4), i32c(1), store32(0))}}}, ErrOutOfBounds},
	}
	host := hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) {
		if _, err := mem.Read(args[1], int(args[2])); err != nil {
			return 0, err
		}
		return args[2], nil
	})
	for _, e := range engines {
		gm, err := Compile(good, Config{Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		gi, _ := gm.Instantiate(nil)
		for _, c := range cases {
			m, err := Compile(build(c.spec).bin, Config{Engine: e, MaxPages: 4})
			if err != nil {
				t.Fatalf("%s %s: %v", e, c.name, err)
			}
			in, _ := m.Instantiate(host)
			_, err = in.Call("f")
			if !errors.Is(err, c.want) {
				t.Errorf("%s %s: %v, want %s", e, c.name, err, c.want)
			}
			if in.Memory().Size() > 4*PageSize {
				t.Errorf("%s %s: memory grew to %d", e, c.name, in.Memory().Size())
			}
			in.Close()
			if res, err := gi.Call("beat"); err != nil || res.R0 != 42 {
				t.Errorf("%s after %s: the good instance gives %v %v", e, c.name, res.R0, err)
			}
		}
		gi.Close()
	}
}

// TestDeepFatRecursion recurses as deep as a module may with as many locals
// as a function may have: bounded host memory, the right trap.
func TestDeepFatRecursion(t *testing.T) {
	bin := build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{name: "f", locals: i32s(maxLocals), body: cat(i32c(1), lset(5), call(0))}}}).bin
	for _, e := range engines {
		m, err := Compile(bin, Config{Engine: e, MaxCallDepth: MaxCallDepthLimit})
		if err != nil {
			t.Fatal(err)
		}
		in, _ := m.Instantiate(nil)
		res, err := in.Call("f")
		if !errors.Is(err, ErrStackExhausted) || res.Stats.Call != MaxCallDepthLimit {
			t.Errorf("%s: %v after %+v", e, err, res.Stats)
		}
		in.Close()
	}
}

// TestConcurrentInstances runs instances of one module on several
// goroutines at once: each sees its own memory, budgets and counts.
func TestConcurrentInstances(t *testing.T) {
	text := benchText()
	for _, e := range engines {
		m, err := Compile(kernels(t), Config{Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		want := tokenNative(text[:512])
		done := make(chan error)
		for g := range 4 {
			go func() {
				in, err := m.Instantiate(nil)
				if err != nil {
					done <- err
					return
				}
				defer in.Close()
				w, _ := in.Memory().Write(m.HeapBase(), 512)
				copy(w, text)
				var first Stats
				for i := range 20 {
					in.SetBudgets(0, int64(100000+g))
					res, err := in.Call("token", m.HeapBase(), 512)
					if err != nil || res.R0 != want || i > 0 && res.Stats != first {
						done <- fmt.Errorf("goroutine %d call %d: %#x %v %+v", g, i, res.R0, err, res.Stats)
						return
					}
					first = res.Stats
				}
				done <- nil
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Errorf("%s: %v", e, err)
			}
		}
	}
}
