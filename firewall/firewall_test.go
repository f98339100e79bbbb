package firewall

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestDecisions walks one device through every reason, in order: the fd
// table carries state from step to step.
func TestDecisions(t *testing.T) {
	running := map[string]bool{"a": true, "b": true}
	var denied []Decision
	fw := New(Options{
		MaxFDs:      3,
		PeerRunning: func(uid string) bool { return running[uid] },
		OnDeny:      func(d Decision) { denied = append(denied, d) },
	})
	all := MaskOf(Calls()...)
	mustInstall(t, fw, "a", Policy{Mask: all &^ MaskOf(CallMemcpy), Endpoints: []Endpoint{
		{ID: 1, Peer: PeerLocal, PeerEndpoint: 10, Direction: DirIn},
		{ID: 2, Peer: PeerLocal, PeerEndpoint: 11, Direction: DirOut},
		{ID: 3, Peer: PeerContainer, PeerUID: "b", PeerEndpoint: 5, Direction: DirBoth},
		{ID: 4, Peer: PeerContainer, PeerUID: "down", PeerEndpoint: 1, Direction: DirBoth},
	}})
	mustInstall(t, fw, "b", Policy{Mask: MaskOf(CallHeartbeat, CallOpen, CallRead), Endpoints: []Endpoint{
		{ID: 5, Peer: PeerContainer, PeerUID: "a", PeerEndpoint: 3, Direction: DirIn},
	}})
	mustInstall(t, fw, "c", Policy{Mask: all, CallsPerLoop: 2})

	open := func(uid string, ep uint32) Decision { _, d := fw.Open(Request{Container: uid, Endpoint: ep}); return d }
	closeFD := func(uid string, fd int32) Decision { return fw.Close(Request{Container: uid, FD: fd}) }
	rw := func(uid string, c Call, fd int32) Decision {
		_, d := fw.Resolve(Request{Container: uid, Call: c, FD: fd})
		return d
	}
	call := func(uid string, c Call) Decision { return fw.Check(Request{Container: uid, Call: c}) }

	steps := []struct {
		name   string
		do     func() Decision
		reason Reason
		fd     int32 // the decision's fd, when it matters
	}{
		{"open in endpoint", func() Decision { return open("a", 1) }, ReasonAllowed, 1},
		{"open it twice", func() Decision { return open("a", 1) }, ReasonAlreadyOpen, 1},
		{"open undeclared endpoint", func() Decision { return open("a", 9) }, ReasonUnknownEndpoint, 0},
		{"call not in mask", func() Decision { return call("a", CallMemcpy) }, ReasonNotInMask, 0},
		{"syscall not in mask", func() Decision { return rw("b", CallWrite, 1) }, ReasonNotInMask, 1},
		{"read another container's fd", func() Decision { return rw("b", CallRead, 1) }, ReasonForeignFD, 1},
		{"close another container's fd", func() Decision { return closeFD("c", 1) }, ReasonForeignFD, 1},
		{"read an fd never opened", func() Decision { return rw("a", CallRead, 99) }, ReasonEndpointNotOpen, 99},
		{"read a negative fd", func() Decision { return rw("a", CallRead, -1) }, ReasonEndpointNotOpen, -1},
		{"write to an in endpoint", func() Decision { return rw("a", CallWrite, 1) }, ReasonWrongDirection, 1},
		{"read from an in endpoint", func() Decision { return rw("a", CallRead, 1) }, ReasonAllowed, 1},
		{"open towards a stopped container", func() Decision { return open("a", 4) }, ReasonPeerNotRunning, 0},
		{"open towards a running container", func() Decision { return open("a", 3) }, ReasonAllowed, 2},
		{"read with a bad pointer", func() Decision {
			_, d := fw.Resolve(Request{Container: "a", Call: CallRead, FD: 2, Fault: errors.New("buffer 0x9000+16 outside the data region")})
			return d
		}, ReasonBadPointer, 2},
		{"bad pointer found by the device", func() Decision {
			return fw.Deny(Request{Container: "a", Call: CallLog, Args: [5]uint64{0xdead}}, ReasonBadPointer, "format string outside memory")
		}, ReasonBadPointer, 0},
		{"write after the peer stopped", func() Decision { running["b"] = false; return rw("a", CallWrite, 2) }, ReasonPeerNotRunning, 2},
		{"close after the peer stopped", func() Decision { return closeFD("a", 2) }, ReasonAllowed, 2},
		{"check an open without opening", func() Decision { return call("a", CallOpen) }, ReasonUnknownEndpoint, 0},
		{"open out endpoint", func() Decision { return open("a", 2) }, ReasonAllowed, 3},
		{"read from an out endpoint", func() Decision { return rw("a", CallRead, 3) }, ReasonWrongDirection, 3},
		{"reopen towards the peer", func() Decision { running["b"] = true; return open("a", 3) }, ReasonAllowed, 4},
		{"fd table full", func() Decision { return open("b", 5) }, ReasonNoFreeFD, 0},
		{"close", func() Decision { return closeFD("a", 1) }, ReasonAllowed, 1},
		{"read a closed fd", func() Decision { return rw("a", CallRead, 1) }, ReasonEndpointNotOpen, 1},
		{"open after a close takes the next number", func() Decision { return open("b", 5) }, ReasonAllowed, 5},
		{"unknown container", func() Decision { return call("zz", CallHeartbeat) }, ReasonNotInstalled, 0},
		{"budget: first call", func() Decision { fw.BeginLoop("c"); return call("c", CallHeartbeat) }, ReasonAllowed, 0},
		{"budget: second call", func() Decision { return call("c", CallLog) }, ReasonAllowed, 0},
		{"budget: third call", func() Decision { return call("c", CallHeartbeat) }, ReasonBudgetExceeded, 0},
		{"budget: next loop", func() Decision { fw.BeginLoop("c"); return call("c", CallHeartbeat) }, ReasonAllowed, 0},
	}
	wantDenied := 0
	for _, s := range steps {
		d := s.do()
		if d.Reason != s.reason || d.Allowed != (s.reason == ReasonAllowed) || d.FD != s.fd {
			t.Errorf("%s: %v (reason %v, fd %d); want %v, fd %d", s.name, d, d.Reason, d.FD, s.reason, s.fd)
		}
		if !d.Allowed {
			wantDenied++
			if d.Detail == "" {
				t.Errorf("%s: denial without detail", s.name)
			}
		} else if d.Detail != "" {
			t.Errorf("%s: allowed with detail %q", s.name, d.Detail)
		}
	}
	if len(denied) != wantDenied {
		t.Errorf("OnDeny saw %d denials, want %d", len(denied), wantDenied)
	}

	// Accounting for "a": every call counted once, by call and by reason.
	counts := fw.Counts("a")
	wantCounts := map[Call]Counter{
		CallOpen: {Allowed: 4, Denied: 4}, CallRead: {Allowed: 1, Denied: 5}, CallWrite: {Denied: 2},
		CallClose: {Allowed: 2}, CallMemcpy: {Denied: 1}, CallLog: {Denied: 1},
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("Counts(a) = %v\nwant %v", counts, wantCounts)
	}
	if tot := fw.Totals("a"); tot != (Counter{Allowed: 7, Denied: 13}) {
		t.Errorf("Totals(a) = %+v", tot)
	}
	by := fw.DeniedBy("a")
	if by[ReasonBadPointer] != 2 || by[ReasonWrongDirection] != 2 || by[ReasonPeerNotRunning] != 2 || by[ReasonAllowed] != 0 {
		t.Errorf("DeniedBy(a) = %v", by)
	}
	log := fw.Denials("c")
	if len(log) != 2 || log[0].Reason != ReasonForeignFD || log[1].Reason != ReasonBudgetExceeded {
		t.Errorf("Denials(c) = %v", log)
	}
	if got := fw.Counts("zz"); len(got) != 0 {
		t.Errorf("Counts of an unknown container = %v", got)
	}

	// An update closes the container's fds; removal forgets it.
	mustInstall(t, fw, "a", Policy{Mask: all})
	if d := rw("a", CallRead, 3); d.Reason != ReasonEndpointNotOpen {
		t.Errorf("after reinstall: %v", d)
	}
	if fw.Totals("a").Allowed != 7 {
		t.Error("reinstall lost the counts")
	}
	fw.Remove("b")
	if d := call("b", CallHeartbeat); d.Reason != ReasonNotInstalled {
		t.Errorf("after remove: %v", d)
	}
	if _, ok := fw.Policy("b"); ok {
		t.Error("Policy of a removed container")
	}
	if p, ok := fw.Policy("a"); !ok || p.Mask != all {
		t.Errorf("Policy(a) = %+v, %v", p, ok)
	}
}

func mustInstall(t *testing.T, fw *Firewall, uid string, p Policy) {
	t.Helper()
	if err := fw.Install(uid, p); err != nil {
		t.Fatal(err)
	}
}

func TestResolveReturnsEndpoint(t *testing.T) {
	fw := New(Options{})
	ep := Endpoint{ID: 7, Peer: PeerRemote, PeerEndpoint: 5683, Direction: DirBoth}
	mustInstall(t, fw, "a", Policy{Mask: MaskOf(CallOpen, CallWrite), Endpoints: []Endpoint{ep}})
	fd, d := fw.Open(Request{Container: "a", Endpoint: 7})
	if !d.Allowed || fd != 1 {
		t.Fatalf("open: %v", d)
	}
	got, d := fw.Resolve(Request{Container: "a", Call: CallWrite, FD: fd})
	if !d.Allowed || got.ID != 7 || got.PeerEndpoint != 5683 || d.Endpoint != 7 {
		t.Errorf("resolve: %+v %v", got, d)
	}
	if got, d := fw.Resolve(Request{Container: "a", Call: CallRead, FD: fd}); d.Allowed || got.ID != 0 {
		t.Errorf("denied resolve gave %+v", got)
	}
}

func TestDefaultBudgetAndDenialLog(t *testing.T) {
	fw := New(Options{CallsPerLoop: 1, DenialLog: 2})
	mustInstall(t, fw, "a", Policy{Mask: MaskOf(CallHeartbeat)})
	for i := range 4 {
		d := fw.Check(Request{Container: "a", Call: CallHeartbeat, Args: [5]uint64{uint64(i)}})
		if d.Allowed != (i == 0) {
			t.Errorf("call %d: %v", i, d)
		}
	}
	log := fw.Denials("a")
	if len(log) != 2 || log[0].Args[0] != 2 || log[1].Args[0] != 3 {
		t.Errorf("denial log = %v, want the last two", log)
	}
	if fw.Totals("a").Denied != 3 {
		t.Errorf("totals = %+v", fw.Totals("a"))
	}
}

func TestInstallRefuses(t *testing.T) {
	fw := New(Options{})
	if err := fw.Install("", Policy{}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("empty uid: %v", err)
	}
	if err := fw.Install("a", Policy{Endpoints: []Endpoint{{ID: 1}, {ID: 1}}}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("duplicate endpoints: %v", err)
	}
}

func TestDecisionString(t *testing.T) {
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Allowed: true, Container: "coach", Call: CallHeartbeat}, "allowed: coach heartbeat"},
		{Decision{Allowed: true, Container: "coach", Call: CallOpen, Endpoint: 2, FD: 4}, "allowed: coach open endpoint 2 -> fd 4"},
		{Decision{Container: "coach", Call: CallRead, FD: 3, Reason: ReasonNotInMask, Detail: "mask grants heartbeat"}, "denied: coach read fd 3 (not granted: mask grants heartbeat)"},
		{Decision{Container: "x", Call: CallOpen, Endpoint: 7, Reason: ReasonUnknownEndpoint}, "denied: x open endpoint 7 (unknown endpoint)"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		s := r.String()
		if seen[s] || strings.Contains(s, " ") || strings.HasPrefix(s, "reason(") {
			t.Errorf("reason %d has name %q", r, s)
		}
		seen[s] = true
		if got, err := ParseReason(s); err != nil || got != r {
			t.Errorf("ParseReason(%q) = %v, %v", s, got, err)
		}
	}
	for in, want := range map[string]Reason{"not-in-mask": ReasonNotInMask, "Not granted": ReasonNotInMask, "budget exceeded": ReasonBudgetExceeded} {
		if got, err := ParseReason(in); err != nil || got != want {
			t.Errorf("ParseReason(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseReason("because"); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("bad reason: %v", err)
	}
	if ReasonNotInMask.Text() != "not granted" {
		t.Errorf("Text = %q", ReasonNotInMask.Text())
	}
}

func TestConcurrentUse(t *testing.T) {
	fw := New(Options{})
	mustInstall(t, fw, "a", Policy{Mask: MaskOf(CallHeartbeat)})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				fw.Check(Request{Container: "a", Call: CallHeartbeat})
				fw.Check(Request{Container: "a", Call: CallLog})
				fw.Counts("a")
			}
		})
	}
	wg.Wait()
	if tot := fw.Totals("a"); tot != (Counter{Allowed: 4000, Denied: 4000}) {
		t.Errorf("totals = %+v", tot)
	}
}

func TestCloseAllKeepsPolicyAndCounts(t *testing.T) {
	fw := New(Options{})
	mustInstall(t, fw, "s", Policy{Mask: MaskOf(CallOpen, CallRead), Endpoints: []Endpoint{{ID: 1, Peer: PeerLocal, PeerEndpoint: 10, Direction: DirIn}}})
	fd, d := fw.Open(Request{Container: "s", Call: CallOpen, Endpoint: 1})
	if !d.Allowed {
		t.Fatalf("open: %v", d)
	}
	fw.CloseAll("s")
	if _, d := fw.Resolve(Request{Container: "s", Call: CallRead, FD: fd}); d.Reason != ReasonEndpointNotOpen {
		t.Fatalf("read after CloseAll: %v", d)
	}
	if _, d := fw.Open(Request{Container: "s", Call: CallOpen, Endpoint: 1}); !d.Allowed {
		t.Fatalf("reopen after CloseAll: %v", d)
	}
	if tot := fw.Totals("s"); tot != (Counter{Allowed: 2, Denied: 1}) {
		t.Fatalf("counts after CloseAll = %+v", tot)
	}
}
