package loader

import (
	"bytes"
	"path/filepath"
	"strings"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/elfobj"
	"tinylab/vm/rbf"
)

// Detect tells which format a file is in: assembly by its extension (.asm,
// .s), an rBPF image or an ELF object by their magic bytes, raw bytecode
// otherwise.
func Detect(name string, b []byte) vm.Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".asm", ".s":
		return vm.FormatAsm
	}
	switch {
	case bytes.HasPrefix(b, []byte(rbf.Magic)):
		return vm.FormatRBF
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return vm.FormatELF
	}
	return vm.FormatRaw
}

// Load reads a program in any format Detect knows.
func Load(name string, b []byte) (*vm.Image, error) {
	switch Detect(name, b) {
	case vm.FormatAsm:
		return asm.Assemble(string(b))
	case vm.FormatRBF:
		return rbf.Decode(b)
	case vm.FormatELF:
		return elfobj.Decode(b)
	}
	return vm.LoadRaw(b)
}

// LoadVerified loads and verifies in one step.
func LoadVerified(name string, b []byte, helpers vm.HelperSet) (*vm.Program, error) {
	img, err := Load(name, b)
	if err != nil {
		return nil, err
	}
	return vm.Verify(img, helpers)
}
