package vm

import (
	"fmt"
	"unsafe"
)

// The virtual address space. Each region sits at a fixed base with a 256 MiB
// span, so addresses are stable, printable and the same on every run, 0 is
// never mapped, and the interpreter finds a region from the top nibble of a
// 32-bit address without searching.
const (
	RodataBase  uint64 = 0x1000_0000
	DataBase    uint64 = 0x2000_0000
	StackBase   uint64 = 0x3000_0000
	ContextBase uint64 = 0x4000_0000
	HostBase    uint64 = 0x5000_0000 // first host-granted region; the next ones follow every RegionSpan
	RegionSpan  uint64 = 0x1000_0000

	// MaxHostRegions is how many regions AddRegion can grant (0x5000_0000 to 0xF000_0000).
	MaxHostRegions = 11
	// MaxRegionSize is the largest region: one span.
	MaxRegionSize = int(RegionSpan)

	// StackFrameSize is the stack each function gets, as in femto-containers.
	StackFrameSize = 512
	// MaxCallDepth is the deepest nesting of frames, the entry function included.
	MaxCallDepth = 8
	// StackSize is the stack region: one frame per call level.
	StackSize = StackFrameSize * MaxCallDepth
)

const (
	slotRodata  = RodataBase >> 28
	slotData    = DataBase >> 28
	slotStack   = StackBase >> 28
	slotContext = ContextBase >> 28
	slotHost    = HostBase >> 28
	numSlots    = 16
)

// Perm is what a region allows.
type Perm uint8

// Permissions.
const (
	PermRead      Perm = 1
	PermWrite     Perm = 2
	PermReadWrite      = PermRead | PermWrite
)

func (p Perm) String() string {
	switch p {
	case PermRead:
		return "r"
	case PermWrite:
		return "w"
	case PermReadWrite:
		return "rw"
	}
	return "-"
}

// region is what the interpreter needs of a mapped range, in 32 bytes: a
// pointer to its first byte and the readable and writable lengths (0
// without the permission), so an access check is one compare.
type region struct {
	ptr  unsafe.Pointer // &buf[0]: the interpreter reads and writes through it after checking rlen or wlen
	rlen uint64
	wlen uint64
	_    uint64
}

// regionInfo is the rest of a region, for helpers and error messages.
type regionInfo struct {
	buf  []byte
	name string
	perm Perm
}

func (in *Instance) setRegion(slot uint64, name string, buf []byte, perm Perm) {
	rg := &in.mem[slot]
	rg.ptr = unsafe.Pointer(unsafe.SliceData(buf))
	rg.rlen, rg.wlen = 0, 0
	if perm&PermRead != 0 {
		rg.rlen = uint64(len(buf))
	}
	if perm&PermWrite != 0 {
		rg.wlen = uint64(len(buf))
	}
	in.info[slot] = regionInfo{buf: buf, name: name, perm: perm}
}

// Memory gives helpers checked access to the regions of the instance that
// called them. The slices it returns alias VM memory and are valid only until
// the helper returns.
type Memory struct {
	in *Instance
}

// Read returns the n bytes at addr; all of them must be readable.
func (m *Memory) Read(addr uint64, n int) ([]byte, error) {
	b, err := m.in.span(addr, n, AccessRead)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Write returns the n bytes at addr for the helper to fill; all of them must
// be writable.
func (m *Memory) Write(addr uint64, n int) ([]byte, error) {
	b, err := m.in.span(addr, n, AccessWrite)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ReadString reads a NUL-terminated string of at most max bytes (NUL not
// counted) starting at addr. Every byte up to the NUL must be readable.
func (m *Memory) ReadString(addr uint64, max int) (string, error) {
	if max < 0 {
		max = 0
	}
	slot, off, err := m.in.lookup(addr, 1, AccessRead)
	if err != nil {
		return "", err
	}
	avail := m.in.info[slot].buf[off:m.in.mem[slot].rlen]
	limit := min(len(avail), max+1)
	for i, c := range avail[:limit] {
		if c == 0 {
			return string(avail[:i]), nil
		}
	}
	if limit > max {
		return "", m.in.memError(addr, max+1, AccessRead, fmt.Sprintf("string longer than %d bytes", max))
	}
	return "", m.in.memError(addr, len(avail)+1, AccessRead, "string not terminated inside "+m.in.info[slot].name)
}

// Region describes the region holding addr: its name, base address, length
// and permissions.
func (m *Memory) Region(addr uint64) (name string, base uint64, length int, perm Perm, ok bool) {
	if addr>>32 != 0 {
		return "", 0, 0, 0, false
	}
	ri := &m.in.info[addr>>28]
	if ri.name == "" || addr&(RegionSpan-1) >= uint64(len(ri.buf)) {
		return "", 0, 0, 0, false
	}
	return ri.name, addr &^ (RegionSpan - 1), len(ri.buf), ri.perm, true
}

// lookup checks an access of n bytes at addr and returns the region's slot
// and the offset into it.
func (in *Instance) lookup(addr uint64, n int, acc Access) (uint64, uint64, error) {
	if n < 0 || n > MaxRegionSize {
		return 0, 0, in.memError(addr, n, acc, "size out of range")
	}
	if addr>>32 == 0 {
		rg := &in.mem[addr>>28]
		off := addr & (RegionSpan - 1)
		lim := rg.rlen
		if acc == AccessWrite {
			lim = rg.wlen
		}
		if off+uint64(n) <= lim {
			return addr >> 28, off, nil
		}
	}
	return 0, 0, in.memError(addr, n, acc, "")
}

func (in *Instance) span(addr uint64, n int, acc Access) ([]byte, error) {
	slot, off, err := in.lookup(addr, n, acc)
	if err != nil {
		return nil, err
	}
	return in.info[slot].buf[off : off+uint64(n) : off+uint64(n)], nil
}

// memError builds the fault for an access that failed, explaining why.
func (in *Instance) memError(addr uint64, n int, acc Access, why string) *Error {
	e := &Error{Kind: ErrIllegalMemoryAccess, PC: in.pc, Addr: addr, Size: n, Access: acc, Detail: why}
	if addr>>32 == 0 {
		if ri := &in.info[addr>>28]; ri.name != "" && addr&(RegionSpan-1) < uint64(len(ri.buf)) {
			e.Region = ri.name
		}
	}
	if why != "" {
		return e
	}
	switch {
	case addr == 0:
		e.Detail = "null pointer"
		return e
	case addr>>32 != 0:
		e.Detail = "outside the 32-bit address space"
		return e
	}
	slot := addr >> 28
	rg := &in.info[slot]
	off := addr & (RegionSpan - 1)
	size := uint64(len(rg.buf))
	switch {
	case off >= size && off >= RegionSpan/2 && slot+1 < numSlots && in.info[slot+1].name != "":
		e.Detail = fmt.Sprintf("%s below the start of %s", plural(RegionSpan-off, "byte"), in.info[slot+1].name)
	case rg.name == "" && slot == slotContext:
		e.Detail = "no context was given"
	case rg.name == "":
		e.Detail = "nothing is mapped there"
	case off >= size && slot == slotStack:
		e.Detail = "above the top of the current stack frame"
	case off >= size:
		e.Detail = fmt.Sprintf("beyond the end of %s, which is %s", rg.name, plural(size, "byte"))
	case acc == AccessWrite && rg.perm&PermWrite == 0:
		e.Detail = rg.name + " is read-only"
	case acc == AccessRead && rg.perm&PermRead == 0:
		e.Detail = rg.name + " is write-only"
	default:
		e.Detail = fmt.Sprintf("%s is %s; the access ends %s past it", rg.name, plural(size, "byte"), plural(off+uint64(n)-size, "byte"))
	}
	return e
}

func plural(n uint64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
