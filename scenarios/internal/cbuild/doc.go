// Package cbuild builds the built-in scenarios' C containers with clang, the
// same way for `go generate` and for the test that checks the committed
// objects still match their sources. It imports nothing of the project.
package cbuild
