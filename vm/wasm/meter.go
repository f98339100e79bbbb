package wasm

import (
	"fmt"

	"github.com/tetratelabs/wabin/wasm"
)

// cost is the static cost of straight-line code, by class.
type cost struct{ alu, mem, br, div, call uint64 }

func (c cost) total() uint64 { return c.alu + c.mem + c.br + c.div + c.call }

func (c *cost) add(k class) {
	switch k {
	case clsALU:
		c.alu++
	case clsMem:
		c.mem++
	case clsBranch:
		c.br++
	case clsDiv:
		c.div++
	case clsCall:
		c.call++
	}
}

// siteKind says what a site is.
type siteKind uint8

const (
	siteInstr   siteKind = iota + 1 // an instruction that can trap (or a call to a native)
	siteSegment                     // the start of a segment, where budgets are checked
	siteEntry                       // a function's entry, where the call depth is checked
)

// site is a place the meter records in the position global before control
// can trap there, so a trap names its function and offset on every engine.
type site struct {
	kind siteKind
	fn   uint32 // function index, imports first
	off  int    // offset in the original binary
	op   uint32 // siteInstr: the opcode
	rest cost   // charged to the counters but not executed if the trap happens here
	loop bool   // siteSegment: the segment starts a loop iteration
}

// segment is one straight-line stretch of a function, for tests and inspect.
type segment struct {
	off  int // offset of its first instruction in the binary
	cost cost
	loop bool
}

// The meter's globals, appended after the module's own, and exported under
// these names so the host can set budgets and read counters. Two counters
// share each i64: a budget counting down in the low 32 bits (signed: below
// zero traps) and a class count in the high 32 bits, so that most segments
// pay for one read-modify-write instead of two. A borrow from the low half
// is undone when reading (see split).
const (
	gInstr   = iota // i64: branch-class count << 32 + instructions left
	gMem            // i64: load/store count << 32 + loop iterations left
	gDivCall        // i64: divide count << 32 | call count
	gDepth          // i32: current call depth
	gPos            // i32: index of the last site reached
	gWhy            // i32: site << 2 | why the meter trapped (whyBudget...), 0 if it did not
	numMeterGlobals
)

// split reads a shared counter: the signed low half and the high half.
func split(v uint64) (low int64, high uint64) {
	low = int64(int32(uint32(v)))
	return low, (v - uint64(low)) >> 32
}

const meterExportPrefix = "tinylab:meter:"

// startExport is the name the module's start function is exported under.
const startExport = meterExportPrefix + "start"

// callExport is the dispatcher every call goes through (see dispatcher).
const callExport = meterExportPrefix + "call"

// MaxSegments bounds the straight-line segments of a module: wazero's
// compiler takes time superlinear in the branches of a function, and a
// container's code has a few hundred (tens of thousands would stall a
// board for seconds at provisioning).
const MaxSegments = 4096

// maxDispatchParams is the most parameters an export may take to be called
// through the dispatcher; one with more gets a wazero function of its own.
const maxDispatchParams = 4

var meterGlobalNames = [numMeterGlobals]string{"instr", "mem", "divcall", "depth", "pos", "why"}

// Reasons in the why global.
const (
	whyBudget   = 1
	whyBranches = 2
	whyDepth    = 3
)

// meter is the state of rewriting one module.
type meter struct {
	mod        *wasm.Module
	lay        *layout
	imports    uint32 // imported functions
	g0         uint32 // index of the first meter global
	maxDepth   int
	sites      []site
	segments   [][]segment    // per defined function
	growOps    int            // memory.grow instructions found
	hasStart   bool           // the module had a start function (now exported as startExport)
	cases      map[string]int // export name -> its case in the dispatcher
	nsegs      int            // segments so far, against MaxSegments
	localFuncs []uint32       // type index of each function, imports first
}

// rewrite meters every function body of the module in place.
func (mt *meter) rewrite() error {
	m := mt.mod
	for _, imp := range m.ImportSection {
		if imp.Type == wasm.ExternTypeFunc {
			mt.localFuncs = append(mt.localFuncs, imp.DescFunc)
			mt.imports++
		}
	}
	mt.localFuncs = append(mt.localFuncs, m.FunctionSection...)
	mt.g0 = uint32(len(m.GlobalSection))
	for i, code := range m.CodeSection {
		fn := mt.imports + uint32(i)
		ti := mt.localFuncs[fn]
		if int(ti) >= len(m.TypeSection) {
			return compileErr(ErrMalformed, mt.lay.bodies[i], "function %d has type %d of %d", fn, ti, len(m.TypeSection))
		}
		body, segs, err := mt.function(fn, m.TypeSection[ti], code, mt.lay.bodies[i])
		if err != nil {
			return err
		}
		if mt.nsegs += len(segs); mt.nsegs > MaxSegments {
			return &CompileError{Kind: ErrUnsupported, Feature: "size", Offset: mt.lay.bodies[i],
				Detail: fmt.Sprintf("more than %d straight-line segments (wazero's compiler would take seconds)", MaxSegments)}
		}
		code.Body = body
		code.LocalTypes = append(code.LocalTypes, wasm.ValueTypeI64)
		mt.segments = append(mt.segments, segs)
	}
	if m.StartSection != nil {
		// The host runs the start function itself, as an ordinary metered
		// call, so that its traps are reported as any other.
		m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeFunc, Name: startExport, Index: *m.StartSection})
		m.StartSection = nil
		mt.hasStart = true
	}
	mt.dispatcher()
	for i := range numMeterGlobals {
		t := &wasm.GlobalType{ValType: wasm.ValueTypeI64, Mutable: true}
		init := &wasm.ConstantExpression{Opcode: wasm.OpcodeI64Const, Data: appendSLEB(nil, 0)}
		if i >= gDepth {
			t.ValType = wasm.ValueTypeI32
			init = &wasm.ConstantExpression{Opcode: wasm.OpcodeI32Const, Data: appendSLEB(nil, 0)}
		}
		m.GlobalSection = append(m.GlobalSection, &wasm.Global{Type: t, Init: init})
		m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeGlobal, Name: meterExportPrefix + meterGlobalNames[i], Index: mt.g0 + uint32(i)})
	}
	return nil
}

// dispatcher adds one exported function, call(case i32, a0..a3 i64) i64,
// that calls the export numbered case with its arguments converted from
// i64 and gives its result as i64. wazero gives every exported function it
// hands out its own 10 KiB stack on the compiler engine; going through one
// keeps an instance with start, loop and stop at one stack.
func (mt *meter) dispatcher() {
	m := mt.mod
	mt.cases = map[string]int{}
	var calls [][]byte
	for _, e := range m.ExportSection {
		if e.Type != wasm.ExternTypeFunc || int(e.Index) >= len(mt.localFuncs) {
			continue
		}
		ft := m.TypeSection[mt.localFuncs[e.Index]]
		if len(ft.Params) > maxDispatchParams || len(ft.Results) > 1 {
			continue
		}
		var c []byte
		for j, p := range ft.Params {
			c = append(c, opLocalGet, byte(1+j))
			switch ValType(p) {
			case I32:
				c = append(c, opI32WrapI64)
			case F32:
				c = append(c, opI32WrapI64, 0xbe) // f32.reinterpret_i32
			case F64:
				c = append(c, 0xbf) // f64.reinterpret_i64
			}
		}
		c = append(c, opCall)
		c = appendULEB(c, uint64(e.Index))
		if len(ft.Results) == 0 {
			c = append(c, opI64Const, 0)
		} else {
			switch ValType(ft.Results[0]) {
			case I32:
				c = append(c, 0xad) // i64.extend_i32_u
			case F32:
				c = append(c, 0xbc, 0xad) // i32.reinterpret_f32, i64.extend_i32_u
			case F64:
				c = append(c, 0xbd) // i64.reinterpret_f64
			}
		}
		mt.cases[e.Name] = len(calls)
		calls = append(calls, append(c, opReturn))
	}
	n := len(calls)
	var body []byte
	for range n + 1 {
		body = append(body, opBlock, 0x40)
	}
	body = append(body, opLocalGet, 0, opBrTable)
	body = appendULEB(body, uint64(n))
	for i := range n {
		body = appendULEB(body, uint64(i))
	}
	body = appendULEB(body, uint64(n))
	for _, c := range calls {
		body = append(body, opEnd)
		body = append(body, c...)
	}
	body = append(body, opEnd, opI64Const, 0, opEnd)
	i64 := wasm.ValueTypeI64
	m.TypeSection = append(m.TypeSection, &wasm.FunctionType{Params: []wasm.ValueType{wasm.ValueTypeI32, i64, i64, i64, i64}, Results: []wasm.ValueType{i64}})
	m.FunctionSection = append(m.FunctionSection, uint32(len(m.TypeSection)-1))
	m.CodeSection = append(m.CodeSection, &wasm.Code{Body: body})
	m.ExportSection = append(m.ExportSection, &wasm.Export{Type: wasm.ExternTypeFunc, Name: callExport, Index: uint32(len(mt.localFuncs))})
}

// boundary reports whether a segment ends with op: every instruction that
// transfers control or can be the last before a branch target. Entering a
// block is not one: its first instruction is reached only by falling in.
func boundary(op uint32) bool {
	switch op {
	case opLoop, opIf, opElse, opEnd, opBr, opBrIf, opBrTable, opReturn, opCall, opCallIndirect, opUnreachable:
		return true
	}
	return false
}

// function meters one body. The result is
//
//	block (result i32); depth check; block (result of the function);
//	charge segment 0; original code, with a charge after every boundary,
//	the position before every instruction that can trap and the depth
//	decremented before every return; end; depth decrement; return;
//	end; why = the code a failed check branched out with; unreachable; end
//
// Wrapping the body in a block keeps every branch depth valid: a branch to
// the function's own label lands on the wrapper's end and so passes the
// decrement.
func (mt *meter) function(fn uint32, ft *wasm.FunctionType, code *wasm.Code, off int) ([]byte, []segment, error) {
	b := code.Body
	var ins []instr
	depth := 0
	for i := 0; i < len(b); {
		in, err := decodeInstr(b, i, off)
		if err != nil {
			return nil, nil, err
		}
		switch in.op {
		case opBlock, opLoop, opIf:
			depth++
		case opEnd:
			depth--
		case opMemoryGrow:
			mt.growOps++
		case opCall:
			if int(in.idx) >= len(mt.localFuncs) {
				return nil, nil, compileErr(ErrMalformed, off+in.start, "call to function %d of %d", in.idx, len(mt.localFuncs))
			}
		}
		if depth < 0 && in.end != len(b) {
			return nil, nil, compileErr(ErrMalformed, off+in.end, "code after the end of the function")
		}
		ins = append(ins, in)
		i = in.end
	}
	if depth != -1 {
		return nil, nil, compileErr(ErrMalformed, off+len(b), "function ends inside a block")
	}
	// Segments: segStart[k] is the segment that starts at instruction k.
	var segs []segment
	segOf := make([]int, len(ins))
	cur := segment{off: off}
	for k, in := range ins {
		segOf[k] = len(segs)
		cur.cost.add(classOf(in.op))
		if boundary(in.op) || k == len(ins)-1 {
			segs = append(segs, cur)
			next := k + 1
			cur = segment{loop: in.op == opLoop}
			if next < len(ins) {
				cur.off = off + ins[next].start
			}
		}
	}
	// The cost still to come in each segment after instruction k.
	rest := make([]cost, len(ins))
	var acc cost
	for k := len(ins) - 1; k >= 0; k-- {
		if k == len(ins)-1 || segOf[k+1] != segOf[k] {
			acc = cost{}
		}
		rest[k] = acc
		acc.add(classOf(ins[k].op))
	}

	out := make([]byte, 0, len(b)*2+64)
	l := uint32(len(ft.Params) + len(code.LocalTypes)) // the scratch i64 local
	entry := mt.addSite(site{kind: siteEntry, fn: fn, off: off})
	out = append(out, opBlock, byte(I32)) // the trap block: every check branches out of it
	out = mt.depthCheck(out, entry)
	out = append(out, opBlock)
	if len(ft.Results) == 0 {
		out = append(out, 0x40)
	} else {
		out = append(out, ft.Results[0])
	}
	out = mt.charge(out, fn, segs[0], l, 1)
	nest := 0     // blocks open inside the wrapper
	covered := -1 // segment whose memory accesses the last position covers
	for k, in := range ins {
		if k1, _ := trapKinds(in.op); k1 != 0 || in.op == opCall && in.idx < mt.imports {
			// Recording the position costs a global store; in hot loops most
			// candidates are loads and stores, so one position covers all
			// the accesses of a segment up to the next other candidate.
			if k1 != ErrOutOfBounds || covered != segOf[k] {
				s := mt.addSite(site{kind: siteInstr, fn: fn, off: off + in.start, op: in.op, rest: rest[k]})
				out = setPos(out, mt.g0, s)
				covered = -1
				if k1 == ErrOutOfBounds {
					covered = segOf[k]
				}
			}
		}
		if in.op == opReturn {
			out = mt.depthDec(out)
		}
		out = append(out, b[in.start:in.end]...)
		switch in.op {
		case opBlock, opLoop, opIf:
			nest++
		case opEnd:
			nest--
		}
		if k < len(ins)-1 && boundary(in.op) {
			out = mt.charge(out, fn, segs[segOf[k+1]], l, uint32(nest+1))
		}
	}
	out = mt.depthDec(out)
	out = append(out, opReturn, opEnd)
	out = mt.global(out, opGlobalSet, gWhy)
	out = append(out, opUnreachable, opEnd)
	return out, segs, nil
}

func (mt *meter) addSite(s site) int32 {
	mt.sites = append(mt.sites, s)
	return int32(len(mt.sites) - 1)
}

func setPos(out []byte, g0 uint32, s int32) []byte {
	out = append(out, opI32Const)
	out = appendSLEB(out, int64(s))
	out = append(out, opGlobalSet)
	return appendULEB(out, uint64(g0+gPos))
}

func (mt *meter) global(out []byte, op byte, g int) []byte {
	out = append(out, op)
	return appendULEB(out, uint64(mt.g0+uint32(g)))
}

// checkStart pushes the code a check leaves in the why global if it fails:
// the site and the reason.
func checkStart(out []byte, s int32, why int) []byte {
	out = append(out, opI32Const)
	return appendSLEB(out, int64(s)<<2|int64(why))
}

// checkEnd branches to the trap block (label) with the code when the
// condition on the stack is true, and drops the code when it is not. A
// branch keeps wazero's code to one block per function where an if per
// check would add one per segment (its compiler is superlinear in blocks).
func checkEnd(out []byte, label uint32) []byte {
	out = append(out, opBrIf)
	out = appendULEB(out, uint64(label))
	return append(out, opDrop)
}

func (mt *meter) depthCheck(out []byte, s int32) []byte {
	out = checkStart(out, s, whyDepth)
	out = mt.global(out, opGlobalGet, gDepth)
	out = append(out, opI32Const, 1, opI32Add)
	out = mt.global(out, opGlobalSet, gDepth)
	out = mt.global(out, opGlobalGet, gDepth)
	out = append(out, opI32Const)
	out = appendSLEB(out, int64(mt.maxDepth))
	out = append(out, opI32GtU)
	return checkEnd(out, 0)
}

func (mt *meter) depthDec(out []byte) []byte {
	out = mt.global(out, opGlobalGet, gDepth)
	out = append(out, opI32Const, 1, opI32Sub)
	return mt.global(out, opGlobalSet, gDepth)
}

// charge adds a segment's cost to the counters and traps when a budget goes
// below zero, before any of the segment runs: first the divide and call
// counts, then load/store with the loop-iteration budget, then the branch
// count with the instruction budget (stats undoes exactly what a trap at
// either check had charged).
func (mt *meter) charge(out []byte, fn uint32, seg segment, scratch, trapLabel uint32) []byte {
	n := seg.cost.total()
	if n == 0 && !seg.loop {
		return out
	}
	s := mt.addSite(site{kind: siteSegment, fn: fn, off: seg.off, rest: seg.cost, loop: seg.loop})
	add := func(out []byte, g int, v int64, check bool, why int) []byte {
		if check {
			out = checkStart(out, s, why)
		}
		out = mt.global(out, opGlobalGet, g)
		out = append(out, opI64Const)
		out = appendSLEB(out, v)
		out = append(out, opI64Add)
		if !check {
			return mt.global(out, opGlobalSet, g)
		}
		out = append(out, opLocalTee)
		out = appendULEB(out, uint64(scratch))
		out = mt.global(out, opGlobalSet, g)
		out = append(out, opLocalGet)
		out = appendULEB(out, uint64(scratch))
		out = append(out, opI32WrapI64, opI32Const, 0, opI32LtS)
		return checkEnd(out, trapLabel)
	}
	if v := seg.cost.div<<32 | seg.cost.call; v != 0 {
		out = add(out, gDivCall, int64(v), false, 0)
	}
	if seg.loop || seg.cost.mem != 0 {
		v := int64(seg.cost.mem << 32)
		if seg.loop {
			v--
		}
		out = add(out, gMem, v, seg.loop, whyBranches)
	}
	if n > 0 {
		out = add(out, gInstr, int64(seg.cost.br<<32)-int64(n), true, whyBudget)
	}
	return out
}
