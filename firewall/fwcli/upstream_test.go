package fwcli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinylab/firewall"
)

// nano is a sequential CBOR reader shaped like the nanocbor calls upstream
// makes; only what those calls accept is accepted.
type nano struct{ b []byte }

func (n *nano) head() (major byte, arg uint64, err error) {
	if len(n.b) == 0 {
		return 0, 0, errors.New("end of input")
	}
	major, info := n.b[0]>>5, n.b[0]&0x1f
	n.b = n.b[1:]
	switch {
	case info < 24:
		return major, uint64(info), nil
	case info <= 27:
		size := 1 << (info - 24)
		if len(n.b) < size {
			return 0, 0, errors.New("truncated head")
		}
		var buf [8]byte
		copy(buf[8-size:], n.b[:size])
		n.b = n.b[size:]
		return major, binary.BigEndian.Uint64(buf[:]), nil
	}
	return 0, 0, fmt.Errorf("indefinite or reserved length %d", info)
}

func (n *nano) want(major byte) (uint64, error) {
	m, arg, err := n.head()
	if err == nil && m != major {
		err = fmt.Errorf("major type %d, want %d", m, major)
	}
	return arg, err
}

// bstr is nanocbor_get_bstr.
func (n *nano) bstr() ([]byte, error) {
	l, err := n.want(2)
	if err != nil {
		return nil, err
	}
	if uint64(len(n.b)) < l {
		return nil, errors.New("truncated bstr")
	}
	v := n.b[:l]
	n.b = n.b[l:]
	return v, nil
}

// int32 is nanocbor_get_int32 (keys are small or the claim numbers).
func (n *nano) int32() (int64, error) {
	m, arg, err := n.head()
	switch {
	case err != nil:
		return 0, err
	case m == 0 && arg <= 1<<31-1:
		return int64(arg), nil
	case m == 1 && arg <= 1<<31-1:
		return -1 - int64(arg), nil
	}
	return 0, fmt.Errorf("not an int32 (major %d)", m)
}

func (n *nano) uint32() (uint64, error) {
	v, err := n.want(0)
	if err == nil && v > 1<<32-1 {
		err = errors.New("above uint32")
	}
	return v, err
}

// upstreamLoad is what the TinyPART/RIOT tinycontainer branch does with a
// container's metadata, data and code before it runs it, re-implemented
// from its sources (github.com/TinyPART/RIOT, branch tinycontainer):
// metadata_parse, metadata_container_parse and metadata_security_parse
// (sys/tinycontainer/metadata/metadata.c), cwt_parse and cwt_verify
// (sys/tinycontainer/security/cwt/cwt.c), memmgr_check_metadata and
// memmgr_getsyscallmask (sys/tinycontainer/memmgr/ram/memmgr_ram.c). It
// returns the syscall mask.
func upstreamLoad(raw, data, code []byte, key ed25519.PublicKey, checkData bool) (uint32, error) {
	n := &nano{raw}
	if tag, err := n.want(6); err != nil || tag != 6082514239057121876 {
		return 0, fmt.Errorf("metadata_parse: tag %d, %v", tag, err)
	}
	entries, err := n.want(5)
	if err != nil {
		return 0, fmt.Errorf("metadata_parse: %w", err)
	}
	parts := map[int64][]byte{}
	for range entries {
		k, err := n.int32()
		if err != nil {
			return 0, fmt.Errorf("metadata_parse: key: %w", err)
		}
		v, err := n.bstr()
		if err != nil || k < 1 || k > 3 {
			return 0, fmt.Errorf("metadata_parse: key %d: %v", k, err)
		}
		parts[k] = v
	}
	// container map: uid bstr, type uint8, syscall mask bstr
	c := &nano{parts[1]}
	var mask []byte
	var has [4]bool
	cn, err := c.want(5)
	if err != nil {
		return 0, fmt.Errorf("metadata_container_parse: %w", err)
	}
	for range cn {
		k, err := c.int32()
		if err != nil || k < 1 || k > 3 {
			return 0, fmt.Errorf("metadata_container_parse: key %d: %v", k, err)
		}
		switch k {
		case 1:
			_, err = c.bstr()
		case 2:
			var t uint64
			if t, err = c.uint32(); err == nil && t > 255 {
				err = errors.New("type above uint8")
			}
		case 3:
			mask, err = c.bstr()
		}
		if err != nil {
			return 0, fmt.Errorf("metadata_container_parse: key %d: %w", k, err)
		}
		has[k] = true
	}
	if !has[1] || !has[2] || !has[3] {
		return 0, errors.New("metadata_container_parse: uid, type and syscall mask are all required")
	}
	if _, ok := parts[2]; !ok {
		return 0, errors.New("memmgr_check_metadata parses the endpoints: they must be there")
	}
	// security: five uint32 then data, code and metadata tokens, nothing more
	s := &nano{parts[3]}
	if l, err := s.want(4); err != nil || l != 8 {
		return 0, fmt.Errorf("metadata_security_parse: an array of 8, got %d (%v)", l, err)
	}
	for i := range 5 {
		if _, err := s.uint32(); err != nil {
			return 0, fmt.Errorf("metadata_security_parse: timing %d: %w", i, err)
		}
	}
	var toks [3][]byte
	for i := range toks {
		if toks[i], err = s.bstr(); err != nil {
			return 0, fmt.Errorf("metadata_security_parse: token %d: %w", i, err)
		}
	}
	// the metadata token hashes everything but the last 111 bytes
	metaSum := sha256.Sum256(raw[:len(raw)-111])
	dataSum, codeSum := sha256.Sum256(data), sha256.Sum256(code)
	checks := []struct {
		name string
		tok  []byte
		sum  []byte
	}{{"metadata", toks[2], metaSum[:]}, {"data", toks[0], dataSum[:]}, {"code", toks[1], codeSum[:]}}
	for _, ck := range checks {
		if ck.name == "data" && !checkData {
			continue
		}
		claims, err := cwtVerify(ck.tok, key)
		if err != nil {
			return 0, fmt.Errorf("%s token: %w", ck.name, err)
		}
		cl := &nano{claims}
		if _, err := cl.want(5); err != nil {
			return 0, fmt.Errorf("%s token claims: %w", ck.name, err)
		}
		if k, err := cl.int32(); err != nil || k != -65537 {
			return 0, fmt.Errorf("%s token: first claim %d, want sha256 (-65537)", ck.name, k)
		}
		h, err := cl.bstr()
		if err != nil || !bytes.Equal(h, ck.sum) {
			return 0, fmt.Errorf("%s token: sha256 %x, want %x (%v)", ck.name, h, ck.sum, err)
		}
	}
	claims, err := cwtVerify(mask, key)
	if err != nil {
		return 0, fmt.Errorf("syscall-mask token: %w", err)
	}
	cl := &nano{claims}
	if _, err := cl.want(5); err != nil {
		return 0, err
	}
	if k, err := cl.int32(); err != nil || k != -65536 {
		return 0, fmt.Errorf("syscall-mask token: first claim %d, want bitmask (-65536)", k)
	}
	bits, err := cl.bstr()
	if err != nil || len(bits) > 4 {
		return 0, fmt.Errorf("syscall-mask token: bitmask of %d bytes (at most 4), %v", len(bits), err)
	}
	var m uint32
	for _, b := range bits {
		m = m<<8 | uint32(b)
	}
	return m, nil
}

// cwtVerify is cwt_parse plus cwt_verify for an untagged token: protected
// header an empty bstr, unprotected an empty map, a bstr payload, a bstr
// signature, nothing more; Ed25519 over the payload bytes.
func cwtVerify(tok []byte, key ed25519.PublicKey) ([]byte, error) {
	n := &nano{tok}
	if l, err := n.want(4); err != nil || l != 4 {
		return nil, fmt.Errorf("cwt_parse: an untagged COSE array of 4, got %d (%v)", l, err)
	}
	if p, err := n.bstr(); err != nil || len(p) != 0 {
		return nil, fmt.Errorf("cwt_parse: the protected headers shall be empty, got %x (%v)", p, err)
	}
	if l, err := n.want(5); err != nil || l != 0 {
		return nil, fmt.Errorf("cwt_parse: the unprotected header shall be an empty map (%d entries, %v)", l, err)
	}
	payload, err := n.bstr()
	if err != nil {
		return nil, fmt.Errorf("cwt_parse: payload: %w", err)
	}
	sig, err := n.bstr()
	if err != nil {
		return nil, fmt.Errorf("cwt_parse: signature: %w", err)
	}
	if len(n.b) != 0 {
		return nil, errors.New("cwt_parse: bytes after the COSE array")
	}
	if !ed25519.Verify(key, payload, sig) {
		return nil, errors.New("cwt_verify: Ed25519 over the claim set fails")
	}
	return payload, nil
}

// TestUpstreamLoaderReadsUpstreamFiles checks the re-implementation itself
// on upstream's own example: its metadata and syscall mask load with the
// demo key (its data token is known not to match its data file).
func TestUpstreamLoaderReadsUpstreamFiles(t *testing.T) {
	dir := "../../../shared/testdata/tinycontainer"
	raw, err := os.ReadFile(filepath.Join(dir, "simple_container.metadata"))
	if err != nil {
		t.Skipf("upstream TinyContainer test data not found at %s (needs ../shared beside the module): %v", dir, err)
	}
	key, _ := hex.DecodeString("112ff4c9cddecbe153d72dcd7c5ffaf2bfc77603fd8478e300bafe8dd1946078")
	// upstream's code blob is not published: only the metadata token and mask
	_, err = upstreamLoad(raw, nil, nil, key, false)
	if err == nil || err.Error() != "code token: sha256 19a859d01c9965436f58e30f974d2f00dc018b67904775fdadbfcb82d7a5fa5f, want e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 (<nil>)" {
		t.Fatalf("upstream's own metadata: %v (want only the unpublished code to differ)", err)
	}
}

// TestCreateUpstreamLoadsUpstream: metadata create --upstream writes what
// upstream's loader accepts as it is, with 111-byte hash tokens; the default
// output is refused by it (its protected header names the algorithm), which
// is why --upstream exists.
func TestCreateUpstreamLoadsUpstream(t *testing.T) {
	if _, out, _ := run("help"); !strings.Contains(out, "--upstream writes what the real TinyContainer") || !strings.Contains(out, "the portable mode") {
		t.Errorf("metadata help does not say which mode is portable:\n%s", out)
	}
	dir := t.TempDir()
	owner := filepath.Join(dir, "owner")
	if code, _, errs := run("keygen", "-o", owner); code != 0 {
		t.Fatal(errs)
	}
	pub, err := os.ReadFile(owner + ".pem.pub")
	if err != nil {
		t.Fatal(err)
	}
	key, err := firewall.ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	codeBytes := []byte("\xb7\x00\x00\x00\x00\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00")
	dataBytes := []byte("hello\x00")
	code := write(t, filepath.Join(dir, "c.bin"), codeBytes)
	data := write(t, filepath.Join(dir, "c.data"), dataBytes)
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"upstream", []string{"--upstream"}, ""},
		{"default", nil, "metadata token: cwt_parse: the protected headers shall be empty, got a10127 (<nil>)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta := filepath.Join(dir, tc.name+".meta")
			args := append([]string{"create", "--uid", "hello", "--code", code, "--data", data, "--grant", "heartbeat,log,open,read,close",
				"--endpoint", "1:local:10:in", "-k", owner + ".pem", "-o", meta}, tc.flags...)
			if rc, out, errs := run(args...); rc != 0 {
				t.Fatalf("create: %d %s %s", rc, out, errs)
			}
			raw, err := os.ReadFile(meta)
			if err != nil {
				t.Fatal(err)
			}
			mask, err := upstreamLoad(raw, dataBytes, codeBytes, key, true)
			if tc.want != "" {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("upstream loads the %s output: %v, want %q", tc.name, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("upstream refuses the --upstream output: %v", err)
			}
			// heartbeat, open, read, close are bits 0, 1, 3, 2; log is tinylab's bit 5
			if mask != 0b101111 {
				t.Fatalf("syscall mask %b", mask)
			}
		})
	}
}
