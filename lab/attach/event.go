package attach

import (
	"fmt"

	"tinylab/device"
)

// Attached says a device is followed from now on.
type Attached struct {
	URI string `json:"uri"`
}

// Reachability is a device becoming live or unreachable.
type Reachability struct {
	Live   bool   `json:"live"`
	Board  string `json:"board,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ContainerReport is a container state an attached device reported.
type ContainerReport struct {
	Container string `json:"container"`
	From      string `json:"from,omitempty"` // "" when first seen
	To        string `json:"to"`
	Reason    string `json:"reason,omitempty"`
}

// SuitReport is a SUIT status an attached device reported.
type SuitReport struct {
	SeqNo  uint64 `json:"seq_no"`
	State  string `json:"state"`
	Code   int    `json:"code"`
	Result string `json:"result"`
}

// Transcript kinds of what attached devices report.
var (
	KindAttached     = device.RegisterKind[Attached]("attached")
	KindReachability = device.RegisterKind[Reachability]("reachability")
	KindContainer    = device.RegisterKind[ContainerReport]("remote-state")
	KindSuit         = device.RegisterKind[SuitReport]("remote-suit")
)

func (Attached) Kind() device.Kind        { return KindAttached }
func (Reachability) Kind() device.Kind    { return KindReachability }
func (ContainerReport) Kind() device.Kind { return KindContainer }
func (SuitReport) Kind() device.Kind      { return KindSuit }

func (a Attached) String() string { return "attached (live, real time): " + a.URI }

func (r Reachability) String() string {
	if r.Live {
		return "live: " + r.Board
	}
	return "unreachable: " + r.Reason
}

func (c ContainerReport) String() string {
	from := c.From
	if from == "" {
		from = "(seen)"
	}
	s := fmt.Sprintf("container %s: %s -> %s", c.Container, from, c.To)
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	return s
}

func (s SuitReport) String() string {
	return fmt.Sprintf("suit: %s, seq_no %d, last %s (%d)", s.State, s.SeqNo, s.Result, s.Code)
}
