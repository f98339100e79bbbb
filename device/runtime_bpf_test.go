package device

import (
	"errors"
	"testing"
	"time"

	"tinylab/vm"
	"tinylab/vm/loader"
	"tinylab/vm/rbf"
)

// hooksSrc has all three hooks, and code at pc 0 that is none of them:
// what /bpf/exec runs. Each returns something of its own.
const hooksSrc = `
  mov %r0, %r2   # exec: the context's length
  exit
start:
  mov %r0, 1
  exit
loop:
  mov %r0, %r2   # the data's length, plus 100
  add %r0, 100
  exit
stop:
  mov %r0, 3
  exit
`

// counterSrc counts its loops in a global (a 4-byte .data).
const counterSrc = `
loop:
  lddwd %r1, 0
  ldxw %r0, [%r1+0]
  add %r0, 1
  stxw [%r1+0], %r0
  exit
`

// bpfCode is src as an rBPF image with data bytes of .data.
func bpfCode(t testing.TB, src string, data int) []byte {
	t.Helper()
	img := assemble(t, src)
	img.Data = make([]byte, data)
	b, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// natives are the real device natives of a container installed with every
// grant.
func natives(t testing.TB) (*rig, *Container) {
	r := newRig(t, nil)
	c := r.load(spec{uid: "n", src: everyHelperSrc, grants: allGrants, data: formats()})
	return r, c
}

func create(t testing.TB, c *Container, code, data []byte) Instance {
	t.Helper()
	m, err := BPF.Load(code)
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Create(data, &hostCalls{c: c})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

var roomy = Budget{Branches: 1000, Instructions: 10_000}

// TestBPFRuntimeHooks: each hook runs its own function with the data as its
// context, exec runs from the first instruction with its own context, plain
// code is its loop, and Reset brings the globals back.
func TestBPFRuntimeHooks(t *testing.T) {
	_, c := natives(t)
	in := create(t, c, bpfCode(t, hooksSrc, 0), []byte("data"))
	for h, want := range map[Hook]uint64{HookStart: 1, HookLoop: 104, HookStop: 3} {
		if !in.Has(h) {
			t.Errorf("no %s hook", h)
		}
		var res Result
		var err error
		switch h {
		case HookStart:
			res, err = in.OnStart(roomy)
		case HookLoop:
			res, err = in.OnLoop(roomy)
		case HookStop:
			res, err = in.OnStop(roomy)
		}
		if err != nil || res.R0 != want || res.Counts.Instructions == 0 {
			t.Errorf("%s: r0 %d, %+v, %v; want %d", h, res.R0, res.Counts, err, want)
		}
	}
	if res, err := in.Exec([]byte("ctx"), roomy); err != nil || res.R0 != 3 {
		t.Errorf("exec: r0 %d, %v; want 3", res.R0, err)
	}
	in.Finalize()

	plain := create(t, c, bpfCode(t, "mov %r0, 7\nexit\n", 0), nil)
	if plain.Has(HookStart) || plain.Has(HookStop) || !plain.Has(HookLoop) {
		t.Error("plain code has start or stop, or no loop")
	}
	if res, err := plain.OnLoop(roomy); err != nil || res.R0 != 7 {
		t.Errorf("plain loop: %d, %v", res.R0, err)
	}

	counter := create(t, c, bpfCode(t, counterSrc, 4), nil)
	for want := uint64(1); want <= 3; want++ {
		if res, err := counter.OnLoop(roomy); err != nil || res.R0 != want {
			t.Fatalf("loop %d: r0 %d, %v", want, res.R0, err)
		}
	}
	if err := counter.Reset(); err != nil {
		t.Fatal(err)
	}
	if res, _ := counter.OnLoop(roomy); res.R0 != 1 {
		t.Errorf("after Reset the counter is at %d", res.R0)
	}
}

// TestBPFRuntimeLoad: the runtime refuses code exactly as the VM's loader
// and verifier do, and sizes what it accepts as before.
func TestBPFRuntimeLoad(t *testing.T) {
	for name, code := range map[string][]byte{
		"short":          {0x95, 0, 0},
		"bad rBPF":       []byte("rBPF\x00\x00"),
		"unknown helper": bpfCode(t, "call 0x99\nexit\n", 0),
		"no exit":        bpfCode(t, "mov %r0, 0\n", 0),
	} {
		_, err := BPF.Load(code)
		_, want := loader.LoadVerified("", code, helperSet{})
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	m, err := BPF.Load(bpfCode(t, counterSrc, 4))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Summary(); got != "6 instructions" { // lddwd takes two slots
		t.Errorf("summary %q", got)
	}
	if got, want := m.RAM(make([]byte, 10)), vm.StackSize+4+10; got != want {
		t.Errorf("RAM %d, want %d", got, want)
	}
}

// TestBPFRuntimeTraps: the VM's errors reach the agent as traps with the
// event's code, the reason's phrase, the pc and the VM's own message; a
// budget is told apart by its sentinel, and the counts are filled.
func TestBPFRuntimeTraps(t *testing.T) {
	_, c := natives(t)
	tests := []struct {
		name   string
		src    string
		budget Budget
		kind   string
		phrase string
		pc     int   // -1: any
		vmKind error // the VM's kind, still visible through the trap
		is     error // the budget sentinel
	}{
		{"memory", faultSrc, roomy, "illegal_memory_access", "illegal memory access", 1, vm.ErrIllegalMemoryAccess, nil},
		{"instructions", spinSrc, Budget{Branches: -1, Instructions: 1000}, "out_of_budget", "out of budget", -1, vm.ErrOutOfBudget, ErrOutOfInstructions},
		{"branches", spinSrc, Budget{Branches: 50, Instructions: -1}, "out_of_branches", "out of branches", -1, vm.ErrOutOfBranches, ErrOutOfBranches},
	}
	for _, tt := range tests {
		in := create(t, c, bpfCode(t, tt.src, 0), nil)
		res, err := in.OnLoop(tt.budget)
		var trap *Trap
		if !errors.As(err, &trap) {
			t.Fatalf("%s: %v is not a trap", tt.name, err)
		}
		var vmErr *vm.Error
		if trap.Kind != tt.kind || trap.Phrase != tt.phrase || !errors.Is(err, tt.vmKind) || !errors.As(err, &vmErr) || trap.Error() != vmErr.Error() {
			t.Errorf("%s: trap %+v", tt.name, trap)
		}
		if tt.pc >= 0 && trap.PC != tt.pc || trap.PC != vmErr.PC {
			t.Errorf("%s: pc %d, vm's %d", tt.name, trap.PC, vmErr.PC)
		}
		if trap.Budget != tt.is || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: budget %v, want %v", tt.name, trap.Budget, tt.is)
		}
		if res.Counts.Instructions == 0 {
			t.Errorf("%s: no counts on failure", tt.name)
		}
		if tt.is == ErrOutOfBranches && res.Counts.TakenBranches < 50 {
			t.Errorf("%s: %d taken branches", tt.name, res.Counts.TakenBranches)
		}
	}
	if got := trapOf(errors.New("broken")); got.Kind != "runtime" || got.PC != -1 || got.Error() != "broken" {
		t.Errorf("a plain error's trap: %+v", got)
	}
}

// TestBPFRuntimeCosts: what the seam reports costs exactly what the agent
// charged from the VM's own statistics before it: the same counts, the same
// modelled time, the same r0 and error, for runs that end, call helpers
// through the firewall, fault and run out of either budget.
func TestBPFRuntimeCosts(t *testing.T) {
	r, c := natives(t)
	tests := []struct {
		name   string
		src    string
		data   []byte
		budget Budget
	}{
		{"every helper", everyHelperSrc, formats(), roomy},
		{"hooks", hooksSrc, []byte("data"), roomy},
		{"fault", faultSrc, nil, roomy},
		{"instruction budget", spinSrc, nil, Budget{Branches: 100_000, Instructions: DefaultCPU.Budget(20 * time.Millisecond)}},
		{"branch budget", spinSrc, nil, Budget{Branches: 500, Instructions: DefaultCPU.Budget(time.Second)}},
	}
	for _, tt := range tests {
		code := bpfCode(t, tt.src, 0)
		prog, err := loader.LoadVerified("", code, helperSet{})
		if err != nil {
			t.Fatal(err)
		}
		entry, _ := prog.Entry("loop")
		var old vm.Result
		var oldErr, newErr error
		var res Result
		r.do(func() {
			vmi := vm.NewInstance(prog, vm.Config{Helpers: bpfHelpers{&hostCalls{c: c}}, BranchBudget: tt.budget.Branches, InstructionBudget: tt.budget.Instructions})
			old, oldErr = vmi.Run(entry, tt.data)
			res, newErr = create(t, c, code, tt.data).OnLoop(tt.budget)
		})
		st := old.Stats
		want := Counts{Instructions: st.Instructions, TakenBranches: st.TakenBranches, ALU: st.ALU, LoadStore: st.LoadStore, Branch: st.Branch, Divide: st.Divide, Call: st.Call}
		if res.Counts != want || res.R0 != old.R0 {
			t.Errorf("%s: %+v r0 %d, the VM's %+v r0 %d", tt.name, res.Counts, res.R0, want, old.R0)
		}
		oldCost := DefaultCPU.Cost(st.ALU, st.LoadStore, st.Branch, st.Divide, st.Call)
		if got := DefaultCPU.Time(res.Counts); got != oldCost || got == 0 {
			t.Errorf("%s: %s, the VM's stats cost %s", tt.name, got, oldCost)
		}
		if (oldErr == nil) != (newErr == nil) || oldErr != nil && oldErr.Error() != newErr.Error() {
			t.Errorf("%s: error %v, the VM's %v", tt.name, newErr, oldErr)
		}
	}
	if n := r.count(KindFault); n != 0 {
		t.Errorf("%d fault events from runs outside the agent", n)
	}
}

// TestExecRAMThroughTheSeam: a RAM-slot application runs once through the
// runtime its bytes name; a fault is an exec fault event; WebAssembly bytes
// on a firmware without that runtime are refused with the reason.
func TestExecRAMThroughTheSeam(t *testing.T) {
	r := newRig(t, bpfOnly)
	var r0 uint64
	var err error
	r.do(func() {
		r.d.ramSlot[0] = bpfCode(t, hooksSrc, 0)
		r0, err = r.d.ExecRAM(0, []byte("12345"))
	})
	if err != nil || r0 != 5 {
		t.Errorf("exec: %d, %v; want 5", r0, err)
	}
	r.do(func() {
		r.d.ramSlot[1] = bpfCode(t, faultSrc, 0)
		_, err = r.d.ExecRAM(1, nil)
	})
	if !errors.Is(err, vm.ErrIllegalMemoryAccess) {
		t.Errorf("fault: %v", err)
	}
	if got, want := r.log(KindFault), "00:00.000 dev vm fault: .ram.1 exec(): "+err.Error()+"\n"; got != want {
		t.Errorf("fault events %q, want %q", got, want)
	}
	r.do(func() {
		r.d.ramSlot[0] = wasmModule
		_, err = r.d.ExecRAM(0, nil)
	})
	if !errors.Is(err, ErrNoRuntime) || err.Error() != "type 4 (wasm): no wasm runtime on this device" {
		t.Errorf("wasm in a RAM slot: %v", err)
	}
}

// TestBPFProgramsShared: boards loading the same code share one verified
// program; other code gets its own; instances of a shared program keep
// their own memory.
func TestBPFProgramsShared(t *testing.T) {
	code := bpfCode(t, counterSrc, 4)
	a, err := BPF.Load(code)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BPF.Load(append([]byte(nil), code...))
	if err != nil {
		t.Fatal(err)
	}
	if a.(bpfModule).p != b.(bpfModule).p {
		t.Error("the same code loaded twice gives two programs")
	}
	c, err := BPF.Load(bpfCode(t, hooksSrc, 0))
	if err != nil {
		t.Fatal(err)
	}
	if c.(bpfModule).p == a.(bpfModule).p {
		t.Error("other code shares the program")
	}
	ia, _ := a.Create(nil, nil)
	ib, _ := b.Create(nil, nil)
	for range 3 {
		if _, err := ia.OnLoop(Budget{}); err != nil {
			t.Fatal(err)
		}
	}
	ra, _ := ia.OnLoop(Budget{})
	rb, _ := ib.OnLoop(Budget{})
	if ra.R0 != 4 || rb.R0 != 1 {
		t.Errorf("loop counts %d and %d, want 4 and 1: the instances share their data", ra.R0, rb.R0)
	}
}
