package theme

import (
	"errors"
	"regexp"
	"testing"

	"tinylab/device"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Name{"": Default, "default": Default, "contrast": Contrast, "high-contrast": Contrast} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := Parse("neon"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Parse(neon): %v", err)
	}
}

// colour matches an SGR sequence that sets a colour (foreground or
// background, 16, 256 or true colour).
var colour = regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]`)

// TestNoColor: the NO_COLOR theme sets no colour anywhere, yet the lit
// state, the selection and the focus still stand out (reverse or bold).
func TestNoColor(t *testing.T) {
	th := New(Contrast, true)
	styles := []Style{th.Bar, th.Brand, th.BarDim, th.Text, th.Strong, th.Dim, th.OK, th.Bad, th.Warn, th.Info,
		th.Accent, th.Selected, th.Lit, th.Heart, th.Fill, th.Empty, th.Key, th.KeyDesc, th.Title, th.TitleFocus,
		th.Frame, th.FrameFocus, th.Input, th.Story}
	for _, s := range device.States() {
		styles = append(styles, th.State(s))
	}
	for i, s := range styles {
		if out := s.Render("x"); colour.MatchString(out) {
			t.Errorf("style %d sets a colour: %q", i, out)
		}
	}
	for name, s := range map[string]Style{"lit": th.Lit, "selected": th.Selected, "focus": th.TitleFocus} {
		if out := s.Render("x"); out == "x" {
			t.Errorf("%s does not stand out without colour", name)
		}
	}
	for _, name := range []Name{Default, Contrast} {
		if out := New(name, false).Bad.Render("x"); !colour.MatchString(out) {
			t.Errorf("%s: a failure has no colour: %q", name, out)
		}
	}
	if th.BoxFocus == th.Box {
		t.Error("the focused box looks like the others")
	}
}
