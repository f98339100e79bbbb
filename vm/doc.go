// Package vm is tinylab's eBPF virtual machine with femto-container
// semantics: the instruction model (Opcode, Class, Reg, Instruction), the
// Image every loader produces, the pre-flight verifier (Verify → Program),
// the interpreter (Instance), its errors, the helper interface and the
// memory regions.
//
// It imports nothing of the project (only the standard library). The
// loaders for the rBPF image (vm/rbf) and ELF objects (vm/elfobj), the
// assembler and disassembler (vm/asm), format detection (vm/loader) and the
// command line (vm/vmcli) are sub-packages that import vm, never the reverse.
//
// # Semantics
//
// The instruction set is RFC 9669, everything the conformance corpus in
// ../shared/testdata/bpf_conformance exercises: ALU and ALU64 with signed
// division and modulo, MOVSX, byte swaps, JMP and JMP32, ja32, atomics,
// sign-extending loads, lddw, local calls, helper calls and callx (register
// in dst). Division by zero gives 0, modulo by zero leaves dst, shift counts
// are masked, ALU32 results are zero-extended. On top of RFC 9669 the VM
// runs the femto-container wide loads 0xb8 (address of .data + imm) and 0xd8
// (address of .rodata + imm) that gen_rbf.py writes (see vm/rbf).
//
// Where femto-containers differ from RFC 9669 this VM follows the RFC, as
// the corpus requires: RIOT's interpreter fails on division by zero, sign-
// extends lddw's low word and demands that the last instruction be exit.
// Here the last instruction of every function must be exit or ja (so no
// function can run off its end, which is what FC_NO_RETURN protects against,
// while the corpus's exit-not-last and ja32 tests still load).
//
// # Memory
//
// Every load, store and atomic is checked against the region its address
// falls in, with that region's permissions. Regions sit at fixed addresses,
// one per 256 MiB span, so addresses print the same on every run and 0 is
// never mapped:
//
//	0x1000_0000  rodata   read-only, shared by all instances of a program
//	0x2000_0000  data     .data then .bss; each instance has its own copy, kept between runs
//	0x3000_0000  stack    512 bytes per frame, up to MaxCallDepth frames
//	0x4000_0000  context  the ctx given to Run (r1; r2 is its length); read-only unless Config.ContextWritable
//	0x5000_0000  host     regions the host grants with AddRegion, then 0x6000_0000, ... 0xF000_0000
//
// r10 is the top of the current 512-byte frame. A local call gets the frame
// above its caller's and keeps r6..r9; a function can reach its own frame and
// its callers' (pointers to locals may be passed down) but not those of
// functions that returned. The frames a run used are zeroed before the next
// run, so runs are deterministic.
//
// # Verifier, budgets, statistics
//
// Verify rejects, before any run, what would make a femto-container fail
// pre-flight (see its documentation); every error is an *Error whose Kind
// is one of the sentinels below and whose PC names the instruction. At run
// time the branch budget counts taken branches exactly; the instruction
// budget is checked at every taken branch and local call against the
// instructions executed plus the straight-line stretch about to start.
// Stats count executed instructions by class (ALU, load/store, branch,
// divide, call) for the device's time and energy model.
//
// # How the interpreter is built, and why by hand
//
// No Go library interprets eBPF with these semantics (cilium/ebpf loads
// programs into the Linux kernel), and the speed goals (about 1 ns per eBPF
// instruction, a run started in well under 100 ns without allocating) shape
// the design:
//   - Verify pre-decodes the text into 16-byte slots with resolved jump
//     targets, sign-extended immediates and masked shift counts, and fuses
//     common adjacent pairs into superinstructions (fuse.go): mov+op,
//     add+branch, compare chains, load+increment, indexed loads, loads and
//     stores of globals, shift pairs. A pair is fused only when nothing
//     jumps to its second half.
//   - exec, the inner loop, is one dense switch (a jump table) that calls
//     nothing: calls, returns, atomics, budget checkpoints and faults stop it
//     and run does the work, so the compiler keeps the loop's state in
//     machine registers.
//   - Instructions are not counted one by one: each slot knows the class
//     counts of the straight-line stretch it starts (Program.vec, three
//     packed lanes), and the loop adds them when it enters a stretch.
//   - Slot, stretch and region accesses use unsafe pointers after explicit
//     checks: pc never leaves the verified text, and a memory access is
//     made only once its offset and size fit the region's readable or
//     writable length (mem_direct.go, mem_portable.go). The differential
//     tests and fuzz targets run every program also on a plain reference
//     interpreter (ref_test.go) and compare registers, memory, errors and
//     counts.
//
// Measure with `go test -run '^$' -bench . -count 6 ./vm/` and benchstat.
// default.pgo in this directory is a CPU profile of those benchmarks; go test
// does not apply it by itself (-pgo=auto only looks beside main packages),
// so pass -pgo=vm/default.pgo to benchmark with it, and copy it next to the
// tinylab main package for the binary to be built with it. With the profile
// the compiler aligns exec's dispatch loop to 64 bytes; without it, results
// move by up to a third with code placement (adding an unrelated file to the
// test binary is enough), so compare builds with the profile.
package vm
