package vm

import (
	"fmt"
	"math"
)

// Default budgets, used when a Config leaves them at 0.
const (
	DefaultBranchBudget      = 1 << 20
	DefaultInstructionBudget = 1 << 24
)

// Config is what the host decides for an instance.
type Config struct {
	Helpers Helpers
	// BranchBudget is the number of taken branches a run may make
	// (femto-containers' branch budget). 0 means DefaultBranchBudget,
	// a negative value no limit.
	BranchBudget int64
	// InstructionBudget is the number of instructions a run may execute.
	// 0 means DefaultInstructionBudget, a negative value no limit. It is
	// checked at every taken branch and local call against the instructions
	// executed so far plus the straight-line stretch about to start, so a
	// run can overshoot it only along a path with no taken branch.
	InstructionBudget int64
	// ContextWritable lets the program store into the context (the corpus
	// harness does; a device usually does not).
	ContextWritable bool
}

// Stats counts what one run executed, for the device's time and energy model.
type Stats struct {
	Instructions  uint64 // all executed instructions (a wide load counts once)
	TakenBranches uint64 // jumps that were taken, unconditional ones included
	ALU           uint64 // arithmetic, byte swaps and wide loads
	LoadStore     uint64 // loads, stores, atomics
	Branch        uint64 // jumps (taken or not) and exit
	Divide        uint64 // div, sdiv, mod, smod
	Call          uint64 // helper and local calls
}

// Result is the outcome of a run that reached exit.
type Result struct {
	R0    uint64
	Stats Stats
}

type frame struct {
	ret            int
	r6, r7, r8, r9 uint64
}

// Instance is one VM: a program, its private data and stack, the regions the
// host granted and the counters of the current run. Instances share nothing
// writable, so different instances may run in parallel; one instance runs one
// program at a time.
type Instance struct {
	prog    *Program
	helpers Helpers

	mem    [numSlots]region // hot part of each region, by the top nibble of the address
	info   [numSlots]regionInfo
	data   []byte
	stack  []byte
	frames [MaxCallDepth]frame
	memory Memory
	args   [5]uint64

	ctxPerm      Perm
	branchBudget uint64
	instrBudget  uint64
	stretchBound uint64 // most instructions between two checkpoints' taken branches, per taken branch
	hostRegions  int
	dirtyFrames  int // frames the last run may have written

	// state of the current run
	regs        [16]uint64
	acc         uint64 // exec's counters while it is stopped
	taken       uint64
	limit       uint64
	faultAddr   uint64 // the access exec stopped on (stopFault)
	faultSize   uint8
	faultAccess Access
	pc          int // instruction being executed, for errors raised by helpers
	stats       Stats
	localCalls  uint64
}

// NewInstance prepares an instance: a private copy of the program's data and
// its own stack, grown a frame at a time as calls reach deeper.
func NewInstance(p *Program, cfg Config) *Instance {
	in := &Instance{
		prog:    p,
		helpers: cfg.Helpers,
		data:    append([]byte(nil), p.data...),
		stack:   make([]byte, StackFrameSize),
		ctxPerm: PermRead,
	}
	in.memory.in = in
	if cfg.ContextWritable {
		in.ctxPerm = PermReadWrite
	}
	in.branchBudget = budget(cfg.BranchBudget, DefaultBranchBudget)
	in.instrBudget = budget(cfg.InstructionBudget, DefaultInstructionBudget)
	// Between two taken branches (or local calls) a run executes at most one
	// straight stretch per frame it returns through: each is shorter than
	// the program.
	in.stretchBound = uint64(MaxCallDepth+1) * uint64(len(p.text)+1)
	in.setRegion(slotRodata, "rodata", p.rodata, PermRead)
	in.setRegion(slotData, "data", in.data, PermReadWrite)
	in.setRegion(slotStack, "stack", in.stack[:StackFrameSize], PermReadWrite)
	in.dirtyFrames = 1
	return in
}

func budget(v int64, def uint64) uint64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return math.MaxUint64
	}
	return uint64(v)
}

// SetBudgets changes the branch and instruction budgets of the runs that
// follow (0: the default, negative: no limit), as Config does at creation: a
// host may give each entry point its own limit (a container's start, loop
// and stop hooks each have theirs).
func (in *Instance) SetBudgets(branches, instructions int64) {
	in.branchBudget = budget(branches, DefaultBranchBudget)
	in.instrBudget = budget(instructions, DefaultInstructionBudget)
}

// Program is the program this instance runs.
func (in *Instance) Program() *Program { return in.prog }

// AddRegion maps a host buffer into the instance's address space with the
// given permissions and returns its address. Regions are placed at HostBase,
// HostBase+RegionSpan, ... in the order they are added.
func (in *Instance) AddRegion(name string, buf []byte, perm Perm) (uint64, error) {
	if in.hostRegions >= MaxHostRegions {
		return 0, fmt.Errorf("vm: region %q: all %d host regions are in use", name, MaxHostRegions)
	}
	if len(buf) > MaxRegionSize {
		return 0, fmt.Errorf("vm: region %q: %d bytes, at most %d allowed", name, len(buf), MaxRegionSize)
	}
	if name == "" {
		name = fmt.Sprintf("host%d", in.hostRegions)
	}
	slot := slotHost + uint64(in.hostRegions)
	in.setRegion(slot, name, buf, perm)
	in.hostRegions++
	return slot << 28, nil
}

// SetRegion replaces the buffer and permissions of a region AddRegion made,
// keeping its address (for a host buffer that changes between runs).
func (in *Instance) SetRegion(addr uint64, buf []byte, perm Perm) error {
	slot := addr >> 28
	if addr&(RegionSpan-1) != 0 || slot < slotHost || slot >= slotHost+uint64(in.hostRegions) {
		return fmt.Errorf("vm: no host region at %#x", addr)
	}
	if len(buf) > MaxRegionSize {
		return fmt.Errorf("vm: region at %#x: %d bytes, at most %d allowed", addr, len(buf), MaxRegionSize)
	}
	in.setRegion(slot, in.info[slot].name, buf, perm)
	return nil
}

// Reset puts the data region back to the program's initial bytes. Data
// otherwise persists from one Run to the next, like a container's globals.
func (in *Instance) Reset() {
	copy(in.data, in.prog.data)
}

// Data is the instance's data region (initial .data plus .bss), live.
func (in *Instance) Data() []byte { return in.data }

// Run executes the program from entryPC until it exits. r1 holds the address
// of ctx (0 when ctx is empty) and r2 its length; r10 is the top of a zeroed
// 512-byte frame; the other registers are 0. A local call gets the next frame
// up, so a function can reach its own frame and its callers' but not those of
// functions that returned. The returned Stats are filled
// also when the run fails.
func (in *Instance) Run(entryPC int, ctx []byte) (Result, error) {
	if !in.prog.IsEntry(entryPC) {
		return Result{}, errAt(ErrIllegalJump, entryPC, "entry %d is not the start of an instruction", entryPC)
	}
	var r1 uint64
	if len(ctx) > 0 {
		if len(ctx) > MaxRegionSize {
			return Result{}, errAt(ErrIllegalLength, -1, "context of %d bytes, at most %d allowed", len(ctx), MaxRegionSize)
		}
		in.setRegion(slotContext, "context", ctx, in.ctxPerm)
		r1 = ContextBase
	}
	clear(in.stack[:min(in.dirtyFrames*StackFrameSize, len(in.stack))])
	in.dirtyFrames = 1
	in.stats = Stats{}
	in.localCalls = 0
	r0, err := in.run(entryPC, r1, uint64(len(ctx)))
	in.mem[slotContext], in.info[slotContext] = region{}, regionInfo{}
	st := in.stats
	st.TakenBranches -= in.localCalls
	st.Instructions = st.ALU + st.LoadStore + st.Branch + st.Divide + st.Call
	return Result{R0: r0, Stats: st}, err
}

// addLanes moves packed class counts into the run's stats.
func (in *Instance) addLanes(acc uint64) {
	in.stats.ALU += acc >> laneALU & laneMask
	in.stats.LoadStore += acc >> laneLS & laneMask
	in.stats.Branch += acc >> laneBR & laneMask
}

// checkpoint runs every so many taken branches and local calls (see run): it
// folds the packed counts into the stats, enforces both budgets, and returns
// the taken-branch count at which to come back. pc is the branch or call
// about to go to target.
func (in *Instance) checkpoint(acc, taken uint64, pc, target int) (uint64, error) {
	in.addLanes(acc)
	in.stats.TakenBranches = taken
	branches := taken - in.localCalls
	if branches > in.branchBudget {
		return 0, errAt(ErrOutOfBranches, pc, "%d taken branches allowed", in.branchBudget)
	}
	done := in.stats.ALU + in.stats.LoadStore + in.stats.Branch + in.stats.Divide + in.stats.Call
	next := uint64(in.prog.stretch[target])
	if done+next > in.instrBudget || done+next < done {
		return 0, errAt(ErrOutOfBudget, pc, "%d instructions allowed, %d executed", in.instrBudget, done)
	}
	// Come back before the packed lanes could carry and before either
	// budget can be exceeded by more than one stretch.
	k := uint64(laneLimit) / in.stretchBound
	if rem := (in.instrBudget - done) / in.stretchBound; rem < k {
		k = rem
	}
	if rem := in.branchBudget - branches + 1; rem < k {
		k = rem
	}
	return taken + max(k, 1), nil
}

// finish accounts for a run that stopped at pc: acc counted the whole
// stretch pc is in, so the part after pc is taken back out.
func (in *Instance) finish(acc, taken uint64, pc int) {
	if pc >= 0 && pc < len(in.prog.text) && !endsStretch(in.prog.text[pc]) {
		acc -= in.prog.vec[pc+1]
	}
	in.addLanes(acc)
	in.stats.TakenBranches = taken
}
