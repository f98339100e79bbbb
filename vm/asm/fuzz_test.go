package asm_test

import (
	"bytes"
	"errors"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/internal/corpus"
)

// FuzzAssemble: any text either assembles or fails with a positioned error,
// and whatever assembles disassembles back to the same bytes.
func FuzzAssemble(f *testing.F) {
	for _, file := range []string{"tests.json", "ubpf.json", "negative.json"} {
		for _, r := range corpus.Load(f, file) {
			if r.Asm != nil {
				f.Add(*r.Asm)
			}
		}
	}
	f.Add("a: b: mov %r0, 1 # x\n.raw 0x95\nlock fetch xor32 [%r1-3], %r2\ncall local a\n")
	f.Fuzz(func(t *testing.T, src string) {
		img, err := asm.Assemble(src)
		if err != nil {
			var ae *asm.Error
			if !errors.As(err, &ae) || ae.Line < 1 || ae.Column < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		want, err := vm.EncodeText(img.Text)
		if err != nil {
			t.Fatal(err)
		}
		text := asm.Disassemble(img)
		back, err := asm.Assemble(text)
		if err != nil {
			t.Fatalf("disassembly does not assemble: %v\n%s", err, text)
		}
		got, _ := vm.EncodeText(back.Text)
		if !bytes.Equal(got, want) {
			t.Fatalf("round trip changed the bytes\n%s", text)
		}
	})
}
