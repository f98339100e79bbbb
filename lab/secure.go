package lab

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/authz"
	"tinylab/device/coapnet"
)

// Anyone is the party name of requests without credentials: plain CoAP.
const Anyone = "anyone"

// requester sends one request to one device. Plain CoAP from the lab's
// socket and a party's DTLS session both do; commands do not care which.
type requester interface {
	Request(ctx context.Context, path string, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) (*coapnet.Response, error)
}

// plain is the lab's own socket toward one device.
type plain struct {
	s    *coapnet.Server
	addr *net.UDPAddr
}

func (p plain) Request(ctx context.Context, path string, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) (*coapnet.Response, error) {
	t := coapnet.Target{Addr: p.addr, Path: path}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		t.Path, t.Queries = path[:i], strings.Split(path[i+1:], "&")
	}
	return p.s.Request(ctx, t, code, cf, body, opts...)
}

// authzParty is how a device sees a lab party.
func authzParty(p *Party) (authz.Party, bool) {
	switch p.Role {
	case Owner:
		return authz.Party{Role: authz.Owner, Name: p.Name}, true
	case Tenant:
		return authz.Party{Role: authz.Tenant, Name: p.Name}, true
	}
	return authz.Party{}, false
}

// Credentials are a device's own parties beyond the lab's.
type Credentials struct {
	PSKs         map[string]PSK    // by DTLS identity
	Signers      map[string]string // SUIT key fingerprint -> tenant
	Repositories []string          // "host" or "host:port" anyone may trigger updates from
}

// PSK is one DTLS identity's party and key.
type PSK struct {
	Party authz.Party
	Key   []byte
}

// access is what a device of the lab knows of its parties: each owner's
// and tenant's DTLS identity, whose SUIT key is whose, and the repository.
// Called with l.mu held.
func (l *Lab) access(c Credentials) device.Access {
	a := device.Access{
		Insecure:     l.opts.Insecure,
		Identities:   map[string]authz.Party{},
		Signers:      map[string]string{},
		Repositories: append([]string{RepoHost, l.repoSrv.Addr().String()}, c.Repositories...),
	}
	for id, k := range c.PSKs {
		a.Identities[id] = k.Party
	}
	for fp, t := range c.Signers {
		a.Signers[fp] = t
	}
	for _, p := range l.parties {
		if ap, ok := authzParty(p); ok {
			a.Identities[p.Name] = ap
		}
		if p.Role == Tenant {
			a.Signers[p.Suit.Public().Fingerprint()] = p.Name
		}
	}
	return a
}

// pskFor looks up the key of a DTLS identity: the device's own
// credentials, then the lab's parties. Called by DTLS handshakes, outside
// the world.
func (l *Lab) pskFor(c Credentials) coapnet.PSKs {
	return func(identity string) ([]byte, bool) {
		if k, ok := c.PSKs[identity]; ok {
			return k.Key, true
		}
		p, ok := l.Party(identity)
		if !ok {
			return nil, false
		}
		if _, ok := authzParty(p); !ok {
			return nil, false
		}
		return p.PSK, true
	}
}

// sessionKey names one party's DTLS session with one device.
type sessionKey struct{ device, party string }

// requester is how party who reaches device n: plain CoAP for anyone (and
// for everyone in an insecure lab), the party's DTLS session otherwise,
// opened on first use and kept.
func (l *Lab) requester(n *Node, who string) (requester, error) {
	if n.Sock == nil {
		return nil, ErrQuiet
	}
	// A device without a DTLS socket of its own (an insecure lab, a board
	// on a shared socket) is managed over plain CoAP, as its Access says.
	if who == Anyone || l.opts.Insecure || n.Secure == nil {
		return plain{s: n.client, addr: n.Sock.Addr()}, nil
	}
	p, ok := l.Party(who)
	if !ok {
		return nil, fmt.Errorf("no party %q in the lab (parties: %s)", who, strings.Join(l.partyNames(), ", "))
	}
	if _, ok := authzParty(p); !ok {
		return nil, fmt.Errorf("%s is the lab's %s and has no credentials toward devices", who, p.Role)
	}
	key := sessionKey{n.Spec.ID, who}
	l.mu.Lock()
	s := l.sessions[key]
	l.mu.Unlock()
	if s != nil {
		select {
		case <-s.Done():
		default:
			return s, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s, err := coapnet.DialDTLS(ctx, n.Secure.Addr().String(), p.Name, p.PSK)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if old := l.sessions[key]; old != nil {
		old.Close()
	}
	l.sessions[key] = s
	l.mu.Unlock()
	return s, nil
}

func (l *Lab) partyNames() []string {
	names := []string{Anyone}
	for _, p := range l.Parties() {
		if _, ok := authzParty(p); ok {
			names = append(names, p.Name)
		}
	}
	return names
}

// acting is the party lab commands act as unless told: the owner, or
// anyone in a lab without one.
func (l *Lab) acting() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner == nil {
		return Anyone
	}
	return l.owner.Name
}

// closeSessions ends every DTLS session of the lab.
func (l *Lab) closeSessions() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, s := range l.sessions {
		s.Close()
		delete(l.sessions, k)
	}
}
