package firewall

import (
	"fmt"
	"math/bits"
	"strings"
)

// Call is one kind of call a container can make to its host: a TinyContainer
// service syscall or a group of femto-container helpers. Its value is its bit
// in the syscall mask.
type Call uint8

// The calls, in mask-bit order. Bits 0..4 are TinyContainer's syscalls
// (bit = syscall id - 1, as service.c tests it); the rest group the
// femto-container helpers.
const (
	CallHeartbeat Call = iota // syscall 1
	CallOpen                  // syscall 2
	CallClose                 // syscall 3
	CallRead                  // syscall 4
	CallWrite                 // syscall 5
	CallLog                   // printf
	CallStore                 // store/fetch, local and global
	CallTime                  // now_ms, ztimer
	CallSensors               // SAUL
	CallMemcpy                // memcpy
	numCalls
)

var callNames = [numCalls]string{
	"heartbeat", "open", "close", "read", "write", "log", "store", "time", "sensors", "memcpy",
}

func (c Call) String() string {
	if c < numCalls {
		return callNames[c]
	}
	return fmt.Sprintf("call(%d)", uint8(c))
}

// Bit is the call's bit number in the syscall mask.
func (c Call) Bit() uint { return uint(c) }

// Calls lists every known call in mask-bit order.
func Calls() []Call {
	cs := make([]Call, numCalls)
	for i := range cs {
		cs[i] = Call(i)
	}
	return cs
}

// ParseCall reads a call name as String prints it.
func ParseCall(name string) (Call, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, s := range callNames {
		if s == n {
			return Call(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q (known: %s)", ErrUnknownCall, name, strings.Join(callNames[:], ", "))
}

// ParseGrants turns call names into a mask. Each element may itself be a
// comma-separated list, so both ["read","write"] and ["read,write"] work.
func ParseGrants(names []string) (Mask, error) {
	var m Mask
	for _, item := range names {
		for _, n := range strings.Split(item, ",") {
			if strings.TrimSpace(n) == "" {
				continue
			}
			c, err := ParseCall(n)
			if err != nil {
				return 0, err
			}
			m |= 1 << c.Bit()
		}
	}
	return m, nil
}

// Mask is a syscall mask: bit n set grants the call whose Bit is n. Bits with
// no call are kept (a token may carry them) but grant nothing.
type Mask uint64

// MaskOf grants exactly the given calls.
func MaskOf(calls ...Call) Mask {
	var m Mask
	for _, c := range calls {
		m |= 1 << c.Bit()
	}
	return m
}

// Has reports whether the mask grants c.
func (m Mask) Has(c Call) bool { return c < numCalls && m&(1<<c.Bit()) != 0 }

// Calls lists the granted calls in bit order.
func (m Mask) Calls() []Call {
	var cs []Call
	for c := range numCalls {
		if m.Has(c) {
			cs = append(cs, c)
		}
	}
	return cs
}

// String lists the granted calls, then any set bit that names no call, as
// "heartbeat,read,bit12"; an empty mask is "none".
func (m Mask) String() string {
	if m == 0 {
		return "none"
	}
	var parts []string
	for rest := uint64(m); rest != 0; rest &= rest - 1 {
		b := bits.TrailingZeros64(rest)
		if b < int(numCalls) {
			parts = append(parts, callNames[b])
		} else {
			parts = append(parts, fmt.Sprintf("bit%d", b))
		}
	}
	return strings.Join(parts, ",")
}

// Bytes is the mask as the bitmask claim carries it: big-endian, the least
// significant bit at position 0 of the rightmost byte, no leading zero bytes,
// at least one byte.
func (m Mask) Bytes() []byte {
	n := max(1, (bits.Len64(uint64(m))+7)/8)
	b := make([]byte, n)
	for i := range n {
		b[n-1-i] = byte(m >> (8 * i))
	}
	return b
}

// MaskFromBytes reads a bitmask claim value. Leading zero bytes are allowed;
// a value needing more than 64 bits is refused (upstream stops at 32).
func MaskFromBytes(b []byte) (Mask, error) {
	trimmed := b
	for len(trimmed) > 0 && trimmed[0] == 0 {
		trimmed = trimmed[1:]
	}
	if len(trimmed) > 8 {
		return 0, fmt.Errorf("%w: bitmask of %d significant bytes, at most 8", ErrLimit, len(trimmed))
	}
	var m Mask
	for _, x := range trimmed {
		m = m<<8 | Mask(x)
	}
	return m, nil
}

// Helper is one helper number a container program can call, and the call
// (mask bit) that governs it.
type Helper struct {
	ID   uint32
	Name string
	Call Call
}

// The helper numbers: RIOT femto-container helpers (bpf/shared.h) plus
// TinyContainer's service syscalls at 0x70 | syscall id.
var helpers = []Helper{
	{0x01, "printf", CallLog},
	{0x02, "memcpy", CallMemcpy},
	{0x10, "store_local", CallStore},
	{0x11, "store_global", CallStore},
	{0x12, "fetch_local", CallStore},
	{0x13, "fetch_global", CallStore},
	{0x20, "now_ms", CallTime},
	{0x30, "saul_reg_find_nth", CallSensors},
	{0x31, "saul_reg_find_type", CallSensors},
	{0x32, "saul_reg_read", CallSensors},
	{0x60, "ztimer_now", CallTime},
	{0x61, "ztimer_periodic_wakeup", CallTime},
	{0x71, "heartbeat", CallHeartbeat},
	{0x72, "open", CallOpen},
	{0x73, "close", CallClose},
	{0x74, "read", CallRead},
	{0x75, "write", CallWrite},
}

// helperIndex maps a helper number below 0x80 to its position in helpers plus one.
var helperIndex = func() (idx [0x80]uint8) {
	for i, h := range helpers {
		idx[h.ID] = uint8(i + 1)
	}
	return idx
}()

// HelperByID finds a helper by number.
func HelperByID(id uint32) (Helper, bool) {
	if id >= uint32(len(helperIndex)) || helperIndex[id] == 0 {
		return Helper{}, false
	}
	return helpers[helperIndex[id]-1], true
}

// nativeNames are the names upstream's WebAssembly runtime registers for
// helpers tinylab names otherwise (WAMR's "logger" is printf).
var nativeNames = map[string]uint32{"logger": 0x01}

// HelperByName finds a helper by its name, or by the name of upstream's
// native for it: how a runtime that imports natives by name (WebAssembly's
// module "env") maps them to the same helpers and mask bits.
func HelperByName(name string) (Helper, bool) {
	if id, ok := nativeNames[name]; ok {
		return HelperByID(id)
	}
	for _, h := range helpers {
		if h.Name == name {
			return h, true
		}
	}
	return Helper{}, false
}

// Helpers lists every helper in number order.
func Helpers() []Helper { return append([]Helper(nil), helpers...) }
