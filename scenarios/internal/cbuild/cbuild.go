package cbuild

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Flags are how every C container is built: BPF with ALU32 and JMP32 (v3,
// what clang 14 knows), optimised, without debug information so the object
// depends only on the source.
var Flags = []string{"-target", "bpf", "-mcpu=v3", "-O2", "-g0", "-Wall", "-Werror"}

// VersionFile records which clang built the committed objects.
const VersionFile = "CLANG_VERSION"

// Clang finds clang on the PATH.
func Clang() (string, error) { return exec.LookPath("clang") }

// Version is the first line of `clang --version`.
func Version(clang string) (string, error) {
	out, err := exec.Command(clang, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("clang --version: %w", err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

// Sources lists the C files of dir that are containers (not headers).
func Sources(dir string) ([]string, error) {
	return filepath.Glob(filepath.Join(dir, "*.c"))
}

// Compile builds one C source into the object out.
func Compile(clang, src, out string) error {
	args := append(append([]string{}, Flags...), "-c", filepath.Base(src), "-o", out)
	cmd := exec.Command(clang, args...)
	cmd.Dir = filepath.Dir(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("clang %s: %w\n%s", filepath.Base(src), err, stderr.String())
	}
	return nil
}

// Object is where a source's object lives beside it.
func Object(src string) string { return strings.TrimSuffix(src, ".c") + ".o" }

// BuildAll compiles every C container of dir beside its source and records
// the clang version.
func BuildAll(clang, dir string) ([]string, error) {
	srcs, err := Sources(dir)
	if err != nil {
		return nil, err
	}
	for _, src := range srcs {
		out, err := filepath.Abs(Object(src))
		if err != nil {
			return nil, err
		}
		if err := Compile(clang, src, out); err != nil {
			return nil, err
		}
	}
	v, err := Version(clang)
	if err != nil {
		return nil, err
	}
	return srcs, os.WriteFile(filepath.Join(dir, VersionFile), []byte(v+"\n"), 0o644)
}
