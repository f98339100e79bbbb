package scenarios

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/scenarios/internal/cbuild"
	"tinylab/vm/asm"
	"tinylab/vm/loader"
	"tinylab/vm/rbf"
)

// Code reads a container's code as its device receives it: assembly is
// assembled into a femto-container rBPF image (its labels become the
// function table, so start/loop/stop are found); a C source is taken as the
// object built beside it (an ELF object from clang -target bpf, or a .wasm
// module from clang-19 when it includes tinylab_wasm.h); .o, .rbf, .bin and
// .wasm are read as they are.
func (sc *Scenario) Code(c *Container) ([]byte, error) {
	b, _, err := sc.code(c)
	return b, err
}

// staleSlack absorbs the mtime jitter of a checkout, which writes a source
// and its object moments apart.
const staleSlack = time.Second

// code is Code plus a warning for the user: a C source newer than the object
// beside it, which is loaded as it is (it may not be the code in the file).
func (sc *Scenario) code(c *Container) ([]byte, string, error) {
	b, err := sc.codeBytes(c)
	if err != nil || strings.ToLower(path.Ext(c.Source)) != ".c" {
		return b, "", err
	}
	text, err := sc.read(c.Source)
	if err != nil {
		return b, "", nil
	}
	t := cbuild.TargetOf(text)
	obj := cbuild.Object(c.Source, text)
	src, err1 := fs.Stat(sc.fsys, path.Join(sc.dir, c.Source))
	o, err2 := fs.Stat(sc.fsys, path.Join(sc.dir, obj))
	if err1 != nil || err2 != nil || !src.ModTime().After(o.ModTime().Add(staleSlack)) {
		return b, "", nil
	}
	return b, fmt.Sprintf("container %s: %s is newer than %s (by %s), which is loaded as it is: rebuild it (%s %s %s -o %s)",
		c.Name, c.Source, obj, src.ModTime().Sub(o.ModTime()).Round(time.Second), t.Compiler, strings.Join(t.Flags, " "), path.Base(c.Source), path.Base(obj)), nil
}

func (sc *Scenario) codeBytes(c *Container) ([]byte, error) {
	name := c.Source
	switch strings.ToLower(path.Ext(name)) {
	case ".asm", ".s":
		src, err := sc.read(name)
		if err != nil {
			return nil, errAt(c.Pos, "container %s: %v", c.Name, err)
		}
		img, err := asm.Assemble(string(src))
		if err != nil {
			return nil, errAt(c.Pos, "container %s: %s: %v", c.Name, name, err)
		}
		b, err := rbf.Encode(img)
		if err != nil {
			return nil, errAt(c.Pos, "container %s: %v", c.Name, err)
		}
		return b, nil
	case ".c":
		src, err := sc.read(name)
		if err != nil {
			return nil, errAt(c.Pos, "container %s: %v", c.Name, err)
		}
		t := cbuild.TargetOf(src)
		obj := cbuild.Object(name, src)
		b, err := sc.read(obj)
		if err != nil {
			return nil, errAt(c.Pos, "container %s: %s has no built %s beside it (run go generate ./scenarios/... with %s installed, or %s %s): %v",
				c.Name, name, obj, t.Compiler, t.Compiler, strings.Join(t.Flags, " "), err)
		}
		return b, nil
	case ".wasm":
		b, err := sc.read(name)
		if err != nil {
			return nil, errAt(c.Pos, "container %s: %v", c.Name, err)
		}
		return b, nil
	}
	b, err := sc.read(name)
	if err != nil {
		return nil, errAt(c.Pos, "container %s: %v", c.Name, err)
	}
	if _, err := loader.Load(name, b); err != nil {
		return nil, errAt(c.Pos, "container %s: %s: %v", c.Name, name, err)
	}
	return b, nil
}

// populate makes the scenario's world in a new lab: parties, containers
// defined, devices (booted), and each device's install list loaded and
// started. A fleet (boards sharing sockets) is provisioned group by group
// with lab.Provision, several requests in flight; a smaller lab device by
// device, one request at a time, as its transcripts have always read.
func (sc *Scenario) populate(l *lab.Lab, fleet bool) error {
	if _, err := l.AddParty(sc.Owner, lab.Owner); err != nil {
		return err
	}
	for _, t := range sc.Tenants {
		if _, err := l.AddParty(t, lab.Tenant); err != nil {
			return err
		}
	}
	if sc.Maintainer != "" {
		if _, err := l.AddParty(sc.Maintainer, lab.Maintainer); err != nil {
			return err
		}
	}
	for _, c := range sc.Containers {
		def, err := sc.def(l, &c)
		if err != nil {
			return err
		}
		if err := l.Define(def); err != nil {
			return errAt(c.Pos, "%v", err)
		}
	}
	for _, d := range sc.Devices {
		spec := lab.DeviceSpec{Board: d.Board, BatteryMAh: d.BatteryMAh, Runtime: d.Runtime, Remotes: sc.Remotes}
		if d.Restart == "on-failure" {
			spec.Restart = device.RestartPolicy{OnFailure: true, Backoff: d.Backoff}
		}
		for _, p := range d.Peers {
			class, _ := device.ParseClass(p.Class)
			model, _ := device.ParseModel(p.Model)
			spec.Peers = append(spec.Peers, device.PeerSpec{ID: p.ID, Name: p.Name, Class: class, Model: model,
				Start: p.Start, Min: p.Min, Max: p.Max, Step: p.Step})
		}
		ids := d.ids()
		for _, id := range ids {
			s := spec
			s.ID = id
			if _, err := l.AddDevice(s); err != nil {
				return errAt(d.Pos, "%v", err)
			}
			if fleet {
				continue // a fleet's boards are all built, then provisioned together
			}
			for _, name := range d.Install {
				if err := l.Load(id, name); err != nil {
					return errAt(d.Pos, "installing %s on %s: %v", name, id, err)
				}
				if err := l.Start(id, name); err != nil {
					return errAt(d.Pos, "starting %s on %s: %v", name, id, err)
				}
			}
		}
		if fleet {
			if err := l.Provision(ids, d.Install); err != nil {
				return errAt(d.Pos, "provisioning %s: %v", strings.Join(d.Install, ", "), err)
			}
		}
	}
	return nil
}

func (sc *Scenario) def(l *lab.Lab, c *Container) (lab.ContainerDef, error) {
	code, warning, err := sc.code(c)
	if err != nil {
		return lab.ContainerDef{}, err
	}
	if warning != "" {
		l.Note("warning: " + warning)
	}
	grants, _ := firewall.ParseGrants(c.Grants)
	def := lab.ContainerDef{Name: c.Name, UID: c.UID, Tenant: c.Tenant, Source: c.Source, Code: code, Data: []byte(c.Data), Grants: grants}
	for _, e := range c.Endpoints {
		ep, err := sc.endpoint(e)
		if err != nil {
			return def, err
		}
		def.Endpoints = append(def.Endpoints, ep)
	}
	t := firewall.DefaultTiming
	lim := c.Limits
	for _, f := range []struct {
		v   uint32
		dst *uint32
	}{{lim.StartMaxMS, &t.StartMaxMS}, {lim.LoopPeriodMS, &t.LoopPeriodMS}, {lim.LoopMaxMS, &t.LoopMaxMS}, {lim.Lifetime, &t.LoopMaxLifetime}, {lim.StopMaxMS, &t.StopMaxMS}} {
		if f.v != 0 {
			*f.dst = f.v
		}
	}
	def.Timing = t
	if lim.EnergyUJPerMin > 0 {
		def.Energy = device.ExtraLimits{EnergyUJ: lim.EnergyUJPerMin, EnergyWindow: time.Minute}
	}
	return def, nil
}
