package suit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

const vectorDir = "../../shared/testdata/suit"

type vector struct {
	File       string     `json:"file"`
	Size       int        `json:"size"`
	SHA256     string     `json:"sha256"`
	Tag107     bool       `json:"envelope_tag_107"`
	Keys       []int64    `json:"envelope_keys"`
	Sign1Count int        `json:"cose_sign1_count"`
	Version    uint64     `json:"manifest_version"`
	Sequence   uint64     `json:"sequence_number"`
	Components [][]string `json:"components"`
	VendorID   string     `json:"vendor_id"`
	ClassID    string     `json:"class_id"`
	AuthDigest struct {
		AlgorithmID int64 `json:"algorithm_id"`
		HexBug      bool  `json:"matches_ascii_hex_of_sha256"`
	} `json:"auth_digest"`
	Expected struct {
		Final struct {
			Authentic *bool `json:"authentic"`
		} `json:"final_format_client"`
		Draft09 struct {
			Authentic *bool `json:"authentic_signature"`
		} `json:"draft09_client"`
		RIOT struct {
			Result string `json:"riot_result"`
			Code   int    `json:"riot_code"`
		} `json:"riot_like_client"`
	} `json:"expected"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, "index.json"))
	if os.IsNotExist(err) {
		t.Skipf("SUIT test vectors not found at %s (../shared/testdata is absent)", vectorDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Vectors) == 0 {
		t.Fatal("index.json lists no vectors")
	}
	return idx.Vectors
}

func readVector(t *testing.T, v vector) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, v.File))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if len(b) != v.Size || hex.EncodeToString(sum[:]) != v.SHA256 {
		t.Fatalf("%s: size %d sha256 %x, index.json says %d %s", v.File, len(b), sum, v.Size, v.SHA256)
	}
	return b
}

// TestVectorsDecode decodes every vector, checks what index.json says of
// its structure and re-encodes it byte for byte: the envelope from the
// model, and the manifest from its commands.
func TestVectorsDecode(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.File, func(t *testing.T) {
			b := readVector(t, v)
			env, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			wantFormat := FormatDraft09
			if strings.HasPrefix(v.File, "rfc/") {
				wantFormat = FormatFinal
			}
			if env.Format != wantFormat || env.Tagged != v.Tag107 {
				t.Errorf("format %v tagged %v, want %v tagged %v", env.Format, env.Tagged, wantFormat, v.Tag107)
			}
			if got := envelopeKeys(env); !slices.Equal(got, v.Keys) {
				t.Errorf("envelope keys %v, want %v", got, v.Keys)
			}
			blocks := 0
			if env.Auth != nil {
				blocks = len(env.Auth.Blocks)
			}
			if blocks != v.Sign1Count {
				t.Errorf("%d COSE blocks, want %d", blocks, v.Sign1Count)
			}
			m := env.Manifest
			if m.Version != v.Version || m.Sequence != v.Sequence {
				t.Errorf("version %d sequence %d, want %d %d", m.Version, m.Sequence, v.Version, v.Sequence)
			}
			var comps [][]string
			for _, c := range m.Components {
				var parts []string
				for _, p := range c {
					parts = append(parts, hex.EncodeToString(p))
				}
				comps = append(comps, parts)
			}
			if !slices.EqualFunc(comps, v.Components, slices.Equal) {
				t.Errorf("components %v, want %v", comps, v.Components)
			}
			vendor, class := sharedIDs(m.Shared)
			if vendor != v.VendorID || class != v.ClassID {
				t.Errorf("vendor %s class %s, want %s %s", vendor, class, v.VendorID, v.ClassID)
			}
			var desc strings.Builder
			if err := Describe(&desc, env); err != nil {
				t.Fatal(err)
			}
			for _, want := range describeWants(v) {
				if !strings.Contains(desc.String(), want) {
					t.Errorf("Describe does not say %q:\n%s", want, desc.String())
				}
			}
			out, err := env.Encode()
			if err != nil || !bytes.Equal(out, b) {
				t.Errorf("envelope does not re-encode to the same bytes (err %v)", err)
			}
			mb, err := m.Encode(env.Format)
			if err != nil || !bytes.Equal(mb, env.ManifestBytes) {
				t.Errorf("manifest does not re-encode to the same bytes (err %v)\n got %x\nwant %x", err, mb, env.ManifestBytes)
			}
		})
	}
}

// describeWants lists what Describe must say about a vector.
func describeWants(v vector) []string {
	w := []string{fmt.Sprintf("manifest-sequence-number (2): %d", v.Sequence), "vendor-id (1): " + v.VendorID}
	if v.AuthDigest.HexBug {
		w = append(w, "DOES NOT match the manifest (it is the ASCII hex of the manifest digest)")
	}
	if v.File == "draft-09/example2.signed.cbor" {
		w = append(w, "text (13) in the envelope", "taken over the member without its bstr header")
	}
	if v.File == "rfc/example2.signed.cbor" {
		w = append(w, "install (20) in the envelope", "matches the manifest's digest")
	}
	return w
}

func envelopeKeys(env *Envelope) []int64 {
	var keys []int64
	if env.Auth != nil {
		keys = append(keys, keyAuth)
	}
	keys = append(keys, keyManifest)
	for k := range env.Severed {
		keys = append(keys, k.Key(env.Format))
	}
	for _, o := range env.Other {
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	return keys
}

// sharedIDs finds the vendor and class ids the shared sequence sets, also
// inside try-each.
func sharedIDs(seq CommandSequence) (vendor, class string) {
	for _, c := range seq {
		if c.Params != nil {
			if c.Params.VendorID != nil {
				vendor = uuid.UUID(c.Params.VendorID).String()
			}
			if c.Params.ClassID != nil {
				class = uuid.UUID(c.Params.ClassID).String()
			}
		}
		for _, s := range c.Seqs {
			if v, c := sharedIDs(s); v != "" || c != "" {
				vendor, class = v, c
			}
		}
	}
	return vendor, class
}

// slotStorage is a storage whose locations have A/B slots; slot 0 is the
// one the device can write.
type slotStorage struct{ *MemStorage }

func (slotStorage) MatchSlot(_ string, slot uint64) bool { return slot == 0 }

// vectorResult runs the procedure on a vector as a device of the examples'
// vendor and class would, with the examples' ES256 key trusted, nothing
// stored yet, and a fetcher serving dummy payloads of the sizes the
// manifests announce (their digests are dummies too).
func vectorResult(t *testing.T, v vector, b []byte, cfg Config) (Code, *recorder) {
	t.Helper()
	env, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	slots := map[string]uint64{}
	for _, c := range env.Manifest.Components {
		slots[c.Location()] = 1 << 20
	}
	rec := &recorder{}
	cfg.VendorID = uuid.MustParse(v.VendorID)
	cfg.ClassID = uuid.MustParse(v.ClassID)
	cfg.Storage = slotStorage{NewMemStorage(slots)}
	cfg.Seq = NewMemSeq(0)
	cfg.Fetcher = &blockFetcher{block: 1024, files: map[string][]byte{
		"http://example.com/file.bin": payload(34768, 1),
		// example 2's install member lives only in the envelope (the .diag
		// shows its digest), with this URI.
		"http://example.com/very/long/path/to/file/file.bin": payload(34768, 4),
		"http://example.com/file1.bin":                       payload(34768, 2),
		"http://example.com/file2.bin":                       payload(76834, 3),
	}}
	cfg.OnEvent = rec.on
	_, err = Process(context.Background(), cfg, b)
	return codeOf(t, err), rec
}

func exampleKey(t *testing.T) PublicKey {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(vectorDir, "rfc/example_pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVectorsClient runs every vector through a client that reads both
// formats and trusts the examples' key, and compares with index.json: which
// files are authentic, and where each one must stop. The codes follow from
// the examples' content: seq 0 is not above a fresh device's 0, the payload
// digests are dummies, example 2 severed has no install, example 4 needs
// payload-fetch, and the draft-09 examples sign the hex text of the digest.
func TestVectorsClient(t *testing.T) {
	want := map[string]struct {
		code Code
		step Step
	}{
		"rfc/example0.signed.cbor":         {CodeSequenceNumber, StepSequenceNumber},
		"rfc/example1.signed.cbor":         {CodeDigestMismatch, StepImageMatch},
		"rfc/example2.signed.cbor":         {CodeDigestMismatch, StepImageMatch},
		"rfc/example2.severed-signed.cbor": {CodeInvalidManifest, StepSeverable},
		"rfc/example3.signed.cbor":         {CodeDigestMismatch, StepImageMatch},
		"rfc/example4.signed.cbor":         {CodeUnsupported, StepSection},
		"rfc/example5.signed.cbor":         {CodeDigestMismatch, StepImageMatch},
	}
	vectors := loadVectors(t)
	key := exampleKey(t)
	for _, v := range vectors {
		t.Run(v.File, func(t *testing.T) {
			b := readVector(t, v)
			code, rec := vectorResult(t, v, b, Config{Keys: []PublicKey{key}})
			authentic := v.Expected.Final.Authentic
			if authentic == nil {
				authentic = v.Expected.Draft09.Authentic
			}
			if authentic == nil {
				t.Fatal("index.json gives no expectation for this client")
			}
			if got := rec.has(StepSignature, Passed); got != *authentic {
				t.Errorf("signature verified: %v, index.json says authentic %v", got, *authentic)
			}
			ev, _ := rec.failed()
			switch {
			case !*authentic:
				if code != CodeSignature {
					t.Errorf("code %v, want %v (%s)", code, CodeSignature, ev.Message)
				}
			case v.AuthDigest.HexBug:
				if code != CodeDigestMismatch || ev.Step != StepManifestDigest || !strings.Contains(ev.Message, "ASCII hex") {
					t.Errorf("got %v at %v (%q), want the hex-digest bug reported as %v at %v", code, ev.Step, ev.Message, CodeDigestMismatch, StepManifestDigest)
				}
			default:
				w, ok := want[v.File]
				if !ok {
					t.Fatalf("no expectation for authentic file %s", v.File)
				}
				if code != w.code || ev.Step != w.step {
					t.Errorf("got %v at %v (%s), want %v at %v", code, ev.Step, ev.Message, w.code, w.step)
				}
				if v.Sequence > 0 && !(rec.has(StepVendor, Passed) && rec.has(StepClass, Passed)) {
					t.Errorf("vendor and class conditions did not pass; index.json says they do for its ids")
				}
			}
		})
	}
}

// TestVectorsRIOTLike runs every vector through a RIOT-like client: draft-09
// only, an Ed25519 key, and compares with index.json's riot_like_client.
func TestVectorsRIOTLike(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(bytes.NewReader(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range loadVectors(t) {
		t.Run(v.File, func(t *testing.T) {
			b := readVector(t, v)
			code, rec := vectorResult(t, v, b, Config{Keys: []PublicKey{key}, Formats: []Format{FormatDraft09}})
			if int(code) != v.Expected.RIOT.Code || code.String() != v.Expected.RIOT.Result {
				ev, _ := rec.failed()
				t.Errorf("got %v (%d) at %v: %s; want %s (%d)", code, int(code), ev.Step, ev.Message, v.Expected.RIOT.Result, v.Expected.RIOT.Code)
			}
		})
	}
}
