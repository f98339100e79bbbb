package elfobj_test

import (
	"os"
	"testing"

	"tinylab/vm"
	"tinylab/vm/elfobj"
)

// FuzzDecode: any bytes load or fail with a typed error, and what loads
// verifies or not and runs within its budgets.
func FuzzDecode(f *testing.F) {
	obj, err := os.ReadFile("testdata/prog.o")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(obj)
	f.Add(obj[:64])
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := elfobj.Decode(b)
		if err != nil {
			if _, ok := vm.KindOf(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(img.Data) > elfobj.MaxData {
			t.Fatalf("data of %d bytes", len(img.Data))
		}
		p, err := vm.Verify(img, progHelpers)
		if err != nil {
			return
		}
		in := vm.NewInstance(p, vm.Config{Helpers: progHelpers, BranchBudget: 100, InstructionBudget: 10000})
		for _, fn := range p.Functions() {
			in.Run(fn.PC, make([]byte, 68))
		}
	})
}
