// Package wasmcli is `tinylab wasm`: run one export of a WebAssembly
// container outside a device, and inspect a module (its imports, exports,
// memory, the natives it needs, what the meter would refuse).
//
// It imports vm/wasm (and vm/vmcli for its flag parser), never the device:
// the natives a container gets on a device go through the firewall there. Here a small host stands in:
// logger prints, heartbeat returns 0, every other native returns -1 and
// says so on stderr.
package wasmcli
