package vm

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// InstructionSize is the size of one instruction slot in bytes.
const InstructionSize = 8

// Class is the low three bits of an opcode (RFC 9669 §3).
type Class uint8

// The eight instruction classes.
const (
	ClassLD    Class = 0x00
	ClassLDX   Class = 0x01
	ClassST    Class = 0x02
	ClassSTX   Class = 0x03
	ClassALU   Class = 0x04
	ClassJMP   Class = 0x05
	ClassJMP32 Class = 0x06
	ClassALU64 Class = 0x07
)

var classNames = [8]string{"ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"}

func (c Class) String() string { return classNames[c&7] }

// Source is bit 0x08 of arithmetic and jump opcodes: the operand is the
// immediate (K) or the source register (X).
type Source uint8

// The two operand sources.
const (
	SourceK Source = 0x00
	SourceX Source = 0x08
)

func (s Source) String() string {
	if s == SourceX {
		return "X"
	}
	return "K"
}

// ALUOp is the high nibble of an ALU or ALU64 opcode.
type ALUOp uint8

// Arithmetic operations.
const (
	ALUAdd  ALUOp = 0x00
	ALUSub  ALUOp = 0x10
	ALUMul  ALUOp = 0x20
	ALUDiv  ALUOp = 0x30 // SDIV when the offset is 1
	ALUOr   ALUOp = 0x40
	ALUAnd  ALUOp = 0x50
	ALULsh  ALUOp = 0x60
	ALURsh  ALUOp = 0x70
	ALUNeg  ALUOp = 0x80
	ALUMod  ALUOp = 0x90 // SMOD when the offset is 1
	ALUXor  ALUOp = 0xa0
	ALUMov  ALUOp = 0xb0 // MOVSX when the offset is 8, 16 or 32
	ALUArsh ALUOp = 0xc0
	ALUEnd  ALUOp = 0xd0 // byte swaps
)

var aluNames = [16]string{"add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor", "mov", "arsh", "end", "alu0xe0", "alu0xf0"}

func (o ALUOp) String() string { return aluNames[o>>4] }

// JmpOp is the high nibble of a JMP or JMP32 opcode.
type JmpOp uint8

// Jump operations.
const (
	JmpJA   JmpOp = 0x00
	JmpEQ   JmpOp = 0x10
	JmpGT   JmpOp = 0x20
	JmpGE   JmpOp = 0x30
	JmpSET  JmpOp = 0x40
	JmpNE   JmpOp = 0x50
	JmpSGT  JmpOp = 0x60
	JmpSGE  JmpOp = 0x70
	JmpCall JmpOp = 0x80
	JmpExit JmpOp = 0x90
	JmpLT   JmpOp = 0xa0
	JmpLE   JmpOp = 0xb0
	JmpSLT  JmpOp = 0xc0
	JmpSLE  JmpOp = 0xd0
)

var jmpNames = [16]string{"ja", "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "call", "exit", "jlt", "jle", "jslt", "jsle", "jmp0xe0", "jmp0xf0"}

func (o JmpOp) String() string { return jmpNames[o>>4] }

// Size is bits 0x18 of a load or store opcode.
type Size uint8

// Access sizes.
const (
	SizeW  Size = 0x00
	SizeH  Size = 0x08
	SizeB  Size = 0x10
	SizeDW Size = 0x18
)

// Bytes is the access width in bytes.
func (s Size) Bytes() int {
	switch s {
	case SizeB:
		return 1
	case SizeH:
		return 2
	case SizeW:
		return 4
	}
	return 8
}

var sizeSuffix = map[Size]string{SizeB: "b", SizeH: "h", SizeW: "w", SizeDW: "dw"}

func (s Size) String() string { return sizeSuffix[s&0x18] }

// Mode is bits 0xe0 of a load or store opcode.
type Mode uint8

// Load and store modes.
const (
	ModeIMM    Mode = 0x00
	ModeABS    Mode = 0x20
	ModeIND    Mode = 0x40
	ModeMEM    Mode = 0x60
	ModeMEMSX  Mode = 0x80
	ModeAtomic Mode = 0xc0
)

// Opcode is the first byte of an instruction.
type Opcode uint8

// Opcodes that the VM and its tools refer to by name.
const (
	OpLDDW     Opcode = 0x18 // lddw dst, imm64 (two slots)
	OpLDDWD    Opcode = 0xb8 // femto-container: dst = address of .data + imm64 (two slots)
	OpLDDWR    Opcode = 0xd8 // femto-container: dst = address of .rodata + imm64 (two slots)
	OpJA       Opcode = 0x05
	OpJA32     Opcode = 0x06
	OpCall     Opcode = 0x85
	OpCallX    Opcode = 0x8d
	OpExit     Opcode = 0x95
	OpAtomicW  Opcode = 0xc3
	OpAtomicDW Opcode = 0xdb
)

// Atomic operation codes, held in the immediate of an atomic instruction.
const (
	AtomicAdd     int32 = 0x00
	AtomicOr      int32 = 0x40
	AtomicAnd     int32 = 0x50
	AtomicXor     int32 = 0xa0
	AtomicFetch   int32 = 0x01
	AtomicXchg    int32 = 0xe1
	AtomicCmpXchg int32 = 0xf1
)

// Call source values for OpCall.
const (
	CallHelper = 0 // imm is a helper number
	CallLocal  = 1 // imm is the pc-relative offset of a local function
)

// Class is the instruction class.
func (o Opcode) Class() Class { return Class(o & 0x07) }

// Source tells whether an ALU or jump opcode takes the immediate or a register.
func (o Opcode) Source() Source { return Source(o & 0x08) }

// ALUOp is the operation of an ALU or ALU64 opcode.
func (o Opcode) ALUOp() ALUOp { return ALUOp(o & 0xf0) }

// JmpOp is the operation of a JMP or JMP32 opcode.
func (o Opcode) JmpOp() JmpOp { return JmpOp(o & 0xf0) }

// Size is the access size of a load or store opcode.
func (o Opcode) Size() Size { return Size(o & 0x18) }

// Mode is the mode of a load or store opcode.
func (o Opcode) Mode() Mode { return Mode(o & 0xe0) }

// IsWide reports whether the opcode takes two slots (lddw and its
// femto-container variants).
func (o Opcode) IsWide() bool { return o == OpLDDW || o == OpLDDWD || o == OpLDDWR }

func (o Opcode) String() string { return fmt.Sprintf("0x%02x", uint8(o)) }

// Reg is a register number. r0..r10 exist; the 4-bit field can name up to r15,
// which the verifier rejects.
type Reg uint8

// The registers. R10 is the read-only frame pointer.
const (
	R0 Reg = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
	// NumRegs is the number of architectural registers.
	NumRegs = 11
)

func (r Reg) String() string { return "%r" + strconv.Itoa(int(r)) }

// Instruction is one 8-byte slot as encoded (RFC 9669 §3). A wide load takes
// two slots: the second has opcode 0 and holds the upper 32 bits in Imm.
type Instruction struct {
	Op  Opcode
	Dst Reg
	Src Reg
	Off int16
	Imm int32
}

// DecodeInstruction decodes one little-endian slot. b must hold at least 8 bytes.
func DecodeInstruction(b []byte) Instruction {
	_ = b[7]
	return Instruction{
		Op:  Opcode(b[0]),
		Dst: Reg(b[1] & 0x0f),
		Src: Reg(b[1] >> 4),
		Off: int16(binary.LittleEndian.Uint16(b[2:])),
		Imm: int32(binary.LittleEndian.Uint32(b[4:])),
	}
}

// AppendBinary appends the 8-byte encoding of i.
func (i Instruction) AppendBinary(b []byte) ([]byte, error) {
	if i.Dst > 15 || i.Src > 15 {
		return b, fmt.Errorf("vm: register field out of range in %v", i.Raw())
	}
	b = append(b, byte(i.Op), byte(i.Dst)|byte(i.Src)<<4)
	b = binary.LittleEndian.AppendUint16(b, uint16(i.Off))
	return binary.LittleEndian.AppendUint32(b, uint32(i.Imm)), nil
}

// Raw is the slot as one 64-bit little-endian value, the corpus's `-- raw`
// spelling (opcode in the low byte).
func (i Instruction) Raw() uint64 {
	return uint64(i.Op) | uint64(i.Dst&15)<<8 | uint64(i.Src&15)<<12 |
		uint64(uint16(i.Off))<<16 | uint64(uint32(i.Imm))<<32
}

// FromRaw is the inverse of Raw.
func FromRaw(v uint64) Instruction {
	return Instruction{
		Op:  Opcode(v),
		Dst: Reg(v >> 8 & 15),
		Src: Reg(v >> 12 & 15),
		Off: int16(v >> 16),
		Imm: int32(v >> 32),
	}
}

// EncodeText encodes slots into bytes.
func EncodeText(text []Instruction) ([]byte, error) {
	b := make([]byte, 0, len(text)*InstructionSize)
	for _, ins := range text {
		var err error
		if b, err = ins.AppendBinary(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// DecodeText decodes bytes into slots; the length must be a multiple of 8.
func DecodeText(b []byte) ([]Instruction, error) {
	if len(b)%InstructionSize != 0 {
		return nil, &Error{Kind: ErrIllegalLength, PC: -1,
			Detail: fmt.Sprintf("text is %d bytes, not a multiple of %d", len(b), InstructionSize)}
	}
	text := make([]Instruction, len(b)/InstructionSize)
	for i := range text {
		text[i] = DecodeInstruction(b[i*InstructionSize:])
	}
	return text, nil
}

// IsJump reports whether i transfers control to pc+1+offset: ja, ja32 and the
// conditional jumps (not call or exit).
func (i Instruction) IsJump() bool {
	switch i.Op.Class() {
	case ClassJMP:
		op := i.Op.JmpOp()
		return op != JmpCall && op != JmpExit && op <= JmpSLE
	case ClassJMP32:
		op := i.Op.JmpOp()
		return op != JmpCall && op != JmpExit && op <= JmpSLE
	}
	return false
}

// JumpOffset is the pc-relative offset of a jump or local call: the target is
// pc + 1 + JumpOffset. ja32 and local calls keep it in Imm, the others in Off.
func (i Instruction) JumpOffset() int {
	if i.Op == OpJA32 || i.IsLocalCall() {
		return int(i.Imm)
	}
	return int(i.Off)
}

// IsLocalCall reports whether i is `call local`.
func (i Instruction) IsLocalCall() bool { return i.Op == OpCall && i.Src == CallLocal }

// IsHelperCall reports whether i calls a helper by number.
func (i Instruction) IsHelperCall() bool { return i.Op == OpCall && i.Src == CallHelper }

// IsUnconditional reports whether control never falls through to the next
// slot: exit, ja and ja32.
func (i Instruction) IsUnconditional() bool {
	return i.Op == OpExit || i.Op == OpJA || i.Op == OpJA32
}

// Mnemonic is the name of i in the conformance corpus's assembly dialect
// ("add32", "ldxsb", "lock fetch xor", "movsx1664"), or "" when i is not a
// valid instruction.
func (i Instruction) Mnemonic() string {
	if checkFields(i) != nil {
		return ""
	}
	return mnemonic(i)
}

func mnemonic(i Instruction) string {
	op := i.Op
	switch op.Class() {
	case ClassALU, ClassALU64:
		suffix := ""
		if op.Class() == ClassALU {
			suffix = "32"
		}
		switch op.ALUOp() {
		case ALUDiv:
			if i.Off == 1 {
				return "sdiv" + suffix
			}
		case ALUMod:
			if i.Off == 1 {
				return "smod" + suffix
			}
		case ALUMov:
			if i.Off != 0 {
				w := "64"
				if op.Class() == ClassALU {
					w = "32"
				}
				return "movsx" + strconv.Itoa(int(i.Off)) + w
			}
		case ALUEnd:
			n := strconv.Itoa(int(i.Imm))
			switch {
			case op.Class() == ClassALU64:
				return "bswap" + n
			case op.Source() == SourceX:
				return "be" + n
			default:
				return "le" + n
			}
		}
		return op.ALUOp().String() + suffix
	case ClassJMP, ClassJMP32:
		if op == OpJA32 {
			return "ja32"
		}
		name := op.JmpOp().String()
		if op.Class() == ClassJMP32 {
			name += "32"
		}
		return name
	case ClassLD:
		switch op {
		case OpLDDWD:
			return "lddwd"
		case OpLDDWR:
			return "lddwr"
		}
		return "lddw"
	case ClassLDX:
		if op.Mode() == ModeMEMSX {
			return "ldxs" + op.Size().String()
		}
		return "ldx" + op.Size().String()
	case ClassST:
		return "st" + op.Size().String()
	case ClassSTX:
		if op.Mode() == ModeAtomic {
			suffix := ""
			if op.Size() == SizeW {
				suffix = "32"
			}
			switch i.Imm {
			case AtomicXchg:
				return "lock xchg" + suffix
			case AtomicCmpXchg:
				return "lock cmpxchg" + suffix
			}
			name := "lock "
			if i.Imm&AtomicFetch != 0 {
				name += "fetch "
			}
			return name + ALUOp(i.Imm&^AtomicFetch).String() + suffix
		}
		return "stx" + op.Size().String()
	}
	return ""
}

// String renders i in the corpus dialect with a pc-relative jump target
// ("jne %r1, 0x5, +3"). The first slot of a wide load shows only its low 32
// bits; asm.Disassemble joins both slots. A slot that is not a valid
// instruction renders as `.raw 0x...`, which the assembler accepts.
func (i Instruction) String() string {
	if checkFields(i) != nil {
		return fmt.Sprintf(".raw 0x%016x", i.Raw())
	}
	return i.Format(-1, nil)
}

// Format renders i in the corpus dialect. For a wide load, hi is the
// second slot's immediate (-1 to show only the low 32 bits). label, when
// non-nil, names the target of a jump or local call given its pc-relative
// offset (it may return "" to fall back to +N).
func (i Instruction) Format(hi int64, label func(target int) string) string {
	name := mnemonic(i)
	op := i.Op
	target := func() string {
		off := i.JumpOffset()
		if label != nil {
			if l := label(off); l != "" {
				return l
			}
		}
		if off < 0 {
			return strconv.Itoa(off)
		}
		return "+" + strconv.Itoa(off)
	}
	switch op.Class() {
	case ClassALU, ClassALU64:
		switch {
		case op.ALUOp() == ALUNeg || op.ALUOp() == ALUEnd:
			return name + " " + i.Dst.String()
		case op.Source() == SourceX:
			return name + " " + i.Dst.String() + ", " + i.Src.String()
		default:
			return name + " " + i.Dst.String() + ", " + FormatImm(int64(i.Imm))
		}
	case ClassJMP, ClassJMP32:
		switch {
		case op == OpExit:
			return name
		case op == OpCall:
			if i.Src == CallLocal {
				return "call local " + target()
			}
			if i.Imm >= 0 && i.Imm < 16 {
				return "call " + strconv.Itoa(int(i.Imm))
			}
			return "call 0x" + strconv.FormatUint(uint64(uint32(i.Imm)), 16)
		case op == OpCallX:
			return "call " + i.Dst.String()
		case op == OpJA || op == OpJA32:
			return name + " " + target()
		case op.Source() == SourceX:
			return name + " " + i.Dst.String() + ", " + i.Src.String() + ", " + target()
		default:
			return name + " " + i.Dst.String() + ", " + FormatImm(int64(i.Imm)) + ", " + target()
		}
	case ClassLD:
		v := uint64(uint32(i.Imm))
		if hi >= 0 {
			v |= uint64(hi) << 32
		}
		return name + " " + i.Dst.String() + ", " + formatImm64(v)
	case ClassLDX:
		return name + " " + i.Dst.String() + ", " + memOperand(i.Src, i.Off)
	case ClassST:
		return name + " " + memOperand(i.Dst, i.Off) + ", " + FormatImm(int64(i.Imm))
	case ClassSTX:
		return name + " " + memOperand(i.Dst, i.Off) + ", " + i.Src.String()
	}
	return fmt.Sprintf(".raw 0x%016x", i.Raw())
}

func memOperand(r Reg, off int16) string {
	switch {
	case off > 0:
		return "[" + r.String() + "+" + strconv.Itoa(int(off)) + "]"
	case off < 0:
		return "[" + r.String() + strconv.Itoa(int(off)) + "]"
	}
	return "[" + r.String() + "]"
}

// FormatImm renders a 32-bit immediate the way the assembler reads it back to
// the same bits: small values in decimal, others as the hex of their 32 bits.
func FormatImm(v int64) string {
	if v >= -4096 && v <= 4096 {
		return strconv.FormatInt(v, 10)
	}
	return "0x" + strconv.FormatUint(uint64(uint32(v)), 16)
}

func formatImm64(v uint64) string {
	if v <= 4096 {
		return strconv.FormatUint(v, 10)
	}
	return "0x" + strconv.FormatUint(v, 16)
}
