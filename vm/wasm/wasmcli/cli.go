package wasmcli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"tinylab/vm/vmcli"
	"tinylab/vm/wasm"
)

// Exit codes, as `tinylab vm`.
const (
	exitOK   = 0 // the export returned / the command succeeded
	exitTrap = 1 // the call trapped
	exitLoad = 2 // usage error, or the file cannot be read or compiled
)

const (
	usageRun     = "usage: tinylab wasm run FILE [--export NAME] [--mem HEX | --mem-file F] [--budget N] [--branches N] [--pages N] [--engine E] [--json]"
	usageInspect = "usage: tinylab wasm inspect FILE [--pages N]"
)

const usageAll = `tinylab wasm: run and inspect WebAssembly containers (wazero, metered)

  ` + usageRun + `
      Calls one export of FILE once: --export, else "entry", else "start".
      When the export takes one i32, the context (--mem/--mem-file) is
      written into linear memory at the module's heap base (__heap_base, or
      the end of its data) and its address is passed.
      --budget is the instruction budget, --branches the loop-iteration
      budget, --pages the memory pages the slot allows (default 1),
      --engine auto, interpreter or compiler.
      Natives here: logger prints (to stdout; to stderr with --json),
      heartbeat returns 0, every other native returns -1 with a note on
      stderr (on a device they go through the firewall).
      Exit 0 when the export returns, 1 on a trap, 2 when FILE cannot be
      read or compiled.
  ` + usageInspect + `
      Prints the imports, exports and memory of FILE, the natives it needs,
      the RAM a board is charged, and what the meter refuses, if anything.`

// Main runs `tinylab wasm ARGS` and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usageAll)
		return exitLoad
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "inspect":
		return inspectCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usageAll)
		return exitOK
	}
	fmt.Fprintf(stderr, "tinylab wasm: unknown command %q\n%s\n", args[0], usageAll)
	return exitLoad
}

func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tinylab wasm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// jsonError is the "error" member of run's --json output.
type jsonError struct {
	Kind     string `json:"kind"`
	Function string `json:"function"`
	Offset   int    `json:"offset"`
	Message  string `json:"message"`
}

// jsonResult is run's --json output, one object.
type jsonResult struct {
	Result       string     `json:"result"`
	Error        *jsonError `json:"error"`
	Instructions uint64     `json:"instructions"`
	Branches     uint64     `json:"branches"`
}

func errorKind(err error) string {
	if k, ok := wasm.KindOf(err); ok {
		return k.String()
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "io"
	}
	return "usage"
}

func parseEngine(s string) (wasm.Engine, error) {
	switch s {
	case "", "auto":
		return wasm.Auto, nil
	case "interpreter":
		return wasm.Interpreter, nil
	case "compiler":
		return wasm.Compiler, nil
	}
	return 0, fmt.Errorf("--engine %q: want auto, interpreter or compiler", s)
}

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", usageRun, stderr)
	export := fs.String("export", "", `export to call (default "entry", else "start")`)
	memHex := fs.String("mem", "", "context bytes as hex (spaces allowed)")
	memFile := fs.String("mem-file", "", "file whose bytes are the context")
	budget := fs.Int64("budget", 0, fmt.Sprintf("instruction budget (0: the default, %d)", wasm.DefaultInstructionBudget))
	branches := fs.Int64("branches", 0, fmt.Sprintf("loop-iteration budget (0: the default, %d)", wasm.DefaultBranchBudget))
	pages := fs.Uint("pages", wasm.DefaultMaxPages, "memory pages the slot allows")
	engine := fs.String("engine", "auto", "auto, interpreter or compiler")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	pos, err := vmcli.Parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitLoad
	}
	report := func(r0 uint64, st wasm.Stats, err error) {
		if !*asJSON {
			return
		}
		out := jsonResult{Result: "0x" + strconv.FormatUint(r0, 16), Instructions: st.Instructions, Branches: st.Branches}
		if err != nil {
			je := &jsonError{Kind: errorKind(err), Offset: wasm.OffsetOf(err), Message: err.Error()}
			var t *wasm.Trap
			if errors.As(err, &t) {
				je.Function = t.Function
			}
			out.Error = je
		}
		b, _ := json.Marshal(out)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	fail := func(code int, err error) int {
		report(0, wasm.Stats{}, err)
		fmt.Fprintf(stderr, "tinylab wasm run: %v\n", err)
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return fail(exitLoad, fmt.Errorf("expected one FILE, got %d arguments", len(pos)))
	}
	if *memHex != "" && *memFile != "" {
		return fail(exitLoad, errors.New("give --mem or --mem-file, not both"))
	}
	eng, err := parseEngine(*engine)
	if err != nil {
		return fail(exitLoad, err)
	}
	var ctx []byte
	switch {
	case *memHex != "":
		if ctx, err = hex.DecodeString(strings.Join(strings.Fields(*memHex), "")); err != nil {
			return fail(exitLoad, fmt.Errorf("--mem: %v", err))
		}
	case *memFile != "":
		if ctx, err = os.ReadFile(*memFile); err != nil {
			return fail(exitLoad, err)
		}
	}
	file := pos[0]
	code, err := os.ReadFile(file)
	if err != nil {
		return fail(exitLoad, err)
	}
	m, err := wasm.Compile(code, wasm.Config{MaxPages: uint32(*pages), Engine: eng})
	if err != nil {
		return fail(exitLoad, fmt.Errorf("%s: %w", file, err))
	}
	name := *export
	if name == "" {
		name = "entry"
		if _, ok := m.Export(name); !ok {
			name = "start"
		}
	}
	ex, ok := m.Export(name)
	if !ok {
		return fail(exitLoad, fmt.Errorf("%s: no export %q (exports: %s)", file, name, strings.Join(m.Exports(), ", ")))
	}
	printOut := stdout
	if *asJSON {
		printOut = stderr
	}
	in, err := m.Instantiate(&standaloneHost{out: printOut, notes: stderr})
	if err != nil {
		return fail(exitTrap, fmt.Errorf("%s: start function: %w", file, err))
	}
	defer in.Close()
	in.SetBudgets(*branches, *budget)
	var callArgs []uint64
	switch {
	case len(ex.Params) == 0:
		if ctx != nil {
			fmt.Fprintf(stderr, "tinylab wasm run: note: %s takes no argument; the context is not passed\n", ex)
		}
	case len(ex.Params) == 1 && ex.Params[0] == wasm.I32:
		base := m.HeapBase()
		w, err := in.Memory().Write(base, len(ctx))
		if err != nil {
			return fail(exitLoad, fmt.Errorf("%s: the context (%d bytes) does not fit at the heap base %#x: %w", file, len(ctx), base, err))
		}
		copy(w, ctx)
		callArgs = []uint64{base}
	default:
		return fail(exitLoad, fmt.Errorf("%s: %s: run calls exports that take nothing or one i32", file, ex))
	}
	res, err := in.Call(name, callArgs...)
	st := res.Stats
	if *asJSON {
		report(res.R0, st, err)
	} else {
		if err == nil {
			if len(ex.Results) > 0 && ex.Results[0] == wasm.I32 {
				fmt.Fprintf(stdout, "result = %#x (%d)\n", res.R0, int32(res.R0))
			} else {
				fmt.Fprintf(stdout, "result = %#x (%d)\n", res.R0, int64(res.R0))
			}
		}
		fmt.Fprintf(stdout, "instructions: %d (alu %d, load/store %d, branch %d, divide %d, call %d), loop iterations: %d\n",
			st.Instructions, st.ALU, st.LoadStore, st.Branch, st.Divide, st.Call, st.Branches)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tinylab wasm run: %s: %v\n", file, err)
		return exitTrap
	}
	return exitOK
}

// standaloneHost is the natives of `tinylab wasm run`.
type standaloneHost struct {
	out, notes io.Writer
}

// maxLog bounds what logger prints of one string.
const maxLog = 256

func (h *standaloneHost) Call(name string, args []uint64, mem *wasm.Memory) (uint64, error) {
	switch name {
	case "logger":
		s, err := mem.ReadString(args[0], maxLog)
		if err != nil {
			return 0, err
		}
		fmt.Fprintln(h.out, s)
		return 0, nil
	case "heartbeat":
		return 0, nil
	}
	fmt.Fprintf(h.notes, "tinylab wasm run: note: %s is a device native; here it returns -1\n", name)
	return uint64(uint32(0xffffffff)), nil
}

func inspectCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("inspect", usageInspect, stderr)
	pages := fs.Uint("pages", wasm.DefaultMaxPages, "memory pages the slot allows")
	pos, err := vmcli.Parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitLoad
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitLoad
	}
	file := pos[0]
	code, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "tinylab wasm inspect: %v\n", err)
		return exitLoad
	}
	m, err := wasm.Compile(code, wasm.Config{MaxPages: uint32(*pages)})
	if err != nil {
		fmt.Fprintf(stdout, "%s: %d bytes\nrefused: %v\n", file, len(code), err)
		fmt.Fprintf(stderr, "tinylab wasm inspect: %s: %v\n", file, err)
		return exitLoad
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d bytes, engine %s\n", file, m.Size(), m.Engine())
	mi := m.Memory()
	if !mi.Present {
		b.WriteString("memory: none\n")
	} else {
		grow := "cannot grow (no memory.grow)"
		if mi.CanGrow {
			grow = "may grow (memory.grow)"
		}
		fmt.Fprintf(&b, "memory: %d page(s), at most %d with the slot's limit, %s\n", mi.MinPages, mi.MaxPages, grow)
		if mi.HeapBase >= 0 {
			fmt.Fprintf(&b, "  __heap_base %d", mi.HeapBase)
		} else {
			b.WriteString("  no __heap_base")
		}
		if mi.DataEnd >= 0 {
			fmt.Fprintf(&b, ", __data_end %d", mi.DataEnd)
		}
		fmt.Fprintf(&b, ", data up to %d\n", mi.DataSpan)
	}
	fmt.Fprintf(&b, "RAM charged: %d bytes\n", m.RAM())
	b.WriteString("natives it needs (imports from \"env\"):\n")
	if len(m.Imports()) == 0 {
		b.WriteString("  none\n")
	}
	for _, n := range m.Imports() {
		fmt.Fprintf(&b, "  %-24s %-22s WAMR %-7s %s\n", n.Name, n.Signature(), n.WAMR, n.Doc)
	}
	b.WriteString("exports:\n")
	for _, e := range m.ExportedFunctions() {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	fmt.Fprintf(&b, "meter: %d straight-line segments; refuses nothing in this module\n", m.Segments())
	io.WriteString(stdout, b.String())
	return exitOK
}
