package scenarios

import (
	"fmt"
	"io/fs"
	"time"

	"tinylab/firewall"
)

// Pos is where something was written in a scenario file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a mistake in a scenario file, at a position.
type Error struct {
	Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Scenario is a parsed scenario file.
type Scenario struct {
	Pos
	Name       string
	Title      string
	Summary    string // one line for `tinylab scenarios`
	Seed       uint64
	Owner      string
	Tenants    []string
	Maintainer string
	Remotes    map[uint32]string // remote endpoint N -> the CoAP resource its writes go to
	Devices    []Device
	Containers []Container
	Steps      []Step
	Builtin    bool

	fsys fs.FS // where container sources are, relative to the scenario
	dir  string
}

// Device is a device or, with Count, a fleet of identical devices named
// ID-1 ... ID-N.
type Device struct {
	Pos
	ID         string
	Board      string
	Count      int
	BatteryMAh float64
	Peers      []Peer
	Restart    string // "none" or "on-failure"
	Backoff    time.Duration
	Install    []string             // containers loaded and started before the first step
	Runtime    firewall.RuntimeType // the firmware's one runtime; TypeUndefined: every one
}

// Peer is a sensor or actuator.
type Peer struct {
	Pos
	Name                  string
	Class                 string
	ID                    uint32
	Model                 string
	Start, Min, Max, Step float64
	Actuator              bool
}

// Container is a tenant's container.
type Container struct {
	Pos
	Name      string // the definition: update and load name it
	UID       string // the container's uid on devices (default Name); versions share it
	Tenant    string
	Source    string // .asm, .s, .c (with its .o beside), .o, .rbf or .bin
	Data      string
	Grants    []string
	Endpoints []Endpoint
	Limits    Limits

	fields map[string]Pos // where each field was written
}

// at is where a field of the container was written (the container itself
// when the field was not).
func (c *Container) at(field string) Pos {
	if p, ok := c.fields[field]; ok {
		return p
	}
	return c.Pos
}

// Endpoint is one of a container's endpoints.
type Endpoint struct {
	Pos
	ID   uint32
	Peer string // local:NAME, container:UID/EP, remote:N
	Dir  string // in, out, both
}

// Limits are a container's limits: the metadata's timing array and the
// device's energy budget.
type Limits struct {
	StartMaxMS, LoopPeriodMS, LoopMaxMS, Lifetime, StopMaxMS uint32
	EnergyUJPerMin                                           int64
}

// Step is one step of the story.
type Step struct {
	Pos
	Title  string
	Say    string   // what the presenter says
	Watch  string   // where the audience should look
	About  Subject  // the device (and container) the step is about: the UI shows it
	Do     []Action // performed in order at the step's start
	Wait   Wait
	Expect []Expect
}

// Subject is what a step is about: a device, and optionally a container
// of it by uid ("bench-1/coach" or "bench-1").
type Subject struct {
	Pos
	Device, Container string
}

func (s Subject) String() string {
	if s.Container == "" {
		return s.Device
	}
	return s.Device + "/" + s.Container
}

// Action is one command of the lab's command line, as written or as built
// from a structured action.
type Action struct {
	Pos
	Line string
}

// Wait is how long a step lasts: a time, or until an expectation holds
// (within a timeout).
type Wait struct {
	Pos
	For     time.Duration
	Until   *Expect
	Timeout time.Duration
}

// Expect is one expectation, checked at the end of the step.
type Expect struct {
	Pos
	Kind      string // state, containers, denied, update, battery, log, heartbeats, budget, fault, missed, actuator, powered, running
	Device    string
	Container string // uid on Device
	State     string
	Seq       *uint64 // with state: the SUIT sequence number that installed it
	Runtime   string  // with state: the runtime it runs on (bpf, wasm)
	Count     int
	Call      string
	Reason    string
	Result    string // SUIT result name
	Code      *int   // SUIT result code
	Above     *float64
	Below     *float64
	Contains  string
	Limit     string
	AtLeast   int
	On        *bool
	Peer      string
	Party     string // refused: who was refused ("mapco", "anyone", "tenant mapco")
	Rule      string // refused: the authority rule (own-containers, owner-only, ...)
	Not       bool   // the event must not have happened during the step
	Rollout   *RolloutExpect
}

// RolloutExpect is what a {rollout: {...}} expectation says of the latest
// campaign: its state, and counts in one wave (or all waves of the rollout
// when no wave is named). A count is exact, or N+ for at least N.
type RolloutExpect struct {
	State  string
	Wave   string // a wave's name (canary, wave 2, rollback) or ""
	Counts map[string]Count
}

// Count is an exact count or a lower bound.
type Count struct {
	N       int
	AtLeast bool
}

func (c Count) String() string {
	if c.AtLeast {
		return fmt.Sprintf("at least %d", c.N)
	}
	return fmt.Sprint(c.N)
}
