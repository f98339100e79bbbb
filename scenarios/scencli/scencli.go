package scencli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"tinylab/device"
	"tinylab/device/cord"
	"tinylab/lab"
	"tinylab/lab/labcli"
	"tinylab/lab/sim"
	"tinylab/scenarios"
	"tinylab/vm/wasm"
)

// List is `tinylab scenarios`.
func List(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: tinylab scenarios")
		if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	all, err := scenarios.Builtins()
	if err != nil {
		fmt.Fprintln(stderr, "tinylab scenarios:", err)
		return 1
	}
	for _, sc := range all {
		fmt.Fprintf(stdout, "%-15s %s\n", sc.Name, sc.Summary)
	}
	return 0
}

// Run is `tinylab run NAME|FILE`: exit 0 when every expectation held, 1
// naming the first that failed, 2 for a scenario that cannot be read.
func Run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tinylab run NAME|FILE [--seed N] [--fast | --speed X] [--record FILE] [--json] [--state DIR] [--wasm-engine auto|interpreter|compiler] [--gateway ADDR] [--rd coap://HOST:PORT]")
		fmt.Fprintln(stderr, "Plays a scenario without the terminal UI: narration and events as lines (JSON Lines with --json).")
		fs.PrintDefaults()
	}
	seed := fs.String("seed", "", "seed (default: the scenario's)")
	fs.Bool("fast", true, "virtual time jumps to the next event (the default; --speed plays in real time)")
	speed := fs.Float64("speed", 0, "play in real time at this speed factor instead (0.25 to 100)")
	record := fs.String("record", "", "write the transcript (JSON Lines) to FILE")
	asJSON := fs.Bool("json", false, "print the transcript as JSON Lines instead of text")
	state := fs.String("state", "", "keep each device's flash in DIR/<device>/ across runs")
	engine := fs.String("wasm-engine", "auto", "wazero engine for WebAssembly containers: auto, interpreter or compiler (the transcript is the same on each)")
	rd := fs.String("rd", "", "with --speed: every device registers with this CoRE Resource Directory (RFC 9176), as RIOT's cord_ep, under its name")
	gw := fs.String("gateway", "", "serve the lab's gateway endpoint here (CoRE RD, and /lab/devices: the fleet as JSON)")
	pos, err := labcli.Parse(fs, args)
	if err != nil {
		return labcli.ParseExit(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	sc, err := scenarios.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "tinylab run:", err)
		return 2
	}
	o := scenarios.Options{Mode: sim.Fast, StateDir: *state, Gateway: *gw}
	switch *engine {
	case "auto":
	case "interpreter":
		o.Runtimes = device.RuntimesWithEngine(wasm.Interpreter)
	case "compiler":
		if wasm.Auto.Resolve() != wasm.Compiler {
			fmt.Fprintln(stderr, "tinylab run: --wasm-engine compiler: wazero has no compiler on this platform")
			return 2
		}
		o.Runtimes = device.RuntimesWithEngine(wasm.Compiler)
	default:
		fmt.Fprintf(stderr, "tinylab run: --wasm-engine %q: auto, interpreter or compiler\n", *engine)
		return 2
	}
	if *seed != "" {
		n, err := strconv.ParseUint(*seed, 0, 64)
		if err != nil {
			fmt.Fprintf(stderr, "tinylab run: --seed %q is not a number\n", *seed)
			return 2
		}
		o.Seed = &n
	}
	if *speed > 0 {
		o.Mode, o.Speed = sim.Paced, *speed
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	var rec *lab.Recorder
	var recFile *os.File
	if *record != "" {
		if recFile, err = os.Create(*record); err != nil {
			fmt.Fprintln(stderr, "tinylab run:", err)
			return 2
		}
		defer recFile.Close()
	}
	printed := func() {}
	defer func() { printed() }()
	o.Setup = func(l *lab.Lab) {
		if recFile != nil {
			rec = l.Record(recFile)
		}
		// formatting a fleet's million lines happens beside the world
		printed = l.Bus().Drain(func(e device.Event) { write(out, e, *asJSON) })
	}
	if *rd != "" && o.Mode != sim.Paced {
		// a fast clock runs ahead of the RD's: lifetimes would mean nothing
		fmt.Fprintln(stderr, "tinylab run: --rd needs --speed (devices register in real time only)")
		return 2
	}
	scenarios.HoldMemory(sc)
	r, err := scenarios.NewRunner(sc, o)
	if err != nil {
		fmt.Fprintln(stderr, "tinylab run:", err)
		return 2
	}
	defer r.Close()
	if *rd != "" {
		for _, n := range r.Lab().Nodes() {
			if _, err := r.Lab().Register(n.ID(), cord.Config{RD: *rd, Endpoint: n.ID()}); err != nil {
				fmt.Fprintln(stderr, "tinylab run:", err)
				return 2
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = play(ctx, r)
	printed()
	if rec != nil {
		if cerr := rec.Close(); cerr != nil {
			fmt.Fprintln(stderr, "tinylab run:", cerr)
		}
	}
	out.Flush()
	var se *scenarios.StepError
	switch {
	case errors.As(err, &se):
		fmt.Fprintln(stderr, "tinylab run: FAILED:", se.Result.Failure())
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "tinylab run:", err)
		return 1
	}
	if !*asJSON {
		fmt.Fprintln(stdout, r.Summary())
	}
	return 0
}

// play runs every step: straight through in Fast mode, or live in Paced mode
// (each step as the presenter's "next" would, without waiting for a key).
func play(ctx context.Context, r *scenarios.Runner) error {
	w := r.Lab().World()
	if w.Mode() == sim.Fast {
		return r.Play(ctx, nil)
	}
	go w.Run(ctx)
	for r.Next() < len(r.Scenario().Steps) {
		if err := r.Begin(); err != nil {
			return err
		}
		select {
		case res := <-r.Done():
			if !res.OK() {
				return &scenarios.StepError{Result: res}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// write prints one event: narration stands out, the rest is the console line.
func write(w io.Writer, e device.Event, asJSON bool) {
	if asJSON {
		b, err := json.Marshal(e)
		if err == nil {
			w.Write(append(b, '\n'))
		}
		return
	}
	switch p := e.Data.(type) {
	case scenarios.StepStarted:
		fmt.Fprintf(w, "\n== %d/%d %s\n", p.Index, p.Total, p.Title)
		for _, line := range wrap(p.Say, 76) {
			fmt.Fprintln(w, "   "+line)
		}
		if p.Watch != "" {
			fmt.Fprintln(w, "   (watch: "+p.Watch+")")
		}
	case scenarios.Checked:
		fmt.Fprintln(w, "   "+p.String())
	case scenarios.Started:
		fmt.Fprintf(w, "%s\n%s\n", p.Title, strings.Repeat("=", min(len(p.Title), 76)))
	default:
		fmt.Fprintln(w, e.String())
	}
}

func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// Replay is `tinylab replay FILE`: a recorded run printed, or played in the
// terminal UI when ui is given and stdout is a terminal.
func Replay(ui func(events []device.Event) error) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		fs := flag.NewFlagSet("replay", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprintln(stderr, "usage: tinylab replay FILE [--print]")
			fmt.Fprintln(stderr, "Plays a transcript written by --record: in the UI on a terminal, as lines otherwise.")
			fs.PrintDefaults()
		}
		printOnly := fs.Bool("print", false, "print the events instead of opening the UI")
		pos, err := labcli.Parse(fs, args)
		if err != nil {
			return labcli.ParseExit(err)
		}
		if len(pos) != 1 {
			fs.Usage()
			return 2
		}
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintln(stderr, "tinylab replay:", err)
			return 2
		}
		defer f.Close()
		events, err := lab.ReadTranscript(f)
		if err != nil {
			fmt.Fprintln(stderr, "tinylab replay:", err)
			return 2
		}
		if ui != nil && !*printOnly && isTerminal(stdout) {
			if err := ui(events); err != nil {
				fmt.Fprintln(stderr, "tinylab replay:", err)
				return 1
			}
			return 0
		}
		out := bufio.NewWriter(stdout)
		defer out.Flush()
		for _, e := range events {
			write(out, e, false)
		}
		return 0
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
