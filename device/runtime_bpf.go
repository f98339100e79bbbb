package device

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"tinylab/firewall"
	"tinylab/vm"
	"tinylab/vm/loader"
)

// BPF is the eBPF runtime: the femto-container VM (package vm) with the
// device's helper numbers.
var BPF Runtime = bpfRuntime{}

func init() { register(BPF) }

type bpfRuntime struct{}

func (bpfRuntime) Type() firewall.RuntimeType { return firewall.TypeBPF }

// helperSet is every helper number the device provides, for the verifier.
type helperSet struct{}

func (helperSet) Known(id uint32) bool { _, ok := firewall.HelperByID(id); return ok }

// programs holds each distinct verified program once for every device of
// the process: a fleet of boards running the same container shares its
// pre-decoded instructions, read-only after Verify, so 10,000 boards
// interpret from one copy that stays in the CPU's caches instead of 10,000.
// An entry lives as long as some module holds its program.
var programs = struct {
	mu sync.Mutex
	m  map[[32]byte]weak.Pointer[vm.Program]
}{m: map[[32]byte]weak.Pointer[vm.Program]{}}

func (bpfRuntime) Load(code []byte) (Module, error) {
	key := sha256.Sum256(code)
	programs.mu.Lock()
	p := programs.m[key].Value()
	programs.mu.Unlock()
	if p != nil {
		return bpfModule{p}, nil
	}
	img, err := loader.Load("", code)
	if err != nil {
		return nil, err
	}
	p, err = vm.Verify(img, helperSet{})
	if err != nil {
		return nil, err
	}
	programs.mu.Lock()
	if q := programs.m[key].Value(); q != nil {
		p = q
	} else {
		programs.m[key] = weak.Make(p)
		runtime.AddCleanup(p, forgetProgram, key)
	}
	programs.mu.Unlock()
	return bpfModule{p}, nil
}

// forgetProgram drops the entry of a program no module holds any more,
// unless the same code was loaded again meanwhile.
func forgetProgram(key [32]byte) {
	programs.mu.Lock()
	if programs.m[key].Value() == nil {
		delete(programs.m, key)
	}
	programs.mu.Unlock()
}

type bpfModule struct{ p *vm.Program }

func (m bpfModule) Summary() string {
	text, _, _ := m.p.Sizes()
	return fmt.Sprintf("%d instructions", text/8)
}

func (m bpfModule) RAM(data []byte) int {
	_, globals, _ := m.p.Sizes()
	return vm.StackSize + globals + len(data)
}

// Create takes the hooks by function name; a program without a "loop"
// function runs from its first instruction as loop (a plain femto-container).
func (m bpfModule) Create(data []byte, natives Natives) (Instance, error) {
	in := &bpfInstance{data: data}
	in.loop, _ = m.p.Entry("loop")
	in.start, in.hasStart = m.p.Entry("start")
	in.stop, in.hasStop = m.p.Entry("stop")
	in.vm = vm.NewInstance(m.p, vm.Config{Helpers: bpfHelpers{natives}})
	return in, nil
}

// bpfHelpers hands the VM's helper calls to the device's natives; a
// *vm.Memory is a Memory as it is.
type bpfHelpers struct{ n Natives }

func (h bpfHelpers) Call(id uint32, args *[5]uint64, mem *vm.Memory) (uint64, error) {
	return h.n.Call(id, args, mem)
}

type bpfInstance struct {
	vm                *vm.Instance
	data              []byte // the container's data, each hook's context (r1, r2)
	start, loop, stop int    // entry points
	hasStart, hasStop bool
}

func (in *bpfInstance) Has(h Hook) bool {
	switch h {
	case HookStart:
		return in.hasStart
	case HookStop:
		return in.hasStop
	}
	return true
}

func (in *bpfInstance) OnStart(b Budget) (Result, error) { return in.run(in.start, in.data, b) }
func (in *bpfInstance) OnLoop(b Budget) (Result, error)  { return in.run(in.loop, in.data, b) }
func (in *bpfInstance) OnStop(b Budget) (Result, error)  { return in.run(in.stop, in.data, b) }

// Exec runs from the first instruction, as RIOT's bpf exec does.
func (in *bpfInstance) Exec(ctx []byte, b Budget) (Result, error) { return in.run(0, ctx, b) }

func (in *bpfInstance) Reset() error { in.vm.Reset(); return nil }

// Finalize has nothing to release: the VM holds only Go memory.
func (in *bpfInstance) Finalize() {}

func (in *bpfInstance) run(pc int, ctx []byte, b Budget) (Result, error) {
	in.vm.SetBudgets(b.Branches, b.Instructions)
	res, err := in.vm.Run(pc, ctx)
	st := res.Stats
	r := Result{R0: res.R0, Counts: Counts{
		Instructions: st.Instructions, TakenBranches: st.TakenBranches,
		ALU: st.ALU, LoadStore: st.LoadStore, Branch: st.Branch, Divide: st.Divide, Call: st.Call,
	}}
	if err != nil {
		return r, bpfTrap(err)
	}
	return r, nil
}

// bpfTrap describes a VM error for the agent.
func bpfTrap(err error) *Trap {
	kind, _ := vm.KindOf(err)
	t := &Trap{Kind: kind.String(), Phrase: kind.Error(), PC: vm.PCOf(err), Err: err}
	switch {
	case errors.Is(err, vm.ErrOutOfBudget):
		t.Budget = ErrOutOfInstructions
	case errors.Is(err, vm.ErrOutOfBranches):
		t.Budget = ErrOutOfBranches
	}
	return t
}
