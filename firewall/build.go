package firewall

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
)

// Spec is what the lab and the workshop CLI know about a container before it
// has metadata.
type Spec struct {
	UID       string
	Type      RuntimeType
	Grants    Mask
	Endpoints []Endpoint
	Timing    Timing
	Code      []byte
	Data      []byte
	// Upstream writes tokens as the TinyPART/RIOT tinycontainer branch
	// loads them (IssueUpstreamToken): portable to the real TinyContainer,
	// but their signatures are not standard COSE and name no algorithm.
	Upstream bool
}

// Build makes signed metadata for spec: the syscall-mask token over the
// grants, the data and code tokens over their sha256, and the metadata token
// over the encoded metadata without that token. It follows the recipe in
// upstream's CDDL: encode with a zero-filled placeholder of the token's size,
// hash everything before it, then put the real token in its place (the sizes
// are fixed, so the bytes before it do not move). Ed25519 is deterministic:
// the same spec and key give the same bytes.
func Build(spec Spec, owner ed25519.PrivateKey) ([]byte, error) {
	if spec.Timing.LoopPeriodMS == 0 {
		return nil, fmt.Errorf("%w: loop period must be more than 0 ms", ErrBadSpec)
	}
	issue := IssueToken
	if spec.Upstream {
		issue = IssueUpstreamToken
		if n := len(spec.Grants.Bytes()); n > 4 {
			// memmgr_getsyscallmask reads at most a uint32
			return nil, fmt.Errorf("%w: upstream reads a syscall mask of at most 4 bytes, this one has %d", ErrBadSpec, n)
		}
	}
	maskTok, err := issue(Claims{Bitmask: spec.Grants.Bytes()}, owner)
	if err != nil {
		return nil, err
	}
	dataSum, codeSum := sha256.Sum256(spec.Data), sha256.Sum256(spec.Code)
	dataTok, err := issue(Claims{SHA256: dataSum[:]}, owner)
	if err != nil {
		return nil, err
	}
	codeTok, err := issue(Claims{SHA256: codeSum[:]}, owner)
	if err != nil {
		return nil, err
	}
	md := &Metadata{
		Container: Container{UID: spec.UID, Type: spec.Type, MaskToken: maskTok},
		Endpoints: spec.Endpoints,
		Security: Security{Timing: spec.Timing, DataToken: dataTok, CodeToken: codeTok,
			MetadataToken: make([]byte, len(codeTok))}, // a hash token has the same size whatever it hashes
	}
	if err := md.Validate(DefaultLimits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSpec, err)
	}
	out, err := md.Encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSpec, err)
	}
	cut := len(out) - len(codeTok)
	if spec.Upstream && len(codeTok) != UpstreamTokenSize {
		return nil, fmt.Errorf("%w: a hash token of %d bytes, upstream cuts %d", ErrBadSpec, len(codeTok), UpstreamTokenSize)
	}
	sum := sha256.Sum256(out[:cut])
	metaTok, err := issue(Claims{SHA256: sum[:]}, owner)
	if err != nil {
		return nil, err
	}
	copy(out[cut:], metaTok)
	return out, nil
}
