package scenarios

import (
	"fmt"
	"strings"

	"tinylab/device"
)

// check evaluates an expectation now, against the device's state and the
// events since the step began. It runs in the world.
func (r *Runner) check(e Expect) Check {
	c := Check{Expect: e, Want: e.describe()}
	if e.Kind == "rollout" {
		c.OK, c.Got = r.checkRollout(*e.Rollout)
		if c.OK {
			c.Got = ""
		}
		return c
	}
	n, err := r.lab.Node(e.Device)
	if err != nil {
		c.Got = err.Error()
		return c
	}
	d := n.Dev
	ok, got := false, ""
	switch e.Kind {
	case "state":
		st, seq, rt := device.Empty, uint64(0), ""
		if ct, found := d.Container(e.Container); found {
			st, seq, rt = ct.State, ct.Info().Seq, ct.Runtime().String()
			got = fmt.Sprintf("it is %s at seq %d on %s (%s)", st, seq, rt, ct.Last.Reason)
		} else {
			got = "it is not installed"
		}
		ok = st.String() == e.State && (e.Seq == nil || seq == *e.Seq) && (e.Runtime == "" || rt == e.Runtime)
	case "containers":
		cs := d.Containers()
		ok = len(cs) == e.Count
		names := make([]string, len(cs))
		for i, ct := range cs {
			names[i] = ct.UID + " " + ct.State.String()
		}
		got = fmt.Sprintf("%d: %s", len(cs), strings.Join(names, ", "))
	case "battery":
		pct := float64(d.BatteryPermille()) / 10
		ok = (e.Above == nil || pct > *e.Above) && (e.Below == nil || pct < *e.Below)
		got = fmt.Sprintf("%.1f%%", pct)
	case "powered":
		ok = e.On == nil || d.Powered() == *e.On
		got = map[bool]string{true: "it is on", false: "it is off"}[d.Powered()]
	case "update":
		var last *device.SuitResult
		for _, ev := range r.since(e.Device, device.KindSuitResult) {
			res := ev.Data.(device.SuitResult)
			last = &res
		}
		if last == nil {
			got = "no update finished during the step"
			break
		}
		got = last.String()
		ok = true
		if e.Result != "" {
			want, _ := suitCode(e.Result)
			ok = last.Code == int(want)
		}
		if e.Code != nil {
			ok = ok && last.Code == *e.Code
		}
	default:
		ok, got = r.checkEvents(e)
	}
	if e.Not {
		ok = !ok
	}
	if !ok {
		c.Got = got
	}
	c.OK = ok
	return c
}

// since returns the device's events of a kind since the step began.
func (r *Runner) since(dev string, kind device.Kind) []device.Event {
	var out []device.Event
	for _, ev := range r.events {
		if ev.Device == dev && ev.Data.Kind() == kind {
			out = append(out, ev)
		}
	}
	return out
}

// checkEvents evaluates the expectations about what happened during the
// step: denials, logs, heartbeats, budgets, faults, watchdog misses and
// actuator writes.
func (r *Runner) checkEvents(e Expect) (bool, string) {
	kinds := map[string]device.Kind{
		"denied": device.KindDenied, "log": device.KindLog, "heartbeats": device.KindHeartbeat,
		"budget": device.KindBudget, "fault": device.KindFault, "missed": device.KindMissedHeartbeat,
		"actuator": device.KindActuator, "suit": device.KindSuitStep, "refused": device.KindRefused,
	}
	evs := r.since(e.Device, kinds[e.Kind])
	match := 0
	var seen []string
	for _, ev := range evs {
		text := ev.Data.String()
		container := device.ContainerOf(ev.Data)
		okEv := true
		switch p := ev.Data.(type) {
		case device.Denied:
			okEv = (e.Call == "" || p.Call == e.Call) && (e.Reason == "" || reasonIs(p.Reason, e.Reason))
		case device.BudgetExceeded:
			okEv = e.Limit == "" || p.Limit == e.Limit
		case device.Actuator:
			okEv = e.Peer == "" || p.Peer == e.Peer
		case device.Refused:
			okEv = (e.Party == "" || p.Party == e.Party || strings.HasSuffix(p.Party, " "+e.Party)) && (e.Rule == "" || p.Rule == e.Rule)
		}
		if e.Container != "" && container != e.Container {
			continue
		}
		if okEv && (e.Contains == "" || strings.Contains(text, e.Contains)) {
			match++
		}
		if len(seen) < 3 {
			seen = append(seen, text)
		}
	}
	need := max(e.AtLeast, 1)
	if match >= need {
		return true, ""
	}
	got := fmt.Sprintf("%d matching event(s)", match)
	if len(seen) > 0 {
		got += "; saw: " + strings.Join(seen, " | ")
	}
	return false, got
}

func reasonIs(have, want string) bool {
	return have == strings.ReplaceAll(want, " ", "-") || (want == "not-in-mask" && have == "not-granted")
}

// describe says an expectation in words.
func (e Expect) describe() string {
	target := e.Device
	if e.Container != "" {
		target += "/" + e.Container
	}
	var s string
	switch e.Kind {
	case "rollout":
		s = e.Rollout.describe()
	case "state":
		s = target + " is " + e.State
		if e.Seq != nil {
			s += fmt.Sprintf(" at seq %d", *e.Seq)
		}
		if e.Runtime != "" {
			s += " on " + e.Runtime
		}
	case "containers":
		s = fmt.Sprintf("%s holds %d container(s)", target, e.Count)
	case "battery":
		s = target + " battery"
		if e.Above != nil {
			s += fmt.Sprintf(" above %g%%", *e.Above)
		}
		if e.Below != nil {
			s += fmt.Sprintf(" below %g%%", *e.Below)
		}
	case "powered":
		s = target + " is powered"
		if e.On != nil && !*e.On {
			s = target + " is off"
		}
	case "update":
		s = "the update of " + target + " ends"
		switch {
		case e.Result != "":
			s += " with " + e.Result
		case e.Code != nil:
			s += fmt.Sprintf(" with code %d", *e.Code)
		}
	default:
		s = fmt.Sprintf("%s: %s", target, e.Kind)
		for _, part := range []struct{ k, v string }{{"call", e.Call}, {"reason", e.Reason}, {"limit", e.Limit}, {"peer", e.Peer}, {"party", e.Party}, {"rule", e.Rule}, {"containing", e.Contains}} {
			if part.v != "" {
				s += fmt.Sprintf(" %s %q", part.k, part.v)
			}
		}
		if e.AtLeast > 1 {
			s += fmt.Sprintf(" at least %d times", e.AtLeast)
		}
	}
	if e.Not {
		s = "not: " + s
	}
	return s
}

var rolloutCounts = []string{"pending", "fetching", "installed", "failed", "offline"}

// checkRollout compares the latest campaign with the expectation. World held.
func (r *Runner) checkRollout(x RolloutExpect) (bool, string) {
	v, ok := r.lab.RolloutViewHeld()
	if !ok {
		return false, "no rollout was started"
	}
	got := [5]int{}
	found := x.Wave == ""
	for _, w := range v.Waves {
		if x.Wave == "" && !w.Rollback || w.Name == x.Wave {
			found = true
			for i := range got {
				got[i] += w.Counts[i]
			}
		}
	}
	if !found {
		var names []string
		for _, w := range v.Waves {
			names = append(names, w.Name)
		}
		return false, fmt.Sprintf("no wave %q (waves: %s)", x.Wave, strings.Join(names, ", "))
	}
	ok = x.State == "" || v.State.String() == x.State
	for i, name := range rolloutCounts {
		if c, has := x.Counts[name]; has && (got[i] < c.N || !c.AtLeast && got[i] != c.N) {
			ok = false
		}
	}
	var parts []string
	for i, name := range rolloutCounts {
		parts = append(parts, fmt.Sprintf("%d %s", got[i], name))
	}
	return ok, fmt.Sprintf("%s is %s: %s", v.Name, v.State, strings.Join(parts, ", "))
}

func (x *RolloutExpect) describe() string {
	s := "the rollout"
	if x.Wave != "" {
		s += "'s " + x.Wave
	}
	var parts []string
	if x.State != "" {
		parts = append(parts, "is "+x.State)
	}
	for _, name := range rolloutCounts {
		if c, ok := x.Counts[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", c, name))
		}
	}
	return s + " " + strings.Join(parts, ", ")
}
