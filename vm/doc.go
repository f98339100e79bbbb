// Package vm is tinylab's eBPF virtual machine with femto-container
// semantics: the instruction model, images, the pre-flight verifier and the
// interpreter.
//
// It imports nothing of the project. Loaders for the rBPF image and ELF
// formats, the assembler and the command line live in sub-packages.
package vm
