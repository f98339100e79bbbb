package elfobj_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/elfobj"
	"tinylab/vm/rbf"
)

// The Go twin of testdata/prog.c.
type progState struct {
	counter uint32
	hist    [16]uint32
}

var progTable = [8]uint32{3, 1, 4, 1, 5, 9, 2, 6}
var progNames = []string{"zero", "one", "two"}

func progMix(a, b uint32) uint32 { return (a * 31) ^ (b + progTable[a&7]) }

func progStrsum(s string) uint32 {
	var t uint32
	for i := 0; i < len(s); i++ {
		t = t*7 + uint32(s[i])
	}
	return t
}

func progLoop(st *progState, n uint32, buf []byte) uint32 {
	h := st.counter
	for i := uint32(0); i < n && i < 64; i++ {
		h = progMix(h, uint32(buf[i]))
		st.hist[buf[i]&15]++
	}
	st.counter = h
	h += progStrsum(progNames[n%3])
	return h + st.hist[3] + uint32(uint64(h)+5)
}

var progHelpers = vm.HelperMap{
	0x42: func(args *[5]uint64, _ *vm.Memory) (uint64, error) { return args[0] + args[1], nil },
}

// checkProg runs the object's loop() three times and compares every result,
// and the globals, with the Go twin.
func checkProg(t *testing.T, obj []byte) {
	t.Helper()
	img, err := elfobj.Decode(obj)
	if err != nil {
		t.Fatal(err)
	}
	p, err := vm.Verify(img, progHelpers)
	if err != nil {
		t.Fatalf("%v\n%s", err, asm.Disassemble(img))
	}
	loop, ok := p.Entry("loop")
	if !ok {
		t.Fatalf("no loop in %v", p.Functions())
	}
	if sec, ok := p.Entry("container"); !ok || sec != loop {
		t.Errorf("section entry container = %d %v, want %d", sec, ok, loop)
	}
	in := vm.NewInstance(p, vm.Config{Helpers: progHelpers})
	var st progState
	st.counter = 7
	for run, n := range []uint32{5, 64, 100} {
		ctx := make([]byte, 68)
		binary.LittleEndian.PutUint32(ctx, n)
		for i := range 64 {
			ctx[4+i] = byte(i*37 + run*11)
		}
		res, err := in.Run(loop, ctx)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		want := progLoop(&st, n, ctx[4:])
		if uint32(res.R0) != want {
			t.Fatalf("run %d: r0 = %#x, want %#x", run, res.R0, want)
		}
		if got := binary.LittleEndian.Uint32(in.Data()); got != st.counter {
			t.Errorf("run %d: counter = %d, want %d", run, got, st.counter)
		}
		if res.Stats.Instructions == 0 || res.Stats.Call == 0 {
			t.Errorf("run %d: stats %+v", run, res.Stats)
		}
	}
	if start, ok := p.Entry("start"); !ok {
		t.Error("no start function")
	} else if res, err := in.Run(start, nil); err != nil || res.R0 != 0 {
		t.Errorf("start() = %d, %v", res.R0, err)
	}
	// The same image survives conversion to the femto-container format.
	b, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	back, err := rbf.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Verify(back, progHelpers); err != nil {
		t.Fatal(err)
	}
}

func TestCommittedObject(t *testing.T) {
	obj, err := os.ReadFile("testdata/prog.o")
	if err != nil {
		t.Fatal(err)
	}
	checkProg(t, obj)
}

// TestClang builds testdata/prog.c with every clang on the PATH and every
// eBPF CPU version it supports, and checks each object against the Go twin.
func TestClang(t *testing.T) {
	var compilers []string
	for _, cc := range []string{"clang", "clang-19"} {
		if p, err := exec.LookPath(cc); err == nil {
			compilers = append(compilers, p)
		}
	}
	if len(compilers) == 0 {
		t.Skip("clang is not installed (CI installs it)")
	}
	dir := t.TempDir()
	for _, cc := range compilers {
		for _, cpu := range []string{"v1", "v2", "v3", "v4"} {
			name := filepath.Base(cc) + "-" + cpu
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(dir, name+".o")
				cmd := exec.Command(cc, "-target", "bpf", "-mcpu="+cpu, "-O2", "-c", "testdata/prog.c", "-o", out)
				if msg, err := cmd.CombinedOutput(); err != nil {
					if strings.Contains(string(msg), "not a recognized processor") || strings.Contains(string(msg), "unknown target CPU") {
						t.Skipf("%s does not know -mcpu=%s", cc, cpu)
					}
					t.Fatalf("%v: %s", err, msg)
				}
				obj, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				checkProg(t, obj)
			})
		}
	}
}

func TestClangUndefined(t *testing.T) {
	cc, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang is not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "u.c")
	os.WriteFile(src, []byte("extern int missing(int);\nint loop(int x) { return missing(x) + 1; }\n"), 0o644)
	out := filepath.Join(dir, "u.o")
	if msg, err := exec.Command(cc, "-target", "bpf", "-O2", "-c", src, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, msg)
	}
	obj, _ := os.ReadFile(out)
	_, err = elfobj.Decode(obj)
	if err == nil || !strings.Contains(err.Error(), `undefined symbol "missing"`) || !errors.Is(err, vm.ErrBadImage) {
		t.Fatalf("got %v, want an undefined-symbol error", err)
	}
}

func TestBadObjects(t *testing.T) {
	good, err := os.ReadFile("testdata/prog.o")
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not an ELF file"},
		{"raw bytecode", bytes.Repeat([]byte{0x95, 0, 0, 0, 0, 0, 0, 0}, 8), "not an ELF file"},
		{"32-bit", mut(func(b []byte) { b[4] = 1 }), "not a 64-bit ELF"},
		{"big-endian", mut(func(b []byte) { b[5] = 2 }), "not little-endian"},
		{"executable", mut(func(b []byte) { b[16] = 2 }), "ELF type 2"},
		{"x86", mut(func(b []byte) { b[18], b[19] = 62, 0 }), "machine 62"},
		{"section table outside", mut(func(b []byte) { binary.LittleEndian.PutUint64(b[40:], 1<<40) }), "lies outside"},
		{"truncated", good[:len(good)/2], "lies outside"},
	}
	for _, c := range cases {
		_, err := elfobj.Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, vm.ErrBadImage) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
