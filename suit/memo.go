package suit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"sync"

	"github.com/veraison/go-cose"
)

// memoVerifier remembers the Ed25519 signatures it found valid. A
// signature's validity is a pure function of the key, the signed bytes and
// the signature: a fleet rolling out one manifest gets the same answer on
// every board from one computation. Every board still checks the manifest;
// any byte changed misses the memo and is verified anew. Only successes
// are kept, in a bounded set.
type memoVerifier struct {
	v   cose.Verifier
	key ed25519.PublicKey
}

// memoSize bounds the set; it is emptied when full.
const memoSize = 1 << 12

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
