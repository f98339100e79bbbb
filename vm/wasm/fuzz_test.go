package wasm

import (
	"bytes"
	"os"
	"testing"
)

// FuzzCompile feeds arbitrary bytes to the loader and the meter: never a
// panic, and both engines accept or refuse alike.
func FuzzCompile(f *testing.F) {
	for _, s := range [][]byte{magic, kernels(f), bodyModule(i32c(1), drop), bodyModule([]byte{0xfd, 0})} {
		f.Add(s)
	}
	if b, err := os.ReadFile("testdata/hello.wasm"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var errs [2]error
		for i, e := range engines {
			m, err := Compile(data, Config{Engine: e})
			errs[i] = err
			if err == nil {
				m.Close()
			} else if _, ok := KindOf(err); !ok {
				t.Fatalf("%s: untyped error %v", e, err)
			}
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("engines disagree: interpreter %v, compiler %v", errs[0], errs[1])
		}
	})
}

// FuzzRun runs metered modules on both engines and compares outcomes: the
// result, every counter and the trap must be the same. Input that is not a
// module drives a generator of valid ones (loops, branches, calls, memory,
// division, growth), so most runs execute code.
func FuzzRun(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("loops and branches and memory"))
	f.Add(bytes.Repeat([]byte{0x13, 0x07, 0x21, 0x42}, 16))
	f.Add(kernels(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		bin := data
		if !bytes.HasPrefix(data, magic[:4]) {
			bin = generate(data)
		}
		var outs [2]string
		for i, e := range engines {
			m, err := Compile(bin, Config{Engine: e, MaxPages: 2})
			if err != nil {
				if !bytes.HasPrefix(data, magic[:4]) {
					t.Fatalf("%s: generated module refused: %v", e, err)
				}
				return
			}
			in, err := m.Instantiate(hostFunc(func(name string, args []uint64, mem *Memory) (uint64, error) {
				if len(args) > 0 {
					if _, err := mem.Read(args[0], 4); err != nil {
						return 0, err
					}
				}
				return 1, nil
			}))
			if err != nil {
				outs[i] = "instantiate: " + err.Error()
				continue
			}
			in.SetBudgets(2000, 20000)
			for _, ex := range m.ExportedFunctions() {
				if len(ex.Params) > 2 {
					continue
				}
				args := make([]uint64, len(ex.Params))
				for j := range args {
					args[j] = uint64(j + 3)
				}
				res, err := in.Call(ex.Name, args...)
				outs[i] += ex.Name + ": " + outcome(res, err) + "\n"
			}
			in.Close()
			m.Close()
		}
		if outs[0] != outs[1] {
			t.Fatalf("engines differ:\ninterpreter %s\ncompiler    %s", outs[0], outs[1])
		}
	})
}

// generate builds a valid module from fuzz bytes: one exported function
// f(i32, i32) -> i32 with two i32 locals, a second function g(i32) -> i32
// it may call (and which may call f: recursion), one page of memory that
// may grow, and the logger native.
func generate(data []byte) []byte {
	g := &gen{data: data}
	f := g.body(2)
	h := g.body(1)
	i32 := []ValType{I32}
	return build(modSpec{imports: []string{"logger"}, memMin: 1, memMax: -1, funcs: []fnSpec{
		{name: "f", params: []ValType{I32, I32}, results: i32, locals: []ValType{I32, I32}, body: f},
		{name: "g", params: i32, results: i32, locals: []ValType{I32, I32}, body: h},
	}}).bin
}

type gen struct {
	data []byte
	i    int
}

func (g *gen) next() (byte, bool) {
	if g.i >= len(g.data) {
		return 0, false
	}
	c := g.data[g.i]
	g.i++
	return c, true
}

// body emits a function body leaving one i32. Blocks are all typed [] ->
// []; the generator tracks the operand depth of each open block.
func (g *gen) body(params int) []byte {
	var b []byte
	locals := params + 2
	depth := []int{0} // values on the stack in each open block
	push := func(code ...byte) { b = append(b, code...); depth[len(depth)-1]++ }
	pop := func(n int) { depth[len(depth)-1] -= n }
	top := func() int { return depth[len(depth)-1] }
	closeBlock := func() {
		for ; top() > 0; pop(1) {
			b = append(b, drop...)
		}
		b = append(b, opEnd)
		depth = depth[:len(depth)-1]
	}
	for steps := 0; steps < 200; steps++ {
		c, ok := g.next()
		if !ok {
			break
		}
		arg := int(c >> 5)
		switch c & 31 {
		case 0, 1:
			push(i32c(int32(c)*37 - 500)...)
		case 2, 3:
			push(lget(arg % locals)...)
		case 4:
			if top() > 0 {
				b = append(b, lset(arg%locals)...)
				pop(1)
			}
		case 5, 6, 7:
			if top() >= 2 {
				ops := [][]byte{i32Add, i32Sub, i32Mul, i32DivS, i32DivU, i32RemU, i32And, i32Xor, i32Shl, i32ShrU, i32LtU, i32Eq}
				b = append(b, ops[int(c>>3)%len(ops)]...)
				pop(1)
			}
		case 8:
			if top() >= 1 {
				b = append(b, load32(arg*4)...)
			}
		case 9:
			if top() >= 1 {
				b = append(b, load8u(arg)...)
			}
		case 10:
			if top() >= 2 {
				b = append(b, store32(arg*4)...)
				pop(2)
			}
		case 11:
			if top() >= 1 {
				b = append(b, memGrow...)
			}
		case 12:
			if len(depth) < 8 {
				b = append(b, block...)
				depth = append(depth, 0)
			}
		case 13:
			if len(depth) < 8 {
				b = append(b, loop...)
				depth = append(depth, 0)
			}
		case 14:
			if top() >= 1 && len(depth) < 8 {
				b = append(b, ifv...)
				pop(1)
				depth = append(depth, 0)
			}
		case 15, 16:
			if len(depth) > 1 {
				closeBlock()
			}
		case 17, 18:
			// Labels of blocks only: the function's own label takes an i32.
			if top() >= 1 && len(depth) > 1 {
				b = append(b, brIf(arg%(len(depth)-1))...)
				pop(1)
			}
		case 19:
			// An unconditional branch ends the block: nothing after it runs.
			if len(depth) > 1 {
				b = append(b, br(arg%(len(depth)-1))...)
				depth[len(depth)-1] = 0
				b = append(b, opEnd)
				depth = depth[:len(depth)-1]
			}
		case 20:
			switch {
			case arg&1 == 1 && top() >= 2:
				b = append(b, call(1)...) // f(a, b): recursion when self is f
				pop(1)
			case top() >= 1:
				b = append(b, call(2)...) // g(a)
			}
		case 21:
			if top() >= 1 {
				b = append(b, call(0)...) // logger
				pop(1)
			}
		case 22:
			push(memSize...)
		case 23:
			if c == 23 {
				b = append(b, unreach...)
			}
		default:
			if top() >= 1 {
				b = append(b, ltee(arg%locals)...)
			}
		}
	}
	for len(depth) > 1 {
		closeBlock()
	}
	for ; top() > 1; pop(1) {
		b = append(b, drop...)
	}
	if top() == 0 {
		b = append(b, lget(0)...)
	}
	return b
}
