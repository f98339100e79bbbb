package pane

import (
	"fmt"
	"regexp"
	"strings"

	"tinylab/device"
	"tinylab/ui/theme"
)

// Suit is what the update pane shows: one device's current or last SUIT
// update, as a check list that ticks step by step.
type Suit struct {
	Device string
	Status device.SuitStatus
	Armed  string // the attack the next update will carry ("" none)
	Paused bool   // the clock is paused: an update in flight waits for it
}

// checks are the SUIT procedure's steps the pane lists, in RIOT's order,
// with the label the audience reads.
var checks = []struct{ step, label string }{
	{"manifest", "manifest"},
	{"signature", "signature"},
	{"manifest-digest", "digest"},
	{"version", "version"},
	{"sequence-number", "sequence"},
	{"vendor", "vendor"},
	{"class", "class"},
	{"policy", "policy"},
	{"fetch", "fetch"},
	{"image-match", "image"},
	{"install", "install"},
}

// Check is one line of the check list.
type Check struct {
	Label  string
	Status string // "passed", "failed", "started" or "" (not reached)
	Detail string // the last message of the step: the values compared
}

// Checks folds an update's steps into the check list. A multi-component
// update runs fetch, image and install once per component: a step that
// starts again begins a new component, so the checks after it are not
// reached for that component yet (an earlier component's ✓ image must not
// stand under the next one's fetch).
func Checks(steps []device.SuitStep) []Check {
	out := make([]Check, len(checks))
	idx := make(map[string]int, len(checks))
	for i, c := range checks {
		out[i].Label = c.label
		idx[c.step] = i
	}
	for _, s := range steps {
		i, ok := idx[s.Step]
		if !ok {
			continue
		}
		c := &out[i]
		if c.Status == "failed" {
			continue
		}
		switch s.Status {
		case "failed":
			c.Status, c.Detail = "failed", s.Message
		case "passed":
			c.Status = "passed"
			if s.Message != "" {
				c.Detail = s.Message
			}
		case "started", "progress":
			if s.Status == "started" && c.Status == "passed" {
				for k := i + 1; k < len(out); k++ {
					out[k].Status, out[k].Detail = "", ""
				}
			}
			c.Status = "started"
			if s.Message != "" {
				c.Detail = s.Message
			}
		}
	}
	// a step started and then followed by a later step has passed with it
	// (RIOT reports some steps only when they begin)
	last := -1
	for i, c := range out {
		if c.Status != "" {
			last = i
		}
	}
	for i := range out[:max(last, 0)] {
		if out[i].Status == "started" {
			out[i].Status = "passed"
		}
	}
	return out
}

// Settle ends the check list of an update that is over: a step still
// marked as under way is where a failed update stopped (a power cut ends an
// update without a step failing), or passed with a successful one.
func Settle(cs []Check, last device.SuitResult) []Check {
	failed := false
	for _, c := range cs {
		failed = failed || c.Status == "failed"
	}
	for i := range cs {
		if cs[i].Status != "started" {
			continue
		}
		switch {
		case last.Code == 0:
			cs[i].Status = "passed"
		case failed:
			cs[i].Status, cs[i].Detail = "", ""
		default:
			cs[i].Status, cs[i].Detail = "failed", last.Message
			failed = true
		}
	}
	return cs
}

// What names what an update carries: its container, RAM-slot images, or
// nothing yet (the manifest is not read).
func What(st device.SuitStatus) string {
	switch {
	case st.Container != "":
		return st.Container
	case st.Namespace == "ram":
		return "RAM slots"
	}
	return "update"
}

// Title is the pane's title.
func (s Suit) Title() string {
	if s.Device == "" {
		return "update"
	}
	return "update · " + s.Device
}

// Render draws the update: what it is, the fetch progress, the check list
// and the result; above them the attack armed for the next update.
func (s Suit) Render(t *theme.Theme, w, h int) []string {
	st := s.Status
	var armed []string
	if s.Armed != "" {
		armed = Wrap("⚠ armed: next update carries "+s.Armed, w)
		for i := range armed {
			armed[i] = t.Warn.Render(armed[i])
		}
	}
	if st.Updates == 0 && len(st.Steps) == 0 && st.State == "idle" || st.State == "" && len(st.Steps) == 0 {
		return Lines(append(armed, t.Dim.Render("no update yet on "+s.Device)), w, h)
	}
	head := armed
	what := What(st)
	running := st.State != "" && st.State != "idle"
	state := st.State
	switch {
	case running && s.Paused:
		state = t.Warn.Render("⏸ " + state)
	case running:
		state = t.Info.Render("⟳ " + state)
	default:
		state = t.Dim.Render("done")
	}
	seq := st.Last.Seq
	if running || seq == 0 {
		// a failed update's result has no sequence number: its manifest's
		seq = st.Seq
	}
	line := t.Strong.Render(what) + " → " + s.Device + " · " + state
	// The sequence number is the first thing to give up in a narrow pane:
	// the state is what a watcher needs.
	if withSeq := t.Strong.Render(fmt.Sprintf("%s seq %d", what, seq)) + " → " + s.Device + " · " + state; seq > 0 && Width(withSeq) <= w {
		line = withSeq
	}
	head = append(head, line)
	if running && s.Paused {
		head = append(head, t.Warn.Render(Fit("clock paused: space resumes", w)))
	}
	if st.Total > 0 && running {
		pct := st.Done * 100 / st.Total
		label := fmt.Sprintf(" %3d%% %s", pct, st.Component)
		head = append(head, Bar(t, float64(st.Done)/float64(st.Total), max(w-Width(label), 4))+label)
	}
	var tail []string
	cs := Checks(st.Steps)
	if !running {
		cs = Settle(cs, st.Last)
		if st.Last.Code == 0 {
			tail = append(tail, t.OK.Render("✓ SUIT_OK · installed"))
		} else {
			tail = append(tail, t.Bad.Render(fmt.Sprintf("✗ %s (%d)", st.Last.Result, st.Last.Code)))
		}
	}
	room := h - len(head) - len(tail)
	rows := checkRows(t, cs, w, room, !running)
	out := append(head, rows...)
	out = append(out, tail...)
	return Lines(out, w, h)
}

// minor are the steps folded first when the list is too long: they pass in
// every update and tell the audience little.
var minor = map[string]bool{"manifest": true, "version": true, "policy": true}

// checkRows draws the check list in at most n lines: one line per step when
// it fits; otherwise the minor passed steps share the first line, the steps
// not reached share the last, then the oldest passed steps join the first.
func checkRows(t *theme.Theme, cs []Check, w, n int, over bool) []string {
	if n <= 0 {
		return nil
	}
	last := -1
	for i, c := range cs {
		if c.Status != "" {
			last = i
		}
	}
	type row struct {
		check *Check
		group []string // labels folded into one line
	}
	var rows []row
	for i := range cs {
		if cs[i].Status == "" && i < last {
			continue // a step this format does not use
		}
		rows = append(rows, row{check: &cs[i]})
	}
	var passed []string
	if len(rows) > n {
		var kept []row
		for _, r := range rows {
			if r.check.Status == "passed" && minor[stepOf(r.check.Label)] {
				passed = append(passed, r.check.Label)
			} else {
				kept = append(kept, r)
			}
		}
		if len(passed) >= 2 {
			rows = kept
		} else {
			passed = nil
		}
	}
	var pending []string
	if len(rows)+min(len(passed), 1) > n {
		k := len(rows)
		for k > 0 && rows[k-1].check.Status == "" {
			k--
		}
		if len(rows)-k >= 2 {
			for _, r := range rows[k:] {
				pending = append(pending, r.check.Label)
			}
			rows = rows[:k]
		}
	}
	extra := func() int { return min(len(passed), 1) + min(len(pending), 1) }
	for len(rows)+extra() > n {
		k := -1
		for i, r := range rows {
			if r.check.Status == "passed" {
				k = i
				break
			}
		}
		if k < 0 {
			break
		}
		passed = append(passed, rows[k].check.Label)
		rows = append(rows[:k], rows[k+1:]...)
	}
	var out []string
	if len(passed) > 0 {
		out = append(out, t.OK.Render("✓ ")+t.Dim.Render(strings.Join(passed, " · ")))
	}
	blocks := make([][]string, len(rows))
	total := len(out)
	for i, r := range rows {
		blocks[i] = checkLine(t, *r.check, 10, w)
		total += len(blocks[i])
	}
	// a failed check's values go on as many lines as there is room for:
	// its first line, which names it, stays
	for i := len(blocks) - 1; i >= 0 && total > n; i-- {
		if cut := min(len(blocks[i])-1, total-n); cut > 0 {
			blocks[i] = blocks[i][:len(blocks[i])-cut]
			total -= cut
		}
	}
	for _, b := range blocks {
		out = append(out, b...)
	}
	if len(pending) > 0 && len(out) < n {
		what := "· "
		if over {
			what = "· not reached: "
		}
		out = append(out, t.Dim.Render(what+strings.Join(pending, " · ")))
	}
	if len(out) > n {
		// what went wrong matters most: keep the end of the list
		out = out[len(out)-n:]
	}
	return out
}

// stepOf is the procedure step of a check list label.
func stepOf(label string) string {
	for _, c := range checks {
		if c.label == label {
			return c.step
		}
	}
	return label
}

// checkLine draws one check; a failed one gets a second line when its
// values compared do not fit on the first.
func checkLine(t *theme.Theme, c Check, labelW, w int) []string {
	detail := Compact(c.Detail)
	switch c.Status {
	case "passed":
		return []string{t.OK.Render("✓ ") + Fit(c.Label, labelW) + t.Dim.Render(detail)}
	case "failed":
		lines := Wrap(detail, max(w-2-labelW, 8))
		out := []string{t.Bad.Render("✗ " + Fit(c.Label, labelW) + strings.Join(lines[:min(len(lines), 1)], ""))}
		for _, l := range lines[min(len(lines), 1):] {
			out = append(out, t.Bad.Render(strings.Repeat(" ", 2+labelW)+l))
		}
		return out
	case "started":
		return []string{t.Info.Render("▸ "+Fit(c.Label, labelW)) + detail}
	}
	return []string{t.Dim.Render("· " + c.Label)}
}

var (
	longUUID = regexp.MustCompile(`\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	longHash = regexp.MustCompile(`\b([0-9a-f]{12})[0-9a-f]{20,}\b`)
)

var (
	okPrefix = regexp.MustCompile(`^[A-Za-z ]+(: OK;|OK:) `)
	fromMan  = regexp.MustCompile(` from manifest$`)
)

// Compact is a check's message without the words the check list already
// says (the step and its ✓), keeping the values compared.
func Compact(s string) string {
	s = okPrefix.ReplaceAllString(s, "")
	return Shorten(fromMan.ReplaceAllString(s, ""))
}

// Shorten cuts the UUIDs and digests of SUIT messages to their first digits,
// so the values compared fit a pane and can still be told apart.
func Shorten(s string) string {
	s = longUUID.ReplaceAllString(s, "$1…")
	return longHash.ReplaceAllString(s, "$1…")
}
