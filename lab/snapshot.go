package lab

import (
	"time"

	"tinylab/device"
	"tinylab/lab/sim"
)

// Snapshot is a copy of the lab for the UI, taken in the world.
type Snapshot struct {
	Now       time.Duration
	Mode      sim.Mode
	Speed     float64
	Paused    bool
	Devices   []device.Summary // every device, in order
	Detail    *device.Snapshot // the device asked for, in full
	Published uint64           // events on the bus so far
	Armed     Attack           // what the next update will carry
	Rollout   *RolloutView     // the latest rollout campaign, if any
}

// Snapshot copies the lab: a summary of every device and the full state of
// the device named detail (none when it is empty or unknown).
func (l *Lab) Snapshot(detail string) Snapshot {
	nodes := l.Nodes()
	l.mu.Lock()
	armed := l.armed
	var camp *campaign
	if len(l.rollouts) > 0 {
		camp = l.rollouts[len(l.rollouts)-1]
	}
	l.mu.Unlock()
	s := Snapshot{Devices: make([]device.Summary, len(nodes)), Armed: armed}
	mode, speed, paused := l.world.Mode(), l.world.Speed(), l.world.Paused()
	l.world.Do(func() {
		s.Now = l.world.Now()
		for i, n := range nodes {
			s.Devices[i] = n.Dev.Summary()
			if n.Spec.ID == detail {
				d := n.Dev.Snapshot()
				s.Detail = &d
			}
		}
		if camp != nil {
			v := camp.view(true)
			s.Rollout = &v
		}
	})
	s.Mode, s.Speed, s.Paused = mode, speed, paused
	s.Published = l.bus.Total()
	return s
}
