package coapnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	"github.com/plgd-dev/go-coap/v3/mux"
	coapnet "github.com/plgd-dev/go-coap/v3/net"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"
	"github.com/plgd-dev/go-coap/v3/udp/client"
	udpserver "github.com/plgd-dev/go-coap/v3/udp/server"
)

// MaxDatagram bounds a datagram: a 1024-byte block plus header and options.
// go-coap's default (64 KiB) would cost a device 64 KiB of buffer by itself.
const MaxDatagram = 1400

// Server is one CoAP endpoint on a UDP socket: a device's only socket, used
// both to answer requests and, through Conn, to make them.
type Server struct {
	srv  *udpserver.Server
	addr *net.UDPAddr
	done chan struct{}

	mu     sync.Mutex
	guards map[string]*midGuard
}

// Options tunes a server.
type Options struct {
	Runner *Runner                  // nil: a process-wide shared runner
	Errors func(error)              // nil: errors are dropped (a lab must not print on the UI)
	Pool   *pool.Pool               // nil: a small pool of its own
	Retry  RetryOptions             // CON retransmission parameters
	Suites []piondtls.CipherSuiteID // ListenDTLS: the suites offered (nil: PSKSuites)
}

// RetryOptions are RFC 7252's transmission parameters.
type RetryOptions struct {
	AckTimeout    time.Duration // 0: 2 s
	MaxRetransmit uint32        // 0: 4
}

// Listen opens a UDP socket on addr ("127.0.0.1:0" picks a port) and serves
// handler on it. go-coap's automatic block-wise layer is off: handlers use
// WriteBlock2 and Block1 assembly from this package instead.
func Listen(addr string, handler mux.Handler, o Options) (*Server, error) {
	l, err := coapnet.NewListenUDP("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("coap: listen %s: %w", addr, err)
	}
	if handler == nil {
		handler = noResources
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
	if o.Retry.AckTimeout == 0 {
		o.Retry.AckTimeout = 2 * time.Second
	}
	if o.Retry.MaxRetransmit == 0 {
		o.Retry.MaxRetransmit = 4
	}
	srv := udp.NewServer(
		options.WithMux(handler),
		options.WithMaxMessageSize(MaxDatagram),
		options.WithMessagePool(o.Pool),
		options.WithPeriodicRunner(o.Runner.Func()),
		options.WithErrors(o.Errors),
		options.WithBlockwise(false, blockwise.SZX1024, 0),
		options.WithTransmission(1, o.Retry.AckTimeout, o.Retry.MaxRetransmit),
	)
	s := &Server{srv: srv, addr: l.LocalAddr().(*net.UDPAddr), done: make(chan struct{}), guards: map[string]*midGuard{}}
	go func() {
		defer close(s.done)
		if err := srv.Serve(l); err != nil {
			o.Errors(err)
		}
		_ = l.Close()
	}()
	return s, nil
}

// noResources serves a client-only socket. go-coap hands it what matches no
// exchange (a late duplicate of a response, a stray request); without a
// handler it would dereference nil.
var noResources = mux.HandlerFunc(func(w mux.ResponseWriter, r *mux.Message) {
	if r.Code() < codes.Created {
		_ = w.SetResponse(codes.NotFound, message.TextPlain, nil)
	}
})

// Addr is the socket's local address.
func (s *Server) Addr() *net.UDPAddr { return s.addr }

// URI is the server's base URI, coap://host:port.
func (s *Server) URI() string { return "coap://" + s.addr.String() }

// Close stops serving and closes the socket, waiting until it is closed.
func (s *Server) Close() {
	s.srv.Stop()
	<-s.done
}

// Conn gives a client connection to peer through this server's own socket.
// Right after Listen the serving goroutine may not have taken the socket yet;
// go-coap offers no way to wait for it, so Conn retries for a short while.
func (s *Server) Conn(peer *net.UDPAddr) (*client.Conn, error) {
	var err error
	for range 200 {
		var cc *client.Conn
		if cc, err = s.srv.NewConn(peer); err == nil {
			return cc, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("coap: connection to %s: server closed", peer)
		case <-time.After(time.Millisecond):
		}
	}
	return nil, fmt.Errorf("coap: connection to %s: %w", peer, err)
}

// ErrMessageIDsExhausted is returned instead of reusing a message id within
// EXCHANGE_LIFETIME, which RFC 7252 §4.4 forbids and which makes go-coap
// peers answer from their response cache.
var ErrMessageIDsExhausted = errors.New("coap: message ids to this peer exhausted")

// ExchangeLifetime is RFC 7252's EXCHANGE_LIFETIME with default parameters.
const ExchangeLifetime = 247 * time.Second

// midBudget is how many requests one peer may get per EXCHANGE_LIFETIME; a
// margin under 65,536 leaves room for the ids go-coap uses for its own pings.
const midBudget = 65000

// midGuard counts requests to one peer over the last EXCHANGE_LIFETIME, in
// one-second buckets (a ring), so it costs a kilobyte however busy the peer.
type midGuard struct {
	mu      sync.Mutex
	buckets [ExchangeLifetime / time.Second]uint32
	last    int64 // unix second of the newest bucket
	total   int
}

func (g *midGuard) take(now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	sec := now.Unix()
	n := int64(len(g.buckets))
	if sec-g.last >= n {
		clear(g.buckets[:])
		g.total = 0
	} else {
		for s := g.last + 1; s <= sec; s++ {
			i := s % n
			g.total -= int(g.buckets[i])
			g.buckets[i] = 0
		}
	}
	if sec > g.last {
		g.last = sec
	}
	if g.total >= midBudget {
		return fmt.Errorf("%w: %d requests within EXCHANGE_LIFETIME (%s); RFC 7252 forbids reusing an id sooner", ErrMessageIDsExhausted, g.total, ExchangeLifetime)
	}
	g.buckets[sec%n]++
	g.total++
	return nil
}

// reserve takes one message id toward peer from its budget.
func (s *Server) reserve(peer *net.UDPAddr) error {
	key := peer.String()
	s.mu.Lock()
	g := s.guards[key]
	if g == nil {
		g = &midGuard{}
		s.guards[key] = g
	}
	s.mu.Unlock()
	return g.take(time.Now())
}

// Do sends req to peer through this server's socket and returns the response
// body, its code and options. It refuses to send when the peer's message ids
// would wrap within EXCHANGE_LIFETIME.
func (s *Server) Do(ctx context.Context, peer *net.UDPAddr, build func(m *pool.Message) error) (*Response, error) {
	if err := s.reserve(peer); err != nil {
		return nil, err
	}
	cc, err := s.Conn(peer)
	if err != nil {
		return nil, err
	}
	req := cc.AcquireMessage(ctx)
	defer cc.ReleaseMessage(req)
	tok, err := newToken()
	if err != nil {
		return nil, err
	}
	req.SetToken(tok)
	if err := build(req); err != nil {
		return nil, err
	}
	resp, err := cc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("coap: %s %s: %w", req.Code(), peer, err)
	}
	defer cc.ReleaseMessage(resp)
	return readResponse(resp)
}
