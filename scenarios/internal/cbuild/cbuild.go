package cbuild

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Target is one way of building a C container: its compiler, flags, the
// object's extension and the file recording which compiler built the
// committed objects.
type Target struct {
	Name        string
	Compiler    string   // looked up on the PATH
	Linker      string   // also needed on the PATH ("" none)
	Flags       []string // before the source
	Ext         string   // the object beside the source
	VersionFile string
}

// BPF is eBPF with ALU32 and JMP32 (v3, what clang 14 knows), optimised,
// without debug information so the object depends only on the source.
var BPF = &Target{Name: "bpf", Compiler: "clang", Flags: []string{"-target", "bpf", "-mcpu=v3", "-O2", "-g0", "-Wall", "-Werror", "-c"},
	Ext: ".o", VersionFile: "CLANG_VERSION"}

// Wasm is WebAssembly with Debian's clang-19 and lld-19 and upstream
// TinyContainer's flags (Makefile.wamr): no libc, one 64 KiB page, a
// 128-byte stack, globals from address 16 (--global-base=16), __heap_base exported so the board is charged only what
// the module uses. The name section stays, so traps name their function.
var Wasm = &Target{Name: "wasm32", Compiler: "clang-19", Linker: "wasm-ld-19",
	Flags: []string{"--target=wasm32-unknown-unknown", "-O2", "-g0", "-nostdlib", "-fno-builtin", "-Wall", "-Werror",
		"-Wl,--no-entry", "-Wl,--export=__heap_base", "-Wl,--export=__data_end",
		"-Wl,-z,stack-size=128", "-Wl,--global-base=16", "-Wl,--initial-memory=65536"},
	Ext: ".wasm", VersionFile: "CLANG_WASM_VERSION"}

// Targets are every target, eBPF first.
var Targets = []*Target{BPF, Wasm}

// wasmHeader marks a C container written for WebAssembly.
const wasmHeader = `#include "tinylab_wasm.h"`

// TargetOf is the target a C source is written for: WebAssembly when it
// includes tinylab_wasm.h, else eBPF.
func TargetOf(source []byte) *Target {
	if bytes.Contains(source, []byte(wasmHeader)) {
		return Wasm
	}
	return BPF
}

// Object is where the object of a source with these contents lives beside it.
func Object(src string, source []byte) string {
	return strings.TrimSuffix(src, ".c") + TargetOf(source).Ext
}

// Find finds the target's compiler (and linker) on the PATH.
func (t *Target) Find() (string, error) {
	cc, err := exec.LookPath(t.Compiler)
	if err != nil {
		return "", err
	}
	if t.Linker != "" {
		if _, err := exec.LookPath(t.Linker); err != nil {
			return "", err
		}
	}
	return cc, nil
}

// Version is the first line of `clang --version`.
func Version(clang string) (string, error) {
	out, err := exec.Command(clang, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", filepath.Base(clang), err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

// Sources lists the C files of dir that are containers (not headers) for
// the target.
func (t *Target) Sources(dir string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(dir, "*.c"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, src := range all {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if TargetOf(b) == t {
			out = append(out, src)
		}
	}
	return out, nil
}

// Compile builds one C source into the object out.
func (t *Target) Compile(clang, src, out string) error {
	args := append(append([]string{}, t.Flags...), filepath.Base(src), "-o", out)
	cmd := exec.Command(clang, args...)
	cmd.Dir = filepath.Dir(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", t.Compiler, filepath.Base(src), err, stderr.String())
	}
	return nil
}

// BuildAll compiles every C container of dir for the target beside its
// source and records the compiler's version.
func (t *Target) BuildAll(clang, dir string) ([]string, error) {
	srcs, err := t.Sources(dir)
	if err != nil {
		return nil, err
	}
	for _, src := range srcs {
		out, err := filepath.Abs(strings.TrimSuffix(src, ".c") + t.Ext)
		if err != nil {
			return nil, err
		}
		if err := t.Compile(clang, src, out); err != nil {
			return nil, err
		}
	}
	v, err := Version(clang)
	if err != nil {
		return nil, err
	}
	return srcs, os.WriteFile(filepath.Join(dir, t.VersionFile), []byte(v+"\n"), 0o644)
}
