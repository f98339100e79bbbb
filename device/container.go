package device

import (
	"time"

	"tinylab/firewall"
)

// Container is one container slot's occupant: its parts as installed, its
// runtime instance, its lifecycle state and its live counters.
type Container struct {
	d    *Device
	Slot int
	UID  string

	State State
	Last  Transition // the last state change and its reason

	candidate // the checked parts as installed
	inst      Instance
	inHook    bool     // one of inst's hooks is running
	retired   Instance // finalized while its hook ran: finalize when it returns
	limits    ExtraLimits
	seq       uint64 // SUIT sequence number that installed it (0: loaded by hand)
	origin    string // how it arrived: "suit", "coap", "lab", "flash"
	tenant    string // the tenant that signed it; "" for the owner's
	autostart bool   // start after install, and again after a reboot

	// live
	loops      uint64
	heartbeats uint64
	lastHB     time.Duration
	hbSeen     bool
	missed     int
	intervals  [16]time.Duration // ring of recent heartbeat intervals
	// lastBeat is the last Heartbeat event, boxed: a container that beats
	// at a steady interval emits the same value every loop, and reusing the
	// box saves the one allocation its loop would otherwise make.
	lastBeat   Payload
	cpu        time.Duration // modelled CPU time, all hooks
	lastRun    time.Duration // modelled time of the last loop
	extra      time.Duration // helper time of the run in progress
	energyPJ   int64
	window     energyWindow
	restarts   int
	faults     int
	locals     map[uint32]uint32
	inbox      map[uint32][][]byte // per endpoint id: messages from peer containers
	nextLoop   time.Duration       // when the next loop() is due; periods do not drift
	loopTimer  Timer
	wdTimer    Timer
	restartTmr Timer
}

// Transition is one state change.
type Transition struct {
	From, To State
	Reason   string
	At       time.Duration
}

type energyWindow struct {
	start time.Duration
	pj    int64
}

// Runtime is the container's type, which picked its runtime.
func (c *Container) Runtime() firewall.RuntimeType { return c.meta.Container.Type }

// Timing is the container's timing limits, from its metadata.
func (c *Container) Timing() firewall.Timing { return c.meta.Security.Timing }

// period is the loop period.
func (c *Container) period() time.Duration {
	p := time.Duration(c.Timing().LoopPeriodMS) * time.Millisecond
	if p <= 0 {
		p = time.Second
	}
	return p
}

// heartbeatTimeout is how long the watchdog waits for a heartbeat.
func (c *Container) heartbeatTimeout() time.Duration {
	return time.Duration(c.d.cfg.Watchdog.TimeoutPeriods) * c.period()
}

// watched reports whether the watchdog expects heartbeats from this
// container: only when its verified mask lets it call heartbeat.
func (c *Container) watched() bool { return c.policy.Mask.Has(firewall.CallHeartbeat) }

// Size is the bytes the container takes in its slot (code + data).
func (c *Container) Size() int { return len(c.code) + len(c.data) }

// ramBytes is what the container takes of the board's RAM while installed:
// its runtime's share (stack, globals, data), plus the agent's bookkeeping.
func (c *Container) ramBytes() int {
	if c.mod == nil {
		return 0
	}
	return c.mod.RAM(c.data) + containerOverhead
}

// containerOverhead is the agent's RAM for one container: its thread stack
// and control block, as TinyContainer allocates one thread per container.
const containerOverhead = 1024
