package rbf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

// image builds an rBPF file the way gen_rbf.py lays it out.
func image(data, rodata []byte, text []vm.Instruction, fns [][3]uint16) []byte {
	code, _ := vm.EncodeText(text)
	le := binary.LittleEndian
	b := []byte("rBPF")
	for _, v := range []int{0, 0, len(data), len(rodata), len(code), len(fns)} {
		b = le.AppendUint32(b, uint32(v))
	}
	b = append(append(append(b, data...), rodata...), code...)
	for _, f := range fns {
		b = le.AppendUint16(le.AppendUint16(le.AppendUint16(b, f[0]), f[1]), f[2])
	}
	return b
}

func mustAsm(t *testing.T, src string) []vm.Instruction {
	t.Helper()
	img, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return img.Text
}

// TestDecodeRun loads an image whose code reaches .data and .rodata through
// the femto-container opcodes 0xb8 and 0xd8, and runs each function.
func TestDecodeRun(t *testing.T) {
	text := mustAsm(t, `
	lddwd %r1, 4          # &data[4]
	ldxw %r0, [%r1]
	add %r0, 1
	stxw [%r1], %r0
	exit
	lddwr %r1, 8          # "loop\0" sits at rodata 8
	ldxb %r0, [%r1+1]     # 'o'
	exit
`)
	data := []byte{0, 0, 0, 0, 41, 0, 0, 0}
	rodata := []byte("msg\x00\x00\x00\x00\x00loop\x00peek\x00")
	b := image(data, rodata, text, [][3]uint16{{8, 0, 0}, {13, 0, 6 * 8}})
	img, err := rbf.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if img.Format != vm.FormatRBF || !bytes.Equal(img.Data, data) || !bytes.Equal(img.Rodata, rodata) {
		t.Fatalf("decoded %+v", img)
	}
	wantFns := []vm.Function{{Name: "loop", PC: 0}, {Name: "peek", PC: 6}}
	if !slices.Equal(img.Functions, wantFns) {
		t.Fatalf("functions %v, want %v", img.Functions, wantFns)
	}
	p, err := vm.Verify(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := vm.NewInstance(p, vm.Config{})
	for i, want := range []uint64{42, 43} {
		res, err := in.Run(0, nil)
		if err != nil || res.R0 != want {
			t.Fatalf("loop run %d: %d, %v; want %d", i, res.R0, err, want)
		}
	}
	peek, _ := p.Entry("peek")
	if res, err := in.Run(peek, nil); err != nil || res.R0 != 'o' {
		t.Fatalf("peek: %d, %v", res.R0, err)
	}
	// Encoding gives back the same bytes: names already in rodata are reused.
	again, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encoded\n%x\nwant\n%x", again, b)
	}
}

func TestEncodeAppendsNames(t *testing.T) {
	img, err := asm.Assemble("start:\nmov %r0, 0\nexit\nloop:\nmov %r0, 1\nexit\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	back, err := rbf.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Rodata) != "start\x00loop\x00" || !slices.Equal(back.Functions, img.Functions) || !slices.Equal(back.Text, img.Text) {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestBadImages(t *testing.T) {
	exit := []vm.Instruction{{Op: vm.OpExit}}
	good := image(nil, []byte("f\x00"), exit, [][3]uint16{{0, 0, 0}})
	set := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	cases := []struct {
		name string
		b    []byte
		kind vm.Kind
		want string
	}{
		{"short", good[:27], vm.ErrBadImage, "too short"},
		{"magic", append([]byte("FPBr"), good[4:]...), vm.ErrBadImage, `magic "FPBr"`},
		{"compressed", set(8, 1), vm.ErrBadImage, "compressed"},
		{"flags", set(8, 4), vm.ErrBadImage, "unknown flags"},
		{"data too long", set(12, 100), vm.ErrBadImage, "do not add up"},
		{"trailing", append(bytes.Clone(good), 0), vm.ErrBadImage, "do not add up"},
		{"huge", set(20, 0xffffffff), vm.ErrBadImage, "do not add up"},
		{"text not a multiple of 8", image(nil, nil, nil, nil)[:24], vm.ErrBadImage, "too short"},
		{"name outside rodata", image(nil, []byte("f\x00"), exit, [][3]uint16{{2, 0, 0}}), vm.ErrBadImage, "outside rodata"},
		{"name unterminated", image(nil, []byte("fn"), exit, [][3]uint16{{0, 0, 0}}), vm.ErrBadImage, "not NUL-terminated"},
		{"location unaligned", image(nil, []byte("f\x00"), exit, [][3]uint16{{0, 0, 4}}), vm.ErrBadImage, "not an instruction"},
		{"location outside", image(nil, []byte("f\x00"), exit, [][3]uint16{{0, 0, 8}}), vm.ErrBadImage, "not an instruction"},
	}
	odd := image(nil, nil, nil, nil)
	binary.LittleEndian.PutUint32(odd[20:], 4)
	cases = append(cases, struct {
		name string
		b    []byte
		kind vm.Kind
		want string
	}{"text of 4 bytes", append(odd, 0x95, 0, 0, 0), vm.ErrIllegalLength, "not a multiple of 8"})
	for _, c := range cases {
		_, err := rbf.Decode(c.b)
		if err == nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %v %q", c.name, err, c.kind, c.want)
		}
	}
}
