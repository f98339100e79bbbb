//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wasm

import "github.com/tetratelabs/wazero/experimental"

// pageAllocator puts linear memory on the Go heap where there are no
// anonymous mappings to put it in.
type pageAllocator struct{}

func (pageAllocator) Allocate(_, max uint64) experimental.LinearMemory {
	return &heapMemory{max: max}
}
