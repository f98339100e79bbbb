package rbf_test

import (
	"bytes"
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
		again, err := rbf.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding changed the image:\n%x\n%x", b, again)
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
