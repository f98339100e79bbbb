// Package asm is the assembler and disassembler for the assembly dialect of
// the eBPF conformance corpus (bpf_conformance's tests and uBPF's), the text
// workshop attendees write and `tinylab vm asm|disasm` reads and prints.
//
// Assemble reads the dialect described in
// ../shared/testdata/bpf_conformance/README.md: `%rN` registers, `[%rN+off]`
// memory operands, `+N`/`-N`/label jump targets (the first exit is also the
// label `exit`), `call N`, `call %rN`, `call local label`, and
// `lock [fetch] op` atomics. Errors carry the line and column. Disassemble
// writes text that assembles back to the identical bytes.
//
// The mnemonic table is derived from vm.Instruction.Mnemonic, so the
// assembler, the disassembler and the VM cannot disagree on names. It is
// hand-written because no Go library reads this dialect (LLVM's BPF syntax
// is a different one). It imports only vm.
package asm
