package wasm

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

//go:generate clang-19 --target=wasm32-unknown-unknown -O2 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--export=loop -Wl,--export=fletcher -Wl,--export=token -Wl,--export=__heap_base -Wl,--export=__data_end -Wl,-z,stack-size=128 -Wl,--initial-memory=65536 -Wl,--strip-all -o testdata/kernels.wasm testdata/kernels.c

// wasmFlags are the flags every C test program is built with: upstream's
// (examples/tinycontainer/containers/Makefile.wamr: one 64 KiB page, a
// 128-byte stack, __heap_base and __data_end exported, no libc, no entry)
// without LTO, which needs nothing more than clang-19 and lld-19.
func wasmFlags(out, src string, exports ...string) []string {
	f := []string{"--target=wasm32-unknown-unknown", "-O2", "-nostdlib", "-fno-builtin",
		"-Wl,--no-entry"}
	for _, e := range exports {
		f = append(f, "-Wl,--export="+e)
	}
	return append(f, "-Wl,--export=__heap_base", "-Wl,--export=__data_end",
		"-Wl,-z,stack-size=128", "-Wl,--initial-memory=65536", "-Wl,--strip-all", "-o", out, src)
}

// haveClang skips the test when clang-19 or wasm-ld-19 is missing.
func haveClang(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"clang-19", "wasm-ld-19"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: clang-19, lld-19)", tool)
		}
	}
}

func clang(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("clang-19", args...).CombinedOutput(); err != nil {
		t.Fatalf("clang-19 %v: %v\n%s", args, err, out)
	}
}

// TestKernelsUpToDate rebuilds testdata/kernels.wasm and compares it with the
// committed one.
func TestKernelsUpToDate(t *testing.T) {
	haveClang(t)
	out := filepath.Join(t.TempDir(), "kernels.wasm")
	clang(t, wasmFlags(out, "testdata/kernels.c", "loop", "fletcher", "token")...)
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile("testdata/kernels.wasm")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("testdata/kernels.wasm is not what clang-19 builds from kernels.c: run go generate ./vm/wasm/")
	}
}

// The kernels' Go twins, as in vm/bench_test.go.

const loopIterations = 10_000_000

func loopNative(n uint64) uint64 {
	var x uint64
	for i := uint64(0); i < n; i++ {
		x += i
		x ^= x << 13
		x ^= x >> 7
	}
	return x
}

func fletcherNative(b []byte) uint64 {
	var s1, s2 uint32
	for _, c := range b {
		s1 += uint32(c)
		s2 += s1
	}
	return uint64((s2%255)<<8 | s1%255)
}

func tokenNative(b []byte) uint64 {
	var state, words, numbers, punct uint64
	for _, c := range b {
		switch {
		case c == ' ' || c == '\n':
			state = 0
		case c < '0':
			punct++
			state = 0
		case c <= '9':
			if state != 2 {
				state = 2
				numbers++
			}
		case c|32 < 'a' || c|32 > 'z':
			punct++
			state = 0
		default:
			if state != 1 {
				state = 1
				words++
			}
		}
	}
	return numbers<<16 | words | punct<<32
}

// benchText is the same 4 KiB of words, numbers and punctuation as the
// eBPF benchmarks use (same generator, same seed).
func benchText() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for len(b) < 4096 {
		switch rng.IntN(6) {
		case 0, 1, 2:
			for range 1 + rng.IntN(8) {
				b = append(b, byte('a'+rng.IntN(26))-byte(rng.IntN(2)*32))
			}
		case 3:
			for range 1 + rng.IntN(5) {
				b = append(b, byte('0'+rng.IntN(10)))
			}
		case 4:
			b = append(b, ".,;:!?-()"[rng.IntN(9)])
		}
		b = append(b, " \n"[min(rng.IntN(8), 1)])
	}
	return b[:4096]
}

func kernels(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/kernels.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kernelInstance compiles the kernels and puts the text at the heap base.
func kernelInstance(t testing.TB, e Engine) (*Instance, uint64) {
	t.Helper()
	m, err := Compile(kernels(t), Config{Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Instantiate(nil)
	if err != nil {
		t.Fatal(err)
	}
	in.SetBudgets(-1, -1)
	base := m.HeapBase()
	w, err := in.Memory().Write(base, 4096)
	if err != nil {
		t.Fatal(err)
	}
	copy(w, benchText())
	return in, base
}

// TestKernels checks each kernel against its Go twin, with the same counts
// on both engines.
func TestKernels(t *testing.T) {
	text := benchText()
	var stats [2][3]Stats
	for ei, e := range engines {
		in, base := kernelInstance(t, e)
		for ki, c := range []struct {
			fn   string
			args []uint64
			want uint64
		}{
			{"loop", []uint64{100_000}, loopNative(100_000)},
			{"fletcher", []uint64{base, 4096}, fletcherNative(text)},
			{"token", []uint64{base, 4096}, tokenNative(text)},
		} {
			res, err := in.Call(c.fn, c.args...)
			if err != nil || res.R0 != c.want {
				t.Errorf("%s %s: %#x %v, want %#x", e, c.fn, res.R0, err, c.want)
			}
			stats[ei][ki] = res.Stats
		}
		in.Close()
	}
	if stats[0] != stats[1] {
		t.Errorf("counts differ:\ninterpreter %+v\ncompiler    %+v", stats[0], stats[1])
	}
	if m, _ := Compile(kernels(t), Config{}); m.RAM() != 1152 {
		t.Errorf("kernels RAM %d, want 1152 (1 KiB below the data, 128 bytes of stack)", m.RAM())
	}
}

var (
	testingNow   = time.Now
	testingSince = time.Since
)
