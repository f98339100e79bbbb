package wasm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Host receives every call a module makes to a native, by name; args are
// the raw i32/i64 values. A non-nil error traps the call (ErrNative, naming
// the native). mem is valid during the call only.
type Host interface {
	Call(name string, args []uint64, mem *Memory) (uint64, error)
}

// Stats counts what a call executed, by the same classes as the eBPF VM's
// statistics. Instructions is their sum; block, loop, else and end are
// structure and cost nothing. Branches counts loop iterations (every entry
// into a loop body, the first included): the only way code repeats, so the
// branch budget bounds running time as femto-containers' taken-branch
// budget does.
type Stats struct {
	Instructions uint64
	Branches     uint64
	ALU          uint64 // locals, globals, constants, arithmetic, conversions
	LoadStore    uint64 // loads, stores, memory.size, memory.grow
	Branch       uint64 // if, br, br_if, br_table, return, unreachable
	Divide       uint64 // div, rem, sqrt
	Call         uint64 // call, call_indirect (natives included)
}

// Result is the outcome of a call.
type Result struct {
	R0    uint64 // the first result, 0 when the function returns nothing
	Stats Stats
}

// Instance is one instantiation of a Module: its own memory, globals and
// budgets. It is not safe for concurrent use.
type Instance struct {
	m       *Module
	host    Host
	mod     api.Module
	g       [numMeterGlobals]api.MutableGlobal
	fns     map[string]*boundFunc
	disp    api.Function // the meter's dispatcher
	stack   []uint64
	args    []uint64
	ctx     callCtx
	mem     Memory
	budgetI int64
	budgetB int64
	ref     *moduleRef // the live module, for the cleanup
}

type moduleRef struct{ mod api.Module }

type boundFunc struct {
	fn      api.Function
	params  int
	results int
}

var moduleConfig = wazero.NewModuleConfig().WithName("").WithStartFunctions()

// Instantiate makes a fresh instance. No WASI: the module sees its natives
// and nothing else of the host (no clock, no files, no randomness). A
// start function runs as a call with the default budgets; its trap is the
// error.
func (m *Module) Instantiate(host Host) (*Instance, error) {
	in := &Instance{m: m, host: host, fns: map[string]*boundFunc{}, args: make([]uint64, 0, 3), ref: &moduleRef{}}
	in.ctx = callCtx{Context: experimental.WithMemoryAllocator(context.Background(), pageAllocator{}), in: in}
	in.SetBudgets(0, 0)
	if err := in.instantiate(); err != nil {
		return nil, err
	}
	// wazero's store keeps every module it instantiated: an instance
	// dropped without Close would keep its memory mapped for good.
	runtime.AddCleanup(in, func(r *moduleRef) {
		if r.mod != nil {
			r.mod.Close(context.Background())
		}
	}, in.ref)
	return in, nil
}

func (in *Instance) instantiate() error {
	mod, err := in.m.rt.InstantiateModule(&in.ctx, in.m.compiled, moduleConfig)
	if err != nil {
		if t := in.trapOf(err, nil); t != nil {
			return t
		}
		return &CompileError{Kind: ErrMalformed, Offset: -1, Detail: "cannot instantiate", Err: err}
	}
	in.mod = mod
	in.ref.mod = mod
	for i := range numMeterGlobals {
		g, ok := mod.ExportedGlobal(meterExportPrefix + meterGlobalNames[i]).(api.MutableGlobal)
		if !ok {
			mod.Close(context.Background())
			return compileErr(ErrMalformed, -1, "meter global %s missing", meterGlobalNames[i])
		}
		in.g[i] = g
	}
	// A module without memory gives a typed nil: keep the view empty.
	in.mem.m = nil
	if in.m.hasMem {
		in.mem.m = mod.Memory()
	}
	clear(in.fns)
	in.disp = nil // bound at the first call: it costs a stack
	if len(in.stack) < 1+maxDispatchParams {
		in.stack = make([]uint64, 1+maxDispatchParams)
	}
	if in.m.hasStart {
		if _, err := in.call(startExport, nil); err != nil {
			in.Close()
			return err
		}
	}
	return nil
}

// Module is the module this instance runs.
func (in *Instance) Module() *Module { return in.m }

// SetBudgets sets the loop-iteration and instruction budgets of every
// following call. 0 means the default (DefaultBranchBudget,
// DefaultInstructionBudget), a negative value the maximum.
func (in *Instance) SetBudgets(branches, instructions int64) {
	in.budgetB = budget(branches, DefaultBranchBudget, MaxBranchBudget)
	in.budgetI = budget(instructions, DefaultInstructionBudget, MaxInstructionBudget)
}

func budget(v, def, most int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0 || v > most:
		return most
	}
	return v
}

// Memory is the instance's linear memory, every access bounds-checked.
func (in *Instance) Memory() *Memory { return &in.mem }

func (in *Instance) bind(name string) (*boundFunc, error) {
	if f, ok := in.fns[name]; ok {
		return f, nil
	}
	fn := in.mod.ExportedFunction(name)
	if fn == nil {
		return nil, &CompileError{Kind: ErrNoExport, Name: name, Offset: -1, Detail: "exports: " + strings.Join(in.m.Exports(), ", ")}
	}
	d := fn.Definition()
	f := &boundFunc{fn: fn, params: len(d.ParamTypes()), results: len(d.ResultTypes())}
	if n := max(f.params, f.results); n > len(in.stack) {
		in.stack = make([]uint64, n)
	}
	in.fns[name] = f
	return f, nil
}

// target is the function to call for an export and how many results it
// gives: the dispatcher, or for an export with many parameters its own.
func (in *Instance) target(export string, nargs int) (api.Function, int, error) {
	e, ok := in.m.Export(export)
	if !ok && export == startExport && in.m.hasStart {
		e, ok = Export{Name: export}, true
	}
	if !ok {
		return nil, 0, &CompileError{Kind: ErrNoExport, Name: export, Offset: -1, Detail: "exports: " + strings.Join(in.m.Exports(), ", ")}
	}
	_, dispatched := in.m.cases[export]
	if dispatched && in.disp == nil {
		in.disp = in.mod.ExportedFunction(callExport)
	}
	if dispatched && export == startExport {
		return in.disp, 0, nil
	}
	if nargs != len(e.Params) {
		return nil, 0, &CompileError{Kind: ErrNoExport, Name: export, Offset: -1, Detail: fmt.Sprintf("takes %d arguments, given %d", len(e.Params), nargs)}
	}
	if dispatched {
		return in.disp, len(e.Results), nil
	}
	f, err := in.bind(export)
	if err != nil {
		return nil, 0, err
	}
	return f.fn, f.results, nil
}

// Call runs an exported function once with fresh counters. The Stats are
// this call's, also when it traps; a trap is a *Trap.
func (in *Instance) Call(export string, args ...uint64) (Result, error) {
	if strings.HasPrefix(export, meterExportPrefix) {
		return Result{}, &CompileError{Kind: ErrNoExport, Name: export, Offset: -1, Detail: "the name is the meter's"}
	}
	return in.call(export, args)
}

func (in *Instance) call(export string, args []uint64) (Result, error) {
	if in.mod == nil {
		return Result{}, errors.New("wasm: call on a closed instance")
	}
	fn, results, err := in.target(export, len(args))
	if err != nil {
		return Result{}, err
	}
	g := &in.g
	g[gInstr].Set(uint64(in.budgetI))
	g[gMem].Set(uint64(in.budgetB))
	g[gDivCall].Set(0)
	g[gDepth].Set(0)
	g[gPos].Set(api.EncodeI32(-1))
	g[gWhy].Set(0)
	stack := in.stack
	if fn == in.disp {
		stack[0] = uint64(in.m.cases[export])
		copy(stack[1:], args)
	} else {
		copy(stack, args)
	}
	err = fn.CallWithStack(&in.ctx, stack)
	var res Result
	if err == nil && results > 0 {
		res.R0 = stack[0]
	}
	var t *Trap
	var fix site
	if err != nil {
		if t = in.trapOf(err, &fix); t == nil {
			t = &Trap{Index: -1, Offset: -1, Err: err}
		}
	}
	res.Stats = in.stats(fix, t)
	if t != nil {
		return res, t
	}
	return res, nil
}

// stats reads the counters, less what was charged but did not run.
func (in *Instance) stats(fix site, t *Trap) Stats {
	g := &in.g
	remI, br := split(g[gInstr].Get())
	remB, mem := split(g[gMem].Get())
	dc := g[gDivCall].Get()
	s := Stats{LoadStore: mem, Branch: br, Divide: dc >> 32, Call: dc & 0xffffffff}
	usedI := uint64(in.budgetI - remI)
	usedB := uint64(in.budgetB - remB)
	r := fix.rest
	loop := uint64(0)
	if fix.loop {
		loop = 1
	}
	switch {
	case t != nil && t.Kind == ErrOutOfBranches:
		// The loop check comes before the instruction count: only the
		// divide, call and load/store counts and the iteration were charged.
		s.LoadStore -= r.mem
		s.Divide -= r.div
		s.Call -= r.call
		usedB--
	case t != nil && t.Kind == ErrOutOfBudget:
		usedB -= loop
		fallthrough
	default:
		usedI -= r.total()
		s.LoadStore -= r.mem
		s.Branch -= r.br
		s.Divide -= r.div
		s.Call -= r.call
	}
	s.Instructions, s.Branches = usedI, usedB
	s.ALU = usedI - s.LoadStore - s.Branch - s.Divide - s.Call
	return s
}

// wazero's runtime error messages, by kind.
var runtimeKinds = map[string]Kind{
	"out of bounds memory access":   ErrOutOfBounds,
	"integer divide by zero":        ErrDivideByZero,
	"integer overflow":              ErrIntegerOverflow,
	"invalid conversion to integer": ErrInvalidConversion,
	"unreachable":                   ErrUnreachable,
	"stack overflow":                ErrStackExhausted,
	"invalid table access":          ErrIndirectCall,
	"indirect call type mismatch":   ErrIndirectCall,
}

// trapOf turns an error from wazero into a Trap, or nil when it is none.
// fix, when not nil, receives the site the trap happened at, so that stats
// can take back what was charged ahead.
func (in *Instance) trapOf(err error, fix *site) *Trap {
	t := &Trap{Index: -1, Offset: -1}
	var ne *nativeError
	why := 0
	if in.mod != nil {
		why = int(api.DecodeI32(in.g[gWhy].Get()) & 3)
	}
	switch {
	case errors.As(err, &ne):
		t.Kind, t.Native, t.Err = ErrNative, ne.name, ne.err
	case why == whyBudget:
		t.Kind = ErrOutOfBudget
	case why == whyBranches:
		t.Kind = ErrOutOfBranches
	case why == whyDepth:
		t.Kind = ErrStackExhausted
	default:
		for e := err; e != nil; e = errors.Unwrap(e) {
			if k, ok := runtimeKinds[e.Error()]; ok {
				t.Kind = k
				break
			}
		}
		if t.Kind == 0 {
			return nil
		}
		t.Err = err
	}
	if s, ok := in.siteFor(t.Kind); ok {
		t.Index, t.Offset = int(s.fn), s.off
		t.Function = in.m.FunctionName(s.fn)
		if fix != nil {
			*fix = s
		}
	} else if idx, ok := traceFunction(err); ok {
		t.Index, t.Function = int(idx), in.m.FunctionName(idx)
	}
	return t
}

// siteFor is the site in the position global when it is one that can raise
// a trap of kind k (a stale position is not blamed).
func (in *Instance) siteFor(k Kind) (site, bool) {
	if in.mod == nil {
		return site{}, false
	}
	p := api.DecodeI32(in.g[gPos].Get())
	why := api.DecodeI32(in.g[gWhy].Get())
	if why != 0 {
		// A meter check failed: the site came with it.
		p = why >> 2
	}
	if p < 0 || int(p) >= len(in.m.sites) {
		return site{}, false
	}
	s := in.m.sites[p]
	switch k {
	case ErrOutOfBudget, ErrOutOfBranches:
		return s, why != 0 && s.kind == siteSegment
	case ErrNative:
		return s, s.kind == siteInstr && (s.op == opCall || s.op == opCallIndirect)
	}
	if k == ErrStackExhausted {
		return s, why&3 == whyDepth && s.kind == siteEntry
	}
	k1, k2 := trapKinds(s.op)
	return s, s.kind == siteInstr && (k == k1 || k == k2)
}

// traceFunction reads the function index from the first frame of wazero's
// stack trace (".$N(...)": the module is anonymous and has no names).
func traceFunction(err error) (uint32, bool) {
	msg := err.Error()
	i := strings.Index(msg, "wasm stack trace:\n\t")
	if i < 0 {
		return 0, false
	}
	frame := msg[i+len("wasm stack trace:\n\t"):]
	if j := strings.IndexAny(frame, "(\n"); j >= 0 {
		frame = frame[:j]
	}
	if !strings.HasPrefix(frame, ".$") {
		return 0, false
	}
	n, err := strconv.ParseUint(frame[2:], 10, 32)
	return uint32(n), err == nil
}

// Reset gives the instance fresh globals and memory, as at instantiation.
func (in *Instance) Reset() error {
	in.Close()
	return in.instantiate()
}

// Close frees the instance. It may be called more than once.
func (in *Instance) Close() error {
	if in.mod == nil {
		return nil
	}
	err := in.mod.Close(context.Background())
	in.mod, in.ref.mod = nil, nil
	in.mem.m = nil
	return err
}

// Memory is a bounds-checked view of an instance's linear memory: what
// natives get. The slices it gives alias linear memory: they are valid
// until the module runs again and must not be kept past Close or Reset,
// which unmap it.
type Memory struct{ m api.Memory }

// MemoryError is an access outside linear memory.
type MemoryError struct {
	Addr  uint64
	Size  int
	Limit uint64 // bytes of linear memory
	Write bool
}

func (e *MemoryError) Error() string {
	op := "read"
	if e.Write {
		op = "write"
	}
	return fmt.Sprintf("%s of %d bytes at %#x outside linear memory (%d bytes)", op, e.Size, e.Addr, e.Limit)
}

// Unwrap makes a MemoryError an ErrOutOfBounds.
func (e *MemoryError) Unwrap() error { return ErrOutOfBounds }

// Size is the current length of linear memory in bytes.
func (m *Memory) Size() uint64 {
	if m == nil || m.m == nil {
		return 0
	}
	return uint64(m.m.Size())
}

func (m *Memory) view(addr uint64, n int, write bool) ([]byte, error) {
	size := m.Size()
	if n < 0 || addr > size || uint64(n) > size-addr {
		return nil, &MemoryError{Addr: addr, Size: n, Limit: size, Write: write}
	}
	b, _ := m.m.Read(uint32(addr), uint32(n))
	return b, nil
}

// Read gives the n bytes at addr.
func (m *Memory) Read(addr uint64, n int) ([]byte, error) { return m.view(addr, n, false) }

// Write gives the n bytes at addr for the caller to fill.
func (m *Memory) Write(addr uint64, n int) ([]byte, error) { return m.view(addr, n, true) }

// ReadString reads a NUL-terminated string at addr of at most max bytes
// (without the NUL; a longer one is cut at max). Running off the end of
// memory before a NUL is an error.
func (m *Memory) ReadString(addr uint64, max int) (string, error) {
	size := m.Size()
	if addr >= size || max < 0 {
		return "", &MemoryError{Addr: addr, Size: 1, Limit: size}
	}
	n := uint64(max)
	if n > size-addr {
		n = size - addr
	}
	b, _ := m.m.Read(uint32(addr), uint32(n))
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	if int(n) < max {
		return "", &MemoryError{Addr: addr, Size: int(n) + 1, Limit: size}
	}
	return string(b), nil
}
