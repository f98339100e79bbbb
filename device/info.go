package device

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"tinylab/firewall"
)

// ContainerInfo is a container as the CoAP resources and the UI show it.
type ContainerInfo struct {
	UID          string `json:"uid" cbor:"uid"`
	Slot         int    `json:"slot" cbor:"slot"`
	State        string `json:"state" cbor:"state"`
	Runtime      string `json:"runtime" cbor:"runtime"` // the container type's runtime: bpf, wasm
	Reason       string `json:"reason" cbor:"reason"`
	Since        int64  `json:"since_ms" cbor:"since_ms"` // virtual time of the last transition
	Origin       string `json:"origin" cbor:"origin"`
	Tenant       string `json:"tenant,omitempty" cbor:"tenant,omitempty"` // "" for the owner's
	Seq          uint64 `json:"seq" cbor:"seq"`
	Size         int    `json:"size" cbor:"size"`
	RAM          int    `json:"ram" cbor:"ram"` // board RAM charged: the runtime's share and the agent's
	Mask         string `json:"mask" cbor:"mask"`
	Loops        uint64 `json:"loops" cbor:"loops"`                         // since the container last started
	Heartbeats   uint64 `json:"heartbeats" cbor:"heartbeats"`               // since the container last started, as Loops
	LastBeatMs   int64  `json:"last_heartbeat_ms" cbor:"last_heartbeat_ms"` // -1: never
	Missed       int    `json:"missed" cbor:"missed"`
	Allowed      uint64 `json:"allowed" cbor:"allowed"`
	Denied       uint64 `json:"denied" cbor:"denied"`
	CPUMicros    int64  `json:"cpu_us" cbor:"cpu_us"`
	LastLoopUs   int64  `json:"last_loop_us" cbor:"last_loop_us"`
	EnergyMicroJ int64  `json:"energy_uj" cbor:"energy_uj"`
	Restarts     int    `json:"restarts" cbor:"restarts"`
	Faults       int    `json:"faults" cbor:"faults"`

	Intervals []time.Duration `json:"-" cbor:"-"` // recent heartbeat intervals, oldest first
	Last      Transition      `json:"-" cbor:"-"`
	Watched   bool            `json:"-" cbor:"-"` // the watchdog expects heartbeats
	brief     bool            // the counters are withheld from this reader (access.go)
}

// Info describes the container now.
func (c *Container) Info() ContainerInfo {
	tot := c.d.fw.Totals(c.UID)
	last := int64(-1)
	if c.heartbeats > 0 {
		last = c.lastHB.Milliseconds()
	}
	n := min(c.heartbeats, uint64(len(c.intervals)))
	iv := make([]time.Duration, 0, n)
	for i := c.heartbeats - n; i < c.heartbeats; i++ {
		if i > 0 { // the first heartbeat has no interval
			iv = append(iv, c.intervals[i%uint64(len(c.intervals))])
		}
	}
	return ContainerInfo{
		UID: c.UID, Slot: c.Slot, State: c.State.String(), Runtime: c.Runtime().String(), Reason: c.Last.Reason, Since: c.Last.At.Milliseconds(),
		Origin: c.origin, Tenant: c.tenant, Seq: c.seq, Size: c.Size(), RAM: c.ramBytes(), Mask: c.policy.Mask.String(),
		Loops: c.loops, Heartbeats: c.heartbeats, LastBeatMs: last, Missed: c.missed,
		Allowed: tot.Allowed, Denied: tot.Denied, CPUMicros: c.cpu.Microseconds(), LastLoopUs: c.lastRun.Microseconds(),
		EnergyMicroJ: c.energyPJ / 1_000_000, Restarts: c.restarts, Faults: c.faults,
		Intervals: iv, Last: c.Last, Watched: c.watched(),
	}
}

// SlotInfo is one storage location and what it holds, for /suit/status.
type SlotInfo struct {
	Location string `json:"location" cbor:"location"`
	Size     int    `json:"size" cbor:"size"`
	SHA256   string `json:"sha256" cbor:"sha256"`
}

func slotInfo(loc string, b []byte) SlotInfo {
	s := SlotInfo{Location: loc, Size: len(b)}
	if len(b) > 0 {
		sum := sha256.Sum256(b)
		s.SHA256 = hex.EncodeToString(sum[:])
	}
	return s
}

// Slots lists RIOT's RAM slots and every container part in storage.
func (d *Device) Slots() []SlotInfo {
	out := []SlotInfo{slotInfo(".ram.0", d.ramSlot[0]), slotInfo(".ram.1", d.ramSlot[1])}
	for _, c := range d.Containers() {
		out = append(out,
			slotInfo(".tc."+c.UID+".meta", c.metaRaw),
			slotInfo(".tc."+c.UID+".code", c.code),
			slotInfo(".tc."+c.UID+".data", c.data))
	}
	return out
}

// PeerInfo is a local peer as the UI shows it.
type PeerInfo struct {
	ID    uint32
	Name  string
	Class Class
	Value string
}

// Snapshot is a copy of a device's state for the UI: taken in the world,
// read anywhere.
type Snapshot struct {
	ID              string
	Board           Board
	Powered         bool
	Boots           int
	BatteryPermille int
	UsedMicroJoule  int64
	Usage           Usage
	Containers      []ContainerInfo
	Peers           []PeerInfo
	Suit            SuitStatus
	Sequences       map[string]uint64
	Link            Link
	Events          uint64   // events emitted so far
	InFlash         []string // while off: the containers flash keeps (they come back at boot)
}

// Snapshot copies the device's state.
func (d *Device) Snapshot() Snapshot {
	s := Snapshot{
		ID: d.cfg.ID, Board: d.cfg.Board, Powered: d.on, Boots: d.boots,
		BatteryPermille: d.BatteryPermille(), UsedMicroJoule: d.UsedMicroJoule(),
		Usage: d.Usage(), Suit: d.SuitStatus(), Sequences: d.Sequences(), Link: d.link, Events: d.seq,
		InFlash: slices.Clone(d.inFlash),
	}
	for _, c := range d.Containers() {
		s.Containers = append(s.Containers, c.Info())
	}
	now := d.env.Now()
	for _, p := range d.peers {
		s.Peers = append(s.Peers, PeerInfo{ID: p.Spec.ID, Name: p.Spec.Name, Class: p.Spec.Class, Value: p.FormatValue(now)})
	}
	return s
}

// Peers lists the device's local peers.
func (d *Device) Peers() []PeerSpec {
	out := make([]PeerSpec, len(d.peers))
	for i, p := range d.peers {
		out[i] = p.Spec
	}
	return slices.Clip(out)
}

// ContainerBrief is a container in a device list: cheap to take for a
// thousand devices every frame.
type ContainerBrief struct {
	UID      string
	State    State
	Runtime  firewall.RuntimeType
	LastBeat time.Duration // virtual time of the last heartbeat; -1: never
	Watched  bool
	Denied   uint64
}

// Summary is a device in a device list.
type Summary struct {
	ID              string
	Board           string
	Powered         bool
	BatteryPermille int
	Containers      []ContainerBrief
	Denied          uint64
	Updating        bool
	UpdateDone      uint64
	UpdateTotal     uint64
	LastResult      int // last SUIT result code
	Updates         int
	InFlash         []string // while off: the containers flash keeps
	// Remote is "" for the lab's own devices; for a device attached from
	// elsewhere (real time, outside the virtual clock) it says "live" or
	// "unreachable since 15:04:05".
	Remote string
}

// Summary describes the device for a list.
func (d *Device) Summary() Summary {
	s := Summary{
		ID: d.cfg.ID, Board: d.cfg.Board.Name, Powered: d.on, BatteryPermille: d.BatteryPermille(),
		Updating: d.update != nil, UpdateDone: d.suitStatus.Done, UpdateTotal: d.suitStatus.Total,
		LastResult: d.suitStatus.Last.Code, Updates: d.suitStatus.Updates, InFlash: slices.Clone(d.inFlash),
	}
	for _, c := range d.slots {
		if c == nil {
			continue
		}
		b := ContainerBrief{UID: c.UID, State: c.State, Runtime: c.Runtime(), LastBeat: -1, Watched: c.watched(), Denied: c.d.fw.Totals(c.UID).Denied}
		if c.heartbeats > 0 {
			b.LastBeat = c.lastHB
		}
		s.Denied += b.Denied
		s.Containers = append(s.Containers, b)
	}
	return s
}

// SetLimits changes a container's extra limits (its energy budget), now and
// for later installs of that uid.
func (d *Device) SetLimits(uid string, l ExtraLimits) {
	if d.cfg.Limits == nil {
		d.cfg.Limits = map[string]ExtraLimits{}
	}
	d.cfg.Limits[uid] = l
	if c := d.container(uid); c != nil {
		c.limits = l
	}
}
