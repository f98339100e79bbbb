package suitcli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"tinylab/suit"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// tinylab suit ...: the command as main.go dispatches it.
		"tinylab": func() {
			args := os.Args[1:]
			if len(args) == 0 || args[0] != "suit" {
				os.Stderr.WriteString("tinylab: this test binary knows only 'suit'\n")
				os.Exit(2)
			}
			os.Exit(Main(args[1:], os.Stdout, os.Stderr))
		},
		// exits N tinylab suit ARGS... runs the command and succeeds only
		// if it returns exit code N (exec alone tells zero from non-zero).
		"exits": func() {
			args := os.Args[1:]
			if len(args) < 3 || args[1] != "tinylab" || args[2] != "suit" {
				os.Stderr.WriteString("usage: exits N tinylab suit ARGS...\n")
				os.Exit(2)
			}
			want, err := strconv.Atoi(args[0])
			if err != nil {
				os.Stderr.WriteString("exits: " + err.Error() + "\n")
				os.Exit(2)
			}
			if got := Main(args[3:], os.Stdout, os.Stderr); got != want {
				os.Stderr.WriteString("exits: exit code " + strconv.Itoa(got) + ", want " + args[0] + "\n")
				os.Exit(1)
			}
		},
	})
}

// TestScripts runs testdata/script/*.txtar: the maintainer's flow end to
// end, and each attack refused with its code and exit 1.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"tamper-signature": tamperSignature,
			"edit-sequence":    editSequence,
		},
	})
}

// rewrite decodes an envelope file, lets edit change it, and writes it back
// without signing again: what an attacker on the path can do.
func rewrite(ts *testscript.TestScript, file string, edit func(env *suit.Envelope)) {
	path := ts.MkAbs(file)
	data, err := os.ReadFile(path)
	ts.Check(err)
	env, err := suit.Decode(data)
	ts.Check(err)
	edit(env)
	out, err := env.Encode()
	ts.Check(err)
	ts.Check(os.WriteFile(path, out, 0o644))
}

// tamper-signature FILE flips the last bit of the first signature.
func tamperSignature(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tamper-signature FILE")
	}
	rewrite(ts, args[0], func(env *suit.Envelope) {
		if env.Auth == nil || len(env.Auth.Blocks) == 0 {
			ts.Fatalf("%s is not signed", args[0])
		}
		b := bytes.Clone(env.Auth.Blocks[0])
		b[len(b)-1] ^= 1
		env.Auth.Blocks[0] = b
	})
}

// edit-sequence FILE N changes the manifest's sequence number after signing.
func editSequence(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: edit-sequence FILE N")
	}
	n, err := strconv.ParseUint(args[1], 10, 64)
	ts.Check(err)
	rewrite(ts, args[0], func(env *suit.Envelope) {
		env.Manifest.Sequence = n
		env.ManifestBytes = nil
	})
}

func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		pos  string
		o    string
	}{
		{[]string{"-o", "x", "a", "b"}, "a b", "x"},
		{[]string{"a", "-o", "x", "b"}, "a b", "x"},
		{[]string{"a", "b", "--o=x"}, "a b", "x"},
		{[]string{"-o", "x", "--", "-a", "b"}, "-a b", "x"},
	} {
		fs := newFlags("t", "", &bytes.Buffer{})
		o := fs.String("o", "", "")
		pos, err := parseArgs(fs, c.args)
		if err != nil || strings.Join(pos, " ") != c.pos || *o != c.o {
			t.Errorf("%q: positional %q -o %q (%v), want %q %q", c.args, pos, *o, err, c.pos, c.o)
		}
	}
}

func TestSplitComponent(t *testing.T) {
	for _, c := range []struct{ in, id, file, uri string }{
		{"ram:0=app.bin@coap://[::1]/app.bin", "ram:0", "app.bin", "coap://[::1]/app.bin"},
		{"tc:coach:code=dir@x/code.bin@coap://host/c", "tc:coach:code", "dir@x/code.bin", "coap://host/c"},
		{"ram:1=a.bin@#a", "ram:1", "a.bin", "#a"},
	} {
		id, file, uri, err := splitComponent(c.in)
		if err != nil || id.String() != c.id || file != c.file || uri != c.uri {
			t.Errorf("%q: %v %q %q (%v)", c.in, id, file, uri, err)
		}
	}
	for _, bad := range []string{"ram:0", "ram:0=app.bin", "ram:0=@coap://x", "=a@coap://x"} {
		if _, _, _, err := splitComponent(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
