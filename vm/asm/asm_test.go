package asm_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/internal/corpus"
)

func encode(t *testing.T, img *vm.Image) []byte {
	t.Helper()
	b, err := vm.EncodeText(img.Text)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorpusAssembles checks that the assembler reproduces raw_hex for every
// record of the three corpus files that has both assembly and bytecode, and
// rejects every assembly that has none.
func TestCorpusAssembles(t *testing.T) {
	for _, file := range []string{"tests.json", "ubpf.json", "negative.json"} {
		recs := corpus.Load(t, file)
		var assembled, rejected int
		for _, r := range recs {
			if r.Asm == nil {
				continue
			}
			img, err := asm.Assemble(*r.Asm)
			if r.RawHex == nil {
				if err == nil {
					t.Errorf("%s: assembled, want an error", r.Name)
					continue
				}
				var ae *asm.Error
				if !errors.As(err, &ae) || ae.Line < 1 || ae.Column < 1 {
					t.Errorf("%s: error without a position: %v", r.Name, err)
				}
				rejected++
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", r.Name, err)
				continue
			}
			want, _ := hex.DecodeString(*r.RawHex)
			if got := encode(t, img); !bytes.Equal(got, want) {
				t.Errorf("%s:\n got %x\nwant %x", r.Name, got, want)
			}
			assembled++
		}
		t.Logf("%s: %d assembled identically, %d rejected", file, assembled, rejected)
	}
}

// TestRoundTrip disassembles every corpus program, valid or not, and
// assembles the text back to the same bytes.
func TestRoundTrip(t *testing.T) {
	n := 0
	for _, file := range []string{"tests.json", "ubpf.json", "negative.json"} {
		for _, r := range corpus.Load(t, file) {
			code, err := r.Program()
			if err != nil || code == nil {
				continue
			}
			img, err := vm.LoadRaw(code)
			if err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
			roundTrip(t, r.Name, img)
			n++
		}
	}
	t.Logf("%d programs round-tripped", n)
}

func roundTrip(t *testing.T, name string, img *vm.Image) {
	t.Helper()
	text := asm.Disassemble(img)
	back, err := asm.Assemble(text)
	if err != nil {
		t.Fatalf("%s: reassembling failed: %v\n%s", name, err, text)
	}
	if !bytes.Equal(encode(t, back), encode(t, img)) {
		t.Fatalf("%s: round trip changed the bytes\n%s", name, text)
	}
}

func TestRoundTripOddSlots(t *testing.T) {
	raw := func(vs ...uint64) *vm.Image {
		img := &vm.Image{}
		for _, v := range vs {
			img.Text = append(img.Text, vm.FromRaw(v))
		}
		return img
	}
	cases := map[string]*vm.Image{
		"lddw at the end":      raw(0x0000000000000095, 0x5566778800000018),
		"lddw bad second half": raw(0x0000000000000018, 0x0000000000000195, 0x95),
		"register 11":          raw(0x00000001000000b7|0xb<<8, 0x95),
		"jump out of range":    raw(0x0000000000100005, 0x95),
		"jump into lddw":       raw(0x0000000000010005, 0x18, 0, 0x95),
		"lddwd and lddwr":      raw(0x00000008000001b8, 0x0000000100000000, 0x00000000000002d8, 0, 0x95),
		"all zero":             raw(0, 0, 0),
	}
	for name, img := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, name, img) })
	}
	img := &vm.Image{Text: raw(0x0000000000000295, 0x95).Text, Functions: []vm.Function{{Name: "main", PC: 0}, {Name: "not a label", PC: 1}, {Name: "L1", PC: 1}}}
	roundTrip(t, "functions", img)
}

func TestErrors(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		sentinel  error
		msg       string
	}{
		{"mov %r0, 1\nldxq %r0, %r1\n", 2, 1, asm.ErrMnemonic, `unknown mnemonic "ldxq"`},
		{"or %r0, %r50", 1, 9, asm.ErrRegister, `invalid register "%r50"`},
		{"  mov32 %r0, 2147483648", 1, 14, asm.ErrRange, "does not fit in 32 bits"},
		{"mov32 %r0, 0x100000000", 1, 12, asm.ErrRange, "does not fit in 32 bits"},
		{"ja NOT_A_LABEL\nexit", 1, 4, asm.ErrLabel, `unknown label "NOT_A_LABEL"`},
		{"lock or [%r10-8]", 1, 1, asm.ErrCount, "invalid number of operands for lock or"},
		{"lock", 1, 1, asm.ErrCount, "invalid number of operands for lock"},
		{"ldxb %r0, %r1", 1, 11, asm.ErrOperand, "invalid memory operand"},
		{"ldxb %r0, [%r1+0x10000]", 1, 15, asm.ErrRange, "offset +0x10000"},
		{"lddw %r0", 1, 1, asm.ErrCount, "invalid number of operands for lddw"},
		{"a:\na:\n", 2, 1, asm.ErrLabel, `label "a" defined twice`},
		{"add %r0, zz", 1, 10, asm.ErrOperand, `invalid immediate "zz"`},
		{"ja +40000", 1, 4, asm.ErrRange, "jump offset +40000 out of range"},
		{"call local", 1, 1, asm.ErrCount, "call local needs a target"},
		{"jeq %r1, 1", 1, 1, asm.ErrCount, "invalid number of operands for jeq"},
		{".raw 12z", 1, 6, asm.ErrOperand, ".raw 12z"},
	}
	for _, c := range cases {
		_, err := asm.Assemble(c.src)
		var ae *asm.Error
		if !errors.As(err, &ae) {
			t.Errorf("%q: got %v, want an *asm.Error", c.src, err)
			continue
		}
		if ae.Line != c.line || ae.Column != c.col || !errors.Is(err, c.sentinel) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q:\n got %d:%d %v (%v)\nwant %d:%d %q (%v)", c.src, ae.Line, ae.Column, err, ae.Err, c.line, c.col, c.msg, c.sentinel)
		}
	}
}

func TestForms(t *testing.T) {
	src := `
start:	mov %r1, -1        # label and instruction on one line
	lddw %r2, -2
	lddw %r3, 18446744073709551615
	call local f
	call 0x71
	call %r2
	ja32 start
	exit
f:
	lock fetch add [%r10-8], %r1
	lock cmpxchg32 [%r10 - 4], %r2
	swap16 %r1
	movsx3264 %r0, %r1
	jsge32 %r1, -5, exit
	lddwd %r1, 16
	exit
`
	img, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"mov %r1, -1", "lddw %r2, 0xfffffffffffffffe", "", "lddw %r3, 0xffffffffffffffff", "",
		"call local +4", "call 0x71", "call %r2", "ja32 -9", "exit",
		"lock fetch add [%r10-8], %r1", "lock cmpxchg32 [%r10-4], %r2", "bswap16 %r1", "movsx3264 %r0, %r1",
		"jsge32 %r1, -5, -6", "lddwd %r1, 16", "", "exit",
	}
	if len(img.Text) != len(want) {
		t.Fatalf("%d slots, want %d", len(img.Text), len(want))
	}
	for i, w := range want {
		if w == "" {
			continue
		}
		hi := int64(-1)
		if img.Text[i].Op.IsWide() {
			hi = int64(uint32(img.Text[i+1].Imm))
		}
		if got := img.Text[i].Format(hi, nil); got != w {
			t.Errorf("slot %d: %q, want %q", i, got, w)
		}
	}
	if pc, ok := img.Entry("f"); !ok || pc != 10 {
		t.Errorf("function f at %d %v, want 10", pc, ok)
	}
}
