package firewall

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// decMode refuses what TinyContainer's format never needs: duplicate map
// keys, indefinite lengths and deep nesting. Our own limits (Limits) are
// tighter than the library's and are checked field by field.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
	}.DecMode()
	if err != nil {
		panic(err) // constant options: fails only if the options above are wrong
	}
	return dm
}()

// encMode writes core deterministic CBOR (RFC 8949 §4.2.1): sorted keys,
// shortest lengths, which is also what upstream's tooling produced.
var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err) // constant options
	}
	return em
}()

// CBOR major types.
const (
	majorUint  = 0
	majorNint  = 1
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	majorMap   = 5
	majorTag   = 6
)

func major(raw []byte) int {
	if len(raw) == 0 {
		return -1
	}
	return int(raw[0] >> 5)
}

// describe says what a CBOR item is, for "got ..." in errors.
func describe(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	var v any
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return fmt.Sprintf("invalid CBOR (%v)", err)
	}
	switch x := v.(type) {
	case uint64:
		return fmt.Sprintf("uint %d", x)
	case int64:
		return fmt.Sprintf("nint %d", x)
	case []byte:
		return fmt.Sprintf("bstr of %d bytes", len(x))
	case string:
		return fmt.Sprintf("tstr %q", truncate(x, 24))
	case []any:
		return fmt.Sprintf("array of %d", len(x))
	case map[any]any:
		return fmt.Sprintf("map of %d", len(x))
	case cbor.Tag:
		return fmt.Sprintf("tag %d", x.Number)
	case nil:
		return "null"
	case bool:
		return fmt.Sprint(x)
	default:
		return fmt.Sprintf("%T", v)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// intMap decodes a CBOR map whose keys are all integers.
func intMap(raw []byte, field string) (map[int64]cbor.RawMessage, error) {
	if major(raw) != majorMap {
		return nil, &FieldError{Field: field, Want: "map", Got: describe(raw), Err: ErrMalformed}
	}
	var m map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(raw, &m); err != nil {
		return nil, &FieldError{Field: field, Want: "map with integer keys, each once", Got: err.Error(), Err: ErrMalformed}
	}
	return m, nil
}

// rawArray decodes a CBOR array into its raw items.
func rawArray(raw []byte, field string) ([]cbor.RawMessage, error) {
	if major(raw) != majorArray {
		return nil, &FieldError{Field: field, Want: "array", Got: describe(raw), Err: ErrMalformed}
	}
	var a []cbor.RawMessage
	if err := decMode.Unmarshal(raw, &a); err != nil {
		return nil, &FieldError{Field: field, Want: "array", Got: err.Error(), Err: ErrMalformed}
	}
	return a, nil
}

// uintField reads an unsigned integer no larger than hi.
func uintField(raw []byte, field string, hi uint64) (uint64, error) {
	want := fmt.Sprintf("uint 0..%d", hi)
	if major(raw) != majorUint {
		return 0, &FieldError{Field: field, Want: want, Got: describe(raw), Err: ErrMalformed}
	}
	var v uint64
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return 0, &FieldError{Field: field, Want: want, Got: err.Error(), Err: ErrMalformed}
	}
	if v > hi {
		return 0, &FieldError{Field: field, Want: want, Got: fmt.Sprintf("uint %d", v), Err: ErrInvalidValue}
	}
	return v, nil
}

// bytesField reads a byte string of lo..hi bytes.
func bytesField(raw []byte, field string, lo, hi int) ([]byte, error) {
	want := fmt.Sprintf("bstr of %d..%d bytes", lo, hi)
	if major(raw) != majorBytes {
		return nil, &FieldError{Field: field, Want: want, Got: describe(raw), Err: ErrMalformed}
	}
	var b []byte
	if err := decMode.Unmarshal(raw, &b); err != nil {
		return nil, &FieldError{Field: field, Want: want, Got: err.Error(), Err: ErrMalformed}
	}
	if len(b) > hi {
		return nil, &FieldError{Field: field, Want: want, Got: fmt.Sprintf("bstr of %d bytes", len(b)), Err: ErrLimit}
	}
	if len(b) < lo {
		return nil, &FieldError{Field: field, Want: want, Got: fmt.Sprintf("bstr of %d bytes", len(b)), Err: ErrInvalidValue}
	}
	return b, nil
}
