package vm_test

import (
	"testing"

	"tinylab/vm"
	"tinylab/vm/internal/corpus"
)

// FuzzVerifyRun feeds any bytes to the loader and the verifier, and runs
// what passes on both interpreters with small budgets: no panic, bounded
// time, and the same outcome as the reference.
func FuzzVerifyRun(f *testing.F) {
	for _, file := range []string{"tests.json", "ubpf.json", "negative.json"} {
		for _, r := range corpus.Load(f, file) {
			code, _ := r.Program()
			mem, _ := r.Mem()
			if code != nil {
				f.Add(code, mem, uint16(0))
			}
		}
	}
	f.Fuzz(func(t *testing.T, code, ctx []byte, knobs uint16) {
		img, err := vm.LoadRaw(code)
		if err != nil {
			if _, ok := vm.KindOf(err); !ok {
				t.Fatalf("untyped load error %v", err)
			}
			return
		}
		if len(code) >= 16 {
			// Let the fuzzer reach data and rodata too.
			img.Data, img.Rodata = code[:8], code[8:16]
		}
		c := diffCase{img: img, ctx: ctx, branches: int64(knobs & 0xff), budget: int64(knobs>>8) * 40, ctxW: knobs&1 == 0}
		if c.budget == 0 {
			c.budget = 4000
		}
		if _, err := vm.Verify(img, diffHelpers); err != nil {
			if _, ok := vm.KindOf(err); !ok || vm.PCOf(err) >= len(img.Text) {
				t.Fatalf("bad verifier error %v", err)
			}
			return
		}
		if _, _, err := compareRuns(c); err != nil {
			t.Fatal(err)
		}
	})
}
