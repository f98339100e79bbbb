package rbf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"tinylab/vm"
)

// Magic is the first four bytes of an image.
const Magic = "rBPF"

// HeaderSize is the size of rbpf_header_t.
const HeaderSize = 28

// FunctionSize is the size of one rbpf_function_t entry.
const FunctionSize = 6

// FlagCompressed marks gen_rbf.py's compressed text encoding.
const FlagCompressed = 0x01

// Header is rbpf_header_t / f12r_header_t: seven little-endian uint32.
type Header struct {
	Magic     [4]byte
	Version   uint32
	Flags     uint32
	DataLen   uint32
	RodataLen uint32
	TextLen   uint32
	Functions uint32
}

func bad(format string, args ...any) error {
	return &vm.Error{Kind: vm.ErrBadImage, PC: -1, Detail: "rbf: " + fmt.Sprintf(format, args...)}
}

// ReadHeader parses and checks the header of an image.
func ReadHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, bad("%d bytes, too short for the %d-byte header", len(b), HeaderSize)
	}
	copy(h.Magic[:], b)
	if string(h.Magic[:]) != Magic {
		return h, bad("magic %q, want %q", h.Magic[:], Magic)
	}
	le := binary.LittleEndian
	h.Version = le.Uint32(b[4:])
	h.Flags = le.Uint32(b[8:])
	h.DataLen = le.Uint32(b[12:])
	h.RodataLen = le.Uint32(b[16:])
	h.TextLen = le.Uint32(b[20:])
	h.Functions = le.Uint32(b[24:])
	if h.Flags&FlagCompressed != 0 {
		return h, bad("compressed text (flag 0x1) is not supported")
	}
	if h.Flags != 0 {
		return h, bad("unknown flags %#x", h.Flags)
	}
	want := uint64(HeaderSize) + uint64(h.DataLen) + uint64(h.RodataLen) + uint64(h.TextLen) + FunctionSize*uint64(h.Functions)
	if want != uint64(len(b)) {
		return h, bad("lengths do not add up: header %d + data %d + rodata %d + text %d + %d functions × %d = %d bytes, file has %d",
			HeaderSize, h.DataLen, h.RodataLen, h.TextLen, h.Functions, FunctionSize, want, len(b))
	}
	if h.TextLen%vm.InstructionSize != 0 {
		return h, &vm.Error{Kind: vm.ErrIllegalLength, PC: -1, Detail: fmt.Sprintf("rbf: text is %d bytes, not a multiple of %d", h.TextLen, vm.InstructionSize)}
	}
	return h, nil
}

// Decode reads a femto-container application image: header, .data,
// .rodata, .text and the function table. Function names are NUL-terminated
// strings in .rodata, as gen_rbf.py writes them.
func Decode(b []byte) (*vm.Image, error) {
	h, err := ReadHeader(b)
	if err != nil {
		return nil, err
	}
	off := uint64(HeaderSize)
	take := func(n uint32) []byte {
		s := b[off : off+uint64(n)]
		off += uint64(n)
		return bytes.Clone(s)
	}
	img := &vm.Image{Format: vm.FormatRBF}
	img.Data = take(h.DataLen)
	img.Rodata = take(h.RodataLen)
	if img.Text, err = vm.DecodeText(take(h.TextLen)); err != nil {
		return nil, err
	}
	for i := uint32(0); i < h.Functions; i++ {
		e := b[off:]
		off += FunctionSize
		nameOff := binary.LittleEndian.Uint16(e)
		loc := binary.LittleEndian.Uint16(e[4:])
		if uint32(nameOff) >= h.RodataLen {
			return nil, bad("function %d: name offset %d is outside rodata (%d bytes)", i, nameOff, h.RodataLen)
		}
		name, _, ok := bytes.Cut(img.Rodata[nameOff:], []byte{0})
		if !ok {
			return nil, bad("function %d: name at rodata offset %d is not NUL-terminated", i, nameOff)
		}
		if uint32(loc) >= h.TextLen || loc%vm.InstructionSize != 0 {
			return nil, bad("function %q: location %d is not an instruction in the text (%d bytes)", name, loc, h.TextLen)
		}
		img.Functions = append(img.Functions, vm.Function{Name: string(name), PC: int(loc) / vm.InstructionSize})
	}
	return img, nil
}

// Encode writes an image in the femto-container format (version 0, no
// flags). Function names are stored in .rodata, reusing a copy already there
// so that Decode then Encode gives back the same bytes.
func Encode(img *vm.Image) ([]byte, error) {
	text, err := vm.EncodeText(img.Text)
	if err != nil {
		return nil, err
	}
	rodata := bytes.Clone(img.Rodata)
	type entry struct{ name, loc uint16 }
	var table []entry
	for _, f := range img.Functions {
		if f.PC < 0 || f.PC*vm.InstructionSize > math.MaxUint16 {
			return nil, fmt.Errorf("rbf: function %q at pc %d: the format holds 16-bit byte offsets", f.Name, f.PC)
		}
		key := append([]byte(f.Name), 0)
		at := findString(rodata, key)
		if at < 0 && len(rodata) > 0 && rodata[len(rodata)-1] != 0 {
			// Terminate a trailing fragment so the name stands on its own
			// (and so that encoding again finds the same offset).
			rodata = append(rodata, 0)
			at = findString(rodata, key)
		}
		if at < 0 {
			at = len(rodata)
			rodata = append(rodata, key...)
		}
		if at > math.MaxUint16 {
			return nil, fmt.Errorf("rbf: function %q: name at rodata offset %d, beyond the format's 16 bits", f.Name, at)
		}
		table = append(table, entry{uint16(at), uint16(f.PC * vm.InstructionSize)})
	}
	for _, n := range []int{len(img.Data), len(rodata), len(text)} {
		if n > math.MaxUint32 {
			return nil, fmt.Errorf("rbf: section of %d bytes is too large", n)
		}
	}
	le := binary.LittleEndian
	out := make([]byte, 0, HeaderSize+len(img.Data)+len(rodata)+len(text)+FunctionSize*len(table))
	out = append(out, Magic...)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, uint32(len(img.Data)))
	out = le.AppendUint32(out, uint32(len(rodata)))
	out = le.AppendUint32(out, uint32(len(text)))
	out = le.AppendUint32(out, uint32(len(table)))
	out = append(out, img.Data...)
	out = append(out, rodata...)
	out = append(out, text...)
	for _, e := range table {
		out = le.AppendUint16(out, e.name)
		out = le.AppendUint16(out, 0)
		out = le.AppendUint16(out, e.loc)
	}
	return out, nil
}

// findString finds key (a NUL-terminated name) in rodata at the start of a
// string: at offset 0 or right after a NUL.
func findString(rodata, key []byte) int {
	for i := 0; i+len(key) <= len(rodata); i++ {
		if (i == 0 || rodata[i-1] == 0) && bytes.Equal(rodata[i:i+len(key)], key) {
			return i
		}
	}
	return -1
}
