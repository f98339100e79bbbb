package lab

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab/sim"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

const beatSrc = `
loop:
  call 0x71
  mov %r0, 0
  exit
`

// readHRSrc opens endpoint 1 and reads 4 bytes.
const readHRSrc = `
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
`

func code(t testing.TB, src string) []byte {
	t.Helper()
	img, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testLab is a city bench with a coach and an analytics tenant.
func testLab(t testing.TB, seed uint64) *Lab {
	t.Helper()
	l, err := New(Options{Seed: seed, Mode: sim.Fast})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	for _, p := range []struct {
		name string
		role Role
	}{{"city", Owner}, {"coach", Tenant}, {"stats", Tenant}} {
		if _, err := l.AddParty(p.name, p.role); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.AddDevice(DeviceSpec{ID: "bench-1", Board: "nrf52840dk", Peers: []device.PeerSpec{
		{ID: 10, Name: "hr", Class: device.ClassHeartRate, Model: device.ModelWalk, Start: 80, Min: 60, Max: 180},
	}}); err != nil {
		t.Fatal(err)
	}
	hr := []firewall.Endpoint{{ID: 1, Peer: firewall.PeerLocal, PeerEndpoint: 10, Direction: firewall.DirIn}}
	must(t, l.Define(ContainerDef{Name: "coach", Tenant: "coach", Code: code(t, beatSrc), Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	must(t, l.Define(ContainerDef{Name: "analytics", Tenant: "stats", Code: code(t, readHRSrc), Endpoints: hr,
		Grants: firewall.MaskOf(firewall.CallOpen, firewall.CallClose)}))
	return l
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, l *Lab, d time.Duration) {
	t.Helper()
	must(t, l.Advance(context.Background(), d))
}

func state(l *Lab, dev, uid string) string {
	for _, s := range l.Snapshot("").Devices {
		if s.ID == dev {
			for _, c := range s.Containers {
				if c.UID == uid {
					return c.State.String()
				}
			}
		}
	}
	return "EMPTY"
}

func TestUpdateLoadAndCommandsOverCoAP(t *testing.T) {
	l := testLab(t, 7)
	var events []device.Event
	l.Bus().Sink(func(e device.Event) { events = append(events, e) })
	if _, err := l.Exec("update bench-1 coach"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 3*time.Second)
	if s := state(l, "bench-1", "coach"); s != "RUNNING" {
		t.Fatalf("coach is %s after its update", s)
	}
	if _, err := l.Exec("load bench-1 analytics"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Exec("start bench-1 analytics"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 2*time.Second)
	if _, err := l.Exec("start bench-1 analytics"); err == nil || !strings.Contains(err.Error(), "it is RUNNING") {
		t.Fatalf("second start: %v", err)
	}
	denied := 0
	for _, e := range events {
		if d, ok := e.Data.(device.Denied); ok && d.Container == "analytics" && d.Call == "read" {
			denied++
		}
	}
	if denied < 2 {
		t.Fatalf("analytics read the heart rate without a grant (%d denials)", denied)
	}
	// The owner grants read; the new version is sent and reads succeed.
	if _, err := l.Exec("grant bench-1 analytics read"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 3*time.Second)
	before := denied
	run(t, l, 3*time.Second)
	denied = 0
	for _, e := range events {
		if d, ok := e.Data.(device.Denied); ok && d.Container == "analytics" && d.Call == "read" {
			denied++
		}
	}
	if denied != before {
		t.Fatalf("reads still denied after the grant: %d -> %d", before, denied)
	}
	out, err := l.Exec("coap get bench-1 /suit/status")
	if err != nil || !strings.Contains(out, `"seq_no"`) {
		t.Fatalf("coap get: %v\n%s", err, out)
	}
}

func TestAttacksThroughTheLab(t *testing.T) {
	l := testLab(t, 7)
	must(t, l.Define(ContainerDef{Name: "coach", Tenant: "coach", Code: code(t, beatSrc), Grants: firewall.MaskOf(firewall.CallHeartbeat)}))
	if _, err := l.Exec("update bench-1 coach v1"); err != nil {
		t.Fatal(err)
	}
	run(t, l, 2*time.Second)
	for _, tc := range []struct{ cmd, result string }{
		{"update bench-1 coach v2 wrong-key", "SUIT_ERR_SIGNATURE"},
		{"update bench-1 coach v2 tampered-signature", "SUIT_ERR_SIGNATURE"},
		{"update bench-1 coach v2 edited-body", "SUIT_ERR_DIGEST_MISMATCH"},
		{"update bench-1 coach v2 unsigned", "SUIT_ERR_SIGNATURE"},
		{"update bench-1 coach v2 wrong-vendor", "SUIT_ERR_COND"},
		{"update bench-1 coach v2 wrong-class", "SUIT_ERR_COND"},
		{"update bench-1 coach v2 digest-mismatch", "SUIT_ERR_DIGEST_MISMATCH"},
		{"update bench-1 coach v2 size-mismatch", "SUIT_ERR_STORAGE_EXCEEDED"},
		{"update bench-1 coach v2 oversize", "SUIT_ERR_STORAGE_EXCEEDED"},
		{"update bench-1 coach v1", "SUIT_ERR_SEQUENCE_NUMBER"},
	} {
		if _, err := l.Exec(tc.cmd); err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		run(t, l, 10*time.Second)
		snap := l.Snapshot("bench-1")
		if got := snap.Detail.Suit.Last.Result; got != tc.result {
			t.Errorf("%s: %s, want %s (%s)", tc.cmd, got, tc.result, snap.Detail.Suit.Last.Message)
		}
		if s := state(l, "bench-1", "coach"); s != "RUNNING" {
			t.Fatalf("%s stopped the installed coach: %s", tc.cmd, s)
		}
	}
}

// TestSameSeedSameTranscript: two labs, the same seed and commands, give
// byte-identical transcripts (fast mode).
func TestSameSeedSameTranscript(t *testing.T) {
	transcript := func() []byte {
		l := testLab(t, 42)
		var buf bytes.Buffer
		rec := l.Record(&buf)
		for _, c := range []string{"update bench-1 coach", "load bench-1 analytics", "start bench-1 analytics", "sensor bench-1 hr 150"} {
			if _, err := l.Exec(c); err != nil {
				t.Fatal(err)
			}
			run(t, l, 1500*time.Millisecond)
		}
		run(t, l, 10*time.Second)
		must(t, rec.Close())
		return buf.Bytes()
	}
	a, b := transcript(), transcript()
	if len(a) < 1000 {
		t.Fatalf("transcript too short to mean anything: %d bytes", len(a))
	}
	if !bytes.Equal(a, b) {
		la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				t.Fatalf("transcripts differ at line %d:\n%s\n%s", i+1, la[i], lb[i])
			}
		}
		t.Fatalf("transcripts differ in length: %d and %d lines", len(la), len(lb))
	}
	evs, err := ReadTranscript(bytes.NewReader(a))
	if err != nil || len(evs) == 0 {
		t.Fatalf("reading the transcript back: %d events, %v", len(evs), err)
	}
}

func TestExecErrorsAreClear(t *testing.T) {
	l := testLab(t, 1)
	for line, want := range map[string]string{
		"start":                   "usage: start DEVICE CONTAINER",
		"start nope coach":        `no such device "nope"`,
		"update bench-1 ghost":    `no container "ghost" defined`,
		"sensor bench-1 hr warm":  "not a number",
		"sensor bench-1 nope 1":   "no such sensor",
		"drop bench-1 lots":       "percentage",
		"tamper next explode":     "unknown attack",
		"coap fetch bench-1 /x":   "get, post, put or delete",
		"frobnicate":              "unknown command",
		"grant bench-1 coach fly": "unknown",
	} {
		if _, err := l.Exec(line); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", line, err, want)
		}
	}
}

func TestComplete(t *testing.T) {
	l := testLab(t, 1)
	for line, want := range map[string]string{
		"st":              "start stop",
		"start b":         "bench-1",
		"start bench-1 ":  "analytics coach",
		"tamper next w":   "wrong-class wrong-key wrong-vendor",
		"sensor bench-1 ": "hr",
		"coap g":          "get",
	} {
		if got := strings.Join(l.Complete(line), " "); got != want {
			t.Errorf("Complete(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestBusReaderCountsWhatItMissed(t *testing.T) {
	b := NewBus(4)
	r := b.Reader()
	for i := range 10 {
		b.Publish(device.Event{Seq: uint64(i)})
	}
	evs, dropped := r.Read(0)
	if len(evs) != 4 || dropped != 6 || evs[0].Seq != 6 {
		t.Fatalf("read %d events from seq %d, dropped %d", len(evs), evs[0].Seq, dropped)
	}
	var got []uint64
	remove := b.Sink(func(e device.Event) { got = append(got, e.Seq) })
	b.Publish(device.Event{Seq: 10})
	remove()
	b.Publish(device.Event{Seq: 11})
	if len(got) != 1 || got[0] != 10 {
		t.Fatalf("sink saw %v", got)
	}
}

// TestGrantAfterAnUpdate: the owner re-issues the tokens of a container that
// arrived by update; the new version takes the next sequence number.
func TestGrantAfterAnUpdate(t *testing.T) {
	l := testLab(t, 3)
	for _, line := range []string{"update bench-1 coach", "revoke bench-1 coach heartbeat", "grant bench-1 coach heartbeat"} {
		if _, err := l.Exec(line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		run(t, l, 5*time.Second)
		snap := l.Snapshot("bench-1")
		if r := snap.Detail.Suit.Last; r.Code != 0 {
			t.Fatalf("%s: %s %s", line, r.Result, r.Message)
		}
	}
	snap := l.Snapshot("bench-1")
	if c := snap.Detail.Containers[0]; c.Seq != 3 || c.State != "RUNNING" || c.Mask != "heartbeat" {
		t.Fatalf("after revoke and grant: %+v", c)
	}
}
