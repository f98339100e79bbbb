package ui

import "charm.land/bubbles/v2/key"

// keyMap is every key of the UI; the help overlay lists them all.
type keyMap struct {
	Next, Play, Back, Reset, Faster, Slower key.Binding
	Focus, FocusBack, Up, Down, PageUp      key.Binding
	PageDown, Home, End, Zoom, Mouse        key.Binding
	Filter, Command, Complete, History      key.Binding
	Scroll                                  key.Binding
	Help, Esc, Quit                         key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Next:      b("n", "next step", "n"),
		Play:      b("space", "play / pause", "space"),
		Back:      b("p", "back a step (re-runs)", "p"),
		Reset:     b("r", "reset (re-reads a file)", "r"),
		Faster:    b("+", "faster", "+", "="),
		Slower:    b("-", "slower", "-", "_"),
		Focus:     b("tab", "next pane", "tab"),
		FocusBack: b("shift+tab", "previous pane", "shift+tab"),
		Up:        b("↑/k", "up / newer event", "up", "k"),
		Down:      b("↓/j", "down / older event", "down", "j"),
		PageUp:    b("pgup", "page up", "pgup", "ctrl+u"),
		PageDown:  b("pgdn", "page down", "pgdown", "ctrl+d"),
		Home:      b("g/home", "top, follow the log", "g", "home"),
		End:       b("G/end", "bottom", "G", "end"),
		Zoom:      b("z", "zoom the pane", "z"),
		Filter:    b("/", "filter the log (! failures)", "/"),
		Command:   b(":", "command line", ":"),
		Complete:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete a command")),
		History:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "command history")),
		Scroll:    key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "scroll the console")),
		Help:      b("?", "this help", "?"),
		Esc:       b("esc", "close, clear, unzoom", "esc"),
		Quit:      b("q", "quit (also ctrl+c)", "q", "ctrl+c"),
	}
}

// groups are the help overlay's columns.
func (k keyMap) groups() (titles []string, cols [][]key.Binding) {
	return []string{"presenter", "navigate", "testing"}, [][]key.Binding{
		{k.Next, k.Play, k.Back, k.Reset, k.Faster, k.Slower, k.Help, k.Quit},
		{k.Focus, k.FocusBack, k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Zoom},
		{k.Filter, k.Command, k.Complete, k.History, k.Scroll, k.Esc},
	}
}

// short is the footer's reminder of the most used keys.
func (k keyMap) short() []key.Binding {
	return []key.Binding{k.Next, k.Play, k.Back, k.Filter, k.Command, k.Focus, k.Help, k.Quit}
}
