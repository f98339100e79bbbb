package wasm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

//go:generate clang-19 --target=wasm32-unknown-unknown -O2 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--export=loop -Wl,--export=fletcher -Wl,--export=token -Wl,--export=__heap_base -Wl,--export=__data_end -Wl,-z,stack-size=128 -Wl,--global-base=16 -Wl,--initial-memory=65536 -Wl,--strip-all -o testdata/kernels.wasm testdata/kernels.c

// wasmFlags are the flags every C test program is built with: upstream's
// (examples/tinycontainer/containers/Makefile.wamr: one 64 KiB page, a
// 128-byte stack, data from address 16, __heap_base and __data_end
// exported, no libc, no entry)
// without LTO, which needs nothing more than clang-19 and lld-19.
func wasmFlags(out, src string, exports ...string) []string {
	f := []string{"--target=wasm32-unknown-unknown", "-O2", "-nostdlib", "-fno-builtin",
		"-Wl,--no-entry"}
	for _, e := range exports {
		f = append(f, "-Wl,--export="+e)
	}
	return append(f, "-Wl,--export=__heap_base", "-Wl,--export=__data_end",
		"-Wl,-z,stack-size=128", "-Wl,--global-base=16", "-Wl,--initial-memory=65536", "-Wl,--strip-all", "-o", out, src)
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

// TestGeneratedUpToDate rebuilds the committed .wasm files (see the
// go:generate lines) and compares them with what is committed.
func TestGeneratedUpToDate(t *testing.T) {
	haveClang(t)
	for _, c := range []struct {
		src     string
		exports []string
	}{
		{"testdata/kernels.c", []string{"loop", "fletcher", "token"}},
		{"testdata/hello.c", nil},
	} {
		want := strings.TrimSuffix(c.src, ".c") + ".wasm"
		out := filepath.Join(t.TempDir(), "out.wasm")
		clang(t, wasmFlags(out, c.src, c.exports...)...)
		got, _ := os.ReadFile(out)
		committed, err := os.ReadFile(want)
		if err != nil || !bytes.Equal(got, committed) {
			t.Errorf("%s is not what clang-19 builds from %s: run go generate ./vm/wasm/", want, c.src)
		}
	}
}

// TestHeaderContainer runs a container written against the user-facing
// header (scenarios/builtin/containers/tinylab_wasm.h) through its hooks.
func TestHeaderContainer(t *testing.T) {
	bin, err := os.ReadFile("testdata/hello.wasm")
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	host := hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) {
		switch name {
		case "logger":
			s, err := mem.ReadString(args[0], 64)
			if err != nil {
				return 0, err
			}
			calls = append(calls, "logger "+s)
		case "fetch_local":
			w, err := mem.Write(args[1], 4)
			if err != nil {
				return 0, err
			}
			copy(w, []byte{1, 0, 0, 0})
			calls = append(calls, "fetch_local")
		default:
			calls = append(calls, name)
		}
		return 0, nil
	})
	onBoth(t, bin, Config{}, host, func(t *testing.T, in *Instance) string {
		calls = nil
		var names []string
		for _, n := range in.Module().Imports() {
			names = append(names, n.Name)
		}
		var log []string
		for _, hook := range []string{"start", "loop", "loop", "loop", "stop"} {
			res, err := in.Call(hook)
			if err != nil {
				t.Fatalf("%s: %v", hook, err)
			}
			log = append(log, fmt.Sprintf("%s=%d", hook, res.R0))
		}
		if got := strings.Join(log, " "); got != "start=0 loop=0 loop=0 loop=1 stop=0" {
			t.Errorf("hooks: %s", got)
		}
		if got := strings.Join(calls, ","); got != "logger hello from wasm,heartbeat,heartbeat,heartbeat,fetch_local" {
			t.Errorf("natives: %s", got)
		}
		if got := strings.Join(names, ","); got != "logger,heartbeat,fetch_local" || in.Module().RAM() > 2048 {
			t.Errorf("imports %s, RAM %d", got, in.Module().RAM())
		}
		return strings.Join(log, " ") + strings.Join(calls, ",")
	})
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
	if m, _ := Compile(kernels(t), Config{}); m.RAM() != 144 {
		t.Errorf("kernels RAM %d, want 144 (data from 16, no data, 128 bytes of stack)", m.RAM())
	}
}

var (
	testingNow   = time.Now
	testingSince = time.Since
)

//go:generate clang-19 --target=wasm32-unknown-unknown -O2 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--export=__heap_base -Wl,--export=__data_end -Wl,-z,stack-size=128 -Wl,--global-base=16 -Wl,--initial-memory=65536 -Wl,--strip-all -o testdata/hello.wasm testdata/hello.c
