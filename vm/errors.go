package vm

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies what went wrong. Every Kind is also a sentinel error, so
// errors.Is(err, vm.ErrIllegalMemoryAccess) works on any error the VM returns.
// String gives a stable snake_case name for JSON and events; Error a phrase.
type Kind uint8

// The error kinds. The first nine are the femto-container error codes
// (FC_ILLEGAL_INSTRUCTION ... FC_OUT_OF_BRANCHES) plus the instruction budget.
const (
	ErrIllegalInstruction  Kind = iota + 1 // unknown opcode or a field that must be zero is not
	ErrIllegalMemoryAccess                 // load, store or atomic outside the regions, or without permission
	ErrIllegalJump                         // jump or local call target outside the program, its function, or into an lddw
	ErrIllegalCall                         // helper the host does not know
	ErrIllegalLength                       // empty, too long, or not a whole number of 8-byte slots
	ErrIllegalRegister                     // register above r10, or a write to r10
	ErrNoReturn                            // a function can run past its last instruction
	ErrOutOfBranches                       // taken-branch budget used up
	ErrOutOfBudget                         // instruction budget used up
	ErrCallDepth                           // local calls nested deeper than MaxCallDepth
	ErrHelper                              // a helper returned an error
	ErrBadImage                            // a loader could not parse the file
)

var kindInfo = [...]struct{ name, text string }{
	{"unknown", "unknown error"},
	{"illegal_instruction", "illegal instruction"},
	{"illegal_memory_access", "illegal memory access"},
	{"illegal_jump", "illegal jump"},
	{"illegal_call", "illegal call"},
	{"illegal_length", "illegal length"},
	{"illegal_register", "illegal register"},
	{"no_return", "no return"},
	{"out_of_branches", "out of branches"},
	{"out_of_budget", "out of budget"},
	{"call_depth", "call depth exceeded"},
	{"helper", "helper failed"},
	{"bad_image", "bad image"},
}

func (k Kind) info() (string, string) {
	if int(k) >= len(kindInfo) {
		return kindInfo[0].name, kindInfo[0].text
	}
	return kindInfo[k].name, kindInfo[k].text
}

// String is the stable name of the kind, e.g. "illegal_memory_access".
func (k Kind) String() string { n, _ := k.info(); return n }

// Error is the kind as a phrase, e.g. "illegal memory access".
func (k Kind) Error() string { _, t := k.info(); return t }

// ErrHalt may be returned by a helper to end the run normally: r0 becomes the
// value the helper returned (ubpf's "unwind" helper behaves this way).
var ErrHalt = errors.New("vm: helper ended the run")

// Access is the direction of a memory access.
type Access uint8

// Access directions.
const (
	AccessRead Access = iota + 1
	AccessWrite
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	}
	return "access"
}

// Error is every error the verifier and the interpreter return.
type Error struct {
	Kind   Kind
	PC     int    // instruction slot, -1 when no instruction is involved
	Addr   uint64 // memory faults: first byte accessed
	Size   int    // memory faults: bytes accessed
	Access Access // memory faults
	Region string // memory faults: region at Addr ("" when nothing is mapped there)
	Helper uint32 // ErrIllegalCall, ErrHelper: helper number
	Detail string // what exactly was wrong
	Err    error  // cause, e.g. the helper's error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Kind == ErrHelper {
		fmt.Fprintf(&b, "helper 0x%x failed", e.Helper)
	} else {
		b.WriteString(e.Kind.Error())
	}
	if e.PC >= 0 {
		fmt.Fprintf(&b, " at pc %d", e.PC)
	}
	if e.Kind == ErrIllegalMemoryAccess && e.Size > 0 {
		fmt.Fprintf(&b, ": %s %s at %#x", e.Access, plural(uint64(e.Size), "byte"), e.Addr)
		if e.Detail != "" {
			b.WriteString(" (" + e.Detail + ")")
		}
	} else if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap gives both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// KindOf returns the kind of a VM error, or false when err is not one.
func KindOf(err error) (Kind, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, true
	}
	var k Kind
	if errors.As(err, &k) {
		return k, true
	}
	return 0, false
}

// PCOf returns the pc carried by a VM error, or -1.
func PCOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.PC
	}
	return -1
}

func errAt(k Kind, pc int, format string, args ...any) *Error {
	return &Error{Kind: k, PC: pc, Detail: fmt.Sprintf(format, args...)}
}
