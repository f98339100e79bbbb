package uicli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/charmbracelet/x/term"

	"tinylab/device"
	"tinylab/lab/attach"
	"tinylab/lab/labcli"
	"tinylab/scenarios"
	"tinylab/ui"
	"tinylab/ui/theme"
)

const usage = `usage: tinylab ui [NAME|FILE] [--seed N] [--speed X] [--theme contrast] [--rd coap://HOST:PORT] [--attach URI ...] [--psk IDENTITY=KEY] [--gateway ADDR]

Opens a scenario in the terminal UI: a built-in's name (tinylab scenarios
lists them) or a scenario file. Without one it opens %s.

Keys: n next step · space play/pause · p back · r reset · +/- speed ·
tab focus · / filter · : command line · ? every key · q quit.
NO_COLOR (any value) drops colours.

Flags:
`

// errTerminal is returned when there is no terminal to draw in.
var errTerminal = errors.New("the UI needs a terminal: stdout is not one (tinylab run NAME plays a scenario headless)")

// Main runs `tinylab ui`; it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, usage, scenarios.DefaultScenario)
		fs.PrintDefaults()
	}
	seed := fs.String("seed", "", "seed of the lab (default: the scenario's)")
	speed := fs.Float64("speed", 1, "speed factor of the virtual clock, 0.25 to 100")
	themeName := fs.String("theme", "default", "look: default or contrast (high contrast, for projectors)")
	rd := fs.String("rd", "", "show devices a CoRE Resource Directory lists (coap://HOST:PORT) beside the scenario's, live")
	gw := fs.String("gateway", "", "serve the lab's gateway here (an RD the room's devices register with, shown beside the scenario's; /lab/devices)")
	var attachURIs []string
	fs.Func("attach", "show the device at this coap:// URI beside the scenario's, live (repeatable)", func(v string) error {
		attachURIs = append(attachURIs, v)
		return nil
	})
	var secure *attach.DTLS
	fs.Func("psk", "reach coaps:// devices among those attached as this party: IDENTITY=KEY (as coap-client-openssl -u/-k)", func(v string) (err error) {
		secure, err = attach.ParsePSK(v)
		return err
	})
	pos, err := labcli.Parse(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "tinylab ui: one scenario at a time, got %d: %q\n", len(pos), pos)
		return 2
	}
	opts := ui.Options{Speed: *speed, RD: *rd, Attach: attachURIs, Secure: secure, Gateway: *gw}
	if opts.Theme, err = theme.Parse(*themeName); err != nil {
		fmt.Fprintln(stderr, "tinylab ui:", err)
		return 2
	}
	if *speed < 0.25 || *speed > 100 {
		fmt.Fprintf(stderr, "tinylab ui: --speed %g is out of range: 0.25 to 100\n", *speed)
		return 2
	}
	if *seed != "" {
		n, err := strconv.ParseUint(*seed, 0, 64)
		if err != nil {
			fmt.Fprintf(stderr, "tinylab ui: --seed %q is not a whole number\n", *seed)
			return 2
		}
		opts.Seed = &n
	}
	name := scenarios.DefaultScenario
	if len(pos) == 1 {
		name = pos[0]
	}
	if !isTerminal(stdout) {
		fmt.Fprintln(stderr, "tinylab:", errTerminal)
		return 2
	}
	if err := ui.Run(name, opts); err != nil {
		fmt.Fprintln(stderr, "tinylab ui:", err)
		return 1
	}
	return 0
}

// Replay plays a recorded run in the UI with the default look (NO_COLOR
// honoured): the hook `tinylab replay FILE` calls when its output is a
// terminal, as scencli.Replay(uicli.Replay).
func Replay(events []device.Event) error {
	return ui.Replay(events, ui.Options{Title: "recording"})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
