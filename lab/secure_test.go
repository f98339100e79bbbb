package lab

import (
	"context"
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
	"tinylab/lab/sim"
)

// TestPartiesOverDTLS: in a lab, commands go as the owner over DTLS; `as`
// acts as a tenant or anyone, and the device's refusals are outcomes.
func TestPartiesOverDTLS(t *testing.T) {
	l, err := New(Options{Seed: 3, Mode: sim.Fast})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for name, role := range map[string]Role{"city": Owner, "coach": Tenant, "stats": Tenant} {
		if _, err := l.AddParty(name, role); err != nil {
			t.Fatal(err)
		}
	}
	must(t, l.Define(ContainerDef{Name: "hello", Tenant: "coach", Code: code(t, beatSrc), Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	if _, err := l.AddDevice(DeviceSpec{ID: "bench"}); err != nil {
		t.Fatal(err)
	}
	n, _ := l.Node("bench")
	if n.Secure == nil || !strings.HasPrefix(n.SecureURI(), "coaps://127.0.0.1:") {
		t.Fatalf("no DTLS socket: %q", n.SecureURI())
	}
	if _, err := l.Exec("as coach update bench hello"); err != nil {
		t.Fatal(err)
	}
	if err := l.Advance(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ line, want string }{
		{"as stats stop bench hello", "refused: tenant stats may not POST /containers/hello"},
		{"as anyone delete bench hello", "refused: anyone may not DELETE /containers/hello"},
		{"as coach stop bench hello", "stop hello on bench: done"},
		{"as anyone coap get bench /suit/status", "\"seq_no\": 1"},
		{"as coach coap post bench /bpf/exec/0 x", "Forbidden"},
		{"delete bench hello", "delete hello on bench: done"},
	}
	for _, s := range steps {
		out, err := l.Exec(s.line)
		if err != nil || !strings.Contains(out, s.want) {
			t.Errorf("%s: %q %v, want %q", s.line, out, err, s.want)
		}
	}
	if out, _ := l.Exec("collector"); !strings.Contains(out, "received nothing yet") {
		t.Errorf("collector: %q", out)
	}
	for line, want := range map[string]string{"as c": "city coach", "as coach st": "start stop", "as coach stop b": "bench", "as coach stop bench ": "hello"} {
		if got := strings.Join(l.Complete(line), " "); got != want {
			t.Errorf("complete %q: %q, want %q", line, got, want)
		}
	}
	for _, bad := range []string{"as nobody stop bench hello", "as coach sensor bench hr 1", "as coach"} {
		if _, err := l.Exec(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

const sendSrc = `
loop:
  mov %r1, 2
  call 0x72
  mov %r6, %r0
  stw [%r10-8], 0x69737372
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x75
  mov %r1, %r6
  call 0x73
  call 0x71
  mov %r0, 0
  exit
`

// TestCollectorReceives: a remote endpoint's writes reach the lab's
// collector for real, in virtual time, and a lossy link loses some.
func TestCollectorReceives(t *testing.T) {
	l, err := New(Options{Seed: 3, Mode: sim.Fast})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	must(t, func() error { _, err := l.AddParty("city", Owner); return err }())
	must(t, func() error { _, err := l.AddParty("mapco", Tenant); return err }())
	must(t, l.Define(ContainerDef{Name: "mapper", Tenant: "mapco", Code: code(t, sendSrc),
		Grants:    firewall.MaskOf(firewall.CallHeartbeat, firewall.CallOpen, firewall.CallWrite, firewall.CallClose),
		Endpoints: []firewall.Endpoint{{ID: 2, Peer: firewall.PeerRemote, PeerEndpoint: 7, Direction: firewall.DirOut}}}))
	if _, err := l.AddDevice(DeviceSpec{ID: "box", Remotes: map[uint32]string{7: "coap://" + CollectorHost + "/coverage"}}); err != nil {
		t.Fatal(err)
	}
	must(t, l.Load("box", "mapper"))
	must(t, l.Start("box", "mapper"))
	if err := l.Advance(context.Background(), 5500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got := l.Collected()
	if len(got) != 1 || got[0].Device != "box" || got[0].Path != "/coverage" || string(got[0].Last) != "rssi" || got[0].Count != 5 {
		t.Fatalf("collected %v", got)
	}
	out, _ := l.Exec("collector")
	if out != "box /coverage: 5 received, last 72737369" {
		t.Fatalf("collector command: %q", out)
	}
	must(t, l.Drop("box", 1))
	if err := l.Advance(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := l.Collected(); got[0].Count != 5 {
		t.Fatalf("a link that loses everything delivered: %v", got)
	}
}
