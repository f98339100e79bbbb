package lab

import (
	"sync"

	"tinylab/device"
)

// Tally is the fleet at a glance: its containers by state, boards off,
// denials and heartbeats. The lab keeps it up to date from the bus, event
// by event, never by walking the fleet, so a frame reads it at the same
// cost with ten boards or ten thousand.
type Tally struct {
	Containers [device.Failed + 1]int // by device.State (Empty is never counted)
	Off        int                    // boards powered off
	Denied     uint64                 // firewall denials and refused requests
	Heartbeats uint64
}

// Of is how many containers are in state s.
func (t Tally) Of(s device.State) int {
	if int(s) >= len(t.Containers) || s == device.Empty {
		return 0
	}
	return t.Containers[s]
}

// tally follows the bus into a Tally.
type tally struct {
	mu     sync.Mutex
	t      Tally
	states map[string]map[string]device.State // device → container → state
	off    map[string]bool
}

func newTally() *tally {
	return &tally{states: map[string]map[string]device.State{}, off: map[string]bool{}}
}

func (y *tally) set(dev, ctr string, s device.State) {
	byCtr := y.states[dev]
	if byCtr == nil {
		byCtr = map[string]device.State{}
		y.states[dev] = byCtr
	}
	if old, ok := byCtr[ctr]; ok {
		y.t.Containers[old]--
	}
	if s == device.Empty {
		delete(byCtr, ctr)
		return
	}
	byCtr[ctr] = s
	y.t.Containers[s]++
}

func (y *tally) see(e device.Event) {
	y.mu.Lock()
	defer y.mu.Unlock()
	switch d := e.Data.(type) {
	case device.StateChange:
		if int(d.To) < len(y.t.Containers) {
			y.set(e.Device, d.Container, d.To)
		}
	case device.Heartbeat:
		y.t.Heartbeats++
	case device.Denied, device.Refused:
		y.t.Denied++
	case device.Boot:
		if y.off[e.Device] {
			delete(y.off, e.Device)
			y.t.Off--
		}
	case device.Power:
		if d.On {
			if y.off[e.Device] {
				delete(y.off, e.Device)
				y.t.Off--
			}
			break
		}
		// a power cut empties the slots without a state change each
		for ctr := range y.states[e.Device] {
			y.set(e.Device, ctr, device.Empty)
		}
		if !y.off[e.Device] {
			y.off[e.Device] = true
			y.t.Off++
		}
	}
}

func (y *tally) get() Tally {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.t
}
