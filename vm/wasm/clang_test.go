package wasm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestClangPrograms builds each C program in testdata/c twice with clang-19,
// for wasm32 (upstream's flags) and for the host, and checks that run(0..7)
// gives the same values on one instance as in one native process, with the
// same counts on both engines.
func TestClangPrograms(t *testing.T) {
	haveClang(t)
	srcs, _ := filepath.Glob("testdata/c/*.c")
	if len(srcs) < 12 {
		t.Fatalf("%d programs in testdata/c, want a dozen", len(srcs))
	}
	dir := t.TempDir()
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		t.Run(name, func(t *testing.T) {
			abs, _ := filepath.Abs(src)
			harness := filepath.Join(dir, name+"_main.c")
			os.WriteFile(harness, []byte(fmt.Sprintf(`#include <stdio.h>
#include %q
int main(void)
{
	for (u32 a = 0; a < 8; a++)
		printf("%%llu\n", (unsigned long long)run(a));
	return 0;
}
`, abs)), 0o644)
			exe := filepath.Join(dir, name)
			clang(t, "-O2", "-o", exe, harness, "-lm")
			native, err := exec.Command(exe).Output()
			if err != nil {
				t.Fatalf("native %s: %v", name, err)
			}
			wasmFile := filepath.Join(dir, name+".wasm")
			clang(t, wasmFlags(wasmFile, src, "run")...)
			bin, _ := os.ReadFile(wasmFile)
			var outs [2]string
			for i, e := range engines {
				m, err := Compile(bin, Config{Engine: e})
				if err != nil {
					t.Fatalf("%s: %v", e, err)
				}
				in, err := m.Instantiate(nil)
				if err != nil {
					t.Fatalf("%s: %v", e, err)
				}
				var vals, counts strings.Builder
				for a := range uint64(8) {
					res, err := in.Call("run", a)
					if err != nil {
						t.Fatalf("%s: run(%d): %v", e, a, err)
					}
					fmt.Fprintf(&vals, "%d\n", res.R0)
					fmt.Fprintf(&counts, "%+v\n", res.Stats)
				}
				in.Close()
				if vals.String() != string(native) {
					t.Errorf("%s: wasm gives\n%s\nnative\n%s", e, vals.String(), native)
				}
				outs[i] = counts.String()
			}
			if outs[0] != outs[1] {
				t.Errorf("counts differ:\ninterpreter\n%s\ncompiler\n%s", outs[0], outs[1])
			}
		})
	}
}
