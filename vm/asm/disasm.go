package asm

import (
	"fmt"
	"strconv"
	"strings"

	"tinylab/vm"
)

// Options tune the disassembly.
type Options struct {
	// HelperName names helper numbers in comments ("call 1 # printf"); may be nil.
	HelperName func(id uint32) string
}

// Disassemble renders an image's text as assembly that Assemble turns back
// into the same slots, byte for byte. Functions and jump targets get labels;
// slots that are not valid instructions come out as `.raw 0x...`. Data and
// read-only data are shown as comments.
func Disassemble(img *vm.Image) string { return DisassembleWith(img, Options{}) }

// DisassembleWith is Disassemble with options.
func DisassembleWith(img *vm.Image, opt Options) string {
	text := img.Text
	n := len(text)
	// wide[pc]: pc starts a well-formed two-slot load.
	valid := make([]bool, n)
	wide := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		ins := text[pc]
		if ins.Mnemonic() == "" {
			continue
		}
		if ins.Op.IsWide() {
			if pc+1 < n && isSecondHalf(text[pc+1]) {
				valid[pc], wide[pc] = true, true
				pc++
			}
			continue
		}
		valid[pc] = true
	}

	labels := make(map[int][]string)
	used := map[string]bool{}
	for _, f := range img.Functions {
		if f.PC >= 0 && f.PC < n && valid[f.PC] && isLabel(f.Name) && !used[f.Name] {
			labels[f.PC] = append(labels[f.PC], f.Name)
			used[f.Name] = true
		}
	}
	for pc := 0; pc < n; pc++ {
		ins := text[pc]
		if !valid[pc] || !(ins.IsJump() || ins.IsLocalCall()) {
			continue
		}
		t := pc + 1 + ins.JumpOffset()
		if t < 0 || t >= n || !valid[t] || len(labels[t]) > 0 {
			continue
		}
		name := "L" + strconv.Itoa(t)
		for used[name] {
			name += "_"
		}
		labels[t] = []string{name}
		used[name] = true
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# %s image: %d slots", img.Format, n)
	if len(img.Data) > 0 || len(img.Rodata) > 0 {
		fmt.Fprintf(&b, ", data %d bytes at %#x, rodata %d bytes at %#x", len(img.Data), vm.DataBase, len(img.Rodata), vm.RodataBase)
	}
	b.WriteString("\n")
	dump(&b, "data", img.Data)
	dump(&b, "rodata", img.Rodata)
	for pc := 0; pc < n; pc++ {
		for _, l := range labels[pc] {
			b.WriteString(l + ":\n")
		}
		ins := text[pc]
		if !valid[pc] {
			fmt.Fprintf(&b, "\t.raw 0x%016x", ins.Raw())
			if ins.Op.IsWide() || pc > 0 && text[pc-1].Op.IsWide() && !wide[pc-1] {
				b.WriteString(" # not a well-formed lddw")
			}
			b.WriteString("\n")
			continue
		}
		hi := int64(-1)
		if wide[pc] {
			hi = int64(uint32(text[pc+1].Imm))
		}
		line := ins.Format(hi, func(off int) string {
			if l := labels[pc+1+off]; len(l) > 0 {
				return l[0]
			}
			return ""
		})
		b.WriteString("\t" + line)
		switch {
		case ins.Op == vm.OpLDDWD || ins.Op == vm.OpLDDWR:
			v := uint64(uint32(ins.Imm)) | uint64(hi)<<32
			sec, base := ".data", vm.DataBase
			if ins.Op == vm.OpLDDWR {
				sec, base = ".rodata", vm.RodataBase
			}
			fmt.Fprintf(&b, " # %s+%d = %#x", sec, v, base+v)
		case ins.IsHelperCall() && opt.HelperName != nil:
			if name := opt.HelperName(uint32(ins.Imm)); name != "" {
				b.WriteString(" # " + name)
			}
		}
		b.WriteString("\n")
		if wide[pc] {
			pc++
		}
	}
	return b.String()
}

func isSecondHalf(i vm.Instruction) bool {
	return i.Op == 0 && i.Dst == 0 && i.Src == 0 && i.Off == 0
}

func isLabel(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdent(s[i]) {
			return false
		}
	}
	return true
}

func dump(b *strings.Builder, name string, data []byte) {
	if len(data) == 0 {
		return
	}
	fmt.Fprintf(b, "# %s:\n", name)
	for off := 0; off < len(data); off += 16 {
		row := data[off:min(off+16, len(data))]
		fmt.Fprintf(b, "#   %04x: % x", off, row)
		b.WriteString(strings.Repeat("   ", 16-len(row)) + "  |")
		for _, c := range row {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString("|\n")
	}
}
