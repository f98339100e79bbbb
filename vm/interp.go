package vm

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unsafe"
)

// Why exec stopped.
const (
	stopExit       = iota + 1 // exit: return from a local call or end the run
	stopHelper                // call or callx: the outer loop calls the helper
	stopCallLocal             // call local
	stopCheckpoint            // taken branch at the checkpoint count
	stopFault                 // load or store outside its region; in.fault* say what
	stopAtomic                // atomic instruction: executed by the outer loop
	stopInvalid               // not an instruction start (cannot happen after Verify)
)

// run drives exec: it performs what exec stops for (calls, returns,
// checkpoints, atomics) and builds the errors, so that exec makes no calls
// and the Go compiler can keep its state in machine registers.
func (in *Instance) run(entry int, r1, r2 uint64) (uint64, error) {
	r := &in.regs
	*r = [16]uint64{}
	r[1], r[2] = r1, r2
	r[10] = StackBase + StackFrameSize
	vec := in.prog.vec
	code := in.prog.code
	pc := entry
	depth := 0
	var taken uint64
	limit, err := in.checkpoint(0, 0, entry, entry)
	if err != nil {
		return 0, err
	}
	acc := vec[entry]
	for {
		var why uint8
		in.acc, in.taken, in.limit = acc, taken, limit
		pc, why = in.exec(pc)
		acc, taken = in.acc, in.taken
		pc-- // exec returns the slot after the one that stopped it
		s := &code[pc]
		switch why {
		case stopExit:
			if depth == 0 {
				in.finish(acc, taken, pc)
				return r[0], nil
			}
			depth--
			f := &in.frames[depth]
			pc, r[6], r[7], r[8], r[9] = f.ret, f.r6, f.r7, f.r8, f.r9
			r[10] -= StackFrameSize
			in.setStack(depth + 1)
			acc += vec[pc]
		case stopHelper:
			id := s.imm
			if s.op == opCallX {
				id = r[s.dst&15]
			}
			v, halt, err := in.callHelper(id, r, pc)
			if err != nil {
				return 0, in.failAt(err, acc, taken, pc)
			}
			r[0] = v
			if halt {
				in.finish(acc, taken, pc)
				return v, nil
			}
			pc++
			acc += vec[pc]
		case stopCallLocal:
			in.stats.Call++
			if depth+1 >= MaxCallDepth {
				return 0, in.failAt(errAt(ErrCallDepth, pc, "more than %d nested calls", MaxCallDepth), acc, taken, pc)
			}
			taken++
			in.localCalls++
			if taken >= limit {
				if limit, err = in.checkpoint(acc, taken, pc, int(s.off)); err != nil {
					in.stats.TakenBranches = taken
					return 0, err
				}
				acc = 0
			}
			f := &in.frames[depth]
			f.ret, f.r6, f.r7, f.r8, f.r9 = pc+1, r[6], r[7], r[8], r[9]
			depth++
			r[10] += StackFrameSize
			in.setStack(depth + 1)
			in.dirtyFrames = max(in.dirtyFrames, depth+1)
			pc = int(s.off)
			acc += vec[pc]
		case stopCheckpoint:
			// exec counted the branch in taken but did not take it.
			if limit, err = in.checkpoint(acc, taken, pc, int(s.off)); err != nil {
				in.stats.TakenBranches = taken - 1 // refused, so not taken
				return 0, err
			}
			pc = int(s.off)
			acc = vec[pc]
		case stopFault:
			in.pc = pc
			return 0, in.failAt(in.memError(in.faultAddr, int(in.faultSize), in.faultAccess, ""), acc, taken, pc)
		case stopAtomic:
			in.pc = pc
			if err := in.atomic(s, r); err != nil {
				return 0, in.failAt(err, acc, taken, pc)
			}
			pc++
		default:
			return 0, in.failAt(errAt(ErrIllegalInstruction, pc, "not an instruction start"), acc, taken, pc)
		}
	}
}

// exec is the interpreter loop proper. It keeps its state in locals and
// calls nothing, so that the compiler holds pc, acc (packed class counts,
// see Program.vec) and taken (taken branches plus local calls) in machine
// registers; the eBPF registers live in the Instance. It returns to run for
// anything that needs a call, with the pc after the instruction that
// stopped it. Every load and store is checked against the region its address
// falls in.
func (in *Instance) exec(pc int) (int, uint8) {
	acc, taken, limit := in.acc, in.taken, in.limit
	r := &in.regs
	// pc stays within [0, len(text)] (jump targets are verified, straight
	// lines end in exit or ja, and code has a sentinel slot at len(text)),
	// and vec has len(text)+1 entries, so exec indexes both without bounds
	// checks.
	code := unsafe.Pointer(unsafe.SliceData(in.prog.code))
	vec := unsafe.Pointer(unsafe.SliceData(in.prog.vec))
	for {
		s := (*slot)(unsafe.Add(code, uintptr(pc)*unsafe.Sizeof(slot{})))
		pc++ // from here on pc is the next slot (stops return it; run steps back)
		switch s.op {
		case opAdd64K:
			r[s.dst&15] += s.imm
		case opMul64K:
			r[s.dst&15] *= s.imm
		case opDiv64K:
			in.stats.Divide++
			if s.imm == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] /= s.imm
			}
		case opSDiv64K:
			in.stats.Divide++
			if s.imm == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] = uint64(int64(r[s.dst&15]) / int64(s.imm))
			}
		case opOr64K:
			r[s.dst&15] |= s.imm
		case opAnd64K:
			r[s.dst&15] &= s.imm
		case opLsh64K:
			r[s.dst&15] <<= s.imm & 63
		case opRsh64K:
			r[s.dst&15] >>= s.imm & 63
		case opMod64K:
			in.stats.Divide++
			if s.imm != 0 {
				r[s.dst&15] %= s.imm
			}
		case opSMod64K:
			in.stats.Divide++
			if s.imm != 0 {
				r[s.dst&15] = uint64(int64(r[s.dst&15]) % int64(s.imm))
			}
		case opXor64K:
			r[s.dst&15] ^= s.imm
		case opMov64K:
			r[s.dst&15] = s.imm
		case opArsh64K:
			r[s.dst&15] = uint64(int64(r[s.dst&15]) >> (s.imm & 63))
		case opLddw:
			r[s.dst&15] = s.imm
			pc++

		case opAdd64X:
			r[s.dst&15] += r[s.src&15]
		case opSub64X:
			r[s.dst&15] -= r[s.src&15]
		case opMul64X:
			r[s.dst&15] *= r[s.src&15]
		case opDiv64X:
			in.stats.Divide++
			if v := r[s.src&15]; v == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] /= v
			}
		case opSDiv64X:
			in.stats.Divide++
			if v := int64(r[s.src&15]); v == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] = uint64(int64(r[s.dst&15]) / v)
			}
		case opOr64X:
			r[s.dst&15] |= r[s.src&15]
		case opAnd64X:
			r[s.dst&15] &= r[s.src&15]
		case opLsh64X:
			r[s.dst&15] <<= r[s.src&15] & 63
		case opRsh64X:
			r[s.dst&15] >>= r[s.src&15] & 63
		case opMod64X:
			in.stats.Divide++
			if v := r[s.src&15]; v != 0 {
				r[s.dst&15] %= v
			}
		case opSMod64X:
			in.stats.Divide++
			if v := int64(r[s.src&15]); v != 0 {
				r[s.dst&15] = uint64(int64(r[s.dst&15]) % v)
			}
		case opXor64X:
			r[s.dst&15] ^= r[s.src&15]
		case opMov64X:
			r[s.dst&15] = r[s.src&15]
		case opArsh64X:
			r[s.dst&15] = uint64(int64(r[s.dst&15]) >> (r[s.src&15] & 63))
		case opNeg64:
			r[s.dst&15] = -r[s.dst&15]
		case opMovSX8to64:
			r[s.dst&15] = uint64(int64(int8(r[s.src&15])))
		case opMovSX16to64:
			r[s.dst&15] = uint64(int64(int16(r[s.src&15])))
		case opMovSX32to64:
			r[s.dst&15] = uint64(int64(int32(r[s.src&15])))

		case opAdd32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) + uint32(s.imm))
		case opMul32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) * uint32(s.imm))
		case opDiv32K:
			in.stats.Divide++
			if v := uint32(s.imm); v == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]) / v)
			}
		case opSDiv32K:
			in.stats.Divide++
			if v := int32(s.imm); v == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] = uint64(uint32(int32(r[s.dst&15]) / v))
			}
		case opOr32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) | uint32(s.imm))
		case opAnd32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) & uint32(s.imm))
		case opLsh32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) << (s.imm & 31))
		case opRsh32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) >> (s.imm & 31))
		case opMod32K:
			in.stats.Divide++
			if v := uint32(s.imm); v != 0 {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]) % v)
			} else {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]))
			}
		case opSMod32K:
			in.stats.Divide++
			if v := int32(s.imm); v != 0 {
				r[s.dst&15] = uint64(uint32(int32(r[s.dst&15]) % v))
			} else {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]))
			}
		case opXor32K:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) ^ uint32(s.imm))
		case opMov32K:
			r[s.dst&15] = uint64(uint32(s.imm))
		case opArsh32K:
			r[s.dst&15] = uint64(uint32(int32(r[s.dst&15]) >> (s.imm & 31)))

		case opAdd32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) + uint32(r[s.src&15]))
		case opSub32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) - uint32(r[s.src&15]))
		case opMul32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) * uint32(r[s.src&15]))
		case opDiv32X:
			in.stats.Divide++
			if v := uint32(r[s.src&15]); v == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]) / v)
			}
		case opSDiv32X:
			in.stats.Divide++
			if v := int32(r[s.src&15]); v == 0 {
				r[s.dst&15] = 0
			} else {
				r[s.dst&15] = uint64(uint32(int32(r[s.dst&15]) / v))
			}
		case opOr32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) | uint32(r[s.src&15]))
		case opAnd32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) & uint32(r[s.src&15]))
		case opLsh32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) << (r[s.src&15] & 31))
		case opRsh32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) >> (r[s.src&15] & 31))
		case opMod32X:
			in.stats.Divide++
			if v := uint32(r[s.src&15]); v != 0 {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]) % v)
			} else {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]))
			}
		case opSMod32X:
			in.stats.Divide++
			if v := int32(r[s.src&15]); v != 0 {
				r[s.dst&15] = uint64(uint32(int32(r[s.dst&15]) % v))
			} else {
				r[s.dst&15] = uint64(uint32(r[s.dst&15]))
			}
		case opXor32X:
			r[s.dst&15] = uint64(uint32(r[s.dst&15]) ^ uint32(r[s.src&15]))
		case opMov32X:
			r[s.dst&15] = uint64(uint32(r[s.src&15]))
		case opArsh32X:
			r[s.dst&15] = uint64(uint32(int32(r[s.dst&15]) >> (r[s.src&15] & 31)))
		case opNeg32:
			r[s.dst&15] = uint64(-uint32(r[s.dst&15]))
		case opMovSX8to32:
			r[s.dst&15] = uint64(uint32(int32(int8(r[s.src&15]))))
		case opMovSX16to32:
			r[s.dst&15] = uint64(uint32(int32(int16(r[s.src&15]))))

		case opNop:
		case opSwap16:
			r[s.dst&15] = uint64(bits.ReverseBytes16(uint16(r[s.dst&15])))
		case opSwap32:
			r[s.dst&15] = uint64(bits.ReverseBytes32(uint32(r[s.dst&15])))
		case opSwap64:
			r[s.dst&15] = bits.ReverseBytes64(r[s.dst&15])

		// Loads and stores are written out per width on purpose: the region
		// check folds with a constant size, there is no call in the hot loop,
		// and a fault can jump straight to the fault label.
		case opLdxB:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld8(rg.ptr, o))
		case opLdxH:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld16(rg.ptr, o))
		case opLdxW:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld32(rg.ptr, o))
		case opLdxDW:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+8 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 8, AccessRead
				goto fault
			}
			r[s.dst&15] = ld64(rg.ptr, o)
		case opLdxSB:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(int64(int8(ld8(rg.ptr, o))))
		case opLdxSH:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(int64(int16(ld16(rg.ptr, o))))
		case opLdxSW:
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(int64(int32(ld32(rg.ptr, o))))

		case opStB, opStxB:
			a := r[s.dst&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessWrite
				goto fault
			}
			v := s.imm
			if s.op == opStxB {
				v = r[s.src&15]
			}
			st8(rg.ptr, o, uint8(v))
		case opStH, opStxH:
			a := r[s.dst&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessWrite
				goto fault
			}
			v := s.imm
			if s.op == opStxH {
				v = r[s.src&15]
			}
			st16(rg.ptr, o, uint16(v))
		case opStW, opStxW:
			a := r[s.dst&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessWrite
				goto fault
			}
			v := s.imm
			if s.op == opStxW {
				v = r[s.src&15]
			}
			st32(rg.ptr, o, uint32(v))
		case opStDW, opStxDW:
			a := r[s.dst&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+8 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 8, AccessWrite
				goto fault
			}
			v := s.imm
			if s.op == opStxDW {
				v = r[s.src&15]
			}
			st64(rg.ptr, o, v)
		case opAtomic32, opAtomic64:
			in.acc, in.taken = acc, taken
			return pc, stopAtomic

		case opJa:
			goto jump
		case opJeqK:
			if r[s.dst&15] == s.imm {
				goto jump
			}
			goto next
		case opJgtK:
			if r[s.dst&15] > s.imm {
				goto jump
			}
			goto next
		case opJgeK:
			if r[s.dst&15] >= s.imm {
				goto jump
			}
			goto next
		case opJsetK:
			if r[s.dst&15]&s.imm != 0 {
				goto jump
			}
			goto next
		case opJneK:
			if r[s.dst&15] != s.imm {
				goto jump
			}
			goto next
		case opJsgtK:
			if int64(r[s.dst&15]) > int64(s.imm) {
				goto jump
			}
			goto next
		case opJsgeK:
			if int64(r[s.dst&15]) >= int64(s.imm) {
				goto jump
			}
			goto next
		case opJltK:
			if r[s.dst&15] < s.imm {
				goto jump
			}
			goto next
		case opJleK:
			if r[s.dst&15] <= s.imm {
				goto jump
			}
			goto next
		case opJsltK:
			if int64(r[s.dst&15]) < int64(s.imm) {
				goto jump
			}
			goto next
		case opJsleK:
			if int64(r[s.dst&15]) <= int64(s.imm) {
				goto jump
			}
			goto next

		case opJeqX:
			if r[s.dst&15] == r[s.src&15] {
				goto jump
			}
			goto next
		case opJgtX:
			if r[s.dst&15] > r[s.src&15] {
				goto jump
			}
			goto next
		case opJgeX:
			if r[s.dst&15] >= r[s.src&15] {
				goto jump
			}
			goto next
		case opJsetX:
			if r[s.dst&15]&r[s.src&15] != 0 {
				goto jump
			}
			goto next
		case opJneX:
			if r[s.dst&15] != r[s.src&15] {
				goto jump
			}
			goto next
		case opJsgtX:
			if int64(r[s.dst&15]) > int64(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJsgeX:
			if int64(r[s.dst&15]) >= int64(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJltX:
			if r[s.dst&15] < r[s.src&15] {
				goto jump
			}
			goto next
		case opJleX:
			if r[s.dst&15] <= r[s.src&15] {
				goto jump
			}
			goto next
		case opJsltX:
			if int64(r[s.dst&15]) < int64(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJsleX:
			if int64(r[s.dst&15]) <= int64(r[s.src&15]) {
				goto jump
			}
			goto next

		case opJeq32K:
			if uint32(r[s.dst&15]) == uint32(s.imm) {
				goto jump
			}
			goto next
		case opJgt32K:
			if uint32(r[s.dst&15]) > uint32(s.imm) {
				goto jump
			}
			goto next
		case opJge32K:
			if uint32(r[s.dst&15]) >= uint32(s.imm) {
				goto jump
			}
			goto next
		case opJset32K:
			if uint32(r[s.dst&15])&uint32(s.imm) != 0 {
				goto jump
			}
			goto next
		case opJne32K:
			if uint32(r[s.dst&15]) != uint32(s.imm) {
				goto jump
			}
			goto next
		case opJsgt32K:
			if int32(r[s.dst&15]) > int32(s.imm) {
				goto jump
			}
			goto next
		case opJsge32K:
			if int32(r[s.dst&15]) >= int32(s.imm) {
				goto jump
			}
			goto next
		case opJlt32K:
			if uint32(r[s.dst&15]) < uint32(s.imm) {
				goto jump
			}
			goto next
		case opJle32K:
			if uint32(r[s.dst&15]) <= uint32(s.imm) {
				goto jump
			}
			goto next
		case opJslt32K:
			if int32(r[s.dst&15]) < int32(s.imm) {
				goto jump
			}
			goto next
		case opJsle32K:
			if int32(r[s.dst&15]) <= int32(s.imm) {
				goto jump
			}
			goto next

		case opJeq32X:
			if uint32(r[s.dst&15]) == uint32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJgt32X:
			if uint32(r[s.dst&15]) > uint32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJge32X:
			if uint32(r[s.dst&15]) >= uint32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJset32X:
			if uint32(r[s.dst&15])&uint32(r[s.src&15]) != 0 {
				goto jump
			}
			goto next
		case opJne32X:
			if uint32(r[s.dst&15]) != uint32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJsgt32X:
			if int32(r[s.dst&15]) > int32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJsge32X:
			if int32(r[s.dst&15]) >= int32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJlt32X:
			if uint32(r[s.dst&15]) < uint32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJle32X:
			if uint32(r[s.dst&15]) <= uint32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJslt32X:
			if int32(r[s.dst&15]) < int32(r[s.src&15]) {
				goto jump
			}
			goto next
		case opJsle32X:
			if int32(r[s.dst&15]) <= int32(r[s.src&15]) {
				goto jump
			}
			goto next

		case opCall, opCallX:
			in.acc, in.taken = acc, taken
			return pc, stopHelper
		case opCallLocal:
			in.acc, in.taken = acc, taken
			return pc, stopCallLocal
		case opExit:
			in.acc, in.taken = acc, taken
			return pc, stopExit

		case opMovLsh64K:
			r[s.dst&15] = r[s.src&15] << (s.imm & 63)
			pc++
		case opMovRsh64K:
			r[s.dst&15] = r[s.src&15] >> (s.imm & 63)
			pc++
		case opMovArsh64K:
			r[s.dst&15] = uint64(int64(r[s.src&15]) >> (s.imm & 63))
			pc++
		case opMovAnd64K:
			r[s.dst&15] = r[s.src&15] & s.imm
			pc++
		case opMovAdd64K:
			r[s.dst&15] = r[s.src&15] + s.imm
			pc++

		case opAddJeqK:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] == uint64(int64(int32(s.imm>>32))) {
				goto jump
			}
			goto next
		case opAddJneK:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] != uint64(int64(int32(s.imm>>32))) {
				goto jump
			}
			goto next
		case opAddJltK:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] < uint64(int64(int32(s.imm>>32))) {
				goto jump
			}
			goto next
		case opAddJleK:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] <= uint64(int64(int32(s.imm>>32))) {
				goto jump
			}
			goto next
		case opAddJgtK:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] > uint64(int64(int32(s.imm>>32))) {
				goto jump
			}
			goto next
		case opAddJgeK:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] >= uint64(int64(int32(s.imm>>32))) {
				goto jump
			}
			goto next
		case opAddJeqX:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] == r[s.src&15] {
				goto jump
			}
			goto next
		case opAddJneX:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] != r[s.src&15] {
				goto jump
			}
			goto next
		case opAddJltX:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] < r[s.src&15] {
				goto jump
			}
			goto next
		case opAddJleX:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] <= r[s.src&15] {
				goto jump
			}
			goto next
		case opAddJgtX:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] > r[s.src&15] {
				goto jump
			}
			goto next
		case opAddJgeX:
			d := s.dst & 15
			r[d] += uint64(int64(int32(s.imm)))
			pc++
			if r[d] >= r[s.src&15] {
				goto jump
			}
			goto next
		case opLdxBAdd:
			pc++ // past the add; a fault steps back to the load
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.rlen {
				pc--
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld8(rg.ptr, o))
			r[s.aux&15] += s.imm
		case opLdxHAdd:
			pc++ // past the add; a fault steps back to the load
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.rlen {
				pc--
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld16(rg.ptr, o))
			r[s.aux&15] += s.imm
		case opLdxWAdd:
			pc++ // past the add; a fault steps back to the load
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.rlen {
				pc--
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld32(rg.ptr, o))
			r[s.aux&15] += s.imm
		case opLdxDWAdd:
			pc++ // past the add; a fault steps back to the load
			a := r[s.src&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+8 > rg.rlen {
				pc--
				in.faultAddr, in.faultSize, in.faultAccess = a, 8, AccessRead
				goto fault
			}
			r[s.dst&15] = ld64(rg.ptr, o)
			r[s.aux&15] += s.imm
		case opAddLdxB:
			r[s.aux&15] += r[s.src&15]
			pc++
			a := r[s.aux&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld8(rg.ptr, o))
		case opAddLdxH:
			r[s.aux&15] += r[s.src&15]
			pc++
			a := r[s.aux&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld16(rg.ptr, o))
		case opAddLdxW:
			r[s.aux&15] += r[s.src&15]
			pc++
			a := r[s.aux&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld32(rg.ptr, o))
		case opAddLdxDW:
			r[s.aux&15] += r[s.src&15]
			pc++
			a := r[s.aux&15] + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+8 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 8, AccessRead
				goto fault
			}
			r[s.dst&15] = ld64(rg.ptr, o)
		case opJeqJeqK:
			if r[s.dst&15] == uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] == uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJeqJneK:
			if r[s.dst&15] == uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] != uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJeqJltK:
			if r[s.dst&15] == uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] < uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJeqJleK:
			if r[s.dst&15] == uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] <= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJeqJgtK:
			if r[s.dst&15] == uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] > uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJeqJgeK:
			if r[s.dst&15] == uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] >= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJneJeqK:
			if r[s.dst&15] != uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] == uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJneJneK:
			if r[s.dst&15] != uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] != uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJneJltK:
			if r[s.dst&15] != uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] < uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJneJleK:
			if r[s.dst&15] != uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] <= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJneJgtK:
			if r[s.dst&15] != uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] > uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJneJgeK:
			if r[s.dst&15] != uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] >= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJltJeqK:
			if r[s.dst&15] < uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] == uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJltJneK:
			if r[s.dst&15] < uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] != uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJltJltK:
			if r[s.dst&15] < uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] < uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJltJleK:
			if r[s.dst&15] < uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] <= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJltJgtK:
			if r[s.dst&15] < uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] > uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJltJgeK:
			if r[s.dst&15] < uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] >= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJleJeqK:
			if r[s.dst&15] <= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] == uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJleJneK:
			if r[s.dst&15] <= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] != uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJleJltK:
			if r[s.dst&15] <= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] < uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJleJleK:
			if r[s.dst&15] <= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] <= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJleJgtK:
			if r[s.dst&15] <= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] > uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJleJgeK:
			if r[s.dst&15] <= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] >= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgtJeqK:
			if r[s.dst&15] > uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] == uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgtJneK:
			if r[s.dst&15] > uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] != uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgtJltK:
			if r[s.dst&15] > uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] < uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgtJleK:
			if r[s.dst&15] > uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] <= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgtJgtK:
			if r[s.dst&15] > uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] > uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgtJgeK:
			if r[s.dst&15] > uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] >= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgeJeqK:
			if r[s.dst&15] >= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] == uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgeJneK:
			if r[s.dst&15] >= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] != uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgeJltK:
			if r[s.dst&15] >= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] < uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgeJleK:
			if r[s.dst&15] >= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] <= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgeJgtK:
			if r[s.dst&15] >= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] > uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opJgeJgeK:
			if r[s.dst&15] >= uint64(int64(int32(s.imm))) {
				goto jump
			}
			acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
			pc++
			if r[s.dst&15] >= uint64(int64(int32(s.imm>>32))) {
				goto jump2
			}
			goto next
		case opLshRsh64K:
			r[s.dst&15] = r[s.dst&15] << (s.imm & 63) >> (s.imm >> 32 & 63)
			pc++
		case opLshArsh64K:
			r[s.dst&15] = uint64(int64(r[s.dst&15]<<(s.imm&63)) >> (s.imm >> 32 & 63))
			pc++
		case opMovAdd64X:
			r[s.dst&15] = r[s.src&15] + r[s.aux&15]
			pc++
		case opLddwLdxB:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld8(rg.ptr, o))
		case opLddwLdxH:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld16(rg.ptr, o))
		case opLddwLdxW:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessRead
				goto fault
			}
			r[s.dst&15] = uint64(ld32(rg.ptr, o))
		case opLddwLdxDW:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+8 > rg.rlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 8, AccessRead
				goto fault
			}
			r[s.dst&15] = ld64(rg.ptr, o)
		case opLddwStxB:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+1 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 1, AccessWrite
				goto fault
			}
			st8(rg.ptr, o, uint8(r[s.src&15]))
		case opLddwStxH:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+2 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 2, AccessWrite
				goto fault
			}
			st16(rg.ptr, o, uint16(r[s.src&15]))
		case opLddwStxW:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+4 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 4, AccessWrite
				goto fault
			}
			st32(rg.ptr, o, uint32(r[s.src&15]))
		case opLddwStxDW:
			r[s.aux&15] = s.imm
			pc += 2
			a := s.imm + uint64(int64(s.off))
			rg := &in.mem[a>>28&15]
			o := a & (RegionSpan - 1)
			if a>>32 != 0 || o+8 > rg.wlen {
				in.faultAddr, in.faultSize, in.faultAccess = a, 8, AccessWrite
				goto fault
			}
			st64(rg.ptr, o, r[s.src&15])
		case opInvalid: // listed so that the jump table starts at 0
			in.acc, in.taken = acc, taken
			return pc, stopInvalid
		default:
			in.acc, in.taken = acc, taken
			return pc, stopInvalid
		}
		continue
	next:
		acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
		continue
	fault:
		in.acc, in.taken = acc, taken
		return pc, stopFault
	jump:
		taken++
		if taken >= limit {
			in.acc, in.taken = acc, taken
			return pc, stopCheckpoint
		}
		pc = int(s.off)
		acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
		continue
	jump2:
		// The second jump of a fused pair (its 16-bit offset in src, aux).
		taken++
		if taken >= limit {
			in.acc, in.taken = acc, taken
			return pc, stopCheckpoint
		}
		pc += int(int16(uint16(s.src) | uint16(s.aux)<<8))
		acc += *(*uint64)(unsafe.Add(vec, uintptr(pc)*8))
	}
}

// setStack makes the first frames of the stack accessible: a function
// reaches its own frame and its callers'. Frames are allocated the first
// time a call reaches them: most containers never call, and a fleet of
// thousands keeps one frame each instead of MaxCallDepth.
func (in *Instance) setStack(frames int) {
	n := uint64(frames * StackFrameSize)
	if n > uint64(len(in.stack)) {
		in.stack = append(in.stack, make([]byte, int(n)-len(in.stack))...)
		in.mem[slotStack].ptr = unsafe.Pointer(unsafe.SliceData(in.stack))
	}
	in.mem[slotStack].rlen, in.mem[slotStack].wlen = n, n
	in.info[slotStack].buf = in.stack[:n]
}

// failAt ends a run with err raised by the instruction at pc.
func (in *Instance) failAt(err error, acc, taken uint64, pc int) error {
	in.finish(acc, taken, pc)
	return err
}

// callHelper calls helper id with r1..r5. halt reports that the helper asked
// to end the run (ErrHalt).
func (in *Instance) callHelper(id uint64, r *[16]uint64, pc int) (v uint64, halt bool, err error) {
	in.stats.Call++
	if id > 0xffffffff || !in.prog.helpers.Known(uint32(id)) {
		return 0, false, &Error{Kind: ErrIllegalCall, PC: pc, Helper: uint32(id), Detail: "helper not provided by the host"}
	}
	if in.helpers == nil {
		return 0, false, &Error{Kind: ErrIllegalCall, PC: pc, Helper: uint32(id), Detail: "the instance has no helpers"}
	}
	in.pc = pc
	in.args = [5]uint64{r[1], r[2], r[3], r[4], r[5]}
	v, err = in.helpers.Call(uint32(id), &in.args, &in.memory)
	if err != nil {
		if errors.Is(err, ErrHalt) {
			return v, true, nil
		}
		return 0, false, &Error{Kind: ErrHelper, PC: pc, Helper: uint32(id), Err: err}
	}
	return v, false, nil
}

// atomic executes an atomic read-modify-write (RFC 9669 §5.3).
func (in *Instance) atomic(s *slot, r *[16]uint64) error {
	n := 4
	if s.op == opAtomic64 {
		n = 8
	}
	a := r[s.dst&15] + uint64(int64(s.off))
	if _, _, err := in.lookup(a, n, AccessRead); err != nil {
		return err
	}
	b, err := in.span(a, n, AccessWrite)
	if err != nil {
		return err
	}
	var old uint64
	if n == 4 {
		old = uint64(binary.LittleEndian.Uint32(b))
	} else {
		old = binary.LittleEndian.Uint64(b)
	}
	src := r[s.src&15]
	nv := old
	op := int32(s.aux)
	switch op &^ AtomicFetch {
	case AtomicAdd:
		nv = old + src
	case AtomicOr:
		nv = old | src
	case AtomicAnd:
		nv = old & src
	case AtomicXor:
		nv = old ^ src
	case AtomicXchg &^ AtomicFetch:
		nv = src
	case AtomicCmpXchg &^ AtomicFetch:
		expect := r[0]
		if n == 4 {
			expect = uint64(uint32(expect))
		}
		if old == expect {
			nv = src
		}
	}
	if n == 4 {
		binary.LittleEndian.PutUint32(b, uint32(nv))
	} else {
		binary.LittleEndian.PutUint64(b, nv)
	}
	switch {
	case op == AtomicCmpXchg:
		r[0] = old
	case op&AtomicFetch != 0:
		r[s.src&15] = old
	}
	return nil
}
