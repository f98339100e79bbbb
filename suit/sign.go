package suit

import (
	"bytes"
	"crypto/rand"
	"fmt"

	"github.com/veraison/go-cose"
)

// COSE tags of authentication blocks (RFC 9052).
const (
	tagSign1 = 18
	tagMac0  = 17
	tagMac   = 97
	tagSign  = 98
)

// blockTag returns the CBOR tag number the block starts with, -1 if none.
func blockTag(raw []byte) int {
	switch {
	case len(raw) > 0 && raw[0] >= 0xc0 && raw[0] <= 0xd7:
		return int(raw[0] - 0xc0)
	case len(raw) > 1 && raw[0] == 0xd8:
		return int(raw[1])
	}
	return -1
}

// parseBlock decodes one authentication block, which must be a
// COSE_Sign1_Tagged with the payload mode of the format: the digest embedded
// (draft-09) or detached (final).
func parseBlock(raw []byte, f Format, i int) (*cose.Sign1Message, *Error) {
	switch t := blockTag(raw); t {
	case tagSign1:
	case tagSign, tagMac, tagMac0:
		return nil, newError(CodeUnsupported, StepSignature, "authentication block %d: COSE tag %d: only COSE_Sign1 (tag 18) is supported", i, t)
	default:
		return nil, newError(CodeInvalidManifest, StepSignature, "Unable to parse COSE signature: authentication block %d is not a COSE_Sign1_Tagged", i)
	}
	msg := &cose.Sign1Message{}
	if err := msg.UnmarshalCBOR(raw); err != nil {
		return nil, &Error{Code: CodeInvalidManifest, Step: StepSignature, Msg: fmt.Sprintf("Unable to parse COSE signature (block %d)", i), Err: err}
	}
	switch {
	case f == FormatDraft09 && msg.Payload == nil:
		return nil, newError(CodeInvalidManifest, StepSignature, "authentication block %d: COSE payload is nil; draft-09 embeds the manifest digest", i)
	case f == FormatFinal && msg.Payload != nil:
		return nil, newError(CodeInvalidManifest, StepSignature, "authentication block %d: COSE payload must be detached (nil) in the final format", i)
	}
	return msg, nil
}

// verifyBlock checks msg against key. detached is the payload of a
// final-format block (the encoded SUIT_Digest), nil for draft-09.
func verifyBlock(msg *cose.Sign1Message, detached []byte, key PublicKey) bool {
	v, err := key.coseVerifier()
	if err != nil {
		return false
	}
	if detached != nil {
		msg.Payload = detached
		defer func() { msg.Payload = nil }()
	}
	return msg.Verify(nil, v) == nil
}

// blockAlg names the algorithm in the block's protected header.
func blockAlg(msg *cose.Sign1Message) string {
	alg, err := msg.Headers.Protected.Algorithm()
	if err != nil {
		return "no algorithm"
	}
	return alg.String()
}

// Sign adds a signature by key to an envelope of either format and returns
// the new envelope. The signature covers SHA-256 of the bstr-wrapped
// manifest (embedded as the COSE payload in draft-09, detached behind the
// SUIT_Digest in the final format). A signature the same key made before is
// replaced; other signers' blocks stay.
func Sign(envelope []byte, key PrivateKey) ([]byte, error) {
	if key.IsZero() {
		return nil, fmt.Errorf("suit: sign: no key")
	}
	env, e := decodeEnvelope(envelope, formatsOf(nil))
	if e != nil {
		return nil, e
	}
	sum := digestOfWrapped(env.ManifestBytes)
	enc := encoder{f: env.Format}
	digest, err := enc.digest(&Digest{Alg: DigestSHA256, Bytes: sum[:]})
	if err != nil {
		return nil, err
	}
	signer, err := key.coseSigner()
	if err != nil {
		return nil, fmt.Errorf("suit: sign: %w", err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(key.Alg())
	msg.Payload = digest
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return nil, fmt.Errorf("suit: sign: %w", err)
	}
	if env.Format == FormatFinal {
		msg.Payload = nil
	}
	block, err := msg.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("suit: sign: %w", err)
	}
	auth := &Auth{}
	if env.Format == FormatFinal {
		auth.Digest = digest
	}
	if env.Auth != nil {
		pub := key.Public()
		for i, b := range env.Auth.Blocks {
			if old, e := parseBlock(b, env.Format, i); e == nil {
				var detached []byte
				if env.Format == FormatFinal {
					detached = env.Auth.Digest
				}
				if verifyBlock(old, detached, pub) || bytes.Equal(b, block) {
					continue
				}
			}
			auth.Blocks = append(auth.Blocks, b)
		}
	}
	auth.Blocks = append(auth.Blocks, block)
	env.Auth = auth
	return env.Encode()
}
