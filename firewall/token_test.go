package firewall

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// sign1 builds an untagged COSE_Sign1 with the given headers, payload and signature.
func sign1(t testing.TB, protected cose.ProtectedHeader, payload, sig []byte) []byte {
	t.Helper()
	m := cose.UntaggedSign1Message{Headers: cose.Headers{Protected: protected}, Payload: payload, Signature: sig}
	b, err := m.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawVariant makes a token the way upstream's demo tokens are made: empty
// headers, Ed25519 over the raw claim bytes.
func rawVariant(t testing.TB, key ed25519.PrivateKey, c Claims) []byte {
	t.Helper()
	payload, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return sign1(t, nil, payload, ed25519.Sign(key, payload))
}

func TestIssueAndVerifyToken(t *testing.T) {
	key := testKey(t, 1)
	sum := sha256.Sum256([]byte("code"))
	tests := []struct {
		kind   TokenKind
		claims Claims
	}{
		{TokenMask, Claims{Bitmask: []byte{0x03, 0xff}}},
		{TokenData, Claims{SHA256: sum[:]}},
		{TokenCode, Claims{SHA256: sum[:], KeyID: []byte("owner")}},
		{TokenMetadata, Claims{SHA256: sum[:]}},
	}
	for _, tt := range tests {
		tok, err := IssueToken(tt.claims, key)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := IssueToken(tt.claims, key)
		if !bytes.Equal(tok, again) {
			t.Errorf("%v: issuing twice gives different bytes", tt.kind)
		}
		for _, mode := range []SigningMode{SigningCOSE, SigningUpstreamRaw} {
			r := VerifyToken(tt.kind, tok, pub(key), mode)
			if !r.OK() || !r.Signed || r.Scheme != SigningCOSE {
				t.Errorf("%v in %v mode: %+v", tt.kind, mode, r)
			}
			if !bytes.Equal(r.Claims.Bitmask, tt.claims.Bitmask) || !bytes.Equal(r.Claims.SHA256, tt.claims.SHA256) || !bytes.Equal(r.Claims.KeyID, tt.claims.KeyID) {
				t.Errorf("%v claims = %v, want %v", tt.kind, r.Claims, tt.claims)
			}
		}
	}
}

func TestVerifyTokenFailures(t *testing.T) {
	key, other := testKey(t, 1), testKey(t, 2)
	sum := make([]byte, 32)
	good, _ := IssueToken(Claims{Bitmask: []byte{0xff}}, key)
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-1] ^= 1
	issue := func(c Claims) []byte {
		b, err := IssueToken(c, key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	alg := cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}
	maskPayload, _ := Claims{Bitmask: []byte{0xff}}.Encode()
	tagged := func(n uint64, content []byte) []byte {
		return mustEnc(t, cbor.Tag{Number: n, Content: cbor.RawMessage(content)})
	}
	tests := []struct {
		name  string
		kind  TokenKind
		tok   []byte
		owner ed25519.PublicKey
		mode  SigningMode
		step  string
		err   error
	}{
		{"empty", TokenMask, nil, pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"not CBOR", TokenMask, []byte{0xff, 0x00}, pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"array of 3", TokenMask, mustEnc(t, []any{[]byte{}, map[int]int{}, []byte{}}), pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"nil payload", TokenMask, mustEnc(t, []any{[]byte{}, map[int]int{}, nil, make([]byte, 64)}), pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"COSE_Mac0", TokenMask, tagged(17, good), pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"CWT tag over untagged COSE", TokenMask, tagged(61, good), pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"not a COSE tag", TokenMask, tagged(24, good), pub(key), SigningCOSE, "parse", ErrTokenMalformed},
		{"no key", TokenMask, good, nil, SigningCOSE, "signature", ErrNoKey},
		{"wrong key", TokenMask, good, pub(other), SigningCOSE, "signature", ErrBadSignature},
		{"wrong key, raw mode", TokenMask, good, pub(other), SigningUpstreamRaw, "signature", ErrBadSignature},
		{"tampered signature", TokenMask, tampered, pub(key), SigningCOSE, "signature", ErrBadSignature},
		{"raw variant, COSE mode", TokenMask, rawVariant(t, key, Claims{Bitmask: []byte{0xff}}), pub(key), SigningCOSE, "signature", ErrBadSignature},
		{"raw signature with an alg header", TokenMask, sign1(t, alg, maskPayload, ed25519.Sign(key, maskPayload)), pub(key), SigningUpstreamRaw, "signature", ErrBadSignature},
		{"mask token with sha256", TokenMask, issue(Claims{Bitmask: []byte{1}, SHA256: sum}), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"mask token without bitmask", TokenMask, issue(Claims{SHA256: sum}), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"bitmask of 9 bytes", TokenMask, issue(Claims{Bitmask: bytes.Repeat([]byte{1}, 9)}), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"short sha256", TokenData, issue(Claims{SHA256: sum[:31]}), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"no sha256", TokenCode, issue(Claims{KeyID: []byte{1}}), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"hash token with bitmask", TokenMetadata, issue(Claims{SHA256: sum, Bitmask: []byte{1}}), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"claims not a map", TokenMask, func() []byte {
			tok, _ := cose.Sign1Untagged(nil, mustSigner(t, key), cose.Headers{Protected: alg}, []byte{0x80}, nil)
			return tok
		}(), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
		{"unknown claim", TokenMask, func() []byte {
			tok, _ := cose.Sign1Untagged(nil, mustSigner(t, key), cose.Headers{Protected: alg}, mustEnc(t, map[int64][]byte{ClaimBitmask: {1}, 1: {2}}), nil)
			return tok
		}(), pub(key), SigningCOSE, "claims", ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := VerifyToken(tt.kind, tt.tok, tt.owner, tt.mode)
			var te *TokenError
			if !errors.As(r.Err, &te) || te.Step != tt.step || !errors.Is(r.Err, tt.err) || te.Token != tt.kind {
				t.Fatalf("err = %v; want %v token, step %s, %v", r.Err, tt.kind, tt.step, tt.err)
			}
			if r.OK() {
				t.Error("OK() with an error")
			}
		})
	}
}

func mustSigner(t testing.TB, key ed25519.PrivateKey) cose.Signer {
	s, err := cose.NewSigner(cose.AlgorithmEdDSA, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUpstreamRawVariantOnlyWhenAsked(t *testing.T) {
	key := testKey(t, 3)
	tok := rawVariant(t, key, Claims{Bitmask: []byte{0x1f}})
	std := VerifyToken(TokenMask, tok, pub(key), SigningCOSE)
	if std.Signed || !strings.Contains(std.Err.Error(), "raw payload") {
		t.Errorf("COSE mode: %+v; want refused, with a hint at the raw variant", std)
	}
	raw := VerifyToken(TokenMask, tok, pub(key), SigningUpstreamRaw)
	if !raw.OK() || raw.Scheme != SigningUpstreamRaw {
		t.Errorf("raw mode: %+v", raw)
	}
	tagged := mustEnc(t, cbor.Tag{Number: 18, Content: cbor.RawMessage(tok)})
	if r := VerifyToken(TokenMask, tagged, pub(key), SigningUpstreamRaw); !r.OK() {
		t.Errorf("COSE_Sign1 tag: %v", r.Err)
	}
	cwt := mustEnc(t, cbor.Tag{Number: 61, Content: cbor.RawMessage(tagged)})
	if r := VerifyToken(TokenMask, cwt, pub(key), SigningUpstreamRaw); !r.OK() {
		t.Errorf("CWT tag over COSE_Sign1 tag: %v", r.Err)
	}
}

func TestIssueTokenBadKey(t *testing.T) {
	if _, err := IssueToken(Claims{Bitmask: []byte{1}}, ed25519.PrivateKey{1, 2}); !errors.Is(err, ErrBadKey) {
		t.Errorf("err = %v", err)
	}
}

func TestModeAndKindNames(t *testing.T) {
	for k, want := range map[TokenKind]string{TokenMask: "syscall-mask", TokenData: "data", TokenCode: "code", TokenMetadata: "metadata", 9: "token(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k)
		}
	}
	for m, want := range map[SigningMode]string{SigningCOSE: "cose", SigningUpstreamRaw: "upstream-raw-payload", 5: "signing(5)"} {
		if m.String() != want {
			t.Errorf("%d: %q", m, m)
		}
	}
}

// TestMemoKeepsEveryCheck: a token verified once verifies again from the
// memo, and the same token changed in one byte, or checked with another
// key, is verified anew and refused.
func TestMemoKeepsEveryCheck(t *testing.T) {
	key, other := testKey(t, 3), testKey(t, 4)
	good, err := IssueToken(Claims{Bitmask: []byte{0x1f}}, key)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := VerifyToken(TokenMask, good, key.Public().(ed25519.PublicKey), SigningCOSE); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if r := VerifyToken(TokenMask, good, other.Public().(ed25519.PublicKey), SigningCOSE); !errors.Is(r.Err, ErrBadSignature) {
		t.Fatalf("another key after a success: %v", r.Err)
	}
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		if r := VerifyToken(TokenMask, bad, key.Public().(ed25519.PublicKey), SigningCOSE); r.Err == nil {
			t.Fatalf("byte %d changed and still verified", i)
		}
	}
}
