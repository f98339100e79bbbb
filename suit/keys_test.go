package suit

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veraison/go-cose"
)

func TestIDs(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{VendorID().String(), "547d0d74-6d3a-5a92-9662-4881afd9407b"},
		{ClassID("native").String(), "bcc90984-fe7d-562b-b4c9-a24f26a3a9cd"},
		{ClassID("nrf52840dk").String(), "00c72996-412f-5202-be93-8f1473a2309c"},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}

func TestGenerateKeyDeterministic(t *testing.T) {
	a := testKey(t, 1)
	b := testKey(t, 1)
	c := testKey(t, 2)
	if !a.Public().Equal(b.Public()) || a.Public().Equal(c.Public()) {
		t.Error("GenerateKey is not a function of the reader's bytes")
	}
	if _, err := GenerateKey(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("GenerateKey accepted a short reader")
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	ek, err := ecdsa.GenerateKey(elliptic.P256(), bytes.NewReader(bytes.Repeat([]byte{3}, 128)))
	if err != nil {
		t.Fatal(err)
	}
	p256, err := NewPrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []PrivateKey{testKey(t, 1), p256} {
		privPEM, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		pubPEM, err := k.Public().MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(privPEM, []byte("BEGIN PRIVATE KEY")) || !bytes.Contains(pubPEM, []byte("BEGIN PUBLIC KEY")) {
			t.Fatalf("PEM types: %s / %s", privPEM, pubPEM)
		}
		k2, err := ParsePrivateKey(privPEM)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParsePublicKey(pubPEM)
		if err != nil {
			t.Fatal(err)
		}
		fromPriv, err := ParsePublicKey(privPEM)
		if err != nil {
			t.Fatal(err)
		}
		if !k2.Public().Equal(k.Public()) || !pub.Equal(k.Public()) || !fromPriv.Equal(k.Public()) {
			t.Errorf("%v: keys differ after a PEM round trip", k.Alg())
		}
	}
}

func TestParsePublicKeyHex(t *testing.T) {
	k := testKey(t, 4)
	raw := k.Public().Crypto().(ed25519.PublicKey)
	pub, err := ParsePublicKey([]byte(hex.EncodeToString(raw) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(k.Public()) || pub.Alg() != cose.AlgorithmEdDSA {
		t.Error("hex key differs")
	}
}

func TestParseKeyErrors(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rk)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})
	for _, c := range []struct {
		name string
		in   string
		pub  bool
		want string
	}{
		{"empty private", "", false, "no PEM block"},
		{"garbage public", "hello", true, "neither PEM nor hex"},
		{"short hex", "abcd", true, "2 hex bytes"},
		{"rsa", string(rsaPEM), false, "unsupported private key type"},
		{"encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", false, "encrypted keys"},
		{"certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", true, "want PRIVATE KEY"},
	} {
		var err error
		if c.pub {
			_, err = ParsePublicKey([]byte(c.in))
		} else {
			_, err = ParsePrivateKey([]byte(c.in))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestExampleKeys reads the drafts' published ES256 test key pair.
func TestExampleKeys(t *testing.T) {
	priv, err := os.ReadFile(filepath.Join(vectorDir, "rfc/example_signing_key.pem"))
	if os.IsNotExist(err) {
		t.Skip("SUIT test vectors not found (../shared/testdata is absent)")
	}
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !k.Public().Equal(exampleKey(t)) || k.Alg() != cose.AlgorithmES256 {
		t.Errorf("the example signing key does not match example_pub.pem")
	}
}

func TestComponentID(t *testing.T) {
	for _, c := range []struct {
		in, loc, str string
	}{
		{"ram:0", ".ram.0", "ram:0"},
		{"tc:coach:code", ".tc.coach.code", "tc:coach:code"},
		{"0x00", ".\x00", "0x00"},
		{"0x6869:x", ".hi.x", "hi:x"},
	} {
		id, err := ParseComponentID(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if id.Location() != c.loc || id.String() != c.str {
			t.Errorf("%s: location %q string %q, want %q %q", c.in, id.Location(), id.String(), c.loc, c.str)
		}
	}
	for _, bad := range []string{"", "ram::0", "0xzz"} {
		if _, err := ParseComponentID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestMemoKeepsEveryCheck: a signature verified once verifies again from
// the memo; the same bytes under another key, or with one bit of the
// signature or content changed, are verified anew and refused.
func TestMemoKeepsEveryCheck(t *testing.T) {
	k, other := testKey(t, 7), testKey(t, 8)
	v, err := k.Public().coseVerifier()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("the Sig_structure of a manifest")
	sig, err := signer.Sign(nil, content)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := v.Verify(content, sig); err != nil {
			t.Fatal(err)
		}
	}
	ov, _ := other.Public().coseVerifier()
	if ov.Verify(content, sig) == nil {
		t.Fatal("another key accepted a memoised signature")
	}
	bad := append([]byte(nil), sig...)
	bad[3] ^= 1
	if v.Verify(content, bad) == nil {
		t.Fatal("a changed signature verified")
	}
	if v.Verify(append([]byte("x"), content...), sig) == nil {
		t.Fatal("changed content verified")
	}
}
