package suit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Storage holds the device's slots. Nothing the device has installed
// changes until Commit: a failed or interrupted update leaves the installed
// content untouched.
type Storage interface {
	// Stage prepares a write of size bytes to the named location (".ram.0",
	// or any joined component id). An unknown location is a *Error with
	// CodeStorageUnavailable, a size above the slot's capacity one with
	// CodeStorageExceeded (the message says the numbers).
	Stage(location string, size uint64) (Staged, error)
	// Commit atomically installs every staged component of this update.
	Commit(staged []Staged) error
}

// Staged is a write in progress to one location.
type Staged interface {
	io.Writer
	Location() string
	Bytes() []byte // what was written (for image-match)
	Erase()        // discard (image-match mismatch, abort)
}

// LocationChecker is implemented by a Storage that can say up front which
// locations exist. Process then refuses an unknown component at the
// components step, before any condition, as RIOT does; without it the
// refusal comes from Stage at fetch time.
type LocationChecker interface {
	HasLocation(location string) bool
}

// SlotChecker is implemented by a Storage whose locations have slots (A/B
// images). condition-component-slot (draft-09: component-offset) asks it;
// without it the condition is false, as in RIOT for storage without
// offsets.
type SlotChecker interface {
	MatchSlot(location string, slot uint64) bool
}

// Fetcher fetches payloads (the device's is CoAP block-wise).
type Fetcher interface {
	// Fetch writes the resource at uri to w, calling progress as bytes
	// arrive (total is 0 when unknown).
	Fetch(ctx context.Context, uri string, w io.Writer, progress func(done, total uint64)) error
}

// SeqStore keeps the highest sequence number installed, across restarts.
type SeqStore interface {
	Load() (uint64, error)
	Store(seq uint64) error
}

// SeqScoper is a SeqStore whose numbering differs from RIOT's one per
// device; Scope names it, and the sequence-number check's message says so.
type SeqScoper interface {
	Scope() string
}

// MemStorage is a Storage in memory, like RIOT's RAM storage
// (sys/suit/storage/ram.c): named slots of fixed capacity. It is safe for
// concurrent use.
type MemStorage struct {
	mu    sync.Mutex
	slots map[string]*memSlot
}

type memSlot struct {
	capacity uint64
	data     []byte
}

// NewMemStorage makes a storage with the given locations and capacities.
func NewMemStorage(capacity map[string]uint64) *MemStorage {
	s := &MemStorage{slots: map[string]*memSlot{}}
	for loc, c := range capacity {
		s.slots[loc] = &memSlot{capacity: c}
	}
	return s
}

// NewRAMStorage makes RIOT's RAM layout: regions ".ram.0" ... of size bytes
// each (RIOT's defaults are 2 regions of 64 bytes).
func NewRAMStorage(regions int, size uint64) *MemStorage {
	c := map[string]uint64{}
	for i := range regions {
		c[fmt.Sprintf(".ram.%d", i)] = size
	}
	return NewMemStorage(c)
}

// HasLocation reports whether the location exists.
func (s *MemStorage) HasLocation(location string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.slots[location]
	return ok
}

// Locations lists the locations in order.
func (s *MemStorage) Locations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	locs := make([]string, 0, len(s.slots))
	for l := range s.slots {
		locs = append(locs, l)
	}
	slices.Sort(locs)
	return locs
}

// Content returns a copy of what is installed at location (nil if nothing).
func (s *MemStorage) Content(location string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl, ok := s.slots[location]; ok {
		return slices.Clone(sl.data)
	}
	return nil
}

// Stage implements Storage.
func (s *MemStorage) Stage(location string, size uint64) (Staged, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[location]
	if !ok {
		return nil, newError(CodeStorageUnavailable, StepFetch, "no storage location %q", location)
	}
	if size > sl.capacity {
		return nil, newError(CodeStorageExceeded, StepFetch, "image-size %d exceeds the %d bytes of %s", size, sl.capacity, location)
	}
	return &memStaged{s: s, loc: location, buf: make([]byte, 0, size), max: size}, nil
}

// Commit implements Storage: all staged writes replace their slots'
// contents at once, or none does.
func (s *MemStorage) Commit(staged []Staged) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range staged {
		m, ok := st.(*memStaged)
		switch {
		case !ok || m.s != s:
			return newError(CodeStorage, StepInstall, "commit: %s was not staged by this storage", st.Location())
		case m.erased:
			return newError(CodeStorage, StepInstall, "commit: %s was erased", m.loc)
		}
	}
	for _, st := range staged {
		m := st.(*memStaged)
		s.slots[m.loc].data = m.buf
	}
	return nil
}

type memStaged struct {
	s      *MemStorage
	loc    string
	buf    []byte
	max    uint64
	erased bool
}

var errErased = errors.New("suit: write to an erased slot")

func (m *memStaged) Write(p []byte) (int, error) {
	if m.erased {
		return 0, errErased
	}
	if uint64(len(m.buf))+uint64(len(p)) > m.max {
		return 0, newError(CodeStorageExceeded, StepFetch, "write beyond the %d bytes staged for %s", m.max, m.loc)
	}
	m.buf = append(m.buf, p...)
	return len(p), nil
}

func (m *memStaged) Location() string { return m.loc }
func (m *memStaged) Bytes() []byte    { return m.buf }

func (m *memStaged) Erase() {
	m.erased = true
	m.buf = nil
}

// MemSeq is a SeqStore in memory. Like RIOT's RAM storage it refuses to go
// down or stay level.
type MemSeq struct {
	mu  sync.Mutex
	seq uint64
}

// NewMemSeq starts at seq.
func NewMemSeq(seq uint64) *MemSeq { return &MemSeq{seq: seq} }

// Load implements SeqStore.
func (m *MemSeq) Load() (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seq, nil
}

// Store implements SeqStore.
func (m *MemSeq) Store(seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq <= m.seq {
		return newError(CodeSequenceNumber, StepInstall, "stored sequence number %d, refusing %d", m.seq, seq)
	}
	m.seq = seq
	return nil
}
