//go:build amd64 || arm64 || 386

package vm

import "unsafe"

// Loads and stores at p+o, where the caller has checked that the bytes lie
// inside the region p points into. On these little-endian targets an
// unaligned access is a plain load or store.

func ld8(p unsafe.Pointer, o uint64) uint8      { return *(*uint8)(unsafe.Add(p, o)) }
func ld16(p unsafe.Pointer, o uint64) uint16    { return *(*uint16)(unsafe.Add(p, o)) }
func ld32(p unsafe.Pointer, o uint64) uint32    { return *(*uint32)(unsafe.Add(p, o)) }
func ld64(p unsafe.Pointer, o uint64) uint64    { return *(*uint64)(unsafe.Add(p, o)) }
func st8(p unsafe.Pointer, o uint64, v uint8)   { *(*uint8)(unsafe.Add(p, o)) = v }
func st16(p unsafe.Pointer, o uint64, v uint16) { *(*uint16)(unsafe.Add(p, o)) = v }
func st32(p unsafe.Pointer, o uint64, v uint32) { *(*uint32)(unsafe.Add(p, o)) = v }
func st64(p unsafe.Pointer, o uint64, v uint64) { *(*uint64)(unsafe.Add(p, o)) = v }
