package firewall

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// VerifyOptions says what to verify a container's metadata against.
type VerifyOptions struct {
	Owner ed25519.PublicKey // the device owner's key, which issues the tokens
	Mode  SigningMode

	Code, Data []byte // the container's code and data; nil is the same as empty
	// SkipCode, SkipData: the bytes are not at hand (the CLI without --code);
	// the token's signature and claims are checked and its digest is reported
	// as ErrNotChecked, which still counts as a failure.
	SkipCode, SkipData bool
}

// Report is the outcome of verifying a container's four tokens.
type Report struct {
	Tokens [numTokens]TokenResult // indexed by TokenKind
	// Mask is the syscall mask from a verified mask token, 0 otherwise.
	Mask Mask
}

// Token returns the result for one token.
func (r *Report) Token(k TokenKind) TokenResult { return r.Tokens[k] }

// Err joins the failures of every token; nil when all four hold. A device
// refuses to install a container whose report has an error, as upstream's
// memmgr_check_metadata refuses the load.
func (r *Report) Err() error {
	var errs []error
	for _, t := range r.Tokens {
		if t.Err != nil {
			errs = append(errs, t.Err)
		}
	}
	return errors.Join(errs...)
}

// UpstreamRaw reports whether any token was accepted only through upstream's
// raw-payload signing variant; a device says so in its event.
func (r *Report) UpstreamRaw() bool {
	for _, t := range r.Tokens {
		if t.Signed && t.Scheme == SigningUpstreamRaw {
			return true
		}
	}
	return false
}

// VerifyMetadata checks the four tokens of md: each signature with the owner
// key, the syscall mask's claim, and the sha256 claims of the data, code and
// metadata tokens against the data, the code, and the metadata bytes without
// the metadata token's own bytes at the end (upstream cuts a fixed 111 bytes,
// the size of its tokens; here the cut is the token's actual size, which is the
// same for upstream's files). The metadata bytes are those md was decoded
// from, or its encoding when it was built in memory.
func VerifyMetadata(md *Metadata, opts VerifyOptions) Report {
	var rep Report
	rep.Tokens[TokenMask] = VerifyToken(TokenMask, md.Container.MaskToken, opts.Owner, opts.Mode)
	if t := rep.Tokens[TokenMask]; t.OK() {
		rep.Mask, _ = MaskFromBytes(t.Claims.Bitmask) // VerifyToken checked it converts
	}
	rep.Tokens[TokenData] = checkDigest(VerifyToken(TokenData, md.Security.DataToken, opts.Owner, opts.Mode), opts.Data, opts.SkipData, "data")
	rep.Tokens[TokenCode] = checkDigest(VerifyToken(TokenCode, md.Security.CodeToken, opts.Owner, opts.Mode), opts.Code, opts.SkipCode, "code")

	mt := VerifyToken(TokenMetadata, md.Security.MetadataToken, opts.Owner, opts.Mode)
	raw := md.raw
	if raw == nil {
		var err error
		if raw, err = md.Encode(); err != nil {
			mt = mt.fail("digest", "encodable metadata", err.Error(), ErrTokenMalformed)
		}
	}
	if mt.OK() {
		tok := md.Security.MetadataToken
		if !bytes.HasSuffix(raw, tok) {
			mt = mt.fail("digest", "the metadata token as the last bytes of the metadata",
				"metadata whose last bytes are something else", ErrTokenMalformed)
		} else {
			mt = checkDigest(mt, raw[:len(raw)-len(tok)], false, fmt.Sprintf("metadata without its last %d bytes", len(tok)))
		}
	}
	rep.Tokens[TokenMetadata] = mt
	return rep
}

// checkDigest compares a hash token's sha256 claim with the bytes it binds.
func checkDigest(r TokenResult, content []byte, skip bool, what string) TokenResult {
	if !r.OK() {
		return r
	}
	if skip {
		return r.fail("digest", "sha256 of the "+what, "no "+what+" given", ErrNotChecked)
	}
	sum := sha256.Sum256(content)
	if !bytes.Equal(sum[:], r.Claims.SHA256) {
		return r.fail("digest", "the token's sha256 "+hex.EncodeToString(r.Claims.SHA256),
			fmt.Sprintf("sha256 of the %s (%d bytes) %s", what, len(content), hex.EncodeToString(sum[:])), ErrDigestMismatch)
	}
	return r
}
