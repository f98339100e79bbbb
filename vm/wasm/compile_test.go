package wasm

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// withBody replaces the body of the single function of a one-function module.
func bodyModule(body ...[]byte) []byte {
	return build(modSpec{memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", body: cat(body...)}}}).bin
}

// rawModule is a module made of the given sections.
func rawModule(sections ...[]byte) []byte { return cat(append([][]byte{magic}, sections...)...) }

func TestCompileRefuses(t *testing.T) {
	imp := func(mod, name string, params, results []ValType) []byte {
		typ := section(1, vec(cat([]byte{0x60}, types(params), types(results))))
		return rawModule(typ, section(2, vec(cat(str(mod), str(name), []byte{0, 0}))))
	}
	cases := []struct {
		name    string
		bin     []byte
		kind    Kind
		feature string
		text    string
	}{
		{"empty", nil, ErrBadMagic, "", "does not start with"},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00"), ErrBadMagic, "", ""},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), ErrBadMagic, "", "version"},
		{"truncated section", append(append([]byte(nil), magic...), 1, 10, 1), ErrMalformed, "", "section size"},
		{"huge count", rawModule(section(1, []byte{0xff, 0xff, 0xff, 0xff, 0x0f})), ErrMalformed, "", "does not fit"},
		{"SIMD", bodyModule([]byte{0xfd, 0x0c}), ErrUnsupported, "SIMD", ""},
		{"threads", bodyModule(i32c(0), []byte{0xfe, 0x10, 2, 0}, drop), ErrUnsupported, "threads", ""},
		{"shared memory", rawModule(section(5, vec([]byte{3, 1, 1}))), ErrUnsupported, "threads", ""},
		{"bulk memory", bodyModule(i32c(0), i32c(0), i32c(0), []byte{0xfc, 11, 0}), ErrUnsupported, "bulk memory", "memory.fill"},
		{"passive data", rawModule(section(5, vec([]byte{0, 1})), section(11, vec([]byte{1, 0}))), ErrUnsupported, "bulk memory", ""},
		{"data count", rawModule(section(12, []byte{0})), ErrUnsupported, "bulk memory", ""},
		{"reference types", bodyModule([]byte{0xd0, 0x70}, drop), ErrUnsupported, "reference types", ""},
		{"table.size", bodyModule([]byte{0xfc, 16, 0}, drop), ErrUnsupported, "reference types", ""},
		{"two tables", rawModule(section(4, vec([]byte{0x70, 0, 1}, []byte{0x70, 0, 1}))), ErrUnsupported, "reference types", ""},
		{"externref param", rawModule(section(1, vec([]byte{0x60, 1, 0x6f, 0}))), ErrUnsupported, "reference types", ""},
		{"v128 local", build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{locals: []ValType{0x7b}}}}).bin, ErrUnsupported, "SIMD", ""},
		{"multi-memory", rawModule(section(5, vec([]byte{0, 1}, []byte{0, 1}))), ErrUnsupported, "multi-memory", ""},
		{"memory index in a load", bodyModule(i32c(0), []byte{0x28, 0x42, 1, 0}, drop), ErrUnsupported, "multi-memory", ""},
		{"multi-value type", rawModule(section(1, vec([]byte{0x60, 0, 2, 0x7f, 0x7f}))), ErrUnsupported, "multi-value", ""},
		{"multi-value block", bodyModule([]byte{opBlock, 0}, end), ErrUnsupported, "multi-value", ""},
		{"tail call", bodyModule([]byte{0x12, 0}), ErrUnsupported, "tail calls", ""},
		{"exceptions", bodyModule([]byte{0x08, 0}), ErrUnsupported, "exception handling", ""},
		{"memory64", rawModule(section(5, vec([]byte{4, 1}))), ErrUnsupported, "memory64", ""},
		{"unknown opcode", bodyModule([]byte{0xc5}), ErrMalformed, "", "unknown opcode 0xc5"},
		{"invalid code", bodyModule(i32Add), ErrMalformed, "", "does not validate"},
		{"code after the end", bodyModule(end, i32c(1), drop), ErrMalformed, "", "after the end"},
		{"too many pages", build(modSpec{memMin: 2, memMax: -1}).bin, ErrTooManyPages, "", "starts at 2 pages (128 KiB), the slot allows 1"},
		{"unknown native", imp("env", "printf", []ValType{I32}, nil), ErrImport, "", `"env.printf": not a native (natives: logger, open, read`},
		{"wrong signature", imp("env", "read", []ValType{I32, I32}, []ValType{I32}), ErrImport, "", "imported as (i32,i32) -> i32, the native is (i32,i32,i32) -> i32"},
		{"WASI", imp("wasi_snapshot_preview1", "fd_write", []ValType{I32, I32, I32, I32}, []ValType{I32}), ErrImport, "", `natives come from module "env"`},
		{"memory import", rawModule(section(2, vec(cat(str("env"), str("memory"), []byte{2, 0, 1})))), ErrImport, "", "imports a memory"},
		{"too many locals", build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{locals: i32s(5000)}}}).bin, ErrMalformed, "", "more than 4096 locals in one function"},
		{"too many segments", bodyModule(bytes.Repeat(cat(i32c(1), brIf(0)), MaxSegments)), ErrUnsupported, "size", "more than 4096 straight-line segments"},
		{"reserved export", build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{{name: "tinylab:meter:pos"}}}).bin, ErrUnsupported, "reserved export name", ""},
	}
	for _, c := range cases {
		for _, e := range engines {
			_, err := Compile(c.bin, Config{Engine: e})
			var ce *CompileError
			if !errors.As(err, &ce) || !errors.Is(err, c.kind) || ce.Feature != c.feature || !strings.Contains(err.Error(), c.text) {
				t.Errorf("%s (%s): %v, want %s %q with %q", c.name, e, err, c.kind, c.feature, c.text)
			}
		}
	}
}

func TestCompileAccepts(t *testing.T) {
	// Sign extension and non-trapping conversions are in; so is every
	// native with its own signature.
	var imports []string
	for _, n := range Natives {
		imports = append(imports, n.Name)
	}
	i32 := []ValType{I32}
	b := build(modSpec{imports: imports, memMin: 1, memMax: 1, funcs: []fnSpec{
		{name: "f", results: i32, body: cat(i32c(0xff), []byte{0xc0}, f64c(1e30), []byte{0xfc, 2}, i32Add)},
	}})
	for _, e := range engines {
		m, err := Compile(b.bin, Config{Engine: e})
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if len(m.Imports()) != len(Natives) || m.Exports()[0] != "f" || len(m.Exports()) != 1 {
			t.Errorf("%s: imports %v exports %v", e, m.Imports(), m.Exports())
		}
		in, _ := m.Instantiate(nil)
		res, err := in.Call("f")
		if err != nil || res.R0 != uint64(uint32(0x7fffffff-1)) {
			t.Errorf("%s: %#x %v", e, res.R0, err)
		}
		if _, err := in.Call("nope"); !errors.Is(err, ErrNoExport) {
			t.Errorf("%s: missing export: %v", e, err)
		}
		if _, err := in.Call("f", 1); !errors.Is(err, ErrNoExport) || !strings.Contains(err.Error(), "takes 0 arguments, given 1") {
			t.Errorf("%s: argument count: %v", e, err)
		}
		if _, err := in.Call(startExport); !errors.Is(err, ErrNoExport) {
			t.Errorf("%s: meter export callable: %v", e, err)
		}
		in.Close()
	}
}

func TestNativeSignatures(t *testing.T) {
	// The signatures the issue fixes, upstream's five first.
	want := map[string]string{
		"logger": "(i32) -> ()", "open": "(i32) -> i32", "read": "(i32,i32,i32) -> i32",
		"write": "(i32,i32,i32) -> i32", "close": "(i32) -> i32", "heartbeat": "() -> i32",
		"store_local": "(i32,i32) -> i32", "store_global": "(i32,i32) -> i32",
		"fetch_local": "(i32,i32) -> i32", "fetch_global": "(i32,i32) -> i32",
		"now_ms": "() -> i32", "ztimer_now": "() -> i32", "ztimer_periodic_wakeup": "(i32,i32) -> i32",
		"saul_reg_find_nth": "(i32) -> i32", "saul_reg_find_type": "(i32) -> i32",
		"saul_reg_read": "(i32,i32) -> i32", "memcpy": "(i32,i32,i32) -> i32",
	}
	if len(Natives) != len(want) {
		t.Errorf("%d natives, want %d", len(Natives), len(want))
	}
	for _, n := range Natives {
		if n.Signature() != want[n.Name] {
			t.Errorf("%s: %s, want %s", n.Name, n.Signature(), want[n.Name])
		}
	}
	// Every native reaches the host with its arguments, and its result comes back.
	for _, n := range Natives {
		var body []byte
		for i := range n.Params {
			body = append(body, i32c(int32(10+i))...)
		}
		body = append(body, call(0)...)
		var results []ValType
		if len(n.Results) > 0 {
			results = []ValType{I32}
		}
		bin := build(modSpec{imports: []string{n.Name}, memMin: 1, memMax: -1, funcs: []fnSpec{{name: "f", results: results, body: body}}}).bin
		var got []uint64
		host := hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) {
			if name != n.Name {
				t.Errorf("host called with %s, want %s", name, n.Name)
			}
			got = append([]uint64(nil), args...)
			return 77, nil
		})
		onBoth(t, bin, Config{}, host, func(t *testing.T, in *Instance) string {
			res, err := in.Call("f")
			if err != nil || len(got) != len(n.Params) || len(n.Params) > 0 && got[0] != 10 || len(results) > 0 && res.R0 != 77 {
				t.Errorf("%s: %s args %v", n.Name, outcome(res, err), got)
			}
			return outcome(res, err)
		})
	}
}

func TestManyParameters(t *testing.T) {
	// Five parameters: past the dispatcher, through a function of its own.
	p := []ValType{I32, I32, I32, I32, I64}
	bin := build(modSpec{memMin: -1, memMax: -1, funcs: []fnSpec{
		{name: "sum", params: p, results: []ValType{I64}, body: cat(lget(0), lget(1), i32Add, lget(2), i32Add, lget(3), i32Add, i64ExtendU, lget(4), i64Add)},
		{name: "f32", params: []ValType{F32}, results: []ValType{F32}, body: lget(0)},
	}}).bin
	onBoth(t, bin, Config{}, nil, func(t *testing.T, in *Instance) string {
		res, err := in.Call("sum", 1, 2, 3, 4, 1<<40)
		if err != nil || res.R0 != 10+1<<40 || res.Stats.Instructions != 10 {
			t.Errorf("sum: %s", outcome(res, err))
		}
		f, err2 := in.Call("f32", 0x3fc00000)
		if err2 != nil || f.R0 != 0x3fc00000 {
			t.Errorf("f32: %s", outcome(f, err2))
		}
		return outcome(res, err) + outcome(f, err2)
	})
}

func i32s(n int) []ValType {
	ts := make([]ValType, n)
	for i := range ts {
		ts[i] = I32
	}
	return ts
}

// An i32 reaches the host zero-extended on every engine, whatever the engine
// left in the upper half of its 64-bit slot.
func TestNativeArgsZeroExtended(t *testing.T) {
	const i32WrapI64 = 0xa7
	for _, tc := range []struct {
		name string
		arg  []byte
		want uint64
	}{
		{"wrapped i64", cat(i64c(0x7_0000_0005), []byte{i32WrapI64}), 5},
		{"wrapped i64 parameter", cat(lget(0), []byte{i32WrapI64}), 5},
		{"negative", i32c(-1), 0xffff_ffff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := build(modSpec{imports: []string{"open"}, memMin: 1, memMax: -1,
				funcs: []fnSpec{{name: "f", params: []ValType{I64}, results: []ValType{I32}, body: cat(tc.arg, call(0))}}}).bin
			var seen uint64
			host := hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) {
				seen = args[0]
				return 0, nil
			})
			onBoth(t, bin, Config{}, host, func(t *testing.T, in *Instance) string {
				res, err := in.Call("f", 0x7_0000_0005)
				if err != nil || seen != tc.want {
					t.Errorf("host saw %#x (%v), want %#x", seen, err, tc.want)
				}
				return outcome(res, err)
			})
		})
	}
}
