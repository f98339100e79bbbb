package vm_test

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"tinylab/vm"
)

// refVM is a deliberately plain second interpreter: it decodes each slot as
// it goes, searches the regions one by one and counts every instruction as
// it executes it. The differential tests and FuzzVerifyRun compare the real
// interpreter (pre-decoded, fused, counting per stretch) against it.
type refVM struct {
	text    []vm.Instruction
	rodata  []byte
	regions []refRegion
	helpers vm.HelperMap
	ctxW    bool

	branchBudget, instrBudget uint64
	stats                     vm.Stats
}

type refRegion struct {
	base uint64
	buf  []byte
	perm vm.Perm
}

type refOutcome struct {
	r0    uint64
	stats vm.Stats
	kind  vm.Kind // 0 when the run reached exit
	pc    int
}

func (m *refVM) mem(addr uint64, n int, write bool) []byte {
	need := vm.PermRead
	if write {
		need = vm.PermWrite
	}
	for _, r := range m.regions {
		if addr >= r.base && addr+uint64(n) >= addr && addr+uint64(n) <= r.base+uint64(len(r.buf)) && r.perm&need != 0 {
			return r.buf[addr-r.base : addr-r.base+uint64(n)]
		}
	}
	return nil
}

// stretch is the number of instructions from pc to the next jump, call or
// exit, inclusive.
func (m *refVM) stretch(pc int) uint64 {
	var n uint64
	for ; pc < len(m.text); pc++ {
		ins := m.text[pc]
		n++
		c := ins.Op.Class()
		if c == vm.ClassJMP || c == vm.ClassJMP32 {
			break
		}
		if ins.Op.IsWide() {
			pc++
		}
	}
	return n
}

func (m *refVM) run(entry int, ctx []byte, data []byte) refOutcome {
	var r [11]uint64
	stack := make([]byte, vm.StackSize)
	m.regions = []refRegion{{vm.DataBase, data, vm.PermReadWrite}, {vm.StackBase, stack[:vm.StackFrameSize], vm.PermReadWrite},
		{vm.RodataBase, m.rodata, vm.PermRead}}
	if len(ctx) > 0 {
		perm := vm.PermRead
		if m.ctxW {
			perm = vm.PermReadWrite
		}
		m.regions = append(m.regions, refRegion{vm.ContextBase, ctx, perm})
		r[1] = vm.ContextBase
	}
	r[2] = uint64(len(ctx))
	r[10] = vm.StackBase + vm.StackFrameSize
	type frame struct {
		ret  int
		regs [4]uint64
	}
	var frames []frame
	var executed, taken uint64
	fail := func(k vm.Kind, pc int) refOutcome {
		return refOutcome{stats: m.stats, kind: k, pc: pc}
	}
	// enter checks the instruction budget when a stretch starts after a
	// taken branch or call, as the VM does.
	enter := func(t int) bool { return executed+m.stretch(t) <= m.instrBudget }
	if !enter(entry) {
		return fail(vm.ErrOutOfBudget, entry)
	}
	pc := entry
	for {
		ins := m.text[pc]
		op := ins.Op
		executed++
		m.stats.Instructions++
		imm := uint64(int64(ins.Imm))
		switch op.Class() {
		case vm.ClassALU, vm.ClassALU64:
			is64 := op.Class() == vm.ClassALU64
			a := op.ALUOp()
			if a == vm.ALUDiv || a == vm.ALUMod {
				m.stats.Divide++
			} else {
				m.stats.ALU++
			}
			src := imm
			if op.Source() == vm.SourceX {
				src = r[ins.Src]
			}
			d := r[ins.Dst]
			if !is64 {
				d, src = uint64(uint32(d)), uint64(uint32(src))
			}
			var v uint64
			switch a {
			case vm.ALUAdd:
				v = d + src
			case vm.ALUSub:
				v = d - src
			case vm.ALUMul:
				v = d * src
			case vm.ALUDiv:
				switch {
				case src == 0:
					v = 0
				case ins.Off == 1 && is64:
					v = uint64(int64(d) / int64(src))
				case ins.Off == 1:
					v = uint64(uint32(int32(d) / int32(src)))
				default:
					v = d / src
				}
			case vm.ALUMod:
				switch {
				case src == 0:
					v = d
				case ins.Off == 1 && is64:
					v = uint64(int64(d) % int64(src))
				case ins.Off == 1:
					v = uint64(uint32(int32(d) % int32(src)))
				default:
					v = d % src
				}
			case vm.ALUOr:
				v = d | src
			case vm.ALUAnd:
				v = d & src
			case vm.ALUXor:
				v = d ^ src
			case vm.ALULsh:
				if is64 {
					v = d << (src & 63)
				} else {
					v = d << (src & 31)
				}
			case vm.ALURsh:
				if is64 {
					v = d >> (src & 63)
				} else {
					v = d >> (src & 31)
				}
			case vm.ALUArsh:
				if is64 {
					v = uint64(int64(d) >> (src & 63))
				} else {
					v = uint64(int32(d) >> (src & 31))
				}
			case vm.ALUNeg:
				v = -d
			case vm.ALUMov:
				v = src
				if ins.Off != 0 { // movsx: sign-extend the low Off bits of the source register
					switch s := r[ins.Src]; ins.Off {
					case 8:
						v = uint64(int64(int8(s)))
					case 16:
						v = uint64(int64(int16(s)))
					default:
						v = uint64(int64(int32(s)))
					}
				}
			case vm.ALUEnd:
				d = r[ins.Dst]
				switch {
				case op == 0xd4 && ins.Imm == 16:
					v = uint64(uint16(d))
				case op == 0xd4 && ins.Imm == 32:
					v = uint64(uint32(d))
				case op == 0xd4:
					v = d
				case ins.Imm == 16:
					v = uint64(bits.ReverseBytes16(uint16(d)))
				case ins.Imm == 32:
					v = uint64(bits.ReverseBytes32(uint32(d)))
				default:
					v = bits.ReverseBytes64(d)
				}
				is64 = true
			}
			if !is64 {
				v = uint64(uint32(v))
			}
			r[ins.Dst] = v
			pc++
		case vm.ClassLD:
			m.stats.ALU++
			v := uint64(uint32(ins.Imm)) | uint64(uint32(m.text[pc+1].Imm))<<32
			switch op {
			case vm.OpLDDWD:
				v += vm.DataBase
			case vm.OpLDDWR:
				v += vm.RodataBase
			}
			r[ins.Dst] = v
			pc += 2
		case vm.ClassLDX:
			m.stats.LoadStore++
			n := op.Size().Bytes()
			b := m.mem(r[ins.Src]+uint64(int64(ins.Off)), n, false)
			if b == nil {
				return fail(vm.ErrIllegalMemoryAccess, pc)
			}
			var v uint64
			switch n {
			case 1:
				v = uint64(b[0])
			case 2:
				v = uint64(binary.LittleEndian.Uint16(b))
			case 4:
				v = uint64(binary.LittleEndian.Uint32(b))
			default:
				v = binary.LittleEndian.Uint64(b)
			}
			if op.Mode() == vm.ModeMEMSX {
				shift := 64 - 8*n
				v = uint64(int64(v<<shift) >> shift)
			}
			r[ins.Dst] = v
			pc++
		case vm.ClassST, vm.ClassSTX:
			m.stats.LoadStore++
			n := op.Size().Bytes()
			addr := r[ins.Dst] + uint64(int64(ins.Off))
			if op.Mode() == vm.ModeAtomic {
				if m.mem(addr, n, false) == nil {
					return fail(vm.ErrIllegalMemoryAccess, pc)
				}
			}
			b := m.mem(addr, n, true)
			if b == nil {
				return fail(vm.ErrIllegalMemoryAccess, pc)
			}
			get := func() uint64 {
				if n == 4 {
					return uint64(binary.LittleEndian.Uint32(b))
				}
				return binary.LittleEndian.Uint64(b)
			}
			put := func(v uint64) {
				switch n {
				case 1:
					b[0] = byte(v)
				case 2:
					binary.LittleEndian.PutUint16(b, uint16(v))
				case 4:
					binary.LittleEndian.PutUint32(b, uint32(v))
				default:
					binary.LittleEndian.PutUint64(b, v)
				}
			}
			switch {
			case op.Class() == vm.ClassST:
				put(imm)
			case op.Mode() == vm.ModeMEM:
				put(r[ins.Src])
			default:
				old, src := get(), r[ins.Src]
				switch ins.Imm {
				case vm.AtomicCmpXchg:
					exp := r[0]
					if n == 4 {
						exp = uint64(uint32(exp))
					}
					if old == exp {
						put(src)
					}
					r[0] = old
				case vm.AtomicXchg:
					put(src)
					r[ins.Src] = old
				default:
					switch ins.Imm &^ vm.AtomicFetch {
					case vm.AtomicAdd:
						put(old + src)
					case vm.AtomicOr:
						put(old | src)
					case vm.AtomicAnd:
						put(old & src)
					case vm.AtomicXor:
						put(old ^ src)
					}
					if ins.Imm&vm.AtomicFetch != 0 {
						r[ins.Src] = old
					}
				}
			}
			pc++
		default: // JMP, JMP32
			switch {
			case op == vm.OpExit:
				m.stats.Branch++
				if len(frames) == 0 {
					return refOutcome{r0: r[0], stats: m.stats}
				}
				f := frames[len(frames)-1]
				frames = frames[:len(frames)-1]
				copy(r[6:10], f.regs[:])
				r[10] -= vm.StackFrameSize
				m.regions[1].buf = stack[:(len(frames)+1)*vm.StackFrameSize]
				pc = f.ret
				continue
			case op == vm.OpCall || op == vm.OpCallX:
				m.stats.Call++
				if ins.IsLocalCall() {
					if len(frames)+1 >= vm.MaxCallDepth {
						return fail(vm.ErrCallDepth, pc)
					}
					t := pc + 1 + int(ins.Imm)
					if !enter(t) {
						return fail(vm.ErrOutOfBudget, pc)
					}
					frames = append(frames, frame{ret: pc + 1, regs: [4]uint64{r[6], r[7], r[8], r[9]}})
					r[10] += vm.StackFrameSize
					m.regions[1].buf = stack[:(len(frames)+1)*vm.StackFrameSize]
					pc = t
					continue
				}
				id := uint64(uint32(ins.Imm))
				if op == vm.OpCallX {
					id = r[ins.Dst]
				}
				f, ok := m.helpers[uint32(id)]
				if id > 0xffffffff || !ok {
					return fail(vm.ErrIllegalCall, pc)
				}
				args := [5]uint64{r[1], r[2], r[3], r[4], r[5]}
				v, err := f(&args, nil)
				if errors.Is(err, vm.ErrHalt) {
					return refOutcome{r0: v, stats: m.stats}
				}
				if err != nil {
					return fail(vm.ErrHelper, pc)
				}
				r[0] = v
				pc++
				continue
			}
			m.stats.Branch++
			d := r[ins.Dst]
			src := imm
			if op.Source() == vm.SourceX {
				src = r[ins.Src]
			}
			is32 := op.Class() == vm.ClassJMP32
			if is32 {
				d, src = uint64(uint32(d)), uint64(uint32(src))
			}
			sd, ss := int64(d), int64(src)
			if is32 {
				sd, ss = int64(int32(d)), int64(int32(src))
			}
			var cond bool
			switch op.JmpOp() {
			case vm.JmpJA:
				cond = true
			case vm.JmpEQ:
				cond = d == src
			case vm.JmpGT:
				cond = d > src
			case vm.JmpGE:
				cond = d >= src
			case vm.JmpSET:
				cond = d&src != 0
			case vm.JmpNE:
				cond = d != src
			case vm.JmpSGT:
				cond = sd > ss
			case vm.JmpSGE:
				cond = sd >= ss
			case vm.JmpLT:
				cond = d < src
			case vm.JmpLE:
				cond = d <= src
			case vm.JmpSLT:
				cond = sd < ss
			case vm.JmpSLE:
				cond = sd <= ss
			}
			if !cond {
				pc++
				continue
			}
			taken++
			if taken > m.branchBudget {
				return fail(vm.ErrOutOfBranches, pc)
			}
			t := pc + 1 + ins.JumpOffset()
			if !enter(t) {
				return fail(vm.ErrOutOfBudget, pc)
			}
			m.stats.TakenBranches++
			pc = t
		}
	}
}
