package scenarios

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// base is a small valid scenario the error cases edit.
const base = `name: t
title: T
owner: o
tenants: [a]
devices:
  - id: d1
    board: nrf52dk
    sensors:
      hr: {class: heart-rate, id: 10, min: 40, max: 200}
containers:
  c:
    tenant: a
    source: c.asm
    grants: [heartbeat]
    endpoints:
      - {id: 1, peer: "local:hr", dir: in}
steps:
  - say: hello
    do: [load d1 c, start d1 c]
    wait: 2s
    expect:
      - {container: d1/c, state: RUNNING}
`

var testFS = fstest.MapFS{"c.asm": {Data: []byte("loop:\n  call 0x71\n  mov %r0, 0\n  exit\n")}}

func parse(src string) (*Scenario, error) { return Parse("t.yaml", []byte(src), testFS, ".") }

func TestParseBase(t *testing.T) {
	sc, err := parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 1 || sc.Steps[0].Title != "step 1" || sc.Steps[0].Do[1].Line != "start d1 c" {
		t.Fatalf("parsed %+v", sc.Steps)
	}
	sc, err = parse(strings.Replace(base, "    wait: 2s", "    about: d1/c\n    wait: 2s", 1))
	if err != nil {
		t.Fatal(err)
	}
	if a := sc.Steps[0].About; a.Device != "d1" || a.Container != "c" || a.String() != "d1/c" {
		t.Fatalf("about: d1/c parsed as %+v", a)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		line           int
		want           string
	}{
		{"unknown key", "    board: nrf52dk", "    bord: nrf52dk", 7, `unknown key "bord" in a device`},
		{"unknown board", "board: nrf52dk", "board: nrf99", 6, `unknown board "nrf99"`},
		{"sensor class", "class: heart-rate", "class: heartbeat", 9, `unknown peer class "heartbeat"`},
		{"actuator under sensors", "class: heart-rate", "class: display", 9, "list it under actuators"},
		{"tenant", "    tenant: a", "    tenant: z", 12, `tenant "z" is not one of the tenants`},
		{"grant", "grants: [heartbeat]", "grants: [heartbeet]", 14, "heartbeet"},
		{"endpoint peer", `peer: "local:hr"`, `peer: "local:spo2"`, 16, `no device has a peer named "spo2"`},
		{"endpoint dir", "dir: in}", "dir: sideways}", 16, "sideways"},
		{"command", "do: [load d1 c, start d1 c]", "do: [load d1 c, begin d1 c]", 19, `unknown command "begin"`},
		{"device in command", "start d1 c]", "start d9 c]", 19, `no device "d9"`},
		{"party", "start d1 c]", "as z start d1 c]", 19, `no party "z"`},
		{"command as a party", "start d1 c]", "as a start d9 c]", 19, `no device "d9"`},
		{"as in a mapping", "do: [load d1 c, start d1 c]", "do: [load d1 c, {start: {device: d1, container: c, as: [a]}}]", 19, "as"},
		{"remote URI", "steps:", "remotes: {7: http://x/}\nsteps:", 17, "not a coap:// URI"},
		{"container in command", "start d1 c]", "start d1 x]", 19, `no container with uid "x"`},
		{"duration", "wait: 2s", "wait: two seconds", 20, "must be a duration"},
		{"state", "state: RUNNING", "state: RUNING", 22, `state "RUNING"`},
		{"target", "container: d1/c,", "container: c,", 22, "must be DEVICE/UID"},
		{"expectation kind", "{container: d1/c, state: RUNNING}", "{teleported: {device: d1}}", 22, `unknown expectation "teleported"`},
		{"no narration", "  - say: hello", "  - title: x", 18, "needs narration"},
		{"sensor value", "do: [load d1 c, start d1 c]", "do: [load d1 c, sensor d1 hr NaN]", 19, `sensor value "NaN" is not a finite number`},
		{"sensor range", "do: [load d1 c, start d1 c]", "do: [load d1 c, sensor d1 hr 250]", 19, "hr reads 40 to 200"},
		{"drop percent", "do: [load d1 c, start d1 c]", "do: [load d1 c, drop d1 150%]", 19, "not a percentage from 0 to 100"},
		{"about device", "    wait: 2s", "    about: d9/c\n    wait: 2s", 20, `about: no device "d9"`},
		{"about container", "    wait: 2s", "    about: d1/x\n    wait: 2s", 20, `no container of the scenario has the uid "x"`},
		{"about form", "    wait: 2s", "    about: d1/\n    wait: 2s", 20, "about must be DEVICE or DEVICE/UID"},
		{"yaml", "    grants: [heartbeat]", "    grants: [heartbeat", 13, "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.from) {
				t.Fatalf("case does not apply: %q not in the base", tc.from)
			}
			_, err := parse(strings.Replace(base, tc.from, tc.to, 1))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a positioned *Error", err)
			}
			if pe.Line != tc.line || !strings.Contains(pe.Msg, tc.want) {
				t.Fatalf("got %v\nwant line %d with %q", err, tc.line, tc.want)
			}
		})
	}
}

func TestLoadUnknown(t *testing.T) {
	if _, err := Load("no-such-scenario"); !errors.Is(err, ErrNoScenario) {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestStructuredActionsBecomeCommandLines(t *testing.T) {
	src := strings.Replace(base, "do: [load d1 c, start d1 c]",
		"do:\n      - {load: {device: d1, container: c}}\n      - {update: {device: d1, container: c, seq: 2, attack: wrong-key}}\n      - {drop: {device: d1, loss: 30}}\n      - {tamper: {attack: unsigned}}", 1)
	sc, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, a := range sc.Steps[0].Do {
		lines = append(lines, a.Line)
	}
	if got := strings.Join(lines, " | "); got != "load d1 c | update d1 c v2 wrong-key | drop d1 30% | tamper next unsigned" {
		t.Fatalf("lines: %s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	for _, name := range []string{"mycoach", "smartdronebox", "firewall-tour"} {
		b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("name: x\ntitle: [\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, src []byte) {
		sc, err := Parse("f.yaml", src, testFS, ".")
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if sc.Name == "" || len(sc.Steps) == 0 {
			t.Fatal("parsed a scenario without name or steps")
		}
	})
}

func TestRolloutActionsAndExpectations(t *testing.T) {
	src := strings.Replace(base, "do: [load d1 c, start d1 c]",
		"do:\n      - {rollout: {container: c, to: \"d*\", canary: 1%, waves: \"10%,100%\", halt_on: 5%, pause: 30s}}\n      - rollout rollback", 1)
	src = strings.Replace(src, "      - {container: d1/c, state: RUNNING}", "      - {rollout: {state: halted, wave: wave 2, failed: 3+, installed: 10}}", 1)
	sc, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Steps[0].Do[0].Line; got != "rollout c --to d* --canary 1% --waves 10%,100% --halt-on 5% --pause 30s" {
		t.Fatalf("line: %s", got)
	}
	x := sc.Steps[0].Expect[0].Rollout
	if x == nil || x.State != "halted" || x.Wave != "wave 2" || x.Counts["failed"] != (Count{3, true}) || x.Counts["installed"] != (Count{10, false}) {
		t.Fatalf("expectation %+v", x)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"do: [load d1 c, start d1 c]", "do: [rollout c --to x*]", "matches no device"},
		{"do: [load d1 c, start d1 c]", "do: [rollout nope --to d*]", `no container definition "nope"`},
		{"do: [load d1 c, start d1 c]", "do: [rollout c --to d* --canary lots]", "a percentage"},
		{"do: [load d1 c, start d1 c]", "do: [{rollout: {to: d1}}]", "needs container"},
		{"{container: d1/c, state: RUNNING}", "{rollout: {state: stuck}}", `rollout state "stuck"`},
		{"{container: d1/c, state: RUNNING}", "{rollout: {failed: many}}", "a count like 12"},
	} {
		if _, err := parse(strings.Replace(base, tc.from, tc.to, 1)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.to, err, tc.want)
		}
	}
}

func TestParseAsAndRemotes(t *testing.T) {
	src := strings.Replace(base, "do: [load d1 c, start d1 c]", "do: [load d1 c, {start: {device: d1, container: c, as: a}}, as anyone delete d1 c]", 1)
	src = strings.Replace(src, "steps:", "remotes: {7: coap://collector.localhost/coverage}\nsteps:", 1)
	src = strings.Replace(src, "      - {container: d1/c, state: RUNNING}", "      - {refused: {container: d1/c, party: anyone, rule: own-containers}}", 1)
	sc, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Steps[0].Do[1].Line + " | " + sc.Steps[0].Do[2].Line; got != "as a start d1 c | as anyone delete d1 c" {
		t.Fatalf("actions: %q", got)
	}
	if sc.Remotes[7] != "coap://collector.localhost/coverage" {
		t.Fatalf("remotes: %v", sc.Remotes)
	}
	if e := sc.Steps[0].Expect[0]; e.Kind != "refused" || e.Party != "anyone" || e.Rule != "own-containers" || e.Container != "c" {
		t.Fatalf("expectation: %+v", e)
	}
}
