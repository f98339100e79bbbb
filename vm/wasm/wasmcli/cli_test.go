package wasmcli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"tinylab/vm/wasm/wasmcli"
)

// TestMain lets the test binary act as `tinylab wasm` in the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tinylab": func() {
			args := os.Args[1:]
			if len(args) == 0 || args[0] != "wasm" {
				os.Stderr.WriteString("this test binary only knows `tinylab wasm`\n")
				os.Exit(2)
			}
			os.Exit(wasmcli.Main(args[1:], os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs testdata/script with the committed modules of vm/wasm in
// the work directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for _, f := range []string{"hello.wasm", "kernels.wasm"} {
				b, err := os.ReadFile(filepath.Join("..", "testdata", f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, f), b, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := wasmcli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// simd is a module whose one function uses a SIMD instruction.
var simd = []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
	1, 4, 1, 0x60, 0, 0, // type () -> ()
	3, 2, 1, 0, // one function
	10, 8, 1, 6, 0, 0xfd, 0x0c, 0, 0x0b, 0x0b}

func TestRunJSON(t *testing.T) {
	dir := t.TempDir()
	simdFile := filepath.Join(dir, "simd.wasm")
	os.WriteFile(simdFile, simd, 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"../testdata/hello.wasm", "--mem", "0a0b00"}, 0, `{"result":"0x15","error":null,"instructions":`},
		{[]string{"../testdata/hello.wasm", "--export", "spin", "--budget", "1000"}, 1, `"error":{"kind":"out_of_budget","function":"$7","offset":400,"message":"out of budget in $7 at offset 0x190"},"instructions":1000,`},
		{[]string{"../testdata/hello.wasm", "--export", "spin", "--branches", "10"}, 1, `"kind":"out_of_branches"`},
		{[]string{simdFile}, 2, `"error":{"kind":"unsupported","function":"","offset":23,"message":"` + simdFile + `: unsupported feature SIMD at offset 0x17: opcode 0xfd"}`},
		{[]string{"../testdata/hello.wasm", "--export", "nope"}, 2, `no export \"nope\" (exports: start, loop, stop, entry, spin)`},
	}
	for _, c := range cases {
		code, out, errs := run(append([]string{"run", "--json"}, c.args...)...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d\n got %s\nwant %s\nstderr %s", c.args, code, out, c.want, errs)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 4 {
			t.Errorf("%v: not one JSON object with 4 members: %q", c.args, out)
		}
	}
	if code, out, _ := run("inspect", simdFile); code != 2 || !strings.Contains(out, "refused: unsupported feature SIMD at offset 0x17") {
		t.Errorf("inspect simd: %d %q", code, out)
	}
}
