//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package wasm

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// pageAllocator backs each linear memory with its own anonymous mapping of
// the module's maximum size: the host's page tables, not the Go heap, hold
// it, so the pages a module never touches cost no RAM (a 64 KiB page of
// which a container uses 300 bytes costs one 4 KiB host page), and growing
// never copies.
type pageAllocator struct{}

func (pageAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	if max == 0 {
		return &heapMemory{}
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return &heapMemory{max: max}
	}
	return &mappedMemory{buf: b}
}

type mappedMemory struct{ buf []byte }

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size]
}

func (m *mappedMemory) Free() {
	if m.buf != nil {
		syscall.Munmap(m.buf)
		m.buf = nil
	}
}
