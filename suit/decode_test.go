package suit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEnvelopeErrors feeds malformed envelopes to Process and checks the
// code, the step and that the message names what is wrong.
func TestEnvelopeErrors(t *testing.T) {
	valid := newUpdate(t, FormatDraft09, 2, 64).signed(t)
	for _, c := range []struct {
		name string
		in   []byte
		code Code
		msg  string
	}{
		{"empty", nil, CodeInvalidManifest, "empty"},
		{"integer", unhex(t, "01"), CodeInvalidManifest, "expected a map, got an unsigned integer"},
		{"other tag", unhex(t, "d863a0"), CodeInvalidManifest, "unexpected CBOR tag 99"},
		{"bare manifest tag", unhex(t, "d9042ea0"), CodeUnsupported, "tag 1070"},
		{"truncated", unhex(t, "a202"), CodeInvalidManifest, "malformed CBOR"},
		{"trailing bytes", append(bytes.Clone(valid), 0), CodeInvalidManifest, "malformed CBOR"},
		{"indefinite length", unhex(t, "bf0340ff"), CodeInvalidManifest, "malformed CBOR"},
		{"duplicate key", unhex(t, "a203400340"), CodeInvalidManifest, "duplicate map key 3"},
		{"no manifest", unhex(t, "a1024180"), CodeInvalidManifest, "no manifest (key 3)"},
		{"manifest not bstr", unhex(t, "a10301"), CodeInvalidManifest, "expected a byte string, got an unsigned integer"},
		{"manifest head not shortest", unhex(t, "a1035801a0"), CodeInvalidManifest, "shortest form"},
		{"manifest bstr not CBOR", unhex(t, "a10341ff"), CodeInvalidManifest, "bstr content"},
		{"auth not an array", unhex(t, "a202410103 41a0"), CodeInvalidManifest, "expected an array"},
		{"auth block not bstr", unhex(t, "a202428101 0341a0"), CodeInvalidManifest, "expected a byte string"},
		{"auth block not COSE", unhex(t, "a202 43814101 0341a0"), CodeInvalidManifest, "not a COSE_Sign1_Tagged"},
		{"COSE_Sign block", unhex(t, "a202 45 8143d86280 0341a0"), CodeUnsupported, "only COSE_Sign1"},
		{"text key in draft-09", unhex(t, "a2 0341a0 6123 40"), CodeInvalidManifest, "text key"},
		{"delegation", unhex(t, "a2 0141a0 0341a0"), CodeUnsupported, "delegation"},
		{"unknown envelope key", unhex(t, "a2 0341a0 181941a0"), CodeUnsupported, "envelope member 25"},
		{"too large", append([]byte{0x5a, 0, 0x10, 0, 1}, make([]byte, 1<<20+1)...), CodeNoMem, "exceeds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			cfg := Config{Storage: NewRAMStorage(1, 64), Seq: NewMemSeq(0), Keys: []PublicKey{testKey(t, 1).Public()}, OnEvent: rec.on}
			_, err := Process(context.Background(), cfg, c.in)
			if got := codeOf(t, err); got != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %v, want %v with %q", err, c.code, c.msg)
			}
			if ev, ok := rec.failed(); !ok || ev.Code != c.code {
				t.Errorf("failed event %v", ev)
			}
		})
	}
}

// envWith wraps an encoded manifest in a draft-09 envelope without
// signature.
func envWith(t *testing.T, manifest []byte) []byte {
	return mustMarshal(t, map[int64]any{keyManifest: manifest})
}

// TestManifestErrors decodes malformed manifests and checks that the error
// names the member.
func TestManifestErrors(t *testing.T) {
	common := mustMarshal(t, map[int64]any{keyComponents: [][][]byte{{[]byte("ram"), []byte("0")}}})
	base := func(extra map[int64]any) []byte {
		m := map[int64]any{keyVersion: 1, keySequence: 2, keyCommon: common}
		for k, v := range extra {
			m[k] = v
		}
		return mustMarshal(t, m)
	}
	deep := mustMarshal(t, []any{})
	for range 10 {
		deep = mustMarshal(t, []any{30, deep})
	}
	for _, c := range []struct {
		name     string
		manifest []byte
		msg      string
	}{
		{"no version", mustMarshal(t, map[int64]any{keySequence: 1, keyCommon: common}), "required member 1 (manifest-version)"},
		{"negative sequence", base(map[int64]any{keySequence: -1}), "manifest-sequence-number (2): expected an unsigned integer"},
		{"common not bstr", base(map[int64]any{keyCommon: 1}), "common (3): expected a byte string"},
		{"component part not bstr", base(map[int64]any{keyCommon: mustMarshal(t, map[int64]any{keyComponents: []any{[]any{"ram"}}})}), "components (2)[0][0]: expected a byte string, got a text string"},
		{"odd command sequence", base(map[int64]any{9: mustMarshal(t, []any{21})}), "commands come in pairs"},
		{"command key not int", base(map[int64]any{9: mustMarshal(t, []any{"x", 1})}), "expected an integer, got a text string"},
		{"policy not uint", base(map[int64]any{9: mustMarshal(t, []any{21, "x"})}), "directive-fetch: expected an unsigned integer"},
		{"params not a map", base(map[int64]any{9: mustMarshal(t, []any{19, 1})}), "directive-set-parameters: expected a map"},
		{"bad image digest", base(map[int64]any{9: mustMarshal(t, []any{19, map[int64]any{3: mustMarshal(t, []any{2})}})}), "SUIT_Digest has 1 items"},
		{"uri not text", base(map[int64]any{9: mustMarshal(t, []any{19, map[int64]any{21: []byte("x")}})}), "uri (21): expected a text string"},
		{"bad index", base(map[int64]any{9: mustMarshal(t, []any{12, "x"})}), "expected a component index"},
		{"empty try-each", base(map[int64]any{9: mustMarshal(t, []any{15, []any{}})}), "try-each without options"},
		{"too deep", base(map[int64]any{9: deep}), "nested deeper than 8"},
		{"severed digest malformed", base(map[int64]any{9: []any{2}}), "SUIT_Digest has 1 items"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(envWith(t, c.manifest))
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidManifest || e.Step != StepManifest || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("got %v, want SUIT_ERR_INVALID_MANIFEST at manifest with %q", err, c.msg)
			}
		})
	}
}

// TestSignedMalformedManifest: a malformed manifest is reported only after
// its signature and digest check out, as RIOT parses it only then.
func TestSignedMalformedManifest(t *testing.T) {
	key := testKey(t, 1)
	signed, err := Sign(envWith(t, mustMarshal(t, map[int64]any{keyVersion: 1})), key)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cfg := Config{Storage: NewRAMStorage(1, 64), Seq: NewMemSeq(0), Keys: []PublicKey{key.Public()}, OnEvent: rec.on}
	_, err = Process(context.Background(), cfg, signed)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidManifest || e.Step != StepManifest {
		t.Errorf("got %v, want SUIT_ERR_INVALID_MANIFEST at manifest", err)
	}
	if !rec.has(StepManifestDigest, Passed) {
		t.Error("the digest was not checked before the manifest was decoded")
	}
}

// TestDetectFormat: an untagged envelope whose authentication wrapper
// starts with a SUIT_Digest is the final format.
func TestDetectFormat(t *testing.T) {
	u := newUpdate(t, FormatFinal, 2, 64)
	untagged := mutate(t, u.signed(t), func(env *Envelope) { env.Tagged = false })
	env, err := Decode(untagged)
	if err != nil {
		t.Fatal(err)
	}
	if env.Format != FormatFinal || env.Tagged {
		t.Fatalf("format %v tagged %v", env.Format, env.Tagged)
	}
	if _, err := Process(context.Background(), newDevice(1).config(u, &recorder{}), untagged); err != nil {
		t.Error(err)
	}
}

func TestCreateErrors(t *testing.T) {
	good := newUpdate(t, FormatDraft09, 1, 8).spec
	long := ComponentID{bytes.Repeat([]byte("x"), 40)}
	for _, c := range []struct {
		name string
		edit func(s *Spec)
		msg  string
	}{
		{"no components", func(s *Spec) { s.Components = nil }, "0 components"},
		{"four components", func(s *Spec) {
			for range 3 {
				s.Components = append(s.Components, s.Components[0])
			}
		}, "4 components"},
		{"duplicate", func(s *Spec) { s.Components = append(s.Components, s.Components[0]) }, "appears twice"},
		{"no vendor", func(s *Spec) { s.VendorID = [16]byte{} }, "vendor id and class id are required"},
		{"no uri", func(s *Spec) { s.Components[0].URI = "" }, "has no URI"},
		{"long id", func(s *Spec) { s.Components[0].ID = long }, "max 31"},
		{"unknown format", func(s *Spec) { s.Format = 7 }, "unknown format"},
	} {
		s := good
		s.Components = append([]ComponentSpec(nil), good.Components...)
		c.edit(&s)
		if _, err := Create(s); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.msg)
		}
	}
}

// TestEncodeCanonical: Create's output decodes and re-encodes to the same
// bytes, and its maps are in deterministic order.
func TestEncodeCanonical(t *testing.T) {
	for _, f := range formats {
		u := newUpdate(t, f, 5, 10, 20, 30)
		b := u.signed(t)
		env, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		out, err := env.Encode()
		if err != nil || !bytes.Equal(out, b) {
			t.Errorf("%v: re-encoding differs (%v)", f, err)
		}
		var v any
		if err := cbor.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		again, err := encMode.Marshal(v)
		if err != nil || !bytes.Equal(again, b) {
			t.Errorf("%v: envelope is not in deterministic encoding", f)
		}
	}
}
