package device

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
	"tinylab/suit"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

// files is a minimal CoAP file server for the tests: the lab's repository
// lives in lab/repo, which the device must not import.
type files struct {
	mu     sync.Mutex
	m      map[string][]byte
	srv    *coapnet.Stateless
	served int
}

func newFiles(t testing.TB) *files {
	t.Helper()
	f := &files{m: map[string][]byte{}}
	srv, err := coapnet.ListenStateless("127.0.0.1:0", func(r *coapnet.Request) *coapnet.Reply {
		f.mu.Lock()
		b, ok := f.m[r.Path]
		f.served++
		f.mu.Unlock()
		if !ok {
			return &coapnet.Reply{Code: codes.NotFound}
		}
		return coapnet.Slice(r.Options, &coapnet.Reply{Code: codes.Content, Format: message.AppOctets, Body: b})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	f.srv = srv
	return f
}

func (f *files) put(p string, b []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[p] = b
	return f.srv.URI() + p
}

// suitRig is a device with a network, a file server and a trusted maintainer.
type suitRig struct {
	*rig
	files  *files
	signer suit.PrivateKey
	sock   *coapnet.Server
}

func testKey(t testing.TB, seed uint64) suit.PrivateKey {
	t.Helper()
	k, err := suit.GenerateKey(rand.NewChaCha8([32]byte{byte(seed)}))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSuitRig(t testing.TB, mod func(*Config)) *suitRig {
	t.Helper()
	signer := testKey(t, 1)
	r := newRig(t, func(c *Config) {
		c.Trust = []suit.PublicKey{signer.Public()}
		if mod != nil {
			mod(c)
		}
	})
	sr := &suitRig{rig: r, files: newFiles(t), signer: signer}
	sock, err := coapnet.Listen("127.0.0.1:0", r.d.Handler(), coapnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sock.Close)
	sr.sock = sock
	r.do(func() { r.d.SetNet(sock) })
	return sr
}

// release describes one update of a container.
type release struct {
	s       spec
	seq     uint64
	format  suit.Format
	vendor  uuid.UUID
	class   uuid.UUID
	signer  *suit.PrivateKey // nil: the rig's; &zero: unsigned
	tamper  func(parts map[string][]byte)
	edit    func(env []byte) []byte // after signing
	sizeFix int64                   // added to the code's declared size
}

// publish puts a container's three parts and its signed manifest on the
// file server and returns the manifest's URI.
func (sr *suitRig) publish(rel release) string {
	t := sr.t
	meta, code, data := build(t, rel.s)
	parts := map[string][]byte{"meta": meta, "code": code, "data": data}
	spec := suit.Spec{Format: rel.format, Sequence: rel.seq, VendorID: suit.VendorID(), ClassID: suit.ClassID(sr.d.cfg.Board.Name)}
	if rel.vendor != uuid.Nil {
		spec.VendorID = rel.vendor
	}
	if rel.class != uuid.Nil {
		spec.ClassID = rel.class
	}
	dir := fmt.Sprintf("/%s/v%d", rel.s.uid, rel.seq)
	for _, part := range tcParts {
		size := uint64(len(parts[part]))
		if part == "code" {
			size = uint64(int64(size) + rel.sizeFix)
		}
		spec.Components = append(spec.Components, suit.ComponentSpec{
			ID: suit.ComponentID{[]byte("tc"), []byte(rel.s.uid), []byte(part)}, URI: sr.files.srv.URI() + dir + "." + part,
			Digest: sha256.Sum256(parts[part]), Size: size,
		})
	}
	if rel.tamper != nil {
		rel.tamper(parts)
	}
	for part, b := range parts {
		sr.files.put(dir+"."+part, b)
	}
	env, err := suit.Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	key := sr.signer
	if rel.signer != nil {
		key = *rel.signer
	}
	if !key.IsZero() {
		if env, err = suit.Sign(env, key); err != nil {
			t.Fatal(err)
		}
	}
	if rel.edit != nil {
		env = rel.edit(env)
	}
	return sr.files.put(dir+".suit", env)
}

// update triggers an update and runs virtual time until it ends.
func (sr *suitRig) update(uri string) SuitResult {
	sr.t.Helper()
	var err error
	sr.do(func() { err = sr.d.TriggerUpdate(uri) })
	if err != nil {
		sr.t.Fatal(err)
	}
	sr.waitUpdate()
	var res SuitResult
	sr.do(func() { res = sr.d.suitStatus.Last })
	return res
}

func (sr *suitRig) waitUpdate() {
	sr.t.Helper()
	ok, err := sr.env.w.RunWhile(context.Background(), sr.env.w.Now()+time.Minute, func() bool { return sr.d.update != nil })
	if err != nil || !ok {
		sr.t.Fatalf("update did not end within a virtual minute (%v)\n%s", err, sr.log())
	}
}

func TestSuitUpdateOverCoAPInstallsAndRuns(t *testing.T) {
	for _, f := range []suit.Format{suit.FormatDraft09, suit.FormatFinal} {
		t.Run(f.String(), func(t *testing.T) {
			sr := newSuitRig(t, nil)
			v1 := spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}, data: []byte("zones 60 120 150")}
			res := sr.update(sr.publish(release{s: v1, seq: 1, format: f}))
			if res.Code != 0 || sr.state("coach") != Running {
				t.Fatalf("update: %+v, state %s\n%s", res, sr.state("coach"), sr.log())
			}
			sr.advance(2500 * time.Millisecond)
			if sr.count(KindHeartbeat) < 2 {
				t.Fatalf("installed container does not heartbeat:\n%s", sr.log())
			}
			log := sr.log(KindSuitStep, KindSuitResult)
			for _, want := range []string{"suit_coap: downloading", "suit: install OK (seq 1)"} {
				if !strings.Contains(log, want) {
					t.Errorf("missing %q in\n%s", want, log)
				}
			}
			if n := sr.count(KindSuitProgress); n < 3 {
				t.Errorf("only %d progress events for a block-wise fetch", n)
			}
			// v2 replaces the running v1: RUNNING -> STOPPING -> PROVISIONING -> READY -> RUNNING.
			v2 := v1
			v2.data = []byte("zones 65 125 155")
			if res := sr.update(sr.publish(release{s: v2, seq: 2, format: f})); res.Code != 0 {
				t.Fatalf("v2: %+v\n%s", res, sr.log())
			}
			states := sr.log(KindState)
			if !strings.Contains(states, "RUNNING -> STOPPING (update to a new version)") ||
				!strings.Contains(states, "STOPPING -> PROVISIONING (update via suit)") {
				t.Fatalf("update of a running container:\n%s", states)
			}
			var data []byte
			sr.do(func() { c, _ := sr.d.Container("coach"); data = c.data })
			if !bytes.Equal(data, v2.data) || sr.state("coach") != Running {
				t.Fatalf("after v2: data %q, state %s", data, sr.state("coach"))
			}
		})
	}
}

func TestSuitAttacksAreRefusedWithTheirCode(t *testing.T) {
	wrong := testKey(t, 9)
	unsigned := suit.PrivateKey{}
	v := spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}, data: []byte("v")}
	for _, tc := range []struct {
		name string
		rel  release
		code suit.Code
	}{
		{"tampered signature", release{edit: flipSignatureByte}, suit.CodeSignature},
		{"body edited after signing", release{edit: editSequence}, suit.CodeDigestMismatch},
		{"wrong key", release{signer: &wrong}, suit.CodeSignature},
		{"unsigned", release{signer: &unsigned}, suit.CodeSignature},
		{"replay (equal sequence number)", release{seq: 1}, suit.CodeSequenceNumber},
		{"rollback (lower sequence number)", release{seq: 0}, suit.CodeSequenceNumber},
		{"wrong vendor", release{vendor: uuid.NewSHA1(uuid.NameSpaceDNS, []byte("example.com"))}, suit.CodeCond},
		{"wrong class", release{class: suit.ClassID("native")}, suit.CodeCond},
		{"payload digest mismatch", release{tamper: func(p map[string][]byte) { p["code"][len(p["code"])-9] ^= 0xff }}, suit.CodeDigestMismatch},
		{"payload size mismatch", release{sizeFix: 8}, suit.CodeStorageExceeded},
		{"slot too small", release{sizeFix: 64 << 10}, suit.CodeStorageExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := newSuitRig(t, nil)
			if res := sr.update(sr.publish(release{s: v, seq: 1})); res.Code != 0 {
				t.Fatalf("v1: %+v", res)
			}
			before := sr.Slots()
			rel := tc.rel
			rel.s = v
			rel.s.data = []byte("attacker's data")
			if rel.seq == 0 && tc.code != suit.CodeSequenceNumber {
				rel.seq = 2
			}
			res := sr.update(sr.publish(rel))
			if res.Code != int(tc.code) {
				t.Fatalf("result %+v, want %s (%d)\n%s", res, tc.code, tc.code, sr.log(KindSuitStep, KindSuitResult))
			}
			if got := sr.Slots(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Fatalf("a refused update changed storage:\nbefore %v\nafter  %v", before, got)
			}
			if sr.state("coach") != Running {
				t.Fatalf("the installed container stopped: %s", sr.state("coach"))
			}
			var seq uint64
			sr.do(func() { seq = sr.d.Sequence("tc.coach") })
			if seq != 1 {
				t.Fatalf("stored sequence number moved to %d", seq)
			}
		})
	}
}

// Slots reads the device's storage in the world.
func (sr *suitRig) Slots() []SlotInfo {
	var s []SlotInfo
	sr.do(func() { s = sr.d.Slots() })
	return s
}

// flipSignatureByte changes the last byte of the COSE_Sign1 block, which is
// the last byte of its signature.
func flipSignatureByte(env []byte) []byte {
	e, err := suit.Decode(env)
	if err != nil || e.Auth == nil || len(e.Auth.Blocks) == 0 {
		panic(fmt.Sprint("no signature to tamper with: ", err))
	}
	block := e.Auth.Blocks[0]
	i := bytes.Index(env, block)
	out := bytes.Clone(env)
	out[i+len(block)-1] ^= 1
	return out
}

// editSequence changes the manifest after signing: the sequence number 2
// becomes 3 inside the signed bytes.
func editSequence(env []byte) []byte {
	e, err := suit.Decode(env)
	if err != nil {
		panic(err)
	}
	i := bytes.Index(env, e.ManifestBytes)
	out := bytes.Clone(env)
	m := out[i : i+len(e.ManifestBytes)]
	// manifest map: key 2 (sequence) then the value 2; find "02 02"
	j := bytes.Index(m, []byte{0x02, 0x02})
	if j < 0 {
		panic("sequence number not found in the manifest")
	}
	m[j+1] = 0x03
	return out
}

func TestPowerCutDuringUpdateKeepsTheOldContainer(t *testing.T) {
	for _, when := range []struct {
		name  string
		until func(sr *suitRig) bool
	}{
		{"mid-fetch", func(sr *suitRig) bool { return sr.d.suitStatus.State == "fetching" && sr.d.suitStatus.Done > 0 }},
		{"mid-install", func(sr *suitRig) bool { return sr.d.suitStatus.State == "installing" }},
	} {
		t.Run(when.name, func(t *testing.T) {
			sr := newSuitRig(t, nil)
			v1 := spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}, data: []byte("v1")}
			if res := sr.update(sr.publish(release{s: v1, seq: 1})); res.Code != 0 {
				t.Fatalf("v1: %+v", res)
			}
			v2 := v1
			v2.data = bytes.Repeat([]byte("v2"), 600)
			uri := sr.publish(release{s: v2, seq: 2})
			sr.do(func() { _ = sr.d.TriggerUpdate(uri) })
			ok, err := sr.env.w.RunWhile(context.Background(), sr.env.w.Now()+time.Minute, func() bool { return !when.until(sr) })
			if err != nil || !ok {
				t.Fatalf("update never reached %s\n%s", when.name, sr.log())
			}
			sr.do(func() { _ = sr.d.PowerCut("test") })
			sr.waitUpdate()
			sr.do(func() { _ = sr.d.PowerOn("power restored") })
			sr.advance(1500 * time.Millisecond)
			var data []byte
			var seq uint64
			sr.do(func() {
				c, _ := sr.d.Container("coach")
				data, seq = c.data, sr.d.Sequence("tc.coach")
			})
			if string(data) != "v1" || seq != 1 || sr.state("coach") != Running {
				t.Fatalf("after a cut %s: data %q seq %d state %s\n%s", when.name, data, seq, sr.state("coach"), sr.log())
			}
			if res := sr.log(KindSuitResult); !strings.Contains(res, "interrupted by a power cut") {
				t.Fatalf("the result should say the update was interrupted:\n%s", res)
			}
		})
	}
}

func TestStateFolderKeepsSequenceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	v1 := spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}, data: []byte("v1")}
	store := func(c *Config) {
		s, err := NewDirStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		c.Store, c.PersistRAM = s, true
	}
	first := newSuitRig(t, store)
	uri := first.publish(release{s: v1, seq: 1})
	if res := first.update(uri); res.Code != 0 {
		t.Fatalf("v1: %+v", res)
	}
	// A new lab: a new device on the same state folder, the same trusted key.
	second := newSuitRig(t, store)
	if second.state("coach") != Running {
		t.Fatalf("the container did not come back from the state folder:\n%s", second.log())
	}
	res := second.update(uri)
	if res.Code != int(suit.CodeSequenceNumber) {
		t.Fatalf("replay after a restart: %+v", res)
	}
}

func TestTriggerErrors(t *testing.T) {
	sr := newSuitRig(t, nil)
	var err error
	sr.do(func() { err = sr.d.TriggerUpdate("http://nope/") })
	if !errors.Is(err, coapnet.ErrBadURI) {
		t.Fatalf("bad URI: %v", err)
	}
	res := sr.update(sr.files.srv.URI() + "/missing.suit")
	if res.Code == 0 || !strings.Contains(res.Message, "manifest download") {
		t.Fatalf("missing manifest: %+v", res)
	}
}

// publishRAM puts a RAM-slot image (RIOT's .ram.0) and its signed manifest
// on the file server and returns the manifest's URI.
func (sr *suitRig) publishRAM(seq uint64) string {
	t := sr.t
	img, err := asm.Assemble("mov %r0, 42\nexit")
	if err != nil {
		t.Fatal(err)
	}
	code, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("/ram/v%d", seq)
	spec := suit.Spec{Format: suit.FormatDraft09, Sequence: seq, VendorID: suit.VendorID(), ClassID: suit.ClassID(sr.d.cfg.Board.Name),
		Components: []suit.ComponentSpec{{ID: suit.ComponentID{[]byte("ram"), []byte("0")}, URI: sr.files.srv.URI() + dir + ".bin", Digest: sha256.Sum256(code), Size: uint64(len(code))}}}
	sr.files.put(dir+".bin", code)
	env, err := suit.Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	if env, err = suit.Sign(env, sr.signer); err != nil {
		t.Fatal(err)
	}
	return sr.files.put(dir+".suit", env)
}

// TestOneSequenceNumberPerDevice follows RIOT: a manifest must be above the
// highest sequence number stored in any storage
// (suit_storage_get_highest_seq_no), so a RAM-slot image at seq 1 is refused
// while a container is at seq 2. Per-container numbering is an option, and
// its check says it is not RIOT's.
func TestOneSequenceNumberPerDevice(t *testing.T) {
	v := spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}}
	for _, tc := range []struct {
		name         string
		perContainer bool
		code         int
		msg          string
	}{
		{"riot", false, int(suit.CodeSequenceNumber), "Manifest seq_no: 1, highest available: 2; seq_nr <= running image"},
		{"per-container", true, 0, "Manifest seq_no: 1, highest available: 0 (per-container numbering, not RIOT's one per device: ram)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := newSuitRig(t, func(c *Config) { c.SeqPerContainer = tc.perContainer })
			if res := sr.update(sr.publish(release{s: v, seq: 2})); res.Code != 0 {
				t.Fatalf("container at seq 2: %+v", res)
			}
			res := sr.update(sr.publishRAM(1))
			if res.Code != tc.code {
				t.Fatalf("RAM manifest at seq 1: %+v\n%s", res, sr.log(KindSuitStep))
			}
			if log := sr.log(KindSuitStep); !strings.Contains(log, tc.msg) {
				t.Fatalf("no %q in\n%s", tc.msg, log)
			}
			var status statusDoc
			sr.do(func() { status = sr.d.statusDoc() })
			if want := uint64(2); !tc.perContainer && status.SeqNo != want {
				t.Fatalf("/suit/status seq_no %d, want the device's highest %d", status.SeqNo, want)
			}
		})
	}
}
