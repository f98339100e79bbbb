package wasm

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a trap or a compile error. Every Kind is also a sentinel
// error, so errors.Is(err, wasm.ErrOutOfBounds) works on any error the
// package returns. String is a stable snake_case name (JSON, events), Error a
// phrase.
type Kind uint8

// Trap kinds (a call failed while running).
const (
	ErrOutOfBounds       Kind = iota + 1 // load or store outside linear memory
	ErrDivideByZero                      // integer division or remainder by zero
	ErrIntegerOverflow                   // signed division of the minimum by -1, or a float too large to truncate
	ErrInvalidConversion                 // truncation of NaN to an integer
	ErrUnreachable                       // the module executed unreachable
	ErrIndirectCall                      // call_indirect outside the table, to a null entry or of the wrong type
	ErrStackExhausted                    // calls nested deeper than Config.MaxCallDepth
	ErrOutOfBudget                       // instruction budget used up
	ErrOutOfBranches                     // loop-iteration budget used up
	ErrNative                            // a native returned an error (or no host was given)

	// Compile errors (the module is refused before it runs).
	ErrBadMagic     // not a WebAssembly 1 binary
	ErrMalformed    // the binary cannot be decoded, or the code does not validate
	ErrUnsupported  // a feature the meter does not handle (SIMD, threads, ...)
	ErrTooManyPages // the memory asks for more pages than the slot allows
	ErrImport       // an import that is not a native, or with another signature
	ErrNoExport     // Call named an export the module does not have
)

var kindInfo = [...]struct{ name, text string }{
	{"unknown", "unknown error"},
	{"out_of_bounds", "out of bounds memory access"},
	{"divide_by_zero", "integer divide by zero"},
	{"integer_overflow", "integer overflow"},
	{"invalid_conversion", "invalid conversion to integer"},
	{"unreachable", "unreachable executed"},
	{"indirect_call", "invalid indirect call"},
	{"stack_exhausted", "call stack exhausted"},
	{"out_of_budget", "out of budget"},
	{"out_of_branches", "out of branches"},
	{"native", "native failed"},
	{"bad_magic", "not a WebAssembly module"},
	{"malformed", "malformed module"},
	{"unsupported", "unsupported feature"},
	{"too_many_pages", "too many memory pages"},
	{"import", "unknown import"},
	{"no_export", "no such export"},
}

func (k Kind) info() (string, string) {
	if int(k) >= len(kindInfo) {
		return kindInfo[0].name, kindInfo[0].text
	}
	return kindInfo[k].name, kindInfo[k].text
}

// String is the stable name of the kind, e.g. "out_of_bounds".
func (k Kind) String() string { n, _ := k.info(); return n }

// Error is the kind as a phrase, e.g. "out of bounds memory access".
func (k Kind) Error() string { _, t := k.info(); return t }

// Trap is every error a call returns once the module runs.
//
// Offset is exact for every kind but one: an out-of-bounds access in a
// straight-line segment with several loads and stores names the first of
// them (the fault is there or at a later access of the same segment),
// because recording each access's position would cost more than the rest
// of the meter. The counters stop at the instruction Offset names, so
// Stats and Offset agree on every engine.
type Trap struct {
	Kind     Kind
	Function string // name from the name section, else "$index"; "" when unknown
	Index    int    // function index (imports first), -1 when unknown
	Offset   int    // byte offset of the trapping instruction in the module binary, -1 when unknown (see below)
	Native   string // ErrNative: the native's name
	Err      error  // cause (a native's error, wazero's message)
}

func (t *Trap) Error() string {
	var b strings.Builder
	if t.Kind == ErrNative && t.Native != "" {
		fmt.Fprintf(&b, "native %s failed", t.Native)
	} else {
		b.WriteString(t.Kind.Error())
	}
	if t.Function != "" {
		b.WriteString(" in " + t.Function)
	}
	if t.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %#x", t.Offset)
	}
	if t.Err != nil && t.Kind == ErrNative {
		b.WriteString(": " + t.Err.Error())
	}
	return b.String()
}

// Unwrap gives both the kind and the cause to errors.Is and errors.As.
func (t *Trap) Unwrap() []error {
	if t.Err != nil {
		return []error{t.Kind, t.Err}
	}
	return []error{t.Kind}
}

// CompileError is every error Compile returns.
type CompileError struct {
	Kind    Kind
	Feature string // ErrUnsupported: the feature, e.g. "SIMD"
	Name    string // ErrImport: "module.name" of the import
	Offset  int    // byte offset in the binary, -1 when not tied to one place
	Detail  string
	Err     error
}

func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Feature != "" {
		b.WriteString(" " + e.Feature)
	}
	if e.Name != "" {
		fmt.Fprintf(&b, " %q", e.Name)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %#x", e.Offset)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap gives both the kind and the cause to errors.Is and errors.As.
func (e *CompileError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func compileErr(k Kind, off int, format string, args ...any) *CompileError {
	return &CompileError{Kind: k, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

func unsupported(feature string, off int, format string, args ...any) *CompileError {
	return &CompileError{Kind: ErrUnsupported, Feature: feature, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of an error of this package, or false when err is
// not one.
func KindOf(err error) (Kind, bool) {
	var t *Trap
	if errors.As(err, &t) {
		return t.Kind, true
	}
	var c *CompileError
	if errors.As(err, &c) {
		return c.Kind, true
	}
	var k Kind
	if errors.As(err, &k) {
		return k, true
	}
	return 0, false
}

// OffsetOf returns the offset an error carries, or -1.
func OffsetOf(err error) int {
	var t *Trap
	if errors.As(err, &t) {
		return t.Offset
	}
	var c *CompileError
	if errors.As(err, &c) {
		return c.Offset
	}
	return -1
}
