package coapnet

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// Request is what a stateless server hands its responder.
type Request struct {
	Code    codes.Code
	Path    string // "/a/b"
	Options message.Options
	Payload []byte
	Peer    *net.UDPAddr
}

// Responder answers one request.
type Responder func(req *Request) *Reply

// Stateless is a CoAP server that keeps nothing between requests: each
// datagram is answered at once (piggybacked in the ACK of a confirmable
// request). It serves idempotent resources, such as a file repository, for
// which RFC 7252 allows answering a duplicate again. go-coap's server keeps
// every response to a peer for EXCHANGE_LIFETIME and scans that cache on each
// datagram, which a repository serving thousands of blocks to one device
// cannot afford.
type Stateless struct {
	conn *net.UDPConn
	h    Responder
	done chan struct{}

	mu  sync.Mutex
	mid uint16
}

// ListenStateless serves h on a UDP socket at addr.
func ListenStateless(addr string, h Responder) (*Stateless, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("coap: listen %s: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("coap: listen %s: %w", addr, err)
	}
	s := &Stateless{conn: conn, h: h, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

// Addr is the socket's address.
func (s *Stateless) Addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// URI is the server's base URI, coap://host:port.
func (s *Stateless) URI() string { return "coap://" + s.Addr().String() }

// Close stops serving and waits until the socket is closed.
func (s *Stateless) Close() {
	_ = s.conn.Close()
	<-s.done
}

func (s *Stateless) serve() {
	defer close(s.done)
	buf := make([]byte, MaxDatagram)
	out := make([]byte, MaxDatagram)
	for {
		n, peer, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		// go-coap decodes options into the slice it is given: room for
		// every option a datagram can carry.
		m := message.Message{Options: make(message.Options, 0, 64)}
		if _, err := coder.DefaultCoder.Decode(buf[:n], &m); err != nil {
			continue // not CoAP: a real endpoint stays silent
		}
		resp, ok := s.answer(&m, peer)
		if !ok {
			continue
		}
		if k, err := coder.DefaultCoder.Encode(resp, out); err == nil {
			_, _ = s.conn.WriteToUDP(out[:k], peer)
		}
	}
}

// answer builds the response to one datagram; ok is false when none is due.
func (s *Stateless) answer(m *message.Message, peer *net.UDPAddr) (message.Message, bool) {
	switch {
	case m.Type == message.Acknowledgement || m.Type == message.Reset:
		return message.Message{}, false
	case m.Code == codes.Empty:
		// a CoAP ping: answered with a Reset, as RFC 7252 §4.3 says
		return message.Message{Type: message.Reset, MessageID: m.MessageID}, m.Type == message.Confirmable
	case m.Code >= codes.Created:
		return message.Message{}, false // a response nobody asked for
	}
	path, _ := m.Options.Path()
	rep := s.h(&Request{Code: m.Code, Path: "/" + strings.TrimPrefix(path, "/"), Options: m.Options, Payload: m.Payload, Peer: peer})
	opts := append(message.Options(nil), rep.Options...)
	if len(rep.Body) > 0 || rep.Format != message.TextPlain {
		opts = append(opts, message.Option{ID: message.ContentFormat, Value: encodeUint(uint32(rep.Format))})
	}
	sort.SliceStable(opts, func(i, j int) bool { return opts[i].ID < opts[j].ID })
	resp := message.Message{Token: m.Token, Code: rep.Code, Options: opts, Payload: rep.Body}
	if m.Type == message.Confirmable {
		resp.Type, resp.MessageID = message.Acknowledgement, m.MessageID
	} else {
		s.mu.Lock()
		s.mid++
		resp.Type, resp.MessageID = message.NonConfirmable, int32(s.mid)
		s.mu.Unlock()
	}
	return resp, true
}
