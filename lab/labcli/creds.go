package labcli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"tinylab/device/authz"
	"tinylab/device/coapnet"
	"tinylab/lab"
	"tinylab/suit"
)

// ErrCredential is returned for a --psk, keys-file, --tenant or --repo
// value that does not read.
var ErrCredential = errors.New("bad credential")

// parsePSK reads one credential: PARTY:IDENTITY=KEY where PARTY is owner
// or tenant/NAME, as `--psk` and a keys file write it:
//
//	owner:city=s3cret                 the owner, identity "city"
//	tenant/coach:coach-7=0x6b6579     tenant coach, identity "coach-7", key in hex
//
// KEY is the key as coap-client-openssl -k takes it (its text is the key);
// 0x starts one given in hex.
func parsePSK(s string) (string, lab.PSK, error) {
	who, rest, ok := strings.Cut(s, ":")
	id, key, ok2 := strings.Cut(rest, "=")
	if !ok || !ok2 || id == "" || key == "" {
		return "", lab.PSK{}, fmt.Errorf("%w: %q: write owner:IDENTITY=KEY or tenant/NAME:IDENTITY=KEY", ErrCredential, s)
	}
	var p authz.Party
	switch {
	case who == "owner":
		p = authz.Party{Role: authz.Owner, Name: id}
	case strings.HasPrefix(who, "tenant/") && len(who) > len("tenant/"):
		p = authz.Party{Role: authz.Tenant, Name: strings.TrimPrefix(who, "tenant/")}
	default:
		return "", lab.PSK{}, fmt.Errorf("%w: %q: the party is owner or tenant/NAME, not %q", ErrCredential, s, who)
	}
	k, err := coapnet.ParseKey(key)
	if err != nil {
		return "", lab.PSK{}, fmt.Errorf("%w: %q: %v", ErrCredential, s, err)
	}
	return id, lab.PSK{Party: p, Key: k}, nil
}

// readKeysFile reads credentials one per line, as --psk takes them; blank
// lines and lines starting with # are skipped.
func readKeysFile(path string) (map[string]lab.PSK, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]lab.PSK{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, k, err := parsePSK(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("%s:%d: identity %q given twice", path, n, id)
		}
		out[id] = k
	}
	return out, sc.Err()
}

// parseTenant reads --tenant NAME=KEY.pub: the tenant whose SUIT key it is.
func parseTenant(s string) (string, suit.PublicKey, error) {
	name, file, ok := strings.Cut(s, "=")
	if !ok || name == "" || file == "" {
		return "", suit.PublicKey{}, fmt.Errorf("%w: --tenant %q: write NAME=KEY.pub", ErrCredential, s)
	}
	k, err := readKey(file, suit.ParsePublicKey)
	if err != nil {
		return "", suit.PublicKey{}, fmt.Errorf("--tenant %s: %w", s, err)
	}
	return name, k, nil
}

// parseRepo reads --repo coap://HOST:PORT[/...]: a repository anyone may
// trigger updates from.
func parseRepo(s string) (string, error) {
	u, err := coapnet.ReadURI(s)
	if err != nil {
		return "", fmt.Errorf("%w: --repo %q: %v", ErrCredential, s, err)
	}
	return u.HostPort(), nil
}

// credentials gathers --psk, --keys, --tenant and --repo; tenants' keys are
// trusted as SUIT signers too.
func credentials(psks []string, keysFile string, tenants, repos []string, spec *lab.DeviceSpec) (lab.Credentials, error) {
	c := lab.Credentials{PSKs: map[string]lab.PSK{}, Signers: map[string]string{}}
	if keysFile != "" {
		m, err := readKeysFile(keysFile)
		if err != nil {
			return c, fmt.Errorf("--keys: %w", err)
		}
		c.PSKs = m
	}
	for _, s := range psks {
		id, k, err := parsePSK(s)
		if err != nil {
			return c, fmt.Errorf("--psk: %w", err)
		}
		if _, dup := c.PSKs[id]; dup {
			return c, fmt.Errorf("--psk: identity %q given twice", id)
		}
		c.PSKs[id] = k
	}
	for _, s := range tenants {
		name, k, err := parseTenant(s)
		if err != nil {
			return c, err
		}
		c.Signers[k.Fingerprint()] = name
		spec.Trust = append(spec.Trust, k)
	}
	for _, s := range repos {
		r, err := parseRepo(s)
		if err != nil {
			return c, err
		}
		c.Repositories = append(c.Repositories, r)
	}
	return c, nil
}

// warnInsecure says, where nobody can miss it, that the device is open.
func warnInsecure(stdout, stderr io.Writer, nodes []*lab.Node) {
	const banner = "INSECURE DEMO MODE: no DTLS; anyone who can send a UDP datagram to %s can stop, delete and load containers"
	for _, n := range nodes {
		fmt.Fprintf(stdout, banner+"\n", n.URI())
		fmt.Fprintf(stderr, "tinylab device: "+banner+"\n", n.URI())
	}
}

// parseRemotes reads --remote N=coap://HOST:PORT/PATH: the CoAP resource a
// container's writes on an endpoint with peer remote:N are POSTed to.
func parseRemotes(list []string) (map[uint32]string, error) {
	out := map[uint32]string{}
	for _, s := range list {
		n, uri, ok := strings.Cut(s, "=")
		id, err := strconv.ParseUint(n, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("%w: --remote %q: write N=coap://HOST:PORT/PATH, N the peer endpoint of remote:N", ErrCredential, s)
		}
		if _, err := coapnet.ReadURI(uri); err != nil {
			return nil, fmt.Errorf("--remote %q: %w", s, err)
		}
		out[uint32(id)] = uri
	}
	return out, nil
}
