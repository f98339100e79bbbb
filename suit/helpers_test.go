package suit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// testKey returns a deterministic Ed25519 key for seed.
func testKey(t testing.TB, seed byte) PrivateKey {
	t.Helper()
	k, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// payload returns n deterministic bytes.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func ramID(n int) ComponentID { return ComponentID{[]byte("ram"), []byte(fmt.Sprint(n))} }

// recorder collects events.
type recorder struct{ events []Event }

func (r *recorder) on(e Event) { r.events = append(r.events, e) }

func (r *recorder) has(step Step, status Status) bool {
	for _, e := range r.events {
		if e.Step == step && e.Status == status {
			return true
		}
	}
	return false
}

func (r *recorder) failed() (Event, bool) {
	for _, e := range r.events {
		if e.Status == Failed {
			return e, true
		}
	}
	return Event{}, false
}

// blockFetcher serves payloads by URI in blocks, like a block-wise CoAP
// transfer; a URI it does not know fails.
type blockFetcher struct {
	files map[string][]byte
	block int
	// cut, when set, is called after each block (the test cancels there).
	cut func(done int)
}

func (f *blockFetcher) Fetch(ctx context.Context, uri string, w io.Writer, progress func(done, total uint64)) error {
	data, ok := f.files[uri]
	if !ok {
		return errors.New("4.04 Not Found")
	}
	bs := f.block
	if bs == 0 {
		bs = 64
	}
	for off := 0; off < len(data); off += bs {
		end := min(off+bs, len(data))
		if _, err := w.Write(data[off:end]); err != nil {
			return err
		}
		progress(uint64(end), uint64(len(data)))
		if f.cut != nil {
			f.cut(end)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// update is a signed envelope with its payloads, for procedure tests.
type update struct {
	spec     Spec
	payloads map[string][]byte // by location
	key      PrivateKey
}

func newUpdate(t testing.TB, f Format, seq uint64, sizes ...int) *update {
	t.Helper()
	u := &update{payloads: map[string][]byte{}, key: testKey(t, 1)}
	u.spec = Spec{Format: f, Sequence: seq, VendorID: VendorID(), ClassID: ClassID("native")}
	for i, n := range sizes {
		p := payload(n, uint64(i)+seq*10)
		id := ramID(i)
		u.payloads[id.Location()] = p
		u.spec.Components = append(u.spec.Components, ComponentSpec{
			ID: id, URI: fmt.Sprintf("coap://[::1]/fw/%d.bin", i), Digest: sha256.Sum256(p), Size: uint64(n),
		})
	}
	return u
}

func (u *update) signed(t testing.TB) []byte {
	t.Helper()
	raw, err := Create(u.spec)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sign(raw, u.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// device is the state a device keeps between updates.
type device struct {
	storage *MemStorage
	seq     *MemSeq
}

func newDevice(stored uint64) *device {
	return &device{storage: NewRAMStorage(3, 64<<10), seq: NewMemSeq(stored)}
}

func (d *device) config(u *update, rec *recorder) Config {
	return Config{
		Keys:     []PublicKey{u.key.Public()},
		VendorID: VendorID(), ClassID: ClassID("native"),
		Storage: d.storage, Seq: d.seq,
		Payloads: u.payloads,
		OnEvent:  rec.on,
	}
}

// codeOf returns the code of a *Error, CodeOK for nil; anything else fails
// the test.
func codeOf(t testing.TB, err error) Code {
	t.Helper()
	if err == nil {
		return CodeOK
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *suit.Error", err, err)
	}
	if !errors.Is(err, e.Code.Err()) {
		t.Fatalf("errors.Is(%v, %v) is false", err, e.Code)
	}
	return e.Code
}
