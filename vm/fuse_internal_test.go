package vm

import "testing"

func fusedOps(t *testing.T, text []Instruction, fns []Function) []uint8 {
	t.Helper()
	p, err := Verify(&Image{Text: text, Functions: fns}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ops []uint8
	for _, s := range p.code {
		if s.op > opExit {
			ops = append(ops, s.op)
		}
	}
	return ops
}

func TestFuse(t *testing.T) {
	mov := Instruction{Op: 0xbf, Dst: 3, Src: 0}
	lsh := Instruction{Op: 0x67, Dst: 3, Imm: 13}
	add := Instruction{Op: 0x07, Dst: 1, Imm: 1}
	jlt := Instruction{Op: 0xad, Dst: 1, Src: 2, Off: -2}
	exit := Instruction{Op: OpExit}
	ldxb := Instruction{Op: 0x71, Dst: 0, Src: 1}
	addX := Instruction{Op: 0x0f, Dst: 1, Src: 7}
	cases := []struct {
		name string
		text []Instruction
		fns  []Function
		want []uint8
	}{
		{"mov+lsh, add+jlt", []Instruction{mov, lsh, mov, add, jlt, exit}, nil, []uint8{opMovLsh64K, opAddJltX}},
		{"other register", []Instruction{mov, {Op: 0x67, Dst: 4, Imm: 1}, exit}, nil, nil},
		{"second is a jump target", []Instruction{mov, lsh, {Op: OpJA, Off: -2}}, nil, nil},
		{"second is a function", []Instruction{mov, lsh, exit}, []Function{{"f", 1}}, nil},
		{"load then increment", []Instruction{ldxb, add, exit}, nil, []uint8{opLdxBAdd}},
		{"indexed load", []Instruction{addX, ldxb, exit}, nil, []uint8{opAddLdxB}},
		{"indexed load, other base", []Instruction{{Op: 0x0f, Dst: 2, Src: 7}, ldxb, exit}, nil, nil},
		{"compare chain", []Instruction{{Op: 0x15, Dst: 1, Imm: 32, Off: 2}, {Op: 0x25, Dst: 1, Imm: 9, Off: 1}, exit, exit}, nil, []uint8{opJeqJgtK}},
		{"compare chain, two registers", []Instruction{{Op: 0x15, Dst: 1, Imm: 32, Off: 2}, {Op: 0x25, Dst: 2, Imm: 9, Off: 1}, exit, exit}, nil, nil},
		{"zero extension", []Instruction{{Op: 0x67, Dst: 2, Imm: 32}, {Op: 0x77, Dst: 2, Imm: 32}, exit}, nil, []uint8{opLshRsh64K}},
		{"mov then add", []Instruction{{Op: 0xbf, Dst: 2, Src: 6}, {Op: 0x0f, Dst: 2, Src: 7}, exit}, nil, []uint8{opMovAdd64X}},
		{"mov then add itself", []Instruction{{Op: 0xbf, Dst: 0, Src: 10}, {Op: 0x0f, Dst: 0, Src: 0}, exit}, nil, []uint8{opMovAdd64X}},
		{"global load", []Instruction{{Op: OpLDDWD, Dst: 1, Imm: 8}, {}, {Op: 0x61, Dst: 0, Src: 1}, exit}, nil, []uint8{opLddwLdxW}},
		{"global store", []Instruction{{Op: OpLDDWR, Dst: 1}, {}, {Op: 0x63, Dst: 1, Src: 6, Off: 4}, exit}, nil, []uint8{opLddwStxW}},
		{"global load, target", []Instruction{{Op: OpLDDWD, Dst: 1}, {}, {Op: 0x61, Dst: 0, Src: 1}, {Op: OpJA, Off: -2}}, nil, nil},
		{"pairs do not overlap", []Instruction{ldxb, add, {Op: 0x2d, Dst: 1, Src: 2, Off: 0}, exit}, nil, []uint8{opLdxBAdd}},
	}
	for _, c := range cases {
		got := fusedOps(t, c.text, c.fns)
		if len(got) != len(c.want) {
			t.Errorf("%s: fused %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: fused %v, want %v", c.name, got, c.want)
			}
		}
	}
}
