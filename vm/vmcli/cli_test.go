package vmcli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinylab/vm/vmcli"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := vmcli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRun(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		out, err string
		notInOut string
	}{
		{[]string{"run", "testdata/hello.asm", "--mem", "01 02 03"}, 0, "hi 42\nr0 = 0x3 (3)\ninstructions: 11 (alu 7, load/store 2, branch 1, divide 0, call 1), taken branches: 0\n", "", ""},
		{[]string{"run", "--mem=0102", "testdata/hello.asm"}, 0, "r0 = 0x2 (2)", "", ""},
		{[]string{"run", "testdata/fault.asm"}, 1, "instructions: 2", "illegal memory access at pc 1: read 4 bytes at 0x8 (nothing is mapped there)", "r0 ="},
		{[]string{"run", "testdata/spin.asm", "--branches", "10"}, 1, "taken branches: 10", "out of branches at pc 1", ""},
		{[]string{"run", "testdata/spin.asm", "--budget", "100"}, 1, "", "out of budget at pc 1", ""},
		{[]string{"run", "testdata/badhelper.asm"}, 2, "", "illegal call at pc 0: helper 113 (0x71) is not provided by the host", ""},
		{[]string{"run", "testdata/short.bin"}, 2, "", "not a multiple of 8", ""},
		{[]string{"run", "testdata/missing.asm"}, 2, "", "no such file", ""},
		{[]string{"run"}, 2, "", "usage: tinylab vm run FILE", ""},
		{[]string{"run", "testdata/hello.asm", "--mem", "zz"}, 2, "", "--mem:", ""},
		{[]string{"run", "testdata/hello.asm", "--entry", "nope"}, 2, "", `no function or instruction "nope"`, ""},
		{[]string{"run", "../elfobj/testdata/prog.o", "--entry", "start"}, 2, "", "helper 66 (0x42) is not provided by the host", ""},
		{[]string{"run", "testdata/labels.asm", "--entry", "second", "--json"}, 0, `{"r0":"0x2","error":null,"instructions":2,"branches":0}`, "", ""},
		{[]string{"run", "testdata/labels.asm", "--entry", "2"}, 0, "r0 = 0x2 (2)", "", ""},
		{[]string{"run", "testdata/labels.asm", "--entry", "9"}, 2, "", "no function or instruction \"9\" (functions: first@0, second@2)", ""},
		{[]string{"run", "testdata/labels.asm", "--now", "1234"}, 0, "r0 = 0x4d2 (1234)", "", ""},
		{[]string{"frob"}, 2, "", `unknown command "frob"`, ""},
		{[]string{}, 2, "", "usage", ""},
	}
	for _, c := range cases {
		code, out, errs := run(c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.err) || c.notInOut != "" && strings.Contains(out, c.notInOut) {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout with %q, stderr with %q", c.args, code, out, errs, c.code, c.out, c.err)
		}
	}
}

func TestRunJSON(t *testing.T) {
	cases := []struct {
		file string
		code int
		want string
	}{
		{"testdata/hello.asm", 0, `{"r0":"0x0","error":null,"instructions":11,"branches":0}`},
		{"testdata/fault.asm", 1, `{"r0":"0x0","error":{"kind":"illegal_memory_access","pc":1,"message":"illegal memory access at pc 1: read 4 bytes at 0x8 (nothing is mapped there)"},"instructions":2,"branches":0}`},
		{"testdata/badhelper.asm", 2, `{"r0":"0x0","error":{"kind":"illegal_call","pc":0,"message":"testdata/badhelper.asm: illegal call at pc 0: helper 113 (0x71) is not provided by the host"},"instructions":0,"branches":0}`},
		{"testdata/short.bin", 2, `"kind":"illegal_length","pc":-1`},
	}
	for _, c := range cases {
		code, out, errs := run("run", c.file, "--json")
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d\n got %s\nwant %s\nstderr %s", c.file, code, out, c.want, errs)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 4 {
			t.Errorf("%s: not one JSON object with 4 members: %q", c.file, out)
		}
	}
	// printf goes to stderr so that stdout stays JSON.
	if _, out, errs := run("run", "testdata/hello.asm", "--json"); strings.Contains(out, "hi 42") || !strings.Contains(errs, "hi 42") {
		t.Errorf("printf with --json: stdout %q stderr %q", out, errs)
	}
}

func TestAsmDisasm(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "hello.bin")
	if code, out, errs := run("asm", "testdata/hello.asm", "-o", bin); code != 0 || !strings.Contains(out, "12 slots, 96 bytes") {
		t.Fatalf("asm: %d %q %q", code, out, errs)
	}
	rbfPath := filepath.Join(dir, "hello.rbf")
	if code, _, errs := run("asm", "--rbf", "testdata/hello.asm", "-o", rbfPath); code != 0 {
		t.Fatalf("asm --rbf: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(rbfPath); !bytes.HasPrefix(b, []byte("rBPF")) {
		t.Fatalf("rbf output starts %q", b[:min(4, len(b))])
	}
	for _, f := range []string{bin, rbfPath} {
		code, out, _ := run("run", f, "--mem", "0102")
		if code != 0 || !strings.Contains(out, "r0 = 0x2") {
			t.Errorf("run %s: %d %q", f, code, out)
		}
		code, out, _ = run("disasm", f)
		if code != 0 || !strings.Contains(out, "call 1 # printf") || !strings.Contains(out, "# verify: ok") {
			t.Errorf("disasm %s: %d %q", f, code, out)
		}
		// The disassembly assembles back to the same bytes.
		src := filepath.Join(dir, "back.asm")
		os.WriteFile(src, []byte(out), 0o644)
		back := filepath.Join(dir, "back.bin")
		if code, _, errs := run("asm", src, "-o", back); code != 0 {
			t.Fatalf("reassemble: %q", errs)
		}
		want, _ := os.ReadFile(bin)
		if got, _ := os.ReadFile(back); !bytes.Equal(got, want) {
			t.Errorf("%s: disassembly does not reassemble to the same bytes", f)
		}
	}
	bad := filepath.Join(dir, "bad.asm")
	os.WriteFile(bad, []byte("mov %r0, 1\nfrob %r1\n"), 0o644)
	if code, _, errs := run("asm", bad); code != 2 || !strings.Contains(errs, "bad.asm:2:1: unknown mnemonic \"frob\"") {
		t.Errorf("bad asm: %d %q", code, errs)
	}
	if code, out, _ := run("disasm", "testdata/badhelper.asm"); code != 0 || !strings.Contains(out, "call 0x71 # heartbeat") {
		t.Errorf("disasm badhelper: %d %q", code, out)
	}
}
