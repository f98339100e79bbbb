package scenarios

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/suit"
)

// DeviceIDs lists every device id of the scenario, fleets expanded.
func (sc *Scenario) DeviceIDs() []string {
	var ids []string
	for _, d := range sc.Devices {
		ids = append(ids, d.ids()...)
	}
	return ids
}

func (d Device) ids() []string {
	if d.Count == 0 {
		return []string{d.ID}
	}
	ids := make([]string, d.Count)
	for i := range ids {
		ids[i] = d.ID + "-" + strconv.Itoa(i+1)
	}
	return ids
}

// device finds the device definition behind an id.
func (sc *Scenario) device(id string) (*Device, bool) {
	for i := range sc.Devices {
		if slices.Contains(sc.Devices[i].ids(), id) {
			return &sc.Devices[i], true
		}
	}
	return nil, false
}

func (sc *Scenario) container(name string) (*Container, bool) {
	for i := range sc.Containers {
		if sc.Containers[i].Name == name {
			return &sc.Containers[i], true
		}
	}
	return nil, false
}

// hasUID reports whether some container definition has that uid.
func (sc *Scenario) hasUID(uid string) bool {
	return slices.ContainsFunc(sc.Containers, func(c Container) bool { return c.UID == uid })
}

func errAt(p Pos, format string, args ...any) error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// check verifies every reference of the scenario: parties, boards, peers,
// containers, endpoints, commands and expectations.
func (sc *Scenario) check() error {
	parties := map[string]bool{sc.Owner: true}
	for _, t := range append(slices.Clone(sc.Tenants), sc.Maintainer) {
		if t == "" {
			continue
		}
		if parties[t] {
			return errAt(sc.Pos, "party %q is named twice (owner, tenants and maintainer must differ)", t)
		}
		parties[t] = true
	}
	seen := map[string]bool{}
	for _, d := range sc.Devices {
		for _, id := range d.ids() {
			if seen[id] {
				return errAt(d.Pos, "device %s defined twice", id)
			}
			seen[id] = true
		}
		if d.Board != "" {
			if _, err := device.LookupBoard(d.Board); err != nil {
				return errAt(d.Pos, "device %s: %v", d.ID, err)
			}
		}
		for _, p := range d.Peers {
			c, err := device.ParseClass(p.Class)
			if err != nil {
				return errAt(p.Pos, "%s: %v", p.Name, err)
			}
			if c.IsActuator() != p.Actuator {
				return errAt(p.Pos, "%s: class %s is an %s; list it under %s", p.Name, c, map[bool]string{true: "actuator", false: "sensor"}[c.IsActuator()], map[bool]string{true: "actuators", false: "sensors"}[c.IsActuator()])
			}
			if _, err := device.ParseModel(p.Model); err != nil {
				return errAt(p.Pos, "%s: %v", p.Name, err)
			}
		}
		for _, name := range d.Install {
			if _, ok := sc.container(name); !ok {
				return errAt(d.Pos, "device %s installs %q, which is not among the containers", d.ID, name)
			}
		}
	}
	for _, c := range sc.Containers {
		if c.Tenant == sc.Owner || !parties[c.Tenant] {
			return errAt(c.at("tenant"), "container %s: tenant %q is not one of the tenants (%s) or the maintainer", c.Name, c.Tenant, strings.Join(sc.Tenants, ", "))
		}
		if _, err := firewall.ParseGrants(c.Grants); err != nil {
			return errAt(c.at("grants"), "container %s: %v", c.Name, err)
		}
		for _, e := range c.Endpoints {
			if _, err := sc.endpoint(e); err != nil {
				return err
			}
		}
	}
	for i, st := range sc.Steps {
		if a := st.About; a.Device != "" {
			if _, ok := sc.device(a.Device); !ok {
				return errAt(a.Pos, "about: no device %q (devices: %s)", a.Device, strings.Join(sc.DeviceIDs(), ", "))
			}
			if a.Container != "" && !sc.hasUID(a.Container) {
				return errAt(a.Pos, "about: no container of the scenario has the uid %q", a.Container)
			}
		}
		for _, a := range st.Do {
			if err := sc.checkCommand(a); err != nil {
				return err
			}
		}
		if st.Wait.Until != nil {
			if err := sc.checkExpect(*st.Wait.Until); err != nil {
				return err
			}
		}
		for _, e := range st.Expect {
			if err := sc.checkExpect(e); err != nil {
				return err
			}
		}
		if st.Title == "" {
			sc.Steps[i].Title = fmt.Sprintf("step %d", i+1)
		}
	}
	return nil
}

// endpoint turns an endpoint definition into the metadata's endpoint.
func (sc *Scenario) endpoint(e Endpoint) (firewall.Endpoint, error) {
	dir, err := firewall.ParseDirection(e.Dir)
	if err != nil {
		return firewall.Endpoint{}, errAt(e.Pos, "endpoint %d: %v", e.ID, err)
	}
	out := firewall.Endpoint{ID: e.ID, Direction: dir}
	kind, rest, ok := strings.Cut(e.Peer, ":")
	if !ok {
		return out, errAt(e.Pos, "endpoint %d: peer must be local:NAME, container:UID/EP or remote:N, got %q", e.ID, e.Peer)
	}
	switch kind {
	case "local":
		out.Peer = firewall.PeerLocal
		if n, err := strconv.ParseUint(rest, 10, 32); err == nil {
			out.PeerEndpoint = uint32(n)
			return out, nil
		}
		found := false
		for _, d := range sc.Devices {
			for _, p := range d.Peers {
				if p.Name != rest {
					continue
				}
				if found && out.PeerEndpoint != p.ID {
					return out, errAt(e.Pos, "endpoint %d: local peer %q has different ids on different devices; tokens name one id", e.ID, rest)
				}
				out.PeerEndpoint, found = p.ID, true
			}
		}
		if !found {
			return out, errAt(e.Pos, "endpoint %d: no device has a peer named %q", e.ID, rest)
		}
	case "container":
		uid, ep, ok := strings.Cut(rest, "/")
		n, err := strconv.ParseUint(ep, 10, 32)
		if !ok || err != nil {
			return out, errAt(e.Pos, "endpoint %d: container peer must be container:UID/EP, got %q", e.ID, e.Peer)
		}
		if !sc.hasUID(uid) {
			return out, errAt(e.Pos, "endpoint %d: no container with uid %q", e.ID, uid)
		}
		out.Peer, out.PeerUID, out.PeerEndpoint = firewall.PeerContainer, uid, uint32(n)
	case "remote":
		n, err := strconv.ParseUint(rest, 10, 32)
		if err != nil {
			return out, errAt(e.Pos, "endpoint %d: remote peer must be remote:N, got %q", e.ID, e.Peer)
		}
		out.Peer, out.PeerEndpoint = firewall.PeerRemote, uint32(n)
	default:
		return out, errAt(e.Pos, "endpoint %d: peer kind %q: local, container or remote", e.ID, kind)
	}
	return out, nil
}

// checkCommand checks a step action's command line: a known command, known
// devices and containers, known sensors and attacks.
func (sc *Scenario) checkCommand(a Action) error {
	f := strings.Fields(a.Line)
	if len(f) == 0 {
		return errAt(a.Pos, "empty action")
	}
	if f[0] == "rollout" {
		return sc.checkRollout(a, f[1:])
	}
	if f[0] == "as" {
		parties := append([]string{lab.Anyone, sc.Owner}, sc.Tenants...)
		switch {
		case len(f) < 3:
			return errAt(a.Pos, "%q: usage: as PARTY COMMAND ...", a.Line)
		case !slices.Contains(parties, f[1]):
			return errAt(a.Pos, "%q: no party %q (parties: %s)", a.Line, f[1], strings.Join(parties, ", "))
		}
		return sc.checkCommand(Action{Pos: a.Pos, Line: strings.Join(f[2:], " ")})
	}
	var help *lab.CommandHelp
	for i := range lab.Commands {
		if lab.Commands[i].Name == f[0] {
			help = &lab.Commands[i]
		}
	}
	if help == nil {
		var names []string
		for _, c := range lab.Commands {
			names = append(names, c.Name)
		}
		return errAt(a.Pos, "unknown command %q in %q (commands: %s)", f[0], a.Line, strings.Join(names, ", "))
	}
	argNames := strings.Fields(help.Args)
	required := 0
	for _, n := range argNames {
		if !strings.HasPrefix(n, "[") {
			required++
		}
	}
	if len(f)-1 < required {
		return errAt(a.Pos, "%q: usage: %s %s", a.Line, help.Name, help.Args)
	}
	for i, n := range argNames {
		if i+1 >= len(f) {
			break
		}
		v := f[i+1]
		switch n {
		case "DEVICE":
			if _, ok := sc.device(v); !ok {
				return errAt(a.Pos, "%q: no device %q (devices: %s)", a.Line, v, sc.someIDs())
			}
		case "CONTAINER":
			switch help.Name {
			case "update", "load", "grant", "revoke":
				if _, ok := sc.container(v); !ok {
					return errAt(a.Pos, "%q: no container definition %q in this scenario", a.Line, v)
				}
			default:
				if !sc.hasUID(v) {
					return errAt(a.Pos, "%q: no container with uid %q in this scenario", a.Line, v)
				}
			}
		case "ATTACK":
			if _, err := lab.ParseAttack(v); err != nil {
				return errAt(a.Pos, "%q: %v", a.Line, err)
			}
		case "SENSOR":
			d, _ := sc.device(f[1])
			if !slices.ContainsFunc(d.Peers, func(p Peer) bool { return p.Name == v && !p.Actuator }) {
				return errAt(a.Pos, "%q: device %s has no sensor %q", a.Line, f[1], v)
			}
		case "CALL":
			if _, err := firewall.ParseCall(v); err != nil {
				return errAt(a.Pos, "%q: %v", a.Line, err)
			}
		case "PERCENT":
			if _, err := lab.ParsePercent(v); err != nil {
				return errAt(a.Pos, "%q: %v", a.Line, err)
			}
		case "VALUE":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return errAt(a.Pos, "%q: sensor value %q is not a finite number", a.Line, v)
			}
			d, _ := sc.device(f[1])
			for _, p := range d.Peers {
				if p.Name == f[2] && p.Min < p.Max && (x < p.Min || x > p.Max) {
					return errAt(a.Pos, "%q: %s reads %g to %g (its min and max); %g is outside", a.Line, p.Name, p.Min, p.Max, x)
				}
			}
		}
	}
	if help.Name == "coap" {
		if _, ok := sc.device(f[2]); !ok {
			return errAt(a.Pos, "%q: no device %q", a.Line, f[2])
		}
	}
	return nil
}

func (sc *Scenario) checkExpect(e Expect) error {
	if e.Kind == "rollout" {
		return nil
	}
	if _, ok := sc.device(e.Device); !ok {
		return errAt(e.Pos, "expectation on device %q, which the scenario does not define (devices: %s)", e.Device, sc.someIDs())
	}
	if e.Container != "" && !sc.hasUID(e.Container) {
		return errAt(e.Pos, "expectation on container %q, which no container of the scenario has as uid", e.Container)
	}
	if e.State != "" {
		if _, ok := device.ParseState(e.State); !ok {
			return errAt(e.Pos, "state %q: one of EMPTY, PROVISIONING, READY, RUNNING, STOPPING, DELETING, FAILED", e.State)
		}
	}
	if e.Call != "" {
		if _, err := firewall.ParseCall(e.Call); err != nil {
			return errAt(e.Pos, "%v", err)
		}
	}
	if e.Reason != "" {
		if _, err := firewall.ParseReason(e.Reason); err != nil {
			return errAt(e.Pos, "%v", err)
		}
	}
	if e.Result != "" {
		if _, ok := suitCode(e.Result); !ok {
			return errAt(e.Pos, "result %q is not a SUIT result (SUIT_OK, SUIT_ERR_SIGNATURE, ...)", e.Result)
		}
	}
	if e.Limit != "" && !slices.Contains([]string{"start_max_ms", "loop_max_ms", "stop_max_ms", "branches", "energy"}, e.Limit) {
		return errAt(e.Pos, "limit %q: start_max_ms, loop_max_ms, stop_max_ms, branches or energy", e.Limit)
	}
	return nil
}

// suitCode reads a SUIT result name (SUIT_OK, SUIT_ERR_..., or the short
// names like sequence-number).
func suitCode(name string) (suit.Code, bool) {
	want := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	for c := suit.Code(0); c >= -60; c-- {
		n := c.String()
		if n == want || n == "SUIT_ERR_"+want || (c == suit.CodeOK && want == "OK") {
			return c, true
		}
	}
	return 0, false
}

// checkRollout checks a rollout command: a known verb, or a container
// definition and options that parse and a --to that matches a device.
func (sc *Scenario) checkRollout(a Action, args []string) error {
	if len(args) > 0 && slices.Contains(lab.RolloutVerbs, args[0]) {
		return nil
	}
	o, err := lab.ParseRollout(args, func(name string) bool { _, ok := sc.container(name); return ok })
	if err != nil {
		return errAt(a.Pos, "%q: %v", a.Line, err)
	}
	if _, ok := sc.container(o.Def); !ok {
		return errAt(a.Pos, "%q: no container definition %q in this scenario", a.Line, o.Def)
	}
	for _, d := range sc.Devices {
		for _, id := range d.ids() {
			if ok, _ := path.Match(o.To, id); ok {
				return nil
			}
		}
	}
	return errAt(a.Pos, "%q: --to %s matches no device of the scenario", a.Line, o.To)
}

// someIDs lists the scenario's device ids for an error message: the first
// few of a fleet, and how many there are.
func (sc *Scenario) someIDs() string {
	ids := sc.DeviceIDs()
	if len(ids) > 8 {
		return fmt.Sprintf("%s, ... (%d devices)", strings.Join(ids[:8], ", "), len(ids))
	}
	return strings.Join(ids, ", ")
}
