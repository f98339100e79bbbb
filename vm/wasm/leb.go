package wasm

import "errors"

var errLEB = errors.New("bad LEB128 number")

// uleb reads an unsigned LEB128 of at most bits bits at b[i:], giving the
// value and the index after it.
func uleb(b []byte, i int, bits uint) (uint64, int, error) {
	var v uint64
	var shift uint
	for {
		if i >= len(b) {
			return 0, i, errLEB
		}
		c := b[i]
		i++
		if shift >= bits || shift+7 > bits && c&0x7f>>(bits-shift) != 0 {
			return 0, i, errLEB
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			return v, i, nil
		}
	}
}

// sleb reads a signed LEB128 of at most bits bits at b[i:].
func sleb(b []byte, i int, bits uint) (int64, int, error) {
	var v int64
	var shift uint
	for {
		if i >= len(b) {
			return 0, i, errLEB
		}
		c := b[i]
		i++
		if shift >= bits {
			return 0, i, errLEB
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i, nil
		}
	}
}

func appendULEB(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
