package lab

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"

	"tinylab/suit"
)

// Role is what a party does in the lab.
type Role uint8

const (
	// Owner owns the devices and issues container tokens (the city, the box owner).
	Owner Role = iota
	// Tenant ships its own containers, signing their updates.
	Tenant
	// Maintainer ships the base firmware and RIOT RAM-slot images.
	Maintainer
	// Attacker signs with a key no device trusts.
	Attacker
)

var roleNames = [...]string{"owner", "tenant", "maintainer", "attacker"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// Party is someone with keys: its Ed25519 token key (used by the owner to
// issue container tokens) and its SUIT signing key (Ed25519, as RIOT's).
// Both derive from the lab's seed and the party's name, so runs repeat.
type Party struct {
	Name  string
	Role  Role
	Token ed25519.PrivateKey
	Suit  suit.PrivateKey
	// PSK is the party's DTLS pre-shared key toward the devices (owners
	// and tenants; its identity is the party's name). It is 32 hex digits
	// used as text, so that coap-client-openssl -k takes it as printed.
	PSK []byte
}

// keyStream is a deterministic stream of key material for one purpose.
func keyStream(seed uint64, purpose string) *rand.ChaCha8 {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], seed)
	sum := sha256.Sum256(append(buf[:], purpose...))
	return rand.NewChaCha8(sum)
}

func newParty(seed uint64, name string, role Role) (*Party, error) {
	var tokSeed [ed25519.SeedSize]byte
	if _, err := keyStream(seed, "token:"+name).Read(tokSeed[:]); err != nil {
		return nil, err
	}
	sk, err := suit.GenerateKey(keyStream(seed, "suit:"+name))
	if err != nil {
		return nil, fmt.Errorf("party %s: %w", name, err)
	}
	var psk [16]byte
	if _, err := keyStream(seed, "psk:"+name).Read(psk[:]); err != nil {
		return nil, err
	}
	return &Party{Name: name, Role: role, Token: ed25519.NewKeyFromSeed(tokSeed[:]), Suit: sk, PSK: []byte(hex.EncodeToString(psk[:]))}, nil
}

// TokenPublic is the public half of the party's token key.
func (p *Party) TokenPublic() ed25519.PublicKey { return p.Token.Public().(ed25519.PublicKey) }
