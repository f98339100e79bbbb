package suit

import (
	"errors"
	"fmt"
)

// Code is a SUIT result code with RIOT's numbering (sys/include/suit.h,
// suit_error_t), so a device in the lab reports the same number a RIOT board
// would print.
type Code int

// The codes, with RIOT's values.
const (
	CodeOK                 Code = 0
	CodeInvalidManifest    Code = -1  // unexpected CBOR structure
	CodeUnsupported        Code = -2  // unsupported SUIT feature
	CodeNotSupported       Code = -3  // unsupported features detected
	CodeCond               Code = -4  // a condition evaluated to false
	CodeSequenceNumber     Code = -5  // sequence number not above the stored one
	CodeSignature          Code = -6  // no trusted signature verified
	CodeDigestMismatch     Code = -7  // a digest does not match
	CodePolicyForbidden    Code = -8  // denied by policy
	CodeNoMem              Code = -9  // out of memory (a buffer is too small)
	CodeStorage            Code = -50 // the storage backend returned an error
	CodeStorageExceeded    Code = -51 // the storage backend is out of space
	CodeStorageUnavailable Code = -52 // the storage location is not available
)

var codeNames = map[Code]string{
	CodeOK:                 "SUIT_OK",
	CodeInvalidManifest:    "SUIT_ERR_INVALID_MANIFEST",
	CodeUnsupported:        "SUIT_ERR_UNSUPPORTED",
	CodeNotSupported:       "SUIT_ERR_NOT_SUPPORTED",
	CodeCond:               "SUIT_ERR_COND",
	CodeSequenceNumber:     "SUIT_ERR_SEQUENCE_NUMBER",
	CodeSignature:          "SUIT_ERR_SIGNATURE",
	CodeDigestMismatch:     "SUIT_ERR_DIGEST_MISMATCH",
	CodePolicyForbidden:    "SUIT_ERR_POLICY_FORBIDDEN",
	CodeNoMem:              "SUIT_ERR_NO_MEM",
	CodeStorage:            "SUIT_ERR_STORAGE",
	CodeStorageExceeded:    "SUIT_ERR_STORAGE_EXCEEDED",
	CodeStorageUnavailable: "SUIT_ERR_STORAGE_UNAVAILABLE",
}

// String returns RIOT's name for the code, e.g. "SUIT_ERR_SEQUENCE_NUMBER".
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("SUIT_ERR(%d)", int(c))
}

// Sentinel errors, one per failure code. A *Error matches the sentinel of
// its code with errors.Is.
var (
	ErrInvalidManifest    = errors.New(CodeInvalidManifest.String())
	ErrUnsupported        = errors.New(CodeUnsupported.String())
	ErrNotSupported       = errors.New(CodeNotSupported.String())
	ErrCond               = errors.New(CodeCond.String())
	ErrSequenceNumber     = errors.New(CodeSequenceNumber.String())
	ErrSignature          = errors.New(CodeSignature.String())
	ErrDigestMismatch     = errors.New(CodeDigestMismatch.String())
	ErrPolicyForbidden    = errors.New(CodePolicyForbidden.String())
	ErrNoMem              = errors.New(CodeNoMem.String())
	ErrStorage            = errors.New(CodeStorage.String())
	ErrStorageExceeded    = errors.New(CodeStorageExceeded.String())
	ErrStorageUnavailable = errors.New(CodeStorageUnavailable.String())
)

var codeErrs = map[Code]error{
	CodeInvalidManifest:    ErrInvalidManifest,
	CodeUnsupported:        ErrUnsupported,
	CodeNotSupported:       ErrNotSupported,
	CodeCond:               ErrCond,
	CodeSequenceNumber:     ErrSequenceNumber,
	CodeSignature:          ErrSignature,
	CodeDigestMismatch:     ErrDigestMismatch,
	CodePolicyForbidden:    ErrPolicyForbidden,
	CodeNoMem:              ErrNoMem,
	CodeStorage:            ErrStorage,
	CodeStorageExceeded:    ErrStorageExceeded,
	CodeStorageUnavailable: ErrStorageUnavailable,
}

// Err returns the sentinel error of the code (nil for CodeOK or an unknown
// code).
func (c Code) Err() error { return codeErrs[c] }

// Error is what every failing function of this package returns: the code,
// the step that failed, a message with the values compared (in RIOT's wording
// where RIOT logs one) and, when another error caused it, that error.
type Error struct {
	Code Code
	Step Step
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	s := "suit: " + e.Step.String() + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s + ": " + e.Code.String() + " (" + fmt.Sprint(int(e.Code)) + ")"
}

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	s := e.Code.Err()
	return s != nil && target == s
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

func newError(code Code, step Step, format string, args ...any) *Error {
	return &Error{Code: code, Step: step, Msg: fmt.Sprintf(format, args...)}
}
