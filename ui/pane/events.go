package pane

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/scenarios"
	"tinylab/ui/theme"
)

// Events is what the event log shows: the visible rows, newest first.
type Events struct {
	Rows     []device.Event
	Selected int // index in Rows of the selected row; -1 for none
	DevW     int // width of the device column
}

// Render draws the rows, one event a line.
func (e Events) Render(t *theme.Theme, w, h int, empty string) []string {
	if len(e.Rows) == 0 {
		return Lines([]string{t.Dim.Render(empty)}, w, h)
	}
	out := make([]string, 0, h)
	for i, ev := range e.Rows {
		if i >= h {
			break
		}
		line := EventLine(t, ev, e.DevW, w)
		if i == e.Selected {
			line = t.Selected.Render(Fit(ansi.Strip(line), w))
		}
		out = append(out, line)
	}
	return Lines(out, w, h)
}

// Bad reports whether an event is a failure the log makes stand out:
// a denied call, a fault, a limit, a missed heartbeat, a FAILED container,
// a failed update or expectation.
func Bad(ev device.Event) bool {
	switch p := ev.Data.(type) {
	case device.Denied, device.Refused, device.Fault, device.BudgetExceeded, device.MissedHeartbeat:
		return true
	case device.StateChange:
		return p.To == device.Failed
	case device.SuitStep:
		return p.Status == "failed"
	case device.SuitResult:
		return p.Code != 0
	case scenarios.Checked:
		return !p.OK
	}
	return false
}

// Text is an event as plain text for the filter: device, kind and content.
func Text(ev device.Event) string {
	kind := ""
	if ev.Data != nil {
		kind = ev.Data.Kind().String()
	}
	return ev.Device + " " + kind + " " + body(ev)
}

// body is an event's content in words, without time and device.
func body(ev device.Event) string {
	switch p := ev.Data.(type) {
	case nil:
		return ""
	case device.Denied:
		s := "DENIED " + p.Container + " " + p.Call
		if p.Target != "" {
			s += " " + p.Target
		}
		s += ": " + strings.ReplaceAll(p.Reason, "-", " ")
		if p.Detail != "" {
			s += " (" + p.Detail + ")"
		}
		return s
	case device.Refused:
		return fmt.Sprintf("REFUSED %s %s %s: %s, %s", p.Party, p.Method, p.Path, p.Code, p.Rule)
	case device.Fault:
		return fmt.Sprintf("FAULT %s %s(): %s at pc %d", p.Container, p.Hook, p.Message, p.PC)
	case device.BudgetExceeded:
		return "LIMIT " + strings.TrimPrefix(p.String(), "limit: ")
	case device.StateChange:
		return fmt.Sprintf("%s %s → %s (%s)", p.Container, p.From, p.To, p.Reason)
	case device.Heartbeat:
		if p.Interval == 0 {
			return "♥ " + p.Container
		}
		return fmt.Sprintf("♥ %s +%.3fs", p.Container, p.Interval.Seconds())
	case device.SuitStep:
		return Shorten(p.String())
	case device.SuitProgress:
		return Shorten(p.String())
	case device.Actuator:
		return fmt.Sprintf("%s → %s: “%s”", p.Container, p.Peer, p.Text)
	case scenarios.StepStarted:
		return fmt.Sprintf("━━ step %d/%d: %s", p.Index, p.Total, p.Title)
	case scenarios.Checked:
		if p.OK {
			return "✓ " + p.Want
		}
		return "✗ " + p.Want + ": got " + p.Got
	}
	return ev.Data.String()
}

// EventLine draws one event on w cells: time, device, content, styled by
// what it is.
func EventLine(t *theme.Theme, ev device.Event, devW, w int) string {
	at := device.FormatDuration(ev.At)
	if w < 70 {
		at = Clock(ev.At)
	}
	dev := ev.Device
	if dev == "scenario" {
		dev = "story"
	}
	head := t.Dim.Render(at) + " " + Fit(dev, devW) + " "
	text := body(ev)
	var st theme.Style
	switch p := ev.Data.(type) {
	case device.Denied, device.Refused, device.Fault, device.BudgetExceeded:
		st = t.Bad
		text = "✗ " + text
	case device.MissedHeartbeat:
		st = t.Warn
		text = "⚠ " + text
	case device.StateChange:
		if p.To == device.Failed {
			st = t.Bad
			text = "✗ " + text
		} else {
			return head + p.Container + " " + t.State(p.From).Render(p.From.String()) + " → " +
				t.State(p.To).Render(p.To.String()) + t.Dim.Render(" ("+p.Reason+")")
		}
	case device.Heartbeat, device.Energy, device.CoAP, device.SuitProgress:
		st = t.Dim
	case device.SuitStep:
		st = t.Text
		if p.Status == "failed" {
			st = t.Bad
			text = "✗ " + text
		}
	case device.SuitResult:
		if p.Code == 0 {
			st, text = t.OK, "✓ "+text
		} else {
			st, text = t.Bad, "✗ "+text
		}
	case device.Power:
		st = t.Warn
	case device.Boot, device.SensorChange, device.Actuator:
		st = t.Info
	case device.Update:
		st = t.Info
		if strings.Contains(p.Status, "reject") || strings.Contains(p.Status, "kept") {
			st = t.Warn
		}
	case lab.Note:
		st = t.Info
	case scenarios.StepStarted:
		st = t.Accent
	case scenarios.Checked:
		st = t.OK
		if !p.OK {
			st = t.Bad
		}
	default:
		st = t.Text
	}
	return head + st.Render(text)
}
