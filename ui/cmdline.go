package ui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"tinylab/ui/theme"
)

// consoleCap is how many lines of command output the console keeps.
const consoleCap = 500

// lineKind is what a console line is.
type lineKind uint8

const (
	lineCmd  lineKind = iota // what the tester typed
	lineOut                  // what the lab answered
	lineErr                  // an error
	lineHint                 // completions and notes of the UI
)

type consoleLine struct {
	kind lineKind
	text string
}

// cmdLine is the `:` command line: a text input with completion from the
// lab and a history browsed with the arrows, and the console of what the
// commands answered.
type cmdLine struct {
	in      textinput.Model
	history []string
	hpos    int // len(history) while editing a new line
	draft   string
	console []consoleLine
	scroll  int // console lines scrolled back from the newest
	// cycling through ambiguous completions with tab
	cands []string
	next  int
	set   string // the value the last completion left
}

func newCmdLine(th *theme.Theme) cmdLine {
	in := textinput.New()
	in.Prompt = ": "
	in.Placeholder = "start DEVICE CONTAINER · tab completes · ↑ history · help lists commands"
	st := textinput.DefaultDarkStyles()
	st.Focused.Prompt = th.Accent
	st.Focused.Text = th.Input
	st.Focused.Placeholder = th.Dim
	st.Cursor.Blink = false
	in.SetStyles(st)
	return cmdLine{in: in}
}

func (c *cmdLine) open(w int) {
	c.in.Reset()
	c.in.SetWidth(max(w-4, 10))
	c.in.Focus()
	c.hpos = len(c.history)
}

func (c *cmdLine) close() { c.in.Blur() }

// print adds lines to the console.
func (c *cmdLine) print(kind lineKind, lines ...string) {
	for _, l := range lines {
		c.console = append(c.console, consoleLine{kind, strings.ReplaceAll(l, "\t", "  ")})
	}
	if n := len(c.console) - consoleCap; n > 0 {
		c.console = append(c.console[:0], c.console[n:]...)
	}
	c.scroll = 0 // new output is shown
}

// scrollBy moves the console back (positive) or forth by n lines; the
// drawing clamps it to what there is.
func (c *cmdLine) scrollBy(n int) { c.scroll = max(c.scroll+n, 0) }

// submit takes the line typed, remembers it and clears the input.
func (c *cmdLine) submit() string {
	line := strings.TrimSpace(c.in.Value())
	c.in.Reset()
	if line == "" {
		return ""
	}
	if len(c.history) == 0 || c.history[len(c.history)-1] != line {
		c.history = append(c.history, line)
	}
	c.hpos = len(c.history)
	c.print(lineCmd, line)
	return line
}

// browse moves through the history: older when up.
func (c *cmdLine) browse(up bool) {
	if len(c.history) == 0 {
		return
	}
	if c.hpos == len(c.history) {
		c.draft = c.in.Value()
	}
	if up {
		c.hpos = max(c.hpos-1, 0)
	} else {
		c.hpos = min(c.hpos+1, len(c.history))
	}
	if c.hpos == len(c.history) {
		c.in.SetValue(c.draft)
	} else {
		c.in.SetValue(c.history[c.hpos])
	}
	c.in.CursorEnd()
}

// complete applies the lab's completions of the last word: the one
// completion, or the longest prefix they share (listing them); tab again
// cycles through them.
func (c *cmdLine) complete(cands []string) {
	v := c.in.Value()
	i := strings.LastIndexByte(v, ' ') + 1
	word := v[i:]
	if len(c.cands) > 1 && v == c.set {
		w := c.cands[c.next%len(c.cands)]
		c.next++
		c.set = v[:i] + w
		c.in.SetValue(c.set)
		c.in.CursorEnd()
		return
	}
	c.cands, c.next = nil, 0
	switch len(cands) {
	case 0:
		c.print(lineHint, "no completion for "+quote(word))
		return
	case 1:
		c.in.SetValue(v[:i] + cands[0] + " ")
		c.in.CursorEnd()
		return
	}
	p := cands[0]
	for _, s := range cands[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	c.in.SetValue(v[:i] + p)
	c.in.CursorEnd()
	c.cands, c.set = cands, v[:i]+p
	c.print(lineHint, strings.Join(cands, "  "))
}

func quote(s string) string {
	if s == "" {
		return "an empty word"
	}
	return `"` + s + `"`
}

func (c *cmdLine) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	c.in, cmd = c.in.Update(msg)
	return cmd
}
