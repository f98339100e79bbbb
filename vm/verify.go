package vm

import (
	"fmt"
	"slices"
)

// MaxInstructions is the longest program Verify accepts, in slots (uBPF's limit).
const MaxInstructions = 1 << 16

// Program is a verified, pre-decoded program. It is immutable and may be
// shared by any number of instances, also across goroutines.
type Program struct {
	text      []Instruction
	data      []byte
	rodata    []byte
	functions []Function
	helpers   HelperSet
	format    Format

	code    []slot   // one per slot of text, ready to interpret
	vec     []uint64 // packed instruction-class counts from each slot to the end of its straight-line stretch
	stretch []uint32 // instructions from each slot to the end of its stretch
}

// Verify checks an image before any run (pre-flight, as femto-containers do)
// and pre-decodes it. It rejects, each with the pc of the first offender:
//   - an empty text or one longer than MaxInstructions (ErrIllegalLength);
//   - registers above r10 and writes to r10 (ErrIllegalRegister);
//   - unknown opcodes, non-zero unused fields, bad lddw second halves
//     (ErrIllegalInstruction);
//   - jumps and local calls that leave the program, land in the second half
//     of an lddw, jump to themselves, or leave the function they are in
//     (ErrIllegalJump);
//   - helper calls the host does not know (ErrIllegalCall);
//   - a function whose last instruction is not exit or ja, so that it could
//     run off its end (ErrNoReturn).
//
// Functions are split at the entry (pc 0) and at every local call target.
// helpers may be nil when the host offers none.
func Verify(img *Image, helpers HelperSet) (*Program, error) {
	if img == nil {
		return nil, errAt(ErrIllegalLength, -1, "no image")
	}
	if helpers == nil {
		helpers = noHelpers{}
	}
	text := img.Text
	n := len(text)
	if n == 0 {
		return nil, errAt(ErrIllegalLength, -1, "the program has no instructions")
	}
	if n > MaxInstructions {
		return nil, errAt(ErrIllegalLength, -1, "%d instructions, at most %d allowed", n, MaxInstructions)
	}

	// Pass 1: each instruction on its own, and where instructions start.
	start := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		ins := text[pc]
		if err := checkFields(ins); err != nil {
			err.PC = pc
			return nil, err
		}
		if r, ok := writesReg(ins); ok && r == R10 {
			return nil, errAt(ErrIllegalRegister, pc, "%s writes r10, the read-only frame pointer", mnemonic(ins))
		}
		start[pc] = true
		if ins.Op.IsWide() {
			if pc+1 >= n {
				return nil, errAt(ErrIllegalInstruction, pc, "incomplete lddw: the second slot is missing")
			}
			if err := checkWideSecondHalf(text[pc+1]); err != nil {
				err.PC = pc + 1
				return nil, err
			}
			pc++
		}
	}

	// Pass 2: targets, helpers, function starts.
	funcStart := []int{0}
	for pc := 0; pc < n; pc++ {
		if !start[pc] {
			continue
		}
		ins := text[pc]
		switch {
		case ins.IsJump() || ins.IsLocalCall():
			t := pc + 1 + ins.JumpOffset()
			what := "jump"
			if ins.IsLocalCall() {
				what = "local call"
			}
			switch {
			case t < 0 || t >= n:
				return nil, errAt(ErrIllegalJump, pc, "%s target %d is outside the program (0 to %d)", what, t, n-1)
			case !start[t]:
				return nil, errAt(ErrIllegalJump, pc, "%s target %d is the second half of an lddw", what, t)
			case t == pc && ins.IsUnconditional():
				return nil, errAt(ErrIllegalJump, pc, "jump to itself (infinite loop)")
			}
			if ins.IsLocalCall() {
				funcStart = append(funcStart, t)
			}
		case ins.IsHelperCall():
			if id := uint32(ins.Imm); !helpers.Known(id) {
				return nil, &Error{Kind: ErrIllegalCall, PC: pc, Helper: id, Detail: fmt.Sprintf("helper %d (0x%x) is not provided by the host", id, id)}
			}
		}
	}
	slices.Sort(funcStart)
	funcStart = slices.Compact(funcStart)

	// Pass 3: functions end with exit or ja, and jumps stay inside them.
	for f, lo := range funcStart {
		hi := n
		if f+1 < len(funcStart) {
			hi = funcStart[f+1]
		}
		last := hi - 1
		if !start[last] {
			last--
		}
		if !text[last].IsUnconditional() {
			return nil, errAt(ErrNoReturn, last, "the function starting at pc %d ends with %s, not exit or ja, and could run past its end", lo, mnemonic(text[last]))
		}
		for pc := lo; pc < hi; pc++ {
			if start[pc] && text[pc].IsJump() {
				if t := pc + 1 + text[pc].JumpOffset(); t < lo || t >= hi {
					return nil, errAt(ErrIllegalJump, pc, "jump target %d leaves the function at %d to %d", t, lo, hi-1)
				}
			}
		}
	}

	fns := slices.Clone(img.Functions)
	for _, fn := range fns {
		if fn.PC < 0 || fn.PC >= n || !start[fn.PC] {
			return nil, errAt(ErrIllegalJump, -1, "function %q starts at %d, which is not an instruction", fn.Name, fn.PC)
		}
	}

	p := &Program{
		text:      slices.Clone(text),
		data:      slices.Clone(img.Data),
		rodata:    slices.Clone(img.Rodata),
		functions: fns,
		helpers:   helpers,
		format:    img.Format,
	}
	p.decode(start)
	return p, nil
}

// Len is the program length in 8-byte slots.
func (p *Program) Len() int { return len(p.text) }

// Entry returns the pc of the named function.
func (p *Program) Entry(name string) (int, bool) {
	for _, f := range p.functions {
		if f.Name == name {
			return f.PC, true
		}
	}
	return 0, false
}

// Functions lists the named entry points.
func (p *Program) Functions() []Function { return slices.Clone(p.functions) }

// Text returns a copy of the verified instructions.
func (p *Program) Text() []Instruction { return slices.Clone(p.text) }

// Format is where the program was loaded from.
func (p *Program) Format() Format { return p.format }

// Sizes are the byte sizes of the text, the initial data (with .bss) and the
// read-only data: what the program occupies on a device.
func (p *Program) Sizes() (text, data, rodata int) {
	return len(p.text) * InstructionSize, len(p.data), len(p.rodata)
}

// IsEntry reports whether pc is the start of an instruction, so a valid
// argument to Instance.Run.
func (p *Program) IsEntry(pc int) bool {
	return pc >= 0 && pc < len(p.text) && p.code[pc].op != opInvalid
}
