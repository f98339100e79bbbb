package attach

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"

	"tinylab/device/coapnet"
)

// Schemes picks a Dialer by the URI's scheme: plain devices (coap://) and
// secure ones (coaps://) attached side by side.
type Schemes map[string]Dialer

// Dial hands uri to the dialer of its scheme.
func (s Schemes) Dial(ctx context.Context, uri string) (Session, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	d, ok := s[u.Scheme]
	switch {
	case !ok && u.Scheme == "coaps":
		return nil, errors.New("a coaps:// device needs a party's credentials (--psk IDENTITY=KEY)")
	case !ok:
		return nil, errors.New("not a coap:// URI")
	}
	return d.Dial(ctx, uri)
}

// DTLS dials coaps:// devices as one party: a DTLS 1.2 session per device,
// authenticated with the party's PSK identity and key, opened again when the
// device dropped it (it restarted, or forgot the session).
type DTLS struct {
	Identity string
	Key      []byte

	mu       sync.Mutex
	sessions []*dtlsSession
}

// Dial returns a session to the device at a coaps:// uri; the handshake
// happens here, so a wrong key fails at once.
func (d *DTLS) Dial(ctx context.Context, uri string) (Session, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "coaps" || u.Host == "" {
		return nil, fmt.Errorf("%q is not a coaps:// URI", uri)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5684"
	}
	s := &dtlsSession{d: d, addr: host}
	if _, err := s.client(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.sessions = append(d.sessions, s)
	d.mu.Unlock()
	return s, nil
}

// ParsePSK reads IDENTITY=KEY, the credentials a client presents (as
// coap-client-openssl -u IDENTITY -k KEY; the key as coapnet.ParseKey reads
// it): the device knows whose they are.
func ParsePSK(s string) (*DTLS, error) {
	id, key, ok := strings.Cut(s, "=")
	if !ok || id == "" {
		return nil, fmt.Errorf("%q: write IDENTITY=KEY", s)
	}
	k, err := coapnet.ParseKey(key)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return &DTLS{Identity: id, Key: k}, nil
}

// Close ends every session.
func (d *DTLS) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.sessions {
		s.close()
	}
	d.sessions = nil
}

type dtlsSession struct {
	d    *DTLS
	addr string
	mu   sync.Mutex
	c    *coapnet.SecureClient
}

var errClosed = errors.New("the attacher was closed")

// client returns the open session, or opens a new one.
func (s *dtlsSession) client(ctx context.Context) (*coapnet.SecureClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return nil, errClosed
	}
	if s.c != nil {
		select {
		case <-s.c.Done():
			s.c = nil
		default:
			return s.c, nil
		}
	}
	c, err := coapnet.DialDTLS(ctx, s.addr, s.d.Identity, s.d.Key)
	if err != nil {
		return nil, err
	}
	s.c = c
	return c, nil
}

func (s *dtlsSession) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		s.c.Close()
	}
	s.c, s.addr = nil, ""
}

// drop forgets a session that failed, so the next call opens a new one.
func (s *dtlsSession) drop(c *coapnet.SecureClient) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == c {
		c.Close()
		s.c = nil
	}
}

func (s *dtlsSession) Do(ctx context.Context, path string, code codes.Code, accept message.MediaType, body []byte) (*coapnet.Response, error) {
	c, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	var opts []message.Option
	if accept != 0 || code == codes.GET {
		opts = append(opts, message.Option{ID: message.Accept, Value: uintBytes(uint32(accept))})
	}
	r, err := c.Request(ctx, path, code, message.TextPlain, body, opts...)
	if err != nil && ctx.Err() == nil && !errors.Is(err, coapnet.ErrStatus) {
		s.drop(c)
	}
	return r, err
}

func (s *dtlsSession) Observe(ctx context.Context, path string, accept message.MediaType, fn func(*coapnet.Response)) (func(), bool, error) {
	c, err := s.client(ctx)
	if err != nil {
		return nil, false, err
	}
	obs, err := c.Conn().Observe(ctx, path, func(m *pool.Message) {
		if r, err := copyResponse(m); err == nil {
			fn(r)
		}
	}, message.Option{ID: message.Accept, Value: uintBytes(uint32(accept))})
	if err != nil {
		s.drop(c)
		return nil, false, fmt.Errorf("observe %s: %w", path, err)
	}
	stop := func() {
		c, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		_ = obs.Cancel(c)
	}
	return stop, !obs.Canceled(), nil
}

func (s *dtlsSession) Ping(ctx context.Context) error {
	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	if err := c.Conn().Ping(ctx); err != nil {
		s.drop(c)
		return err
	}
	return nil
}
