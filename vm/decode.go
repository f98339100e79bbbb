package vm

// slot is one pre-decoded instruction: 16 bytes, jump targets resolved to
// absolute slot numbers, immediates sign-extended (or resolved, for wide
// loads), shift counts masked, and subtraction of a constant turned into
// addition. Every slot of the text has one; the second half of a wide load
// holds opInvalid and is never reached.
type slot struct {
	op  uint8
	dst uint8
	src uint8
	aux uint8  // atomic operation; second register of a fused pair
	off int32  // memory offset, or absolute jump/call target
	imm uint64 // immediate
}

// Internal operations. The numbering is dense so that the interpreter's
// switch compiles to a jump table.
const (
	opInvalid uint8 = iota

	// ALU64 with immediate
	opAdd64K
	opMul64K
	opDiv64K
	opSDiv64K
	opOr64K
	opAnd64K
	opLsh64K
	opRsh64K
	opMod64K
	opSMod64K
	opXor64K
	opMov64K
	opArsh64K
	opLddw // lddw, lddwd, lddwr: like opMov64K, then skip the second slot
	// ALU64 with register
	opAdd64X
	opSub64X
	opMul64X
	opDiv64X
	opSDiv64X
	opOr64X
	opAnd64X
	opLsh64X
	opRsh64X
	opMod64X
	opSMod64X
	opXor64X
	opMov64X
	opArsh64X
	opNeg64
	opMovSX8to64
	opMovSX16to64
	opMovSX32to64
	// ALU32 with immediate
	opAdd32K
	opMul32K
	opDiv32K
	opSDiv32K
	opOr32K
	opAnd32K
	opLsh32K
	opRsh32K
	opMod32K
	opSMod32K
	opXor32K
	opMov32K
	opArsh32K
	// ALU32 with register
	opAdd32X
	opSub32X
	opMul32X
	opDiv32X
	opSDiv32X
	opOr32X
	opAnd32X
	opLsh32X
	opRsh32X
	opMod32X
	opSMod32X
	opXor32X
	opMov32X
	opArsh32X
	opNeg32
	opMovSX8to32
	opMovSX16to32
	// byte order
	opNop
	opSwap16
	opSwap32
	opSwap64
	// loads and stores
	opLdxB
	opLdxH
	opLdxW
	opLdxDW
	opLdxSB
	opLdxSH
	opLdxSW
	opStB
	opStH
	opStW
	opStDW
	opStxB
	opStxH
	opStxW
	opStxDW
	opAtomic32
	opAtomic64
	// jumps, 64-bit compare with immediate
	opJa
	opJeqK
	opJgtK
	opJgeK
	opJsetK
	opJneK
	opJsgtK
	opJsgeK
	opJltK
	opJleK
	opJsltK
	opJsleK
	// 64-bit compare with register
	opJeqX
	opJgtX
	opJgeX
	opJsetX
	opJneX
	opJsgtX
	opJsgeX
	opJltX
	opJleX
	opJsltX
	opJsleX
	// 32-bit compare with immediate
	opJeq32K
	opJgt32K
	opJge32K
	opJset32K
	opJne32K
	opJsgt32K
	opJsge32K
	opJlt32K
	opJle32K
	opJslt32K
	opJsle32K
	// 32-bit compare with register
	opJeq32X
	opJgt32X
	opJge32X
	opJset32X
	opJne32X
	opJsgt32X
	opJsge32X
	opJlt32X
	opJle32X
	opJslt32X
	opJsle32X
	// calls
	opCall
	opCallLocal
	opCallX
	opExit

	// Superinstructions: two adjacent instructions in one dispatch (see
	// fuse.go). mov %rD, %rS then an operation on %rD with a constant:
	opMovLsh64K
	opMovRsh64K
	opMovArsh64K
	opMovAnd64K
	opMovAdd64K
	// add %rD, K then a conditional jump on %rD (imm: low 32 bits the add's
	// constant, high 32 bits the jump's; src: the jump's register):
	opAddJeqK
	opAddJneK
	opAddJltK
	opAddJleK
	opAddJgtK
	opAddJgeK
	opAddJeqX
	opAddJneX
	opAddJltX
	opAddJleX
	opAddJgtX
	opAddJgeX
	// a load, then add a constant to a register (post-increment); aux is
	// the add's register, imm its constant:
	opLdxBAdd
	opLdxHAdd
	opLdxWAdd
	opLdxDWAdd
	// add %rA, %rB then a load through %rA (indexed load); aux is rA,
	// src rB, dst the loaded register, off the load's offset:
	opAddLdxB
	opAddLdxH
	opAddLdxW
	opAddLdxDW
	// lsh %rD, A then rsh or arsh %rD, B (zero- and sign-extension idioms);
	// imm: A in the low 32 bits, B in the high:
	opLshRsh64K
	opLshArsh64K
	// mov %rD, %rS then add %rD, %rX (aux):
	opMovAdd64X
	// lddw %rA, addr then a load or store through %rA (globals); aux is rA,
	// imm the address, off the access's offset:
	opLddwLdxB
	opLddwLdxH
	opLddwLdxW
	opLddwLdxDW
	opLddwStxB
	opLddwStxH
	opLddwStxW
	opLddwStxDW
	// two conditional jumps comparing the same register with constants
	// (compare chains, switch statements); imm holds both constants, the
	// second jump's target stays in its own slot:
	opJeqJeqK
	opJeqJneK
	opJeqJltK
	opJeqJleK
	opJeqJgtK
	opJeqJgeK
	opJneJeqK
	opJneJneK
	opJneJltK
	opJneJleK
	opJneJgtK
	opJneJgeK
	opJltJeqK
	opJltJneK
	opJltJltK
	opJltJleK
	opJltJgtK
	opJltJgeK
	opJleJeqK
	opJleJneK
	opJleJltK
	opJleJleK
	opJleJgtK
	opJleJgeK
	opJgtJeqK
	opJgtJneK
	opJgtJltK
	opJgtJleK
	opJgtJgtK
	opJgtJgeK
	opJgeJeqK
	opJgeJneK
	opJgeJltK
	opJgeJleK
	opJgeJgtK
	opJgeJgeK

	numOps
)

// Packed per-class instruction counts. Three 21-bit lanes in one uint64 let
// the interpreter account for a whole straight-line stretch with one add
// when it enters it (see Program.vec and Instance.run).
const (
	laneBits  = 21
	laneMask  = 1<<laneBits - 1
	laneALU   = 0
	laneLS    = laneBits
	laneBR    = 2 * laneBits
	countALU  = uint64(1) << laneALU
	countLS   = uint64(1) << laneLS
	countBR   = uint64(1) << laneBR
	laneLimit = 1 << (laneBits - 1) // flush well before a lane could carry
)

var aluK64 = [16]uint8{opAdd64K, 0, opMul64K, opDiv64K, opOr64K, opAnd64K, opLsh64K, opRsh64K, 0, opMod64K, opXor64K, opMov64K, opArsh64K}
var aluX64 = [16]uint8{opAdd64X, opSub64X, opMul64X, opDiv64X, opOr64X, opAnd64X, opLsh64X, opRsh64X, 0, opMod64X, opXor64X, opMov64X, opArsh64X}
var aluK32 = [16]uint8{opAdd32K, 0, opMul32K, opDiv32K, opOr32K, opAnd32K, opLsh32K, opRsh32K, 0, opMod32K, opXor32K, opMov32K, opArsh32K}
var aluX32 = [16]uint8{opAdd32X, opSub32X, opMul32X, opDiv32X, opOr32X, opAnd32X, opLsh32X, opRsh32X, 0, opMod32X, opXor32X, opMov32X, opArsh32X}

// Conditional jumps, indexed by JmpOp>>4 (1..13, skipping call, exit).
var jmpK64 = [16]uint8{1: opJeqK, opJgtK, opJgeK, opJsetK, opJneK, opJsgtK, opJsgeK, 10: opJltK, opJleK, opJsltK, opJsleK}
var jmpX64 = [16]uint8{1: opJeqX, opJgtX, opJgeX, opJsetX, opJneX, opJsgtX, opJsgeX, 10: opJltX, opJleX, opJsltX, opJsleX}
var jmpK32 = [16]uint8{1: opJeq32K, opJgt32K, opJge32K, opJset32K, opJne32K, opJsgt32K, opJsge32K, 10: opJlt32K, opJle32K, opJslt32K, opJsle32K}
var jmpX32 = [16]uint8{1: opJeq32X, opJgt32X, opJge32X, opJset32X, opJne32X, opJsgt32X, opJsge32X, 10: opJlt32X, opJle32X, opJslt32X, opJsle32X}

// decodeOne translates a verified instruction (hi is the next slot's
// immediate for wide loads).
func decodeOne(ins Instruction, pc int, hi int32) slot {
	s := slot{dst: uint8(ins.Dst), src: uint8(ins.Src), off: int32(ins.Off), imm: uint64(int64(ins.Imm))}
	op := ins.Op
	switch op.Class() {
	case ClassALU64, ClassALU:
		is64 := op.Class() == ClassALU64
		a := op.ALUOp()
		k := op.Source() == SourceK
		signed := ins.Off == 1 && (a == ALUDiv || a == ALUMod)
		switch {
		case a == ALUNeg:
			s.op = pick(is64, opNeg64, opNeg32)
		case a == ALUEnd:
			switch {
			case op == 0xd4 && ins.Imm == 16:
				s.op, s.imm = opAnd64K, 0xffff
			case op == 0xd4 && ins.Imm == 32:
				s.op, s.src = opMov32X, s.dst
			case op == 0xd4:
				s.op = opNop
			case ins.Imm == 16:
				s.op = opSwap16
			case ins.Imm == 32:
				s.op = opSwap32
			default:
				s.op = opSwap64
			}
		case a == ALUMov && !k && ins.Off != 0:
			switch {
			case ins.Off == 8 && is64:
				s.op = opMovSX8to64
			case ins.Off == 16 && is64:
				s.op = opMovSX16to64
			case ins.Off == 32:
				s.op = opMovSX32to64
			case ins.Off == 8:
				s.op = opMovSX8to32
			default:
				s.op = opMovSX16to32
			}
		case k:
			if a == ALUSub {
				// dst - imm == dst + (-imm) in both widths.
				a, s.imm = ALUAdd, -s.imm
			}
			if is64 {
				s.op = aluK64[a>>4]
			} else {
				s.op = aluK32[a>>4]
			}
			switch {
			case signed && a == ALUDiv:
				s.op = pick(is64, opSDiv64K, opSDiv32K)
			case signed && a == ALUMod:
				s.op = pick(is64, opSMod64K, opSMod32K)
			case a == ALULsh || a == ALURsh || a == ALUArsh:
				s.imm &= uint64(pick(is64, 63, 31))
			}
		default:
			if is64 {
				s.op = aluX64[a>>4]
			} else {
				s.op = aluX32[a>>4]
			}
			switch {
			case signed && a == ALUDiv:
				s.op = pick(is64, opSDiv64X, opSDiv32X)
			case signed && a == ALUMod:
				s.op = pick(is64, opSMod64X, opSMod32X)
			}
		}
		s.off = 0
	case ClassLD:
		s.op = opLddw
		s.imm = uint64(uint32(ins.Imm)) | uint64(uint32(hi))<<32
		switch op {
		case OpLDDWD:
			s.imm += DataBase
		case OpLDDWR:
			s.imm += RodataBase
		}
	case ClassLDX:
		sx := op.Mode() == ModeMEMSX
		switch op.Size() {
		case SizeB:
			s.op = pick(sx, opLdxSB, opLdxB)
		case SizeH:
			s.op = pick(sx, opLdxSH, opLdxH)
		case SizeW:
			s.op = pick(sx, opLdxSW, opLdxW)
		default:
			s.op = opLdxDW
		}
	case ClassST:
		s.op = [4]uint8{opStW, opStH, opStB, opStDW}[op.Size()>>3]
	case ClassSTX:
		if op.Mode() == ModeAtomic {
			s.op = pick(op.Size() == SizeDW, opAtomic64, opAtomic32)
			s.aux = uint8(ins.Imm)
		} else {
			s.op = [4]uint8{opStxW, opStxH, opStxB, opStxDW}[op.Size()>>3]
		}
	case ClassJMP, ClassJMP32:
		is32 := op.Class() == ClassJMP32
		switch {
		case op == OpExit:
			s.op = opExit
		case op == OpCallX:
			s.op = opCallX
		case op == OpCall && ins.Src == CallLocal:
			s.op, s.off = opCallLocal, int32(pc+1+int(ins.Imm))
		case op == OpCall:
			s.op, s.imm = opCall, uint64(uint32(ins.Imm))
		case op == OpJA || op == OpJA32:
			s.op, s.off = opJa, int32(pc+1+ins.JumpOffset())
		default:
			j := op.JmpOp() >> 4
			switch {
			case is32 && op.Source() == SourceK:
				s.op = jmpK32[j]
			case is32:
				s.op = jmpX32[j]
			case op.Source() == SourceK:
				s.op = jmpK64[j]
			default:
				s.op = jmpX64[j]
			}
			s.off = int32(pc + 1 + int(ins.Off))
		}
	}
	return s
}

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// classCount is the lane value one instruction adds. Divisions and calls are
// counted by their handlers instead, so they add nothing here.
func classCount(ins Instruction) uint64 {
	switch ins.Op.Class() {
	case ClassALU, ClassALU64:
		if a := ins.Op.ALUOp(); a == ALUDiv || a == ALUMod {
			return 0
		}
		return countALU
	case ClassLD:
		return countALU
	case ClassLDX, ClassST, ClassSTX:
		return countLS
	case ClassJMP, ClassJMP32:
		if ins.Op == OpCall || ins.Op == OpCallX {
			return 0
		}
		return countBR
	}
	return 0
}

// endsStretch reports whether control may leave the straight line after ins:
// jumps, calls and exit.
func endsStretch(ins Instruction) bool {
	c := ins.Op.Class()
	return c == ClassJMP || c == ClassJMP32
}

// decode fills p.code and p.vec from the verified text. start marks
// instruction starts.
func (p *Program) decode(start []bool) {
	n := len(p.text)
	p.code = make([]slot, n+1) // the last is a sentinel (opInvalid) that exec may look at
	for pc := 0; pc < n; pc++ {
		if !start[pc] {
			continue
		}
		ins := p.text[pc]
		var hi int32
		if ins.Op.IsWide() {
			hi = p.text[pc+1].Imm
		}
		p.code[pc] = decodeOne(ins, pc, hi)
	}
	// vec[pc] counts, by class, the instructions from pc to the end of its
	// straight-line stretch (the next jump, call or exit, inclusive). The
	// interpreter adds vec[target] whenever it enters a stretch at target,
	// so counting costs one add per jump instead of one per instruction.
	// stretch[pc] is the same stretch's length in instructions, divisions
	// and calls included, for the instruction budget.
	p.vec = make([]uint64, n+1)
	p.stretch = make([]uint32, n+1)
	for pc := n - 1; pc >= 0; pc-- {
		switch {
		case !start[pc]:
			p.vec[pc], p.stretch[pc] = p.vec[pc+1], p.stretch[pc+1]
		case endsStretch(p.text[pc]):
			p.vec[pc], p.stretch[pc] = classCount(p.text[pc]), 1
		default:
			p.vec[pc], p.stretch[pc] = classCount(p.text[pc])+p.vec[pc+1], 1+p.stretch[pc+1]
		}
	}
	fuse(p.code, p.text, start, p.functions)
}
