package ui

import (
	"slices"
	"time"

	"tinylab/device"
	"tinylab/lab"
)

// holdFor is the least wall time each state of a burst of transitions stays
// on screen. An update of a running container goes RUNNING → STOPPING →
// PROVISIONING → READY → RUNNING in one virtual instant; shown as it is,
// the audience never sees the states between. The lab is not slowed (the
// transcript stays what fast mode gives): the UI shows the transitions one
// after another, each with its own virtual time.
const holdFor = 650 * time.Millisecond

// maxHeld bounds the transitions waiting to be shown for one container, so
// a container cycling fast at 100x does not leave the screen lagging.
const maxHeld = 6

// held is what the UI still has to show of one container's transitions:
// the first is on screen since since.
type held struct {
	queue []device.Transition
	since time.Time
}

// holds are the held transitions by device and container; a device's
// power cut is held under the container "" (a cut and a boot in one
// instant still show the board dark for holdFor, then its containers
// coming back).
type holds map[[2]string]*held

// offKey is where a device's power cut is held.
func offKey(dev string) [2]string { return [2]string{dev, ""} }

// add queues the state changes among evs.
func (hs holds) add(evs []device.Event, now time.Time) {
	for _, e := range evs {
		if p, ok := e.Data.(device.Power); ok && !p.On {
			// what the board showed before going dark is over
			for k := range hs {
				if k[0] == e.Device {
					delete(hs, k)
				}
			}
			hs[offKey(e.Device)] = &held{queue: []device.Transition{{At: e.At, Reason: p.Reason}}, since: now}
			continue
		}
		sc, ok := e.Data.(device.StateChange)
		if !ok {
			continue
		}
		k := [2]string{e.Device, sc.Container}
		h := hs[k]
		if h == nil {
			h = &held{since: now}
			if off := hs[offKey(e.Device)]; off != nil {
				// the board is still shown dark: its containers come after
				h.since = off.since.Add(holdFor)
			}
			hs[k] = h
		}
		h.queue = append(h.queue, device.Transition{From: sc.From, To: sc.To, Reason: sc.Reason, At: e.At})
		if n := len(h.queue) - maxHeld; n > 0 {
			// the one on screen stays; the oldest waiting ones go
			h.queue = slices.Delete(h.queue, 1, 1+n)
		}
	}
}

// advance takes off what has been shown long enough.
func (hs holds) advance(now time.Time) {
	for k, h := range hs {
		for len(h.queue) > 0 && now.Sub(h.since) >= holdFor {
			h.queue = h.queue[1:]
			h.since = now
		}
		if len(h.queue) == 0 {
			delete(hs, k)
		}
	}
}

// uids are the containers of a list, then more.
func uids(cs []device.ContainerBrief, more []string) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.UID)
	}
	return append(out, more...)
}

// apply gives a snapshot the states on screen: each container with held
// transitions shows the first, and then lists the states still to come.
// The snapshot's slices are copied, not changed.
func (hs holds) apply(s lab.Snapshot) (lab.Snapshot, map[string][]device.State) {
	if len(hs) == 0 {
		return s, nil
	}
	then := map[string][]device.State{}
	s.Devices = slices.Clone(s.Devices)
	for i := range s.Devices {
		d := &s.Devices[i]
		if hs[offKey(d.ID)] != nil {
			d.Powered, d.InFlash = false, uids(d.Containers, d.InFlash)
			d.Containers = nil
			continue
		}
		cloned := false
		for j, c := range d.Containers {
			h := hs[[2]string{d.ID, c.UID}]
			if h == nil {
				continue
			}
			if !cloned {
				d.Containers, cloned = slices.Clone(d.Containers), true
			}
			d.Containers[j].State = h.queue[0].To
		}
	}
	if s.Detail != nil && hs[offKey(s.Detail.ID)] != nil {
		det := *s.Detail
		var in []string
		for _, c := range det.Containers {
			in = append(in, c.UID)
		}
		det.Powered, det.InFlash, det.Containers = false, append(in, det.InFlash...), nil
		s.Detail = &det
	} else if s.Detail != nil {
		det := *s.Detail
		det.Containers = slices.Clone(det.Containers)
		for j := range det.Containers {
			c := &det.Containers[j]
			h := hs[[2]string{det.ID, c.UID}]
			if h == nil {
				continue
			}
			c.Last = h.queue[0]
			c.State = h.queue[0].To.String()
			for _, t := range h.queue[1:] {
				then[c.UID] = append(then[c.UID], t.To)
			}
		}
		s.Detail = &det
	}
	return s, then
}
