package pane

import (
	"fmt"
	"strings"

	"tinylab/ui/theme"
)

// StepState is where a step of the story is.
type StepState uint8

// The step states.
const (
	Pending StepState = iota
	Playing
	Held
	Failed
)

func (s StepState) String() string {
	return [...]string{"pending", "playing", "held", "failed"}[min(int(s), 3)]
}

// Mark is the step state's one-glyph mark.
func (s StepState) Mark() string {
	return [...]string{"·", "▶", "✓", "✗"}[min(int(s), 3)]
}

// StoryCheck is one expectation of a played step.
type StoryCheck struct {
	OK        bool
	Want, Got string
}

// StoryStep is one step of the story.
type StoryStep struct {
	Title, Say, Watch string
	State             StepState
	Checks            []StoryCheck
	Err               string // the action that failed or the wait that timed out
}

// Story is what the scenario pane shows.
type Story struct {
	Name, Title, Summary string
	Steps                []StoryStep
	Current              int // the step whose narration shows; -1 before the first
}

// Short is the scenario's short name for the status line: its title up to
// the colon, or its name.
func (s Story) Short() string {
	if i := strings.Index(s.Title, ":"); i > 0 {
		return s.Title[:i]
	}
	if s.Title != "" {
		return s.Title
	}
	return s.Name
}

// Played is how many steps have run (held or failed).
func (s Story) Played() int {
	n := 0
	for _, st := range s.Steps {
		if st.State == Held || st.State == Failed {
			n++
		}
	}
	return n
}

// Playing reports whether a step is running.
func (s Story) Playing() bool {
	return s.Current >= 0 && s.Current < len(s.Steps) && s.Steps[s.Current].State == Playing
}

// Render draws the story: the current step and its narration, what to
// watch, and how it went; with room to spare, every step and the current
// step's checks.
func (s Story) Render(t *theme.Theme, w, h int, hint string) []string {
	if h <= 0 {
		return nil
	}
	var top, body, foot []string
	n := len(s.Steps)
	dots := s.dots(t)
	switch {
	case n == 0:
		top = append(top, t.Accent.Render(s.Title))
		body = Wrap(s.Summary, w)
		foot = append(foot, t.Dim.Render("this scenario has no steps"))
	case s.Current < 0:
		top = append(top, Spread(t.Accent.Render(s.Title), dots, w))
		body = Wrap(s.Summary, w)
		foot = append(foot, Spread(t.Info.Render("press n to begin · 1. "+s.Steps[0].Title), hint, w))
	default:
		i := min(s.Current, n-1)
		st := s.Steps[i]
		head := t.Accent.Render(fmt.Sprintf("%d/%d %s %s", i+1, n, st.State.Mark(), st.Title))
		top = append(top, Spread(head, dots, w))
		for _, l := range Wrap(st.Say, w) {
			body = append(body, t.Story.Render(l))
		}
		foot = append(foot, Spread(s.outcome(t, i), hint, w))
	}
	// with room to spare, the steps around the current one and its checks
	extra := h - len(top) - len(body) - len(foot)
	if extra >= 3 && n > 0 {
		body = append(body, "")
		body = append(body, s.list(t, extra-1)...)
	}
	room := max(h-len(top)-len(foot), 0)
	if len(body) > room {
		body = body[:room]
	}
	out := append(top, body...)
	for len(out) < h-len(foot) {
		out = append(out, "")
	}
	out = append(out, foot...)
	if len(out) > h {
		// the last line (outcome) matters more than the middle of the narration
		out = append(out[:h-1], out[len(out)-1])
	}
	return Lines(out, w, h)
}

// list draws up to n lines of the step list: a window of steps around the
// current one, with the current step's checks under it.
func (s Story) list(t *theme.Theme, n int) []string {
	cur := max(s.Current, 0)
	var checks []string
	if s.Current >= 0 {
		for _, c := range s.Steps[cur].Checks {
			if c.OK {
				checks = append(checks, t.OK.Render("      ✓ ")+c.Want)
			} else {
				checks = append(checks, t.Bad.Render("      ✗ "+c.Want+": got "+c.Got))
			}
		}
	}
	checks = checks[:min(len(checks), max(n-3, 0))]
	rows := n - len(checks)
	from := min(max(cur-rows/2, 0), max(len(s.Steps)-rows, 0))
	var out []string
	for k := from; k < len(s.Steps) && len(out) < rows+len(checks); k++ {
		st := s.Steps[k]
		style := t.Dim
		switch {
		case k == s.Current:
			style = t.Strong
		case st.State == Held:
			style = t.OK
		case st.State == Failed:
			style = t.Bad
		}
		out = append(out, style.Render(fmt.Sprintf("%s %2d. %s", st.State.Mark(), k+1, st.Title)))
		if k == s.Current {
			out = append(out, checks...)
		}
	}
	return out
}

// outcome is the step's last line: what to watch while it plays, then how it
// went.
func (s Story) outcome(t *theme.Theme, i int) string {
	st := s.Steps[i]
	switch st.State {
	case Failed:
		if st.Err != "" {
			return t.Bad.Render("✗ " + st.Err)
		}
		for _, c := range st.Checks {
			if !c.OK {
				return t.Bad.Render("✗ expected " + c.Want + ", got " + c.Got)
			}
		}
		return t.Bad.Render("✗ failed")
	case Held:
		msg := fmt.Sprintf("✓ held (%d check", len(st.Checks))
		if len(st.Checks) != 1 {
			msg += "s"
		}
		msg += ")"
		if i == len(s.Steps)-1 {
			msg += fmt.Sprintf(" · the end: %d of %d steps held", s.held(), len(s.Steps))
		}
		return t.OK.Render(msg)
	}
	if st.Watch != "" {
		return t.Info.Render("watch: " + st.Watch)
	}
	return ""
}

func (s Story) held() int {
	n := 0
	for _, st := range s.Steps {
		if st.State == Held {
			n++
		}
	}
	return n
}

// dots is one mark per step: ✓✓✗▶···.
func (s Story) dots(t *theme.Theme) string {
	if len(s.Steps) > 40 {
		return t.Dim.Render(fmt.Sprintf("%d/%d played", s.Played(), len(s.Steps)))
	}
	var b strings.Builder
	for _, st := range s.Steps {
		switch st.State {
		case Held:
			b.WriteString(t.OK.Render("✓"))
		case Failed:
			b.WriteString(t.Bad.Render("✗"))
		case Playing:
			b.WriteString(t.Accent.Render("▶"))
		default:
			b.WriteString(t.Dim.Render("·"))
		}
	}
	return b.String()
}
