package vm_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"tinylab/vm"
	"tinylab/vm/asm"
)

func mustProgram(t *testing.T, src string, h vm.HelperSet) *vm.Program {
	t.Helper()
	img, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	p, err := vm.Verify(img, h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParallelInstances runs instances of one program from several
// goroutines; run with -race.
func TestParallelInstances(t *testing.T) {
	p := benchProgram(t, fletcherSrc)
	text := benchText()
	want := fletcherNative(text)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := vm.NewInstance(p, vm.Config{})
			ctx := bytes.Clone(text)
			for range 20 {
				res, err := in.Run(0, ctx)
				if err != nil || res.R0 != want {
					t.Errorf("goroutine %d: %#x, %v", g, res.R0, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDataPersistsAndReset: globals survive from one run to the next until
// Reset, and instances do not share them.
func TestDataPersistsAndReset(t *testing.T) {
	img, err := asm.Assemble("lddwd %r1, 0\nldxw %r0, [%r1]\nadd %r0, 1\nstxw [%r1], %r0\nexit")
	if err != nil {
		t.Fatal(err)
	}
	img.Data = []byte{10, 0, 0, 0}
	p, err := vm.Verify(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := vm.NewInstance(p, vm.Config{}), vm.NewInstance(p, vm.Config{})
	for i, want := range []uint64{11, 12, 13} {
		if res, err := a.Run(0, nil); err != nil || res.R0 != want {
			t.Fatalf("run %d: %d, %v; want %d", i, res.R0, err, want)
		}
	}
	if res, _ := b.Run(0, nil); res.R0 != 11 {
		t.Fatalf("second instance saw %d, want 11", res.R0)
	}
	a.Reset()
	if res, _ := a.Run(0, nil); res.R0 != 11 {
		t.Fatalf("after Reset: %d, want 11", res.R0)
	}
	if img.Data[0] != 10 {
		t.Fatal("running changed the image's data")
	}
}

func TestStackIsFreshAndFramesNest(t *testing.T) {
	// Run 1 leaves a value on the stack, run 2 must read 0.
	p := mustProgram(t, `
	ldxdw %r0, [%r10-8]
	stdw [%r10-8], 77
	exit`, nil)
	in := vm.NewInstance(p, vm.Config{})
	for i := range 2 {
		if res, err := in.Run(0, nil); err != nil || res.R0 != 0 {
			t.Fatalf("run %d: r0 = %d, %v", i, res.R0, err)
		}
	}
	// A callee may read its caller's frame through a pointer, but a frame
	// that returned is out of reach.
	p = mustProgram(t, `
	stdw [%r10-8], 5
	mov %r1, %r10
	add %r1, -8
	call local f
	mov %r6, %r0
	call local g
	mov %r0, %r6
	exit
f:
	ldxdw %r0, [%r1]
	stdw [%r10-8], 9
	mov %r2, %r10
	exit
g:
	ldxdw %r0, [%r10+504]        # above this frame: f's frame is gone
	exit`, nil)
	_, err := vm.NewInstance(p, vm.Config{}).Run(0, nil)
	if !errors.Is(err, vm.ErrIllegalMemoryAccess) || vm.PCOf(err) != 12 || !strings.Contains(err.Error(), "above the top of the current stack frame") {
		t.Fatalf("got %v", err)
	}
}

func TestCallDepth(t *testing.T) {
	p := mustProgram(t, "f:\ncall local f\nexit", nil)
	res, err := vm.NewInstance(p, vm.Config{}).Run(0, nil)
	var e *vm.Error
	if !errors.As(err, &e) || e.Kind != vm.ErrCallDepth || e.PC != 0 || res.Stats.Call != vm.MaxCallDepth {
		t.Fatalf("got %v, stats %+v", err, res.Stats)
	}
}

func TestHelpers(t *testing.T) {
	var seen string
	h := vm.HelperMap{
		1: func(a *[5]uint64, m *vm.Memory) (uint64, error) {
			s, err := m.ReadString(a[0], 16)
			if err != nil {
				return 0, err
			}
			seen = s
			b, err := m.Write(a[1], 2)
			if err != nil {
				return 0, err
			}
			copy(b, "ok")
			return uint64(len(s)), nil
		},
		2: func(a *[5]uint64, m *vm.Memory) (uint64, error) { return 0, errors.New("sensor unplugged") },
	}
	p := mustProgram(t, `
	stw [%r10-8], 0x6c6c6568          # "hell"
	sth [%r10-4], 0x6f                # "o\0"
	mov %r1, %r10
	add %r1, -8
	mov %r2, %r10
	add %r2, -16
	call 1
	ldxh %r6, [%r10-16]
	add %r0, %r6
	exit`, h)
	in := vm.NewInstance(p, vm.Config{Helpers: h})
	res, err := in.Run(0, nil)
	if err != nil || seen != "hello" || res.R0 != 5+uint64('o')|uint64('k')<<8 {
		t.Fatalf("r0 %#x, err %v, seen %q", res.R0, err, seen)
	}
	// A helper's pointer into read-only memory fails the run, and the error
	// names the helper, the pc and the memory fault.
	ctx := []byte("abc\x00")
	p = mustProgram(t, "mov %r2, %r1\ncall 1\nexit", h)
	_, err = vm.NewInstance(p, vm.Config{Helpers: h}).Run(0, ctx)
	if !errors.Is(err, vm.ErrHelper) || !errors.Is(err, vm.ErrIllegalMemoryAccess) || vm.PCOf(err) != 1 ||
		!strings.Contains(err.Error(), "context is read-only") {
		t.Fatalf("got %v", err)
	}
	p = mustProgram(t, "call 2\nexit", h)
	_, err = vm.NewInstance(p, vm.Config{Helpers: h}).Run(0, nil)
	if k, _ := vm.KindOf(err); k != vm.ErrHelper || err.Error() != "helper 0x2 failed at pc 0: sensor unplugged" {
		t.Fatalf("got %v", err)
	}
	if _, err := vm.NewInstance(p, vm.Config{}).Run(0, nil); !errors.Is(err, vm.ErrIllegalCall) {
		t.Fatalf("no helpers configured: %v", err)
	}
}

func TestHostRegions(t *testing.T) {
	p := mustProgram(t, "lddw %r1, 0x50000000\nldxb %r0, [%r1+2]\nstb [%r1+2], 9\nexit", nil)
	in := vm.NewInstance(p, vm.Config{})
	buf := []byte{1, 2, 3}
	addr, err := in.AddRegion("sensor", buf, vm.PermRead)
	if err != nil || addr != vm.HostBase {
		t.Fatalf("AddRegion: %#x, %v", addr, err)
	}
	_, err = in.Run(0, nil)
	if !errors.Is(err, vm.ErrIllegalMemoryAccess) || !strings.Contains(err.Error(), "write 1 byte at 0x50000002 (sensor is read-only)") {
		t.Fatalf("got %v", err)
	}
	if err := in.SetRegion(addr, buf, vm.PermReadWrite); err != nil {
		t.Fatal(err)
	}
	if res, err := in.Run(0, nil); err != nil || res.R0 != 3 || buf[2] != 9 {
		t.Fatalf("r0 %d, err %v, buf %v", res.R0, err, buf)
	}
	for i := 1; i < vm.MaxHostRegions; i++ {
		if _, err := in.AddRegion("", nil, vm.PermRead); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := in.AddRegion("one too many", nil, vm.PermRead); err == nil {
		t.Fatal("a twelfth host region was granted")
	}
	if err := in.SetRegion(vm.DataBase, buf, vm.PermRead); err == nil {
		t.Fatal("SetRegion replaced the data region")
	}
}

func TestErrorsReadWell(t *testing.T) {
	cases := []struct {
		src  string
		ctx  []byte
		want string
	}{
		{"ldxw %r0, [%r1]\nexit", nil, "illegal memory access at pc 0: read 4 bytes at 0x0 (null pointer)"},
		{"ldxw %r0, [%r1+2]\nexit", []byte{1, 2, 3, 4}, "illegal memory access at pc 0: read 4 bytes at 0x40000002 (context is 4 bytes; the access ends 2 bytes past it)"},
		{"stb [%r1], 1\nexit", []byte{1}, "illegal memory access at pc 0: write 1 byte at 0x40000000 (context is read-only)"},
		{"lddw %r1, 0x40000000\nldxb %r0, [%r1]\nexit", nil, "illegal memory access at pc 2: read 1 byte at 0x40000000 (no context was given)"},
		{"ldxb %r0, [%r10-513]\nexit", nil, "illegal memory access at pc 0: read 1 byte at 0x2fffffff (1 byte below the start of stack)"},
		{"lddwr %r1, 0\nstb [%r1], 1\nexit", nil, "illegal memory access at pc 2: write 1 byte at 0x10000000 (beyond the end of rodata, which is 0 bytes)"},
		{"lddw %r1, 0x123456789\nldxb %r0, [%r1]\nexit", nil, "illegal memory access at pc 2: read 1 byte at 0x123456789 (outside the 32-bit address space)"},
		{"lddw %r1, 0x90000000\nldxb %r0, [%r1]\nexit", nil, "illegal memory access at pc 2: read 1 byte at 0x90000000 (nothing is mapped there)"},
	}
	for _, c := range cases {
		_, err := vm.NewInstance(mustProgram(t, c.src, nil), vm.Config{}).Run(0, c.ctx)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
	for _, k := range []vm.Kind{vm.ErrIllegalInstruction, vm.ErrIllegalMemoryAccess, vm.ErrOutOfBranches, vm.ErrOutOfBudget, vm.ErrCallDepth, vm.ErrHelper, vm.ErrBadImage} {
		if name := k.String(); name == "unknown" || strings.ContainsAny(name, " -") {
			t.Errorf("kind %d has name %q", k, name)
		}
	}
}

func TestVerifierErrors(t *testing.T) {
	cases := []struct {
		src  string
		kind vm.Kind
		pc   int
	}{
		{"mov %r10, 1\nexit", vm.ErrIllegalRegister, 0},
		{"ldxw %r10, [%r1]\nexit", vm.ErrIllegalRegister, 0},
		{"lock fetch add [%r1], %r10\nexit", vm.ErrIllegalRegister, 0},
		{"mov %r0, 1", vm.ErrNoReturn, 0},
		{"ja +5\nexit", vm.ErrIllegalJump, 0},
		{"call 9\nexit", vm.ErrIllegalCall, 0},
		{".raw 0x00000000000000ff\nexit", vm.ErrIllegalInstruction, 0},
		{"call local f\nexit\nf:\njeq %r1, 0, -3\nexit", vm.ErrIllegalJump, 2},
	}
	for _, c := range cases {
		img, err := asm.Assemble(c.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = vm.Verify(img, nil)
		var e *vm.Error
		if !errors.As(err, &e) || e.Kind != c.kind || e.PC != c.pc {
			t.Errorf("%q: got %v, want %v at pc %d", c.src, err, c.kind, c.pc)
		}
	}
	if _, err := vm.Verify(&vm.Image{}, nil); !errors.Is(err, vm.ErrIllegalLength) {
		t.Errorf("empty program: %v", err)
	}
	if _, err := vm.Verify(&vm.Image{Text: make([]vm.Instruction, vm.MaxInstructions+1)}, nil); !errors.Is(err, vm.ErrIllegalLength) {
		t.Errorf("too long: %v", err)
	}
	img, _ := asm.Assemble("exit")
	img.Functions = []vm.Function{{Name: "x", PC: 4}}
	if _, err := vm.Verify(img, nil); !errors.Is(err, vm.ErrIllegalJump) {
		t.Errorf("function outside: %v", err)
	}
}

func TestStatsAndBudgets(t *testing.T) {
	p := mustProgram(t, `
	mov %r0, 0
	mov %r1, 10
loop:
	add %r0, 3
	div %r0, 1
	stxw [%r10-4], %r0
	sub %r1, 1
	jne %r1, 0, loop
	exit`, nil)
	res, err := vm.NewInstance(p, vm.Config{}).Run(0, nil)
	want := vm.Stats{Instructions: 2 + 10*5 + 1, TakenBranches: 9, ALU: 2 + 10*2, LoadStore: 10, Branch: 10 + 1, Divide: 10}
	if err != nil || res.R0 != 30 || res.Stats != want {
		t.Fatalf("r0 %d, err %v\nstats %+v\nwant  %+v", res.R0, err, res.Stats, want)
	}
	_, err = vm.NewInstance(p, vm.Config{BranchBudget: 4}).Run(0, nil)
	if !errors.Is(err, vm.ErrOutOfBranches) || vm.PCOf(err) != 6 {
		t.Fatalf("branch budget: %v", err)
	}
	res, err = vm.NewInstance(p, vm.Config{InstructionBudget: 20}).Run(0, nil)
	if !errors.Is(err, vm.ErrOutOfBudget) || res.Stats.Instructions > 20 {
		t.Fatalf("instruction budget: %v, %+v", err, res.Stats)
	}
	// SetBudgets changes the limits of the next runs of the same instance.
	in := vm.NewInstance(p, vm.Config{})
	in.SetBudgets(4, 0)
	if _, err := in.Run(0, nil); !errors.Is(err, vm.ErrOutOfBranches) {
		t.Fatalf("SetBudgets(4 branches): %v", err)
	}
	in.SetBudgets(0, 0)
	if res, err := in.Run(0, nil); err != nil || res.R0 != 30 {
		t.Fatalf("SetBudgets back to the defaults: %d, %v", res.R0, err)
	}
}

// TestFusedAliasing runs pairs whose second instruction reads the register
// the first one wrote, each fused into one superinstruction.
func TestFusedAliasing(t *testing.T) {
	cases := []struct {
		src  string
		want uint64
	}{
		{"mov %r1, 5\nmov %r0, %r1\nadd %r0, %r0\nexit", 10},
		{"mov %r1, 5\nmov %r0, %r1\nadd %r0, %r1\nexit", 10},
		{"mov %r0, 3\nmov %r1, %r0\nlsh %r1, 4\nadd %r0, %r1\nexit", 51},
		{"mov %r0, 1\nadd %r0, 1\njeq %r0, %r0, +1\nmov %r0, 9\nexit", 2},
		{"stdw [%r10-8], 7\nmov %r1, %r10\nldxdw %r1, [%r1-8]\nadd %r1, 1\nmov %r0, %r1\nexit", 8},
		{"stdw [%r10-8], 7\nmov %r1, -8\nmov %r0, %r10\nadd %r1, %r0\nldxdw %r0, [%r1]\nexit", 7},
		{"lddwd %r1, 0\nstxdw [%r1], %r1\nldxdw %r0, [%r1]\nexit", vm.DataBase},
	}
	for _, c := range cases {
		img, err := asm.Assemble(c.src)
		if err != nil {
			t.Fatal(err)
		}
		img.Data = make([]byte, 8)
		p, err := vm.Verify(img, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := vm.NewInstance(p, vm.Config{}).Run(0, nil); err != nil || res.R0 != c.want {
			t.Errorf("%q: r0 = %d, %v; want %d", c.src, res.R0, err, c.want)
		}
	}
}
