// Command buildc rebuilds the built-in scenarios' C containers with clang
// (`go generate ./scenarios/...`). Without clang it says so and keeps the
// committed objects.
package main
