package ui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"tinylab/lab"
	"tinylab/ui/theme"
)

// sizes are the terminal sizes goldens are taken at: the smallest the UI
// promises and a large one.
var sizes = [][2]int{{80, 24}, {160, 48}}

// fixed downsamples a rendering to the 16-colour ANSI profile, so goldens do
// not depend on the terminal the tests run in.
func fixed(t testing.TB, s string) string {
	var b bytes.Buffer
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ANSI}
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkBox fails unless s is exactly h lines of exactly w cells.
func checkBox(t testing.TB, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, n, w, ansi.Strip(l))
		}
	}
}

func TestGoldenPanes(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := fixtureModel(theme.New(theme.Default, false), sz[0], sz[1])
			for p := range paneCount {
				t.Run(p.String(), func(t *testing.T) {
					r := m.lay.panes[p]
					if r.w == 0 || r.h == 0 {
						t.Fatalf("pane %s has no room at %dx%d", p, sz[0], sz[1])
					}
					out := strings.Join(m.pane(p, r), "\n")
					checkBox(t, out, r.w, r.h)
					golden.RequireEqual(t, fixed(t, out))
				})
			}
		})
	}
}

func TestGoldenScreen(t *testing.T) {
	looks := []struct {
		name    string
		theme   theme.Name
		noColor bool
	}{{"default", theme.Default, false}, {"contrast", theme.Contrast, false}, {"nocolor", theme.Default, true}}
	for _, sz := range sizes {
		for _, look := range looks {
			t.Run(fmt.Sprintf("%dx%d/%s", sz[0], sz[1], look.name), func(t *testing.T) {
				m, _ := fixtureModel(theme.New(look.theme, look.noColor), sz[0], sz[1])
				out := m.render()
				checkBox(t, out, sz[0], sz[1])
				golden.RequireEqual(t, fixed(t, out))
			})
		}
	}
}

// TestGoldenOverlays covers the help overlay and the console over the
// command line, with a completion listed.
func TestGoldenOverlays(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d/help", sz[0], sz[1]), func(t *testing.T) {
			m, _ := fixtureModel(theme.New(theme.Default, false), sz[0], sz[1])
			m.Update(press("?"))
			out := m.render()
			checkBox(t, out, sz[0], sz[1])
			golden.RequireEqual(t, fixed(t, out))
		})
		t.Run(fmt.Sprintf("%dx%d/console", sz[0], sz[1]), func(t *testing.T) {
			m, src := fixtureModel(theme.New(theme.Default, false), sz[0], sz[1])
			src.comps = []string{"start", "stop"}
			m.Update(press(":"))
			typeText(m, "st")
			m.Update(press("tab"))
			m.Update(noteMsg{text: "unknown command", bad: true, console: []string{`unknown command "bogus"`}})
			out := m.render()
			checkBox(t, out, sz[0], sz[1])
			golden.RequireEqual(t, fixed(t, out))
		})
	}
}

// press is a key press as the terminal sends it, by its name.
func press(name string) tea.KeyPressMsg {
	switch name {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(name)[0]
	return tea.KeyPressMsg{Code: r, Text: name}
}

func typeText(m tea.Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// TestGoldenRolloutScreen is the whole screen while a 10,000-board campaign
// is halted: the rollout takes the update pane.
func TestGoldenRolloutScreen(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, src := fixtureModel(theme.New(theme.Default, false), sz[0], sz[1])
			f := src.frame("", lab.AllRows)
			v := haltedRollout(10000)
			f.snap.Rollout = &v
			m.Update(frameMsg(f))
			out := m.render()
			checkBox(t, out, sz[0], sz[1])
			golden.RequireEqual(t, fixed(t, out))
		})
	}
}
