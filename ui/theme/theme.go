// Package theme holds the UI's styles: one Theme per look (the default, a
// high-contrast one for projectors, and a monochrome one for NO_COLOR), each a
// set of lipgloss styles named by what they show rather than by colour.
//
// Colours are the terminal's own 16 ANSI colours, so the audience's terminal
// palette (light or dark) decides the exact shades. Nothing here relies on
// colour alone: every state also has a word or a glyph, so NO_COLOR loses no
// information.
//
// theme imports lipgloss and device (for container states); it must not import
// lab, scenarios or the ui package.
package theme

import (
	"errors"
	"fmt"
	"image/color"

	"charm.land/lipgloss/v2"

	"tinylab/device"
)

// Name is a theme's name as `--theme` takes it.
type Name string

// The themes.
const (
	Default  Name = "default"
	Contrast Name = "contrast"
)

// ErrUnknown is returned for a theme name that does not exist.
var ErrUnknown = errors.New("unknown theme")

// Parse reads a theme name; "" is the default theme.
func Parse(s string) (Name, error) {
	switch Name(s) {
	case "", Default:
		return Default, nil
	case Contrast, "high-contrast":
		return Contrast, nil
	}
	return "", fmt.Errorf("%w %q (themes: default, contrast)", ErrUnknown, s)
}

// Border is a box's line drawing.
type Border struct {
	TL, TR, BL, BR, H, V string
}

// Theme is every style the panes use.
type Theme struct {
	Name    Name
	NoColor bool

	Bar, Brand, BarDim Style // the status line
	Text, Strong, Dim  Style
	OK, Bad, Warn      Style
	Info, Accent       Style
	Selected, Lit      Style // a selected row; the lit state of the state machine
	Heart              Style
	Fill, Empty        Style // bars
	Key, KeyDesc       Style // help
	Title, TitleFocus  Style // pane titles
	Frame, FrameFocus  Style // pane borders
	Input              Style // the command line
	Story              Style // the narration

	Box, BoxFocus Border

	states [7]Style
}

// Style is a lipgloss style.
type Style = lipgloss.Style

// New builds a theme. noColor drops every colour and keeps only bold, reverse
// and underline, as NO_COLOR asks.
func New(name Name, noColor bool) *Theme {
	s := lipgloss.NewStyle
	c := func(n int) color.Color { return lipgloss.ANSIColor(uint8(n)) }
	t := &Theme{Name: name, NoColor: noColor}
	thin := Border{"┌", "┐", "└", "┘", "─", "│"}
	thick := Border{"┏", "┓", "┗", "┛", "━", "┃"}
	t.Box, t.BoxFocus = thin, thick
	if noColor {
		t.Bar = s().Reverse(true)
		t.Brand = s().Reverse(true).Bold(true)
		t.BarDim = s().Reverse(true)
		t.Text, t.Strong, t.Dim = s(), s().Bold(true), s()
		t.OK, t.Bad, t.Warn = s(), s().Bold(true), s().Bold(true)
		t.Info, t.Accent = s(), s().Bold(true)
		t.Selected, t.Lit = s().Reverse(true), s().Reverse(true).Bold(true)
		t.Heart = s().Bold(true)
		t.Fill, t.Empty = s(), s()
		t.Key, t.KeyDesc = s().Bold(true), s()
		t.Title, t.TitleFocus = s().Bold(true), s().Bold(true).Reverse(true)
		t.Frame, t.FrameFocus = s(), s().Bold(true)
		t.Input = s().Bold(true)
		t.Story = s().Bold(true)
		for i := range t.states {
			t.states[i] = s()
		}
		t.states[device.Failed] = s().Bold(true)
		t.states[device.Running] = s().Bold(true)
		return t
	}
	const (
		black, red, green, yellow, blue, magenta, cyan, white = 0, 1, 2, 3, 4, 5, 6, 7
		bright                                                = 8
	)
	if name == Contrast {
		// Bright colours, bold where it matters, no faint greys: readable from
		// the back of a room on a washed-out projector.
		t.Bar = s().Background(c(white + bright)).Foreground(c(black)).Bold(true)
		t.Brand = s().Background(c(yellow + bright)).Foreground(c(black)).Bold(true)
		t.BarDim = t.Bar
		t.Text = s().Foreground(c(white + bright))
		t.Strong = s().Foreground(c(white + bright)).Bold(true)
		t.Dim = s().Foreground(c(white + bright))
		t.OK = s().Foreground(c(green + bright)).Bold(true)
		t.Bad = s().Foreground(c(red + bright)).Bold(true)
		t.Warn = s().Foreground(c(yellow + bright)).Bold(true)
		t.Info = s().Foreground(c(cyan + bright)).Bold(true)
		t.Accent = s().Foreground(c(yellow + bright)).Bold(true)
		t.Selected = s().Background(c(yellow + bright)).Foreground(c(black)).Bold(true)
		t.Lit = s().Background(c(green + bright)).Foreground(c(black)).Bold(true)
		t.Heart = s().Foreground(c(red + bright)).Bold(true)
		t.Fill = s().Foreground(c(green + bright))
		t.Empty = s().Foreground(c(white + bright))
		t.Key = s().Foreground(c(yellow + bright)).Bold(true)
		t.KeyDesc = s().Foreground(c(white + bright))
		t.Title = s().Foreground(c(white + bright)).Bold(true)
		t.TitleFocus = s().Background(c(yellow + bright)).Foreground(c(black)).Bold(true)
		t.Frame = s().Foreground(c(white + bright))
		t.FrameFocus = s().Foreground(c(yellow + bright)).Bold(true)
		t.Input = s().Foreground(c(white + bright)).Bold(true)
		t.Story = s().Foreground(c(white + bright)).Bold(true)
		t.states = [7]Style{
			device.Empty:        s().Foreground(c(white + bright)),
			device.Provisioning: s().Foreground(c(yellow + bright)).Bold(true),
			device.Ready:        s().Foreground(c(cyan + bright)).Bold(true),
			device.Running:      s().Foreground(c(green + bright)).Bold(true),
			device.Stopping:     s().Foreground(c(yellow + bright)).Bold(true),
			device.Deleting:     s().Foreground(c(magenta + bright)).Bold(true),
			device.Failed:       s().Foreground(c(red + bright)).Bold(true),
		}
		return t
	}
	t.Bar = s().Background(c(blue)).Foreground(c(white + bright))
	t.Brand = s().Background(c(cyan)).Foreground(c(black)).Bold(true)
	t.BarDim = s().Background(c(blue)).Foreground(c(white))
	t.Text = s()
	t.Strong = s().Bold(true)
	t.Dim = s().Foreground(c(black + bright))
	t.OK = s().Foreground(c(green))
	t.Bad = s().Foreground(c(red + bright)).Bold(true)
	t.Warn = s().Foreground(c(yellow))
	t.Info = s().Foreground(c(cyan))
	t.Accent = s().Foreground(c(magenta + bright)).Bold(true)
	t.Selected = s().Reverse(true)
	t.Lit = s().Background(c(green)).Foreground(c(black)).Bold(true)
	t.Heart = s().Foreground(c(red + bright)).Bold(true)
	t.Fill = s().Foreground(c(cyan))
	t.Empty = s().Foreground(c(black + bright))
	t.Key = s().Foreground(c(cyan + bright)).Bold(true)
	t.KeyDesc = s()
	t.Title = s().Bold(true)
	t.TitleFocus = s().Background(c(cyan)).Foreground(c(black)).Bold(true)
	t.Frame = s().Foreground(c(black + bright))
	t.FrameFocus = s().Foreground(c(cyan + bright))
	t.Input = s().Bold(true)
	t.Story = s().Bold(true)
	t.states = [7]Style{
		device.Empty:        s().Foreground(c(black + bright)),
		device.Provisioning: s().Foreground(c(yellow)),
		device.Ready:        s().Foreground(c(cyan)),
		device.Running:      s().Foreground(c(green)).Bold(true),
		device.Stopping:     s().Foreground(c(yellow)),
		device.Deleting:     s().Foreground(c(magenta)),
		device.Failed:       s().Foreground(c(red + bright)).Bold(true),
	}
	return t
}

// State is the style of a container state's name.
func (t *Theme) State(s device.State) Style {
	if int(s) < len(t.states) {
		return t.states[s]
	}
	return t.Text
}
