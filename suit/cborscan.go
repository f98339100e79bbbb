package suit

import "encoding/binary"

// A small CBOR scanner for decoding. fxamacker/cbor checks every level for
// well-formedness first (Wellformed: definite lengths, nesting and size
// limits) and does all the encoding; this scanner then splits arrays and
// maps into their items and reads integers and strings in place. It is
// hand-written because decoding through fxamacker's reflection (one
// Unmarshal into RawMessage containers per level and per scalar) costs
// several times the 10 µs the issue allows for decoding an envelope. It
// never trusts the input: every length is checked against the bytes there
// are.

// cbor major types.
const (
	majUint  = 0
	majNint  = 1
	majBytes = 2
	majText  = 3
	majArray = 4
	majMap   = 5
	majTag   = 6
	majOther = 7
)

// maxScanDepth bounds the scanner's recursion; Wellformed already limits
// nesting to 16.
const maxScanDepth = 32

func major(raw []byte) int {
	if len(raw) == 0 {
		return -1
	}
	return int(raw[0] >> 5)
}

// head reads an item's initial byte and argument: the major type, the
// argument and the length of the head. Indefinite lengths and reserved
// values are not ok.
func head(b []byte) (maj int, arg uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, 0, false
	}
	maj, ai := int(b[0]>>5), b[0]&0x1f
	switch {
	case ai < 24:
		return maj, uint64(ai), 1, true
	case ai == 24 && len(b) >= 2:
		return maj, uint64(b[1]), 2, true
	case ai == 25 && len(b) >= 3:
		return maj, uint64(binary.BigEndian.Uint16(b[1:])), 3, true
	case ai == 26 && len(b) >= 5:
		return maj, uint64(binary.BigEndian.Uint32(b[1:])), 5, true
	case ai == 27 && len(b) >= 9:
		return maj, binary.BigEndian.Uint64(b[1:]), 9, true
	}
	return 0, 0, 0, false
}

// itemLen returns the length of the item at the start of b.
func itemLen(b []byte, depth int) (int, bool) {
	maj, arg, n, ok := head(b)
	if !ok || depth > maxScanDepth {
		return 0, false
	}
	switch maj {
	case majUint, majNint, majOther:
		return n, true
	case majBytes, majText:
		if arg > uint64(len(b)-n) {
			return 0, false
		}
		return n + int(arg), true
	case majTag:
		l, ok := itemLen(b[n:], depth+1)
		return n + l, ok
	}
	count := arg
	if maj == majMap {
		if count > uint64(len(b)) {
			return 0, false
		}
		count *= 2
	}
	if count > uint64(len(b)-n) { // every item takes at least one byte
		return 0, false
	}
	off := n
	for range count {
		l, ok := itemLen(b[off:], depth+1)
		if !ok {
			return 0, false
		}
		off += l
	}
	return off, true
}

// items splits an array or map that fills raw into its items (keys and
// values alternate for a map). The items share raw's memory.
func items(raw []byte, want int) ([][]byte, bool) {
	maj, arg, n, ok := head(raw)
	if !ok || maj != want {
		return nil, false
	}
	count := arg
	if maj == majMap {
		if count > uint64(len(raw)) {
			return nil, false
		}
		count *= 2
	}
	if count > uint64(len(raw)-n) {
		return nil, false
	}
	out := make([][]byte, 0, count)
	off := n
	for range count {
		l, ok := itemLen(raw[off:], 0)
		if !ok {
			return nil, false
		}
		out = append(out, raw[off:off+l:off+l])
		off += l
	}
	return out, off == len(raw)
}

// content returns the bytes of a byte or text string that fills raw.
func content(raw []byte, want int) ([]byte, bool) {
	maj, arg, n, ok := head(raw)
	if !ok || maj != want || arg != uint64(len(raw)-n) {
		return nil, false
	}
	return raw[n:len(raw):len(raw)], true
}

// integer reads an unsigned or negative integer that fills raw and fits an
// int64.
func integer(raw []byte) (int64, bool) {
	maj, arg, n, ok := head(raw)
	if !ok || n != len(raw) || arg > 1<<63-1 {
		return 0, false
	}
	switch maj {
	case majUint:
		return int64(arg), true
	case majNint:
		return -1 - int64(arg), true
	}
	return 0, false
}
