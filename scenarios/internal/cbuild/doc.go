// Package cbuild builds the built-in scenarios' C containers with clang (eBPF with clang, WebAssembly with clang-19 and
// lld-19, picked by the header a source includes), the
// same way for `go generate` and for the test that checks the committed
// objects still match their sources. It imports nothing of the project.
package cbuild
