// Command buildc rebuilds the built-in scenarios' C containers with clang
// for eBPF and clang-19/lld-19 for WebAssembly (`go generate
// ./scenarios/...`). Without a target's compiler it says so and keeps that
// target's committed objects.
package main
