package wasm

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// hostFunc adapts a function to Host.
type hostFunc func(name string, args []uint64, mem *Memory) (uint64, error)

func (f hostFunc) Call(name string, args []uint64, mem *Memory) (uint64, error) {
	return f(name, args, mem)
}

var errDenied = errors.New("denied by the test")

func TestTraps(t *testing.T) {
	i32 := []ValType{I32}
	type tc struct {
		name   string
		spec   modSpec
		fn     int // function the trap is in (defined index)
		at     int // byte index of the trapping instruction in that body, -1: the entry
		kind   Kind
		stats  Stats
		budget [2]int64
	}
	one := func(body ...[]byte) modSpec {
		return modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(body...)}}}
	}
	cases := []tc{
		{name: "out of bounds", spec: one(i32c(70000), load32(0), drop, i32c(1), drop), at: 4, kind: ErrOutOfBounds,
			stats: Stats{Instructions: 2, ALU: 1, LoadStore: 1}},
		{name: "second access of a segment", spec: one(i32c(0), load32(0), i32c(70000), load32(0), i32Add, drop), at: 2, kind: ErrOutOfBounds,
			stats: Stats{Instructions: 2, ALU: 1, LoadStore: 1}},
		{name: "store out of bounds", spec: one(i32c(65535), i32c(1), store32(0)), at: 6, kind: ErrOutOfBounds,
			stats: Stats{Instructions: 3, ALU: 2, LoadStore: 1}},
		{name: "divide by zero", spec: one(i32c(1), i32c(0), i32DivU, drop), at: 4, kind: ErrDivideByZero,
			stats: Stats{Instructions: 3, ALU: 2, Divide: 1}},
		{name: "integer overflow", spec: one(i32c(math.MinInt32), i32c(-1), i32DivS, drop), at: 8, kind: ErrIntegerOverflow,
			stats: Stats{Instructions: 3, ALU: 2, Divide: 1}},
		{name: "invalid conversion", spec: one(f64c(math.NaN()), i32TruncF64S, drop), at: 9, kind: ErrInvalidConversion,
			stats: Stats{Instructions: 2, ALU: 2}},
		{name: "truncation overflow", spec: one(f64c(1e20), i32TruncF64S, drop), at: 9, kind: ErrIntegerOverflow,
			stats: Stats{Instructions: 2, ALU: 2}},
		{name: "unreachable", spec: one(i32c(1), drop, unreach), at: 3, kind: ErrUnreachable,
			stats: Stats{Instructions: 3, ALU: 2, Branch: 1}},
		{name: "indirect call outside the table", spec: modSpec{memMin: -1, memMax: -1, table: 1, funcs: []fnSpec{{name: "f", body: cat(i32c(5), []byte{opCallIndirect, 0, 0})}}},
			at: 2, kind: ErrIndirectCall, stats: Stats{Instructions: 2, ALU: 1, Call: 1}},
		{name: "indirect call of the wrong type", spec: modSpec{memMin: -1, memMax: -1, table: 2, funcs: []fnSpec{
			{name: "f", body: cat(i32c(1), []byte{opCallIndirect, 0, 0})},
			{params: i32, results: i32, body: lget(0)}}},
			at: 2, kind: ErrIndirectCall, stats: Stats{Instructions: 2, ALU: 1, Call: 1}},
		{name: "unbounded recursion", spec: modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{name: "f", body: call(0)}}},
			at: -1, kind: ErrStackExhausted, stats: Stats{Instructions: DefaultMaxCallDepth, Call: DefaultMaxCallDepth}},
		{name: "trap in a callee", spec: modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{
			{name: "f", body: cat(i32c(1), call(1), drop)},
			{params: i32, results: i32, body: cat(lget(0), i32c(0), i32DivS)}}},
			fn: 1, at: 4, kind: ErrDivideByZero, stats: Stats{Instructions: 5, ALU: 3, Call: 1, Divide: 1}},
		{name: "native error", spec: modSpec{imports: []string{"logger"}, memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(i32c(0), call(0), i32c(1), drop)}}},
			at: 2, kind: ErrNative, stats: Stats{Instructions: 2, ALU: 1, Call: 1}},
		{name: "infinite loop: branches", spec: one(loop, br(0), end), at: 2, kind: ErrOutOfBranches,
			stats: Stats{Instructions: DefaultBranchBudget, Branches: DefaultBranchBudget, Branch: DefaultBranchBudget}},
		{name: "infinite loop: budget", spec: one(loop, i32c(1), drop, br(0), end), at: 2, kind: ErrOutOfBudget, budget: [2]int64{-1, 3000},
			stats: Stats{Instructions: 3000, Branches: 1000, ALU: 2000, Branch: 1000}},
		{name: "start function out of budget", spec: modSpec{memMin: 1, memMax: -1, start: 1, funcs: []fnSpec{{name: "f", body: cat(loop, br(0), end)}}},
			at: 2, kind: ErrOutOfBranches, stats: Stats{}},
	}
	host := hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) { return 0, errDenied })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := build(c.spec)
			want := b.bodies[c.fn]
			if c.at >= 0 {
				want += c.at
			}
			fname := fmt.Sprintf("$%d", c.fn+len(c.spec.imports))
			for _, e := range engines {
				m, err := Compile(b.bin, Config{Engine: e})
				if err != nil {
					t.Fatalf("%s: %v", e, err)
				}
				in, err := m.Instantiate(host)
				var res Result
				if c.spec.start == 0 {
					if err != nil {
						t.Fatalf("%s: %v", e, err)
					}
					if c.budget != [2]int64{} {
						in.SetBudgets(c.budget[0], c.budget[1])
					}
					res, err = in.Call("f")
					in.Close()
				}
				var trap *Trap
				if !errors.As(err, &trap) || !errors.Is(err, c.kind) {
					t.Fatalf("%s: %v, want a %s trap", e, err, c.kind)
				}
				if k, _ := KindOf(err); k != c.kind || trap.Offset != want || trap.Function != fname || trap.Index != c.fn+len(c.spec.imports) {
					t.Errorf("%s: %v (kind %s, function %q, offset %#x), want %s in %s at %#x", e, err, k, trap.Function, trap.Offset, c.kind, fname, want)
				}
				if res.Stats != c.stats {
					t.Errorf("%s: stats %+v, want %+v", e, res.Stats, c.stats)
				}
				if c.kind == ErrNative && (trap.Native != "logger" || !errors.Is(err, errDenied) || !strings.Contains(err.Error(), "native logger failed")) {
					t.Errorf("%s: native trap %v", e, err)
				}
			}
		})
	}
}

func TestNativePanics(t *testing.T) {
	bin := build(modSpec{imports: []string{"heartbeat"}, memMin: -1, memMax: -1, funcs: []fnSpec{{name: "f", results: []ValType{I32}, body: call(0)}}}).bin
	host := hostFunc(func(string, []uint64, *Memory) (uint64, error) { panic("broken host") })
	onBoth(t, bin, Config{}, host, func(t *testing.T, in *Instance) string {
		_, err := in.Call("f")
		if !errors.Is(err, ErrNative) || !strings.Contains(err.Error(), "native heartbeat failed in $1 at offset") || !strings.Contains(err.Error(), "panic: broken host") {
			t.Errorf("%v", err)
		}
		return fmt.Sprint(err)
	})
}

func TestKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := ErrOutOfBounds; k <= ErrNoExport; k++ {
		n := k.String()
		if n == "unknown" || seen[n] || k.Error() == "" {
			t.Errorf("kind %d: name %q", k, n)
		}
		seen[n] = true
	}
	if Kind(200).String() != "unknown" {
		t.Error("out-of-range kind")
	}
	if _, ok := KindOf(errors.New("x")); ok {
		t.Error("KindOf of a foreign error")
	}
}

func TestFunctionNames(t *testing.T) {
	// A name section (clang without --strip-all) names the trapping function.
	b := build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{name: "f", body: call(1)}, {body: unreach}}})
	names := vec(cat([]byte{0}, str("divide_all")), cat([]byte{1}, str("helper")))
	bin := append(append([]byte(nil), b.bin...), section(0, cat(str("name"), []byte{1}, appendULEB(nil, uint64(len(names))), names))...)
	onBoth(t, bin, Config{}, nil, func(t *testing.T, in *Instance) string {
		_, err := in.Call("f")
		var trap *Trap
		if !errors.As(err, &trap) || trap.Function != "helper" || trap.Offset != b.bodies[1] || !strings.Contains(err.Error(), "unreachable executed in helper at offset") {
			t.Errorf("%v", err)
		}
		return fmt.Sprint(err)
	})
}
