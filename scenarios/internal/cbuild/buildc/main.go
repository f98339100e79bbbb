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
	for _, t := range cbuild.Targets {
		clang, err := t.Find()
		if err != nil {
			fmt.Printf("buildc: %s: %v; keeping the committed %s objects\n", t.Name, err, t.Ext)
			continue
		}
		srcs, err := t.BuildAll(clang, os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "buildc:", err)
			os.Exit(1)
		}
		fmt.Printf("buildc: built %d C containers for %s\n", len(srcs), t.Name)
	}
}
