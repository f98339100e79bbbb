package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fenced is one fenced code block of a Markdown file.
type fenced struct {
	lang string
	text string
}

// workshopBlocks returns the fenced blocks of README.md's workshop section.
func workshopBlocks(t *testing.T) []fenced {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## Workshop")
	if i < 0 {
		t.Fatal("README.md has no Workshop section")
	}
	s = s[i+1:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	var out []fenced
	for {
		i := strings.Index(s, "\n```")
		if i < 0 {
			return out
		}
		s = s[i+4:]
		lang, rest, _ := strings.Cut(s, "\n")
		body, after, ok := strings.Cut(rest, "\n```")
		if !ok {
			t.Fatal("README.md: an unclosed code block in the workshop")
		}
		out = append(out, fenced{lang: strings.TrimSpace(lang), text: body + "\n"})
		s = after
	}
}

// listenLine is a server the workshop starts in the background.
var listenLine = regexp.MustCompile(`^tinylab (repo|device) --listen (\S+) .*&$`)

// expectComment is a GET whose trailing comment says what its answer contains.
var expectComment = regexp.MustCompile(`^(coap-client-(?:notls|openssl) -m get .*?)\s+#\s+(.+)$`)

// workshopScript turns the workshop's shell blocks into one script, each
// command as the README writes it. It only adds waiting: after a server is
// started in the background, until it answers; a GET with a comment is run
// again until its answer contains the comment (an update takes a moment).
func workshopScript(blocks []fenced) string {
	var b strings.Builder
	b.WriteString(`set -eu
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
up() { i=0; until coap-client-notls -m get -B 1 "coap://$1/.well-known/core" >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "README: $1 never answered"; exit 1; }; sleep 0.1; done; }
expect() { want=$1; shift; i=0; while :; do out=$(timeout 10 "$@" 2>&1) || true
  case $out in *"$want"*) echo "$out"; return;; esac
  i=$((i+1)); [ $i -lt 60 ] || { echo "README: '$*' never answered '$want'; its last answer: $out"; exit 1; }; sleep 0.25; done; }
`)
	for _, bl := range blocks {
		if bl.lang != "sh" {
			continue
		}
		for _, line := range strings.Split(strings.ReplaceAll(bl.text, "\\\n", ""), "\n") {
			line = strings.TrimSpace(regexp.MustCompile(`\s+`).ReplaceAllString(line, " "))
			switch m := expectComment.FindStringSubmatch(line); {
			case line == "":
			case m != nil:
				fmt.Fprintf(&b, "expect '%s' %s\n", strings.ReplaceAll(m[2], "'", `'\''`), m[1])
			case listenLine.MatchString(line):
				fmt.Fprintf(&b, "%s\nup %s\n", line, listenLine.FindStringSubmatch(line)[2])
			default:
				b.WriteString(line + "\n")
			}
		}
	}
	return b.String()
}

// TestREADMEWorkshop runs the README's workshop as written: its files and
// commands, its deploy with libcoap, the refused replay and the refused
// tampered code. The README's ports are swapped for free ones; nothing else
// changes, so the test fails when the README and tinylab disagree.
func TestREADMEWorkshop(t *testing.T) {
	for _, tool := range []string{"coap-client-notls", "coap-client-openssl", "clang-19", "wasm-ld-19", "timeout", "dd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (libcoap3-bin, clang-19, lld-19, coreutils); the workshop needs it", tool)
		}
	}
	blocks := workshopBlocks(t)
	dir := t.TempDir()
	inc := filepath.Join(dir, "scenarios/builtin/containers")
	if err := os.MkdirAll(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"tinylab.h", "tinylab_wasm.h"} {
		hdr, err := os.ReadFile("scenarios/builtin/containers/" + h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(inc, h), hdr, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// the asm and C blocks name their file in their first line
	name := regexp.MustCompile(`^(?:#|/\*) (\w+\.(?:asm|c)):`)
	files := 0
	for _, bl := range blocks {
		if m := name.FindStringSubmatch(bl.text); m != nil && (bl.lang == "asm" || bl.lang == "c") {
			if err := os.WriteFile(filepath.Join(dir, m[1]), []byte(bl.text), 0o644); err != nil {
				t.Fatal(err)
			}
			files++
		}
	}
	if files != 3 {
		t.Fatalf("the workshop should give hello.asm, hello.c and hello_wasm.c, found %d named blocks", files)
	}
	script := workshopScript(blocks)
	for _, port := range []string{"5683", "5684", "5685"} {
		p, err := freeUDPPort()
		if err != nil {
			t.Fatal(err)
		}
		script = strings.ReplaceAll(script, "127.0.0.1:"+port, "127.0.0.1:"+strconv.Itoa(p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The output goes to a file: the README's background servers keep it
	// open after the shell ends, and they go with the process group.
	log, err := os.Create(filepath.Join(dir, "workshop.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Start()
	if err == nil {
		err = cmd.Wait()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	b, _ := os.ReadFile(log.Name())
	out := bytes.NewBuffer(b)
	if err != nil {
		t.Fatalf("the README's workshop failed: %v\nscript:\n%s\noutput:\n%s", err, script, out.String())
	}
	for _, want := range []string{
		"Manifest seq_no: 1, highest available: 0",
		"hello: hello from my container",
		"Manifest seq_no: 1, highest available: 1; seq_nr <= running image",
		"Manifest seq_no: 2, highest available: 1",
		`"result":"SUIT_ERR_DIGEST_MISMATCH"`,
		"container hello-wasm: PROVISIONING -> READY (verified: tokens OK, WebAssembly ",
		"hello-wasm: hello from wasm",
		`"runtime":"wasm"`,
		`"ram":1184`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the workshop's output lacks %q:\n%s", want, out.String())
		}
	}
}
