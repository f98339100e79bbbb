package wasm

// class is the cost class of an instruction, the same classes as the eBPF
// VM's statistics (and so the same modelled time per class on the device).
type class uint8

const (
	clsNone   class = iota // structure only: block, loop, else, end
	clsALU                 // locals, globals, constants, arithmetic, conversions, nop, drop, select
	clsMem                 // loads, stores, memory.size, memory.grow
	clsBranch              // if, br, br_if, br_table, return, unreachable
	clsDiv                 // integer and float division and remainder, sqrt
	clsCall                // call, call_indirect
)

// instr is one decoded instruction: where it is and what the meter needs.
type instr struct {
	op    uint32 // opcode; prefixed ones as prefix<<8 | sub-opcode
	start int    // index of the opcode in the body
	end   int    // index after the immediates
	idx   uint32 // call: function index
}

// Opcodes the meter looks at.
const (
	opUnreachable  = 0x00
	opNop          = 0x01
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opElse         = 0x05
	opEnd          = 0x0b
	opBr           = 0x0c
	opBrIf         = 0x0d
	opBrTable      = 0x0e
	opReturn       = 0x0f
	opCall         = 0x10
	opCallIndirect = 0x11
	opDrop         = 0x1a
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opMemoryGrow   = 0x40
	opI32Const     = 0x41
	opI64Const     = 0x42
	opI32Add       = 0x6a
	opI32Sub       = 0x6b
	opI32GtU       = 0x4b
	opI32LtS       = 0x48
	opI32WrapI64   = 0xa7
	opI64Add       = 0x7c
	opPrefixMisc   = 0xfc
)

// classOf is the cost class of a (validated) opcode.
func classOf(op uint32) class {
	switch {
	case op == opBlock || op == opLoop || op == opElse || op == opEnd:
		return clsNone
	case op == opUnreachable || op == opIf || op >= opBr && op <= opReturn:
		return clsBranch
	case op == opCall || op == opCallIndirect:
		return clsCall
	case op >= 0x28 && op <= 0x40:
		return clsMem
	case op >= 0x6d && op <= 0x70, op >= 0x7f && op <= 0x82, op == 0x91, op == 0x95, op == 0x9f, op == 0xa3:
		return clsDiv
	}
	return clsALU
}

// trapKinds says which traps an instruction can raise (0: none). The meter
// records its position before each such instruction.
func trapKinds(op uint32) (k1, k2 Kind) {
	switch {
	case op >= 0x28 && op <= 0x3e:
		return ErrOutOfBounds, 0
	case op == 0x6d || op == 0x7f: // div_s
		return ErrDivideByZero, ErrIntegerOverflow
	case op >= 0x6e && op <= 0x70, op >= 0x80 && op <= 0x82:
		return ErrDivideByZero, 0
	case op >= 0xa8 && op <= 0xab, op >= 0xae && op <= 0xb1:
		return ErrInvalidConversion, ErrIntegerOverflow
	case op == opUnreachable:
		return ErrUnreachable, 0
	case op == opCallIndirect:
		return ErrIndirectCall, 0
	}
	return 0, 0
}

// decodeInstr decodes the instruction at b[i:]. It understands WebAssembly
// 1.0 plus sign extension and non-trapping float-to-int, and names every
// other feature it meets, so the meter never copies code it cannot cost.
// off is the offset of b in the module, for errors.
func decodeInstr(b []byte, i, off int) (instr, error) {
	in := instr{start: i}
	if i >= len(b) {
		return in, compileErr(ErrMalformed, off+i, "code ends inside a function")
	}
	op := uint32(b[i])
	i++
	var err error
	var v uint64
	bad := func(what string) (instr, error) {
		return in, compileErr(ErrMalformed, off+in.start, "bad %s of opcode %#x", what, op)
	}
	switch {
	case op == opBlock || op == opLoop || op == opIf:
		if i >= len(b) {
			return bad("block type")
		}
		switch t := b[i]; {
		case t == 0x40 || t == byte(I32) || t == byte(I64) || t == byte(F32) || t == byte(F64):
			i++
		case t == 0x7b:
			return in, unsupported("SIMD", off+i, "v128 block type")
		case t == 0x70 || t == 0x6f:
			return in, unsupported("reference types", off+i, "reference block type")
		default:
			return in, unsupported("multi-value", off+i, "block type given by a type index")
		}
	case op == opBr || op == opBrIf || op == opCall || op >= opLocalGet && op <= opGlobalSet:
		if v, i, err = uleb(b, i, 32); err != nil {
			return bad("index")
		}
		in.idx = uint32(v)
	case op == opBrTable:
		if v, i, err = uleb(b, i, 32); err != nil {
			return bad("label count")
		}
		if v > uint64(len(b)-i) {
			return bad("label count")
		}
		for range v + 1 {
			if _, i, err = uleb(b, i, 32); err != nil {
				return bad("label")
			}
		}
	case op == opCallIndirect:
		if _, i, err = uleb(b, i, 32); err != nil {
			return bad("type index")
		}
		// lld pads the table index to five bytes when clang enables
		// reference types (clang-19's default), so read it as a number.
		at := i
		if v, i, err = uleb(b, i, 32); err != nil {
			return bad("table index")
		}
		if v != 0 {
			return in, unsupported("reference types", off+at, "call_indirect on table %d", v)
		}
	case op == 0x12 || op == 0x13:
		return in, unsupported("tail calls", off+in.start, "return_call")
	case op >= 0x06 && op <= 0x0a || op == 0x18 || op == 0x19:
		return in, unsupported("exception handling", off+in.start, "opcode %#x", op)
	case op == 0x1c || op == 0x25 || op == 0x26 || op >= 0xd0 && op <= 0xd2:
		return in, unsupported("reference types", off+in.start, "opcode %#x", op)
	case op >= 0x28 && op <= 0x3e:
		if v, i, err = uleb(b, i, 32); err != nil {
			return bad("alignment")
		}
		if v&0x40 != 0 {
			return in, unsupported("multi-memory", off+in.start, "memory index in a load or store")
		}
		if _, i, err = uleb(b, i, 32); err != nil {
			return bad("offset")
		}
	case op == 0x3f || op == 0x40:
		if i >= len(b) {
			return bad("memory index")
		}
		if b[i] != 0 {
			return in, unsupported("multi-memory", off+in.start, "memory %d", b[i])
		}
		i++
	case op == opI32Const:
		if _, i, err = sleb(b, i, 32); err != nil {
			return bad("immediate")
		}
	case op == opI64Const:
		if _, i, err = sleb(b, i, 64); err != nil {
			return bad("immediate")
		}
	case op == 0x43:
		i += 4
	case op == 0x44:
		i += 8
	case op <= opNop || op == opElse || op == opEnd || op == opReturn || op == 0x1a || op == 0x1b || op >= 0x45 && op <= 0xc4:
	case op == opPrefixMisc:
		if v, i, err = uleb(b, i, 32); err != nil {
			return bad("sub-opcode")
		}
		switch {
		case v <= 7:
			op = opPrefixMisc<<8 | uint32(v)
		case v <= 11:
			return in, unsupported("bulk memory", off+in.start, "0xfc %d (memory.init, data.drop, memory.copy, memory.fill)", v)
		default:
			return in, unsupported("reference types", off+in.start, "table instruction 0xfc %d", v)
		}
	case op == 0xfd:
		return in, unsupported("SIMD", off+in.start, "opcode 0xfd")
	case op == 0xfe:
		return in, unsupported("threads", off+in.start, "atomic opcode 0xfe")
	default:
		return in, compileErr(ErrMalformed, off+in.start, "unknown opcode %#x", op)
	}
	if i > len(b) {
		return bad("immediate")
	}
	in.op, in.end = op, i
	return in, nil
}
