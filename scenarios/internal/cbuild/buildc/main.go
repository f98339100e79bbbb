package main

import (
	"fmt"
	"os"

	"tinylab/scenarios/internal/cbuild"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: buildc DIR")
		os.Exit(2)
	}
	clang, err := cbuild.Clang()
	if err != nil {
		fmt.Println("buildc: clang not found; keeping the committed objects")
		return
	}
	srcs, err := cbuild.BuildAll(clang, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildc:", err)
		os.Exit(1)
	}
	fmt.Printf("buildc: built %d C containers\n", len(srcs))
}
