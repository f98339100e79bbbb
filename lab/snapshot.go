package lab

import (
	"slices"
	"time"

	"tinylab/device"
	"tinylab/lab/sim"
)

// Snapshot is a copy of the lab for the UI, taken in the world.
type Snapshot struct {
	Now    time.Duration
	Mode   sim.Mode
	Speed  float64
	Paused bool
	// IDs is every device's id, in order: the whole list, cheap at any
	// size. It is shared between snapshots: read it, never change it.
	IDs []string
	// Devices are the summaries of the rows asked for: Devices[i] is the
	// device IDs[First+i]. A device list shows a window of a fleet, so only
	// that window is summarised.
	Devices   []device.Summary
	First     int
	Detail    *device.Snapshot // the device asked for, in full
	Published uint64           // events on the bus so far
	Armed     Attack           // what the next update will carry
	Rollout   *RolloutView     // the latest rollout campaign, if any
	Tally     Tally            // the whole fleet, counted
}

// Rows is a window of the device list: Count rows from row From.
type Rows struct{ From, Count int }

// AllRows is the whole device list.
var AllRows = Rows{From: 0, Count: -1}

// Clip is the window inside a list of n rows: its first row and the row
// after its last. A negative count runs to the end.
func (r Rows) Clip(n int) (int, int) {
	from := min(max(r.From, 0), n)
	if r.Count < 0 {
		return from, n
	}
	return from, from + min(r.Count, n-from)
}

// Snapshot copies the lab: a summary of every device and the full state of
// the device named detail (none when it is empty or unknown).
func (l *Lab) Snapshot(detail string) Snapshot { return l.SnapshotRows(detail, AllRows) }

// SnapshotRows copies the lab for a device list showing rows: the ids of
// every device, the summaries of the devices in rows, and the full state of
// the device named detail. Its cost follows the rows asked for, not the
// size of the fleet.
func (l *Lab) SnapshotRows(detail string, rows Rows) Snapshot {
	l.mu.Lock()
	ids := l.ids[:len(l.ids):len(l.ids)]
	from, to := rows.Clip(len(l.nodes))
	nodes := make([]*Node, to-from, to-from+1)
	copy(nodes, l.nodes[from:to])
	if n := l.byID[detail]; n != nil && !slices.Contains(nodes, n) {
		nodes = append(nodes, n)
	}
	armed := l.armed
	var camp *campaign
	if len(l.rollouts) > 0 {
		camp = l.rollouts[len(l.rollouts)-1]
	}
	l.mu.Unlock()
	s := Snapshot{IDs: ids, Devices: make([]device.Summary, to-from), First: from, Armed: armed}
	mode, speed, paused := l.world.Mode(), l.world.Speed(), l.world.Paused()
	l.world.Do(func() {
		s.Now = l.world.Now()
		for i, n := range nodes {
			if i < len(s.Devices) {
				s.Devices[i] = n.Dev.Summary()
			}
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
	s.Tally = l.tally.get()
	return s
}
