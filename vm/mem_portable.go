//go:build !(amd64 || arm64 || 386)

package vm

import (
	"encoding/binary"
	"unsafe"
)

// Loads and stores at p+o, where the caller has checked that the bytes lie
// inside the region p points into. eBPF memory is little-endian; this
// version is correct on big-endian targets and those that trap on unaligned
// access.

func at(p unsafe.Pointer, o uint64, n int) []byte { return unsafe.Slice((*byte)(unsafe.Add(p, o)), n) }

func ld8(p unsafe.Pointer, o uint64) uint8      { return *(*uint8)(unsafe.Add(p, o)) }
func ld16(p unsafe.Pointer, o uint64) uint16    { return binary.LittleEndian.Uint16(at(p, o, 2)) }
func ld32(p unsafe.Pointer, o uint64) uint32    { return binary.LittleEndian.Uint32(at(p, o, 4)) }
func ld64(p unsafe.Pointer, o uint64) uint64    { return binary.LittleEndian.Uint64(at(p, o, 8)) }
func st8(p unsafe.Pointer, o uint64, v uint8)   { *(*uint8)(unsafe.Add(p, o)) = v }
func st16(p unsafe.Pointer, o uint64, v uint16) { binary.LittleEndian.PutUint16(at(p, o, 2), v) }
func st32(p unsafe.Pointer, o uint64, v uint32) { binary.LittleEndian.PutUint32(at(p, o, 4), v) }
func st64(p unsafe.Pointer, o uint64, v uint64) { binary.LittleEndian.PutUint64(at(p, o, 8), v) }
