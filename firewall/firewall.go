package firewall

import (
	"fmt"
	"math"
	"sync"
)

// Options configure a device's firewall.
type Options struct {
	// CallsPerLoop is the budget of calls per loop for containers whose policy
	// sets none; 0 means no budget.
	CallsPerLoop uint32
	// MaxFDs is the size of the device's fd table, shared by its containers
	// as upstream's (TINYCONTAINER_MAX_FD, 10 by default); 0 means 10.
	MaxFDs int
	// PeerRunning tells whether a container peer is running. The device
	// supplies it; it is called with the firewall's lock held and must not
	// call the firewall. Nil means no container peer is ever running.
	PeerRunning func(uid string) bool
	// OnDeny, if set, is called with every denial, after the decision and
	// outside the firewall's lock: the device turns it into an event.
	OnDeny func(Decision)
	// DenialLog is how many recent denials each container keeps; 0 means 32.
	DenialLog int
}

// Counter counts the calls of one kind.
type Counter struct {
	Allowed uint64
	Denied  uint64
}

// Firewall holds a device's container policies, its fd table and the
// accounting of every call. It is safe for concurrent use.
type Firewall struct {
	mu     sync.Mutex
	opts   Options
	byUID  map[string]*entry
	last   *entry // the entry looked up last: a loop's calls are all one container's
	fds    []fdSlot
	nextFD int32
}

type entry struct {
	uid       string
	pol       Policy
	budget    uint32
	loopCalls uint32
	counts    [numCalls]Counter
	allowed   uint64
	reasons   [numReasons]uint64 // denials per reason
	denials   []Decision         // ring of the last denials, grown up to denCap
	denCap    int
	denNext   int // next position to write
	denTotal  uint64
}

type fdSlot struct {
	fd    int32 // 0: free
	owner *entry
	ep    Endpoint
}

// New makes an empty firewall.
func New(opts Options) *Firewall {
	if opts.MaxFDs <= 0 {
		opts.MaxFDs = 10
	}
	if opts.DenialLog <= 0 {
		opts.DenialLog = 32
	}
	return &Firewall{opts: opts, byUID: map[string]*entry{}, fds: make([]fdSlot, opts.MaxFDs), nextFD: 1}
}

// Install sets the policy of a container. Installing over an existing uid
// (an update) replaces its policy and closes its fds; its counts and denial
// log stay.
func (fw *Firewall) Install(uid string, pol Policy) error {
	if uid == "" {
		return fmt.Errorf("%w: empty container uid", ErrInvalidValue)
	}
	if err := checkEndpointIDs(pol.Endpoints); err != nil {
		return err
	}
	pol.Endpoints = append([]Endpoint(nil), pol.Endpoints...)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	e := fw.byUID[uid]
	if e == nil {
		// The log grows with the denials: most containers of a fleet
		// are never denied anything and keep none.
		e = &entry{uid: uid, denCap: fw.opts.DenialLog}
		fw.byUID[uid] = e
	}
	fw.closeAllLocked(e)
	e.pol = pol
	e.budget = pol.CallsPerLoop
	if e.budget == 0 {
		e.budget = fw.opts.CallsPerLoop
	}
	e.loopCalls = 0
	return nil
}

// Remove forgets a container: its policy, fds and accounting.
func (fw *Firewall) Remove(uid string) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if e := fw.byUID[uid]; e != nil {
		fw.closeAllLocked(e)
		delete(fw.byUID, uid)
		if fw.last == e {
			fw.last = nil
		}
	}
}

// CloseAll closes every fd a container holds, keeping its policy and
// accounting: the agent calls it when the container stops or fails, as a
// stopped container's endpoints are no longer open.
func (fw *Firewall) CloseAll(uid string) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if e := fw.byUID[uid]; e != nil {
		fw.closeAllLocked(e)
	}
}

// lookupLocked finds a container's entry, nil when it has none.
func (fw *Firewall) lookupLocked(uid string) *entry {
	if e := fw.last; e != nil && e.uid == uid {
		return e
	}
	e := fw.byUID[uid]
	if e != nil {
		fw.last = e
	}
	return e
}

func (fw *Firewall) closeAllLocked(e *entry) {
	for i := range fw.fds {
		if fw.fds[i].owner == e {
			fw.fds[i] = fdSlot{}
		}
	}
}

// BeginLoop starts a new loop for a container: its call budget refills.
func (fw *Firewall) BeginLoop(uid string) {
	fw.mu.Lock()
	if e := fw.lookupLocked(uid); e != nil {
		e.loopCalls = 0
	}
	fw.mu.Unlock()
}

// Check decides a call. For open, close, read and write it checks what Open,
// Close and Resolve check but changes no fd. Each of Check, Open, Close,
// Resolve and Deny counts the call once: call exactly one per helper call.
func (fw *Firewall) Check(req Request) Decision {
	fw.mu.Lock()
	d, _ := fw.decideLocked(&req, false)
	fw.mu.Unlock()
	fw.report(&d)
	return d
}

// Open decides an open of req.Endpoint and, if allowed, gives the container a
// new fd for it (also in the decision's FD).
func (fw *Firewall) Open(req Request) (int32, Decision) {
	req.Call = CallOpen
	fw.mu.Lock()
	d, _ := fw.decideLocked(&req, true)
	fw.mu.Unlock()
	fw.report(&d)
	return d.FD, d
}

// Close decides a close of req.FD and, if allowed, frees the fd.
func (fw *Firewall) Close(req Request) Decision {
	req.Call = CallClose
	fw.mu.Lock()
	d, _ := fw.decideLocked(&req, true)
	fw.mu.Unlock()
	fw.report(&d)
	return d
}

// Resolve decides a read or write (req.Call) on req.FD and returns the
// endpoint behind the fd, so the device knows where the bytes go.
func (fw *Firewall) Resolve(req Request) (Endpoint, Decision) {
	fw.mu.Lock()
	d, ep := fw.decideLocked(&req, false)
	fw.mu.Unlock()
	fw.report(&d)
	return ep, d
}

// Deny records a denial decided outside the firewall (reason is a denial
// reason, typically bad-pointer) for a call it has not seen, so that one place
// counts everything. For a call the firewall does see, set Request.Fault
// instead: the call is then decided and counted once.
func (fw *Firewall) Deny(req Request, reason Reason, detail string) Decision {
	d := Decision{Container: req.Container, Call: req.Call, Args: req.Args, Endpoint: req.Endpoint, FD: req.FD, Reason: reason, Detail: detail}
	fw.mu.Lock()
	if e := fw.lookupLocked(req.Container); e != nil {
		e.loopCalls++
		e.count(&d)
	}
	fw.mu.Unlock()
	fw.report(&d)
	return d
}

func (fw *Firewall) report(d *Decision) {
	if !d.Allowed && fw.opts.OnDeny != nil {
		fw.opts.OnDeny(*d)
	}
}

// decideLocked runs the checks in order (installed, mask, budget, the call's
// own checks, the device's fault) and, when apply is set and the call is
// allowed, changes the fd table.
func (fw *Firewall) decideLocked(req *Request, apply bool) (Decision, Endpoint) {
	d := Decision{Container: req.Container, Call: req.Call, Args: req.Args, Endpoint: req.Endpoint, FD: req.FD}
	e := fw.lookupLocked(req.Container)
	if e == nil {
		d.Reason, d.Detail = ReasonNotInstalled, "no policy for this container"
		return d, Endpoint{}
	}
	e.loopCalls++
	var ep Endpoint
	var slot *fdSlot
	switch {
	case !e.pol.Mask.Has(req.Call):
		d.Reason, d.Detail = ReasonNotInMask, "mask grants "+e.pol.Mask.String()
	case e.budget > 0 && e.loopCalls > e.budget:
		d.Reason, d.Detail = ReasonBudgetExceeded, fmt.Sprintf("call %d this loop, budget %d", e.loopCalls, e.budget)
	case req.Call == CallOpen:
		ep, slot = fw.checkOpenLocked(e, req, &d)
	case req.Call == CallClose || req.Call == CallRead || req.Call == CallWrite:
		ep, slot = fw.checkFDLocked(e, req, &d)
	}
	if d.Reason == ReasonAllowed && req.Fault != nil {
		d.Reason, d.Detail = ReasonBadPointer, req.Fault.Error()
	}
	d.Allowed = d.Reason == ReasonAllowed
	if d.Allowed && apply {
		switch req.Call {
		case CallOpen:
			d.FD = fw.newFDLocked()
			*slot = fdSlot{fd: d.FD, owner: e, ep: ep}
		case CallClose:
			*slot = fdSlot{}
		}
	}
	e.count(&d)
	if !d.Allowed {
		ep = Endpoint{}
	}
	return d, ep
}

func (fw *Firewall) checkOpenLocked(e *entry, req *Request, d *Decision) (Endpoint, *fdSlot) {
	ep, ok := e.endpoint(req.Endpoint)
	if !ok {
		d.Reason, d.Detail = ReasonUnknownEndpoint, fmt.Sprintf("endpoint %d is not in the metadata (declared: %s)", req.Endpoint, e.endpointIDs())
		return ep, nil
	}
	var free *fdSlot
	for i := range fw.fds {
		s := &fw.fds[i]
		if s.fd == 0 {
			if free == nil {
				free = s
			}
		} else if s.owner == e && s.ep.ID == ep.ID {
			d.Reason, d.Detail, d.FD = ReasonAlreadyOpen, fmt.Sprintf("endpoint %d is already fd %d", ep.ID, s.fd), s.fd
			return ep, nil
		}
	}
	if !fw.peerOK(ep, d) {
		return ep, nil
	}
	if free == nil {
		d.Reason, d.Detail = ReasonNoFreeFD, fmt.Sprintf("all %d fds of the device are in use", len(fw.fds))
	}
	return ep, free
}

func (fw *Firewall) checkFDLocked(e *entry, req *Request, d *Decision) (Endpoint, *fdSlot) {
	var slot *fdSlot
	for i := range fw.fds {
		if req.FD > 0 && fw.fds[i].fd == req.FD {
			slot = &fw.fds[i]
			break
		}
	}
	switch {
	case slot == nil:
		d.Reason, d.Detail = ReasonEndpointNotOpen, fmt.Sprintf("fd %d is not open", req.FD)
		return Endpoint{}, nil
	case slot.owner != e:
		d.Reason, d.Detail = ReasonForeignFD, fmt.Sprintf("fd %d belongs to container %q", req.FD, slot.owner.uid)
		return Endpoint{}, nil
	}
	ep := slot.ep
	d.Endpoint = ep.ID
	switch {
	case req.Call == CallRead && !ep.Direction.CanRead(), req.Call == CallWrite && !ep.Direction.CanWrite():
		d.Reason, d.Detail = ReasonWrongDirection, fmt.Sprintf("endpoint %d is %s", ep.ID, ep.Direction)
	case req.Call != CallClose:
		fw.peerOK(ep, d)
	}
	return ep, slot
}

func (fw *Firewall) peerOK(ep Endpoint, d *Decision) bool {
	if ep.Peer != PeerContainer || (fw.opts.PeerRunning != nil && fw.opts.PeerRunning(ep.PeerUID)) {
		return true
	}
	d.Reason, d.Detail = ReasonPeerNotRunning, fmt.Sprintf("endpoint %d's peer container %q is not running", ep.ID, ep.PeerUID)
	return false
}

// newFDLocked picks the next unused fd number, as upstream: counting up from
// 1, skipping numbers in use.
func (fw *Firewall) newFDLocked() int32 {
	for {
		fd := fw.nextFD
		if fw.nextFD == math.MaxInt32 {
			fw.nextFD = 1
		} else {
			fw.nextFD++
		}
		inUse := false
		for i := range fw.fds {
			if fw.fds[i].fd == fd {
				inUse = true
				break
			}
		}
		if !inUse {
			return fd
		}
	}
}

func (e *entry) endpoint(id uint32) (Endpoint, bool) {
	for _, ep := range e.pol.Endpoints {
		if ep.ID == id {
			return ep, true
		}
	}
	return Endpoint{}, false
}

func (e *entry) endpointIDs() string {
	if len(e.pol.Endpoints) == 0 {
		return "none"
	}
	s := ""
	for i, ep := range e.pol.Endpoints {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(ep.ID)
	}
	return s
}

func (e *entry) count(d *Decision) {
	if d.Allowed {
		e.allowed++
		if d.Call < numCalls {
			e.counts[d.Call].Allowed++
		}
		return
	}
	if d.Call < numCalls {
		e.counts[d.Call].Denied++
	}
	if d.Reason < numReasons {
		e.reasons[d.Reason]++
	}
	if len(e.denials) < e.denCap {
		e.denials = append(e.denials, *d)
	} else {
		e.denials[e.denNext] = *d
	}
	e.denNext = (e.denNext + 1) % e.denCap
	e.denTotal++
}

// Policy returns a container's installed policy.
func (fw *Firewall) Policy(uid string) (Policy, bool) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	e := fw.byUID[uid]
	if e == nil {
		return Policy{}, false
	}
	p := e.pol
	p.Endpoints = append([]Endpoint(nil), p.Endpoints...)
	return p, true
}

// Counts returns a container's allowed and denied counts per call (calls
// never made are absent).
func (fw *Firewall) Counts(uid string) map[Call]Counter {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	out := map[Call]Counter{}
	if e := fw.byUID[uid]; e != nil {
		for c, n := range e.counts {
			if n != (Counter{}) {
				out[Call(c)] = n
			}
		}
	}
	return out
}

// Totals sums a container's counts over all calls, including denials of
// calls outside the table.
func (fw *Firewall) Totals(uid string) Counter {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	var t Counter
	if e := fw.byUID[uid]; e != nil {
		t = Counter{Allowed: e.allowed, Denied: e.denTotal}
	}
	return t
}

// DeniedBy counts a container's denials per reason.
func (fw *Firewall) DeniedBy(uid string) map[Reason]uint64 {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	out := map[Reason]uint64{}
	if e := fw.byUID[uid]; e != nil {
		for r, n := range e.reasons {
			if n > 0 {
				out[Reason(r)] = n
			}
		}
	}
	return out
}

// Denials returns a container's most recent denials, oldest first.
func (fw *Firewall) Denials(uid string) []Decision {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	e := fw.byUID[uid]
	if e == nil {
		return nil
	}
	n := len(e.denials)
	kept := int(min(e.denTotal, uint64(n)))
	out := make([]Decision, 0, kept)
	for i := range kept {
		out = append(out, e.denials[(e.denNext-kept+i+n)%n])
	}
	return out
}
