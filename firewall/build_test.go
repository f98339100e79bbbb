package firewall

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

func testSpec() Spec {
	return Spec{
		UID:    "coach",
		Type:   TypeBPF,
		Grants: MaskOf(CallHeartbeat, CallOpen, CallRead, CallWrite, CallLog),
		Endpoints: []Endpoint{
			{ID: 1, Peer: PeerLocal, PeerEndpoint: 3, Direction: DirIn},
			{ID: 2, Peer: PeerContainer, PeerUID: "stats", PeerEndpoint: 1, Direction: DirOut},
		},
		Timing: DefaultTiming,
		Code:   []byte("\x95\x00\x00\x00\x00\x00\x00\x00"),
		Data:   []byte("hello"),
	}
}

func TestBuildVerifies(t *testing.T) {
	key := testKey(t, 7)
	spec := testSpec()
	b, err := Build(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Build(spec, key)
	if !bytes.Equal(b, again) {
		t.Error("Build is not deterministic")
	}
	md, err := DecodeMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []SigningMode{SigningCOSE, SigningUpstreamRaw} {
		rep := VerifyMetadata(md, VerifyOptions{Owner: pub(key), Mode: mode, Code: spec.Code, Data: spec.Data})
		if err := rep.Err(); err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		if rep.Mask != spec.Grants || rep.UpstreamRaw() {
			t.Errorf("%v: mask %v raw %v", mode, rep.Mask, rep.UpstreamRaw())
		}
		pol := NewPolicy(md, &rep)
		if pol.Mask != spec.Grants || len(pol.Endpoints) != 2 || pol.Endpoints[1].PeerUID != "stats" {
			t.Errorf("policy = %+v", pol)
		}
	}
	if md.Container.UID != "coach" || md.Container.Type != TypeBPF || md.Security.Timing != DefaultTiming {
		t.Errorf("decoded %+v", md)
	}
	// The metadata token binds the bytes before it: the same check on the
	// in-memory form (re-encoded) holds too.
	md.raw = nil
	if rep := VerifyMetadata(md, VerifyOptions{Owner: pub(key), Code: spec.Code, Data: spec.Data}); rep.Err() != nil {
		t.Errorf("in memory: %v", rep.Err())
	}
}

func TestBuildEmptyData(t *testing.T) {
	key := testKey(t, 7)
	spec := testSpec()
	spec.Data = nil
	b, err := Build(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := DecodeMetadata(b)
	if rep := VerifyMetadata(md, VerifyOptions{Owner: pub(key), Code: spec.Code, Data: []byte{}}); rep.Err() != nil {
		t.Errorf("empty data: %v", rep.Err())
	}
}

func TestVerifyMetadataFailures(t *testing.T) {
	key := testKey(t, 7)
	spec := testSpec()
	good, err := Build(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	tamperedUID := bytes.Replace(good, []byte("coach"), []byte("coath"), 1)
	tests := []struct {
		name  string
		meta  []byte
		opts  VerifyOptions
		fails map[TokenKind]error
	}{
		{"other code", good, VerifyOptions{Owner: pub(key), Code: []byte("evil"), Data: spec.Data}, map[TokenKind]error{TokenCode: ErrDigestMismatch}},
		{"other data", good, VerifyOptions{Owner: pub(key), Code: spec.Code, Data: []byte("hellO")}, map[TokenKind]error{TokenData: ErrDigestMismatch}},
		{"code not given", good, VerifyOptions{Owner: pub(key), SkipCode: true, Data: spec.Data}, map[TokenKind]error{TokenCode: ErrNotChecked}},
		{"data not given", good, VerifyOptions{Owner: pub(key), Code: spec.Code, SkipData: true}, map[TokenKind]error{TokenData: ErrNotChecked}},
		{"tampered uid", tamperedUID, VerifyOptions{Owner: pub(key), Code: spec.Code, Data: spec.Data}, map[TokenKind]error{TokenMetadata: ErrDigestMismatch}},
		{"other owner", good, VerifyOptions{Owner: pub(testKey(t, 8)), Code: spec.Code, Data: spec.Data},
			map[TokenKind]error{TokenMask: ErrBadSignature, TokenData: ErrBadSignature, TokenCode: ErrBadSignature, TokenMetadata: ErrBadSignature}},
		{"token not last", reorder(t, good), VerifyOptions{Owner: pub(key), Code: spec.Code, Data: spec.Data}, map[TokenKind]error{TokenMetadata: ErrTokenMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := DecodeMetadata(tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			rep := VerifyMetadata(md, tt.opts)
			for k := range numTokens {
				want := tt.fails[k]
				got := rep.Token(k).Err
				if want == nil && got != nil || want != nil && !errors.Is(got, want) {
					t.Errorf("%v token: %v, want %v", k, got, want)
				}
			}
			if rep.Err() == nil {
				t.Error("Err() is nil")
			}
			if pol := NewPolicy(md, &rep); pol.Mask != 0 {
				t.Errorf("policy mask %v after a failed token", pol.Mask)
			}
			if _, bad := tt.fails[TokenMask]; !bad && rep.Mask != spec.Grants {
				t.Errorf("verified mask = %v, want %v", rep.Mask, spec.Grants)
			}
		})
	}
}

// reorder re-encodes metadata with the security part first, so the metadata
// token is no longer at the end; decoding accepts any key order.
func reorder(t *testing.T, b []byte) []byte {
	var tag cbor.RawTag
	if err := cbor.Unmarshal(b, &tag); err != nil {
		t.Fatal(err)
	}
	var m map[int]cbor.RawMessage
	if err := cbor.Unmarshal(tag.Content, &m); err != nil {
		t.Fatal(err)
	}
	content := []byte{0xa3, 0x03}
	content = append(content, m[3]...)
	content = append(content, 0x01)
	content = append(content, m[1]...)
	content = append(content, 0x02)
	content = append(content, m[2]...)
	return mustEnc(t, cbor.RawTag{Number: MetadataTag, Content: content})
}

func TestBuildRefuses(t *testing.T) {
	key := testKey(t, 7)
	tests := []struct {
		name   string
		mutate func(*Spec)
		key    []byte
		err    error
	}{
		{"zero loop period", func(s *Spec) { s.Timing.LoopPeriodMS = 0 }, key, ErrBadSpec},
		{"empty uid", func(s *Spec) { s.UID = "" }, key, ErrBadSpec},
		{"duplicate endpoints", func(s *Spec) { s.Endpoints = append(s.Endpoints, s.Endpoints[0]) }, key, ErrBadSpec},
		{"bad key", func(*Spec) {}, []byte{1}, ErrBadKey},
	}
	for _, tt := range tests {
		s := testSpec()
		tt.mutate(&s)
		if _, err := Build(s, tt.key); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}
