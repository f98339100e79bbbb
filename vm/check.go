package vm

import "fmt"

// checkFields reports why a single slot is not a valid instruction start, or
// nil. It checks the opcode, the registers and that every field the
// instruction does not use is zero (as the conformance corpus's negative
// tests demand). It does not look at neighbours (lddw halves, jump targets).
func checkFields(i Instruction) *Error {
	if i.Dst > R10 {
		return errAt(ErrIllegalRegister, -1, "destination register r%d does not exist (r0 to r10)", i.Dst)
	}
	if i.Src > R10 {
		return errAt(ErrIllegalRegister, -1, "source register r%d does not exist (r0 to r10)", i.Src)
	}
	op := i.Op
	bad := func(format string, args ...any) *Error {
		return errAt(ErrIllegalInstruction, -1, "opcode %v: "+format, append([]any{op}, args...)...)
	}
	unused := func(src, off, imm bool) *Error {
		switch {
		case src && i.Src != 0:
			return bad("unused source field is %d, must be 0", i.Src)
		case off && i.Off != 0:
			return bad("unused offset field is %d, must be 0", i.Off)
		case imm && i.Imm != 0:
			return bad("unused immediate field is %d, must be 0", i.Imm)
		}
		return nil
	}
	switch op.Class() {
	case ClassALU, ClassALU64:
		is64 := op.Class() == ClassALU64
		k := op.Source() == SourceK
		switch op.ALUOp() {
		case ALUAdd, ALUSub, ALUMul, ALUOr, ALUAnd, ALULsh, ALURsh, ALUXor, ALUArsh:
			if k {
				return unused(true, true, false)
			}
			return unused(false, true, true)
		case ALUDiv, ALUMod:
			if i.Off != 0 && i.Off != 1 {
				return bad("offset %d: 0 (unsigned) or 1 (signed) expected", i.Off)
			}
			if k {
				return unused(true, false, false)
			}
			return unused(false, false, true)
		case ALUMov:
			if k {
				return unused(true, true, false)
			}
			switch i.Off {
			case 0, 8, 16:
			case 32:
				if !is64 {
					return bad("movsx with offset 32 exists only in ALU64")
				}
			default:
				return bad("movsx offset %d: 8, 16 or 32 expected", i.Off)
			}
			return unused(false, false, true)
		case ALUNeg:
			if !k {
				return bad("neg takes no source register")
			}
			return unused(true, true, true)
		case ALUEnd:
			if is64 && !k {
				return bad("byte swap 0x%02x is reserved", uint8(op))
			}
			if i.Imm != 16 && i.Imm != 32 && i.Imm != 64 {
				return bad("byte swap width %d: 16, 32 or 64 expected", i.Imm)
			}
			return unused(true, true, false)
		}
		return bad("unknown arithmetic operation")
	case ClassJMP, ClassJMP32:
		jop := op.JmpOp()
		is32 := op.Class() == ClassJMP32
		switch jop {
		case JmpJA:
			if op.Source() == SourceX {
				return bad("ja takes no register")
			}
			if i.Dst != 0 {
				return bad("unused destination field is %d, must be 0", i.Dst)
			}
			if is32 {
				return unused(true, true, false)
			}
			return unused(true, false, true)
		case JmpEQ, JmpGT, JmpGE, JmpSET, JmpNE, JmpSGT, JmpSGE, JmpLT, JmpLE, JmpSLT, JmpSLE:
			if op.Source() == SourceK {
				return unused(true, false, false)
			}
			return unused(false, false, true)
		case JmpCall:
			if is32 {
				return bad("call exists only in class JMP")
			}
			if op.Source() == SourceX {
				return unused(true, true, true)
			}
			if i.Dst != 0 {
				return bad("unused destination field is %d, must be 0", i.Dst)
			}
			if i.Src != CallHelper && i.Src != CallLocal {
				return bad("call kind %d is not supported (0 helper, 1 local)", i.Src)
			}
			return unused(false, true, false)
		case JmpExit:
			if is32 || op.Source() == SourceX {
				return bad("exit is 0x95")
			}
			if i.Dst != 0 {
				return bad("unused destination field is %d, must be 0", i.Dst)
			}
			return unused(true, true, true)
		}
		return bad("unknown jump operation")
	case ClassLD:
		if !op.IsWide() {
			return bad("unknown load (legacy packet loads are not supported)")
		}
		if i.Src != 0 {
			return bad("invalid source register %d for lddw (pseudo loads are not supported)", i.Src)
		}
		return unused(false, true, false)
	case ClassLDX:
		switch op.Mode() {
		case ModeMEM:
		case ModeMEMSX:
			if op.Size() == SizeDW {
				return bad("sign-extending load of 8 bytes does not exist")
			}
		default:
			return bad("unknown load mode")
		}
		return unused(false, false, true)
	case ClassST:
		if op.Mode() != ModeMEM {
			return bad("unknown store mode")
		}
		return unused(true, false, false)
	case ClassSTX:
		switch op.Mode() {
		case ModeMEM:
			return unused(false, false, true)
		case ModeAtomic:
			if op.Size() != SizeW && op.Size() != SizeDW {
				return bad("atomic operations are 4 or 8 bytes wide")
			}
			switch i.Imm {
			case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor,
				AtomicAdd | AtomicFetch, AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch,
				AtomicXchg, AtomicCmpXchg:
				return nil
			}
			return bad("unknown atomic operation 0x%x", uint32(i.Imm))
		}
		return bad("unknown store mode")
	}
	return bad("unknown class")
}

// writesReg reports the register i writes, if any (for the r10 rule).
func writesReg(i Instruction) (Reg, bool) {
	switch i.Op.Class() {
	case ClassALU, ClassALU64, ClassLD, ClassLDX:
		return i.Dst, true
	case ClassSTX:
		if i.Op.Mode() == ModeAtomic {
			switch {
			case i.Imm == AtomicCmpXchg:
				return R0, true
			case i.Imm&AtomicFetch != 0:
				return i.Src, true
			}
		}
	}
	return 0, false
}

func checkWideSecondHalf(i Instruction) *Error {
	if i.Op != 0 || i.Dst != 0 || i.Src != 0 || i.Off != 0 {
		return errAt(ErrIllegalInstruction, -1,
			"invalid lddw second half (opcode, registers and offset must be 0, got %s)", fmt.Sprintf("%016x", i.Raw()))
	}
	return nil
}
