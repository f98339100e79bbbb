package asm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"tinylab/vm"
)

// Sentinel errors, wrapped by *Error.
var (
	ErrMnemonic = errors.New("unknown mnemonic")
	ErrOperand  = errors.New("invalid operand")
	ErrCount    = errors.New("wrong number of operands")
	ErrRegister = errors.New("invalid register")
	ErrRange    = errors.New("value out of range")
	ErrLabel    = errors.New("label error")
)

// Error is an assembly error at a line and column (both from 1).
type Error struct {
	Line, Column int
	Err          error  // one of the sentinels
	Msg          string // what exactly
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// form is the operand shape of an instruction.
type form uint8

const (
	formNone      form = iota // exit
	formReg                   // neg, le/be/bswap, call %rN
	formRegImm                // ALU K
	formRegReg                // ALU X, movsx
	formRegImm64              // lddw
	formRegMem                // ldx
	formMemImm                // st
	formMemReg                // stx, atomics
	formTarget                // ja, ja32
	formRegImmTgt             // jump K
	formRegRegTgt             // jump X
	formCallImm               // call N
	formCallLocal             // call local target
)

type template struct {
	ins  vm.Instruction // opcode and fixed fields
	form form
}

// templates maps each mnemonic to its encodings, derived from the vm
// package's own naming so that assembler and disassembler cannot disagree.
var templates = buildTemplates()

var aliases = map[string]string{"swap16": "bswap16", "swap32": "bswap32", "swap64": "bswap64"}

func buildTemplates() map[string][]template {
	m := map[string][]template{}
	offs := []int16{0, 1, 8, 16, 32}
	imms := []int32{0, 16, 32, 64, vm.AtomicAdd | vm.AtomicFetch, vm.AtomicOr, vm.AtomicOr | vm.AtomicFetch,
		vm.AtomicAnd, vm.AtomicAnd | vm.AtomicFetch, vm.AtomicXor, vm.AtomicXor | vm.AtomicFetch, vm.AtomicXchg, vm.AtomicCmpXchg}
	for op := 0; op < 256; op++ {
		for _, off := range offs {
			for _, imm := range imms {
				ins := vm.Instruction{Op: vm.Opcode(op), Off: off, Imm: imm}
				name := ins.Mnemonic()
				if name == "" || name == "call" {
					continue
				}
				f := formOf(ins)
				if !fixedFields(ins) {
					ins.Imm = 0
				}
				t := template{ins: ins, form: f}
				if !slices.Contains(m[name], t) {
					m[name] = append(m[name], t)
				}
			}
		}
	}
	m["call"] = []template{
		{ins: vm.Instruction{Op: vm.OpCall}, form: formCallImm},
		{ins: vm.Instruction{Op: vm.OpCall, Src: vm.CallLocal}, form: formCallLocal},
		{ins: vm.Instruction{Op: vm.OpCallX}, form: formReg},
	}
	return m
}

// fixedFields reports whether the template's immediate is part of the
// mnemonic (byte swap width, atomic operation) rather than an operand.
func fixedFields(ins vm.Instruction) bool {
	c := ins.Op.Class()
	return (c == vm.ClassALU || c == vm.ClassALU64) && ins.Op.ALUOp() == vm.ALUEnd ||
		c == vm.ClassSTX && ins.Op.Mode() == vm.ModeAtomic
}

func formOf(ins vm.Instruction) form {
	op := ins.Op
	switch op.Class() {
	case vm.ClassALU, vm.ClassALU64:
		switch {
		case op.ALUOp() == vm.ALUNeg || op.ALUOp() == vm.ALUEnd:
			return formReg
		case op.Source() == vm.SourceX:
			return formRegReg
		}
		return formRegImm
	case vm.ClassJMP, vm.ClassJMP32:
		switch {
		case op == vm.OpExit:
			return formNone
		case op == vm.OpCallX:
			return formReg
		case op == vm.OpJA || op == vm.OpJA32:
			return formTarget
		case op.Source() == vm.SourceX:
			return formRegRegTgt
		}
		return formRegImmTgt
	case vm.ClassLD:
		return formRegImm64
	case vm.ClassLDX:
		return formRegMem
	case vm.ClassST:
		return formMemImm
	}
	return formMemReg
}

// operand is one comma-separated operand with its column.
type operand struct {
	text string
	col  int
}

type fixup struct {
	pc    int
	label string
	line  int
	col   int
	wide  bool // offset goes in Imm (ja32, call local)
}

type assembler struct {
	text      []vm.Instruction
	labels    map[string]int
	order     []string
	fixups    []fixup
	firstExit int
	line      int
}

// Assemble translates assembly in the conformance corpus's dialect into an
// image. Every label becomes a function (an entry point) at its pc. Besides
// the corpus's forms it accepts `label: instruction` on one line, the
// femto-container wide loads `lddwd %rN, off` and `lddwr %rN, off`, and
// `.raw 0x...`, one slot given as the corpus's 64-bit `-- raw` value, which
// the disassembler writes for slots that are not valid instructions.
func Assemble(src string) (*vm.Image, error) {
	a := &assembler{labels: map[string]int{}, firstExit: -1}
	for i, line := range strings.Split(src, "\n") {
		a.line = i + 1
		if err := a.assembleLine(line); err != nil {
			return nil, err
		}
	}
	for _, f := range a.fixups {
		t, ok := a.labels[f.label]
		if !ok && f.label == "exit" && a.firstExit >= 0 {
			t, ok = a.firstExit, true
		}
		if !ok {
			return nil, &Error{Line: f.line, Column: f.col, Err: ErrLabel, Msg: fmt.Sprintf("unknown label %q", f.label)}
		}
		off := t - f.pc - 1
		if f.wide {
			a.text[f.pc].Imm = int32(off)
			continue
		}
		if off < math.MinInt16 || off > math.MaxInt16 {
			return nil, &Error{Line: f.line, Column: f.col, Err: ErrRange, Msg: fmt.Sprintf("label %q is %d instructions away, beyond a 16-bit jump offset (use ja32)", f.label, off)}
		}
		a.text[f.pc].Off = int16(off)
	}
	img := &vm.Image{Text: a.text, Format: vm.FormatAsm}
	for _, name := range a.order {
		img.Functions = append(img.Functions, vm.Function{Name: name, PC: a.labels[name]})
	}
	return img, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (a *assembler) errf(col int, sentinel error, format string, args ...any) *Error {
	return &Error{Line: a.line, Column: col, Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

func (a *assembler) assembleLine(line string) error {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	pos := skipSpace(line, 0)
	// Labels: "name:" possibly followed by an instruction.
	for pos < len(line) && isIdentStart(line[pos]) {
		end := pos
		for end < len(line) && isIdent(line[end]) {
			end++
		}
		if end >= len(line) || line[end] != ':' {
			break
		}
		name := line[pos:end]
		if _, dup := a.labels[name]; dup {
			return a.errf(pos+1, ErrLabel, "label %q defined twice", name)
		}
		a.labels[name] = len(a.text)
		a.order = append(a.order, name)
		pos = skipSpace(line, end+1)
	}
	if pos >= len(line) {
		return nil
	}
	// Mnemonic: a word, or "lock [fetch] op".
	mstart := pos
	end := pos
	for end < len(line) && line[end] != ' ' && line[end] != '\t' {
		end++
	}
	name := line[pos:end]
	pos = skipSpace(line, end)
	if name == "lock" {
		words := []string{"lock"}
		for len(words) < 3 && pos < len(line) && isIdentStart(line[pos]) {
			e := pos
			for e < len(line) && isIdent(line[e]) {
				e++
			}
			w := line[pos:e]
			words = append(words, w)
			pos = skipSpace(line, e)
			if w != "fetch" {
				break
			}
		}
		if len(words) == 1 || words[len(words)-1] == "fetch" {
			return a.errf(mstart+1, ErrCount, "invalid number of operands for lock: an operation (add, and, or, xor, xchg, cmpxchg) is missing")
		}
		name = strings.Join(words, " ")
	}
	ops := splitOperands(line, pos)
	if name == ".raw" {
		if len(ops) != 1 {
			return a.errf(mstart+1, ErrCount, ".raw takes one 64-bit value")
		}
		v, err := parseUint(ops[0].text, 64)
		if err != nil {
			return a.errf(ops[0].col, ErrOperand, ".raw %s: %v", ops[0].text, err)
		}
		a.text = append(a.text, vm.FromRaw(v))
		return nil
	}
	if alias, ok := aliases[name]; ok {
		name = alias
	}
	tmpls, ok := templates[name]
	if !ok {
		return a.errf(mstart+1, ErrMnemonic, "unknown mnemonic %q", name)
	}
	return a.encode(name, tmpls, ops, mstart+1)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

func splitOperands(line string, pos int) []operand {
	var ops []operand
	rest := strings.TrimRight(line[pos:], " \t\r")
	if rest == "" {
		return nil
	}
	start := pos
	for i := pos; i <= pos+len(rest); i++ {
		if i == pos+len(rest) || line[i] == ',' {
			raw := line[start:i]
			trimmed := strings.TrimLeft(raw, " \t")
			col := start + (len(raw) - len(trimmed)) + 1
			ops = append(ops, operand{text: strings.TrimRight(trimmed, " \t\r"), col: col})
			start = i + 1
		}
	}
	return ops
}

// arity is the operand count of each form.
var arity = map[form]int{
	formNone: 0, formReg: 1, formRegImm: 2, formRegReg: 2, formRegImm64: 2, formRegMem: 2,
	formMemImm: 2, formMemReg: 2, formTarget: 1, formRegImmTgt: 3, formRegRegTgt: 3, formCallImm: 1, formCallLocal: 1,
}

func (a *assembler) encode(name string, tmpls []template, ops []operand, col int) error {
	// Pick the template by operand count and whether an operand is a register.
	var t *template
	if name == "call" {
		switch {
		case len(ops) == 1 && strings.HasPrefix(ops[0].text, "local"):
			t = &tmpls[1]
			rest := strings.TrimSpace(strings.TrimPrefix(ops[0].text, "local"))
			ops[0].col += len(ops[0].text) - len(rest)
			ops[0].text = rest
			if rest == "" {
				return a.errf(col, ErrCount, "call local needs a target")
			}
		case len(ops) == 1 && strings.HasPrefix(ops[0].text, "%"):
			t = &tmpls[2]
		default:
			t = &tmpls[0]
		}
	} else {
		for i := range tmpls {
			tt := &tmpls[i]
			if arity[tt.form] != len(ops) {
				continue
			}
			isReg := func(k int) bool { return strings.HasPrefix(ops[k].text, "%") }
			switch tt.form {
			case formRegImm, formRegImmTgt:
				if isReg(1) {
					continue
				}
			case formRegReg, formRegRegTgt:
				if !isReg(1) {
					continue
				}
			}
			t = tt
			break
		}
		if t == nil {
			want := arity[tmpls[0].form]
			if len(tmpls) > 1 && arity[tmpls[1].form] != want {
				return a.errf(col, ErrCount, "%s takes %d or %d operands, got %d", name, want, arity[tmpls[1].form], len(ops))
			}
			if len(ops) == want {
				return a.errf(col, ErrOperand, "%s: operands do not match", name)
			}
			return a.errf(col, ErrCount, "invalid number of operands for %s: takes %d, got %d", name, want, len(ops))
		}
	}
	if n := arity[t.form]; n != len(ops) {
		return a.errf(col, ErrCount, "invalid number of operands for %s: takes %d, got %d", name, n, len(ops))
	}
	ins := t.ins
	pc := len(a.text)
	var err error
	switch t.form {
	case formNone:
		if ins.Op == vm.OpExit && a.firstExit < 0 {
			a.firstExit = pc
		}
	case formReg:
		ins.Dst, err = a.reg(ops[0])
	case formRegImm:
		if ins.Dst, err = a.reg(ops[0]); err == nil {
			ins.Imm, err = a.imm32(ops[1])
		}
	case formRegReg:
		if ins.Dst, err = a.reg(ops[0]); err == nil {
			ins.Src, err = a.reg(ops[1])
		}
	case formRegImm64:
		var v uint64
		if ins.Dst, err = a.reg(ops[0]); err == nil {
			v, err = a.imm64(ops[1])
		}
		if err != nil {
			return err
		}
		ins.Imm = int32(uint32(v))
		a.text = append(a.text, ins, vm.Instruction{Imm: int32(uint32(v >> 32))})
		return nil
	case formRegMem:
		if ins.Dst, err = a.reg(ops[0]); err == nil {
			ins.Src, ins.Off, err = a.mem(ops[1])
		}
	case formMemImm:
		if ins.Dst, ins.Off, err = a.mem(ops[0]); err == nil {
			ins.Imm, err = a.imm32(ops[1])
		}
	case formMemReg:
		if ins.Dst, ins.Off, err = a.mem(ops[0]); err == nil {
			ins.Src, err = a.reg(ops[1])
		}
	case formTarget:
		err = a.target(&ins, ops[0], pc)
	case formRegImmTgt:
		if ins.Dst, err = a.reg(ops[0]); err == nil {
			if ins.Imm, err = a.imm32(ops[1]); err == nil {
				err = a.target(&ins, ops[2], pc)
			}
		}
	case formRegRegTgt:
		if ins.Dst, err = a.reg(ops[0]); err == nil {
			if ins.Src, err = a.reg(ops[1]); err == nil {
				err = a.target(&ins, ops[2], pc)
			}
		}
	case formCallImm:
		ins.Imm, err = a.imm32(ops[0])
	case formCallLocal:
		err = a.target(&ins, ops[0], pc)
	}
	if err != nil {
		return err
	}
	a.text = append(a.text, ins)
	return nil
}

func (a *assembler) reg(o operand) (vm.Reg, error) {
	s := o.text
	if !strings.HasPrefix(s, "%r") {
		return 0, a.errf(o.col, ErrRegister, "invalid register %q: registers are %%r0 to %%r10", s)
	}
	n, err := strconv.ParseUint(s[2:], 10, 8)
	if err != nil || n > 15 || len(s) > 3 && s[2] == '0' {
		return 0, a.errf(o.col, ErrRegister, "invalid register %q: registers are %%r0 to %%r10", s)
	}
	return vm.Reg(n), nil
}

// mem parses [%rN], [%rN+off] and [%rN-off].
func (a *assembler) mem(o operand) (vm.Reg, int16, error) {
	s := o.text
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return 0, 0, a.errf(o.col, ErrOperand, "invalid memory operand %q: [%%rN+offset] expected", s)
	}
	inner := strings.TrimSpace(s[1 : len(s)-1])
	cut := strings.IndexAny(inner, "+-")
	regText, offText := inner, ""
	if cut >= 0 {
		regText, offText = strings.TrimSpace(inner[:cut]), inner[cut:]
	}
	r, err := a.reg(operand{text: regText, col: o.col + 1})
	if err != nil {
		return 0, 0, err
	}
	if offText == "" {
		return r, 0, nil
	}
	sign := offText[0]
	v, err := parseUint(strings.TrimSpace(offText[1:]), 16)
	if err != nil {
		return 0, 0, a.errf(o.col+1+cut, ErrRange, "offset %s: %v (-32768 to 32767)", offText, err)
	}
	off := int64(v)
	if sign == '-' {
		off = -off
	}
	if off < math.MinInt16 || off > math.MaxInt16 {
		return 0, 0, a.errf(o.col+1+cut, ErrRange, "offset %s out of range (-32768 to 32767)", offText)
	}
	return r, int16(off), nil
}

// target sets the jump offset of ins from +N, -N or a label.
func (a *assembler) target(ins *vm.Instruction, o operand, pc int) error {
	wide := ins.Op == vm.OpJA32 || ins.IsLocalCall()
	s := o.text
	if s == "" {
		return a.errf(o.col, ErrOperand, "missing jump target")
	}
	if s[0] == '+' || s[0] == '-' {
		bitsize := 16
		if wide {
			bitsize = 32
		}
		v, err := parseUint(s[1:], bitsize)
		off := int64(v)
		if s[0] == '-' {
			off = -off
		}
		lo, hi := int64(math.MinInt16), int64(math.MaxInt16)
		if wide {
			lo, hi = math.MinInt32, math.MaxInt32
		}
		if err != nil || off < lo || off > hi {
			return a.errf(o.col, ErrRange, "jump offset %s out of range (%d to %d)", s, lo, hi)
		}
		if wide {
			ins.Imm = int32(off)
		} else {
			ins.Off = int16(off)
		}
		return nil
	}
	for i := 0; i < len(s); i++ {
		if !isIdent(s[i]) || i == 0 && !isIdentStart(s[i]) {
			return a.errf(o.col, ErrOperand, "invalid jump target %q: +N, -N or a label expected", s)
		}
	}
	a.fixups = append(a.fixups, fixup{pc: pc, label: s, line: a.line, col: o.col, wide: wide})
	return nil
}

// imm32 parses a 32-bit immediate: decimal from -2147483648 to 2147483647,
// or hex up to 0xffffffff (its bits, so 0xffffffff is -1), optionally negated.
func (a *assembler) imm32(o operand) (int32, error) {
	s := o.text
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	hex := strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")
	v, err := parseUint(s, 33)
	if err != nil && !errors.Is(err, errOutOfRange) {
		return 0, a.errf(o.col, ErrOperand, "invalid immediate %q: %v", o.text, err)
	}
	if err != nil {
		v = math.MaxUint64
	}
	switch {
	case neg && v <= 1<<31:
		return int32(-int64(v)), nil
	case !neg && hex && v <= math.MaxUint32:
		return int32(uint32(v)), nil
	case !neg && !hex && v <= math.MaxInt32:
		return int32(v), nil
	}
	return 0, a.errf(o.col, ErrRange, "immediate %s does not fit in 32 bits (decimal -2147483648 to 2147483647, or hex up to 0xffffffff)", o.text)
}

// imm64 parses lddw's immediate: any 64-bit pattern, in decimal (signed or
// unsigned) or hex.
func (a *assembler) imm64(o operand) (uint64, error) {
	s := o.text
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	v, err := parseUint(s, 64)
	if err != nil || neg && v > 1<<63 {
		return 0, a.errf(o.col, ErrRange, "invalid 64-bit immediate %q", o.text)
	}
	if neg {
		v = -v
	}
	return v, nil
}

var errOutOfRange = errors.New("out of range")

// parseUint reads decimal or 0x-prefixed hex that fits in bitsize bits.
func parseUint(s string, bitsize int) (uint64, error) {
	if s == "" {
		return 0, errors.New("number expected")
	}
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, s = 16, s[2:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' || s[0] == '_' {
		return 0, errors.New("number expected")
	}
	v, err := strconv.ParseUint(s, base, bitsize)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, errOutOfRange
		}
		return 0, errors.New("not a number")
	}
	return v, nil
}
