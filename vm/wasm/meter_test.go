package wasm

import (
	"errors"
	"fmt"
	"testing"
)

var engines = []Engine{Interpreter, Compiler}

// bothEngines compiles and instantiates a module on both engines and runs
// f on each; it then checks that both saw the same outcomes.
func onBoth(t *testing.T, bin []byte, cfg Config, host Host, f func(t *testing.T, in *Instance) string) {
	t.Helper()
	var got []string
	for _, e := range engines {
		cfg.Engine = e
		m, err := Compile(bin, cfg)
		if err != nil {
			t.Fatalf("%s: compile: %v", e, err)
		}
		in, err := m.Instantiate(host)
		if err != nil {
			t.Fatalf("%s: instantiate: %v", e, err)
		}
		got = append(got, f(t, in))
		in.Close()
	}
	if got[0] != got[1] {
		t.Errorf("engines differ:\ninterpreter %s\ncompiler    %s", got[0], got[1])
	}
}

// outcome is a call's result, stats and error in one comparable string.
func outcome(res Result, err error) string {
	return fmt.Sprintf("r0=%#x %+v err=%v", res.R0, res.Stats, err)
}

func oneFunc(f fnSpec) []byte {
	if f.name == "" {
		f.name = "f"
	}
	return build(modSpec{funcs: []fnSpec{f}, memMin: 1, memMax: -1}).bin
}

func TestSegmentCosts(t *testing.T) {
	i32 := []ValType{I32}
	cases := []struct {
		name string
		f    fnSpec
		args []uint64
		r0   uint64
		want Stats
	}{
		{"straight", fnSpec{results: i32, body: cat(i32c(1), i32c(2), i32Add)}, nil, 3,
			Stats{Instructions: 3, ALU: 3}},
		{"block is not a cut", fnSpec{results: i32, body: cat(block, i32c(1), drop, end, i32c(7))}, nil, 7,
			Stats{Instructions: 3, ALU: 3}},
		// Count down from the argument: per iteration local.get, const, sub,
		// local.tee, br_if = 4 ALU + 1 branch; then local.get.
		{"loop", fnSpec{params: i32, results: i32, body: cat(loop, lget(0), i32c(1), i32Sub, ltee(0), brIf(0), end, lget(0))}, []uint64{5}, 0,
			Stats{Instructions: 5*5 + 1, Branches: 5, ALU: 5*4 + 1, Branch: 5}},
		{"if then", fnSpec{params: i32, results: i32, body: cat(lget(0), ifv, i32c(3), lset(0), elsev, i32c(4), lset(0), end, lget(0))}, []uint64{1}, 3,
			Stats{Instructions: 5, ALU: 4, Branch: 1}},
		{"if else", fnSpec{params: i32, results: i32, body: cat(lget(0), ifv, i32c(3), lset(0), elsev, i32c(4), lset(0), end, lget(0))}, []uint64{0}, 4,
			Stats{Instructions: 5, ALU: 4, Branch: 1}},
		{"memory and divide", fnSpec{results: i32, body: cat(i32c(8), i32c(100), store32(0), i32c(8), load32(0), i32c(7), i32DivU)}, nil, 14,
			Stats{Instructions: 7, ALU: 4, LoadStore: 2, Divide: 1}},
		{"br out of a block skips the rest", fnSpec{results: i32, body: cat(block, br(0), i32c(1), drop, end, i32c(2))}, nil, 2,
			Stats{Instructions: 2, ALU: 1, Branch: 1}},
		{"return", fnSpec{results: i32, body: cat(i32c(9), ret, i32c(1), drop)}, nil, 9,
			Stats{Instructions: 2, ALU: 1, Branch: 1}},
		{"br_table to the inner block", fnSpec{params: i32, results: i32, body: cat(block, block, lget(0), []byte{opBrTable, 1, 0, 1}, end, i32c(5), ret, end, i32c(7))}, []uint64{0}, 5,
			Stats{Instructions: 4, ALU: 2, Branch: 2}},
		{"br_table default", fnSpec{params: i32, results: i32, body: cat(block, block, lget(0), []byte{opBrTable, 1, 0, 1}, end, i32c(5), ret, end, i32c(7))}, []uint64{9}, 7,
			Stats{Instructions: 3, ALU: 2, Branch: 1}},
		// 3 outer iterations of 2 inner ones: 9 loop entries.
		{"nested loops", fnSpec{results: i32, locals: []ValType{I32, I32}, body: cat(
			loop, i32c(0), lset(1),
			loop, lget(1), i32c(1), i32Add, ltee(1), i32c(2), i32LtU, brIf(0), end,
			lget(0), i32c(1), i32Add, ltee(0), i32c(3), i32LtU, brIf(0), end, lget(0))}, nil, 3,
			Stats{Instructions: 70, Branches: 9, ALU: 61, Branch: 9}},
		{"grow and size", fnSpec{results: i32, body: cat(i32c(1), memGrow, drop, memSize)}, nil, 1,
			Stats{Instructions: 4, ALU: 2, LoadStore: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			onBoth(t, oneFunc(c.f), Config{}, nil, func(t *testing.T, in *Instance) string {
				res, err := in.Call("f", c.args...)
				if err != nil || res.R0 != c.r0 || res.Stats != c.want {
					t.Errorf("%s: %s, want r0=%#x %+v", in.m.engine, outcome(res, err), c.r0, c.want)
				}
				return outcome(res, err)
			})
		})
	}
}

func TestCallCosts(t *testing.T) {
	i32 := []ValType{I32}
	bin := build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{
		{name: "f", results: i32, body: cat(i32c(2), call(1), i32c(1), i32Add)},
		{params: i32, results: i32, body: cat(lget(0), lget(0), i32Mul)},
	}}).bin
	want := Stats{Instructions: 7, ALU: 6, Call: 1}
	onBoth(t, bin, Config{}, nil, func(t *testing.T, in *Instance) string {
		res, err := in.Call("f")
		if err != nil || res.R0 != 5 || res.Stats != want {
			t.Errorf("%s, want r0=5 %+v", outcome(res, err), want)
		}
		return outcome(res, err)
	})
}

func TestBudgetsExact(t *testing.T) {
	i32 := []ValType{I32}
	// 10 iterations: 26+25 = 51 instructions, 10 branches.
	f := fnSpec{name: "f", params: i32, results: i32, body: cat(loop, lget(0), i32c(1), i32Sub, ltee(0), brIf(0), end, lget(0))}
	bin := oneFunc(f)
	const insns, branches = 10*5 + 1, 10
	onBoth(t, bin, Config{}, nil, func(t *testing.T, in *Instance) string {
		var log string
		for _, c := range []struct {
			b, i  int64
			want  error
			stats Stats // what ran before the trap
		}{
			{branches, insns, nil, Stats{Instructions: insns, Branches: branches, ALU: 41, Branch: 10}},
			{branches, insns - 1, ErrOutOfBudget, Stats{Instructions: 50, Branches: 10, ALU: 40, Branch: 10}},
			{branches - 1, insns, ErrOutOfBranches, Stats{Instructions: 45, Branches: 9, ALU: 36, Branch: 9}},
			{branches - 1, insns - 1, ErrOutOfBranches, Stats{Instructions: 45, Branches: 9, ALU: 36, Branch: 9}},
			{branches, 3, ErrOutOfBudget, Stats{}},
		} {
			in.SetBudgets(c.b, c.i)
			res, err := in.Call("f", 10)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("budgets %d/%d: %v, want %v", c.b, c.i, err, c.want)
			}
			if res.Stats != c.stats {
				t.Errorf("budgets %d/%d: %+v, want %+v", c.b, c.i, res.Stats, c.stats)
			}
			log += outcome(res, err) + "\n"
		}
		return log
	})
}

// TestSegmentTable checks the static cut of a body: where each segment
// starts, what it costs and whether it begins a loop iteration.
func TestSegmentTable(t *testing.T) {
	f := fnSpec{name: "f", params: []ValType{I32}, results: []ValType{I32}, body: cat(
		i32c(1), drop, block, lget(0), ifv, // 0: entering the block is no cut; up to if
		lget(0), i32c(2), i32DivU, lset(0), elsev, // 9: the then-part, up to else
		i32c(8), load32(0), lset(0), end, // 17: the else-part, up to its end
		end,              // 25: after the if
		loop,             // 26: after the block, up to loop
		lget(0), brIf(0), // 28: the loop body
		end,      // 32: after br_if
		lget(0))} // 33: after the loop
	b := build(modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{f}})
	m, err := Compile(b.bin, Config{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) int { return b.bodies[0] + i }
	want := []segment{
		{at(0), cost{alu: 3, br: 1}, false},
		{at(9), cost{alu: 3, div: 1}, false},
		{at(17), cost{alu: 2, mem: 1}, false},
		{at(25), cost{}, false},
		{at(26), cost{}, false},
		{at(28), cost{alu: 1, br: 1}, true},
		{at(32), cost{}, false},
		{at(33), cost{alu: 1}, false},
	}
	got := m.segments[0]
	if len(got) != len(want) {
		t.Fatalf("%d segments %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
