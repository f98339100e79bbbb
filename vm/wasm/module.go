package wasm

import (
	"context"
	"fmt"
	"strings"

	wbinary "github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"
	"github.com/tetratelabs/wazero"
)

// Budgets and limits.
const (
	DefaultInstructionBudget = 1 << 24 // as the eBPF VM
	DefaultBranchBudget      = 1 << 20 // as the eBPF VM
	// The budgets count down in 32-bit halves of the meter's counters.
	MaxInstructionBudget = 1<<31 - 1
	MaxBranchBudget      = 1<<31 - 1
	DefaultMaxPages      = 1 // one 64 KiB page, as upstream's containers
	DefaultMaxCallDepth  = 64
	MaxCallDepthLimit    = 1024 // below wazero's interpreter frame limit
	PageSize             = 65536
	maxPages             = 65536 // 4 GiB, all a 32-bit address reaches
)

// Config says how a module is compiled.
type Config struct {
	MaxPages     uint32 // pages the slot allows; 0 means DefaultMaxPages
	Engine       Engine
	MaxCallDepth int // nested calls allowed, the entry included; 0 means DefaultMaxCallDepth
}

// Module is a metered, compiled module, ready to be instantiated any number
// of times. It is safe for concurrent use.
type Module struct {
	engine   Engine
	compiled wazero.CompiledModule
	rt       wazero.Runtime
	sites    []site
	segments [][]segment
	names    map[uint32]string
	imports  []Native
	exports  []Export
	memMin   uint32
	memMax   uint32 // after clamping to MaxPages
	hasMem   bool
	canGrow  bool
	ram      int
	heapBase int64 // -1 when the module does not export __heap_base
	dataEnd  int64 // -1 when the module does not export __data_end
	dataSpan int   // end of the highest data segment
	hasStart bool
	cases    map[string]int // export -> case of the meter's dispatcher
	size     int
}

// Export is one exported function.
type Export struct {
	Name    string
	Index   uint32
	Params  []ValType
	Results []ValType
}

func (e Export) String() string { return e.Name + signature(e.Params, e.Results) }

// Compile decodes, checks, meters and compiles a module. Every error is a
// *CompileError.
func Compile(code []byte, cfg Config) (*Module, error) {
	if cfg.MaxPages == 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.MaxPages > maxPages {
		return nil, compileErr(ErrTooManyPages, -1, "a slot of %d pages: wasm32 has at most %d", cfg.MaxPages, maxPages)
	}
	if cfg.MaxCallDepth <= 0 {
		cfg.MaxCallDepth = DefaultMaxCallDepth
	}
	if cfg.MaxCallDepth > MaxCallDepthLimit {
		return nil, compileErr(ErrUnsupported, -1, "call depth %d above %d", cfg.MaxCallDepth, MaxCallDepthLimit)
	}
	eng := cfg.Engine.Resolve()
	rt, err := runtimeFor(eng)
	if err != nil {
		return nil, &CompileError{Kind: ErrUnsupported, Feature: "engine " + eng.String(), Offset: -1, Err: err}
	}
	lay, err := scanLayout(code)
	if err != nil {
		return nil, err
	}
	mod, err := decode(lay.stripped)
	if err != nil {
		return nil, err
	}
	m := &Module{engine: eng, rt: rt, names: lay.names, heapBase: -1, dataEnd: -1, size: len(code)}
	if err := m.check(mod, cfg); err != nil {
		return nil, err
	}
	mt := &meter{mod: mod, lay: lay, maxDepth: cfg.MaxCallDepth}
	if err := mt.rewrite(); err != nil {
		return nil, err
	}
	m.sites, m.segments, m.canGrow, m.hasStart, m.cases = mt.sites, mt.segments, mt.growOps > 0, mt.hasStart, mt.cases
	m.ram = m.charge()
	bin := wbinary.EncodeModule(mod)
	m.compiled, err = rt.CompileModule(context.Background(), bin)
	if err != nil {
		return nil, &CompileError{Kind: ErrMalformed, Offset: -1, Detail: "does not validate", Err: fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "invalid "))}
	}
	return m, nil
}

// decode runs wabin's decoder on a binary the scanner has bounded.
func decode(b []byte) (mod *wasm.Module, err error) {
	defer func() {
		if r := recover(); r != nil {
			mod, err = nil, compileErr(ErrMalformed, -1, "decoder: %v", r)
		}
	}()
	mod, err = wbinary.DecodeModule(b, wasm.CoreFeaturesV2)
	if err != nil {
		return nil, &CompileError{Kind: ErrMalformed, Offset: -1, Err: err}
	}
	return mod, nil
}

// check refuses what no host here provides and learns the memory layout.
func (m *Module) check(mod *wasm.Module, cfg Config) error {
	funcType := func(ti uint32) (*wasm.FunctionType, error) {
		if int(ti) >= len(mod.TypeSection) {
			return nil, compileErr(ErrMalformed, -1, "type index %d of %d", ti, len(mod.TypeSection))
		}
		return mod.TypeSection[ti], nil
	}
	for _, imp := range mod.ImportSection {
		name := imp.Module + "." + imp.Name
		ft, err := funcType(imp.DescFunc)
		if err != nil {
			return err
		}
		params, results := valTypes(ft.Params), valTypes(ft.Results)
		if imp.Module != "env" {
			return &CompileError{Kind: ErrImport, Name: name, Offset: -1, Detail: "natives come from module \"env\""}
		}
		i := nativeIndex(imp.Name)
		if i < 0 {
			return &CompileError{Kind: ErrImport, Name: name, Offset: -1, Detail: "not a native (natives: " + nativeNames() + ")"}
		}
		n := Natives[i]
		if !sameTypes(params, n.Params) || !sameTypes(results, n.Results) {
			return &CompileError{Kind: ErrImport, Name: name, Offset: -1, Detail: fmt.Sprintf("imported as %s, the native is %s", signature(params, results), n.Signature())}
		}
		m.imports = append(m.imports, n)
	}
	nimp := uint32(len(m.imports))
	for _, e := range mod.ExportSection {
		if strings.HasPrefix(e.Name, meterExportPrefix) {
			return &CompileError{Kind: ErrUnsupported, Feature: "reserved export name", Name: e.Name, Offset: -1}
		}
		switch e.Type {
		case wasm.ExternTypeFunc:
			var ti uint32
			switch {
			case e.Index < nimp:
				ti = mod.ImportSection[e.Index].DescFunc
			case int(e.Index-nimp) < len(mod.FunctionSection):
				ti = mod.FunctionSection[e.Index-nimp]
			default:
				return compileErr(ErrMalformed, -1, "export %q of function %d", e.Name, e.Index)
			}
			ft, err := funcType(ti)
			if err != nil {
				return err
			}
			m.exports = append(m.exports, Export{e.Name, e.Index, valTypes(ft.Params), valTypes(ft.Results)})
		case wasm.ExternTypeGlobal:
			if v, ok := constGlobal(mod, e.Index); ok {
				switch e.Name {
				case "__heap_base":
					m.heapBase = v
				case "__data_end":
					m.dataEnd = v
				}
			}
		}
	}
	if mem := mod.MemorySection; mem != nil {
		m.hasMem = true
		if mem.Min > cfg.MaxPages {
			return &CompileError{Kind: ErrTooManyPages, Offset: -1, Detail: fmt.Sprintf("the memory starts at %d pages (%d KiB), the slot allows %d", mem.Min, mem.Min*64, cfg.MaxPages)}
		}
		if !mem.IsMaxEncoded || mem.Max > cfg.MaxPages {
			mem.Max, mem.IsMaxEncoded = cfg.MaxPages, true
		}
		m.memMin, m.memMax = mem.Min, mem.Max
	}
	for _, d := range mod.DataSection {
		if d.OffsetExpression.Opcode == wasm.OpcodeI32Const {
			if v, _, err := sleb(d.OffsetExpression.Data, 0, 32); err == nil {
				m.dataSpan = max(m.dataSpan, int(uint32(v))+len(d.Init))
			}
		}
	}
	return nil
}

// constGlobal is the value of an immutable i32 global with a constant
// initializer, as lld writes __heap_base and __data_end.
func constGlobal(mod *wasm.Module, idx uint32) (int64, bool) {
	if int(idx) >= len(mod.GlobalSection) {
		return 0, false
	}
	g := mod.GlobalSection[idx]
	if g.Type.ValType != wasm.ValueTypeI32 || g.Init.Opcode != wasm.OpcodeI32Const {
		return 0, false
	}
	v, _, err := sleb(g.Init.Data, 0, 32)
	return int64(uint32(v)), err == nil
}

func valTypes(ts []wasm.ValueType) []ValType {
	out := make([]ValType, len(ts))
	for i, t := range ts {
		out[i] = ValType(t)
	}
	return out
}

func nativeNames() string {
	var s []string
	for _, n := range Natives {
		s = append(s, n.Name)
	}
	return strings.Join(s, ", ")
}

// charge is the RAM the module costs on an MCU, as WAMR counts it: a module
// that never grows its memory and tells where its heap starts (lld's
// __heap_base, above the stack and the data) is given just that much, the
// rest of its pages is never allocated; a module that may grow is charged
// its maximum; any other its initial pages.
func (m *Module) charge() int {
	switch {
	case !m.hasMem:
		return 0
	case m.canGrow:
		return int(m.memMax) * PageSize
	case m.heapBase >= 0:
		used := max(m.heapBase, m.dataEnd, int64(m.dataSpan))
		return int(min((used+7)&^7, int64(m.memMin)*PageSize))
	}
	return int(m.memMin) * PageSize
}

// RAM is the bytes of linear memory charged to the board (see charge).
func (m *Module) RAM() int { return m.ram }

// Engine is the engine the module runs on.
func (m *Module) Engine() Engine { return m.engine }

// Imports lists the natives the module imports, in import order.
func (m *Module) Imports() []Native { return append([]Native(nil), m.imports...) }

// Exports lists the names of the exported functions, in export order.
func (m *Module) Exports() []string {
	out := make([]string, len(m.exports))
	for i, e := range m.exports {
		out[i] = e.Name
	}
	return out
}

// ExportedFunctions lists the exported functions with their signatures.
func (m *Module) ExportedFunctions() []Export { return append([]Export(nil), m.exports...) }

// Export finds an exported function.
func (m *Module) Export(name string) (Export, bool) {
	for _, e := range m.exports {
		if e.Name == name {
			return e, true
		}
	}
	return Export{}, false
}

// MemoryInfo describes the module's linear memory.
type MemoryInfo struct {
	Present  bool
	MinPages uint32
	MaxPages uint32 // after the slot's limit
	CanGrow  bool   // the code contains memory.grow
	HeapBase int64  // __heap_base, -1 when not exported
	DataEnd  int64  // __data_end, -1 when not exported
	DataSpan int    // end of the highest data segment
}

// Memory describes the module's linear memory.
func (m *Module) Memory() MemoryInfo {
	return MemoryInfo{m.hasMem, m.memMin, m.memMax, m.canGrow, m.heapBase, m.dataEnd, m.dataSpan}
}

// HeapBase is where free memory starts: __heap_base when exported, else the
// end of the data segments rounded up to 16.
func (m *Module) HeapBase() uint64 {
	if m.heapBase >= 0 {
		return uint64(m.heapBase)
	}
	return uint64(m.dataSpan+15) &^ 15
}

// Segments counts the metered straight-line segments of all functions.
func (m *Module) Segments() int {
	n := 0
	for _, s := range m.segments {
		n += len(s)
	}
	return n
}

// Size is the length of the original binary.
func (m *Module) Size() int { return m.size }

// FunctionName is the name of a function by index: the name section's, or
// "$index".
func (m *Module) FunctionName(idx uint32) string {
	if n, ok := m.names[idx]; ok {
		return n
	}
	return fmt.Sprintf("$%d", idx)
}

// Close frees the compiled code. Instances must be closed first.
func (m *Module) Close() error { return m.compiled.Close(context.Background()) }
