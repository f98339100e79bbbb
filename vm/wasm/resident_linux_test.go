package wasm

import (
	"os"
	"syscall"
	"unsafe"
)

// residentLinear is how many bytes of an instance's linear memory the
// kernel has backed with RAM (its pages the module or the host touched).
func residentLinear(in *Instance) int {
	size := in.Memory().Size()
	if size == 0 {
		return 0
	}
	b, _ := in.Memory().Read(0, int(size))
	page := os.Getpagesize()
	vec := make([]byte, (len(b)+page-1)/page)
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return -1
	}
	n := 0
	for _, v := range vec {
		if v&1 != 0 {
			n += page
		}
	}
	return n
}
