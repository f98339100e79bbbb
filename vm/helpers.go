package vm

import "slices"

// HelperSet tells the verifier which helper numbers the host provides.
type HelperSet interface {
	Known(id uint32) bool
}

// Helpers is implemented by the host (device, tests, CLI). The VM knows
// nothing of devices or firewalls: a call passes r1..r5 in args and the
// returned value goes to r0. A returned error stops the run with an *Error of
// kind ErrHelper wrapping it, except ErrHalt, which ends the run normally.
type Helpers interface {
	Call(id uint32, args *[5]uint64, mem *Memory) (uint64, error)
}

// HelperFunc is one helper.
type HelperFunc func(args *[5]uint64, mem *Memory) (uint64, error)

// HelperMap is a ready-made Helpers and HelperSet: helper number to function.
type HelperMap map[uint32]HelperFunc

// Known reports whether id is in the map.
func (m HelperMap) Known(id uint32) bool { _, ok := m[id]; return ok }

// Call runs helper id.
func (m HelperMap) Call(id uint32, args *[5]uint64, mem *Memory) (uint64, error) {
	f, ok := m[id]
	if !ok {
		return 0, &Error{Kind: ErrIllegalCall, PC: -1, Helper: id, Detail: "no such helper"}
	}
	return f(args, mem)
}

// IDs lists the helper numbers in ascending order.
func (m HelperMap) IDs() []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// HelperIDs is a HelperSet from a list of numbers.
type HelperIDs []uint32

// Known reports whether id is listed.
func (s HelperIDs) Known(id uint32) bool { return slices.Contains(s, id) }

type noHelpers struct{}

func (noHelpers) Known(uint32) bool { return false }
