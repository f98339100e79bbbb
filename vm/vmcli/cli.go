package vmcli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/loader"
	"tinylab/vm/rbf"
)

// Exit codes.
const (
	exitOK      = 0 // the program reached exit / the command succeeded
	exitVMError = 1 // the program failed while running
	exitLoad    = 2 // usage error, or the file cannot be read, loaded or verified
)

const (
	usageRun    = "usage: tinylab vm run FILE [--mem HEX | --mem-file F] [--budget N] [--branches N] [--entry NAME|PC] [--now MS] [--json]"
	usageAsm    = "usage: tinylab vm asm IN [-o OUT] [--rbf]"
	usageDisasm = "usage: tinylab vm disasm FILE"
)

// Main runs `tinylab vm ARGS` and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usageAll)
		return exitLoad
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "asm":
		return asmCmd(args[1:], stdout, stderr)
	case "disasm":
		return disasmCmd(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usageAll)
		return exitOK
	}
	fmt.Fprintf(stderr, "tinylab vm: unknown command %q\n%s\n", args[0], usageAll)
	return exitLoad
}

const usageAll = `tinylab vm: run, assemble and disassemble eBPF programs (femto-container VM)

  ` + usageRun + `
      FILE is assembly (.asm, .s), an rBPF image or raw bytecode (.bin, .rbf,
      told apart by the "rBPF" magic) or an ELF object from clang (.o).
      --mem/--mem-file give the context: r1 = its address, r2 = its length.
      --budget is the instruction budget, --branches the taken-branch budget.
      Helpers: 0x01 printf (to stdout; to stderr with --json), 0x02 memcpy,
      0x20 now_ms (--now). Exit 0 at exit, 1 on a VM error, 2 when FILE
      cannot be loaded or verified.
  ` + usageAsm + `
      Writes raw bytecode (OUT defaults to IN with .bin) or, with --rbf, a
      femto-container image (.rbf). IN may also be an ELF object.
  ` + usageDisasm

// Parse parses flags that may come before or after the positional
// arguments; everything after "--" is positional. tinylab wasm uses it too.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return append(pos, rest...), nil
}

func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tinylab vm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// jsonError is the "error" member of run's --json output.
type jsonError struct {
	Kind    string `json:"kind"`
	PC      int    `json:"pc"`
	Message string `json:"message"`
}

// jsonResult is run's --json output, one object.
type jsonResult struct {
	R0           string     `json:"r0"`
	Error        *jsonError `json:"error"`
	Instructions uint64     `json:"instructions"`
	Branches     uint64     `json:"branches"`
}

// errorKind names any error for --json: the VM's kinds, "asm" for assembly
// errors, "usage" and "io".
func errorKind(err error) string {
	if k, ok := vm.KindOf(err); ok {
		return k.String()
	}
	var ae *asm.Error
	if errors.As(err, &ae) {
		return "asm"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "io"
	}
	return "usage"
}

func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", usageRun, stderr)
	memHex := fs.String("mem", "", "context memory as hex bytes (spaces allowed)")
	memFile := fs.String("mem-file", "", "file whose bytes are the context memory")
	budget := fs.Int64("budget", 0, "instruction budget (0: the VM default, 16777216)")
	branches := fs.Int64("branches", 0, "taken-branch budget (0: the VM default, 1048576)")
	entry := fs.String("entry", "", "function name or pc to start at (default: pc 0)")
	now := fs.Uint64("now", 0, "value now_ms (helper 0x20) returns")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	pos, err := Parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitLoad
	}
	report := func(r0 uint64, st vm.Stats, err error) {
		if !*asJSON {
			return
		}
		out := jsonResult{R0: "0x" + strconv.FormatUint(r0, 16), Instructions: st.Instructions, Branches: st.TakenBranches}
		if err != nil {
			out.Error = &jsonError{Kind: errorKind(err), PC: vm.PCOf(err), Message: err.Error()}
		}
		b, _ := json.Marshal(out)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	fail := func(code int, err error) int {
		report(0, vm.Stats{}, err)
		fmt.Fprintf(stderr, "tinylab vm run: %v\n", err)
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return fail(exitLoad, fmt.Errorf("expected one FILE, got %d arguments", len(pos)))
	}
	if *memHex != "" && *memFile != "" {
		return fail(exitLoad, errors.New("give --mem or --mem-file, not both"))
	}
	var mem []byte
	switch {
	case *memHex != "":
		if mem, err = hex.DecodeString(strings.Join(strings.Fields(*memHex), "")); err != nil {
			return fail(exitLoad, fmt.Errorf("--mem: %v", err))
		}
	case *memFile != "":
		if mem, err = os.ReadFile(*memFile); err != nil {
			return fail(exitLoad, err)
		}
	}
	file := pos[0]
	b, err := os.ReadFile(file)
	if err != nil {
		return fail(exitLoad, err)
	}
	printOut := stdout
	if *asJSON {
		printOut = stderr
	}
	helpers := standaloneHelpers(printOut, *now)
	p, err := loader.LoadVerified(file, b, helpers)
	if err != nil {
		return fail(exitLoad, fmt.Errorf("%s: %w", file, err))
	}
	pc := 0
	if *entry != "" {
		var ok bool
		if pc, ok = p.Entry(*entry); !ok {
			n, err := strconv.Atoi(*entry)
			if err != nil || !p.IsEntry(n) {
				return fail(exitLoad, fmt.Errorf("%s: no function or instruction %q (functions: %s)", file, *entry, functionList(p)))
			}
			pc = n
		}
	}
	in := vm.NewInstance(p, vm.Config{Helpers: helpers, BranchBudget: *branches, InstructionBudget: *budget, ContextWritable: true})
	res, err := in.Run(pc, mem)
	st := res.Stats
	if *asJSON {
		report(res.R0, st, err)
	} else {
		if err == nil {
			fmt.Fprintf(stdout, "r0 = %#x (%d)\n", res.R0, int64(res.R0))
		}
		fmt.Fprintf(stdout, "instructions: %d (alu %d, load/store %d, branch %d, divide %d, call %d), taken branches: %d\n",
			st.Instructions, st.ALU, st.LoadStore, st.Branch, st.Divide, st.Call, st.TakenBranches)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tinylab vm run: %s: %v\n", file, err)
		return exitVMError
	}
	return exitOK
}

func functionList(p *vm.Program) string {
	var names []string
	for _, f := range p.Functions() {
		names = append(names, fmt.Sprintf("%s@%d", f.Name, f.PC))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func asmCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("asm", usageAsm, stderr)
	out := fs.String("o", "", "output file (default: IN with .bin, or .rbf with --rbf)")
	asRBF := fs.Bool("rbf", false, "write a femto-container (rBPF) image instead of raw bytecode")
	pos, err := Parse(fs, args)
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
	in := pos[0]
	src, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintf(stderr, "tinylab vm asm: %v\n", err)
		return exitLoad
	}
	img, err := loader.Load(assemblyName(in, src), src)
	if err != nil {
		fmt.Fprintf(stderr, "tinylab vm asm: %s:%v\n", in, sep(err))
		return exitLoad
	}
	var b []byte
	ext := ".bin"
	if *asRBF {
		ext = ".rbf"
		b, err = rbf.Encode(img)
	} else {
		if len(img.Data) > 0 || len(img.Rodata) > 0 {
			fmt.Fprintf(stderr, "tinylab vm asm: %s has data or rodata, which raw bytecode cannot hold: use --rbf\n", in)
			return exitLoad
		}
		b, err = vm.EncodeText(img.Text)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tinylab vm asm: %s: %v\n", in, err)
		return exitLoad
	}
	if *out == "" {
		*out = strings.TrimSuffix(in, filepath.Ext(in)) + ext
		if *out == in {
			*out += ext
		}
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(stderr, "tinylab vm asm: %v\n", err)
		return exitLoad
	}
	fmt.Fprintf(stdout, "wrote %s: %d slots, %d bytes\n", *out, len(img.Text), len(b))
	return exitOK
}

// assemblyName makes the loader treat a text file as assembly whatever its
// extension, so `tinylab vm asm prog.txt` works.
func assemblyName(name string, b []byte) string {
	if loader.Detect(name, b) == vm.FormatRaw {
		return name + ".asm"
	}
	return name
}

// sep formats an error after "FILE:": assembly errors are line:col already.
func sep(err error) string {
	var ae *asm.Error
	if errors.As(err, &ae) {
		return err.Error()
	}
	return " " + err.Error()
}

func disasmCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("disasm", usageDisasm, stderr)
	pos, err := Parse(fs, args)
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
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "tinylab vm disasm: %v\n", err)
		return exitLoad
	}
	img, err := loader.Load(file, b)
	if err != nil {
		fmt.Fprintf(stderr, "tinylab vm disasm: %s:%v\n", file, sep(err))
		return exitLoad
	}
	io.WriteString(stdout, asm.DisassembleWith(img, asm.Options{HelperName: func(id uint32) string { return helperNames[id] }}))
	known := make(vm.HelperIDs, 0, len(helperNames))
	for id := range helperNames {
		known = append(known, id)
	}
	if _, err := vm.Verify(img, known); err != nil {
		fmt.Fprintf(stdout, "# verify: %v\n", err)
	} else {
		fmt.Fprintln(stdout, "# verify: ok (with the device's helpers)")
	}
	return exitOK
}
