package suit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/veraison/go-cose"
)

// PublicKey is a trusted signer's key: Ed25519 (COSE EdDSA, -8) or P-256
// (COSE ES256, -7).
type PublicKey struct {
	key crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey on P-256
}

// PrivateKey is a signing key: Ed25519 or P-256.
type PrivateKey struct {
	signer crypto.Signer // ed25519.PrivateKey or *ecdsa.PrivateKey on P-256
}

// NewPublicKey wraps an ed25519.PublicKey or a P-256 *ecdsa.PublicKey.
func NewPublicKey(k crypto.PublicKey) (PublicKey, error) {
	switch k := k.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("suit: Ed25519 public key of %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		return PublicKey{key: k}, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return PublicKey{}, errors.New("suit: ECDSA keys must be on P-256 (ES256)")
		}
		return PublicKey{key: k}, nil
	}
	return PublicKey{}, fmt.Errorf("suit: unsupported public key type %T (want Ed25519 or P-256)", k)
}

// NewPrivateKey wraps an ed25519.PrivateKey or a P-256 *ecdsa.PrivateKey.
func NewPrivateKey(k crypto.Signer) (PrivateKey, error) {
	switch k := k.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return PrivateKey{}, fmt.Errorf("suit: Ed25519 private key of %d bytes, want %d", len(k), ed25519.PrivateKeySize)
		}
		return PrivateKey{signer: k}, nil
	case *ecdsa.PrivateKey:
		if k == nil || k.Curve != elliptic.P256() {
			return PrivateKey{}, errors.New("suit: ECDSA keys must be on P-256 (ES256)")
		}
		return PrivateKey{signer: k}, nil
	}
	return PrivateKey{}, fmt.Errorf("suit: unsupported private key type %T (want Ed25519 or P-256)", k)
}

// GenerateKey makes an Ed25519 key from 32 bytes of r, so the same reader
// state gives the same key (the lab seeds it).
func GenerateKey(r io.Reader) (PrivateKey, error) {
	var seed [ed25519.SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return PrivateKey{}, fmt.Errorf("suit: generate key: %w", err)
	}
	return PrivateKey{signer: ed25519.NewKeyFromSeed(seed[:])}, nil
}

// IsZero reports whether k holds no key.
func (k PublicKey) IsZero() bool { return k.key == nil }

// IsZero reports whether k holds no key.
func (k PrivateKey) IsZero() bool { return k.signer == nil }

// Crypto returns the standard library key.
func (k PublicKey) Crypto() crypto.PublicKey { return k.key }

// Crypto returns the standard library key.
func (k PrivateKey) Crypto() crypto.Signer { return k.signer }

// Public returns the matching public key.
func (k PrivateKey) Public() PublicKey {
	if k.signer == nil {
		return PublicKey{}
	}
	return PublicKey{key: k.signer.Public()}
}

// Alg returns the COSE algorithm the key signs with.
func (k PublicKey) Alg() cose.Algorithm {
	if _, ok := k.key.(*ecdsa.PublicKey); ok {
		return cose.AlgorithmES256
	}
	return cose.AlgorithmEdDSA
}

// Alg returns the COSE algorithm the key signs with.
func (k PrivateKey) Alg() cose.Algorithm { return k.Public().Alg() }

// Equal reports whether both hold the same key.
func (k PublicKey) Equal(o PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := k.key.(equaler)
	return ok && o.key != nil && e.Equal(o.key)
}

// Fingerprint is the first 4 bytes of SHA-256 over the key's
// SubjectPublicKeyInfo, in hex, prefixed with the key type
// ("ed25519:1a2b3c4d"), for messages.
func (k PublicKey) Fingerprint() string {
	der, err := x509.MarshalPKIXPublicKey(k.key)
	if err != nil {
		return "none"
	}
	sum := sha256.Sum256(der)
	t := "ed25519"
	if k.Alg() == cose.AlgorithmES256 {
		t = "p256"
	}
	return t + ":" + hex.EncodeToString(sum[:4])
}

func (k PublicKey) String() string { return k.Fingerprint() }

// MarshalPEM writes the key as a SubjectPublicKeyInfo "PUBLIC KEY" block,
// like `openssl pkey -pubout` (RIOT's NAME.pem.pub).
func (k PublicKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k.key)
	if err != nil {
		return nil, fmt.Errorf("suit: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalPEM writes the key as an unencrypted PKCS#8 "PRIVATE KEY" block,
// like `openssl genpkey -algorithm ed25519` (RIOT's keys/default.pem).
func (k PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.signer)
	if err != nil {
		return nil, fmt.Errorf("suit: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PEM private key: PKCS#8 "PRIVATE KEY" (Ed25519 or
// P-256) or SEC1 "EC PRIVATE KEY" (P-256). Encrypted keys are refused.
func ParsePrivateKey(data []byte) (PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return PrivateKey{}, errors.New("suit: private key: no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return PrivateKey{}, errors.New("suit: private key: encrypted keys are not supported; decrypt it with openssl pkey first")
	default:
		return PrivateKey{}, fmt.Errorf("suit: private key: PEM block %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return PrivateKey{}, fmt.Errorf("suit: private key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return PrivateKey{}, fmt.Errorf("suit: private key: unsupported type %T", key)
	}
	return NewPrivateKey(s)
}

// ParsePublicKey reads a trusted key: a PEM "PUBLIC KEY"
// (SubjectPublicKeyInfo, Ed25519 or P-256), a PEM private key (its public
// half), or 64 hex digits (a raw 32-byte Ed25519 key, as in RIOT's
// public_key.h).
func ParsePublicKey(data []byte) (PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			priv, err := ParsePrivateKey(data)
			if err != nil {
				return PublicKey{}, err
			}
			return priv.Public(), nil
		}
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return PublicKey{}, fmt.Errorf("suit: public key: %w", err)
		}
		return NewPublicKey(key)
	}
	s := strings.TrimSpace(string(data))
	raw, err := hex.DecodeString(s)
	if err != nil {
		return PublicKey{}, errors.New("suit: public key: neither PEM nor hex")
	}
	if len(raw) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("suit: public key: %d hex bytes, want %d (raw Ed25519)", len(raw), ed25519.PublicKeySize)
	}
	return NewPublicKey(ed25519.PublicKey(raw))
}

func (k PrivateKey) coseSigner() (cose.Signer, error) {
	return cose.NewSigner(k.Alg(), k.signer)
}

func (k PublicKey) coseVerifier() (cose.Verifier, error) {
	v, err := cose.NewVerifier(k.Alg(), k.key)
	if ek, ok := k.key.(ed25519.PublicKey); ok && err == nil {
		return memoVerifier{v: v, key: ek}, nil
	}
	return v, err
}
