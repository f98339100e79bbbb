package wasm

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// MaxModuleSize bounds the binaries Compile accepts: far above what fits an
// MCU slot, and small enough that no count in a module can make the decoder
// allocate much.
const MaxModuleSize = 1 << 20

var magic = []byte{0, 'a', 's', 'm', 1, 0, 0, 0}

// layout is what the structural pass learns about a binary before the
// decoder sees it.
type layout struct {
	bodies   []int             // per defined function: offset of its first instruction in the binary
	names    map[uint32]string // function names from the name section
	stripped []byte            // the binary without its custom sections
}

// scanner walks a binary checking every count against the bytes left, so
// that the decoder behind it never allocates for a count the module cannot
// hold, and refuses, with its name, each feature beyond what the meter
// supports.
type scanner struct {
	b   []byte
	i   int
	end int // end of the current section
}

func (s *scanner) fail(format string, args ...any) error {
	return compileErr(ErrMalformed, s.i, format, args...)
}

func (s *scanner) u32(what string) (uint32, error) {
	v, i, err := uleb(s.b[:s.end], s.i, 32)
	if err != nil {
		return 0, s.fail("bad %s", what)
	}
	s.i = i
	return uint32(v), nil
}

// count reads a vector length; each element takes at least min bytes.
func (s *scanner) count(what string, min int) (int, error) {
	at := s.i
	n, err := s.u32(what)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(s.end-s.i) {
		return 0, compileErr(ErrMalformed, at, "%s %d does not fit in the %d bytes left", what, n, s.end-s.i)
	}
	return int(n), nil
}

func (s *scanner) byte(what string) (byte, error) {
	if s.i >= s.end {
		return 0, s.fail("missing %s", what)
	}
	c := s.b[s.i]
	s.i++
	return c, nil
}

func (s *scanner) name(what string) (string, error) {
	n, err := s.count(what+" length", 1)
	if err != nil {
		return "", err
	}
	v := s.b[s.i : s.i+n]
	if !utf8.Valid(v) {
		return "", s.fail("%s is not UTF-8", what)
	}
	s.i += n
	return string(v), nil
}

func (s *scanner) valType(what string) error {
	at := s.i
	t, err := s.byte(what)
	if err != nil {
		return err
	}
	switch ValType(t) {
	case I32, I64, F32, F64:
		return nil
	}
	return badType(t, at, what)
}

func badType(t byte, at int, what string) error {
	switch t {
	case 0x7b:
		return unsupported("SIMD", at, "v128 %s", what)
	case 0x70, 0x6f:
		return unsupported("reference types", at, "reference %s", what)
	}
	return compileErr(ErrMalformed, at, "bad %s %#x", what, t)
}

func (s *scanner) limits(what string) (min uint32, err error) {
	at := s.i
	flags, err := s.byte(what + " limits")
	if err != nil {
		return 0, err
	}
	switch flags {
	case 0, 1:
	case 2, 3:
		return 0, unsupported("threads", at, "shared %s", what)
	default:
		return 0, unsupported("memory64", at, "%s limits flags %#x", what, flags)
	}
	if min, err = s.u32(what + " minimum"); err != nil {
		return 0, err
	}
	if flags == 1 {
		if _, err = s.u32(what + " maximum"); err != nil {
			return 0, err
		}
	}
	return min, nil
}

// constExpr checks an initializer: one constant or global.get, then end.
func (s *scanner) constExpr() error {
	in, err := decodeInstr(s.b[:s.end], s.i, 0)
	if err != nil {
		return err
	}
	switch in.op {
	case opI32Const, opI64Const, 0x43, 0x44, opGlobalGet:
	default:
		return compileErr(ErrMalformed, s.i, "initializer opcode %#x is not a constant", in.op)
	}
	s.i = in.end
	if c, err := s.byte("end of initializer"); err != nil || c != opEnd {
		return s.fail("initializer does not end after one instruction")
	}
	return nil
}

// scanLayout checks the binary's structure and gives its layout.
func scanLayout(b []byte) (*layout, error) {
	if len(b) < len(magic) || !bytes.Equal(b[:4], magic[:4]) {
		return nil, &CompileError{Kind: ErrBadMagic, Offset: 0, Detail: "the file does not start with \\0asm"}
	}
	if !bytes.Equal(b[4:8], magic[4:]) {
		return nil, &CompileError{Kind: ErrBadMagic, Offset: 4, Detail: fmt.Sprintf("version %x, want 1", b[4:8])}
	}
	if len(b) > MaxModuleSize {
		return nil, compileErr(ErrMalformed, -1, "%d bytes, at most %d", len(b), MaxModuleSize)
	}
	lay := &layout{names: map[uint32]string{}, stripped: append([]byte(nil), magic...)}
	s := &scanner{b: b, i: len(magic), end: len(b)}
	last := byte(0)
	memories, tables, funcs := 0, 0, 0
	for s.i < len(b) {
		s.end = len(b)
		secStart := s.i
		id, _ := s.byte("section id")
		size, err := s.count("section size", 1)
		if err != nil {
			return nil, err
		}
		s.end = s.i + size
		body := s.i
		if id != 0 {
			order := map[byte]byte{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}[id]
			if order == 0 {
				if id == 13 {
					return nil, unsupported("exception handling", secStart, "tag section")
				}
				return nil, compileErr(ErrMalformed, secStart, "unknown section id %d", id)
			}
			if order <= last {
				return nil, compileErr(ErrMalformed, secStart, "section %d out of order or repeated", id)
			}
			last = order
		}
		switch id {
		case 0:
			n, err := s.name("custom section name")
			if err != nil {
				return nil, err
			}
			if n == "name" {
				s.functionNames(lay)
			}
			s.i = s.end
			continue
		case 1:
			n, err := s.count("type count", 3)
			if err != nil {
				return nil, err
			}
			for range n {
				at := s.i
				if f, err := s.byte("type form"); err != nil {
					return nil, err
				} else if f != 0x60 {
					return nil, unsupported("GC", at, "type form %#x", f)
				}
				np, err := s.count("parameter count", 1)
				if err != nil {
					return nil, err
				}
				for range np {
					if err := s.valType("parameter type"); err != nil {
						return nil, err
					}
				}
				nr, err := s.count("result count", 1)
				if err != nil {
					return nil, err
				}
				if nr > 1 {
					return nil, unsupported("multi-value", at, "a function type with %d results", nr)
				}
				for range nr {
					if err := s.valType("result type"); err != nil {
						return nil, err
					}
				}
			}
		case 2:
			n, err := s.count("import count", 4)
			if err != nil {
				return nil, err
			}
			for range n {
				at := s.i
				mod, err := s.name("import module")
				if err != nil {
					return nil, err
				}
				nm, err := s.name("import name")
				if err != nil {
					return nil, err
				}
				kind, err := s.byte("import kind")
				if err != nil {
					return nil, err
				}
				if kind != 0 {
					what := map[byte]string{1: "a table", 2: "a memory", 3: "a global"}[kind]
					if what == "" {
						return nil, compileErr(ErrMalformed, at, "import kind %d", kind)
					}
					return nil, &CompileError{Kind: ErrImport, Name: mod + "." + nm, Offset: at, Detail: "imports " + what + "; only functions from \"env\" are provided"}
				}
				if _, err := s.u32("import type"); err != nil {
					return nil, err
				}
				funcs++
			}
		case 3:
			n, err := s.count("function count", 1)
			if err != nil {
				return nil, err
			}
			for range n {
				if _, err := s.u32("function type"); err != nil {
					return nil, err
				}
			}
		case 4:
			n, err := s.count("table count", 2)
			if err != nil {
				return nil, err
			}
			tables += n
			if tables > 1 {
				return nil, unsupported("reference types", body, "%d tables", tables)
			}
			for range n {
				at := s.i
				if t, err := s.byte("table type"); err != nil {
					return nil, err
				} else if t != 0x70 {
					return nil, unsupported("reference types", at, "a table of type %#x", t)
				}
				if _, err := s.limits("table"); err != nil {
					return nil, err
				}
			}
		case 5:
			n, err := s.count("memory count", 2)
			if err != nil {
				return nil, err
			}
			memories += n
			if memories > 1 {
				return nil, unsupported("multi-memory", body, "%d memories", memories)
			}
			for range n {
				if _, err := s.limits("memory"); err != nil {
					return nil, err
				}
			}
		case 6:
			n, err := s.count("global count", 3)
			if err != nil {
				return nil, err
			}
			for range n {
				if err := s.valType("global type"); err != nil {
					return nil, err
				}
				if m, err := s.byte("global mutability"); err != nil || m > 1 {
					return nil, s.fail("bad global mutability")
				}
				if err := s.constExpr(); err != nil {
					return nil, err
				}
			}
		case 7:
			n, err := s.count("export count", 3)
			if err != nil {
				return nil, err
			}
			for range n {
				if _, err := s.name("export name"); err != nil {
					return nil, err
				}
				if k, err := s.byte("export kind"); err != nil || k > 3 {
					return nil, s.fail("bad export kind")
				}
				if _, err := s.u32("export index"); err != nil {
					return nil, err
				}
			}
		case 8:
			if _, err := s.u32("start function"); err != nil {
				return nil, err
			}
		case 9:
			n, err := s.count("element count", 4)
			if err != nil {
				return nil, err
			}
			for range n {
				at := s.i
				flags, err := s.u32("element flags")
				if err != nil {
					return nil, err
				}
				if flags != 0 {
					return nil, unsupported("reference types", at, "element segment with flags %d (passive, declarative or with a table index)", flags)
				}
				if err := s.constExpr(); err != nil {
					return nil, err
				}
				m, err := s.count("element function count", 1)
				if err != nil {
					return nil, err
				}
				for range m {
					if _, err := s.u32("element function"); err != nil {
						return nil, err
					}
				}
			}
		case 10:
			n, err := s.count("code count", 2)
			if err != nil {
				return nil, err
			}
			for range n {
				sz, err := s.count("body size", 1)
				if err != nil {
					return nil, err
				}
				fend, secEnd := s.i+sz, s.end
				s.end = fend
				groups, err := s.count("local group count", 2)
				if err != nil {
					return nil, err
				}
				total := 0
				for range groups {
					c, err := s.u32("local count")
					if err != nil {
						return nil, err
					}
					total += int(c)
					if total > maxLocals {
						return nil, compileErr(ErrMalformed, s.i, "more than %d locals in one function", maxLocals)
					}
					if err := s.valType("local type"); err != nil {
						return nil, err
					}
				}
				lay.bodies = append(lay.bodies, s.i)
				s.i, s.end = fend, secEnd
			}
		case 11:
			n, err := s.count("data count", 2)
			if err != nil {
				return nil, err
			}
			for range n {
				at := s.i
				flags, err := s.u32("data flags")
				if err != nil {
					return nil, err
				}
				switch flags {
				case 0:
				case 1:
					return nil, unsupported("bulk memory", at, "passive data segment")
				default:
					return nil, unsupported("multi-memory", at, "data segment flags %d", flags)
				}
				if err := s.constExpr(); err != nil {
					return nil, err
				}
				m, err := s.count("data length", 1)
				if err != nil {
					return nil, err
				}
				s.i += m
			}
		case 12:
			return nil, unsupported("bulk memory", secStart, "data count section")
		}
		if s.i != s.end {
			return nil, compileErr(ErrMalformed, secStart, "section %d has %d bytes, its contents %d", id, size, s.i-body)
		}
		lay.stripped = append(lay.stripped, b[secStart:s.end]...)
		s.i = s.end
	}
	return lay, nil
}

// maxLocals bounds the locals of one function: each frame holds them, and
// calls nest up to MaxCallDepthLimit deep (4096 locals of 8 bytes at the
// deepest is 32 MiB of host memory; a C function has a few dozen).
const maxLocals = 4096

// functionNames reads subsection 1 of the name section. A broken name
// section is ignored, as the spec asks.
func (s *scanner) functionNames(lay *layout) {
	for s.i < s.end {
		id, err := s.byte("name subsection")
		if err != nil {
			return
		}
		size, err := s.count("name subsection size", 1)
		if err != nil {
			return
		}
		next := s.i + size
		if id == 1 {
			n, err := s.count("name count", 2)
			if err != nil {
				return
			}
			for range n {
				idx, err := s.u32("function index")
				if err != nil {
					return
				}
				nm, err := s.name("function name")
				if err != nil {
					return
				}
				lay.names[idx] = nm
			}
		}
		s.i = next
	}
}
