package device

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
	"tinylab/lab/sim"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

// testEnv is the lab's world, reduced to what a device needs.
type testEnv struct {
	w      *sim.World
	events []Event
}

func (e *testEnv) Now() time.Duration       { return e.w.Now() }
func (e *testEnv) NewTimer(fn func()) Timer { return e.w.NewTimer(fn) }
func (e *testEnv) Go(fn func(Task)) Task    { return e.w.Go(func(t *sim.Task) { fn(t) }) }
func (e *testEnv) Do(fn func())             { e.w.Do(fn) }
func (e *testEnv) Emit(ev Event)            { e.events = append(e.events, ev) }

var ownerKey = ed25519.NewKeyFromSeed(make([]byte, 32))

// rig is one device in a fast world.
type rig struct {
	t   testing.TB
	env *testEnv
	d   *Device
}

func newRig(t testing.TB, mod func(*Config)) *rig {
	t.Helper()
	env := &testEnv{w: sim.New(sim.Fast)}
	b, _ := LookupBoard("nrf52840dk")
	cfg := Config{
		ID: "dev", Board: b, Seed: 1, Owners: []ed25519.PublicKey{ownerKey.Public().(ed25519.PublicKey)},
		Peers: []PeerSpec{
			{ID: 10, Name: "hr", Class: ClassHeartRate, Model: ModelWalk, Start: 70, Min: 60, Max: 180},
			{ID: 11, Name: "temp", Class: ClassTemperature, Model: ModelScript, Start: 21.5},
			{ID: 20, Name: "display", Class: ClassDisplay},
			{ID: 21, Name: "lock", Class: ClassLock},
		},
		// plain CoAP manages the rig as the owner (the demo mode); the
		// authority tests build secure rigs
		Access: Access{Insecure: true},
	}
	if mod != nil {
		mod(&cfg)
	}
	r := &rig{t: t, env: env}
	var err error
	env.w.Do(func() {
		r.d, err = New(cfg, env)
		if err == nil {
			err = r.d.PowerOn("power on")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// do runs fn in the world.
func (r *rig) do(fn func()) { r.env.w.Do(fn) }

// advance lets virtual time pass.
func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	if err := r.env.w.RunUntil(context.Background(), r.env.w.Now()+d); err != nil {
		r.t.Fatal(err)
	}
}

// spec describes a test container.
type spec struct {
	uid       string
	src       string // assembly with start:/loop:/stop: labels
	grants    []string
	endpoints []firewall.Endpoint
	timing    firewall.Timing
	data      []byte
	signer    ed25519.PrivateKey
}

// build assembles and signs a container: metadata, code (an rBPF image) and data.
func build(t testing.TB, s spec) (meta, code, data []byte) {
	t.Helper()
	img, err := asm.Assemble(s.src)
	if err != nil {
		t.Fatalf("%s: %v", s.uid, err)
	}
	code, err = rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	mask, err := firewall.ParseGrants(s.grants)
	if err != nil {
		t.Fatal(err)
	}
	if s.timing == (firewall.Timing{}) {
		s.timing = firewall.Timing{StartMaxMS: 100, LoopPeriodMS: 1000, LoopMaxMS: 20, LoopMaxLifetime: 0, StopMaxMS: 100}
	}
	key := s.signer
	if key == nil {
		key = ownerKey
	}
	meta, err = firewall.Build(firewall.Spec{UID: s.uid, Type: firewall.TypeBPF, Grants: mask, Endpoints: s.endpoints, Timing: s.timing, Code: code, Data: s.data}, key)
	if err != nil {
		t.Fatal(err)
	}
	return meta, code, s.data
}

func (r *rig) load(s spec) *Container {
	r.t.Helper()
	meta, code, data := build(r.t, s)
	var c *Container
	var err error
	r.do(func() { c, err = r.d.Load(meta, code, data, "test") })
	if err != nil {
		r.t.Fatalf("load %s: %v", s.uid, err)
	}
	return c
}

func (r *rig) state(uid string) State {
	var s State
	r.do(func() {
		if c := r.d.container(uid); c != nil {
			s = c.State
		}
	})
	return s
}

// log renders the events of a kind (all kinds when none given), one per line.
func (r *rig) log(kinds ...Kind) string {
	var b strings.Builder
	for _, e := range r.env.events {
		if len(kinds) == 0 || containsKind(kinds, e.Data.Kind()) {
			fmt.Fprintln(&b, e.String())
		}
	}
	return b.String()
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// count is how many events of kind k there are.
func (r *rig) count(k Kind) int {
	n := 0
	for _, e := range r.env.events {
		if e.Data.Kind() == k {
			n++
		}
	}
	return n
}

// Programs used across the tests. Helper numbers: 0x01 printf, 0x71
// heartbeat, 0x72 open, 0x73 close, 0x74 read, 0x75 write, 0x10/0x12
// store/fetch local.
const heartbeatSrc = `
start:
  mov %r0, 0
  exit
loop:
  call 0x71
  mov %r0, 0
  exit
stop:
  mov %r0, 0
  exit
`

func ed25519Key(seed byte) ed25519.PrivateKey {
	s := make([]byte, 32)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}
