package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"tinylab/firewall/fwcli"
	"tinylab/lab/labcli"
	"tinylab/scenarios/scencli"
	"tinylab/suit/suitcli"
	"tinylab/ui/uicli"
	"tinylab/vm/vmcli"
	"tinylab/vm/wasm/wasmcli"
)

// command is one subcommand: its name, a one-line summary for the help text,
// and the function that runs it and returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand in the order help prints them.
var commands = []command{
	{"metadata", "make, show and check TinyContainer metadata and tokens", fwcli.Main},
	{"vm", "run, assemble and disassemble eBPF programs (femto-container VM)", vmcli.Main},
	{"wasm", "run and inspect WebAssembly containers (wazero, metered)", wasmcli.Main},
	{"device", "run virtual boards headless in real time, printing their events", labcli.Device},
	{"repo", "serve a folder as a CoAP update repository", labcli.Repo},
	{"attach", "follow devices running elsewhere (by address or from an RD) and send them commands", func(args []string, stdout, stderr io.Writer) int {
		return labcli.Attach(args, os.Stdin, stdout, stderr)
	}},
	{"gateway", "serve a CoRE Resource Directory and /lab/devices (the lab's gateway endpoint)", labcli.Gateway},
	{"suit", "build, sign, inspect and verify SUIT updates (RIOT draft-09 or final)", suitcli.Main},
	{"scenarios", "list the built-in scenarios", scencli.List},
	{"run", "play a scenario headless; exit 1 if an expectation fails", scencli.Run},
	{"replay", "play back a recorded run (in the UI on a terminal)", scencli.Replay(uicli.Replay)},
	{"ui", "open a scenario in the terminal UI (what tinylab alone does)", uicli.Main},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return uicli.Main(nil, stdout, stderr)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "tinylab: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("tinylab: a terminal lab of virtual TinyContainer devices\n\nUsage:\n  tinylab COMMAND [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'tinylab COMMAND -h' for the arguments of a command.\n")
	io.WriteString(w, b.String())
}
