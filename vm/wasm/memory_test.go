package wasm

import (
	"errors"
	"testing"
)

func TestRAM(t *testing.T) {
	heap := []globalSpec{{t: I32, init: 1200, export: "__heap_base"}, {t: I32, init: 1100, export: "__data_end"}}
	cases := []struct {
		name string
		spec modSpec
		cfg  Config
		want int
	}{
		{"no memory", modSpec{memMin: -1, memMax: -1}, Config{}, 0},
		{"one page, heap base, cannot grow", modSpec{memMin: 1, memMax: -1, globals: heap, funcs: []fnSpec{{body: cat(i32c(0), load32(0), drop)}}}, Config{}, 1200},
		{"data above the heap base", modSpec{memMin: 1, memMax: -1, globals: heap, data: []dataSpec{{off: 2000, init: []byte("hi")}}}, Config{}, 2008},
		{"no heap base: the pages", modSpec{memMin: 1, memMax: -1, data: []dataSpec{{off: 16, init: []byte("x")}}}, Config{}, PageSize},
		{"can grow: up to the limit", modSpec{memMin: 1, memMax: -1, globals: heap, funcs: []fnSpec{{body: cat(i32c(1), memGrow, drop)}}}, Config{MaxPages: 3}, 3 * PageSize},
		{"can grow: the declared maximum", modSpec{memMin: 1, memMax: 2, funcs: []fnSpec{{body: cat(i32c(1), memGrow, drop)}}}, Config{MaxPages: 4}, 2 * PageSize},
	}
	for _, c := range cases {
		m, err := Compile(build(c.spec).bin, c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.RAM() != c.want {
			t.Errorf("%s: RAM %d, want %d", c.name, m.RAM(), c.want)
		}
	}
}

func TestMemoryGrow(t *testing.T) {
	i32 := []ValType{I32}
	// grow(n) returns the old size in pages or -1.
	bin := build(modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{
		{name: "grow", params: i32, results: i32, body: cat(lget(0), memGrow)},
		// A storm: try to grow by one page 100000 times, count the failures.
		{name: "storm", params: nil, results: i32, locals: []ValType{I32, I32}, body: cat(
			loop,
			i32c(1), memGrow, i32c(-1), i32Eq, lget(1), i32Add, lset(1),
			lget(0), i32c(1), i32Add, ltee(0), i32c(100000), i32LtU, brIf(0),
			end, lget(1))},
	}}).bin
	onBoth(t, bin, Config{MaxPages: 3}, nil, func(t *testing.T, in *Instance) string {
		var log string
		for _, c := range []struct{ n, want uint64 }{{1, 1}, {1, 2}, {1, 0xffffffff}, {0, 3}, {1 << 20, 0xffffffff}} {
			res, err := in.Call("grow", c.n)
			if err != nil || res.R0 != c.want {
				t.Errorf("grow(%d) = %#x %v, want %#x", c.n, res.R0, err, c.want)
			}
			log += outcome(res, err)
		}
		if in.Memory().Size() != 3*PageSize {
			t.Errorf("memory %d bytes", in.Memory().Size())
		}
		if err := in.Reset(); err != nil {
			t.Fatal(err)
		}
		res, err := in.Call("storm")
		if err != nil || res.R0 != 100000-2 || in.Memory().Size() != 3*PageSize {
			t.Errorf("storm: %s, memory %d", outcome(res, err), in.Memory().Size())
		}
		return log + outcome(res, err)
	})
}

func TestNativePointers(t *testing.T) {
	// write(fd, buf, len) with the pointer and length the test gives.
	i32 := []ValType{I32}
	bin := build(modSpec{imports: []string{"write", "logger"}, memMin: 1, memMax: -1,
		data: []dataSpec{{off: 100, init: []byte("hello\x00")}, {off: 65530, init: []byte("abcdef")}},
		funcs: []fnSpec{
			{name: "w", params: []ValType{I32, I32}, results: i32, body: cat(i32c(1), lget(0), lget(1), call(0))},
			{name: "log", params: i32, body: cat(lget(0), call(1))},
		}}).bin
	var got []string
	host := hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) {
		switch name {
		case "write":
			b, err := mem.Read(args[1], int(int32(args[2])))
			if err != nil {
				return 0, err
			}
			got = append(got, string(b))
			w, err := mem.Write(args[1], 1)
			if err != nil {
				return 0, err
			}
			w[0] = 'H'
			return uint64(len(b)), nil
		case "logger":
			s, err := mem.ReadString(args[0], 5)
			if err != nil {
				return 0, err
			}
			got = append(got, s)
		}
		return 0, nil
	})
	onBoth(t, bin, Config{}, host, func(t *testing.T, in *Instance) string {
		got = nil
		var log string
		for _, c := range []struct {
			fn   string
			args []uint64
			ok   bool
		}{
			{"w", []uint64{100, 5}, true},
			{"w", []uint64{100, 5}, true}, // the first byte is now 'H'
			{"w", []uint64{65530, 6}, true},
			{"w", []uint64{65530, 7}, false},
			{"w", []uint64{0xffffffff, 2}, false},
			{"w", []uint64{0, 0xffffffff}, false}, // a negative length
			{"log", []uint64{100}, true},
			{"log", []uint64{65530}, true}, // cut at 5
			{"log", []uint64{65536}, false},
		} {
			res, err := in.Call(c.fn, c.args...)
			if c.ok != (err == nil) {
				t.Errorf("%s%v: %v", c.fn, c.args, err)
			}
			if !c.ok {
				var me *MemoryError
				if !errors.Is(err, ErrNative) || !errors.Is(err, ErrOutOfBounds) || !errors.As(err, &me) {
					t.Errorf("%s%v: %v is not a native trap from a memory check", c.fn, c.args, err)
				}
			}
			log += outcome(res, err)
		}
		want := []string{"hello", "Hello", "abcdef", "Hello", "Hbcde"}
		if len(got) != len(want) {
			t.Fatalf("host saw %q", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("host saw %q, want %q", got, want)
				break
			}
		}
		return log
	})
	// ReadString running off the end without a NUL.
	m, _ := Compile(build(modSpec{memMin: 1, memMax: -1, data: []dataSpec{{off: 65534, init: []byte("zz")}}}).bin, Config{})
	in, _ := m.Instantiate(nil)
	defer in.Close()
	if _, err := in.Memory().ReadString(65534, 10); !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("unterminated string: %v", err)
	}
	if s, err := in.Memory().ReadString(65534, 2); s != "zz" || err != nil {
		t.Errorf("string cut at max: %q %v", s, err)
	}
}

func TestReset(t *testing.T) {
	i32 := []ValType{I32}
	// bump increments a global and a memory word, giving the sum.
	bin := build(modSpec{memMin: 1, memMax: -1, globals: []globalSpec{{t: I32, mutable: true, init: 5}},
		data: []dataSpec{{off: 8, init: []byte{1, 0, 0, 0}}},
		funcs: []fnSpec{{name: "bump", results: i32, body: cat(
			gget(0), i32c(1), i32Add, gset(0),
			i32c(8), i32c(8), load32(0), i32c(1), i32Add, store32(0),
			gget(0), i32c(8), load32(0), i32Add)}}}).bin
	onBoth(t, bin, Config{}, nil, func(t *testing.T, in *Instance) string {
		var log string
		for _, want := range []uint64{8, 10, 12} {
			res, err := in.Call("bump")
			if err != nil || res.R0 != want {
				t.Errorf("bump: %s, want %d", outcome(res, err), want)
			}
			log += outcome(res, err)
		}
		if err := in.Reset(); err != nil {
			t.Fatal(err)
		}
		if res, err := in.Call("bump"); err != nil || res.R0 != 8 {
			t.Errorf("after Reset: %s", outcome(res, err))
		}
		in.Close()
		if _, err := in.Call("bump"); err == nil {
			t.Error("call after Close")
		}
		return log
	})
}

func TestInstantiateFails(t *testing.T) {
	// A data segment past the end of memory: refused at instantiation.
	bin := build(modSpec{memMin: 1, memMax: -1, data: []dataSpec{{off: 65535, init: []byte("ab")}}}).bin
	for _, e := range engines {
		m, err := Compile(bin, Config{Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Instantiate(nil); err == nil {
			t.Errorf("%s: instantiated a data segment outside memory", e)
		} else if _, ok := KindOf(err); !ok {
			t.Errorf("%s: untyped error %v", e, err)
		}
	}
	if _, err := Compile(bin, Config{MaxPages: 1 << 20}); !errors.Is(err, ErrTooManyPages) {
		t.Errorf("a slot beyond 4 GiB: %v", err)
	}
}

func TestEngines(t *testing.T) {
	if Auto.Resolve() == Auto || Interpreter.Resolve() != Interpreter || Compiler.Resolve() != Compiler {
		t.Errorf("Resolve: %s %s %s", Auto.Resolve(), Interpreter.Resolve(), Compiler.Resolve())
	}
	m, err := Compile(bodyModule(i32c(1), drop), Config{})
	if err != nil || m.Engine() != Auto.Resolve() {
		t.Errorf("Auto compiles on %v: %v", m.Engine(), err)
	}
	for _, e := range []Engine{Auto, Interpreter, Compiler} {
		if e.String() == "" {
			t.Error("engine without a name")
		}
	}
}
