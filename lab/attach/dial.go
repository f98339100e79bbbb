package attach

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"

	"tinylab/device/coapnet"
)

// Dialer opens a session to a device by its coap:// (or, later, coaps://)
// base URI.
type Dialer interface {
	Dial(ctx context.Context, uri string) (Session, error)
}

// Session is a management channel to one device.
type Session interface {
	// Do sends one confirmable request and returns the answer.
	Do(ctx context.Context, path string, code codes.Code, accept message.MediaType, body []byte) (*coapnet.Response, error)
	// Observe registers for notifications of path; fn gets the first answer
	// and each notification. accepted is false when the device answered
	// without registering the observation (it is then polled).
	Observe(ctx context.Context, path string, accept message.MediaType, fn func(*coapnet.Response)) (stop func(), accepted bool, err error)
	// Ping is a CoAP ping (an empty confirmable message).
	Ping(ctx context.Context) error
}

// UDP dials plain CoAP through one socket shared by every attached device:
// a hundred devices cost one file descriptor.
type UDP struct {
	srv *coapnet.Server
}

// NewUDP opens the shared socket on addr ("127.0.0.1:0" picks a port).
func NewUDP(addr string) (*UDP, error) {
	s, err := coapnet.Listen(addr, nil, coapnet.Options{})
	if err != nil {
		return nil, err
	}
	return &UDP{srv: s}, nil
}

// Close closes the socket.
func (u *UDP) Close() { u.srv.Close() }

// Dial returns a session to the device at uri.
func (u *UDP) Dial(_ context.Context, uri string) (Session, error) {
	t, err := coapnet.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	return &udpSession{u: u, t: t}, nil
}

type udpSession struct {
	u *UDP
	t coapnet.Target
}

func (s *udpSession) Do(ctx context.Context, path string, code codes.Code, accept message.MediaType, body []byte) (*coapnet.Response, error) {
	t := s.t
	t.Path, t.Queries = path, nil
	var opts []message.Option
	if accept != 0 || code == codes.GET {
		opts = append(opts, message.Option{ID: message.Accept, Value: uintBytes(uint32(accept))})
	}
	return s.u.srv.Request(ctx, t, code, message.TextPlain, body, opts...)
}

func (s *udpSession) Observe(ctx context.Context, path string, accept message.MediaType, fn func(*coapnet.Response)) (func(), bool, error) {
	cc, err := s.u.srv.Conn(s.t.Addr)
	if err != nil {
		return nil, false, err
	}
	obs, err := cc.Observe(ctx, path, func(m *pool.Message) {
		if r, err := copyResponse(m); err == nil {
			fn(r)
		}
	}, message.Option{ID: message.Accept, Value: uintBytes(uint32(accept))})
	if err != nil {
		return nil, false, fmt.Errorf("observe %s: %w", path, err)
	}
	stop := func() {
		c, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		_ = obs.Cancel(c)
	}
	return stop, !obs.Canceled(), nil
}

func (s *udpSession) Ping(ctx context.Context) error {
	cc, err := s.u.srv.Conn(s.t.Addr)
	if err != nil {
		return err
	}
	return cc.Ping(ctx)
}

// cancelTimeout bounds the deregistration of an observation (a device that
// went away does not answer it).
const cancelTimeout = 2 * time.Second

func copyResponse(m *pool.Message) (*coapnet.Response, error) {
	body, err := m.ReadBody()
	if err != nil {
		return nil, err
	}
	opts := make(message.Options, 0, len(m.Options()))
	for _, o := range m.Options() {
		opts = append(opts, message.Option{ID: o.ID, Value: bytes.Clone(o.Value)})
	}
	return &coapnet.Response{Code: m.Code(), Body: bytes.Clone(body), Options: opts}, nil
}

func uintBytes(v uint32) []byte {
	b := make([]byte, 4)
	n, _ := message.EncodeUint32(b, v)
	return b[:n]
}
