//go:build !linux

package wasm

// residentLinear is unknown without mincore.
func residentLinear(*Instance) int { return -1 }
