package device

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"tinylab/firewall"
	"tinylab/vm/wasm"
)

// WASM is the WebAssembly runtime (package vm/wasm, wazero with load-time
// metering) on the engine wazero has for this machine.
var WASM = NewWASM(wasm.Auto)

func init() { register(WASM) }

// NewWASM is the WebAssembly runtime on one engine. Counts, traps and so
// transcripts are the same on every engine; tests and the CLI force one to
// show it.
func NewWASM(e wasm.Engine) Runtime {
	return &wasmRuntime{cfg: wasm.Config{Engine: e}, cache: map[[32]byte]*wasmCompiled{}}
}

// RuntimesWithEngine is BuiltinRuntimes with the WebAssembly runtime on the
// given engine, for Config.Runtimes.
func RuntimesWithEngine(e wasm.Engine) map[firewall.RuntimeType]Runtime {
	rts := BuiltinRuntimes()
	rts[firewall.TypeWasm] = NewWASM(e)
	return rts
}

// ErrUnknownNative: the module imports a native the firewall has no helper
// for, so no grant could ever allow it.
var ErrUnknownNative = errors.New("import is not a native of this device")

// wasmRuntime compiles each distinct code once: a lab of many boards
// running the same container shares the compiled module, as it shares the
// bytes. Entries no instance uses are dropped when the cache is full.
type wasmRuntime struct {
	cfg   wasm.Config
	mu    sync.Mutex
	cache map[[32]byte]*wasmCompiled
}

// wasmCacheSize bounds the compiled modules kept without instances.
const wasmCacheSize = 64

type wasmCompiled struct {
	mod  *wasm.Module
	live int // instances made from it and not finalized
}

func (r *wasmRuntime) Type() firewall.RuntimeType { return firewall.TypeWasm }

func (r *wasmRuntime) Load(code []byte) (Module, error) {
	key := sha256.Sum256(code)
	mod, err := r.compiled(key, code, false)
	if err != nil {
		return nil, err
	}
	m := &wasmProgram{rt: r, key: key, code: code, ram: mod.RAM(), heapBase: mod.HeapBase(), size: mod.Size(),
		ids: map[string]uint32{}, hooks: map[string]int{}}
	for _, n := range mod.Imports() {
		h, ok := firewall.HelperByName(n.Name)
		if !ok {
			return nil, fmt.Errorf("env.%s: %w", n.Name, ErrUnknownNative)
		}
		m.ids[n.Name] = h.ID
	}
	for _, name := range []string{"start", "loop", "stop", "entry"} {
		e, ok := mod.Export(name)
		if !ok {
			continue
		}
		if len(e.Params) > 1 || len(e.Params) == 1 && e.Params[0] != wasm.I32 {
			return nil, fmt.Errorf("export %s: a hook takes nothing or one i32 (the data's address)", e)
		}
		m.hooks[name] = len(e.Params)
	}
	if _, ok := m.hooks["loop"]; !ok {
		if _, ok := m.hooks["entry"]; !ok {
			return nil, fmt.Errorf("exports %v: a container exports loop (or entry)", mod.Exports())
		}
	}
	return m, nil
}

// compiled gives the compiled module for code, compiling it when it is not
// cached; use counts an instance.
func (r *wasmRuntime) compiled(key [32]byte, code []byte, use bool) (*wasm.Module, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.cache[key]
	if !ok {
		mod, err := wasm.Compile(code, r.cfg)
		if err != nil {
			return nil, err
		}
		if len(r.cache) >= wasmCacheSize {
			for k, old := range r.cache {
				if old.live == 0 {
					old.mod.Close()
					delete(r.cache, k)
				}
			}
		}
		c = &wasmCompiled{mod: mod}
		r.cache[key] = c
	}
	if use {
		c.live++
	}
	return c.mod, nil
}

func (r *wasmRuntime) release(key [32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[key]; ok && c.live > 0 {
		c.live--
	}
}

type wasmProgram struct {
	rt       *wasmRuntime
	key      [32]byte
	code     []byte
	ram      int
	heapBase uint64
	size     int
	ids      map[string]uint32 // helper number by imported name
	hooks    map[string]int    // exported hook -> its parameter count
}

func (m *wasmProgram) Summary() string {
	n := "natives"
	if len(m.ids) == 1 {
		n = "native"
	}
	return fmt.Sprintf("WebAssembly %d bytes, %d %s", m.size, len(m.ids), n)
}

// RAM is what WAMR allocates on the MCU for a module that cannot grow:
// linear memory up to __heap_base (data and the 128-byte stack), plus the
// container's data, which the hooks find at __heap_base.
func (m *wasmProgram) RAM(data []byte) int { return m.ram + (len(data)+7)&^7 }

func (m *wasmProgram) Create(data []byte, natives Natives) (Instance, error) {
	mod, err := m.rt.compiled(m.key, m.code, true)
	if err != nil {
		return nil, err
	}
	in := &wasmInstance{m: m, data: data, host: wasmHost{ids: m.ids, n: natives}}
	if in.in, err = mod.Instantiate(&in.host); err != nil {
		m.rt.release(m.key)
		return nil, wasmTrap(err)
	}
	return in, nil
}

// wasmHost hands each native a module calls to the device's natives by its
// helper number, so grants, endpoint and pointer checks and denial events
// are the eBPF ones.
type wasmHost struct {
	ids  map[string]uint32
	n    Natives
	args [5]uint64
}

func (h *wasmHost) Call(name string, args []uint64, mem *wasm.Memory) (uint64, error) {
	id, ok := h.ids[name]
	if !ok {
		return 0, fmt.Errorf("env.%s: %w", name, ErrUnknownNative)
	}
	h.args = [5]uint64{}
	copy(h.args[:], args)
	return h.n.Call(id, &h.args, mem)
}

type wasmInstance struct {
	m    *wasmProgram
	in   *wasm.Instance
	host wasmHost
	data []byte
}

func (in *wasmInstance) Has(h Hook) bool {
	_, ok := in.m.hooks[h.String()]
	return ok || h == HookLoop
}

func (in *wasmInstance) OnStart(b Budget) (Result, error) { return in.run("start", in.data, b) }

// OnLoop calls loop, or entry for a module written as a RAM-slot
// application.
func (in *wasmInstance) OnLoop(b Budget) (Result, error) {
	if _, ok := in.m.hooks["loop"]; ok {
		return in.run("loop", in.data, b)
	}
	return in.run("entry", in.data, b)
}

func (in *wasmInstance) OnStop(b Budget) (Result, error) { return in.run("stop", in.data, b) }

// Exec calls entry, else start, as tinylab wasm run does.
func (in *wasmInstance) Exec(ctx []byte, b Budget) (Result, error) {
	if _, ok := in.m.hooks["entry"]; ok {
		return in.run("entry", ctx, b)
	}
	return in.run("start", ctx, b)
}

func (in *wasmInstance) Reset() error {
	if in.in == nil {
		return errors.New("wasm: instance finalized")
	}
	if err := in.in.Reset(); err != nil {
		return wasmTrap(err)
	}
	return nil
}

func (in *wasmInstance) Finalize() {
	if in.in == nil {
		return
	}
	in.in.Close()
	in.in = nil
	in.m.rt.release(in.m.key)
}

// run calls one export; one that takes an i32 gets ctx written at
// __heap_base and its address.
func (in *wasmInstance) run(export string, ctx []byte, b Budget) (Result, error) {
	if in.in == nil {
		return Result{}, &Trap{Kind: "runtime", Phrase: "runtime error", PC: -1, Err: errors.New("wasm: instance finalized")}
	}
	in.in.SetBudgets(b.Branches, b.Instructions)
	var args []uint64
	if in.m.hooks[export] == 1 {
		at := in.m.heapBase
		if len(ctx) > 0 {
			dst, err := in.in.Memory().Write(at, len(ctx))
			if err != nil {
				return Result{}, wasmTrap(&wasm.Trap{Kind: wasm.ErrOutOfBounds, Function: export, Index: -1, Offset: -1, Err: err})
			}
			copy(dst, ctx)
		}
		args = []uint64{at}
	}
	res, err := in.in.Call(export, args...)
	st := res.Stats
	r := Result{R0: res.R0, Counts: Counts{
		Instructions: st.Instructions, TakenBranches: st.Branches,
		ALU: st.ALU, LoadStore: st.LoadStore, Branch: st.Branch, Divide: st.Divide, Call: st.Call,
	}}
	if err != nil {
		return r, wasmTrap(err)
	}
	return r, nil
}

// wasmTrap describes a runtime error for the agent, with the function and
// the offset where it trapped.
func wasmTrap(err error) *Trap {
	t := &Trap{Kind: "runtime", Phrase: "runtime error", PC: -1, Offset: -1, Err: err}
	if k, ok := wasm.KindOf(err); ok {
		t.Kind, t.Phrase = k.String(), k.Error()
		switch k {
		case wasm.ErrOutOfBudget:
			t.Budget = ErrOutOfInstructions
		case wasm.ErrOutOfBranches:
			t.Budget = ErrOutOfBranches
		}
	}
	var wt *wasm.Trap
	if errors.As(err, &wt) {
		t.Function, t.Offset = wt.Function, wt.Offset
	}
	return t
}
