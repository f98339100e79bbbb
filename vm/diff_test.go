package vm_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/internal/corpus"
)

var errBoom = errors.New("boom")

// diffHelpers only look at their arguments, so both interpreters can call them.
var diffHelpers = vm.HelperMap{
	1: func(a *[5]uint64, _ *vm.Memory) (uint64, error) { return a[0]*3 + a[1], nil },
	2: func(a *[5]uint64, _ *vm.Memory) (uint64, error) {
		if a[0]&1 == 1 {
			return a[0], vm.ErrHalt
		}
		return a[0] >> 1, nil
	},
	3: func(a *[5]uint64, _ *vm.Memory) (uint64, error) { return 0, errBoom },
	4: func(a *[5]uint64, _ *vm.Memory) (uint64, error) { return a[0] ^ a[4], nil },
	5: corpus.Helpers()[5],
}

type diffCase struct {
	img      *vm.Image
	ctx      []byte
	entry    int
	branches int64
	budget   int64
	ctxW     bool
}

// compareRuns runs c on the VM and on refVM and describes any difference in
// r0, error kind and pc, stats, context and data. Programs the verifier
// rejects are not compared (ran is false); kind is how the run ended.
func compareRuns(c diffCase) (ran bool, kind vm.Kind, err error) {
	p, err := vm.Verify(c.img, diffHelpers)
	if err != nil {
		return false, 0, nil
	}
	in := vm.NewInstance(p, vm.Config{Helpers: diffHelpers, BranchBudget: c.branches, InstructionBudget: c.budget, ContextWritable: c.ctxW})
	ctx1, ctx2 := bytes.Clone(c.ctx), bytes.Clone(c.ctx)
	res, err := in.Run(c.entry, ctx1)
	ref := &refVM{text: c.img.Text, helpers: diffHelpers, ctxW: c.ctxW, rodata: c.img.Rodata,
		branchBudget: refBudget(c.branches, vm.DefaultBranchBudget), instrBudget: refBudget(c.budget, vm.DefaultInstructionBudget)}
	data := bytes.Clone(c.img.Data)
	want := ref.run(c.entry, ctx2, data)

	var gotKind vm.Kind
	gotPC := -1
	if err != nil {
		var ok bool
		if gotKind, ok = vm.KindOf(err); !ok {
			return true, 0, fmt.Errorf("untyped error %v", err)
		}
		gotPC = vm.PCOf(err)
	}
	switch {
	case gotKind != want.kind:
		return true, gotKind, fmt.Errorf("error %v (%v), reference %v at pc %d", gotKind, err, want.kind, want.pc)
	case err != nil && gotPC != want.pc:
		return true, gotKind, fmt.Errorf("error %v at pc %d, reference at pc %d", err, gotPC, want.pc)
	case err == nil && res.R0 != want.r0:
		return true, gotKind, fmt.Errorf("r0 = %#x, reference %#x", res.R0, want.r0)
	case res.Stats != want.stats:
		return true, gotKind, fmt.Errorf("stats %+v (err %v)\nreference %+v", res.Stats, err, want.stats)
	case !bytes.Equal(ctx1, ctx2):
		return true, gotKind, fmt.Errorf("context %x, reference %x", ctx1, ctx2)
	case !bytes.Equal(in.Data(), data):
		return true, gotKind, fmt.Errorf("data %x, reference %x", in.Data(), data)
	}
	return true, gotKind, nil
}

// refBudget applies Config's rules: 0 is the default, negative unlimited.
func refBudget(v int64, def uint64) uint64 {
	if v == 0 {
		return def
	}
	return uint64(v)
}

// TestDifferentialCorpus runs every corpus program on both interpreters.
func TestDifferentialCorpus(t *testing.T) {
	for _, file := range []string{"tests.json", "ubpf.json"} {
		for _, r := range corpus.Load(t, file) {
			code, _ := r.Program()
			mem, _ := r.Mem()
			img, err := vm.LoadRaw(code)
			if err != nil {
				continue
			}
			for _, budget := range []int64{-1, 7, 40} {
				if _, _, err := compareRuns(diffCase{img: img, ctx: mem, branches: budget, budget: budget * 3, ctxW: true}); err != nil {
					t.Errorf("%s (budget %d): %v", r.Name, budget, err)
				}
			}
		}
	}
}

// TestDifferentialRandom compares both interpreters on generated programs:
// valid by construction, with loops, local calls, helpers, wide loads into
// data and rodata, atomics and memory accesses near region edges.
func TestDifferentialRandom(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 500
	}
	ran := 0
	ends := map[vm.Kind]int{}
	for seed := range n {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		c := genCase(rng)
		ok, kind, err := compareRuns(c)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, asm.Disassemble(c.img))
		}
		if ok {
			ran++
			ends[kind]++
		}
	}
	if ran < n*9/10 {
		t.Errorf("only %d of %d generated programs passed the verifier", ran, n)
	}
	t.Logf("outcomes: %v", ends)
	// The generator must keep reaching every way a run can end.
	for _, k := range []vm.Kind{0, vm.ErrIllegalMemoryAccess, vm.ErrOutOfBranches, vm.ErrOutOfBudget,
		vm.ErrHelper, vm.ErrIllegalCall, vm.ErrCallDepth} {
		if ends[k] == 0 {
			t.Errorf("no generated program ended with %v", k)
		}
	}
}

// FuzzDifferential uses the fuzzer's bytes as the generator's randomness.
func FuzzDifferential(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42, 1234} {
		f.Add(s, s*7)
	}
	f.Fuzz(func(t *testing.T, a, b uint64) {
		c := genCase(rand.New(rand.NewPCG(a, b)))
		if _, _, err := compareRuns(c); err != nil {
			t.Fatalf("%v\n%s", err, asm.Disassemble(c.img))
		}
	})
}

type genItem struct {
	ins    vm.Instruction
	hi     int32 // second slot of a wide load
	wide   bool
	jumpTo int // item index in the same function, or -1
	callTo int // function index, or -1
}

func genCase(rng *rand.Rand) diffCase {
	nfn := 1 + rng.IntN(3)
	fns := make([][]genItem, nfn)
	for f := range fns {
		fns[f] = genFunction(rng, nfn)
	}
	var text []vm.Instruction
	starts := make([]int, nfn)
	slots := make([][]int, nfn)
	for f, items := range fns {
		starts[f] = len(text)
		for _, it := range items {
			slots[f] = append(slots[f], len(text))
			text = append(text, it.ins)
			if it.wide {
				text = append(text, vm.Instruction{Imm: it.hi})
			}
		}
	}
	for f, items := range fns {
		for i, it := range items {
			pc := slots[f][i]
			switch {
			case it.jumpTo >= 0:
				off := slots[f][it.jumpTo] - pc - 1
				if it.ins.Op == vm.OpJA32 {
					text[pc].Imm = int32(off)
				} else {
					text[pc].Off = int16(off)
				}
			case it.callTo >= 0:
				text[pc].Imm = int32(starts[it.callTo] - pc - 1)
			}
		}
	}
	data := make([]byte, rng.IntN(40))
	rodata := make([]byte, rng.IntN(40))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for i := range rodata {
		rodata[i] = byte(rng.Uint32())
	}
	ctx := make([]byte, rng.IntN(3)*rng.IntN(48))
	for i := range ctx {
		ctx[i] = byte(rng.Uint32())
	}
	c := diffCase{
		img:      &vm.Image{Text: text, Data: data, Rodata: rodata},
		ctx:      ctx,
		branches: []int64{-1, 0, 3, 50, 300}[rng.IntN(5)],
		budget:   []int64{-1, 0, 1, 20, 500, 3000}[rng.IntN(6)],
		ctxW:     rng.IntN(2) == 0,
	}
	if c.branches < 0 && c.budget < 0 {
		c.budget = 20000
	}
	if nfn > 1 && rng.IntN(4) == 0 {
		c.entry = starts[rng.IntN(nfn)]
	}
	return c
}

func genFunction(rng *rand.Rand, nfn int) []genItem {
	n := 2 + rng.IntN(24)
	items := make([]genItem, 0, n+1)
	reg := func() vm.Reg { return vm.Reg(rng.IntN(10)) }
	anyReg := func() vm.Reg { return vm.Reg(rng.IntN(11)) }
	imm := func() int32 {
		switch rng.IntN(4) {
		case 0:
			return int32(rng.IntN(16)) - 4
		case 1:
			return int32(rng.Uint32())
		case 2:
			return []int32{0, 1, -1, 31, 32, 63, 64, 255, -2147483648, 2147483647}[rng.IntN(10)]
		}
		return int32(rng.IntN(4096))
	}
	for len(items) < n {
		it := genItem{jumpTo: -1, callTo: -1}
		switch k := rng.IntN(20); {
		case k < 6: // ALU
			op := []vm.ALUOp{vm.ALUAdd, vm.ALUSub, vm.ALUMul, vm.ALUDiv, vm.ALUOr, vm.ALUAnd, vm.ALULsh, vm.ALURsh,
				vm.ALUNeg, vm.ALUMod, vm.ALUXor, vm.ALUMov, vm.ALUArsh, vm.ALUEnd}[rng.IntN(14)]
			class := vm.ClassALU64
			if rng.IntN(3) == 0 {
				class = vm.ClassALU
			}
			src := vm.SourceK
			if rng.IntN(2) == 0 {
				src = vm.SourceX
			}
			ins := vm.Instruction{Op: vm.Opcode(uint8(op) | uint8(src) | uint8(class)), Dst: reg()}
			switch {
			case op == vm.ALUNeg:
				ins.Op = vm.Opcode(uint8(op) | uint8(class))
			case op == vm.ALUEnd:
				ins.Imm = []int32{16, 32, 64}[rng.IntN(3)]
				if class == vm.ClassALU64 {
					ins.Op = 0xd7
				}
			case src == vm.SourceX:
				ins.Src = anyReg()
				if op == vm.ALUMov && rng.IntN(3) == 0 {
					ins.Off = []int16{8, 16, 32}[rng.IntN(3)]
					if class == vm.ClassALU && ins.Off == 32 {
						ins.Off = 16
					}
				}
			default:
				ins.Imm = imm()
			}
			if (op == vm.ALUDiv || op == vm.ALUMod) && rng.IntN(2) == 0 {
				ins.Off = 1
			}
			it.ins = ins
		case k < 8: // wide loads
			it.wide = true
			it.ins = vm.Instruction{Op: []vm.Opcode{vm.OpLDDW, vm.OpLDDWD, vm.OpLDDWR}[rng.IntN(3)], Dst: reg(), Imm: int32(rng.IntN(44))}
			if it.ins.Op == vm.OpLDDW {
				it.ins.Imm, it.hi = imm(), imm()
			}
		case k < 12: // loads and stores
			base := []vm.Reg{vm.R10, vm.R1, reg(), vm.R10}[rng.IntN(4)]
			off := int16(rng.IntN(80) - 8)
			if base == vm.R10 {
				off = int16(-rng.IntN(530) + 8)
			}
			size := vm.Size(rng.IntN(4) << 3)
			switch rng.IntN(4) {
			case 0:
				it.ins = vm.Instruction{Op: vm.Opcode(uint8(vm.ClassLDX) | uint8(vm.ModeMEM) | uint8(size)), Dst: reg(), Src: base, Off: off}
				if size != vm.SizeDW && rng.IntN(3) == 0 {
					it.ins.Op = vm.Opcode(uint8(vm.ClassLDX) | uint8(vm.ModeMEMSX) | uint8(size))
				}
			case 1:
				it.ins = vm.Instruction{Op: vm.Opcode(uint8(vm.ClassST) | uint8(vm.ModeMEM) | uint8(size)), Dst: base, Off: off, Imm: imm()}
			case 2:
				it.ins = vm.Instruction{Op: vm.Opcode(uint8(vm.ClassSTX) | uint8(vm.ModeMEM) | uint8(size)), Dst: base, Src: anyReg(), Off: off}
			default:
				op := []int32{vm.AtomicAdd, vm.AtomicOr, vm.AtomicAnd, vm.AtomicXor, vm.AtomicXchg, vm.AtomicCmpXchg}[rng.IntN(6)]
				if op != vm.AtomicXchg && op != vm.AtomicCmpXchg && rng.IntN(2) == 0 {
					op |= vm.AtomicFetch
				}
				it.ins = vm.Instruction{Op: []vm.Opcode{vm.OpAtomicW, vm.OpAtomicDW}[rng.IntN(2)], Dst: base, Src: reg(), Off: off, Imm: op}
			}
		case k < 17: // jumps
			jop := []vm.JmpOp{vm.JmpJA, vm.JmpEQ, vm.JmpGT, vm.JmpGE, vm.JmpSET, vm.JmpNE, vm.JmpSGT, vm.JmpSGE,
				vm.JmpLT, vm.JmpLE, vm.JmpSLT, vm.JmpSLE}[rng.IntN(12)]
			class := vm.ClassJMP
			if rng.IntN(3) == 0 {
				class = vm.ClassJMP32
			}
			it.jumpTo = rng.IntN(n + 1)
			if jop == vm.JmpJA {
				it.ins = vm.Instruction{Op: vm.OpJA}
				if class == vm.ClassJMP32 {
					it.ins.Op = vm.OpJA32
				}
				if it.jumpTo == len(items) {
					it.jumpTo = -1
					it.ins = vm.Instruction{Op: vm.OpExit}
				}
			} else if rng.IntN(2) == 0 {
				it.ins = vm.Instruction{Op: vm.Opcode(uint8(jop) | uint8(class)), Dst: anyReg(), Imm: imm()}
			} else {
				it.ins = vm.Instruction{Op: vm.Opcode(uint8(jop) | uint8(vm.SourceX) | uint8(class)), Dst: anyReg(), Src: anyReg()}
			}
		case k < 19: // calls
			switch rng.IntN(3) {
			case 0:
				it.ins = vm.Instruction{Op: vm.OpCall, Imm: int32(1 + rng.IntN(4))}
			case 1:
				it.ins = vm.Instruction{Op: vm.OpCallX, Dst: reg()}
			default:
				it.ins = vm.Instruction{Op: vm.OpCall, Src: vm.CallLocal}
				it.callTo = rng.IntN(nfn)
			}
		default:
			it.ins = vm.Instruction{Op: vm.OpExit}
		}
		items = append(items, it)
		if rng.IntN(5) == 0 {
			items = append(items, genPair(rng, n)...)
		}
	}
	// Jumps may target the final exit (index n).
	return append(items, genItem{ins: vm.Instruction{Op: vm.OpExit}, jumpTo: -1, callTo: -1})
}

// genPair makes the adjacent pairs the interpreter fuses into one
// superinstruction, so that the differential tests cover those too.
func genPair(rng *rand.Rand, n int) []genItem {
	// Registers often coincide, so pairs that read what they just wrote
	// come up as often as independent ones.
	d, x := vm.Reg(rng.IntN(10)), vm.Reg(rng.IntN(11))
	if rng.IntN(3) == 0 {
		x = d
	}
	item := func(ins vm.Instruction) genItem { return genItem{ins: ins, jumpTo: -1, callTo: -1} }
	size := vm.Size(rng.IntN(4) << 3)
	ldx := vm.Opcode(uint8(vm.ClassLDX) | uint8(vm.ModeMEM) | uint8(size))
	switch rng.IntN(8) {
	case 5: // shift left then right (the extension idioms)
		right := []vm.Opcode{0x77, 0xc7}[rng.IntN(2)]
		return []genItem{item(vm.Instruction{Op: 0x67, Dst: d, Imm: int32(rng.IntN(70))}), item(vm.Instruction{Op: right, Dst: d, Imm: int32(rng.IntN(70))})}
	case 6: // mov then add a register
		return []genItem{item(vm.Instruction{Op: 0xbf, Dst: d, Src: x}), item(vm.Instruction{Op: 0x0f, Dst: d, Src: []vm.Reg{d, x, vm.Reg(rng.IntN(11))}[rng.IntN(3)]})}
	case 7: // a global: a wide load of an address, then a load or store through it
		w := genItem{ins: vm.Instruction{Op: []vm.Opcode{vm.OpLDDWD, vm.OpLDDWR, vm.OpLDDW}[rng.IntN(3)], Dst: d, Imm: int32(rng.IntN(44))}, wide: true, jumpTo: -1, callTo: -1}
		if w.ins.Op == vm.OpLDDW {
			w.ins.Imm, w.hi = int32(vm.StackBase+uint64(rng.IntN(600))), 0
		}
		off := int16(rng.IntN(16) - 4)
		if rng.IntN(2) == 0 {
			return []genItem{w, item(vm.Instruction{Op: ldx, Dst: vm.Reg(rng.IntN(10)), Src: d, Off: off})}
		}
		stx := vm.Opcode(uint8(vm.ClassSTX) | uint8(vm.ModeMEM) | uint8(size))
		return []genItem{w, item(vm.Instruction{Op: stx, Dst: d, Src: x, Off: off})}
	case 4: // a compare chain on one register
		kinds := []vm.JmpOp{vm.JmpEQ, vm.JmpNE, vm.JmpLT, vm.JmpLE, vm.JmpGT, vm.JmpGE}
		j := func() genItem {
			return genItem{ins: vm.Instruction{Op: vm.Opcode(uint8(kinds[rng.IntN(6)]) | uint8(vm.ClassJMP)), Dst: d, Imm: int32(rng.IntN(12) - 2)},
				jumpTo: rng.IntN(n + 1), callTo: -1}
		}
		return []genItem{j(), j()}
	case 0: // mov then an operation with a constant
		op := []vm.Opcode{0x67, 0x77, 0xc7, 0x57, 0x07}[rng.IntN(5)]
		return []genItem{item(vm.Instruction{Op: 0xbf, Dst: d, Src: x}), item(vm.Instruction{Op: op, Dst: d, Imm: int32(rng.IntN(70) - 3)})}
	case 1: // add then a conditional jump on the same register
		jop := []vm.JmpOp{vm.JmpEQ, vm.JmpNE, vm.JmpLT, vm.JmpLE, vm.JmpGT, vm.JmpGE}[rng.IntN(6)]
		j := genItem{ins: vm.Instruction{Op: vm.Opcode(uint8(jop) | uint8(vm.ClassJMP)), Dst: d, Imm: int32(rng.IntN(20))}, jumpTo: rng.IntN(n + 1), callTo: -1}
		if rng.IntN(2) == 0 {
			j.ins.Op |= vm.Opcode(vm.SourceX)
			j.ins.Src, j.ins.Imm = x, 0
		}
		return []genItem{item(vm.Instruction{Op: 0x07, Dst: d, Imm: int32(rng.IntN(9) - 4)}), j}
	case 2: // a load then a pointer increment
		base := []vm.Reg{vm.R10, vm.R1, d}[rng.IntN(3)]
		off := int16(rng.IntN(70) - 4)
		if base == vm.R10 {
			off = int16(-rng.IntN(520) + 4)
		}
		return []genItem{item(vm.Instruction{Op: ldx, Dst: vm.Reg(rng.IntN(10)), Src: base, Off: off}), item(vm.Instruction{Op: 0x07, Dst: d, Imm: int32(rng.IntN(9))})}
	default: // an indexed load
		return []genItem{item(vm.Instruction{Op: 0x0f, Dst: d, Src: x}), item(vm.Instruction{Op: ldx, Dst: vm.Reg(rng.IntN(10)), Src: d, Off: int16(rng.IntN(40) - 4)})}
	}
}
