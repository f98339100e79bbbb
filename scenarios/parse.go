package scenarios

import (
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"tinylab/device/coapnet"
	"tinylab/firewall"
	"tinylab/lab/rollout"
)

// reader walks a YAML document strictly: every mapping's keys are checked
// against what the format allows, and every mistake becomes an *Error at
// the line and column where it was written.
type reader struct {
	file string
}

func (r *reader) at(n *yaml.Node) Pos { return Pos{File: r.file, Line: n.Line, Col: n.Column} }

func (r *reader) errf(n *yaml.Node, format string, args ...any) error {
	return &Error{Pos: r.at(n), Msg: fmt.Sprintf(format, args...)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// fields reads a mapping, refusing keys not in allowed and repeated keys.
func (r *reader) fields(n *yaml.Node, what string, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, r.errf(n, "%s must be a mapping (key: value lines), got %s", what, kindName(n))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, r.errf(k, "unknown key %q in %s (expected one of: %s)", k.Value, what, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, r.errf(k, "key %q given twice in %s", k.Value, what)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (r *reader) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", r.errf(n, "%s must be text, got %s", what, kindName(n))
	}
	return n.Value, nil
}

func (r *reader) word(n *yaml.Node, what string) (string, error) {
	s, err := r.str(n, what)
	if err == nil && (s == "" || strings.ContainsAny(s, " \t/")) {
		err = r.errf(n, "%s must be one word, got %q", what, s)
	}
	return s, err
}

func (r *reader) num(n *yaml.Node, what string) (float64, error) {
	s, err := r.str(n, what)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, r.errf(n, "%s must be a number, got %q", what, s)
	}
	return v, nil
}

func (r *reader) uint(n *yaml.Node, what string, max uint64) (uint64, error) {
	s, err := r.str(n, what)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil || v > max {
		return 0, r.errf(n, "%s must be a whole number from 0 to %d, got %q", what, max, s)
	}
	return v, nil
}

func (r *reader) dur(n *yaml.Node, what string) (time.Duration, error) {
	s, err := r.str(n, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > 24*time.Hour {
		return 0, r.errf(n, "%s must be a duration like 3s, 500ms or 2m (at most 24h), got %q", what, s)
	}
	return d, nil
}

func (r *reader) words(n *yaml.Node, what string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		return strings.Fields(strings.ReplaceAll(n.Value, ",", " ")), nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, r.errf(n, "%s must be a list, got %s", what, kindName(n))
	}
	var out []string
	for _, c := range n.Content {
		s, err := r.word(c, what+" entry")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (r *reader) list(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, r.errf(n, "%s must be a list (lines starting with -), got %s", what, kindName(n))
	}
	return n.Content, nil
}

// Parse reads a scenario file. fsys and dir locate its containers' sources.
func Parse(file string, src []byte, fsys fs.FS, dir string) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &Error{Pos: Pos{File: file, Line: yamlErrLine(err)}, Msg: "not valid YAML: " + err.Error()}
	}
	r := &reader{file: file}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "empty scenario file"}
	}
	root := doc.Content[0]
	f, err := r.fields(root, "the scenario", "name", "title", "summary", "seed", "owner", "tenants", "maintainer", "remotes", "devices", "containers", "steps")
	if err != nil {
		return nil, err
	}
	sc := &Scenario{Pos: r.at(root), fsys: fsys, dir: dir}
	for _, key := range []string{"name", "title", "owner"} {
		if f[key] == nil {
			return nil, r.errf(root, "the scenario needs a %q", key)
		}
	}
	if sc.Name, err = r.word(f["name"], "name"); err != nil {
		return nil, err
	}
	if sc.Title, err = r.str(f["title"], "title"); err != nil {
		return nil, err
	}
	if n := f["summary"]; n != nil {
		if sc.Summary, err = r.str(n, "summary"); err != nil {
			return nil, err
		}
	}
	if n := f["seed"]; n != nil {
		if sc.Seed, err = r.uint(n, "seed", math.MaxUint64); err != nil {
			return nil, err
		}
	}
	if sc.Owner, err = r.word(f["owner"], "owner"); err != nil {
		return nil, err
	}
	if n := f["tenants"]; n != nil {
		if sc.Tenants, err = r.words(n, "tenants"); err != nil {
			return nil, err
		}
	}
	if n := f["maintainer"]; n != nil {
		if sc.Maintainer, err = r.word(n, "maintainer"); err != nil {
			return nil, err
		}
	}
	if n := f["remotes"]; n != nil {
		if sc.Remotes, err = r.remotes(n); err != nil {
			return nil, err
		}
	}
	if n := f["devices"]; n != nil {
		if err := r.devices(sc, n); err != nil {
			return nil, err
		}
	}
	if n := f["containers"]; n != nil {
		if err := r.containers(sc, n); err != nil {
			return nil, err
		}
	}
	if n := f["steps"]; n != nil {
		items, err := r.list(n, "steps")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			st, err := r.step(it)
			if err != nil {
				return nil, err
			}
			sc.Steps = append(sc.Steps, st)
		}
	}
	if len(sc.Steps) == 0 {
		return nil, r.errf(root, "the scenario has no steps")
	}
	if err := sc.check(); err != nil {
		return nil, err
	}
	return sc, nil
}

func yamlErrLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); e == nil {
		return line
	}
	return 1
}

func (r *reader) devices(sc *Scenario, n *yaml.Node) error {
	items, err := r.list(n, "devices")
	if err != nil {
		return err
	}
	for _, it := range items {
		f, err := r.fields(it, "a device", "id", "board", "count", "battery_mah", "sensors", "actuators", "restart", "backoff", "install", "runtime")
		if err != nil {
			return err
		}
		d := Device{Pos: r.at(it), Restart: "none"}
		if f["id"] == nil {
			return r.errf(it, "a device needs an id")
		}
		if d.ID, err = r.word(f["id"], "device id"); err != nil {
			return err
		}
		if n := f["board"]; n != nil {
			if d.Board, err = r.word(n, "board"); err != nil {
				return err
			}
		}
		if n := f["count"]; n != nil {
			c, err := r.uint(n, "count", MaxFleet)
			if err != nil {
				return err
			}
			d.Count = int(c)
		}
		if n := f["battery_mah"]; n != nil {
			if d.BatteryMAh, err = r.num(n, "battery_mah"); err != nil {
				return err
			}
			if d.BatteryMAh <= 0 {
				return r.errf(n, "battery_mah must be above 0")
			}
		}
		for key, actuator := range map[string]bool{"sensors": false, "actuators": true} {
			if n := f[key]; n != nil {
				if err := r.peers(&d, n, actuator); err != nil {
					return err
				}
			}
		}
		slices.SortFunc(d.Peers, func(a, b Peer) int { return int(a.ID) - int(b.ID) })
		if n := f["restart"]; n != nil {
			if d.Restart, err = r.str(n, "restart"); err != nil {
				return err
			}
			if d.Restart != "none" && d.Restart != "on-failure" {
				return r.errf(n, "restart must be none or on-failure, got %q", d.Restart)
			}
		}
		if n := f["backoff"]; n != nil {
			if d.Backoff, err = r.dur(n, "backoff"); err != nil {
				return err
			}
		}
		if n := f["runtime"]; n != nil {
			var name string
			if name, err = r.word(n, "runtime"); err != nil {
				return err
			}
			if name != firewall.TypeBPF.String() && name != firewall.TypeWasm.String() {
				return r.errf(n, "runtime %q: bpf or wasm (the one runtime the firmware is built with)", name)
			}
			d.Runtime, _ = firewall.ParseRuntimeType(name)
		}
		if n := f["install"]; n != nil {
			if d.Install, err = r.words(n, "install"); err != nil {
				return err
			}
		}
		sc.Devices = append(sc.Devices, d)
	}
	return nil
}

func (r *reader) peers(d *Device, n *yaml.Node, actuator bool) error {
	what := "sensors"
	if actuator {
		what = "actuators"
	}
	if n.Kind != yaml.MappingNode {
		return r.errf(n, "%s must be a mapping of name: {class, id, ...}", what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, err := r.fields(v, what+" "+k.Value, "class", "id", "model", "start", "min", "max", "step")
		if err != nil {
			return err
		}
		p := Peer{Pos: r.at(k), Name: k.Value, Actuator: actuator, Model: "script"}
		if f["class"] == nil || f["id"] == nil {
			return r.errf(v, "%s %s needs a class and an id", what, k.Value)
		}
		if p.Class, err = r.word(f["class"], "class"); err != nil {
			return err
		}
		id, err := r.uint(f["id"], "id", math.MaxUint32)
		if err != nil {
			return err
		}
		p.ID = uint32(id)
		if nm := f["model"]; nm != nil {
			if p.Model, err = r.word(nm, "model"); err != nil {
				return err
			}
		}
		for key, dst := range map[string]*float64{"start": &p.Start, "min": &p.Min, "max": &p.Max, "step": &p.Step} {
			if nv := f[key]; nv != nil {
				if *dst, err = r.num(nv, key); err != nil {
					return err
				}
			}
		}
		for _, q := range d.Peers {
			if q.Name == p.Name || q.ID == p.ID {
				return r.errf(k, "device %s has two peers named %q or with id %d", d.ID, p.Name, p.ID)
			}
		}
		d.Peers = append(d.Peers, p)
	}
	return nil
}

func (r *reader) containers(sc *Scenario, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return r.errf(n, "containers must be a mapping of name: {tenant, source, ...}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, err := r.fields(v, "container "+k.Value, "uid", "tenant", "source", "data", "grants", "endpoints", "limits")
		if err != nil {
			return err
		}
		c := Container{Pos: r.at(k), Name: k.Value, fields: map[string]Pos{}}
		for fk, fv := range f {
			c.fields[fk] = r.at(fv)
		}
		if strings.ContainsAny(c.Name, " ./\t") || c.Name == "" {
			return r.errf(k, "container name %q: one word, no dots or slashes", c.Name)
		}
		for _, key := range []string{"tenant", "source"} {
			if f[key] == nil {
				return r.errf(v, "container %s needs a %s", c.Name, key)
			}
		}
		if c.Tenant, err = r.word(f["tenant"], "tenant"); err != nil {
			return err
		}
		c.UID = c.Name
		if nu := f["uid"]; nu != nil {
			if c.UID, err = r.word(nu, "uid"); err != nil {
				return err
			}
		}
		if c.Source, err = r.str(f["source"], "source"); err != nil {
			return err
		}
		if nd := f["data"]; nd != nil {
			if c.Data, err = r.str(nd, "data"); err != nil {
				return err
			}
		}
		if ng := f["grants"]; ng != nil {
			if c.Grants, err = r.words(ng, "grants"); err != nil {
				return err
			}
		}
		if ne := f["endpoints"]; ne != nil {
			items, err := r.list(ne, "endpoints")
			if err != nil {
				return err
			}
			for _, it := range items {
				ef, err := r.fields(it, "an endpoint", "id", "peer", "dir")
				if err != nil {
					return err
				}
				if ef["id"] == nil || ef["peer"] == nil || ef["dir"] == nil {
					return r.errf(it, "an endpoint needs id, peer and dir")
				}
				e := Endpoint{Pos: r.at(it)}
				id, err := r.uint(ef["id"], "endpoint id", math.MaxUint32)
				if err != nil {
					return err
				}
				e.ID = uint32(id)
				if e.Peer, err = r.str(ef["peer"], "peer"); err != nil {
					return err
				}
				if e.Dir, err = r.word(ef["dir"], "dir"); err != nil {
					return err
				}
				c.Endpoints = append(c.Endpoints, e)
			}
		}
		if nl := f["limits"]; nl != nil {
			lf, err := r.fields(nl, "limits", "start_max_ms", "loop_period_ms", "loop_max_ms", "lifetime", "stop_max_ms", "energy_uj_per_min")
			if err != nil {
				return err
			}
			for key, dst := range map[string]*uint32{"start_max_ms": &c.Limits.StartMaxMS, "loop_period_ms": &c.Limits.LoopPeriodMS,
				"loop_max_ms": &c.Limits.LoopMaxMS, "lifetime": &c.Limits.Lifetime, "stop_max_ms": &c.Limits.StopMaxMS} {
				if nv := lf[key]; nv != nil {
					v, err := r.uint(nv, key, math.MaxUint32)
					if err != nil {
						return err
					}
					*dst = uint32(v)
				}
			}
			if nv := lf["energy_uj_per_min"]; nv != nil {
				v, err := r.uint(nv, "energy_uj_per_min", math.MaxInt64)
				if err != nil {
					return err
				}
				c.Limits.EnergyUJPerMin = int64(v)
			}
		}
		for _, other := range sc.Containers {
			if other.Name == c.Name {
				return r.errf(k, "container %s defined twice", c.Name)
			}
		}
		sc.Containers = append(sc.Containers, c)
	}
	return nil
}

func (r *reader) step(n *yaml.Node) (Step, error) {
	f, err := r.fields(n, "a step", "title", "say", "watch", "about", "do", "wait", "expect")
	if err != nil {
		return Step{}, err
	}
	st := Step{Pos: r.at(n)}
	for key, dst := range map[string]*string{"title": &st.Title, "say": &st.Say, "watch": &st.Watch} {
		if nv := f[key]; nv != nil {
			if *dst, err = r.str(nv, key); err != nil {
				return st, err
			}
		}
	}
	if st.Say == "" {
		return st, r.errf(n, "a step needs narration: say: what the presenter tells the audience")
	}
	if na := f["about"]; na != nil {
		s, err := r.str(na, "about")
		if err != nil {
			return st, err
		}
		dev, uid, _ := strings.Cut(s, "/")
		if dev == "" || strings.HasSuffix(s, "/") {
			return st, r.errf(na, "about must be DEVICE or DEVICE/UID, like bench-1/coach; got %q", s)
		}
		st.About = Subject{Pos: r.at(na), Device: dev, Container: uid}
	}
	if nd := f["do"]; nd != nil {
		items := []*yaml.Node{nd}
		if nd.Kind == yaml.SequenceNode {
			items = nd.Content
		}
		for _, it := range items {
			a, err := r.action(it)
			if err != nil {
				return st, err
			}
			st.Do = append(st.Do, a)
		}
	}
	if nw := f["wait"]; nw != nil {
		if st.Wait, err = r.wait(nw); err != nil {
			return st, err
		}
	}
	if ne := f["expect"]; ne != nil {
		items := []*yaml.Node{ne}
		if ne.Kind == yaml.SequenceNode {
			items = ne.Content
		}
		for _, it := range items {
			e, err := r.expect(it)
			if err != nil {
				return st, err
			}
			st.Expect = append(st.Expect, e)
		}
	}
	return st, nil
}

// actions lists the structured action forms: the lab command each becomes
// and the fields that fill its arguments, in order.
var actions = map[string][]string{
	"start": {"device", "container"}, "stop": {"device", "container"}, "restart": {"device", "container"},
	"delete": {"device", "container"}, "load": {"device", "container"},
	"update":    {"device", "container", "seq", "format", "attack"},
	"sensor":    {"device", "sensor", "value"},
	"power-cut": {"device"}, "power-on": {"device"},
	"drop":    {"device", "loss"},
	"grant":   {"device", "container", "call"},
	"revoke":  {"device", "container", "call"},
	"coap":    {"method", "device", "path", "payload"},
	"rollout": {"container", "version", "to", "canary", "waves", "halt_on", "pause", "from"},
	"tamper":  {"attack"},
	"exec":    {"line"},
}

// action reads a step action: a lab command line as text, or a mapping with
// one key naming the command.
func (r *reader) action(n *yaml.Node) (Action, error) {
	a := Action{Pos: r.at(n)}
	if n.Kind == yaml.ScalarNode {
		a.Line = n.Value
		return a, nil
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return a, r.errf(n, "an action is a command line (\"start bench-1 coach\") or one mapping like {start: {device: bench-1, container: coach}}")
	}
	verb := strings.ReplaceAll(n.Content[0].Value, "_", "-")
	args, ok := actions[verb]
	if !ok {
		names := make([]string, 0, len(actions))
		for k := range actions {
			names = append(names, k)
		}
		slices.Sort(names)
		return a, r.errf(n.Content[0], "unknown action %q (actions: %s)", verb, strings.Join(names, ", "))
	}
	v := n.Content[1]
	if v.Kind == yaml.ScalarNode {
		if verb == "exec" {
			a.Line = v.Value
		} else {
			a.Line = verb + " " + v.Value
		}
		return a, nil
	}
	f, err := r.fields(v, "action "+verb, append(slices.Clone(args), "as")...)
	if err != nil {
		return a, err
	}
	parts := []string{verb}
	if verb == "rollout" {
		return r.rolloutAction(a, v, f)
	}
	if nv := f["as"]; nv != nil {
		who, err := r.word(nv, "as")
		if err != nil {
			return a, err
		}
		parts = []string{"as", who, verb}
	}
	if verb == "tamper" {
		parts = append(parts, "next")
	}
	for _, key := range args {
		nv := f[key]
		if nv == nil {
			switch key {
			case "seq", "format", "attack", "payload":
				continue
			}
			return a, r.errf(v, "action %s needs %s", verb, key)
		}
		s, err := r.str(nv, key)
		if err != nil {
			return a, err
		}
		switch key {
		case "seq":
			s = "v" + s
		case "loss":
			if !strings.HasSuffix(s, "%") {
				s += "%"
			}
		}
		parts = append(parts, s)
	}
	a.Line = strings.Join(parts, " ")
	return a, nil
}

func (r *reader) wait(n *yaml.Node) (Wait, error) {
	w := Wait{Pos: r.at(n)}
	var err error
	if n.Kind == yaml.ScalarNode {
		w.For, err = r.dur(n, "wait")
		return w, err
	}
	f, err := r.fields(n, "wait", "for", "until", "timeout")
	if err != nil {
		return w, err
	}
	if nf := f["for"]; nf != nil {
		if w.For, err = r.dur(nf, "wait for"); err != nil {
			return w, err
		}
	}
	if nu := f["until"]; nu != nil {
		e, err := r.expect(nu)
		if err != nil {
			return w, err
		}
		w.Until = &e
		w.Timeout = 30 * time.Second
		if nt := f["timeout"]; nt != nil {
			if w.Timeout, err = r.dur(nt, "timeout"); err != nil {
				return w, err
			}
		}
	} else if f["timeout"] != nil {
		return w, r.errf(f["timeout"], "timeout goes with until")
	}
	return w, nil
}

// expect reads an expectation. The flat forms are
// {container: DEV/UID, state: S} and {device: DEV, containers: N}; the
// others are one key naming the kind: {denied: {...}}, {update: {...}} ...
func (r *reader) expect(n *yaml.Node) (Expect, error) {
	e := Expect{Pos: r.at(n)}
	if n.Kind != yaml.MappingNode {
		return e, r.errf(n, "an expectation is a mapping, like {container: bench-1/coach, state: RUNNING}")
	}
	keys := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		keys[n.Content[i].Value] = true
	}
	switch {
	case keys["rollout"] && len(n.Content) == 2:
		return r.rolloutExpect(e, n.Content[1])
	case keys["state"]:
		e.Kind = "state"
		f, err := r.fields(n, "a state expectation", "container", "state", "seq", "runtime")
		if err != nil {
			return e, err
		}
		if nr := f["runtime"]; nr != nil {
			if e.Runtime, err = r.word(nr, "runtime"); err != nil {
				return e, err
			}
			if e.Runtime != firewall.TypeBPF.String() && e.Runtime != firewall.TypeWasm.String() {
				return e, r.errf(nr, "runtime %q: bpf or wasm", e.Runtime)
			}
		}
		if ns := f["seq"]; ns != nil {
			v, err := r.uint(ns, "seq", math.MaxUint64)
			if err != nil {
				return e, err
			}
			e.Seq = &v
		}
		if err := r.target(&e, f["container"], n); err != nil {
			return e, err
		}
		if e.State, err = r.word(f["state"], "state"); err != nil {
			return e, err
		}
		return e, nil
	case keys["containers"]:
		e.Kind = "containers"
		f, err := r.fields(n, "a containers expectation", "device", "containers")
		if err != nil {
			return e, err
		}
		if f["device"] == nil {
			return e, r.errf(n, "{containers: N} needs the device")
		}
		if e.Device, err = r.word(f["device"], "device"); err != nil {
			return e, err
		}
		c, err := r.uint(f["containers"], "containers", 64)
		e.Count = int(c)
		return e, err
	}
	if len(n.Content) != 2 {
		return e, r.errf(n, "an expectation has one kind (state, containers, %s)", strings.Join(expectKinds, ", "))
	}
	kind := n.Content[0].Value
	not := false
	if k, ok := strings.CutPrefix(kind, "no_"); ok {
		kind, not = k, true
	}
	if !slices.Contains(expectKinds, kind) {
		return e, r.errf(n.Content[0], "unknown expectation %q (known: state, containers, %s; prefix no_ to say it must not happen)", n.Content[0].Value, strings.Join(expectKinds, ", "))
	}
	e.Kind, e.Not = kind, not
	v := n.Content[1]
	f, err := r.fields(v, kind+" expectation", "device", "container", "call", "reason", "result", "code", "above", "below", "contains", "limit", "at_least", "on", "peer", "party", "rule")
	if err != nil {
		return e, err
	}
	if nc := f["container"]; nc != nil {
		if err := r.target(&e, nc, v); err != nil {
			return e, err
		}
	} else if nd := f["device"]; nd != nil {
		if e.Device, err = r.word(nd, "device"); err != nil {
			return e, err
		}
	} else {
		return e, r.errf(v, "%s needs a device or a container (DEVICE/UID)", kind)
	}
	for key, dst := range map[string]*string{"call": &e.Call, "reason": &e.Reason, "result": &e.Result, "contains": &e.Contains, "limit": &e.Limit, "peer": &e.Peer, "party": &e.Party, "rule": &e.Rule} {
		if nv := f[key]; nv != nil {
			if *dst, err = r.str(nv, key); err != nil {
				return e, err
			}
		}
	}
	if nv := f["code"]; nv != nil {
		s, err := r.str(nv, "code")
		if err != nil {
			return e, err
		}
		c, err := strconv.Atoi(s)
		if err != nil {
			return e, r.errf(nv, "code must be a SUIT code like -5, got %q", s)
		}
		e.Code = &c
	}
	for key, dst := range map[string]**float64{"above": &e.Above, "below": &e.Below} {
		if nv := f[key]; nv != nil {
			x, err := r.num(nv, key)
			if err != nil {
				return e, err
			}
			*dst = &x
		}
	}
	if nv := f["at_least"]; nv != nil {
		c, err := r.uint(nv, "at_least", 1<<31)
		if err != nil {
			return e, err
		}
		e.AtLeast = int(c)
	}
	if nv := f["on"]; nv != nil {
		s, err := r.str(nv, "on")
		if err != nil {
			return e, err
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return e, r.errf(nv, "on must be true or false, got %q", s)
		}
		e.On = &b
	}
	return e, nil
}

// expectKinds are the expectations written as {kind: {...}}.
var expectKinds = []string{"denied", "refused", "update", "suit", "battery", "log", "heartbeats", "budget", "fault", "missed", "actuator", "powered"}

// target reads DEVICE/UID into an expectation.
func (r *reader) target(e *Expect, n, parent *yaml.Node) error {
	if n == nil {
		return r.errf(parent, "the expectation needs a container: DEVICE/UID")
	}
	s, err := r.str(n, "container")
	if err != nil {
		return err
	}
	dev, uid, ok := strings.Cut(s, "/")
	if !ok || dev == "" || uid == "" {
		return r.errf(n, "container must be DEVICE/UID, like bench-1/coach; got %q", s)
	}
	e.Device, e.Container = dev, uid
	return nil
}

// read loads a file of the scenario's folder.
func (sc *Scenario) read(name string) ([]byte, error) {
	return fs.ReadFile(sc.fsys, path.Join(sc.dir, name))
}

// MaxFleet is the most boards one device entry may count.
const MaxFleet = 10000

// rolloutAction builds `rollout CONTAINER [vN] --to GLOB ...` from its
// structured form.
func (r *reader) rolloutAction(a Action, v *yaml.Node, f map[string]*yaml.Node) (Action, error) {
	for _, key := range []string{"container", "to"} {
		if f[key] == nil {
			return a, r.errf(v, "action rollout needs %s", key)
		}
	}
	parts := []string{"rollout"}
	for _, key := range []string{"container", "version", "to", "canary", "waves", "halt_on", "pause", "from"} {
		nv := f[key]
		if nv == nil {
			continue
		}
		val, err := r.str(nv, key)
		if err == nil && nv.Kind == yaml.ScalarNode && strings.ContainsAny(val, " \t") {
			err = r.errf(nv, "%s must be one word, got %q", key, val)
		}
		if err != nil {
			return a, err
		}
		switch key {
		case "container":
			parts = append(parts, val)
		case "version":
			if !strings.HasPrefix(val, "v") {
				val = "v" + val
			}
			parts = append(parts, val)
		default:
			parts = append(parts, "--"+strings.ReplaceAll(key, "_", "-"), val)
		}
	}
	a.Line = strings.Join(parts, " ")
	return a, nil
}

// rolloutExpect reads {rollout: {state: halted, wave: wave 2, failed: 10+}}.
func (r *reader) rolloutExpect(e Expect, v *yaml.Node) (Expect, error) {
	e.Kind = "rollout"
	f, err := r.fields(v, "rollout expectation", "state", "wave", "pending", "fetching", "installed", "failed", "offline")
	if err != nil {
		return e, err
	}
	x := &RolloutExpect{Counts: map[string]Count{}}
	if nv := f["state"]; nv != nil {
		if x.State, err = r.word(nv, "state"); err != nil {
			return e, err
		}
		if _, ok := rollout.ParseState(x.State); !ok {
			return e, r.errf(nv, "rollout state %q: rolling, observing, halted, aborted, completed, rolling-back or rolled-back", x.State)
		}
	}
	if nv := f["wave"]; nv != nil {
		if x.Wave, err = r.str(nv, "wave"); err != nil {
			return e, err
		}
	}
	for _, key := range []string{"pending", "fetching", "installed", "failed", "offline"} {
		nv := f[key]
		if nv == nil {
			continue
		}
		s, err := r.str(nv, key)
		if err != nil {
			return e, err
		}
		num, plus := strings.CutSuffix(s, "+")
		c, err := strconv.Atoi(num)
		if err != nil || c < 0 {
			return e, r.errf(nv, "%s must be a count like 12, or 12+ for at least 12, got %q", key, s)
		}
		x.Counts[key] = Count{N: c, AtLeast: plus}
	}
	e.Rollout = x
	return e, nil
}

// remotes reads {N: coap://HOST/PATH, ...}: where the containers' writes on
// remote:N endpoints go, on every device.
func (r *reader) remotes(n *yaml.Node) (map[uint32]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, r.errf(n, "remotes must map endpoint numbers to URIs, like {7: coap://collector.localhost/coverage}")
	}
	out := map[uint32]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		id, err := r.uint(n.Content[i], "remote endpoint", math.MaxUint32)
		if err != nil {
			return nil, err
		}
		uri, err := r.str(n.Content[i+1], "remote URI")
		if err != nil {
			return nil, err
		}
		if _, err := coapnet.ReadURI(uri); err != nil {
			return nil, r.errf(n.Content[i+1], "remote %d: %v", id, err)
		}
		out[uint32(id)] = uri
	}
	return out, nil
}
