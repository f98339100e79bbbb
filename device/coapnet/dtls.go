package coapnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	piondtls "github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
	coapdtls "github.com/plgd-dev/go-coap/v3/dtls"
	dtlsserver "github.com/plgd-dev/go-coap/v3/dtls/server"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	"github.com/plgd-dev/go-coap/v3/mux"
	gocoapnet "github.com/plgd-dev/go-coap/v3/net"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp/client"
)

// PSKSuites are the cipher suites a secure server offers, in its order of
// preference: TLS_PSK_WITH_AES_128_CCM_8 is RFC 7925's mandatory suite for
// constrained devices (tinydtls and RIOT's DTLS stacks speak it). pion
// takes the client's order: libcoap over OpenSSL 3 offers GCM first and
// gets it, and gets CCM_8 from a server that offers only CCM_8.
var PSKSuites = []piondtls.CipherSuiteID{
	piondtls.TLS_PSK_WITH_AES_128_CCM_8,
	piondtls.TLS_PSK_WITH_AES_128_GCM_SHA256,
	piondtls.TLS_PSK_WITH_AES_128_CCM,
}

// PSKs looks up the pre-shared key of a DTLS identity; ok is false for an
// identity nobody gave the server, and the handshake fails.
type PSKs func(identity string) (key []byte, ok bool)

// ErrUnknownIdentity fails a handshake with an identity the server has no key for.
var ErrUnknownIdentity = errors.New("dtls: unknown PSK identity")

// handshakeTimeout bounds a DTLS handshake in wall time: peers are on
// loopback, and a half-open handshake must not keep a goroutine forever.
const handshakeTimeout = 5 * time.Second

// SecureServer is one CoAP-over-DTLS endpoint (RFC 7252 §9, coaps://) with
// PSK authentication, serving a handler as Server does over plain UDP. It
// uses go-coap's DTLS server (pion/dtls): one session per peer.
// Sessions are kept by peer address: a client whose new socket gets the
// port of a session the server still holds (closed an instant before, or
// never closed) meets that old session, and its handshake times out. It
// was seen about once in 10,000 back-to-back handshakes on loopback; an idle
// session is closed after two minutes.
type SecureServer struct {
	srv  *dtlsserver.Server
	addr *net.UDPAddr
	done chan struct{}
}

func pskConfig(keys PSKs, suites []piondtls.CipherSuiteID) *piondtls.Config {
	return &piondtls.Config{
		PSK: func(hint []byte) ([]byte, error) {
			k, ok := keys(string(hint))
			if !ok {
				return nil, fmt.Errorf("%w %q", ErrUnknownIdentity, hint)
			}
			return k, nil
		},
		PSKIdentityHint:      []byte("tinylab"),
		CipherSuites:         suites,
		ExtendedMasterSecret: piondtls.RequestExtendedMasterSecret,
	}
}

// ListenDTLS opens a DTLS socket on addr and serves handler to peers that
// authenticate with a key keys knows. Block-wise transfer is left to the
// handler, as with Listen.
func ListenDTLS(addr string, handler mux.Handler, keys PSKs, o Options) (*SecureServer, error) {
	if o.Suites == nil {
		o.Suites = PSKSuites
	}
	l, err := gocoapnet.NewDTLSListener("udp", addr, pskConfig(keys, o.Suites))
	if err != nil {
		return nil, fmt.Errorf("coaps: listen %s: %w", addr, err)
	}
	if o.Runner == nil {
		o.Runner = shared
	}
	if o.Errors == nil {
		o.Errors = func(error) {}
	}
	if o.Pool == nil {
		o.Pool = pool.New(4, MaxDatagram)
	}
	srv := coapdtls.NewServer(
		options.WithMux(handler),
		options.WithMaxMessageSize(MaxDatagram),
		options.WithMessagePool(o.Pool),
		options.WithPeriodicRunner(o.Runner.Func()),
		options.WithErrors(o.Errors),
		options.WithBlockwise(false, blockwise.SZX1024, 0),
		options.WithDTLSHandshakeTimeout(handshakeTimeout),
		// a session nobody uses for two minutes is closed: a tester's
		// coap-client does not say goodbye
		options.WithInactivityMonitor(2*time.Minute, func(cc *client.Conn) { _ = cc.Close() }),
	)
	s := &SecureServer{srv: srv, addr: l.Addr().(*net.UDPAddr), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := srv.Serve(l); err != nil {
			o.Errors(err)
		}
		_ = l.Close()
	}()
	return s, nil
}

// Addr is the socket's local address.
func (s *SecureServer) Addr() *net.UDPAddr { return s.addr }

// URI is the server's base URI, coaps://host:port.
func (s *SecureServer) URI() string { return "coaps://" + s.addr.String() }

// Close stops serving and waits until the socket is closed.
func (s *SecureServer) Close() {
	s.srv.Stop()
	<-s.done
}

// Session is what the DTLS session of a request says about its peer.
type Session struct {
	Identity string // the PSK identity it authenticated with
	Suite    string // the cipher suite negotiated
}

// PeerSession describes the DTLS session a request came over, and false
// when it did not come over DTLS.
func PeerSession(w mux.ResponseWriter) (Session, bool) {
	c, ok := w.Conn().NetConn().(*piondtls.Conn)
	if !ok {
		return Session{}, false
	}
	st, ok := c.ConnectionState()
	if !ok {
		return Session{}, false
	}
	return Session{Identity: string(st.IdentityHint), Suite: st.CipherSuiteID.String()}, true
}

// SecureClient is one DTLS session to a server, authenticated with a PSK
// identity: the lab acting as a party, or a test.
type SecureClient struct {
	cc *client.Conn
	// guard refuses to wrap the session's message ids within
	// EXCHANGE_LIFETIME: go-coap's DTLS server keeps a response cache per
	// session as its UDP server does (DESIGN §10).
	guard midGuard
}

// DialDTLS opens a session to addr (host:port) as identity with key; a
// wrong key fails here, in the handshake.
func DialDTLS(ctx context.Context, addr, identity string, key []byte) (*SecureClient, error) {
	cfg := &piondtls.Config{
		PSK:                  func([]byte) ([]byte, error) { return key, nil },
		PSKIdentityHint:      []byte(identity),
		CipherSuites:         PSKSuites,
		ExtendedMasterSecret: piondtls.RequestExtendedMasterSecret,
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("coaps: %s: %w", addr, err)
	}
	uc, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, fmt.Errorf("coaps: %s: %w", addr, err)
	}
	conn, err := piondtls.Client(dtlsnet.PacketConnFromConn(uc), raddr, cfg)
	if err == nil {
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		err = conn.HandshakeContext(hctx)
		cancel()
	}
	if err != nil {
		_ = uc.Close()
		return nil, fmt.Errorf("coaps: handshake with %s as %q: %w", addr, identity, err)
	}
	cc := coapdtls.Client(conn, options.WithMaxMessageSize(MaxDatagram), options.WithBlockwise(false, blockwise.SZX1024, 0), options.WithCloseSocket())
	return &SecureClient{cc: cc}, nil
}

// Request sends one confirmable request over the session.
func (c *SecureClient) Request(ctx context.Context, path string, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) (*Response, error) {
	if err := c.guard.take(time.Now()); err != nil {
		return nil, err
	}
	req := c.cc.AcquireMessage(ctx)
	defer c.cc.ReleaseMessage(req)
	tok, err := newToken()
	if err != nil {
		return nil, err
	}
	req.SetToken(tok)
	req.SetCode(code)
	req.SetType(message.Confirmable)
	if err := req.SetPath(path); err != nil {
		return nil, err
	}
	for _, o := range opts {
		req.AddOptionBytes(o.ID, o.Value)
	}
	if body != nil {
		req.SetContentFormat(cf)
		req.SetBody(bytes.NewReader(body))
	}
	resp, err := c.cc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("coaps: %s %s: %w", code, path, err)
	}
	defer c.cc.ReleaseMessage(resp)
	return readResponse(resp)
}

// Done is closed when the session has ended (closed, or the peer went away).
func (c *SecureClient) Done() <-chan struct{} { return c.cc.Done() }

// Close ends the session.
func (c *SecureClient) Close() { _ = c.cc.Close() }

// Conn is the session's go-coap connection, for what Request does not do
// (Observe, Ping).
func (c *SecureClient) Conn() *client.Conn { return c.cc }

// ParseKey reads a PSK as coap-client-openssl -k takes it (its text is the
// key), or in hex after 0x: how every tinylab command takes keys.
func ParseKey(key string) ([]byte, error) {
	h, isHex := strings.CutPrefix(key, "0x")
	if !isHex {
		if key == "" {
			return nil, errors.New("the key is empty")
		}
		return []byte(key), nil
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) == 0 {
		return nil, errors.New("the key after 0x is not hex")
	}
	return b, nil
}
