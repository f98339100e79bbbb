package device

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Class is the SAUL-like type of a local peer (a sensor or an actuator).
type Class uint8

const (
	ClassTemperature Class = iota + 1
	ClassHumidity
	ClassOrientation
	ClassHeartRate
	ClassCounter
	ClassButton
	ClassRSSI
	ClassDisplay
	ClassLock
	ClassLED
)

// classInfo is what tinylab knows of each class: its name, whether it is an
// actuator, its unit, and the fixed-point scale of the value containers read
// (value = reading * 10^-scale), as SAUL's phydat does.
var classInfo = map[Class]struct {
	name     string
	actuator bool
	unit     string
	scale    int // decimal digits kept in the integer a container reads
	saul     uint8
}{
	ClassTemperature: {"temperature", false, "°C", 2, 0x82},
	ClassHumidity:    {"humidity", false, "%", 2, 0x83},
	ClassOrientation: {"orientation", false, "°", 0, 0x84},
	ClassHeartRate:   {"heart-rate", false, "bpm", 0, 0x9f},
	ClassCounter:     {"counter", false, "", 0, 0x9e},
	ClassButton:      {"button", false, "", 0, 0x81},
	ClassRSSI:        {"rssi", false, "dBm", 0, 0x9d},
	ClassDisplay:     {"display", true, "", 0, 0x4c},
	ClassLock:        {"lock", true, "", 0, 0x4d},
	ClassLED:         {"led", true, "", 0, 0x41},
}

func (c Class) String() string {
	if i, ok := classInfo[c]; ok {
		return i.name
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// IsActuator reports whether containers write to peers of this class.
func (c Class) IsActuator() bool { return classInfo[c].actuator }

// Unit is the physical unit of the class's values.
func (c Class) Unit() string { return classInfo[c].unit }

// Scale is the number of decimal digits kept in the integer containers read.
func (c Class) Scale() int { return classInfo[c].scale }

// SAULType is the class's RIOT SAUL device type byte (SAUL_SENSE_* / SAUL_ACT_*).
func (c Class) SAULType() uint8 { return classInfo[c].saul }

// ParseClass reads a class name; a few common short names are accepted too.
func ParseClass(name string) (Class, error) {
	aliases := map[string]string{"temp": "temperature", "hr": "heart-rate", "heartrate": "heart-rate",
		"hum": "humidity", "accel": "orientation", "reps": "counter", "radio": "rssi", "signature": "button"}
	if a, ok := aliases[name]; ok {
		name = a
	}
	for c, i := range classInfo {
		if i.name == name {
			return c, nil
		}
	}
	names := make([]string, 0, len(classInfo))
	for _, i := range classInfo {
		names = append(names, i.name)
	}
	slices.Sort(names)
	return 0, fmt.Errorf("unknown peer class %q (known: %s)", name, strings.Join(names, ", "))
}

// ModelKind is how a sensor's value evolves.
type ModelKind uint8

const (
	// ModelScript holds a value until a scenario or a tester sets another.
	ModelScript ModelKind = iota
	// ModelWalk is a seeded random walk within [Min, Max], one step a second.
	ModelWalk
	// ModelCounter counts up by Step every second (repetitions, pulses).
	ModelCounter
)

var modelNames = [...]string{"script", "walk", "counter"}

func (m ModelKind) String() string {
	if int(m) < len(modelNames) {
		return modelNames[m]
	}
	return "model(" + strconv.Itoa(int(m)) + ")"
}

// ParseModel reads a model name.
func ParseModel(name string) (ModelKind, error) {
	for i, n := range modelNames {
		if n == name {
			return ModelKind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown sensor model %q (known: %s)", name, strings.Join(modelNames[:], ", "))
}

// PeerSpec describes a local peer as a scenario or a flag declares it.
type PeerSpec struct {
	ID    uint32 // the peer endpoint id containers' metadata refers to
	Name  string
	Class Class
	Model ModelKind
	Start float64 // initial value
	Min   float64 // walk bounds
	Max   float64
	Step  float64 // largest walk step, or counter increment, per second
}

// Peer is a sensor or actuator on the board. Its value is a pure function of
// the seed and the virtual time (plus what was set), so runs repeat exactly
// whatever the order and number of reads.
type Peer struct {
	Spec  PeerSpec
	value float64
	// asOf is the virtual second up to which the model has been advanced.
	asOf time.Duration
	rng  *rand.Rand
	// Text is what an actuator last received (display text, "locked").
	Text string
}

const modelTick = time.Second

func newPeer(spec PeerSpec, seed uint64) *Peer {
	if spec.Model == ModelWalk && spec.Max <= spec.Min {
		spec.Max = spec.Min
	}
	start := spec.Start
	if spec.Model == ModelWalk && (start < spec.Min || start > spec.Max) {
		start = (spec.Min + spec.Max) / 2
	}
	return &Peer{Spec: spec, value: start, rng: rand.New(rand.NewPCG(seed, uint64(spec.ID)))}
}

// advance moves the model to virtual time now, one tick at a time.
func (p *Peer) advance(now time.Duration) {
	for p.asOf+modelTick <= now {
		p.asOf += modelTick
		switch p.Spec.Model {
		case ModelWalk:
			step := p.Spec.Step
			if step == 0 {
				step = (p.Spec.Max - p.Spec.Min) / 20
			}
			p.value += (p.rng.Float64()*2 - 1) * step
			p.value = math.Min(p.Spec.Max, math.Max(p.Spec.Min, p.value))
		case ModelCounter:
			step := p.Spec.Step
			if step == 0 {
				step = 1
			}
			p.value += step
		}
	}
}

// Value is the peer's value at virtual time now.
func (p *Peer) Value(now time.Duration) float64 {
	p.advance(now)
	return p.value
}

// Set gives the peer a value from now on (a scripted step); models keep
// evolving from it.
func (p *Peer) Set(now time.Duration, v float64) {
	p.advance(now)
	p.value = v
}

// Fixed is the value as the integer a container reads: scaled by 10^Scale and rounded.
func (p *Peer) Fixed(now time.Duration) int32 {
	v := p.Value(now) * math.Pow10(p.Spec.Class.Scale())
	return int32(math.Max(math.MinInt32, math.Min(math.MaxInt32, math.Round(v))))
}

// FormatValue writes the value with its unit, for panes and logs.
func (p *Peer) FormatValue(now time.Duration) string {
	if p.Spec.Class.IsActuator() {
		if p.Text == "" {
			return "-"
		}
		return p.Text
	}
	v := strconv.FormatFloat(p.Value(now), 'f', p.Spec.Class.Scale(), 64)
	if u := p.Spec.Class.Unit(); u != "" {
		return v + " " + u
	}
	return v
}
