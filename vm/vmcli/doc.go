// Package vmcli is `tinylab vm`: run, assemble and disassemble eBPF
// programs outside a device, with a small standalone helper set (printf,
// memcpy, now_ms).
//
// It imports vm and its sub-packages only, never the device: the helpers a
// container gets on a device (store/fetch, SAUL, ztimer, the TinyContainer
// service calls) are the device's, and a program that calls them is
// rejected here by the verifier with the helper's number.
package vmcli
