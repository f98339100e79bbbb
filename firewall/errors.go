package firewall

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps one of them, so
// callers can sort failures with errors.Is, and most come inside a typed error
// (FieldError, TokenError) that says where and what was compared.
var (
	// ErrMalformed: a metadata part has the wrong CBOR shape or type.
	ErrMalformed = errors.New("malformed")
	// ErrLimit: a size or count is over its limit.
	ErrLimit = errors.New("over limit")
	// ErrMissingField: a required field is absent.
	ErrMissingField = errors.New("missing field")
	// ErrUnknownField: a map has a key the format does not define.
	ErrUnknownField = errors.New("unknown field")
	// ErrInvalidValue: a field has the right type but a value out of range.
	ErrInvalidValue = errors.New("invalid value")

	// ErrTokenMalformed: a token is not a CWT in a COSE_Sign1 as expected.
	ErrTokenMalformed = errors.New("malformed token")
	// ErrBadSignature: the token's signature does not verify with the owner key.
	ErrBadSignature = errors.New("bad signature")
	// ErrDigestMismatch: the token's sha256 claim differs from the bytes it binds.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNotChecked: the token's digest was not compared (the bytes were not given).
	ErrNotChecked = errors.New("digest not checked")
	// ErrNoKey: no owner key to verify with.
	ErrNoKey = errors.New("no owner key")

	// ErrUnknownCall: a call name that is not in the table.
	ErrUnknownCall = errors.New("unknown call")
	// ErrBadKey: a key file that is not an Ed25519 key in a supported form.
	ErrBadKey = errors.New("bad key")
	// ErrBadSpec: a build spec that cannot make valid metadata.
	ErrBadSpec = errors.New("bad metadata spec")
)

// FieldError says which metadata field is wrong, what was expected and what
// came instead.
type FieldError struct {
	Field string // "metadata" for the whole, else e.g. "container.uid", "endpoints[2].direction", "security.data-token"
	Want  string // what the format expects there
	Got   string // what the input had
	Err   error  // one of the sentinels above
}

func (e *FieldError) Error() string {
	s := "metadata: "
	if e.Field != "metadata" {
		s += e.Field + ": "
	}
	s += fmt.Sprintf("%v: want %s", e.Err, e.Want)
	if e.Got != "" {
		s += ", got " + e.Got
	}
	return s
}

func (e *FieldError) Unwrap() error { return e.Err }

// TokenError says which token failed, at which step, and the values compared.
type TokenError struct {
	Token TokenKind
	Step  string // "parse", "signature", "claims" or "digest"
	Want  string
	Got   string
	Err   error // a sentinel, possibly wrapping the cause
}

func (e *TokenError) Error() string {
	s := fmt.Sprintf("%s token: %s: %v", e.Token, e.Step, e.Err)
	if e.Want != "" || e.Got != "" {
		s += fmt.Sprintf(" (want %s, got %s)", e.Want, e.Got)
	}
	return s
}

func (e *TokenError) Unwrap() error { return e.Err }
