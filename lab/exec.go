package lab

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
	"tinylab/firewall"
	"tinylab/suit"
)

// CommandHelp is one command of the lab's command line.
type CommandHelp struct {
	Name, Args, Summary string
}

// Commands is the lab's command line, for help screens and completion.
var Commands = []CommandHelp{
	{"start", "DEVICE CONTAINER", "start a READY container"},
	{"stop", "DEVICE CONTAINER", "stop a RUNNING container (its stop() hook runs)"},
	{"restart", "DEVICE CONTAINER", "restart a FAILED container"},
	{"delete", "DEVICE CONTAINER", "delete a READY or FAILED container"},
	{"load", "DEVICE CONTAINER", "provision a container with TinyContainer's /container/ protocol"},
	{"update", "DEVICE CONTAINER [vN] [final] [ATTACK]", "send a signed SUIT update (vN replays version N)"},
	{"tamper", "next ATTACK", "make the next update carry an attack"},
	{"grant", "DEVICE CONTAINER CALL", "the owner grants a call and sends the new version"},
	{"revoke", "DEVICE CONTAINER CALL", "the owner revokes a call and sends the new version"},
	{"sensor", "DEVICE SENSOR VALUE", "set a sensor's value"},
	{"power-cut", "DEVICE", "cut a device's power"},
	{"power-on", "DEVICE", "power a device on"},
	{"drop", "DEVICE PERCENT", "lose that share (0-100; 30 and 30% are the same) of the device's radio exchanges"},
	{"coap", "get|post|put|delete DEVICE PATH [PAYLOAD|json|cbor|text]", "send a CoAP request to a device"},
	{"rollout", "CONTAINER [vN] --to GLOB [--canary P] [--waves P,P] [--halt-on P] [--pause D] [--from DEF]", "send a release in waves, halting by itself on failures"},
	{"rollout", "status|resume|abort|retry|rollback [NAME]", "show or steer the latest (or named) rollout campaign"},
	{"as", "PARTY COMMAND ...", "act as a tenant or anyone (plain CoAP) instead of the owner"},
	{"collector", "", "what the lab's collector received from remote endpoints"},
}

// Exec runs one command line and returns what to show. "as PARTY" before
// a device command acts as that party (a tenant, or anyone: plain CoAP
// without credentials) instead of the owner; the device's refusal is then
// an outcome to show, not an error.
func (l *Lab) Exec(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) >= 1 && f[0] == "as" {
		if len(f) < 3 {
			return "", fmt.Errorf("usage: as PARTY COMMAND ... (parties: %s)", strings.Join(l.partyNames(), ", "))
		}
		if !slices.Contains(asCommands, f[2]) {
			return "", fmt.Errorf("as %s %s: only device commands act as a party (%s)", f[1], f[2], strings.Join(asCommands, ", "))
		}
		if !slices.Contains(l.partyNames(), f[1]) {
			return "", fmt.Errorf("as %s: no such party (parties: %s)", f[1], strings.Join(l.partyNames(), ", "))
		}
		out, err := l.As(f[1]).exec(f[2:])
		if Refused(err) {
			return fmt.Sprintf("refused: %v", err), nil
		}
		return out, err
	}
	return l.As(l.acting()).exec(f)
}

// asCommands are the commands that travel to a device as a party's request.
var asCommands = []string{"start", "stop", "restart", "delete", "load", "update", "coap"}

func (a Actor) exec(f []string) (string, error) {
	l := a.l
	if len(f) == 0 {
		return "", nil
	}
	cmd, args := f[0], f[1:]
	need := func(n int) error {
		if len(args) < n {
			for _, c := range Commands {
				if c.Name == cmd {
					return fmt.Errorf("usage: %s %s", c.Name, c.Args)
				}
			}
		}
		return nil
	}
	ok := func(err error, done string) (string, error) {
		if err != nil {
			return "", err
		}
		return done, nil
	}
	switch cmd {
	case "help", "?":
		var b strings.Builder
		for _, c := range Commands {
			fmt.Fprintf(&b, "%-9s %-45s %s\n", c.Name, c.Args, c.Summary)
		}
		return b.String(), nil
	case "start", "stop", "restart", "delete", "load":
		if err := need(2); err != nil {
			return "", err
		}
		fn := map[string]func(string, string) error{"start": a.Start, "stop": a.Stop, "restart": a.Restart, "delete": a.Delete, "load": a.Load}[cmd]
		return ok(fn(args[0], args[1]), fmt.Sprintf("%s %s on %s: done", cmd, args[1], args[0]))
	case "update":
		if err := need(2); err != nil {
			return "", err
		}
		var o UpdateOptions
		for _, a := range args[2:] {
			switch {
			case a == "final":
				o.Format = suit.FormatFinal
			case a == "draft09":
				o.Format = suit.FormatDraft09
			case strings.HasPrefix(a, "v") || strings.HasPrefix(a, "seq="):
				n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(a, "seq="), "v"), 10, 64)
				if err != nil {
					return "", fmt.Errorf("version %q: write v2 or seq=2", a)
				}
				o.Seq = n
			default:
				at, err := ParseAttack(a)
				if err != nil {
					return "", err
				}
				o.Attack = at
			}
		}
		rel, err := a.Update(args[0], args[1], o)
		if err != nil {
			if a := l.Armed(); a != NoAttack {
				return "", fmt.Errorf("%w (%s stays armed for the next update)", err, a)
			}
			return "", err
		}
		s := fmt.Sprintf("update %s v%d sent to %s (%s)", args[1], rel.Seq, args[0], rel.URI)
		if rel.Attack != NoAttack {
			s += " with " + rel.Attack.String()
		}
		return s, nil
	case "tamper":
		if len(args) == 0 || args[0] != "next" {
			return "", fmt.Errorf("usage: tamper next ATTACK (%s)", strings.Join(attackNames[1:], ", "))
		}
		a := TamperedSignature
		if len(args) > 1 {
			var err error
			if a, err = ParseAttack(args[1]); err != nil {
				return "", err
			}
		}
		l.Arm(a)
		return "the next update will carry " + a.String(), nil
	case "grant", "revoke":
		if err := need(3); err != nil {
			return "", err
		}
		call, err := firewall.ParseCall(args[2])
		if err != nil {
			return "", err
		}
		rel, err := l.Grant(args[0], args[1], call, cmd == "revoke")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s %s: version %d sent", cmd, args[2], args[1], rel.Seq), nil
	case "sensor":
		if err := need(3); err != nil {
			return "", err
		}
		v, err := strconv.ParseFloat(args[2], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%w: sensor value %q is not a number (a finite one)", ErrBadValue, args[2])
		}
		return ok(l.SetSensor(args[0], args[1], v), fmt.Sprintf("%s on %s set to %s", args[1], args[0], args[2]))
	case "power-cut":
		if err := need(1); err != nil {
			return "", err
		}
		return ok(l.PowerCut(args[0]), args[0]+" is off")
	case "power-on":
		if err := need(1); err != nil {
			return "", err
		}
		return ok(l.PowerOn(args[0]), args[0]+" is booting")
	case "drop":
		if err := need(2); err != nil {
			return "", err
		}
		loss, err := ParsePercent(args[1])
		if err != nil {
			return "", fmt.Errorf("drop: %w", err)
		}
		return ok(l.Drop(args[0], loss), fmt.Sprintf("%s now loses %s of its exchanges", args[0], Percent(loss)))
	case "coap":
		if err := need(3); err != nil {
			return "", err
		}
		return a.execCoAP(args)
	case "rollout":
		if err := need(1); err != nil {
			return "", err
		}
		return l.execRollout(args)
	case "collector":
		got := l.Collected()
		if len(got) == 0 {
			return "the collector (coap://" + CollectorHost + "/...) has received nothing yet", nil
		}
		lines := make([]string, len(got))
		for i, d := range got {
			lines[i] = d.String()
		}
		return strings.Join(lines, "\n"), nil
	}
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = c.Name
	}
	return "", fmt.Errorf("unknown command %q (commands: %s)", cmd, strings.Join(names, ", "))
}

func (a Actor) execCoAP(args []string) (string, error) {
	methods := map[string]codes.Code{"get": codes.GET, "post": codes.POST, "put": codes.PUT, "delete": codes.DELETE}
	method, ok := methods[strings.ToLower(args[0])]
	if !ok {
		return "", fmt.Errorf("coap method %q: get, post, put or delete", args[0])
	}
	accept := int(message.AppJSON)
	var body []byte
	if len(args) > 3 {
		switch rest := strings.Join(args[3:], " "); rest {
		case "json":
		case "cbor":
			accept = int(message.AppCBOR)
		case "text":
			accept = int(message.TextPlain)
		default:
			body = []byte(rest)
		}
	}
	resp, err := a.CoAP(args[1], method, args[2], body, accept)
	if err != nil {
		return "", err
	}
	return FormatResponse(resp), nil
}

// FormatResponse shows a CoAP response for people: its code, content format
// and payload (JSON indented, CBOR in diagnostic notation).
func FormatResponse(r *coapnet.Response) string {
	s := r.Code.String()
	cf, has := r.Format()
	if has {
		s += " (" + cf.String() + ")"
	}
	if len(r.Body) == 0 {
		return s
	}
	body := string(r.Body)
	switch {
	case has && cf == message.AppJSON:
		var v any
		if json.Unmarshal(r.Body, &v) == nil {
			if b, err := json.MarshalIndent(v, "", "  "); err == nil {
				body = string(b)
			}
		}
	case has && cf == message.AppCBOR:
		if d, err := cbor.Diagnose(r.Body); err == nil {
			body = d
		}
	}
	return s + "\n" + body
}

// Complete returns the completions of the last word of a command line.
func (l *Lab) Complete(line string) []string {
	f := strings.Fields(line)
	if strings.HasSuffix(line, " ") || len(f) == 0 {
		f = append(f, "")
	}
	word, pos := f[len(f)-1], len(f)-1
	if len(f) >= 2 && f[0] == "as" {
		// as PARTY COMMAND ...: the party, then the command's own completions
		if pos == 1 {
			return prefixed(l.partyNames(), word)
		}
		if pos == 2 {
			return prefixed(asCommands, word)
		}
		rest := strings.Join(f[2:], " ")
		if strings.HasSuffix(line, " ") {
			rest += " "
		}
		return l.Complete(rest)
	}
	var cands []string
	if pos == 0 {
		for _, c := range Commands {
			cands = append(cands, c.Name)
		}
		cands = append(cands, "help")
	} else {
		cands = l.argCandidates(f[0], f[1:pos], pos)
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, word) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (l *Lab) argCandidates(cmd string, before []string, pos int) []string {
	devices := func() []string {
		var ids []string
		for _, n := range l.Nodes() {
			ids = append(ids, n.Spec.ID)
		}
		return ids
	}
	// update, load, grant and revoke take a definition; the others a uid.
	containers := func() []string {
		var names []string
		for _, d := range l.Defs() {
			switch cmd {
			case "update", "load", "grant", "revoke":
				names = append(names, d.Name)
			default:
				names = append(names, d.UID)
			}
		}
		return names
	}
	switch cmd {
	case "tamper":
		if pos == 1 {
			return []string{"next"}
		}
		return attackNames[1:]
	case "coap":
		switch pos {
		case 1:
			return []string{"get", "post", "put", "delete"}
		case 2:
			return devices()
		case 3:
			return []string{"/.well-known/core", "/riot/board", "/suit/status", "/suit/trigger", "/containers", "/bpf/exec/0"}
		}
		return []string{"json", "cbor", "text"}
	case "rollout":
		return l.rolloutCandidates(before, pos)
	case "power-cut", "power-on", "drop":
		if pos == 1 {
			return devices()
		}
		return nil
	case "sensor":
		switch pos {
		case 1:
			return devices()
		case 2:
			if n, err := l.node(before[0]); err == nil {
				var names []string
				for _, p := range n.Spec.Peers {
					if !p.Class.IsActuator() {
						names = append(names, p.Name)
					}
				}
				return names
			}
		}
		return nil
	}
	switch pos {
	case 1:
		return devices()
	case 2:
		return containers()
	}
	switch cmd {
	case "update":
		out := append([]string{"final"}, attackNames[1:]...)
		for _, r := range l.Releases() {
			if r.Def == before[1] {
				out = append(out, fmt.Sprintf("v%d", r.Seq))
			}
		}
		return out
	case "grant", "revoke":
		var calls []string
		for _, c := range firewall.Calls() {
			calls = append(calls, c.String())
		}
		return calls
	}
	return nil
}

// prefixed are the candidates that start with word, sorted.
func prefixed(cands []string, word string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, word) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
