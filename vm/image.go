package vm

// Format names where an Image came from.
type Format uint8

// The formats the loaders read.
const (
	FormatRaw Format = iota // bare 8-byte slots
	FormatRBF               // femto-container application image ("rBPF" header)
	FormatELF               // relocatable object from clang -target bpf
	FormatAsm               // assembly text in the conformance corpus dialect
)

func (f Format) String() string {
	switch f {
	case FormatRaw:
		return "raw"
	case FormatRBF:
		return "rbf"
	case FormatELF:
		return "elf"
	case FormatAsm:
		return "asm"
	}
	return "unknown"
}

// Function is a named entry point.
type Function struct {
	Name string
	PC   int // slot index in Text
}

// Image is a loaded, not yet verified program: what every loader produces and
// Verify consumes.
type Image struct {
	Text      []Instruction // one entry per 8-byte slot (a wide load takes two)
	Data      []byte        // initial .data with .bss zeroes appended; each instance gets a writable copy
	Rodata    []byte        // read-only data
	Functions []Function    // entry points: rBPF function table, ELF global functions, assembler labels
	Format    Format
}

// Entry returns the pc of the named function.
func (img *Image) Entry(name string) (int, bool) {
	for _, f := range img.Functions {
		if f.Name == name {
			return f.PC, true
		}
	}
	return 0, false
}

// LoadRaw reads bare bytecode: a whole number of 8-byte little-endian slots.
func LoadRaw(b []byte) (*Image, error) {
	text, err := DecodeText(b)
	if err != nil {
		return nil, err
	}
	return &Image{Text: text, Format: FormatRaw}, nil
}
