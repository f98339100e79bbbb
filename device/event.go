package device

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Event is one thing that happened on a device, stamped with the virtual time
// and a per-device sequence number. Everything the audience should see is an
// event; the lab's transcript is the stream of them.
type Event struct {
	At     time.Duration // virtual time since the lab started
	Device string
	Seq    uint64 // per device, from 1; orders events of one device at one instant
	Data   Payload
}

// Payload is the typed content of an event.
type Payload interface {
	Kind() Kind
	// String is one readable line in the style of RIOT's console.
	String() string
}

// Kind names what an event is about; the transcript and the UI's filter use it.
type Kind uint8

const (
	KindBoot Kind = iota + 1
	KindPower
	KindState
	KindHeartbeat
	KindMissedHeartbeat
	KindDenied
	KindFault
	KindBudget
	KindSuitStep
	KindSuitProgress
	KindSuitResult
	KindLog
	KindEnergy
	KindCoAP
	KindSensor
	KindActuator
	KindUpdate
)

// kinds gives each kind its transcript name and the decoder of its payload.
var kinds = map[Kind]kindInfo{
	KindBoot:            {"boot", decode[Boot]},
	KindPower:           {"power", decode[Power]},
	KindState:           {"state", decode[StateChange]},
	KindHeartbeat:       {"heartbeat", decode[Heartbeat]},
	KindMissedHeartbeat: {"heartbeat-missed", decode[MissedHeartbeat]},
	KindDenied:          {"denied", decode[Denied]},
	KindFault:           {"fault", decode[Fault]},
	KindBudget:          {"budget", decode[BudgetExceeded]},
	KindSuitStep:        {"suit-step", decode[SuitStep]},
	KindSuitProgress:    {"suit-progress", decode[SuitProgress]},
	KindSuitResult:      {"suit-result", decode[SuitResult]},
	KindLog:             {"log", decode[Log]},
	KindEnergy:          {"energy", decode[Energy]},
	KindCoAP:            {"coap", decode[CoAP]},
	KindSensor:          {"sensor", decode[SensorChange]},
	KindActuator:        {"actuator", decode[Actuator]},
	KindUpdate:          {"update", decode[Update]},
}

type kindInfo struct {
	name   string
	decode func([]byte) (Payload, error)
}

// RegisterKind adds an event kind defined outside the device, such as the
// lab's scenario steps, so that transcripts carrying it decode again. It is
// meant for package initialization; the name must be new.
func RegisterKind[T Payload](name string) Kind {
	for _, info := range kinds {
		if info.name == name {
			panic("device: event kind " + name + " registered twice")
		}
	}
	k := Kind(len(kinds) + 1)
	kinds[k] = kindInfo{name, decode[T]}
	return k
}

func decode[T Payload](b []byte) (Payload, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

func (k Kind) String() string {
	if info, ok := kinds[k]; ok {
		return info.name
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind reads a kind name as String writes it.
func ParseKind(name string) (Kind, bool) {
	for k, info := range kinds {
		if info.name == name {
			return k, true
		}
	}
	return 0, false
}

// Kinds lists every kind in order.
func Kinds() []Kind {
	ks := make([]Kind, 0, len(kinds))
	for k := KindBoot; int(k) <= len(kinds); k++ {
		ks = append(ks, k)
	}
	return ks
}

// Boot: the device started (power on, reboot after a power cut).
type Boot struct {
	Board  string `json:"board"`
	Reason string `json:"reason"`
}

// Power: the power was cut or restored.
type Power struct {
	On     bool   `json:"on"`
	Reason string `json:"reason,omitempty"`
}

// StateChange: a container moved from one lifecycle state to another.
type StateChange struct {
	Container string `json:"container"`
	From      State  `json:"from"`
	To        State  `json:"to"`
	Reason    string `json:"reason"`
}

// Heartbeat: a running container called heartbeat.
type Heartbeat struct {
	Container string        `json:"container"`
	Interval  time.Duration `json:"interval_ns"` // since the previous one (0 for the first)
}

// MissedHeartbeat: the watchdog found no heartbeat within the timeout.
type MissedHeartbeat struct {
	Container string `json:"container"`
	Missed    int    `json:"missed"`
	Max       int    `json:"max"`
}

// Denied: the firewall refused a call.
type Denied struct {
	Container string    `json:"container"`
	Call      string    `json:"call"`
	Target    string    `json:"target,omitempty"` // "endpoint 7", "fd 3 (endpoint 2)"
	Reason    string    `json:"reason"`           // the firewall's reason name: "not-granted"
	Detail    string    `json:"detail,omitempty"` // what was compared
	Args      [5]uint64 `json:"args"`
}

// Fault: the runtime stopped a container's hook with an error. Where names
// the instruction: PC for eBPF (-1 when none), Function and Offset for
// WebAssembly.
type Fault struct {
	Container string `json:"container"`
	Hook      string `json:"hook"`
	Code      string `json:"code"`
	PC        int    `json:"pc"`
	Function  string `json:"function,omitempty"`
	Offset    int    `json:"offset,omitempty"`
	Message   string `json:"message"`
}

// BudgetExceeded: a container went over one of its limits.
type BudgetExceeded struct {
	Container string `json:"container"`
	Limit     string `json:"limit"`
	Value     int64  `json:"value"`
	Max       int64  `json:"max"`
	Unit      string `json:"unit"`
}

// SuitStep: one check or action of the SUIT procedure.
type SuitStep struct {
	Step      string `json:"step"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	Component string `json:"component,omitempty"`
	Code      int    `json:"code,omitempty"`
}

// SuitProgress: bytes of a payload fetched so far.
type SuitProgress struct {
	URI   string `json:"uri"`
	Done  uint64 `json:"done"`
	Total uint64 `json:"total"`
}

// SuitResult: the end of an update.
type SuitResult struct {
	Code    int    `json:"code"`
	Result  string `json:"result"`
	Seq     uint64 `json:"seq_no"`
	Message string `json:"message,omitempty"`
}

// Log: a container printed a line.
type Log struct {
	Container string `json:"container"`
	Text      string `json:"text"`
}

// Energy: the battery's state of charge crossed a whole percent.
type Energy struct {
	BatteryPermille int   `json:"battery_permille"`
	UsedMicroJoule  int64 `json:"used_uj"`
}

// CoAP: a request the device answered or sent.
type CoAP struct {
	Dir    string `json:"dir"` // "in" answered, "out" sent
	Method string `json:"method"`
	Path   string `json:"path"`
	Code   string `json:"code"`
	Peer   string `json:"peer,omitempty"`
	Bytes  int    `json:"bytes"`
}

// SensorChange: a scenario or a tester set a sensor's value.
type SensorChange struct {
	Sensor string  `json:"sensor"`
	Value  float64 `json:"value"`
}

// Actuator: a container wrote to an actuator (display text, lock, LED).
type Actuator struct {
	Container string `json:"container"`
	Peer      string `json:"peer"`
	Text      string `json:"text"`
}

// Update: the agent's view of an update of a container (started, rejected,
// kept the old version), beside the SUIT steps themselves.
type Update struct {
	Container string `json:"container"`
	Status    string `json:"status"`
	Detail    string `json:"detail,omitempty"`
}

func (Boot) Kind() Kind            { return KindBoot }
func (Power) Kind() Kind           { return KindPower }
func (StateChange) Kind() Kind     { return KindState }
func (Heartbeat) Kind() Kind       { return KindHeartbeat }
func (MissedHeartbeat) Kind() Kind { return KindMissedHeartbeat }
func (Denied) Kind() Kind          { return KindDenied }
func (Fault) Kind() Kind           { return KindFault }
func (BudgetExceeded) Kind() Kind  { return KindBudget }
func (SuitStep) Kind() Kind        { return KindSuitStep }
func (SuitProgress) Kind() Kind    { return KindSuitProgress }
func (SuitResult) Kind() Kind      { return KindSuitResult }
func (Log) Kind() Kind             { return KindLog }
func (Energy) Kind() Kind          { return KindEnergy }
func (CoAP) Kind() Kind            { return KindCoAP }
func (SensorChange) Kind() Kind    { return KindSensor }
func (Actuator) Kind() Kind        { return KindActuator }
func (Update) Kind() Kind          { return KindUpdate }

func (e Boot) String() string { return fmt.Sprintf("boot: %s (%s)", e.Board, e.Reason) }
func (e Power) String() string {
	if e.On {
		return "power restored"
	}
	if e.Reason != "" {
		return "power cut (" + e.Reason + ")"
	}
	return "power cut"
}
func (e StateChange) String() string {
	return fmt.Sprintf("container %s: %s -> %s (%s)", e.Container, e.From, e.To, e.Reason)
}
func (e Heartbeat) String() string {
	if e.Interval == 0 {
		return "container " + e.Container + ": heartbeat"
	}
	// a fleet prints a million of these: strconv, not fmt (same bytes as %.3f)
	b := make([]byte, 0, 32+len(e.Container))
	b = append(b, "container "...)
	b = append(b, e.Container...)
	b = append(b, ": heartbeat (+"...)
	b = strconv.AppendFloat(b, e.Interval.Seconds(), 'f', 3, 64)
	return string(append(b, " s)"...))
}
func (e MissedHeartbeat) String() string {
	return fmt.Sprintf("watchdog: %s missed its heartbeat (%d of %d)", e.Container, e.Missed, e.Max)
}
func (e Denied) String() string {
	s := "denied: " + e.Container + " " + e.Call
	if e.Target != "" {
		s += " " + e.Target
	}
	s += " (" + strings.ReplaceAll(e.Reason, "-", " ")
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s + ")"
}
func (e Fault) String() string {
	return fmt.Sprintf("vm fault: %s %s(): %s", e.Container, e.Hook, e.Message)
}
func (e BudgetExceeded) String() string {
	if e.Unit == "µs" {
		v, m := time.Duration(e.Value)*time.Microsecond, time.Duration(e.Max)*time.Microsecond
		return fmt.Sprintf("limit: %s exceeded %s: %s > %s", e.Container, e.Limit, v, m)
	}
	return fmt.Sprintf("limit: %s exceeded %s: %d %s > %d %s", e.Container, e.Limit, e.Value, e.Unit, e.Max, e.Unit)
}

// String is the message in RIOT's own console wording ("suit: verifying
// manifest signature", "Manifest seq_no: 2, highest available: 1").
func (e SuitStep) String() string {
	if e.Message != "" {
		return e.Message
	}
	return "suit: " + e.Step + " " + e.Status
}
func (e SuitProgress) String() string {
	pct := uint64(0)
	if e.Total > 0 {
		pct = e.Done * 100 / e.Total
	}
	return fmt.Sprintf("suit: fetching %s %d/%d bytes (%d%%)", e.URI, e.Done, e.Total, pct)
}
func (e SuitResult) String() string {
	if e.Code == 0 {
		return fmt.Sprintf("suit: install OK (seq %d)", e.Seq)
	}
	s := fmt.Sprintf("suit: update failed: %s (%d)", e.Result, e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}
func (e Log) String() string { return e.Container + ": " + e.Text }
func (e Energy) String() string {
	return fmt.Sprintf("battery %d.%d%% (%d mJ used)", e.BatteryPermille/10, e.BatteryPermille%10, e.UsedMicroJoule/1000)
}
func (e CoAP) String() string {
	s := fmt.Sprintf("coap %s %s %s -> %s", e.Dir, e.Method, e.Path, e.Code)
	if e.Peer != "" {
		s += " (" + e.Peer + ")"
	}
	return s
}
func (e SensorChange) String() string {
	return fmt.Sprintf("sensor %s set to %s", e.Sensor, strconv.FormatFloat(e.Value, 'f', -1, 64))
}
func (e Actuator) String() string { return fmt.Sprintf("%s -> %s: %s", e.Container, e.Peer, e.Text) }
func (e Update) String() string {
	s := "update " + e.Container + ": " + e.Status
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// ContainerOf names the container an event is about, or "" when it is about
// the whole board. It is the one place that knows which payloads name one.
func ContainerOf(p Payload) string {
	switch p := p.(type) {
	case StateChange:
		return p.Container
	case Heartbeat:
		return p.Container
	case MissedHeartbeat:
		return p.Container
	case Denied:
		return p.Container
	case Fault:
		return p.Container
	case BudgetExceeded:
		return p.Container
	case Log:
		return p.Container
	case Actuator:
		return p.Container
	case Update:
		return p.Container
	case Refused:
		return p.Container
	}
	return ""
}

// String is the event as one console line: virtual time, device, content.
func (e Event) String() string {
	data := e.Data.String()
	b := make([]byte, 0, 12+len(e.Device)+len(data))
	b = appendDuration(b, e.At)
	b = append(b, ' ')
	b = append(b, e.Device...)
	b = append(b, ' ')
	return string(append(b, data...))
}

// FormatDuration writes a virtual time as mm:ss.mmm (hh:mm:ss.mmm past an hour).
func FormatDuration(d time.Duration) string { return string(appendDuration(nil, d)) }

func appendDuration(b []byte, d time.Duration) []byte {
	ms := int64(d / time.Millisecond)
	if ms < 0 {
		// -ms of the most negative duration still fits: ms > MinInt64 / 1e6
		b = append(b, '-')
		ms = -ms
	}
	h, m, s, frac := ms/3600000, ms/60000%60, ms/1000%60, ms%1000
	if h > 0 {
		b = appendPadded(b, h, 2)
		b = append(b, ':')
	}
	b = appendPadded(b, m, 2)
	b = append(b, ':')
	b = appendPadded(b, s, 2)
	b = append(b, '.')
	return appendPadded(b, frac, 3)
}

// appendPadded appends v (>= 0) in decimal, zero-padded to width, as %0*d.
func appendPadded(b []byte, v int64, width int) []byte {
	for n, x := 1, v; n < width; n++ {
		if x /= 10; x == 0 {
			b = append(b, '0')
		}
	}
	return strconv.AppendInt(b, v, 10)
}

// MarshalJSON writes an event as one flat object: the envelope fields first,
// then the payload's, so transcripts are byte-identical run to run.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"t_ms":`)
	b.WriteString(strconv.FormatFloat(float64(e.At)/float64(time.Millisecond), 'f', -1, 64))
	b.WriteString(`,"device":`)
	dev, _ := json.Marshal(e.Device)
	b.Write(dev)
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.FormatUint(e.Seq, 10))
	if e.Data == nil {
		b.WriteString("}")
		return b.Bytes(), nil
	}
	b.WriteString(`,"kind":"`)
	b.WriteString(e.Data.Kind().String())
	b.WriteString(`"`)
	p, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", e.Data.Kind(), err)
	}
	if len(p) > 2 { // not "{}"
		b.WriteByte(',')
		b.Write(p[1 : len(p)-1])
	}
	b.WriteString("}")
	return b.Bytes(), nil
}

// maxEventMs bounds the virtual time an event may carry: a century.
const maxEventMs = 100 * 365 * 24 * 3600 * 1000

// UnmarshalJSON reads what MarshalJSON wrote, giving back the typed payload.
func (e *Event) UnmarshalJSON(data []byte) error {
	var env struct {
		TMs    float64 `json:"t_ms"`
		Device string  `json:"device"`
		Seq    uint64  `json:"seq"`
		Kind   string  `json:"kind"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if math.IsNaN(env.TMs) || math.Abs(env.TMs) > maxEventMs {
		return fmt.Errorf("event: time %v ms out of range", env.TMs)
	}
	k, ok := ParseKind(env.Kind)
	if !ok {
		return fmt.Errorf("event: %w %q", ErrUnknownKind, env.Kind)
	}
	p, err := kinds[k].decode(data)
	if err != nil {
		return fmt.Errorf("event %s: %w", env.Kind, err)
	}
	*e = Event{
		At:     time.Duration(env.TMs * float64(time.Millisecond)),
		Device: env.Device,
		Seq:    env.Seq,
		Data:   p,
	}
	return nil
}

// UnmarshalText reads a state name, for transcripts.
func (s *State) UnmarshalText(b []byte) error {
	v, ok := ParseState(string(b))
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownState, b)
	}
	*s = v
	return nil
}
