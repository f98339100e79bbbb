// Package rbf reads and writes the femto-container application image, the
// "rBPF" format that RIOT's femto-containers load and that gen_rbf.py
// (Femto-Container tools/rbpf) produces from a clang object.
//
// What the real format is, from Femto-Container's femtocontainer.h
// (rbpf_header_t, later f12r_header_t) and gen_rbf.py:
//
//	offset  size  field
//	0       4     magic: the bytes "rBPF" (gen_rbf packs
//	              int.from_bytes(b"rBPF", "little") as <I; the C define
//	              RBPF_MAGIC_NO 0x72425046 is the same value read big-endian,
//	              and the C loader never checks it)
//	4       4     version (gen_rbf writes 0)
//	8       4     flags (0x01: compressed text, which this package rejects)
//	12      4     data_len
//	16      4     rodata_len
//	20      4     text_len
//	24      4     functions: number of function-table entries
//	28            .data, then .rodata, then .text, then the table
//
// All integers are little-endian. A function-table entry (rbpf_function_t)
// is three uint16: name_offset (into .rodata, where gen_rbf appends each
// global function's NUL-terminated name), flags, and location_offset (byte
// offset into .text). gen_rbf rewrites every lddw that the ELF relocates into
// .data or .rodata as opcode 0xb8 ("LDDWD", address = start of .data + imm)
// or 0xd8 ("LDDWR", start of .rodata + imm); the VM executes both (see
// vm.OpLDDWD, vm.OpLDDWR). There is no .bss length in this 28-byte header
// (a later fork adds one, making it 32 bytes), so .bss travels as zeroes in
// .data.
//
// Decode rejects a wrong magic, unknown flags, lengths that do not add up to
// the file size exactly, a text length that is not a multiple of 8, and
// function entries that point outside .rodata or .text. It imports only vm.
package rbf
