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

// holds are the held transitions by device and container.
type holds map[[2]string]*held

// add queues the state changes among evs.
func (hs holds) add(evs []device.Event, now time.Time) {
	for _, e := range evs {
		sc, ok := e.Data.(device.StateChange)
		if !ok {
			continue
		}
		k := [2]string{e.Device, sc.Container}
		h := hs[k]
		if h == nil {
			h = &held{since: now}
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

// pending reports whether a transition is still waiting to be shown.
func (hs holds) pending() bool {
	for _, h := range hs {
		if len(h.queue) > 1 {
			return true
		}
	}
	return false
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
	if s.Detail != nil {
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
