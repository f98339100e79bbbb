// Package elfobj reads the relocatable ELF objects that
// `clang -target bpf -O2 -c` writes and turns them into a vm.Image.
//
// Sections: every allocated executable PROGBITS section (.text, named
// program sections such as SEC("loop")) is concatenated into the text in
// section order; writable PROGBITS sections (.data*) form .data, followed by
// the NOBITS ones (.bss*) as zeroes; the other allocated PROGBITS sections
// (.rodata, .rodata.str1.1, ...) form .rodata. Debug sections, unwind tables
// (.eh_frame, which RIOT's `clang -emit-llvm | llc -march=bpf` build leaves in)
// and notes are ignored, with their relocations.
//
// Relocations (Linux Documentation/bpf/llvm_reloc.rst):
//   - R_BPF_64_64 on an lddw into .data/.bss or .rodata becomes the
//     femto-container opcode 0xb8 or 0xd8 with the offset into the merged
//     section, exactly what gen_rbf.py produces, so the image converts to
//     the rBPF format unchanged;
//   - R_BPF_64_32 on a `call local` (a call to a function in another
//     section, or to a global one) is resolved to a pc-relative offset;
//   - R_BPF_64_ABS64/ABS32 inside .data or .rodata (pointers to strings in a
//     table) are written as the VM's fixed addresses (vm.DataBase,
//     vm.RodataBase); gen_rbf.py rejects these, this loader supports them.
//
// Entry points are the global (and weak) function symbols, plus the names of
// executable sections other than .text. Undefined symbols (extern
// functions), function pointers and common symbols are rejected with the
// symbol's name.
//
// It is a small hand-written reader rather than debug/elf because it needs
// only ELF64 little-endian relocatable objects, must never panic on hostile
// input (it is fuzzed), and bounds every size it allocates (MaxData). It
// imports only vm.
package elfobj
