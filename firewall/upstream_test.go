package firewall

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// upstreamDir holds TinyContainer's own example metadata (see its README).
const upstreamDir = "../../shared/testdata/tinycontainer"

// The demo key of upstream's sys/tinycontainer/security/ed25519.h: the public
// half as the README gives it, the private seed as the header has it.
const (
	demoPublicHex = "112ff4c9cddecbe153d72dcd7c5ffaf2bfc77603fd8478e300bafe8dd1946078"
	demoSeedHex   = "df72e58d0f50918f5ee566fc3204c5a8cddcd7b036f1003ead419bb834622f8d"
)

type upstreamFile struct {
	name, uid string
	endpoints []Endpoint
	metadata  []byte
	data      []byte
}

func loadUpstream(t testing.TB) []upstreamFile {
	t.Helper()
	if _, err := os.Stat(upstreamDir); err != nil {
		t.Skipf("upstream TinyContainer test data not found at %s (needs ../shared beside the module): %v", upstreamDir, err)
	}
	files := []upstreamFile{
		{name: "simple_container", uid: "simple_container",
			endpoints: []Endpoint{{ID: 123, Peer: PeerLocal, PeerEndpoint: 10, Direction: DirBoth}}},
		{name: "example_app", uid: "example_app", endpoints: []Endpoint{}},
	}
	for i := range files {
		var err error
		if files[i].metadata, err = os.ReadFile(filepath.Join(upstreamDir, files[i].name+".metadata")); err != nil {
			t.Fatal(err)
		}
		if files[i].data, err = os.ReadFile(filepath.Join(upstreamDir, files[i].name+".data")); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func demoPublic(t testing.TB) ed25519.PublicKey {
	pub, err := ParsePublicKey([]byte(demoPublicHex))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestUpstreamDecode(t *testing.T) {
	for _, f := range loadUpstream(t) {
		t.Run(f.name, func(t *testing.T) {
			md, err := DecodeMetadata(f.metadata)
			if err != nil {
				t.Fatal(err)
			}
			if md.Container.UID != f.uid || md.Container.Type != TypeWasm {
				t.Errorf("container = %q type %v, want %q wasm", md.Container.UID, md.Container.Type, f.uid)
			}
			if len(md.Endpoints) != len(f.endpoints) {
				t.Fatalf("endpoints = %+v, want %+v", md.Endpoints, f.endpoints)
			}
			for i := range f.endpoints {
				if !endpointEqual(md.Endpoints[i], f.endpoints[i]) {
					t.Errorf("endpoint %d = %+v, want %+v", i, md.Endpoints[i], f.endpoints[i])
				}
			}
			if md.Security.Timing != (Timing{100, 1000, 100, 1000, 100}) {
				t.Errorf("timing = %+v", md.Security.Timing)
			}
			if n := len(md.Security.MetadataToken); n != 111 {
				t.Errorf("metadata token is %d bytes, upstream cuts 111", n)
			}
			if !bytes.Equal(md.Raw(), f.metadata) {
				t.Error("Raw() differs from the decoded bytes")
			}
		})
	}
}

func endpointEqual(a, b Endpoint) bool {
	return a.ID == b.ID && a.Peer == b.Peer && a.PeerUID == b.PeerUID && a.PeerEndpoint == b.PeerEndpoint &&
		a.Direction == b.Direction && bytes.Equal(a.Token, b.Token)
}

// Upstream's tooling wrote deterministic CBOR, so re-encoding gives the same bytes.
func TestUpstreamRoundTrip(t *testing.T) {
	for _, f := range loadUpstream(t) {
		md, err := DecodeMetadata(f.metadata)
		if err != nil {
			t.Fatal(err)
		}
		md.raw = nil
		out, err := md.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, f.metadata) {
			t.Errorf("%s: encode(decode(x)) != x\n got %x\nwant %x", f.name, out, f.metadata)
		}
	}
}

// The README's table: in upstream-raw-payload mode the masks hold for both,
// simple_container's metadata token holds and its data token mismatches (the
// data file has a newline the token did not hash), example_app the other way
// round. The code blobs are not upstream, so code digests stay unchecked.
func TestUpstreamTokenOutcomes(t *testing.T) {
	files := loadUpstream(t)
	want := map[string][numTokens]error{
		"simple_container": {nil, ErrDigestMismatch, ErrNotChecked, nil},
		"example_app":      {nil, nil, ErrNotChecked, ErrDigestMismatch},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			md, err := DecodeMetadata(f.metadata)
			if err != nil {
				t.Fatal(err)
			}
			rep := VerifyMetadata(md, VerifyOptions{Owner: demoPublic(t), Mode: SigningUpstreamRaw, Data: f.data, SkipCode: true})
			for k, w := range want[f.name] {
				got := rep.Tokens[k]
				if !got.Signed || got.Scheme != SigningUpstreamRaw {
					t.Errorf("%v token: signed=%v scheme=%v, want signed through the raw variant", TokenKind(k), got.Signed, got.Scheme)
				}
				if w == nil && got.Err != nil || w != nil && !errors.Is(got.Err, w) {
					t.Errorf("%v token: err = %v, want %v", TokenKind(k), got.Err, w)
				}
			}
			if rep.Mask != 0xff {
				t.Errorf("mask = %v, want 0xff", rep.Mask)
			}
			if !rep.UpstreamRaw() {
				t.Error("report does not say the raw variant was used")
			}
			if p := NewPolicy(md, &rep); p.Mask != 0 {
				t.Errorf("policy mask = %v with failed tokens, want none", p.Mask)
			}

			std := VerifyMetadata(md, VerifyOptions{Owner: demoPublic(t), Data: f.data, SkipCode: true})
			for k, r := range std.Tokens {
				if r.Signed || !errors.Is(r.Err, ErrBadSignature) {
					t.Errorf("standard COSE, %v token: signed=%v err=%v, want ErrBadSignature", TokenKind(k), r.Signed, r.Err)
				}
			}
			if std.Mask != 0 {
				t.Errorf("standard COSE mask = %v, want none", std.Mask)
			}
		})
	}
}

// Upstream's demo tokens are Ed25519 over the raw claim bytes with the demo
// key; the signature over the COSE Sig_structure with the same empty headers
// does not verify.
func TestUpstreamDemoKeySignsRawPayload(t *testing.T) {
	seed, _ := hex.DecodeString(demoSeedHex)
	priv := ed25519.NewKeyFromSeed(seed)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), demoPublic(t)) {
		t.Fatal("demo seed does not match the README's public key")
	}
	for _, f := range loadUpstream(t) {
		md, err := DecodeMetadata(f.metadata)
		if err != nil {
			t.Fatal(err)
		}
		toks := [][]byte{md.Container.MaskToken, md.Security.DataToken, md.Security.CodeToken, md.Security.MetadataToken}
		for k, tok := range toks {
			var msg cose.UntaggedSign1Message
			if err := msg.UnmarshalCBOR(tok); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ed25519.Sign(priv, msg.Payload), msg.Signature) {
				t.Errorf("%s %v token: signature is not Ed25519 over the raw payload", f.name, TokenKind(k))
			}
			sigStructure, err := cbor.Marshal([]any{"Signature1", []byte{}, []byte{}, msg.Payload})
			if err != nil {
				t.Fatal(err)
			}
			if ed25519.Verify(demoPublic(t), sigStructure, msg.Signature) {
				t.Errorf("%s %v token: verifies over the Sig_structure too", f.name, TokenKind(k))
			}
		}
	}
}
