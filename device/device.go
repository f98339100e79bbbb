package device

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"tinylab/device/coapnet"
	"tinylab/firewall"
	"tinylab/suit"
)

// Config is everything a device is built from. Zero values take the defaults
// noted on each field.
type Config struct {
	ID    string
	Board Board
	Seed  uint64 // all of the device's randomness derives from it
	Peers []PeerSpec

	// Owners are the keys that may issue container tokens (the device owner).
	Owners []ed25519.PublicKey
	// UpstreamSigning accepts tokens signed TinyContainer-demo style (over the
	// raw claims rather than the COSE Sig_structure). Every acceptance says so.
	UpstreamSigning bool
	// Trust are the SUIT manifest signers the device accepts.
	Trust []suit.PublicKey
	// SeqPerContainer gives each container its own SUIT sequence number
	// (the RAM slots share one). RIOT keeps one per device: a manifest must
	// be above the highest stored in any storage (suit_storage_get_highest_seq_no),
	// and that is the default. Every check says which numbering it used.
	SeqPerContainer bool

	Store      Store // nil: an in-process store (survives power cuts only)
	PersistRAM bool  // keep RIOT's RAM slots across power cuts (a state folder)

	Watchdog Watchdog
	Restart  RestartPolicy
	CPU      CPUModel    // zero: DefaultCPU
	Energy   EnergyModel // zero: DefaultEnergy
	// BranchBudget caps taken branches per hook run (femto-containers' branch
	// budget). 0: 100,000.
	BranchBudget int64
	// CallsPerLoop caps the helper calls of one loop (firewall budget). 0: 256.
	CallsPerLoop uint32
	// Limits adds per-container limits the metadata does not carry, by uid.
	Limits map[string]ExtraLimits
	// Resolve maps the hosts of update URIs to addresses (nil: the system
	// resolver); the lab names its repository so transcripts repeat.
	Resolve coapnet.Resolver
	// ResolveInWorld says Resolve never blocks (the lab's own names, IP
	// addresses): updates resolve in the world, deterministically, instead
	// of off it.
	ResolveInWorld bool
	// Access is who may manage the device (access.go, device/authz).
	Access Access
	// Remotes maps remote endpoint ids (peer_endpoint of a remote peer) to
	// the CoAP resource a container's writes are POSTed to (remote.go).
	Remotes map[uint32]string
	// BlockSize is the CoAP block size for SUIT fetches. 0: 64 bytes, RIOT's
	// CONFIG_SUIT_COAP_BLOCKSIZE default (one 802.15.4 frame per block).
	BlockSize int
	// Runtimes are the container runtimes of the firmware, by the container
	// type each runs. nil: BuiltinRuntimes.
	Runtimes map[firewall.RuntimeType]Runtime
	// PinRuntime builds the firmware with that one runtime, as upstream
	// builds are: containers of another type are refused. TypeUndefined:
	// every runtime in Runtimes.
	PinRuntime firewall.RuntimeType
}

// Watchdog configures the heartbeat watchdog (DESIGN §3).
type Watchdog struct {
	TimeoutPeriods int // heartbeat timeout in loop periods; 0: 3
	MaxMissed      int // consecutive misses before the container is stopped; 0: 3
}

// RestartPolicy says what the agent does with a FAILED container.
type RestartPolicy struct {
	OnFailure   bool          // restart after a failure
	Backoff     time.Duration // first delay; doubles each time. 0: 1 s
	MaxBackoff  time.Duration // 0: 30 s
	MaxRestarts int           // 0: unlimited
}

// ExtraLimits are limits beyond the metadata's timing array.
type ExtraLimits struct {
	// EnergyUJ caps the energy a container may spend per EnergyWindow, in
	// microjoules (0: no cap): the defence against "denial of sustainability".
	EnergyUJ     int64
	EnergyWindow time.Duration // 0: one minute
}

// Device is one virtual board.
type Device struct {
	cfg Config
	env Env

	seq     uint64 // events emitted
	on      bool
	boots   int
	rng     *rand.Rand
	peers   []*Peer
	fw      *firewall.Firewall
	slots   []*Container // by slot index; nil is an empty slot
	ramSlot [2][]byte    // RIOT's .ram.0 and .ram.1
	globals map[uint32]uint32

	usedPJ      int64         // energy spent working (CPU, radio) since the battery was full
	idlePJ      int64         // idle energy of the power cycles before this one
	onSince     time.Duration // when the device last powered on
	lastPercent int           // battery state last reported, in tenths of a percent

	update     *updateRun        // the update in progress, if any
	seqs       map[string]uint64 // stored SUIT sequence numbers, by namespace
	suitStatus SuitStatus        // what /suit/status reports
	// installing collects the containers an update installs, started only
	// once the update is committed (its sequence number stored)
	installing *[]string
	link       Link
	net        Net
	observers  observers
	devID      string // set through /device-id/
	refusals   uint64 // requests refused for their party
	remotes    map[uint32]*remote
	inFlash    []string // while off: the containers flash keeps, by uid
}

// New builds a device in env from cfg, powered off. Call PowerOn to boot it.
func New(cfg Config, env Env) (*Device, error) {
	if cfg.ID == "" {
		return nil, fmt.Errorf("device: an id is required")
	}
	if cfg.Board.Name == "" {
		b, err := LookupBoard(DefaultBoard)
		if err != nil {
			return nil, err
		}
		cfg.Board = b
	}
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.CPU == (CPUModel{}) {
		cfg.CPU = DefaultCPU
	}
	if cfg.Energy == (EnergyModel{}) {
		cfg.Energy = DefaultEnergy
	}
	if cfg.Watchdog.TimeoutPeriods <= 0 {
		cfg.Watchdog.TimeoutPeriods = 3
	}
	if cfg.Watchdog.MaxMissed <= 0 {
		cfg.Watchdog.MaxMissed = 3
	}
	if cfg.Restart.Backoff <= 0 {
		cfg.Restart.Backoff = time.Second
	}
	if cfg.Restart.MaxBackoff <= 0 {
		cfg.Restart.MaxBackoff = 30 * time.Second
	}
	if cfg.BranchBudget <= 0 {
		cfg.BranchBudget = 100_000
	}
	if cfg.CallsPerLoop == 0 {
		cfg.CallsPerLoop = 256
	}
	if cfg.Resolve == nil {
		cfg.Resolve = coapnet.SystemResolver
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = 64
	}
	if cfg.Runtimes == nil {
		cfg.Runtimes = BuiltinRuntimes()
	}
	if _, ok := cfg.Runtimes[cfg.PinRuntime]; !ok && cfg.PinRuntime != firewall.TypeUndefined {
		return nil, fmt.Errorf("device %s: pinned to the %s runtime: %w", cfg.ID, cfg.PinRuntime, &RuntimeError{Type: cfg.PinRuntime})
	}
	ids := map[uint32]bool{}
	for _, p := range cfg.Peers {
		if ids[p.ID] {
			return nil, fmt.Errorf("device %s: two peers with id %d", cfg.ID, p.ID)
		}
		ids[p.ID] = true
	}
	d := &Device{
		cfg:     cfg,
		env:     env,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x7469_6e79_6c61_62)),
		slots:   make([]*Container, cfg.Board.Slots),
		globals: map[uint32]uint32{},
	}
	for _, spec := range cfg.Peers {
		d.peers = append(d.peers, newPeer(spec, cfg.Seed))
	}
	slices.SortFunc(d.peers, func(a, b *Peer) int { return int(a.Spec.ID) - int(b.Spec.ID) })
	d.fw = firewall.New(firewall.Options{
		CallsPerLoop: cfg.CallsPerLoop,
		PeerRunning:  d.peerRunning,
		OnDeny:       d.onDeny,
	})
	d.lastPercent = 1000
	if err := d.loadSequences(); err != nil {
		return nil, fmt.Errorf("device %s: %w", cfg.ID, err)
	}
	return d, nil
}

// ID is the device's name.
func (d *Device) ID() string { return d.cfg.ID }

// Board is the device's board profile.
func (d *Device) Board() Board { return d.cfg.Board }

// Boots is how many times the device has booted.
func (d *Device) Boots() int { return d.boots }

// Powered reports whether the device is on.
func (d *Device) Powered() bool { return d.on }

// emit stamps a payload and hands it to the lab.
func (d *Device) emit(p Payload) {
	d.seq++
	d.env.Emit(Event{At: d.env.Now(), Device: d.cfg.ID, Seq: d.seq, Data: p})
	d.observers.notify(d, p)
}

func (d *Device) onDeny(dec firewall.Decision) {
	target := ""
	switch dec.Call {
	case firewall.CallOpen:
		target = fmt.Sprintf("endpoint %d", dec.Endpoint)
	case firewall.CallRead, firewall.CallWrite, firewall.CallClose:
		target = fmt.Sprintf("fd %d", dec.FD)
		if dec.Endpoint != 0 {
			target += fmt.Sprintf(" (endpoint %d)", dec.Endpoint)
		}
	}
	d.emit(Denied{Container: dec.Container, Call: dec.Call.String(), Target: target, Reason: dec.Reason.String(), Detail: dec.Detail, Args: dec.Args})
}

// Peer returns the local peer with the given name.
func (d *Device) Peer(name string) (*Peer, bool) {
	for _, p := range d.peers {
		if p.Spec.Name == name {
			return p, true
		}
	}
	return nil, false
}

func (d *Device) peerByID(id uint32) (*Peer, bool) {
	for _, p := range d.peers {
		if p.Spec.ID == id {
			return p, true
		}
	}
	return nil, false
}

// SetSensor gives a sensor a value from now on (a scripted step or a tester).
func (d *Device) SetSensor(name string, v float64) error {
	p, ok := d.Peer(name)
	if !ok {
		return fmt.Errorf("%w %q on %s", ErrUnknownSensor, name, d.cfg.ID)
	}
	if p.Spec.Class.IsActuator() {
		return fmt.Errorf("%s on %s is an actuator (%s), not a sensor", name, d.cfg.ID, p.Spec.Class)
	}
	p.Set(d.env.Now(), v)
	d.emit(SensorChange{Sensor: name, Value: v})
	return nil
}

// spentPJ is all the energy spent so far: the work charged as it happens,
// and the idle current over the whole time powered, computed from the time
// itself so that no reading (a snapshot, a frame) changes the total.
func (d *Device) spentPJ() int64 {
	idle := d.idlePJ
	if d.on {
		idle += d.cfg.Energy.SleepPJ(d.env.Now() - d.onSince)
	}
	return d.usedPJ + idle
}

// charge adds energy spent by the device (or one of its containers) and
// reports the battery each time it crosses a whole percent, so the log stays
// readable; an empty battery switches the device off.
func (d *Device) charge(pj int64) {
	d.usedPJ += pj
	pm := d.BatteryPermille()
	if pm/10 < d.lastPercent/10 {
		d.lastPercent = pm
		d.emit(Energy{BatteryPermille: pm, UsedMicroJoule: d.spentPJ() / 1_000_000})
	}
	if pm == 0 && d.on {
		d.powerOff("battery empty")
	}
}

// BatteryPermille is the state of charge in tenths of a percent, rounded
// up: a full battery reads 100.0% until a tenth of a percent is spent.
func (d *Device) BatteryPermille() int {
	capPJ, spent := d.cfg.Energy.CapacityPJ(), d.spentPJ()
	if capPJ <= 0 || spent >= capPJ {
		return 0
	}
	left := capPJ - spent
	return int((left*1000 + capPJ - 1) / capPJ)
}

// UsedMicroJoule is the energy spent since the battery was full.
func (d *Device) UsedMicroJoule() int64 { return d.spentPJ() / 1_000_000 }
