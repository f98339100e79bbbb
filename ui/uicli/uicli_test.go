package uicli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"tinylab/ui"
)

// TestMainErrors: every bad command line gets a clear message and exit code
// 2, and nothing is drawn when stdout is not a terminal.
func TestMainErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--theme", "neon"}, 2, `unknown theme "neon"`},
		{[]string{"hello", "--speed", "500"}, 2, "--speed 500 is out of range"},
		{[]string{"--seed", "x", "hello"}, 2, `--seed "x" is not a whole number`},
		{[]string{"hello", "mycoach"}, 2, "one scenario at a time"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"hello", "--theme", "contrast", "--seed", "7"}, 2, "needs a terminal"},
		{nil, 2, "needs a terminal"},
	} {
		var out, errb bytes.Buffer
		code := Main(c.args, &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("Main(%q) = %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.want)
		}
		if out.Len() != 0 {
			t.Errorf("Main(%q) wrote to stdout: %q", c.args, out.String())
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"-h"}, &out, &errb); code != 0 {
		t.Errorf("-h exits %d", code)
	}
	for _, want := range []string{"usage: tinylab ui", "--theme", "NO_COLOR", "? every key"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestParse(t *testing.T) {
	for _, args := range [][]string{
		{"hello", "--seed", "3", "--speed", "2"},
		{"--seed", "3", "hello", "--speed", "2"},
		{"--seed=3", "--speed=2", "hello"},
	} {
		var errb bytes.Buffer
		code := Main(args, &bytes.Buffer{}, &errb)
		// parsed fine: it stops only at the terminal check
		if code != 2 || !strings.Contains(errb.String(), "needs a terminal") {
			t.Errorf("Main(%q) = %d: %s", args, code, errb.String())
		}
	}
}

func TestReplayEmpty(t *testing.T) {
	if err := Replay(nil); !errors.Is(err, ui.ErrEmpty) {
		t.Errorf("Replay(nil) = %v", err)
	}
}
