// Package wasm is tinylab's WebAssembly runtime, the second container
// runtime beside the eBPF VM, as upstream TinyContainer's main runtime is
// WAMR: it decodes, checks, meters and compiles modules (Compile → Module),
// instantiates them (Instance) and calls their exports with budgets,
// reporting what ran (Stats, by the eBPF VM's cost classes) and every trap
// as a typed error (Trap, Kind, KindOf). Natives are imported from module
// "env" (Natives) and reach the embedder through Host, with every pointer
// checked through Memory.
//
// It imports nothing of the project: not vm, not device, not firewall. The
// device wraps it behind its runtime seam and decides there which native a
// container may call. The command line is the sub-package wasmcli.
//
// # Why metering by rewriting
//
// wazero runs modules with an interpreter and a compiler but has no fuel:
// nothing counts instructions or stops a loop. Compile therefore rewrites
// each function before wazero sees it. Every body is cut into straight-line
// segments at each control-flow point (loop, if, else, end, br, br_if,
// br_table, return, call, call_indirect, unreachable; entering a block is
// not one, it is only ever fallen into), and each segment starts with code
// that adds its static cost, by class, to counters held in mutable globals
// appended to the module, and traps when the instruction or loop-iteration
// budget goes below zero, before any of the segment runs: a failed check
// branches, with a code naming its site and reason, to one trap block per
// function, which stores the code in a global and executes unreachable. A depth global, raised at each
// function entry and lowered at each exit (the body is wrapped in a block
// so that a branch to the function's label passes the exit too), bounds
// recursion. A position global records the last place that can trap, so a
// trap names its function and offset on every engine and the counters can
// take back the part of the segment that did not run. Because the counts
// are in the code, they are the same under wazero's interpreter and its
// compiler; the tests run every program on both and compare.
//
// The counters are three i64 globals, each holding a budget that counts
// down in its low half (instructions; loop iterations) and a class count in
// its high half (branch; load/store), plus divide and call counts: most
// segments pay one read-modify-write and one compare. A position is stored
// before each instruction that can trap, except that the loads and stores
// of a segment share one (see Trap): stores to globals are what the
// compiled code pays most for.
//
// Budgets are exact: a call that executes N instructions passes with a
// budget of N and traps with N-1, after exactly the instructions that fit.
// Branches counts loop iterations (each entry into a loop body): the only
// way wasm code repeats, so the branch budget bounds time as the eBPF VM's
// taken-branch budget does.
//
// # What is accepted
//
// WebAssembly 1.0, sign extension and non-trapping float-to-int, nothing
// else: SIMD, threads, reference types, bulk memory, multi-value,
// multi-memory, memory64, tail calls, exception handling and GC are refused
// at Compile with the feature named (the meter does not know their costs).
// Only function imports from "env" with the signatures in Natives are
// accepted. The start function runs as a metered call at instantiation. No
// WASI: a module sees no clock, no files, no randomness.
//
// # Memory
//
// RAM is what a board is charged, as WAMR does on an MCU: a module that
// never grows its memory and exports __heap_base (as lld does with
// --export=__heap_base) costs the bytes below it (data, then stack, or the
// reverse), not its 64 KiB page; a module that may grow costs its maximum,
// clamped to Config.MaxPages, which memory.grow cannot pass (it returns
// -1). On the host each linear memory is its own anonymous mapping, so a
// page costs host RAM only where the module touched it.
//
// # Why wabin
//
// github.com/tetratelabs/wabin decodes a binary into plain structs and
// encodes them back, which is all the rewrite needs beside its own
// instruction decoder (ops.go) for the bodies. Its decoder allocates by the
// counts it reads, so a structural pass (binary.go) first checks every
// count against the bytes left, refuses unsupported features by name, and
// strips custom sections (the name section is read there, for trap
// messages); the bodies' offsets in the original binary come from the same
// pass, so offsets in errors are the user's file's.
//
// # Engines and cost
//
// One wazero runtime per engine is made on first use, with a compilation
// cache, and kept: modules compile into it, instances are cheap (tens of
// microseconds). Every call goes through one dispatcher function the meter
// adds (an export number and up to four arguments), because wazero gives
// each exported function handed out its own 10 KiB stack on the compiler:
// an instance with start, loop and stop holds one. Auto is the compiler where wazero has one (amd64, arm64)
// and the interpreter elsewhere. Measure with
// `go test -run '^$' -bench . -count 6 ./vm/wasm/` and benchstat; the
// kernels are the eBPF VM's (vm/bench_test.go), in C.
package wasm
