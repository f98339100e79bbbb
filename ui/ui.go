package ui

import (
	"errors"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"tinylab/device"
	"tinylab/lab/attach"
	"tinylab/ui/theme"
)

// Options configure the UI.
type Options struct {
	Theme   theme.Name // "" or theme.Default; theme.Contrast for projectors
	NoColor bool       // drop colours; also on when NO_COLOR is set to anything
	Seed    *uint64    // overrides the scenario's seed
	Speed   float64    // initial speed factor (0: 1x)
	Title   string     // what a replay shows as its name (the file's)
	// RD and Attach add devices running elsewhere beside the scenario's:
	// those a CoRE Resource Directory lists, and those at these URIs.
	RD     string
	Attach []string
	// Secure reaches coaps:// devices among them as one party (nil: only
	// coap:// ones can be attached).
	Secure *attach.DTLS
	// Gateway serves the lab's gateway endpoint at this address: an RD the
	// room's devices register with (shown beside the scenario's unless RD
	// names another), the collector, and /lab/devices.
	Gateway string

	// Input, Output and the size are for tests and embedding: nil means the
	// terminal, whose size is then read from it.
	Input         io.Reader
	Output        io.Writer
	Width, Height int
}

// ErrEmpty is returned by Replay for a recording without events.
var ErrEmpty = errors.New("the recording holds no events")

// Run opens a scenario (a built-in's name or a YAML file) on a live lab and
// returns when the user quits. A scenario that does not load is an error
// before anything is drawn.
func Run(scenario string, opts Options) error {
	l, err := openLive(scenario, opts.Seed, opts.Speed)
	if err != nil {
		return err
	}
	rd, own := opts.RD, false
	if opts.Gateway != "" {
		gw, uri, err := serveGateway(opts.Gateway, l)
		if err != nil {
			l.close()
			return err
		}
		defer gw.Close()
		if rd == "" {
			rd, own = uri, true
		}
	}
	if rd != "" || len(opts.Attach) > 0 {
		if l.remote, err = attachRemotes(rd, own, opts.Attach, opts.Secure); err != nil {
			l.close()
			return err
		}
	}
	return run(l, opts)
}

// Replay plays a recorded transcript (lab.ReadTranscript's events) in the
// UI: virtual time from the records, play and pause, speed, steps back and
// forth; no lab behind it, so the panes show what the events say.
func Replay(events []device.Event, opts Options) error {
	if len(events) == 0 {
		return ErrEmpty
	}
	title := opts.Title
	if title == "" {
		title = "recording"
	}
	return run(newReplay(events, title, opts.Speed, time.Now), opts)
}

func run(src source, o Options) error {
	defer src.close()
	noColor := o.NoColor || os.Getenv("NO_COLOR") != ""
	m := newModel(src, theme.New(o.Theme, noColor), time.Now)
	_, err := tea.NewProgram(m, programOptions(o, noColor)...).Run()
	return err
}

func programOptions(o Options, noColor bool) []tea.ProgramOption {
	var opts []tea.ProgramOption
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	if o.Width > 0 && o.Height > 0 {
		opts = append(opts, tea.WithWindowSize(o.Width, o.Height))
	}
	if noColor {
		// bold and reverse stay: they carry the focus and the lit state
		opts = append(opts, tea.WithColorProfile(colorprofile.ASCII))
	}
	return opts
}
