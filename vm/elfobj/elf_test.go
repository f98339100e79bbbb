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

// TestRIOTBuild builds testdata/prog.c the way RIOT's femto-container
// Makefiles do: a host-target clang emits LLVM IR and llc turns it into a
// BPF object, which then carries .eh_frame and its relocations into .text.
func TestRIOTBuild(t *testing.T) {
	cc, err1 := exec.LookPath("clang")
	llc, err2 := exec.LookPath("llc")
	if err1 != nil || err2 != nil {
		t.Skip("clang and llc are not installed (CI installs them); TestUnwindTablesIgnored covers .eh_frame")
	}
	out := filepath.Join(t.TempDir(), "prog.o")
	cmd := exec.Command("sh", "-c", `"$0" -emit-llvm -O2 -c testdata/prog.c -o - | "$1" -march=bpf -mcpu=v2 -filetype=obj -o "$2"`, cc, llc, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, msg)
	}
	obj, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(obj, []byte(".eh_frame")) {
		t.Fatal("the RIOT-style build has no .eh_frame: the test no longer shows what it is for")
	}
	checkProg(t, obj)
}

// elfSection is one section of a synthetic object.
type elfSection struct {
	name           string
	typ            uint32
	flags          uint64
	link, info     uint32
	align, entsize uint64
	data           []byte
}

// synthELF writes a relocatable ELF64 BPF object with the given sections
// after the null one; the section name table is added last.
func synthELF(secs []elfSection) []byte {
	le := binary.LittleEndian
	shstr := []byte{0}
	names := make([]uint32, len(secs)+1)
	for i, s := range secs {
		names[i] = uint32(len(shstr))
		shstr = append(append(shstr, s.name...), 0)
	}
	names[len(secs)] = uint32(len(shstr))
	shstr = append(append(shstr, ".shstrtab"...), 0)
	secs = append(secs, elfSection{typ: 3, data: shstr, align: 1})
	body := make([]byte, 64)
	offs := make([]uint64, len(secs))
	for i, s := range secs {
		for len(body)%8 != 0 {
			body = append(body, 0)
		}
		offs[i] = uint64(len(body))
		body = append(body, s.data...)
	}
	for len(body)%8 != 0 {
		body = append(body, 0)
	}
	shoff := uint64(len(body))
	body = append(body, make([]byte, 64)...) // the null section
	for i, s := range secs {
		h := make([]byte, 64)
		le.PutUint32(h[0:], names[i])
		le.PutUint32(h[4:], s.typ)
		le.PutUint64(h[8:], s.flags)
		le.PutUint64(h[24:], offs[i])
		le.PutUint64(h[32:], uint64(len(s.data)))
		le.PutUint32(h[40:], s.link)
		le.PutUint32(h[44:], s.info)
		le.PutUint64(h[48:], s.align)
		le.PutUint64(h[56:], s.entsize)
		body = append(body, h...)
	}
	copy(body, "\x7fELF\x02\x01\x01")
	le.PutUint16(body[16:], 1)   // ET_REL
	le.PutUint16(body[18:], 247) // EM_BPF
	le.PutUint32(body[20:], 1)
	le.PutUint64(body[40:], shoff)
	le.PutUint16(body[52:], 64)
	le.PutUint16(body[58:], 64)
	le.PutUint16(body[60:], uint16(len(secs)+1))
	le.PutUint16(body[62:], uint16(len(secs)))
	return body
}

// TestUnwindTablesIgnored loads a synthetic object whose .eh_frame has a
// relocation pointing at the code, as RIOT's clang | llc build leaves it:
// the table is not part of the program, so it neither fails the load nor
// lands in .rodata.
func TestUnwindTablesIgnored(t *testing.T) {
	le := binary.LittleEndian
	text := []byte{0xb7, 0, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0} // mov r0, 42; exit
	strtab := []byte("\x00loop\x00")
	sym := func(name uint32, info byte, shndx uint16, size uint64) []byte {
		b := make([]byte, 24)
		le.PutUint32(b, name)
		b[4] = info
		le.PutUint16(b[6:], shndx)
		le.PutUint64(b[16:], size)
		return b
	}
	// symbols: null, the .text section symbol, global function loop
	symtab := append(append(sym(0, 0, 0, 0), sym(0, 3, 1, 0)...), sym(1, 0x12, 1, 16)...)
	ehFrame := make([]byte, 48)
	rel := make([]byte, 16)
	le.PutUint64(rel, 28)          // the FDE's pc_begin
	le.PutUint64(rel[8:], 1<<32|3) // R_BPF_64_ABS32 against the .text symbol
	obj := synthELF([]elfSection{
		{name: ".text", typ: 1, flags: 0x6, align: 8, data: text},                           // 1
		{name: ".eh_frame", typ: 1, flags: 0x2, align: 8, data: ehFrame},                    // 2
		{name: ".rel.eh_frame", typ: 9, link: 4, info: 2, align: 8, entsize: 16, data: rel}, // 3
		{name: ".symtab", typ: 2, link: 5, info: 2, align: 8, entsize: 24, data: symtab},    // 4
		{name: ".strtab", typ: 3, align: 1, data: strtab},                                   // 5
	})
	img, err := elfobj.Decode(obj)
	if err != nil {
		t.Fatalf("object with .eh_frame: %v", err)
	}
	if len(img.Rodata) != 0 || len(img.Text) != 2 {
		t.Fatalf("rodata %d bytes, text %d instructions: the unwind table was loaded", len(img.Rodata), len(img.Text))
	}
	// The same object with the table named as data is refused: the test
	// object does exercise the relocation.
	bad := bytes.Replace(obj, []byte(".eh_frame\x00"), []byte(".rodata.x\x00"), 1)
	if _, err := elfobj.Decode(bad); err == nil || !strings.Contains(err.Error(), "function pointers are not supported") {
		t.Fatalf("the relocation into .text from a data section: %v", err)
	}
}
