package device

import (
	"bytes"
	"errors"
	"fmt"
	"maps"

	"tinylab/firewall"
	"tinylab/vm"
	"tinylab/vm/loader"
)

// Runtime is one container runtime of the device's firmware, the seam of
// TinyContainer's runtime abstraction (runtime_impl.h: runtime_create,
// runtime_on_start, runtime_on_loop, runtime_on_stop, runtime_on_finalize).
// The agent talks to containers through it only. runtime_create is split in
// two because provisioning must check the code, and count its RAM, before
// the container has a slot to bind the natives to: Load checks, Create makes
// the running instance.
type Runtime interface {
	// Type is the metadata container type the runtime runs (3 bpf, 4 wasm).
	Type() firewall.RuntimeType
	// Load checks code as the runtime's loader and verifier do before it may
	// take a slot. The error says what is wrong with it.
	Load(code []byte) (Module, error)
}

// Module is code its runtime has checked, ready to make instances of.
type Module interface {
	// Summary says what the code is, for the provisioning reason
	// ("12 instructions").
	Summary() string
	// RAM is the board RAM one instance with this data takes (stack,
	// globals, heap), without the agent's own bookkeeping.
	RAM(data []byte) int
	// Create is runtime_create: an instance with the container's data part,
	// whose every helper or imported native goes to natives.
	Create(data []byte, natives Natives) (Instance, error)
}

// Instance is one container's running code. Every hook runs under the
// budget the agent gives it and returns r0 and what it executed; the counts
// are filled also when it fails, so the agent charges the time spent. A
// failed hook's error is a *Trap.
type Instance interface {
	// Has reports whether the code has the hook; loop always exists (plain
	// code runs as its loop).
	Has(h Hook) bool
	OnStart(b Budget) (Result, error)
	// OnLoop is one loop() call; r0 != 0 ends the container's lifetime.
	OnLoop(b Budget) (Result, error)
	OnStop(b Budget) (Result, error)
	// Exec is one run of a RAM-slot application with a context
	// (femto-container's /bpf/exec), not a TinyContainer hook.
	Exec(ctx []byte, b Budget) (Result, error)
	// Reset puts the instance's memory back to its initial state, before the
	// container starts (again).
	Reset() error
	// Finalize is runtime_on_finalize: the instance is not used again.
	Finalize()
}

// Hook names a container entry point.
type Hook uint8

// The hooks, in lifecycle order.
const (
	HookStart Hook = iota
	HookLoop
	HookStop
	HookExec
)

var hookNames = [...]string{"start", "loop", "stop", "exec"}

func (h Hook) String() string {
	if int(h) < len(hookNames) {
		return hookNames[h]
	}
	return fmt.Sprintf("hook(%d)", uint8(h))
}

// Budget bounds one hook run: taken branches and executed instructions.
// 0 is the runtime's default, a negative value no limit.
type Budget struct {
	Branches, Instructions int64
}

// Result is what a hook run returned and executed.
type Result struct {
	R0     uint64
	Counts Counts
}

// Counts is what a run executed, by the classes the CPU model prices.
type Counts struct {
	Instructions  uint64
	TakenBranches uint64
	ALU           uint64 // arithmetic, conversions, constants
	LoadStore     uint64 // memory and local/global variable traffic
	Branch        uint64 // jumps, taken or not, and returns
	Divide        uint64
	Call          uint64 // helper, native and local calls
}

// Memory is a container's memory as the natives see it; its runtime checks
// every access against the container's own memory (vm.Memory, and the
// WebAssembly runtime's linear memory, have these methods).
type Memory interface {
	// Read returns n readable bytes at addr.
	Read(addr uint64, n int) ([]byte, error)
	// Write returns n writable bytes at addr, to write into.
	Write(addr uint64, n int) ([]byte, error)
	// ReadString reads a NUL-terminated string of at most max bytes.
	ReadString(addr uint64, max int) (string, error)
}

// Natives is the device's side of a container's calls, by helper number
// (firewall.HelperByID; a runtime that imports natives by name maps them
// with firewall.HelperByName). Every call goes through the firewall. A
// returned error stops the run; a refusal is the value -1, not an error.
type Natives interface {
	Call(id uint32, args *[5]uint64, mem Memory) (uint64, error)
}

// Sentinels a *Trap wraps when a budget stopped the run.
var (
	ErrOutOfInstructions = errors.New("instruction budget used up")
	ErrOutOfBranches     = errors.New("branch budget used up")
)

// Trap is a failed run described without its runtime, for the Fault and
// BudgetExceeded events and the FAILED reason.
type Trap struct {
	Kind     string // stable snake_case name, the Fault event's code
	Phrase   string // the kind in words, for the FAILED reason
	Budget   error  // ErrOutOfInstructions or ErrOutOfBranches when a budget stopped the run
	PC       int    // eBPF: the instruction; -1 when none
	Function string // WebAssembly: the function
	Offset   int    // WebAssembly: the byte offset in the function's body
	Err      error  // the runtime's own error; its text is the event's message
}

func (t *Trap) Error() string { return t.Err.Error() }

// Unwrap gives the budget sentinel and the runtime's error to errors.Is/As.
func (t *Trap) Unwrap() []error {
	if t.Budget != nil {
		return []error{t.Budget, t.Err}
	}
	return []error{t.Err}
}

// where locates a WebAssembly trap for the FAILED reason (" in loop at
// offset 0x4a"); an eBPF fault's reason stays as it was, its pc being in
// the Fault event.
func (t *Trap) where() string {
	s := ""
	if t.Function != "" {
		s = " in " + t.Function
	}
	if t.Function != "" && t.Offset >= 0 {
		s += fmt.Sprintf(" at offset %#x", t.Offset)
	}
	return s
}

// trapOf is the trap behind a hook's error; an error that is not a *Trap
// (a runtime that broke its contract) still becomes a fault.
func trapOf(err error) *Trap {
	var t *Trap
	if errors.As(err, &t) {
		return t
	}
	return &Trap{Kind: "runtime", Phrase: "runtime error", PC: -1, Err: err}
}

// faultEvent is the event a trap that is not a budget becomes.
func faultEvent(uid string, h Hook, t *Trap) Fault {
	return Fault{Container: uid, Hook: h.String(), Code: t.Kind, PC: t.PC, Function: t.Function, Offset: t.Offset, Message: t.Error()}
}

// builtin are the runtimes this firmware has; each adapter file registers
// its own.
var builtin = map[firewall.RuntimeType]Runtime{}

func register(r Runtime) { builtin[r.Type()] = r }

// BuiltinRuntimes lists the runtimes a device has when its Config names
// none, by container type.
func BuiltinRuntimes() map[firewall.RuntimeType]Runtime { return maps.Clone(builtin) }

// ErrCodeType and ErrNoRuntime are the sentinels of the provisioning
// refusals about runtimes.
var (
	ErrCodeType  = errors.New("code does not match the container type")
	ErrNoRuntime = errors.New("no runtime for the container type")
)

// CodeTypeError: the code's bytes are not what the declared type runs.
type CodeTypeError struct {
	Declared firewall.RuntimeType
	Found    firewall.RuntimeType
	Format   string // what the bytes are, e.g. "WebAssembly (\0asm)"
}

func (e *CodeTypeError) Error() string {
	return fmt.Sprintf("code is %s but the metadata declares type %d (%s)", e.Format, uint8(e.Declared), e.Declared)
}

func (e *CodeTypeError) Unwrap() error { return ErrCodeType }

// RuntimeError: the device cannot run the container's type, because its
// firmware has no such runtime or is pinned to another.
type RuntimeError struct {
	Type   firewall.RuntimeType
	Pinned firewall.RuntimeType // TypeUndefined: not pinned
}

func (e *RuntimeError) Error() string {
	if e.Pinned != firewall.TypeUndefined && e.Pinned != e.Type {
		return fmt.Sprintf("type %d (%s) refused: this device is pinned to the %s runtime", uint8(e.Type), e.Type, e.Pinned)
	}
	return fmt.Sprintf("type %d (%s): no %s runtime on this device", uint8(e.Type), e.Type, e.Type)
}

func (e *RuntimeError) Unwrap() error { return ErrNoRuntime }

// wasmMagic opens every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

// codeType tells which runtime's code the bytes are, by their magic: a
// WebAssembly module, else eBPF (an rBPF image, an ELF object or raw
// bytecode, which has no magic), and names the format for errors.
func codeType(code []byte) (firewall.RuntimeType, string) {
	if bytes.HasPrefix(code, wasmMagic) {
		return firewall.TypeWasm, `WebAssembly (\0asm)`
	}
	switch loader.Detect("", code) {
	case vm.FormatRBF:
		return firewall.TypeBPF, "eBPF (rBPF image)"
	case vm.FormatELF:
		return firewall.TypeBPF, "eBPF (ELF object)"
	}
	return firewall.TypeBPF, "eBPF (raw bytecode)"
}

// CodeType is the container type code's bytes are for, as the metadata
// should declare it: 4 (wasm) for a WebAssembly module, else 3 (bpf).
func CodeType(code []byte) firewall.RuntimeType { t, _ := codeType(code); return t }

// runtimeFor is the device's runtime for code of a declared type: the
// bytes must be that type's code, the device not pinned to another type,
// and its firmware must have that runtime.
func (d *Device) runtimeFor(declared firewall.RuntimeType, code []byte) (Runtime, string, error) {
	found, format := codeType(code)
	if found != declared {
		return nil, "code", &CodeTypeError{Declared: declared, Found: found, Format: format}
	}
	pin := d.cfg.PinRuntime
	rt, ok := d.cfg.Runtimes[declared]
	if (pin != firewall.TypeUndefined && pin != declared) || !ok {
		return nil, "runtime", &RuntimeError{Type: declared, Pinned: pin}
	}
	return rt, "", nil
}
