package firewall

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"sync"

	"github.com/veraison/go-cose"
)

// memoVerifier remembers the signatures it found valid. Ed25519
// verification is a pure function of the key, the signed bytes and the
// signature, so a fleet of thousands of boards checking the same tokens
// gets the same answer from one computation each: every board still checks
// every token, and any byte changed misses the memo and is verified anew.
// Only successes are kept, in a bounded set.
type memoVerifier struct {
	v   cose.Verifier
	key ed25519.PublicKey
}

// memoSize bounds the set; it is emptied when full (a new lab's tokens
// replace an old one's).
const memoSize = 1 << 14

var verified = struct {
	sync.Mutex
	m map[[32]byte]struct{}
}{m: map[[32]byte]struct{}{}}

func (m memoVerifier) Algorithm() cose.Algorithm { return m.v.Algorithm() }

func (m memoVerifier) Verify(content, sig []byte) error {
	h := sha256.New()
	h.Write(m.key)
	h.Write([]byte{byte(len(sig))})
	h.Write(sig)
	h.Write(content)
	var k [32]byte
	h.Sum(k[:0])
	verified.Lock()
	_, ok := verified.m[k]
	verified.Unlock()
	if ok {
		return nil
	}
	if err := m.v.Verify(content, sig); err != nil {
		return err
	}
	verified.Lock()
	if len(verified.m) >= memoSize {
		clear(verified.m)
	}
	verified.m[k] = struct{}{}
	verified.Unlock()
	return nil
}

// tokens remembers the tokens VerifyToken found good, by kind, mode, key and
// bytes: reading a token (COSE_Sign1, then its claim set) is a pure function
// of those too, and costs a board that installs a container hundreds of
// allocations. A hit hands back fresh copies of the claims; a miss, or a
// token that fails anywhere, takes the whole path.
var tokens = struct {
	sync.Mutex
	m map[[32]byte]TokenResult
}{m: map[[32]byte]TokenResult{}}

func tokenKey(kind TokenKind, tok []byte, owner ed25519.PublicKey, mode SigningMode) [32]byte {
	h := sha256.New()
	h.Write([]byte{byte(kind), byte(mode), byte(len(owner))})
	h.Write(owner)
	h.Write(tok)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func knownToken(k [32]byte) (TokenResult, bool) {
	tokens.Lock()
	r, ok := tokens.m[k]
	tokens.Unlock()
	r.Claims = r.Claims.clone()
	return r, ok
}

func rememberToken(k [32]byte, r TokenResult) {
	r.Claims = r.Claims.clone()
	tokens.Lock()
	if len(tokens.m) >= memoSize {
		clear(tokens.m)
	}
	tokens.m[k] = r
	tokens.Unlock()
}

func (c Claims) clone() Claims {
	return Claims{Bitmask: bytes.Clone(c.Bitmask), SHA256: bytes.Clone(c.SHA256), KeyID: bytes.Clone(c.KeyID)}
}
