package attach

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/device/cord"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/lab/sim"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

// fleet is a lab whose devices run a heartbeating container, then run in
// real time (paced) as `tinylab device` processes do, on loopback.
func fleet(t testing.TB, n int) *lab.Lab {
	t.Helper()
	return fleetOf(t, n, true) // managed over plain CoAP: the demo mode
}

// fleetOf is fleet with DTLS on (insecure false): management needs a party's
// credentials, plain CoAP reads only.
func fleetOf(t testing.TB, n int, insecure bool) *lab.Lab {
	t.Helper()
	l, err := lab.New(lab.Options{Seed: 1, Mode: sim.Fast, Insecure: insecure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	must(t, ok(l.AddParty("city", lab.Owner)))
	must(t, ok(l.AddParty("coach", lab.Tenant)))
	img, err := asm.Assemble("loop:\n  call 0x71\n  mov %r0, 0\n  exit\n")
	must(t, err)
	code, err := rbf.Encode(img)
	must(t, err)
	must(t, l.Define(lab.ContainerDef{Name: "coach", Tenant: "coach", Code: code, Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	for i := range n {
		id := "bench-" + itoa(i+1)
		must(t, ok(l.AddDevice(lab.DeviceSpec{ID: id, Board: "native"})))
		must(t, ok(l.Exec("update "+id+" coach")))
	}
	must(t, l.Advance(context.Background(), 3*time.Second))
	l.World().SetMode(sim.Paced)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.World().Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

func itoa(i int) string { return strconv.Itoa(i) }

func ok[T any](_ T, err error) error { return err }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type log struct {
	mu     sync.Mutex
	events []device.Event
}

func (l *log) add(e device.Event) { l.mu.Lock(); l.events = append(l.events, e); l.mu.Unlock() }
func (l *log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.events {
		b.WriteString(e.Device + " " + e.Data.String() + "\n")
	}
	return b.String()
}

func newAttacher(t testing.TB, ev *log) *Attacher {
	u, err := NewUDP("127.0.0.1:0")
	must(t, err)
	t.Cleanup(u.Close)
	a := New(Options{Dialer: u, Probe: 200 * time.Millisecond, Timeout: 500 * time.Millisecond, OnEvent: ev.add})
	t.Cleanup(a.Close)
	return a
}

func eventually(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not happen within %s", what, d)
	return 0
}

func remote(a *Attacher, name string) Remote {
	for _, r := range a.Devices() {
		if r.Name == name {
			return r
		}
	}
	return Remote{}
}

func stateOf(r Remote, uid string) string {
	for _, c := range r.Containers {
		if c.UID == uid {
			return c.State
		}
	}
	return ""
}

func TestAttachFollowsCommandsAndReachability(t *testing.T) {
	l := fleet(t, 2)
	var ev log
	a := newAttacher(t, &ev)
	for _, n := range l.Nodes() {
		must(t, a.Attach(n.ID(), n.URI()))
	}
	// /containers and /suit/status are read apart: wait for both
	eventually(t, 5*time.Second, "both live with coach RUNNING and bench-1's SUIT status read", func() bool {
		return stateOf(remote(a, "bench-1"), "coach") == "RUNNING" && stateOf(remote(a, "bench-2"), "coach") == "RUNNING" &&
			remote(a, "bench-1").Suit.SeqNo == 1
	})
	if r := remote(a, "bench-1"); r.Board != "native" || !r.Live || r.Suit.Last.Result != "SUIT_OK" || r.Suit.SeqNo != 1 {
		t.Fatalf("bench-1: %+v", r)
	}
	// a tinylab device grants both observations: nothing is polled
	eventually(t, 3*time.Second, "bench-1 observed on /containers and /suit/status", func() bool { return remote(a, "bench-1").Observing })
	// a command over CoAP; the state change comes back by itself
	must(t, a.Command(context.Background(), "bench-1", "stop", "coach"))
	eventually(t, 3*time.Second, "coach READY on bench-1", func() bool { return stateOf(remote(a, "bench-1"), "coach") == "READY" })
	if err := a.Command(context.Background(), "bench-1", "stop", "coach"); err == nil || !strings.Contains(err.Error(), "cannot stop coach: it is READY") {
		t.Fatalf("stopping a READY container: %v", err)
	}
	// an update over CoAP: the trigger is accepted, the fetch fails at the
	// repository (no such file), and the SUIT status that comes back says so
	must(t, a.Update(context.Background(), "bench-1", l.RepoURI()+"/no-such.suit"))
	eventually(t, 5*time.Second, "the failed update reported", func() bool {
		s := remote(a, "bench-1").Suit
		return s.Last.Result != "SUIT_OK" && s.Last.Result != ""
	})
	if err := a.Update(context.Background(), "bench-1", "not a uri"); err == nil {
		t.Fatal("a trigger without a coap:// URI was accepted")
	}
	// bench-2 goes away: unreachable, with since when
	n2, err := l.Node("bench-2")
	must(t, err)
	addr := n2.Sock.Addr().String()
	before := time.Now()
	n2.Sock.Close()
	eventually(t, 3*time.Second, "bench-2 unreachable", func() bool { return !remote(a, "bench-2").Live })
	if r := remote(a, "bench-2"); r.Since.Before(before) || r.Err == "" {
		t.Fatalf("unreachable without since or reason: %+v", r)
	}
	// and comes back by itself
	sock, err := coapnet.Listen(addr, n2.Dev.Handler(), coapnet.Options{})
	must(t, err)
	defer sock.Close()
	l.World().Do(func() { n2.Dev.SetNet(sock) })
	eventually(t, 3*time.Second, "bench-2 live again", func() bool { return remote(a, "bench-2").Live })
	log := ev.String()
	for _, want := range []string{
		"bench-1 attached (live, real time): coap://",
		"bench-1 live: native",
		"bench-1 container coach: (seen) -> RUNNING",
		"bench-1 container coach: ",
		" -> READY (stopped)",
		"bench-2 unreachable: ",
		"bench-2 live: native",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("no %q in\n%s", want, log)
		}
	}
}

func TestAttachFromTheGatewayRD(t *testing.T) {
	l, err := lab.New(lab.Options{Seed: 1, Mode: sim.Paced, Gateway: "127.0.0.1:0"})
	must(t, err)
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.World().Run(ctx) }()
	defer func() { cancel(); <-done }()
	gw, _ := l.Gateway()
	for _, id := range []string{"a", "b"} {
		must(t, ok(l.AddDevice(lab.DeviceSpec{ID: id, Board: "native"})))
		ep, err := l.Register(id, cordConfig(gw.URI(), "RIOT-"+id))
		must(t, err)
		eventually(t, 3*time.Second, id+" registered", func() bool { return ep.Status().Location != "" })
	}
	var ev log
	a := newAttacher(t, &ev)
	added, errs := a.AttachRD(context.Background(), gw.URI())
	if len(errs) > 0 || strings.Join(added, ",") != "RIOT-a,RIOT-b" {
		t.Fatalf("added %v, errors %v", added, errs)
	}
	eventually(t, 3*time.Second, "both live", func() bool { return remote(a, "RIOT-a").Live && remote(a, "RIOT-b").Live })
	if again, errs := a.AttachRD(context.Background(), gw.URI()); len(again) != 0 || len(errs) != 0 {
		t.Fatalf("attached twice: %v %v", again, errs)
	}
}

func cordConfig(rd, ep string) cord.Config {
	return cord.Config{RD: rd, Endpoint: ep, Lifetime: 10 * time.Second}
}

// TestAttachTheLabsOwnDevices: a fast lab registers nothing, but its
// gateway's lookup shows its devices, so another UI can follow them.
func TestAttachTheLabsOwnDevices(t *testing.T) {
	l, err := lab.New(lab.Options{Seed: 1, Mode: sim.Fast, Gateway: "127.0.0.1:0"})
	must(t, err)
	defer l.Close()
	must(t, ok(l.AddDevice(lab.DeviceSpec{ID: "kiosk", Board: "nrf52dk"})))
	gw, _ := l.Gateway()
	var ev log
	a := newAttacher(t, &ev)
	added, errs := a.AttachRD(context.Background(), gw.URI())
	if len(errs) > 0 || strings.Join(added, ",") != "kiosk" {
		t.Fatalf("added %v, errors %v", added, errs)
	}
	eventually(t, 3*time.Second, "kiosk live", func() bool { r := remote(a, "kiosk"); return r.Live && r.Board == "nrf52dk" })
}
