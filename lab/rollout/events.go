package rollout

import (
	"fmt"
	"slices"
	"strconv"

	"tinylab/device"
)

// StepKind is what a campaign step did.
type StepKind uint8

const (
	StepStarted    StepKind = iota // the campaign was created
	StepWave                       // a wave's devices were triggered
	StepObserving                  // a wave has its outcomes; its window opened
	StepWaveDone                   // a wave's window closed without a halt
	StepHalted                     // a wave crossed the halt share
	StepResumed                    // the operator accepted a halted wave
	StepAborted                    // the operator stopped the campaign
	StepRetried                    // failed and offline devices were triggered again
	StepRollback                   // the previous version went out
	StepRolledBack                 // the rollback's wave has its outcomes and was watched
	StepCompleted                  // every wave went out and was watched
)

var stepNames = [...]string{"started", "wave", "observing", "wave-done", "halted", "resumed", "aborted", "retried", "rollback", "rolled-back", "completed"}

func (k StepKind) String() string {
	if int(k) < len(stepNames) {
		return stepNames[k]
	}
	return "step(" + strconv.Itoa(int(k)) + ")"
}

func (k StepKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
func (k *StepKind) UnmarshalText(b []byte) error {
	i := slices.Index(stepNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown rollout step %q", b)
	}
	*k = StepKind(i)
	return nil
}

// Step is one step of a campaign, in the transcript.
type Step struct {
	Campaign string   `json:"campaign"`
	What     StepKind `json:"what"`
	State    State    `json:"state"` // the campaign's state after the step
	Wave     int      `json:"wave,omitempty"`
	Name     string   `json:"name,omitempty"` // the wave's name
	Devices  int      `json:"devices,omitempty"`
	Failed   int      `json:"failed,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	// The plan, in the started step (and the rollback's release in its
	// step), so a replay can draw the campaign from the transcript alone.
	Plan *Plan `json:"plan,omitempty"`
}

// Plan is what a campaign sends where: its release, its targets (the
// pattern the devices matched and how many) and its waves' names and sizes.
type Plan struct {
	Release string     `json:"release"`
	Seq     uint64     `json:"seq"`
	From    string     `json:"from,omitempty"`
	To      string     `json:"to,omitempty"`
	HaltOn  Percent    `json:"halt_on"`
	Waves   []WavePlan `json:"waves,omitempty"`
}

// WavePlan is one wave of a Plan.
type WavePlan struct {
	Name    string  `json:"name"`
	Share   Percent `json:"share,omitempty"`
	Devices int     `json:"devices"`
}

// DeviceOutcome is a device of a campaign reaching an outcome (or being
// triggered again when it boots).
type DeviceOutcome struct {
	Campaign string      `json:"campaign"`
	Device   string      `json:"target"` // not "device": the transcript's envelope has that key
	Wave     int         `json:"wave"`
	State    DeviceState `json:"state"`
	Reason   string      `json:"reason,omitempty"`
}

// Kinds of the campaign's transcript records.
var (
	KindStep    = device.RegisterKind[Step]("rollout")
	KindOutcome = device.RegisterKind[DeviceOutcome]("rollout-device")
)

func (Step) Kind() device.Kind { return KindStep }
func (s Step) String() string {
	out := "rollout " + s.Campaign + ": "
	if s.Wave > 0 {
		out += fmt.Sprintf("%s (%d devices) ", s.Name, s.Devices)
	}
	out += s.What.String()
	if s.Detail != "" {
		out += ": " + s.Detail
	}
	return out
}

func (DeviceOutcome) Kind() device.Kind { return KindOutcome }
func (o DeviceOutcome) String() string {
	s := fmt.Sprintf("rollout %s: %s (wave %d) %s", o.Campaign, o.Device, o.Wave, o.State)
	if o.Reason != "" {
		s += ": " + o.Reason
	}
	return s
}
