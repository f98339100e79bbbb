package wasm

import "math"

// A small module builder for tests: hand-built modules whose every byte is
// known, so counts and offsets can be checked exactly.

type fnSpec struct {
	name    string // export name, "" for none
	params  []ValType
	results []ValType
	locals  []ValType
	body    []byte // without the final end
}

type dataSpec struct {
	off  int32
	init []byte
}

type globalSpec struct {
	t       ValType
	mutable bool
	init    int32
	export  string
}

type modSpec struct {
	imports []string // natives, by name, with their signatures
	funcs   []fnSpec
	memMin  int // -1: no memory
	memMax  int // -1: no maximum
	table   int // table entries (all the defined functions in order), 0: none
	globals []globalSpec
	data    []dataSpec
	start   int // index of the start function + 1, 0: none
}

// built is a module and where each function body's first instruction is.
type built struct {
	bin    []byte
	bodies []int // offset of the first instruction of each defined function
}

func vec(items ...[]byte) []byte {
	b := appendULEB(nil, uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func str(s string) []byte { return append(appendULEB(nil, uint64(len(s))), s...) }

func section(id byte, content []byte) []byte {
	return append(append([]byte{id}, appendULEB(nil, uint64(len(content)))...), content...)
}

func types(ts []ValType) []byte {
	b := appendULEB(nil, uint64(len(ts)))
	for _, t := range ts {
		b = append(b, byte(t))
	}
	return b
}

func build(s modSpec) built {
	var typeSec, impSec, funcSec, expSec, codeSec [][]byte
	ft := func(p, r []ValType) []byte {
		typeSec = append(typeSec, append(append([]byte{0x60}, types(p)...), types(r)...))
		return appendULEB(nil, uint64(len(typeSec)-1))
	}
	for _, n := range s.imports {
		nat := Natives[nativeIndex(n)]
		impSec = append(impSec, append(append(append(str("env"), str(n)...), 0), ft(nat.Params, nat.Results)...))
	}
	nimp := len(s.imports)
	for i, f := range s.funcs {
		funcSec = append(funcSec, ft(f.params, f.results))
		if f.name != "" {
			expSec = append(expSec, append(append(str(f.name), 0), appendULEB(nil, uint64(nimp+i))...))
		}
	}
	for i, g := range s.globals {
		if g.export != "" {
			expSec = append(expSec, append(append(str(g.export), 3), appendULEB(nil, uint64(i))...))
		}
	}
	out := append([]byte(nil), magic...)
	add := func(id byte, items [][]byte) {
		if len(items) > 0 {
			out = append(out, section(id, vec(items...))...)
		}
	}
	add(1, typeSec)
	add(2, impSec)
	add(3, funcSec)
	if s.table > 0 {
		out = append(out, section(4, vec(append([]byte{0x70, 0}, appendULEB(nil, uint64(s.table))...)))...)
	}
	if s.memMin >= 0 {
		lim := []byte{0}
		lim = appendULEB(lim, uint64(s.memMin))
		if s.memMax >= 0 {
			lim[0] = 1
			lim = appendULEB(lim, uint64(s.memMax))
		}
		out = append(out, section(5, vec(lim))...)
	}
	var globSec [][]byte
	for _, g := range s.globals {
		mut := byte(0)
		if g.mutable {
			mut = 1
		}
		e := []byte{byte(g.t), mut}
		if g.t == I64 {
			e = append(e, opI64Const)
		} else {
			e = append(e, opI32Const)
		}
		globSec = append(globSec, append(appendSLEB(e, int64(g.init)), opEnd))
	}
	add(6, globSec)
	add(7, expSec)
	if s.start > 0 {
		out = append(out, section(8, appendULEB(nil, uint64(nimp+s.start-1)))...)
	}
	if s.table > 0 {
		var idx [][]byte
		for i := range s.table {
			idx = append(idx, appendULEB(nil, uint64(nimp+i)))
		}
		out = append(out, section(9, vec(append([]byte{0, opI32Const, 0, opEnd}, vec(idx...)...)))...)
	}
	// Code: the offsets of the bodies are known once the section header is.
	var bodies []int
	var lens []int
	for _, f := range s.funcs {
		var groups [][]byte
		for _, l := range f.locals {
			groups = append(groups, []byte{1, byte(l)})
		}
		loc := vec(groups...)
		body := append(append(loc, f.body...), opEnd)
		codeSec = append(codeSec, append(appendULEB(nil, uint64(len(body))), body...))
		lens = append(lens, len(loc))
	}
	if len(codeSec) > 0 {
		content := vec(codeSec...)
		start := len(out) + 1 + len(appendULEB(nil, uint64(len(content))))
		pos := start + len(appendULEB(nil, uint64(len(codeSec))))
		for i, c := range codeSec {
			n, j, _ := uleb(c, 0, 32)
			_ = n
			bodies = append(bodies, pos+j+lens[i])
			pos += len(c)
		}
		out = append(out, section(10, content)...)
	}
	var dataSec [][]byte
	for _, d := range s.data {
		e := append(appendSLEB([]byte{0, opI32Const}, int64(d.off)), opEnd)
		dataSec = append(dataSec, append(e, append(appendULEB(nil, uint64(len(d.init))), d.init...)...))
	}
	add(11, dataSec)
	return built{bin: out, bodies: bodies}
}

// Instruction helpers for bodies.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
func i32c(v int32) []byte    { return appendSLEB([]byte{opI32Const}, int64(v)) }
func i64c(v int64) []byte    { return appendSLEB([]byte{opI64Const}, v) }
func lget(i int) []byte      { return []byte{opLocalGet, byte(i)} }
func lset(i int) []byte      { return []byte{opLocalSet, byte(i)} }
func ltee(i int) []byte      { return []byte{opLocalTee, byte(i)} }
func gget(i int) []byte      { return []byte{opGlobalGet, byte(i)} }
func gset(i int) []byte      { return []byte{opGlobalSet, byte(i)} }
func call(i int) []byte      { return []byte{opCall, byte(i)} }
func br(d int) []byte        { return []byte{opBr, byte(d)} }
func brIf(d int) []byte      { return []byte{opBrIf, byte(d)} }
func load32(off int) []byte  { return []byte{0x28, 2, byte(off)} }
func load8u(off int) []byte  { return []byte{0x2d, 0, byte(off)} }
func store32(off int) []byte { return []byte{0x36, 2, byte(off)} }
func store8(off int) []byte  { return []byte{0x3a, 0, byte(off)} }
func f64c(v float64) []byte {
	b := []byte{0x44}
	u := math.Float64bits(v)
	for i := range 8 {
		b = append(b, byte(u>>(8*i)))
	}
	return b
}

var (
	loop    = []byte{opLoop, 0x40}
	block   = []byte{opBlock, 0x40}
	ifv     = []byte{opIf, 0x40}
	elsev   = []byte{opElse}
	end     = []byte{opEnd}
	ret     = []byte{opReturn}
	drop    = []byte{0x1a}
	unreach = []byte{opUnreachable}

	i32Add       = []byte{0x6a}
	i32Sub       = []byte{0x6b}
	i32Mul       = []byte{0x6c}
	i32DivS      = []byte{0x6d}
	i32DivU      = []byte{0x6e}
	i32RemU      = []byte{0x70}
	i32And       = []byte{0x71}
	i32Or        = []byte{0x72}
	i32Xor       = []byte{0x73}
	i32Shl       = []byte{0x74}
	i32ShrU      = []byte{0x76}
	i32Eqz       = []byte{0x45}
	i32Eq        = []byte{0x46}
	i32Ne        = []byte{0x47}
	i32LtU       = []byte{0x49}
	i32GtU       = []byte{0x4b}
	i32LeU       = []byte{0x4d}
	i32GeU       = []byte{0x4f}
	i64Add       = []byte{0x7c}
	i64Xor       = []byte{0x85}
	i64Shl       = []byte{0x86}
	i64ShrU      = []byte{0x88}
	i64Or        = []byte{0x84}
	i64ExtendU   = []byte{0xad}
	i64LtU       = []byte{0x54}
	i32TruncF64S = []byte{0xaa}
	memGrow      = []byte{opMemoryGrow, 0}
	memSize      = []byte{0x3f, 0}
)
