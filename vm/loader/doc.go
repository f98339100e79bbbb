// Package loader turns a program file of any supported format into a
// vm.Image: assembly text (vm/asm), the femto-container rBPF image
// (vm/rbf), an ELF object from clang (vm/elfobj) or raw bytecode (vm).
// It exists so that vm itself need not import its sub-packages; it does
// nothing but pick the right one.
package loader
