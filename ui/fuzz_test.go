package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"tinylab/ui/theme"
)

// fuzzKeys are the keys the fuzzer presses: every binding and the keys of
// the text inputs.
var fuzzKeys = []string{"n", "space", "p", "r", "+", "-", "tab", "shift+tab", "up", "down", "k", "j",
	"pgdown", "home", "end", "g", "G", "z", "/", ":", "?", "esc", "enter", "x", "s", "a", " "}

// FuzzUI drives the root model with any sequence of keys, clicks, wheel
// turns, resizes and frames: it must never panic, and every screen must be
// exactly the terminal's size.
func FuzzUI(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 201, 250, 14, 15, 16})
	f.Add([]byte{20, 8, 9, 10, 255, 0, 21, 30, 31, 22, 23})
	f.Add([]byte{19, 255, 4, 4, 4, 5, 5, 5, 250, 1, 250, 90})
	f.Fuzz(func(t *testing.T, ops []byte) {
		m, _ := fixtureModel(theme.New(theme.Default, false), 100, 30)
		w, h := 100, 30
		for i := 0; i < len(ops); i++ {
			op := ops[i]
			arg := func() int {
				if i+1 < len(ops) {
					i++
					return int(ops[i])
				}
				return 0
			}
			switch {
			case int(op) < len(fuzzKeys):
				m.Update(press(fuzzKeys[op]))
			case op >= 250:
				w, h = arg(), arg()/2
				m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			case op >= 240:
				m.Update(tea.MouseWheelMsg{X: arg(), Y: arg() / 4, Button: tea.MouseWheelDown})
			case op >= 200:
				m.Update(tea.MouseClickMsg{X: arg(), Y: arg() / 4, Button: tea.MouseLeft})
			case op >= 180:
				m.Update(frameMsg(fixtureFrame()))
			default:
				m.Update(tea.KeyPressMsg{Code: rune(op), Text: string(rune(op))})
			}
		}
		out := m.View().Content
		if w > 0 && h > 0 {
			checkBox(t, out, w, h)
		}
	})
}
