package firewall

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// TokenKind names the four tokens of a container's metadata.
type TokenKind uint8

// The tokens: the syscall mask in the container map, then the data, code and
// metadata tokens of the security array.
const (
	TokenMask TokenKind = iota
	TokenData
	TokenCode
	TokenMetadata
	numTokens
)

var tokenNames = [numTokens]string{"syscall-mask", "data", "code", "metadata"}

func (k TokenKind) String() string {
	if k < numTokens {
		return tokenNames[k]
	}
	return fmt.Sprintf("token(%d)", uint8(k))
}

// SigningMode says which token signatures a verifier accepts.
type SigningMode uint8

const (
	// SigningCOSE accepts only standard COSE_Sign1: EdDSA over the
	// Sig_structure, with the algorithm in the protected header.
	SigningCOSE SigningMode = iota
	// SigningUpstreamRaw also accepts upstream's demo variant: empty headers and
	// an Ed25519 signature over the raw claim bytes (cwt.c hands the payload,
	// not the Sig_structure, to crypto_sign_verify). A device accepts it only
	// when configured so, and each result says when it was used.
	SigningUpstreamRaw
)

func (m SigningMode) String() string {
	switch m {
	case SigningCOSE:
		return "cose"
	case SigningUpstreamRaw:
		return "upstream-raw-payload"
	}
	return fmt.Sprintf("signing(%d)", uint8(m))
}

// TinyContainer's private CWT claim keys.
const (
	ClaimBitmask int64 = -65536
	ClaimSHA256  int64 = -65537
	ClaimKeyID   int64 = -65538
)

// CBOR tags a token may carry.
const (
	tagCWT      = 61
	tagSign1    = 18
	tagEncrypt0 = 16
	tagMac0     = 17
	tagEncrypt  = 96
	tagMac      = 97
	tagSign     = 98
)

// Claims are a token's claim set. A field is nil when its claim is absent.
type Claims struct {
	Bitmask []byte // big-endian syscall mask
	SHA256  []byte // digest of the bytes the token binds
	KeyID   []byte
}

// Encode writes the claim set as deterministic CBOR.
func (c Claims) Encode() ([]byte, error) {
	m := map[int64][]byte{}
	if c.Bitmask != nil {
		m[ClaimBitmask] = c.Bitmask
	}
	if c.SHA256 != nil {
		m[ClaimSHA256] = c.SHA256
	}
	if c.KeyID != nil {
		m[ClaimKeyID] = c.KeyID
	}
	return encMode.Marshal(m)
}

func (c Claims) String() string {
	var parts []string
	if c.Bitmask != nil {
		parts = append(parts, "bitmask "+hex.EncodeToString(c.Bitmask))
	}
	if c.SHA256 != nil {
		parts = append(parts, "sha256 "+hex.EncodeToString(c.SHA256))
	}
	if c.KeyID != nil {
		parts = append(parts, "keyid "+hex.EncodeToString(c.KeyID))
	}
	if parts == nil {
		return "{}"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// IssueToken signs claims as a standard untagged COSE_Sign1 (protected
// header {alg: EdDSA}, empty unprotected header), the layout of upstream's
// tokens plus the algorithm. Ed25519 is deterministic, so the same claims and
// key give the same bytes.
func IssueToken(c Claims, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes, want %d", ErrBadKey, len(key), ed25519.PrivateKeySize)
	}
	payload, err := c.Encode()
	if err != nil {
		return nil, err
	}
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	msg := cose.UntaggedSign1Message{
		Headers: cose.Headers{Protected: cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmEdDSA}},
		Payload: payload,
	}
	if err := msg.Sign(nil, nil, signer); err != nil {
		return nil, err
	}
	return msg.MarshalCBOR()
}

// UpstreamTokenSize is the size of a hash token as upstream writes and
// expects it: memmgr_check_metadata hashes the metadata without its last 111
// bytes ("cwt token size"), an untagged COSE_Sign1 with empty headers over
// {-65537: bstr .size 32}.
const UpstreamTokenSize = 111

// IssueUpstreamToken signs claims the way the TinyPART/RIOT tinycontainer
// branch verifies them: an untagged COSE_Sign1 with an empty protected bstr
// and an empty unprotected map (cwt_parse refuses anything else), the
// Ed25519 signature over the raw claim bytes (cwt_verify hands the payload,
// not the Sig_structure, to crypto_sign_verify). Standard COSE verifiers
// refuse it; tinylab accepts it in SigningUpstreamRaw mode.
func IssueUpstreamToken(c Claims, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: Ed25519 private key of %d bytes, want %d", ErrBadKey, len(key), ed25519.PrivateKeySize)
	}
	payload, err := c.Encode()
	if err != nil {
		return nil, err
	}
	return encMode.Marshal([]any{[]byte{}, map[int]any{}, payload, ed25519.Sign(key, payload)})
}

// TokenResult is the outcome of checking one token.
type TokenResult struct {
	Kind   TokenKind
	Claims Claims      // the claims as read from the payload, even if the signature failed
	Signed bool        // the signature verified
	Scheme SigningMode // how the signature verified; SigningUpstreamRaw only when the raw variant was needed
	Err    error       // nil when signature, claims and (for hash tokens) digest all hold; a *TokenError otherwise
}

// OK reports whether the token holds.
func (r TokenResult) OK() bool { return r.Err == nil }

func (r TokenResult) fail(step, want, got string, err error) TokenResult {
	r.Err = &TokenError{Token: r.Kind, Step: step, Want: want, Got: got, Err: err}
	return r
}

// parseSign1 reads a token: optionally CWT-tagged (61, then a tagged COSE
// message), tagged COSE_Sign1 (18) or untagged (taken as COSE_Sign1, as
// upstream does). Other COSE structures are refused.
func parseSign1(tok []byte) (*cose.Sign1Message, error) {
	if len(tok) == 0 {
		return nil, errors.New("empty token")
	}
	if err := decMode.Wellformed(tok); err != nil {
		return nil, err
	}
	body := tok
	cwtTagged := false
	if major(body) == majorTag {
		var t cbor.RawTag
		if err := decMode.Unmarshal(body, &t); err != nil {
			return nil, err
		}
		if t.Number == tagCWT {
			body, cwtTagged = t.Content, true
		}
	}
	if major(body) != majorTag {
		if cwtTagged {
			return nil, errors.New("CWT tag 61 around an untagged COSE message")
		}
		var m cose.UntaggedSign1Message
		if err := m.UnmarshalCBOR(body); err != nil {
			return nil, err
		}
		return (*cose.Sign1Message)(&m), nil
	}
	var t cbor.RawTag
	if err := decMode.Unmarshal(body, &t); err != nil {
		return nil, err
	}
	switch t.Number {
	case tagSign1:
		var m cose.Sign1Message
		if err := m.UnmarshalCBOR(body); err != nil {
			return nil, err
		}
		return &m, nil
	case tagMac0, tagEncrypt0, tagMac, tagEncrypt, tagSign:
		return nil, fmt.Errorf("COSE tag %d is not supported (only COSE_Sign1)", t.Number)
	}
	return nil, fmt.Errorf("tag %d is not a COSE tag", t.Number)
}

// emptyHeaders reports whether a message has upstream's headers: a
// zero-length protected bstr and an empty unprotected map.
func emptyHeaders(m *cose.Sign1Message) bool {
	return bytes.Equal(m.Headers.RawProtected, []byte{0x40}) && len(m.Headers.Unprotected) == 0
}

// VerifyToken checks a token's signature with the owner key and reads its
// claims: the mask token must carry exactly a bitmask, the others a 32-byte
// sha256 (and optionally a keyid). The digest itself is compared by
// VerifyMetadata, which knows the bytes.
func VerifyToken(kind TokenKind, tok []byte, owner ed25519.PublicKey, mode SigningMode) TokenResult {
	key := tokenKey(kind, tok, owner, mode)
	if r, ok := knownToken(key); ok {
		return r
	}
	r := verifyToken(kind, tok, owner, mode)
	if r.Err == nil {
		rememberToken(key, r)
	}
	return r
}

func verifyToken(kind TokenKind, tok []byte, owner ed25519.PublicKey, mode SigningMode) TokenResult {
	r := TokenResult{Kind: kind}
	msg, err := parseSign1(tok)
	if err != nil {
		return r.fail("parse", "CWT in a COSE_Sign1", err.Error(), ErrTokenMalformed)
	}
	if msg.Payload == nil {
		return r.fail("parse", "an embedded claim set", "a detached (nil) payload", ErrTokenMalformed)
	}
	claims, cerr := decodeClaims(kind, msg.Payload)
	r.Claims = claims
	if len(owner) != ed25519.PublicKeySize {
		return r.fail("signature", "an Ed25519 owner key of 32 bytes", fmt.Sprintf("%d bytes", len(owner)), ErrNoKey)
	}
	inner, err := cose.NewVerifier(cose.AlgorithmEdDSA, owner)
	if err != nil {
		return r.fail("signature", "an Ed25519 owner key", err.Error(), ErrNoKey)
	}
	verifier := memoVerifier{v: inner, key: owner}
	if err := msg.Verify(nil, verifier); err == nil {
		r.Signed, r.Scheme = true, SigningCOSE
	} else if mode == SigningUpstreamRaw && emptyHeaders(msg) && verifier.Verify(msg.Payload, msg.Signature) == nil {
		r.Signed, r.Scheme = true, SigningUpstreamRaw
	} else {
		got := err.Error()
		if emptyHeaders(msg) && verifier.Verify(msg.Payload, msg.Signature) == nil {
			got += "; it verifies only over the raw payload (upstream's demo variant, accepted in upstream-raw-payload mode)"
		}
		return r.fail("signature", "EdDSA over the COSE Sig_structure with the owner key", got, ErrBadSignature)
	}
	if cerr != nil {
		return r.fail("claims", claimsWant(kind), cerr.Error(), ErrTokenMalformed)
	}
	return r
}

func claimsWant(kind TokenKind) string {
	if kind == TokenMask {
		return "{-65536 (bitmask): bstr of 1..8 significant bytes}"
	}
	return "{-65537 (sha256): bstr of 32 bytes, ? -65538 (keyid): bstr}"
}

// decodeClaims reads a claim set and checks it fits the token kind.
func decodeClaims(kind TokenKind, payload []byte) (Claims, error) {
	var c Claims
	if major(payload) != majorMap {
		return c, fmt.Errorf("claim set is %s, not a map", describe(payload))
	}
	var m map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(payload, &m); err != nil {
		return c, fmt.Errorf("claim set: %v", err)
	}
	for k, v := range m {
		if major(v) != majorBytes {
			return c, fmt.Errorf("claim %d is %s, not a bstr", k, describe(v))
		}
		var b []byte
		if err := decMode.Unmarshal(v, &b); err != nil {
			return c, fmt.Errorf("claim %d: %v", k, err)
		}
		switch k {
		case ClaimBitmask:
			c.Bitmask = b
		case ClaimSHA256:
			c.SHA256 = b
		case ClaimKeyID:
			c.KeyID = b
		default:
			return c, fmt.Errorf("unknown claim %d", k)
		}
	}
	if kind == TokenMask {
		if c.Bitmask == nil || c.SHA256 != nil || c.KeyID != nil {
			return c, fmt.Errorf("claims %s", c)
		}
		if _, err := MaskFromBytes(c.Bitmask); err != nil {
			return c, err
		}
		return c, nil
	}
	if c.Bitmask != nil {
		return c, fmt.Errorf("claims %s: a bitmask in a hash token", c)
	}
	if c.SHA256 == nil {
		return c, fmt.Errorf("claims %s: no sha256", c)
	}
	if len(c.SHA256) != 32 {
		return c, fmt.Errorf("sha256 claim of %d bytes", len(c.SHA256))
	}
	return c, nil
}
