package rbf_test

import (
	"bytes"
	"slices"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

// FuzzDecode: any bytes decode or fail with a typed error; what decodes
// encodes back to the same bytes and runs within its budgets.
func FuzzDecode(f *testing.F) {
	exit := []vm.Instruction{{Op: vm.OpExit}}
	f.Add(image(nil, []byte("f\x00"), exit, [][3]uint16{{0, 0, 0}}))
	f.Add(image([]byte{1, 2, 3, 4}, []byte("ab\x00loop\x00"), mustAsmF(f, "lddwd %r1, 0\nldxw %r0, [%r1]\nexit"), [][3]uint16{{3, 0, 0}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := rbf.Decode(b)
		if err != nil {
			if _, ok := vm.KindOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Encoding normalises (version 0, no flags, names where Encode puts
		// them) but keeps the program, and is stable from then on.
		again, err := rbf.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		img2, err := rbf.Decode(again)
		if err != nil {
			t.Fatalf("re-encoded image does not decode: %v", err)
		}
		if !slices.Equal(img2.Text, img.Text) || !bytes.Equal(img2.Data, img.Data) || !slices.Equal(img2.Functions, img.Functions) ||
			!bytes.HasPrefix(img2.Rodata, img.Rodata) {
			t.Fatalf("re-encoding changed the program:\n%+v\n%+v", img, img2)
		}
		if third, _ := rbf.Encode(img2); !bytes.Equal(third, again) {
			t.Fatalf("encoding is not stable:\n%x\n%x", again, third)
		}
		p, err := vm.Verify(img, vm.HelperIDs{1, 2})
		if err != nil {
			return
		}
		in := vm.NewInstance(p, vm.Config{BranchBudget: 100, InstructionBudget: 10000})
		for _, fn := range p.Functions() {
			in.Run(fn.PC, b)
		}
	})
}

func mustAsmF(f *testing.F, src string) []vm.Instruction {
	img, err := asm.Assemble(src)
	if err != nil {
		f.Fatal(err)
	}
	return img.Text
}
