package firewall

import (
	"fmt"
	"strings"
)

// Policy is what the firewall enforces for one installed container.
type Policy struct {
	Mask      Mask       // the verified syscall mask; 0 denies everything
	Endpoints []Endpoint // the container's endpoints, by its own ids
	// CallsPerLoop caps the calls the container may make between two
	// BeginLoop calls, granted or not (a flood of denied calls drains the
	// battery too); 0 takes Options.CallsPerLoop.
	CallsPerLoop uint32
}

// NewPolicy derives a policy from decoded metadata and its verification
// report. The mask is the verified one only when every token holds:
// upstream gives mask 0 when the mask token fails and refuses the load when
// another token fails, so a policy for anything less than fully verified
// metadata grants nothing.
func NewPolicy(md *Metadata, rep *Report) Policy {
	p := Policy{Endpoints: append([]Endpoint(nil), md.Endpoints...)}
	if rep.Err() == nil {
		p.Mask = rep.Mask
	}
	return p
}

// Reason says why a call was allowed or denied.
type Reason uint8

// The reasons. String gives the names scenario files use.
const (
	ReasonAllowed         Reason = iota
	ReasonNotInMask              // the call's bit is not in the verified mask ("not-granted")
	ReasonUnknownEndpoint        // open of an endpoint id the metadata does not declare
	ReasonWrongDirection         // read on an out endpoint, write on an in endpoint
	ReasonEndpointNotOpen        // close/read/write of an fd that is not open
	ReasonForeignFD              // close/read/write of an fd another container opened
	ReasonPeerNotRunning         // the endpoint's peer container is not running
	ReasonBadPointer             // an argument points outside the container's memory (checked by the device)
	ReasonBudgetExceeded         // more calls this loop than the container's budget
	ReasonNotInstalled           // the caller is not an installed container
	ReasonAlreadyOpen            // open of an endpoint the container already has open (refused upstream too)
	ReasonNoFreeFD               // the device's fd table is full
	numReasons
)

var reasonNames = [numReasons]string{
	"allowed", "not-granted", "unknown-endpoint", "wrong-direction", "endpoint-not-open",
	"foreign-fd", "peer-not-running", "bad-pointer", "budget-exceeded", "not-installed",
	"already-open", "no-free-fd",
}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Text is the reason in words, for log lines: "not granted".
func (r Reason) Text() string { return strings.ReplaceAll(r.String(), "-", " ") }

// Reasons lists every reason.
func Reasons() []Reason {
	rs := make([]Reason, numReasons)
	for i := range rs {
		rs[i] = Reason(i)
	}
	return rs
}

// ParseReason reads a reason as String prints it; "not-in-mask" is accepted
// for not-granted.
func ParseReason(s string) (Reason, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "-")
	if n == "not-in-mask" {
		return ReasonNotInMask, nil
	}
	for i, name := range reasonNames {
		if name == n {
			return Reason(i), nil
		}
	}
	return 0, fmt.Errorf("%w: reason %q (known: %s)", ErrInvalidValue, s, strings.Join(reasonNames[:], ", "))
}

// Request is one call a container makes, as the device sees it.
type Request struct {
	Container string // the caller's uid
	Call      Call
	Endpoint  uint32    // open: the container's endpoint id
	FD        int32     // close, read, write: the file descriptor
	Args      [5]uint64 // the raw helper arguments (r1..r5), kept for the record
	// Fault is set by the device when an argument failed its own check (a
	// pointer outside the container's memory). The call is then denied with
	// bad-pointer, after the firewall's own checks, in the same decision.
	Fault error
}

// Decision is the firewall's answer to one call.
type Decision struct {
	Allowed   bool
	Container string
	Call      Call
	Reason    Reason
	Detail    string // what was compared, for denials; empty when allowed
	Args      [5]uint64
	Endpoint  uint32 // the endpoint concerned, when known
	FD        int32  // the fd concerned (the new one for an allowed open)
}

// String reads like a device console line:
// "denied: coach read fd 3 (endpoint not open: ...)" or "allowed: coach heartbeat".
func (d Decision) String() string {
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allowed: ")
	} else {
		b.WriteString("denied: ")
	}
	b.WriteString(d.Container)
	b.WriteByte(' ')
	b.WriteString(d.Call.String())
	switch d.Call {
	case CallOpen:
		fmt.Fprintf(&b, " endpoint %d", d.Endpoint)
		if d.Allowed {
			fmt.Fprintf(&b, " -> fd %d", d.FD)
		}
	case CallClose, CallRead, CallWrite:
		fmt.Fprintf(&b, " fd %d", d.FD)
	}
	if !d.Allowed {
		b.WriteString(" (")
		b.WriteString(d.Reason.Text())
		if d.Detail != "" {
			b.WriteString(": ")
			b.WriteString(d.Detail)
		}
		b.WriteByte(')')
	}
	return b.String()
}
