package suit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

var formats = []Format{FormatDraft09, FormatFinal}

// TestRoundTrip builds, signs and installs updates of one to three
// components in both formats.
func TestRoundTrip(t *testing.T) {
	for _, f := range formats {
		for _, sizes := range [][]int{{4096}, {100, 4096, 0}, {1}} {
			t.Run(fmt.Sprintf("%v/%v", f, sizes), func(t *testing.T) {
				u := newUpdate(t, f, 2, sizes...)
				dev := newDevice(1)
				rec := &recorder{}
				rep, err := Process(context.Background(), dev.config(u, rec), u.signed(t))
				if err != nil {
					t.Fatal(err)
				}
				if rep.Sequence != 2 || rep.Format != f || len(rep.Installed) != len(sizes) {
					t.Fatalf("report %+v", rep)
				}
				for i, in := range rep.Installed {
					want := u.payloads[ramID(i).Location()]
					if in.Location != ramID(i).Location() || in.Size != uint64(len(want)) || in.SHA256 != sha256.Sum256(want) {
						t.Errorf("installed %+v, want %s %d bytes", in, ramID(i).Location(), len(want))
					}
					if got := dev.storage.Content(in.Location); !bytes.Equal(got, want) {
						t.Errorf("%s holds %d bytes, want the %d of the payload", in.Location, len(got), len(want))
					}
				}
				if s, _ := dev.seq.Load(); s != 2 {
					t.Errorf("stored seq %d, want 2", s)
				}
			})
		}
	}
}

// TestEventsOrder checks the order and wording of a successful update's
// events: RIOT's order of checks, RIOT's log lines where RIOT has one.
func TestEventsOrder(t *testing.T) {
	u := newUpdate(t, FormatDraft09, 2, 300)
	rec := &recorder{}
	if _, err := Process(context.Background(), newDevice(1).config(u, rec), u.signed(t)); err != nil {
		t.Fatal(err)
	}
	var got []Step
	msgs := map[Step]string{}
	for _, e := range rec.events {
		if e.Status == Passed {
			got = append(got, e.Step)
			msgs[e.Step] = e.Message
		}
	}
	want := []Step{StepEnvelope, StepSignature, StepManifestDigest, StepManifest, StepVersion,
		StepSequenceNumber, StepComponents, StepParameters, StepVendor, StepClass, StepParameters,
		StepPolicy, StepFetch, StepImageMatch, StepImageMatch, StepInstall, StepInstall}
	if !slices.Equal(got, want) {
		t.Errorf("passed steps\n got %v\nwant %v", got, want)
	}
	for step, s := range map[Step]string{
		StepSequenceNumber: "Manifest seq_no: 2, highest available: 1",
		StepVersion:        "suit: validated manifest version",
		StepPolicy:         "SUIT policy check OK.",
		StepVendor:         "Comparing 547d0d74-6d3a-5a92-9662-4881afd9407b to 547d0d74-6d3a-5a92-9662-4881afd9407b from manifest",
		StepInstall:        "Stored sequence number: 2",
	} {
		if !strings.Contains(msgs[step], s) {
			t.Errorf("%v says %q, want it to contain %q", step, msgs[step], s)
		}
	}
	var progress []uint64
	for _, e := range rec.events {
		if e.Status == Progress {
			progress = append(progress, e.Done, e.Total)
		}
	}
	if !slices.Equal(progress, []uint64{300, 300}) {
		t.Errorf("progress %v, want [300 300]", progress)
	}
}

// mutate decodes a signed envelope, lets edit change it and encodes it
// again, without signing.
func mutate(t *testing.T, signed []byte, edit func(env *Envelope)) []byte {
	t.Helper()
	env, err := Decode(signed)
	if err != nil {
		t.Fatal(err)
	}
	edit(env)
	out, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// resign re-encodes an edited manifest and signs it again.
func resign(t *testing.T, u *update, edit func(m *Manifest)) []byte {
	t.Helper()
	out := mutate(t, u.signed(t), func(env *Envelope) {
		edit(env.Manifest)
		env.ManifestBytes = nil
		env.Auth = nil
	})
	s, err := Sign(out, u.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAttacks runs every attack the SUIT documents list against a device
// that holds version 1, in both formats, and checks the code, the step and
// that nothing installed changed.
func TestAttacks(t *testing.T) {
	type attack struct {
		name string
		// build returns the envelope and may change the device config.
		build func(t *testing.T, u *update, cfg *Config) []byte
		code  Code
		step  Step
	}
	other := testKey(t, 9)
	attacks := []attack{
		{"tampered signature", func(t *testing.T, u *update, _ *Config) []byte {
			return mutate(t, u.signed(t), func(env *Envelope) {
				b := env.Auth.Blocks[0]
				b[len(b)-1] ^= 1
			})
		}, CodeSignature, StepSignature},
		{"body edited after signing", func(t *testing.T, u *update, _ *Config) []byte {
			return mutate(t, u.signed(t), func(env *Envelope) {
				env.Manifest.Sequence = 99
				env.ManifestBytes = nil
			})
		}, CodeDigestMismatch, StepManifestDigest},
		{"body and digest edited after signing", func(t *testing.T, u *update, _ *Config) []byte {
			return mutate(t, u.signed(t), func(env *Envelope) {
				old := digestOfWrapped(env.ManifestBytes)
				env.Manifest.Sequence = 99
				mb, err := env.Manifest.Encode(env.Format)
				if err != nil {
					t.Fatal(err)
				}
				env.ManifestBytes = mb
				sum := digestOfWrapped(mb)
				if env.Format == FormatFinal {
					env.Auth.Digest = bytes.ReplaceAll(env.Auth.Digest, old[:], sum[:])
				} else {
					env.Auth.Blocks[0] = bytes.ReplaceAll(env.Auth.Blocks[0], old[:], sum[:])
				}
			})
		}, CodeSignature, StepSignature},
		{"wrong key", func(t *testing.T, u *update, _ *Config) []byte {
			raw, _ := Create(u.spec)
			s, err := Sign(raw, other)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, CodeSignature, StepSignature},
		{"unsigned", func(t *testing.T, u *update, _ *Config) []byte {
			raw, err := Create(u.spec)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}, CodeSignature, StepSignature},
		{"no authentication wrapper", func(t *testing.T, u *update, _ *Config) []byte {
			return mutate(t, u.signed(t), func(env *Envelope) { env.Auth = nil })
		}, CodeSignature, StepSignature},
		{"sequence number equal", func(t *testing.T, u *update, _ *Config) []byte {
			u.spec.Sequence = 1
			return u.signed(t)
		}, CodeSequenceNumber, StepSequenceNumber},
		{"sequence number lower", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Seq = NewMemSeq(5)
			u.spec.Sequence = 4
			return u.signed(t)
		}, CodeSequenceNumber, StepSequenceNumber},
		{"wrong vendor", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.VendorID = ClassID("another vendor")
			return u.signed(t)
		}, CodeCond, StepVendor},
		{"wrong class", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.ClassID = ClassID("nrf52840dk")
			return u.signed(t)
		}, CodeCond, StepClass},
		{"payload digest mismatch", func(t *testing.T, u *update, cfg *Config) []byte {
			p := slices.Clone(u.payloads[".ram.0"])
			p[0] ^= 0xff
			cfg.Payloads = map[string][]byte{".ram.0": p}
			return u.signed(t)
		}, CodeDigestMismatch, StepImageMatch},
		{"payload longer than image-size", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Payloads = map[string][]byte{".ram.0": append(slices.Clone(u.payloads[".ram.0"]), 0)}
			return u.signed(t)
		}, CodeStorageExceeded, StepFetch},
		{"payload shorter than image-size", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Payloads = map[string][]byte{".ram.0": u.payloads[".ram.0"][:100]}
			return u.signed(t)
		}, CodeStorageExceeded, StepFetch},
		{"slot too small", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Storage = NewMemStorage(map[string]uint64{".ram.0": 1024})
			return u.signed(t)
		}, CodeStorageExceeded, StepFetch},
		{"unknown storage location", func(t *testing.T, u *update, _ *Config) []byte {
			u.spec.Components[0].ID = ComponentID{[]byte("flash"), []byte("7")}
			return u.signed(t)
		}, CodeStorageUnavailable, StepComponents},
		{"device policy refuses", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Policy = func(m *Manifest) error { return errors.New("tenant may not write .ram.0") }
			return u.signed(t)
		}, CodePolicyForbidden, StepPolicy},
		{"no vendor condition", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				m.Shared = slices.DeleteFunc(m.Shared, func(c Command) bool { return c.Op == OpVendorIdentifier })
			})
		}, CodePolicyForbidden, StepPolicy},
		{"manifest version 2", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) { m.Version = 2 })
		}, CodeSequenceNumber, StepVersion},
		{"unsupported command", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				s := m.Sections[SectionInstall]
				s.Commands = append(CommandSequence{{Op: OpCopy, Policy: 2}}, s.Commands...)
			})
		}, CodeUnsupported, StepCommand},
		{"unsupported section", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				m.Sections[SectionInvoke] = &Section{Kind: SectionInvoke, Commands: CommandSequence{{Op: OpInvoke, Policy: 2}}}
			})
		}, CodeUnsupported, StepSection},
		{"unsupported parameter", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				m.Shared[0].Params.SourceComponent = new(uint64)
			})
		}, CodeUnsupported, StepParameters},
		{"component index out of range", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				m.Shared = append(CommandSequence{{Op: OpSetComponentIndex, Index: IndexArg{Indices: []uint64{3}}}}, m.Shared...)
			})
		}, CodeInvalidManifest, StepCommand},
		{"fetch twice", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				s := m.Sections[SectionInstall]
				s.Commands = append(s.Commands, Command{Op: OpFetch, Policy: 2})
			})
		}, CodeInvalidManifest, StepFetch},
		{"fetched but never matched", func(t *testing.T, u *update, _ *Config) []byte {
			return resign(t, u, func(m *Manifest) {
				m.Sections[SectionValidate] = nil
				s := m.Sections[SectionInstall]
				s.Commands = slices.DeleteFunc(s.Commands, func(c Command) bool { return c.Op == OpImageMatch })
			})
		}, CodeInvalidManifest, StepInstall},
		{"no fetcher for the URI", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Payloads = nil
			return u.signed(t)
		}, CodeUnsupported, StepFetch},
		{"transfer fails", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Payloads = nil
			cfg.Fetcher = &blockFetcher{files: map[string][]byte{}}
			return u.signed(t)
		}, CodeStorage, StepFetch},
		{"draft-09 only client gets a final envelope", func(t *testing.T, u *update, cfg *Config) []byte {
			cfg.Formats = []Format{FormatDraft09}
			u.spec.Format = FormatFinal
			return u.signed(t)
		}, CodeInvalidManifest, StepEnvelope},
	}
	for _, f := range formats {
		for _, a := range attacks {
			t.Run(f.String()+"/"+a.name, func(t *testing.T) {
				dev := newDevice(0)
				v1 := newUpdate(t, f, 1, 2048)
				if _, err := Process(context.Background(), dev.config(v1, &recorder{}), v1.signed(t)); err != nil {
					t.Fatal(err)
				}
				u := newUpdate(t, f, 2, 2048)
				rec := &recorder{}
				cfg := dev.config(u, rec)
				env := a.build(t, u, &cfg)
				rep, err := Process(context.Background(), cfg, env)
				if rep != nil {
					t.Errorf("report %+v on failure", rep)
				}
				code := codeOf(t, err)
				var e *Error
				errors.As(err, &e)
				if code != a.code || e.Step != a.step {
					t.Fatalf("got %v at %v (%v), want %v at %v", code, e.Step, err, a.code, a.step)
				}
				ev, ok := rec.failed()
				if !ok || ev.Code != a.code || ev.Step != a.step {
					t.Errorf("failed event %v, want one with %v at %v", ev, a.code, a.step)
				}
				if got := dev.storage.Content(".ram.0"); !bytes.Equal(got, v1.payloads[".ram.0"]) {
					t.Errorf(".ram.0 changed: %d bytes", len(got))
				}
				if s, _ := dev.seq.Load(); s != 1 {
					t.Errorf("stored seq %d, want 1", s)
				}
			})
		}
	}
}

// TestSeqPersistence replays and rolls back against the same store, and
// checks that the store is written only after a complete install.
func TestSeqPersistence(t *testing.T) {
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			store := &countingSeq{MemSeq: NewMemSeq(0)}
			dev := &device{storage: NewRAMStorage(2, 8192), seq: store.MemSeq}
			run := func(seq uint64, corrupt bool) Code {
				u := newUpdate(t, f, seq, 512)
				cfg := dev.config(u, &recorder{})
				cfg.Seq = store
				if corrupt {
					cfg.Payloads = map[string][]byte{".ram.0": make([]byte, 512)}
				}
				_, err := Process(context.Background(), cfg, u.signed(t))
				return codeOf(t, err)
			}
			steps := []struct {
				seq     uint64
				corrupt bool
				want    Code
				stored  uint64
				stores  int
			}{
				{3, false, CodeOK, 3, 1},
				{3, false, CodeSequenceNumber, 3, 1}, // replay
				{2, false, CodeSequenceNumber, 3, 1}, // rollback
				{4, true, CodeDigestMismatch, 3, 1},  // failed update: no store
				{4, false, CodeOK, 4, 2},
			}
			for i, s := range steps {
				if got := run(s.seq, s.corrupt); got != s.want {
					t.Fatalf("step %d (seq %d): %v, want %v", i, s.seq, got, s.want)
				}
				if v, _ := store.Load(); v != s.stored || store.stores != s.stores {
					t.Fatalf("step %d: stored %d after %d stores, want %d after %d", i, v, store.stores, s.stored, s.stores)
				}
			}
		})
	}
}

type countingSeq struct {
	*MemSeq
	stores  int
	loadErr error
}

func (c *countingSeq) Load() (uint64, error) {
	if c.loadErr != nil {
		return 0, c.loadErr
	}
	return c.MemSeq.Load()
}

func (c *countingSeq) Store(seq uint64) error {
	c.stores++
	return c.MemSeq.Store(seq)
}

func TestSeqStoreError(t *testing.T) {
	u := newUpdate(t, FormatDraft09, 2, 64)
	cfg := newDevice(0).config(u, &recorder{})
	cfg.Seq = &countingSeq{MemSeq: NewMemSeq(0), loadErr: errors.New("flash read error")}
	_, err := Process(context.Background(), cfg, u.signed(t))
	if codeOf(t, err) != CodeStorage || !strings.Contains(err.Error(), "flash read error") {
		t.Errorf("got %v, want SUIT_ERR_STORAGE with the cause", err)
	}
}

// erasingStorage records erases and commits.
type erasingStorage struct {
	*MemStorage
	erased  []string
	commits int
}

func (s *erasingStorage) Stage(loc string, size uint64) (Staged, error) {
	st, err := s.MemStorage.Stage(loc, size)
	if err != nil {
		return nil, err
	}
	return &erasingStaged{Staged: st, s: s}, nil
}

func (s *erasingStorage) Commit(staged []Staged) error {
	s.commits++
	inner := make([]Staged, len(staged))
	for i, st := range staged {
		inner[i] = st.(*erasingStaged).Staged
	}
	return s.MemStorage.Commit(inner)
}

type erasingStaged struct {
	Staged
	s *erasingStorage
}

func (e *erasingStaged) Erase() {
	e.s.erased = append(e.s.erased, e.Location())
	e.Staged.Erase()
}

// TestPowerCut cancels the context mid-fetch and between steps: the slot
// is erased, nothing is committed, the sequence number stays.
func TestPowerCut(t *testing.T) {
	for _, f := range formats {
		for _, cutAt := range []int{0, 1024, 3 * 1024, 4096 + 512} {
			t.Run(fmt.Sprintf("%v/after-%d-bytes", f, cutAt), func(t *testing.T) {
				u := newUpdate(t, f, 2, 4096, 4096)
				st := &erasingStorage{MemStorage: NewRAMStorage(2, 8192)}
				seq := NewMemSeq(1)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				fetcher := &blockFetcher{block: 512, files: map[string][]byte{}}
				for i, c := range u.spec.Components {
					fetcher.files[c.URI] = u.payloads[ramID(i).Location()]
				}
				fetched := 0
				fetcher.cut = func(done int) {
					fetched += 512
					if fetched >= cutAt {
						cancel()
					}
				}
				if cutAt == 0 {
					cancel()
				}
				rec := &recorder{}
				cfg := Config{Keys: []PublicKey{u.key.Public()}, VendorID: VendorID(), ClassID: ClassID("native"),
					Storage: st, Seq: seq, Fetcher: fetcher, OnEvent: rec.on}
				_, err := Process(ctx, cfg, u.signed(t))
				if codeOf(t, err) != CodeStorage || !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want SUIT_ERR_STORAGE wrapping context.Canceled", err)
				}
				if st.commits != 0 {
					t.Errorf("%d commits after a power cut", st.commits)
				}
				if s, _ := seq.Load(); s != 1 {
					t.Errorf("stored seq %d, want 1", s)
				}
				if cutAt > 0 && len(st.erased) == 0 {
					t.Errorf("staged slots were not erased")
				}
				for _, loc := range st.Locations() {
					if c := st.Content(loc); c != nil {
						t.Errorf("%s holds %d bytes after a power cut", loc, len(c))
					}
				}
			})
		}
	}
}

// TestTinyContainer installs a container as three components named like
// TinyContainer's (metadata, code, data), fetched block-wise.
func TestTinyContainer(t *testing.T) {
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			key := testKey(t, 3)
			files := map[string][]byte{}
			spec := Spec{Format: f, Sequence: 7, VendorID: VendorID(), ClassID: ClassID("nrf52840dk")}
			slots := map[string]uint64{}
			for i, part := range []string{"meta", "code", "data"} {
				id := ComponentID{[]byte("tc"), []byte("coach"), []byte(part)}
				p := payload(300*(i+1), uint64(i))
				uri := "coap://[::1]:5683/coach/" + part
				files[uri] = p
				slots[id.Location()] = 4096
				spec.Components = append(spec.Components, ComponentSpec{ID: id, URI: uri, Digest: sha256.Sum256(p), Size: uint64(len(p))})
			}
			raw, err := Create(spec)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := Sign(raw, key)
			if err != nil {
				t.Fatal(err)
			}
			st := NewMemStorage(slots)
			rec := &recorder{}
			rep, err := Process(context.Background(), Config{
				Keys: []PublicKey{testKey(t, 4).Public(), key.Public()}, VendorID: VendorID(), ClassID: ClassID("nrf52840dk"),
				Storage: st, Seq: NewMemSeq(6), Fetcher: &blockFetcher{files: files, block: 128}, OnEvent: rec.on,
			}, signed)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Installed) != 3 {
				t.Fatalf("installed %v", rep.Installed)
			}
			for _, in := range rep.Installed {
				part := strings.TrimPrefix(in.Location, ".tc.coach.")
				if !bytes.Equal(st.Content(in.Location), files["coap://[::1]:5683/coach/"+part]) {
					t.Errorf("%s does not hold its payload", in.Location)
				}
			}
			var sig string
			for _, e := range rec.events {
				if e.Step == StepSignature && e.Status == Passed {
					sig = e.Message
				}
			}
			if !strings.Contains(sig, "trusted key 2 of 2") {
				t.Errorf("signature event %q, want the second trusted key named", sig)
			}
		})
	}
}

// TestES256 signs with a P-256 key in both formats.
func TestES256(t *testing.T) {
	ek, err := ecdsa.GenerateKey(elliptic.P256(), bytes.NewReader(bytes.Repeat([]byte{7}, 256)))
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewPrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range formats {
		u := newUpdate(t, f, 2, 128)
		u.key = key
		rec := &recorder{}
		if _, err := Process(context.Background(), newDevice(1).config(u, rec), u.signed(t)); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if !rec.has(StepSignature, Passed) {
			t.Errorf("%v: no signature event", f)
		}
	}
}

// TestSignReplacesOwnSignature: signing again with the same key keeps one
// block; a second signer adds one; either key verifies.
func TestSignReplacesOwnSignature(t *testing.T) {
	for _, f := range formats {
		u := newUpdate(t, f, 2, 64)
		once := u.signed(t)
		twice, err := Sign(once, u.key)
		if err != nil {
			t.Fatal(err)
		}
		second := testKey(t, 5)
		co, err := Sign(twice, second)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			env    []byte
			blocks int
		}{{once, 1}, {twice, 1}, {co, 2}} {
			env, err := Decode(c.env)
			if err != nil {
				t.Fatal(err)
			}
			if len(env.Auth.Blocks) != c.blocks {
				t.Errorf("%v: %d blocks, want %d", f, len(env.Auth.Blocks), c.blocks)
			}
		}
		for _, k := range []PrivateKey{u.key, second} {
			cfg := newDevice(1).config(u, &recorder{})
			cfg.Keys = []PublicKey{k.Public()}
			if _, err := Process(context.Background(), cfg, co); err != nil {
				t.Errorf("%v: key %v: %v", f, k.Public(), err)
			}
		}
	}
}

// TestSevered installs a final-format update whose install sequence is
// severed into the envelope, and refuses it when the member was changed.
func TestSevered(t *testing.T) {
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			u := newUpdate(t, f, 2, 256)
			sever := func(tamper bool) []byte {
				out := mutate(t, u.signed(t), func(env *Envelope) {
					s := env.Manifest.Sections[SectionInstall]
					raw, err := encoder{f: f}.sequence(s.Commands)
					if err != nil {
						t.Fatal(err)
					}
					sum := digestOfWrapped(raw)
					s.Severed = &Digest{Alg: DigestSHA256, Bytes: sum[:]}
					if tamper {
						raw = bytes.Replace(raw, []byte("coap://[::1]"), []byte("coap://[::2]"), 1)
					}
					env.Severed = map[SectionKind][]byte{SectionInstall: raw}
					env.ManifestBytes = nil
				})
				s, err := Sign(out, u.key)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			rec := &recorder{}
			if _, err := Process(context.Background(), newDevice(1).config(u, rec), sever(false)); err != nil {
				t.Fatal(err)
			}
			if !rec.has(StepSeverable, Passed) {
				t.Error("no severable event")
			}
			_, err := Process(context.Background(), newDevice(1).config(u, &recorder{}), sever(true))
			if codeOf(t, err) != CodeDigestMismatch {
				t.Errorf("tampered severed install: %v, want SUIT_ERR_DIGEST_MISMATCH", err)
			}
		})
	}
}

// TestIntegratedPayload installs a final-format update whose payload
// travels inside the envelope.
func TestIntegratedPayload(t *testing.T) {
	u := newUpdate(t, FormatFinal, 2, 512)
	u.spec.Components[0].URI = "#fw"
	signed := mutate(t, u.signed(t), func(env *Envelope) {
		env.Integrated = map[string][]byte{"#fw": u.payloads[".ram.0"]}
	})
	dev := newDevice(1)
	cfg := dev.config(u, &recorder{})
	cfg.Payloads = nil
	if _, err := Process(context.Background(), cfg, signed); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dev.storage.Content(".ram.0"), u.payloads[".ram.0"]) {
		t.Error("integrated payload not installed")
	}
}

// TestTryEach: the first option fails a condition, the second succeeds;
// with only failing options the command fails with SUIT_ERR_COND, unless
// the list ends with nil.
func TestTryEach(t *testing.T) {
	slot := func(n uint64) CommandSequence {
		return CommandSequence{
			{Op: OpOverrideParameters, Params: &Parameters{Slot: &n}},
			{Op: OpComponentSlot, Policy: 5},
		}
	}
	for _, c := range []struct {
		name    string
		options []CommandSequence
		nilEnd  bool
		want    Code
	}{
		{"second matches", []CommandSequence{slot(1), slot(0)}, false, CodeOK},
		{"none matches", []CommandSequence{slot(1), slot(2)}, false, CodeCond},
		{"none matches, nil", []CommandSequence{slot(1), slot(2)}, true, CodeOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUpdate(t, FormatFinal, 2, 64)
			signed := resign(t, u, func(m *Manifest) {
				m.Shared = append(CommandSequence{{Op: OpTryEach, Seqs: c.options, TryEachNil: c.nilEnd}}, m.Shared...)
			})
			cfg := newDevice(1).config(u, &recorder{})
			cfg.Storage = slotStorage{NewRAMStorage(1, 1024)}
			_, err := Process(context.Background(), cfg, signed)
			if got := codeOf(t, err); got != c.want {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestConfigRequired(t *testing.T) {
	u := newUpdate(t, FormatDraft09, 2, 64)
	for _, c := range []struct {
		cfg  Config
		want Code
	}{
		{Config{Seq: NewMemSeq(0)}, CodeStorageUnavailable},
		{Config{Storage: NewRAMStorage(1, 64)}, CodeStorage},
		{Config{Storage: NewRAMStorage(1, 64), Seq: NewMemSeq(0)}, CodeSignature},
	} {
		_, err := Process(context.Background(), c.cfg, u.signed(t))
		if got := codeOf(t, err); got != c.want {
			t.Errorf("config %+v: %v, want %v", c.cfg, err, c.want)
		}
	}
}

// swallowingFetcher writes the payload and one byte more, ignores the
// refusal and reports success.
type swallowingFetcher struct{ data []byte }

func (f swallowingFetcher) Fetch(_ context.Context, _ string, w io.Writer, _ func(done, total uint64)) error {
	w.Write(f.data)
	w.Write([]byte{0})
	return nil
}

func TestFetcherIgnoringRefusedWrite(t *testing.T) {
	u := newUpdate(t, FormatDraft09, 2, 64)
	cfg := newDevice(1).config(u, &recorder{})
	cfg.Payloads = nil
	cfg.Fetcher = swallowingFetcher{data: u.payloads[".ram.0"]}
	_, err := Process(context.Background(), cfg, u.signed(t))
	if codeOf(t, err) != CodeStorageExceeded {
		t.Errorf("got %v, want SUIT_ERR_STORAGE_EXCEEDED", err)
	}
}
