package scenarios

//go:generate go run ./internal/cbuild/buildc builtin/containers
