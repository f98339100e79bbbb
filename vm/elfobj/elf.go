package elfobj

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"tinylab/vm"
)

// MaxData bounds .data plus .bss: far more than any nRF52 has as RAM, and it
// keeps a hostile .bss size from allocating gigabytes.
const MaxData = 1 << 20

// ELF constants this reader needs.
const (
	emBPF       = 247
	etRel       = 1
	shtProgbits = 1
	shtSymtab   = 2
	shtRela     = 4
	shtNobits   = 8
	shtRel      = 9
	shfWrite    = 0x1
	shfAlloc    = 0x2
	shfExec     = 0x4
	shnUndef    = 0
	shnAbs      = 0xfff1
	shnCommon   = 0xfff2
	sttFunc     = 2
	stbGlobal   = 1
	stbWeak     = 2

	rBPFNone     = 0
	rBPF6464     = 1
	rBPFAbs64    = 2
	rBPFAbs32    = 3
	rBPFNoDyld32 = 4
	rBPF6432     = 10
)

type kind uint8

const (
	kindNone kind = iota
	kindText
	kindData
	kindRodata
	kindBSS
)

func (k kind) String() string {
	return [...]string{"unloaded", "text", "data", "rodata", "bss"}[k]
}

type section struct {
	name   string
	typ    uint32
	flags  uint64
	off    uint64
	size   uint64
	link   uint32
	info   uint32
	align  uint64
	entsz  uint64
	kind   kind
	base   uint64 // byte offset in the merged text, data or rodata
	loaded []byte // file bytes of a PROGBITS section
}

type symbol struct {
	name  string
	info  uint8
	shndx uint16
	value uint64
}

func bad(format string, args ...any) error {
	return &vm.Error{Kind: vm.ErrBadImage, PC: -1, Detail: "elf: " + fmt.Sprintf(format, args...)}
}

type reader struct {
	b    []byte
	secs []section
	syms []symbol
}

// slice returns b[off:off+n] or an error naming what did not fit.
func (r *reader) slice(off, n uint64, what string) ([]byte, error) {
	if off > uint64(len(r.b)) || n > uint64(len(r.b))-off {
		return nil, bad("%s (offset %d, %d bytes) lies outside the %d-byte file", what, off, n, len(r.b))
	}
	return r.b[off : off+n], nil
}

func cstring(tab []byte, off uint32) (string, bool) {
	if uint64(off) >= uint64(len(tab)) {
		return "", false
	}
	s, _, ok := bytes.Cut(tab[off:], []byte{0})
	return string(s), ok
}

// Decode reads a relocatable ELF object produced by `clang -target bpf -c`:
// executable sections become the text (in section order), writable ones
// .data with .bss appended, read-only ones .rodata; relocations are applied
// (see the package documentation) and global functions become entry points,
// as do executable sections other than .text, by section name.
func Decode(b []byte) (*vm.Image, error) {
	r := &reader{b: b}
	if err := r.header(); err != nil {
		return nil, err
	}
	if err := r.symbols(); err != nil {
		return nil, err
	}
	img := &vm.Image{Format: vm.FormatELF}
	var text, data, rodata []byte
	var bss uint64
	for i := range r.secs {
		s := &r.secs[i]
		if s.kind == kindNone {
			continue
		}
		align := max(min(s.align, 4096), 1)
		switch s.kind {
		case kindText:
			if s.size%vm.InstructionSize != 0 {
				return nil, &vm.Error{Kind: vm.ErrIllegalLength, PC: -1, Detail: fmt.Sprintf("elf: section %s is %d bytes, not a multiple of %d", s.name, s.size, vm.InstructionSize)}
			}
			s.base = uint64(len(text))
			text = append(text, s.loaded...)
		case kindData:
			data = pad(data, align)
			s.base = uint64(len(data))
			data = append(data, s.loaded...)
		case kindRodata:
			rodata = pad(rodata, align)
			s.base = uint64(len(rodata))
			rodata = append(rodata, s.loaded...)
		}
		if len(data) > MaxData {
			return nil, bad(".data is larger than %d bytes", MaxData)
		}
	}
	// .bss goes after all of .data, in the same region.
	bss = uint64(len(data))
	for i := range r.secs {
		s := &r.secs[i]
		if s.kind != kindBSS {
			continue
		}
		align := max(min(s.align, 4096), 1)
		bss = (bss + align - 1) / align * align
		s.base = bss
		if s.size > MaxData || bss+s.size > MaxData {
			return nil, bad(".data and .bss together are larger than %d bytes", MaxData)
		}
		bss += s.size
	}
	data = append(data, make([]byte, bss-uint64(len(data)))...)
	if len(text) == 0 {
		return nil, &vm.Error{Kind: vm.ErrIllegalLength, PC: -1, Detail: "elf: no executable section"}
	}
	var err error
	if img.Text, err = vm.DecodeText(text); err != nil {
		return nil, err
	}
	if err := r.relocate(img.Text, data, rodata); err != nil {
		return nil, err
	}
	img.Data, img.Rodata = data, rodata
	img.Functions = r.functions()
	return img, nil
}

func pad(b []byte, align uint64) []byte {
	for uint64(len(b))%align != 0 {
		b = append(b, 0)
	}
	return b
}

func (r *reader) header() error {
	b := r.b
	if len(b) < 64 || string(b[:4]) != "\x7fELF" {
		return bad("not an ELF file")
	}
	if b[4] != 2 {
		return bad("not a 64-bit ELF (class %d)", b[4])
	}
	if b[5] != 1 {
		return bad("not little-endian (data encoding %d): compile with -target bpfel or -target bpf on a little-endian host", b[5])
	}
	le := binary.LittleEndian
	if t := le.Uint16(b[16:]); t != etRel {
		return bad("ELF type %d, want 1 (relocatable object from clang -c)", t)
	}
	if m := le.Uint16(b[18:]); m != emBPF {
		return bad("machine %d, want %d (BPF): compile with clang -target bpf", m, emBPF)
	}
	shoff := le.Uint64(b[40:])
	shentsize := le.Uint16(b[58:])
	shnum := uint64(le.Uint16(b[60:]))
	shstrndx := uint64(le.Uint16(b[62:]))
	if shentsize != 64 {
		return bad("section header size %d, want 64", shentsize)
	}
	if shnum == 0 || shstrndx >= shnum {
		return bad("%d sections, names in section %d: extended numbering is not supported", shnum, shstrndx)
	}
	hdrs, err := r.slice(shoff, shnum*64, "section header table")
	if err != nil {
		return err
	}
	r.secs = make([]section, shnum)
	for i := range r.secs {
		h := hdrs[i*64:]
		r.secs[i] = section{
			typ: le.Uint32(h[4:]), flags: le.Uint64(h[8:]), off: le.Uint64(h[24:]), size: le.Uint64(h[32:]),
			link: le.Uint32(h[40:]), info: le.Uint32(h[44:]), align: le.Uint64(h[48:]), entsz: le.Uint64(h[56:]),
		}
	}
	strs := &r.secs[shstrndx]
	names, err := r.slice(strs.off, strs.size, "section name table")
	if err != nil {
		return err
	}
	for i := range r.secs {
		s := &r.secs[i]
		nameOff := le.Uint32(hdrs[i*64:])
		name, ok := cstring(names, nameOff)
		if !ok && i != 0 {
			return bad("section %d: name offset %d is outside the name table", i, nameOff)
		}
		s.name = name
		if s.flags&shfAlloc == 0 || s.size == 0 || noProgram(name) {
			continue
		}
		switch {
		case s.typ == shtNobits && s.flags&shfWrite != 0:
			s.kind = kindBSS
		case s.typ != shtProgbits:
			continue
		case s.flags&shfExec != 0:
			s.kind = kindText
		case s.flags&shfWrite != 0:
			s.kind = kindData
		default:
			s.kind = kindRodata
		}
		if s.kind != kindBSS {
			if s.loaded, err = r.slice(s.off, s.size, "section "+s.name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *reader) symbols() error {
	for i := range r.secs {
		s := &r.secs[i]
		if s.typ != shtSymtab {
			continue
		}
		if r.syms != nil {
			return bad("more than one symbol table")
		}
		if s.entsz != 24 || s.size%24 != 0 {
			return bad("symbol table entry size %d, want 24", s.entsz)
		}
		tab, err := r.slice(s.off, s.size, "symbol table")
		if err != nil {
			return err
		}
		if uint64(s.link) >= uint64(len(r.secs)) {
			return bad("symbol table names in section %d, which does not exist", s.link)
		}
		ss := &r.secs[s.link]
		strtab, err := r.slice(ss.off, ss.size, "symbol name table")
		if err != nil {
			return err
		}
		le := binary.LittleEndian
		r.syms = make([]symbol, s.size/24)
		for k := range r.syms {
			e := tab[k*24:]
			name, ok := cstring(strtab, le.Uint32(e))
			if !ok && k != 0 {
				return bad("symbol %d: name outside the name table", k)
			}
			r.syms[k] = symbol{name: name, info: e[4], shndx: le.Uint16(e[6:]), value: le.Uint64(e[8:])}
		}
	}
	return nil
}

// target resolves a symbol to the section it lives in and its byte offset
// in the merged text, data or rodata.
func (r *reader) target(symIdx uint64) (*section, uint64, symbol, error) {
	if symIdx >= uint64(len(r.syms)) {
		return nil, 0, symbol{}, bad("relocation against symbol %d, which does not exist", symIdx)
	}
	sym := r.syms[symIdx]
	switch sym.shndx {
	case shnUndef:
		return nil, 0, sym, bad("undefined symbol %q: everything must be defined in the object (helpers are called by number)", sym.name)
	case shnAbs:
		return nil, sym.value, sym, nil
	case shnCommon:
		return nil, 0, sym, bad("common symbol %q: compile with -fno-common", sym.name)
	}
	if int(sym.shndx) >= len(r.secs) {
		return nil, 0, sym, bad("symbol %q in section %d, which does not exist", sym.name, sym.shndx)
	}
	s := &r.secs[sym.shndx]
	if s.kind == kindNone {
		return nil, 0, sym, bad("symbol %q is in section %q, which is not loaded", sym.name, s.name)
	}
	if sym.value > s.size {
		return nil, 0, sym, bad("symbol %q at offset %d is beyond its section %s (%d bytes)", sym.name, sym.value, s.name, s.size)
	}
	return s, s.base + sym.value, sym, nil
}

// vaddr is the VM address of a byte offset in a data-like section.
func vaddr(s *section, off uint64) uint64 {
	if s.kind == kindRodata {
		return vm.RodataBase + off
	}
	return vm.DataBase + off
}

// noProgram reports sections that are allocated but hold nothing a
// program runs or reads: unwind tables and notes. A host-target clang
// piped into llc (RIOT's femto-container build: clang -emit-llvm | llc
// -march=bpf) writes .eh_frame, with relocations pointing into the code.
func noProgram(name string) bool {
	switch name {
	case ".eh_frame", ".eh_frame_hdr", ".gcc_except_table":
		return true
	}
	return strings.HasPrefix(name, ".note")
}

func (r *reader) relocate(text []vm.Instruction, data, rodata []byte) error {
	le := binary.LittleEndian
	for i := range r.secs {
		rs := &r.secs[i]
		if rs.typ != shtRel && rs.typ != shtRela {
			continue
		}
		entsz := uint64(16)
		if rs.typ == shtRela {
			entsz = 24
		}
		if uint64(rs.info) >= uint64(len(r.secs)) {
			return bad("relocation section %s applies to section %d, which does not exist", rs.name, rs.info)
		}
		ts := &r.secs[rs.info]
		if ts.kind == kindNone || ts.kind == kindBSS {
			continue // debug info (.BTF, .BTF.ext) and the like
		}
		rels, err := r.slice(rs.off, rs.size, "relocation section "+rs.name)
		if err != nil {
			return err
		}
		if rs.size%entsz != 0 {
			return bad("relocation section %s is %d bytes, not a multiple of %d", rs.name, rs.size, entsz)
		}
		for k := uint64(0); k < rs.size/entsz; k++ {
			e := rels[k*entsz:]
			off, info := le.Uint64(e), le.Uint64(e[8:])
			var addend int64
			explicit := rs.typ == shtRela
			if explicit {
				addend = int64(le.Uint64(e[16:]))
			}
			typ, symIdx := uint32(info), info>>32
			if typ == rBPFNone || typ == rBPFNoDyld32 {
				continue
			}
			where := fmt.Sprintf("relocation %d of %s at offset %d", k, rs.name, off)
			switch ts.kind {
			case kindText:
				if off%vm.InstructionSize != 0 || off >= ts.size {
					return bad("%s: not an instruction of %s", where, ts.name)
				}
				pc := int((ts.base + off) / vm.InstructionSize)
				if err := r.relocText(text, pc, typ, symIdx, addend, explicit, where); err != nil {
					return err
				}
			default:
				buf := data
				if ts.kind == kindRodata {
					buf = rodata
				}
				if err := r.relocData(buf, ts, off, typ, symIdx, addend, explicit, where); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *reader) relocText(text []vm.Instruction, pc int, typ uint32, symIdx uint64, addend int64, explicit bool, where string) error {
	ins := &text[pc]
	s, off, sym, err := r.target(symIdx)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	switch typ {
	case rBPF6464:
		if ins.Op != vm.OpLDDW || pc+1 >= len(text) {
			return bad("%s: R_BPF_64_64 on %v, not an lddw", where, ins.Op)
		}
		if !explicit {
			addend = int64(ins.Imm)
		}
		v := off + uint64(addend)
		switch {
		case s == nil: // absolute symbol
			ins.Imm, text[pc+1].Imm = int32(uint32(v)), int32(uint32(v>>32))
		case s.kind == kindText:
			return bad("%s: lddw of the address of function %q: function pointers are not supported", where, sym.name)
		default:
			if int64(v) < 0 || v > uint64(vm.MaxRegionSize) {
				return bad("%s: offset %d into %s is out of range", where, int64(v), s.kind)
			}
			ins.Op = vm.OpLDDWD
			if s.kind == kindRodata {
				ins.Op = vm.OpLDDWR
			}
			ins.Imm, text[pc+1].Imm = int32(uint32(v)), 0
		}
	case rBPF6432:
		if !ins.IsLocalCall() {
			return bad("%s: R_BPF_64_32 on %v, not a local call", where, ins.Op)
		}
		if s == nil || s.kind != kindText {
			return bad("%s: call to %q, which is not a function in the text", where, sym.name)
		}
		// The implicit addend is the callee's slot in its section minus 1.
		if explicit {
			addend = addend/vm.InstructionSize - 1
		} else {
			addend = int64(ins.Imm)
		}
		t := int64(off/vm.InstructionSize) + addend + 1
		if t < 0 || t >= int64(len(text)) {
			return bad("%s: call target %d is outside the text", where, t)
		}
		ins.Imm = int32(t - int64(pc) - 1)
	default:
		return bad("%s: relocation type %d in the text is not supported", where, typ)
	}
	return nil
}

func (r *reader) relocData(buf []byte, ts *section, off uint64, typ uint32, symIdx uint64, addend int64, explicit bool, where string) error {
	size := uint64(8)
	if typ == rBPFAbs32 {
		size = 4
	} else if typ != rBPFAbs64 {
		return bad("%s: relocation type %d in %s is not supported", where, typ, ts.name)
	}
	if off > ts.size || size > ts.size-off {
		return bad("%s: outside section %s", where, ts.name)
	}
	at := buf[ts.base+off:]
	s, symOff, sym, err := r.target(symIdx)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if !explicit {
		if size == 8 {
			addend = int64(binary.LittleEndian.Uint64(at))
		} else {
			addend = int64(int32(binary.LittleEndian.Uint32(at)))
		}
	}
	v := symOff + uint64(addend)
	if s != nil {
		if s.kind == kindText {
			return bad("%s: pointer to function %q in data: function pointers are not supported", where, sym.name)
		}
		v = vaddr(s, symOff+uint64(addend))
	}
	if size == 8 {
		binary.LittleEndian.PutUint64(at, v)
	} else {
		binary.LittleEndian.PutUint32(at, uint32(v))
	}
	return nil
}

func (r *reader) functions() []vm.Function {
	var fns []vm.Function
	seen := map[string]bool{}
	for _, sym := range r.syms {
		bind, typ := sym.info>>4, sym.info&0xf
		if typ != sttFunc || bind != stbGlobal && bind != stbWeak || int(sym.shndx) >= len(r.secs) {
			continue
		}
		s := &r.secs[sym.shndx]
		if s.kind != kindText || sym.value%vm.InstructionSize != 0 || sym.value >= s.size || seen[sym.name] {
			continue
		}
		seen[sym.name] = true
		fns = append(fns, vm.Function{Name: sym.name, PC: int((s.base + sym.value) / vm.InstructionSize)})
	}
	for i := range r.secs {
		s := &r.secs[i]
		if s.kind == kindText && s.name != ".text" && !strings.HasPrefix(s.name, ".text.") && !seen[s.name] {
			seen[s.name] = true
			fns = append(fns, vm.Function{Name: s.name, PC: int(s.base / vm.InstructionSize)})
		}
	}
	slices.SortStableFunc(fns, func(a, b vm.Function) int {
		if a.PC != b.PC {
			return a.PC - b.PC
		}
		return strings.Compare(a.Name, b.Name)
	})
	return fns
}
