package labcli

import (
	"fmt"
	"strconv"
	"strings"

	"tinylab/device"
)

// peerRange is where a sensor of a class starts and wanders on its own: the
// scenario format lets a file say it, a flag takes these.
var peerRange = map[device.Class]struct{ start, min, max, step float64 }{
	device.ClassTemperature: {21.5, 15, 30, 0.3},
	device.ClassHumidity:    {45, 30, 70, 1},
	device.ClassOrientation: {0, 0, 360, 5},
	device.ClassHeartRate:   {70, 60, 180, 5},
	device.ClassCounter:     {0, 0, 0, 1},
	device.ClassButton:      {0, 0, 1, 1},
	device.ClassRSSI:        {-70, -95, -55, 2},
}

// ParsePeers reads --sensor NAME=CLASS[:MODEL][@ID] and --actuator
// NAME=CLASS[@ID] as the scenario format's sensors and actuators. Peers
// without an id are numbered from 1 in the order given, skipping ids taken.
func ParsePeers(sensors, actuators []string) ([]device.PeerSpec, error) {
	var peers []device.PeerSpec
	taken := map[uint32]bool{}
	var auto []int
	add := func(flag, v string, actuator bool) error {
		bad := func(why string) error {
			form := "NAME=CLASS[:MODEL][@ID]"
			if actuator {
				form = "NAME=CLASS[@ID]"
			}
			return fmt.Errorf("--%s %q: %s (want %s)", flag, v, why, form)
		}
		name, rest, ok := strings.Cut(v, "=")
		if !ok || name == "" || rest == "" {
			return bad("no NAME=CLASS")
		}
		p := device.PeerSpec{Name: name}
		if body, id, ok := strings.Cut(rest, "@"); ok {
			n, err := strconv.ParseUint(id, 10, 32)
			if err != nil || n == 0 {
				return bad("the id must be a number from 1")
			}
			p.ID, rest = uint32(n), body
		}
		class, model, hasModel := strings.Cut(rest, ":")
		c, err := device.ParseClass(class)
		if err != nil {
			return bad(err.Error())
		}
		if c.IsActuator() != actuator {
			if actuator {
				return bad(class + " is a sensor; use --sensor")
			}
			return bad(class + " is an actuator; use --actuator")
		}
		p.Class = c
		if hasModel {
			if actuator {
				return bad("an actuator has no model")
			}
			if p.Model, err = device.ParseModel(model); err != nil {
				return bad(err.Error())
			}
		}
		if r, ok := peerRange[c]; ok {
			p.Start, p.Min, p.Max, p.Step = r.start, r.min, r.max, r.step
		}
		for _, q := range peers {
			if q.Name == p.Name {
				return bad("two peers named " + p.Name)
			}
		}
		if p.ID != 0 {
			if taken[p.ID] {
				return bad(fmt.Sprintf("id %d is taken", p.ID))
			}
			taken[p.ID] = true
		} else {
			auto = append(auto, len(peers))
		}
		peers = append(peers, p)
		return nil
	}
	for _, v := range sensors {
		if err := add("sensor", v, false); err != nil {
			return nil, err
		}
	}
	for _, v := range actuators {
		if err := add("actuator", v, true); err != nil {
			return nil, err
		}
	}
	next := uint32(1)
	for _, i := range auto {
		for taken[next] {
			next++
		}
		peers[i].ID = next
		taken[next] = true
	}
	return peers, nil
}

// peerLine tells a user the peer id a container's endpoint names.
func peerLine(p device.PeerSpec) string {
	if p.Class.IsActuator() {
		return fmt.Sprintf("actuator %s: %s, local peer %d", p.Name, p.Class, p.ID)
	}
	return fmt.Sprintf("sensor %s: %s (%s), local peer %d", p.Name, p.Class, p.Model, p.ID)
}
