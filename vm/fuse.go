package vm

// fuse replaces pairs of adjacent instructions with superinstructions, so
// that the interpreter dispatches once for both. The second instruction of a
// pair must not be reachable except by falling through from the first: not a
// jump or call target, not a function entry. Its own slot keeps its plain
// decoding (for errors and budgets, which name its pc) but is never executed
// on its own.
func fuse(code []slot, text []Instruction, start []bool, fns []Function) {
	n := len(text)
	leader := make([]bool, n+1)
	for _, f := range fns {
		leader[f.PC] = true
	}
	for pc := 0; pc < n; pc++ {
		if start[pc] && (text[pc].IsJump() || text[pc].IsLocalCall()) {
			leader[pc+1+text[pc].JumpOffset()] = true
		}
	}
	for pc := 0; pc+1 < n; pc++ {
		if !start[pc] {
			continue
		}
		// A wide load pairs with the instruction after its second slot.
		next := pc + 1
		if text[pc].Op.IsWide() {
			next = pc + 2
		}
		if next >= n || leader[next] {
			continue
		}
		a, b := &code[pc], &code[next]
		if f, ok := fusePair(a, b, pc); ok {
			*a = f
			pc = next // the second instruction cannot start another pair
		}
	}
}

var lddwLdx = map[uint8]uint8{opLdxB: opLddwLdxB, opLdxH: opLddwLdxH, opLdxW: opLddwLdxW, opLdxDW: opLddwLdxDW}

var lddwStx = map[uint8]uint8{opStxB: opLddwStxB, opStxH: opLddwStxH, opStxW: opLddwStxW, opStxDW: opLddwStxDW}

var movOpK = map[uint8]uint8{opLsh64K: opMovLsh64K, opRsh64K: opMovRsh64K, opArsh64K: opMovArsh64K, opAnd64K: opMovAnd64K, opAdd64K: opMovAdd64K}

var addJump = map[uint8]uint8{
	opJeqK: opAddJeqK, opJneK: opAddJneK, opJltK: opAddJltK, opJleK: opAddJleK, opJgtK: opAddJgtK, opJgeK: opAddJgeK,
	opJeqX: opAddJeqX, opJneX: opAddJneX, opJltX: opAddJltX, opJleX: opAddJleX, opJgtX: opAddJgtX, opJgeX: opAddJgeX,
}

var ldxAdd = map[uint8]uint8{opLdxB: opLdxBAdd, opLdxH: opLdxHAdd, opLdxW: opLdxWAdd, opLdxDW: opLdxDWAdd}

var addLdx = map[uint8]uint8{opLdxB: opAddLdxB, opLdxH: opAddLdxH, opLdxW: opAddLdxW, opLdxDW: opAddLdxDW}

// jumpPair[first][second] for same-register constant compares.
var jumpPair = map[[2]uint8]uint8{
	{opJeqK, opJeqK}: opJeqJeqK, {opJeqK, opJneK}: opJeqJneK, {opJeqK, opJltK}: opJeqJltK, {opJeqK, opJleK}: opJeqJleK, {opJeqK, opJgtK}: opJeqJgtK, {opJeqK, opJgeK}: opJeqJgeK,
	{opJneK, opJeqK}: opJneJeqK, {opJneK, opJneK}: opJneJneK, {opJneK, opJltK}: opJneJltK, {opJneK, opJleK}: opJneJleK, {opJneK, opJgtK}: opJneJgtK, {opJneK, opJgeK}: opJneJgeK,
	{opJltK, opJeqK}: opJltJeqK, {opJltK, opJneK}: opJltJneK, {opJltK, opJltK}: opJltJltK, {opJltK, opJleK}: opJltJleK, {opJltK, opJgtK}: opJltJgtK, {opJltK, opJgeK}: opJltJgeK,
	{opJleK, opJeqK}: opJleJeqK, {opJleK, opJneK}: opJleJneK, {opJleK, opJltK}: opJleJltK, {opJleK, opJleK}: opJleJleK, {opJleK, opJgtK}: opJleJgtK, {opJleK, opJgeK}: opJleJgeK,
	{opJgtK, opJeqK}: opJgtJeqK, {opJgtK, opJneK}: opJgtJneK, {opJgtK, opJltK}: opJgtJltK, {opJgtK, opJleK}: opJgtJleK, {opJgtK, opJgtK}: opJgtJgtK, {opJgtK, opJgeK}: opJgtJgeK,
	{opJgeK, opJeqK}: opJgeJeqK, {opJgeK, opJneK}: opJgeJneK, {opJgeK, opJltK}: opJgeJltK, {opJgeK, opJleK}: opJgeJleK, {opJgeK, opJgtK}: opJgeJgtK, {opJgeK, opJgeK}: opJgeJgeK,
}

// fits32 reports whether a sign-extended immediate survives a round trip
// through 32 bits (true for every decoded constant except lddw's).
func fits32(v uint64) bool { return uint64(int64(int32(v))) == v }

func fusePair(a, b *slot, pc int) (slot, bool) {
	switch {
	case a.op == opMov64X && movOpK[b.op] != 0 && b.dst == a.dst:
		return slot{op: movOpK[b.op], dst: a.dst, src: a.src, imm: b.imm}, true
	case a.op == opAdd64K && addJump[b.op] != 0 && b.dst == a.dst && fits32(a.imm) && fits32(b.imm):
		return slot{op: addJump[b.op], dst: a.dst, src: b.src, off: b.off,
			imm: uint64(uint32(a.imm)) | uint64(uint32(b.imm))<<32}, true
	case ldxAdd[a.op] != 0 && b.op == opAdd64K && fits32(b.imm):
		return slot{op: ldxAdd[a.op], dst: a.dst, src: a.src, aux: b.dst, off: a.off, imm: b.imm}, true
	case a.op == opLsh64K && (b.op == opRsh64K || b.op == opArsh64K) && b.dst == a.dst:
		op := opLshRsh64K
		if b.op == opArsh64K {
			op = opLshArsh64K
		}
		return slot{op: op, dst: a.dst, imm: a.imm | b.imm<<32}, true
	case a.op == opMov64X && b.op == opAdd64X && b.dst == a.dst:
		// After the mov, reading %rD means reading %rS.
		add := b.src
		if add == a.dst {
			add = a.src
		}
		return slot{op: opMovAdd64X, dst: a.dst, src: a.src, aux: add}, true
	case a.op == opLddw && lddwLdx[b.op] != 0 && b.src == a.dst:
		return slot{op: lddwLdx[b.op], dst: b.dst, aux: a.dst, off: b.off, imm: a.imm}, true
	case a.op == opLddw && lddwStx[b.op] != 0 && b.dst == a.dst:
		return slot{op: lddwStx[b.op], src: b.src, aux: a.dst, off: b.off, imm: a.imm}, true
	case jumpPair[[2]uint8{a.op, b.op}] != 0 && a.dst == b.dst && fits32(a.imm) && fits32(b.imm):
		// The second target travels as its 16-bit offset in src and aux.
		rel := uint16(int(b.off) - pc - 2)
		return slot{op: jumpPair[[2]uint8{a.op, b.op}], dst: a.dst, src: uint8(rel), aux: uint8(rel >> 8), off: a.off,
			imm: uint64(uint32(a.imm)) | uint64(uint32(b.imm))<<32}, true
	case a.op == opAdd64X && addLdx[b.op] != 0 && b.src == a.dst:
		return slot{op: addLdx[b.op], dst: b.dst, src: a.src, aux: a.dst, off: b.off}, true
	}
	return slot{}, false
}
