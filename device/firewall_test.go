package device

import (
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
)

// Endpoint programs. r6 keeps the fd across helper calls (r1-r5 are
// clobbered). Helper numbers: 0x72 open, 0x73 close, 0x74 read, 0x75 write.
const (
	// openReadSrc opens endpoint EP and reads 4 bytes into the stack.
	openReadSrc = `
loop:
  mov %r1, EP
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
	// readFDSrc reads from fd FD without opening anything.
	readFDSrc = `
loop:
  mov %r1, FD
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r0, 0
  exit
`
	// holdSrc opens endpoint 1 once (in start) and keeps the fd.
	holdSrc = `
start:
  mov %r1, 1
  call 0x72
  mov %r0, 0
  exit
loop:
  mov %r0, 0
  exit
`
	// badPointerSrc opens endpoint 1 and reads into address 0.
	badPointerSrc = `
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, 0
  mov %r3, 4
  call 0x74
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
`
	// threeBeatsSrc calls heartbeat three times a loop.
	threeBeatsSrc = `
loop:
  call 0x71
  call 0x71
  call 0x71
  mov %r0, 0
  exit
`
)

func src(s string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(s)
}

var (
	hrIn       = firewall.Endpoint{ID: 1, Peer: firewall.PeerLocal, PeerEndpoint: 10, Direction: firewall.DirIn}
	displayOut = firewall.Endpoint{ID: 2, Peer: firewall.PeerLocal, PeerEndpoint: 20, Direction: firewall.DirOut}
)

// TestEachDenialReason shows every kind of denial the firewall makes, each
// from a real container program through the device's helpers.
func TestEachDenialReason(t *testing.T) {
	for _, tc := range []struct {
		reason string
		cfg    func(*Config)
		setup  func(r *rig)
		uid    string
		want   string
	}{
		{reason: "not-granted", uid: "a", setup: func(r *rig) {
			r.load(spec{uid: "a", src: heartbeatSrc})
		}, want: "denied: a heartbeat (not granted: "},
		{reason: "unknown-endpoint", uid: "a", setup: func(r *rig) {
			r.load(spec{uid: "a", src: src(openReadSrc, "EP", "9"), grants: []string{"open", "read", "close"}, endpoints: []firewall.Endpoint{hrIn}})
		}, want: "denied: a open endpoint 9"},
		{reason: "wrong-direction", uid: "a", setup: func(r *rig) {
			r.load(spec{uid: "a", src: src(openReadSrc, "EP", "2"), grants: []string{"open", "read", "close"}, endpoints: []firewall.Endpoint{displayOut}})
		}, want: "denied: a read fd 1"},
		{reason: "endpoint-not-open", uid: "a", setup: func(r *rig) {
			r.load(spec{uid: "a", src: src(readFDSrc, "FD", "5"), grants: []string{"read"}})
		}, want: "denied: a read fd 5"},
		{reason: "foreign-fd", uid: "b", setup: func(r *rig) {
			r.load(spec{uid: "holder", src: holdSrc, grants: []string{"open"}, endpoints: []firewall.Endpoint{hrIn}})
			r.do(func() { _ = r.d.Start("holder") })
			r.load(spec{uid: "b", src: src(readFDSrc, "FD", "1"), grants: []string{"read"}})
		}, want: "denied: b read fd 1"},
		{reason: "peer-not-running", uid: "a", setup: func(r *rig) {
			r.load(spec{uid: "peer", src: heartbeatSrc})
			r.load(spec{uid: "a", src: src(openReadSrc, "EP", "3"), grants: []string{"open", "read", "close"},
				endpoints: []firewall.Endpoint{{ID: 3, Peer: firewall.PeerContainer, PeerUID: "peer", PeerEndpoint: 1, Direction: firewall.DirBoth}}})
		}, want: "denied: a open endpoint 3"},
		{reason: "bad-pointer", uid: "a", setup: func(r *rig) {
			r.load(spec{uid: "a", src: badPointerSrc, grants: []string{"open", "read", "close"}, endpoints: []firewall.Endpoint{hrIn}})
		}, want: "denied: a read fd 1"},
		{reason: "budget-exceeded", uid: "a", cfg: func(c *Config) { c.CallsPerLoop = 2 }, setup: func(r *rig) {
			r.load(spec{uid: "a", src: threeBeatsSrc, grants: []string{"heartbeat"}})
		}, want: "denied: a heartbeat"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := newRig(t, tc.cfg)
			tc.setup(r)
			r.do(func() { _ = r.d.Start(tc.uid) })
			r.advance(1500 * time.Millisecond)
			log := r.log(KindDenied)
			if !strings.Contains(log, tc.want) || !strings.Contains(log, "("+strings.ReplaceAll(tc.reason, "-", " ")) {
				t.Fatalf("want %q with (%s) in\n%s", tc.want, tc.reason, r.log())
			}
			var denied uint64
			r.do(func() { denied = r.d.fw.DeniedBy(tc.uid)[mustReason(t, tc.reason)] })
			if denied == 0 {
				t.Fatalf("the firewall did not count the %s denial", tc.reason)
			}
			if r.state(tc.uid) != Running {
				t.Fatalf("a denied call must not stop the container; it is %s", r.state(tc.uid))
			}
		})
	}
}

func mustReason(t *testing.T, s string) firewall.Reason {
	r, err := firewall.ParseReason(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sensorDisplaySrc reads the heart rate (endpoint 1) and writes "HR!" to the
// display (endpoint 2); r0 is the heart rate read.
const sensorDisplaySrc = `
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  ldxw %r8, [%r10-8]
  mov %r1, %r6
  call 0x73
  mov %r1, 2
  call 0x72
  mov %r7, %r0
  stw [%r10-16], 0x00215248
  mov %r1, %r7
  mov %r2, %r10
  add %r2, -16
  mov %r3, 4
  call 0x75
  mov %r1, %r7
  call 0x73
  mov %r0, 0
  exit
`

func TestSensorsAndActuatorsThroughEndpoints(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "coach", src: sensorDisplaySrc, grants: []string{"open", "read", "write", "close"}, endpoints: []firewall.Endpoint{hrIn, displayOut}})
	r.do(func() { _ = r.d.Start("coach") })
	r.advance(2500 * time.Millisecond)
	if log := r.log(KindActuator); !strings.Contains(log, "coach -> display: HR!") {
		t.Fatalf("display not written:\n%s", r.log())
	}
	if n := r.count(KindDenied); n != 0 {
		t.Fatalf("%d denials for a fully granted container:\n%s", n, r.log(KindDenied))
	}
	var text string
	r.do(func() { p, _ := r.d.Peer("display"); text = p.Text })
	if text != "HR!" {
		t.Fatalf("display shows %q", text)
	}
}

// The analytics tenant's container may not read the heart rate: no read
// grant. The same program with the grant reads it.
func TestReadWithoutGrantIsDenied(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "analytics", src: src(openReadSrc, "EP", "1"), grants: []string{"open", "close"}, endpoints: []firewall.Endpoint{hrIn}})
	r.do(func() { _ = r.d.Start("analytics") })
	r.advance(3500 * time.Millisecond)
	if got := strings.Count(r.log(KindDenied), "denied: analytics read fd"); got != 3 {
		t.Fatalf("%d read denials in 3 loops, want 3:\n%s", got, r.log())
	}
}

// pingSrc writes its loop count to a peer container; pongSrc reads it.
const (
	pingSrc = `
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  stw [%r10-8], 0x676e6970
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x75
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
`
	pongSrc = `
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 8
  call 0x74
  mov %r7, %r0
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
`
)

func TestContainerToContainerEndpoint(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "ping", src: pingSrc, grants: []string{"open", "write", "close"},
		endpoints: []firewall.Endpoint{{ID: 1, Peer: firewall.PeerContainer, PeerUID: "pong", PeerEndpoint: 1, Direction: firewall.DirOut}}})
	r.load(spec{uid: "pong", src: pongSrc, grants: []string{"open", "read", "close"},
		endpoints: []firewall.Endpoint{{ID: 1, Peer: firewall.PeerContainer, PeerUID: "ping", PeerEndpoint: 1, Direction: firewall.DirIn}}})
	r.do(func() { _ = r.d.Start("pong"); _ = r.d.Start("ping") })
	r.advance(3500 * time.Millisecond)
	if n := r.count(KindDenied); n != 0 {
		t.Fatalf("bridge between two running containers denied:\n%s", r.log(KindDenied))
	}
	if log := r.log(KindActuator); !strings.Contains(log, "ping -> pong endpoint 1: 4 bytes") {
		t.Fatalf("no message across the bridge:\n%s", r.log())
	}
	var left int
	r.do(func() { c, _ := r.d.Container("pong"); left = len(c.inbox[1]) })
	if left > 1 {
		t.Fatalf("pong did not drain its endpoint: %d messages queued", left)
	}
}
