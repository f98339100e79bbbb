package coapnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	"github.com/plgd-dev/go-coap/v3/mux"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// DefaultSZX is the block size a server uses when a client does not ask for
// one, and a client asks for when not told: 1024 bytes.
const DefaultSZX = blockwise.SZX1024

// SZXFor returns the largest block-size exponent whose size is at most n
// (16..1024 bytes).
func SZXFor(n int) blockwise.SZX {
	szx := blockwise.SZX16
	for s := blockwise.SZX16; s <= blockwise.SZX1024; s++ {
		if int(s.Size()) <= n {
			szx = s
		}
	}
	return szx
}

// Response is a copied CoAP response: safe to keep after the exchange.
type Response struct {
	Code    codes.Code
	Body    []byte
	Options message.Options
}

// Format is the response's content format, if it has one.
func (r *Response) Format() (message.MediaType, bool) {
	cf, err := r.Options.ContentFormat()
	return cf, err == nil
}

func readResponse(m *pool.Message) (*Response, error) {
	body, err := m.ReadBody()
	if err != nil {
		return nil, fmt.Errorf("coap: reading response: %w", err)
	}
	opts := make(message.Options, 0, len(m.Options()))
	for _, o := range m.Options() {
		opts = append(opts, message.Option{ID: o.ID, Value: bytes.Clone(o.Value)})
	}
	return &Response{Code: m.Code(), Body: bytes.Clone(body), Options: opts}, nil
}

func newToken() (message.Token, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("coap: token: %w", err)
	}
	return message.Token(b[:]), nil
}

// WriteBody answers r with body, one block at a time when it is larger than a
// block or the client asked for a block (Block2, RFC 7959 §2.4). A request
// for a block past the end gets 4.02 Bad Option.
func WriteBody(w mux.ResponseWriter, r *mux.Message, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) error {
	rep := Slice(r.Options(), &Reply{Code: code, Format: cf, Body: body, Options: opts})
	return w.SetResponse(rep.Code, rep.Format, bytes.NewReader(rep.Body), rep.Options...)
}

// Reply is a response as a handler builds it.
type Reply struct {
	Code    codes.Code
	Format  message.MediaType
	Body    []byte
	Options message.Options
}

// text is a plain-text reply.
func text(code codes.Code, s string) *Reply {
	return &Reply{Code: code, Format: message.TextPlain, Body: []byte(s)}
}

// Slice cuts a reply to the block the request asks for (Block2), or to the
// first block when it is larger than one and the request asked for none.
func Slice(req message.Options, rep *Reply) *Reply {
	body := rep.Body
	szx, num, asked := DefaultSZX, int64(0), false
	if v, err := req.GetUint32(message.Block2); err == nil {
		s, n, _, err := blockwise.DecodeBlockOption(v)
		if err != nil || s > blockwise.SZX1024 {
			return text(codes.BadOption, "bad Block2 option")
		}
		szx, num, asked = s, n, true
	}
	size := szx.Size()
	if !asked && int64(len(body)) <= size {
		return rep
	}
	off := num * size
	if off > int64(len(body)) || (off == int64(len(body)) && off > 0) {
		return text(codes.BadOption, "block past the end")
	}
	end := min(off+size, int64(len(body)))
	more := end < int64(len(body))
	bo, err := blockwise.EncodeBlockOption(szx, num, more)
	if err != nil {
		return text(codes.BadOption, err.Error())
	}
	opts := append(message.Options(nil), rep.Options...)
	opts = append(opts, message.Option{ID: message.Block2, Value: encodeUint(bo)})
	if num == 0 {
		opts = append(opts, message.Option{ID: message.Size2, Value: encodeUint(uint32(len(body)))})
	}
	return &Reply{Code: rep.Code, Format: rep.Format, Body: body[off:end], Options: opts}
}

func encodeUint(v uint32) []byte {
	b := make([]byte, 4)
	n, _ := message.EncodeUint32(b, v)
	return b[:n]
}

// Uploads assembles request bodies sent block-wise (Block1, RFC 7959 §2.5),
// one upload per client address and path.
type Uploads struct {
	Max int // largest body accepted, in bytes

	mu sync.Mutex
	m  map[string]*upload
}

type upload struct {
	buf     []byte
	started time.Time
}

// uploadTimeout drops an upload whose next block never came.
const uploadTimeout = time.Minute

// Receive handles one request of a possibly block-wise upload. When the body
// is complete it returns it and reports true; otherwise it has answered the
// request itself (2.31 Continue, or an error) and reports false.
func (u *Uploads) Receive(w mux.ResponseWriter, r *mux.Message) ([]byte, bool) {
	body, err := r.ReadBody()
	if err != nil {
		_ = w.SetResponse(codes.BadRequest, message.TextPlain, strings.NewReader("unreadable body"))
		return nil, false
	}
	v, err := r.Options().GetUint32(message.Block1)
	if err != nil {
		if u.Max > 0 && len(body) > u.Max {
			u.tooLarge(w)
			return nil, false
		}
		return body, true
	}
	szx, num, more, err := blockwise.DecodeBlockOption(v)
	if err != nil || szx > blockwise.SZX1024 {
		_ = w.SetResponse(codes.BadOption, message.TextPlain, strings.NewReader("bad Block1 option"))
		return nil, false
	}
	path, _ := r.Options().Path()
	key := w.Conn().RemoteAddr().String() + " " + path
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]*upload{}
	}
	now := time.Now()
	for k, up := range u.m {
		if now.Sub(up.started) > uploadTimeout {
			delete(u.m, k)
		}
	}
	up := u.m[key]
	if num == 0 {
		up = &upload{started: now}
		u.m[key] = up
	}
	if up == nil || int64(len(up.buf)) != num*szx.Size() {
		delete(u.m, key)
		_ = w.SetResponse(codes.RequestEntityIncomplete, message.TextPlain, strings.NewReader("block out of order"))
		return nil, false
	}
	up.buf = append(up.buf, body...)
	if u.Max > 0 && len(up.buf) > u.Max {
		delete(u.m, key)
		u.tooLarge(w)
		return nil, false
	}
	if more {
		bo, _ := blockwise.EncodeBlockOption(szx, num, true)
		b := make([]byte, 4)
		n, _ := message.EncodeUint32(b, bo)
		_ = w.SetResponse(codes.Continue, message.TextPlain, nil, message.Option{ID: message.Block1, Value: b[:n]})
		return nil, false
	}
	delete(u.m, key)
	return up.buf, true
}

func (u *Uploads) tooLarge(w mux.ResponseWriter) {
	b := make([]byte, 4)
	n, _ := message.EncodeUint32(b, uint32(u.Max))
	_ = w.SetResponse(codes.RequestEntityTooLarge, message.TextPlain,
		strings.NewReader(fmt.Sprintf("at most %d bytes", u.Max)), message.Option{ID: message.Size1, Value: b[:n]})
}

// Target is a parsed coap:// URI.
type Target struct {
	Addr    *net.UDPAddr
	Path    string
	Queries []string
}

// ErrBadURI is returned for a URI that is not coap://host[:port]/path.
var ErrBadURI = errors.New("not a coap:// URI")

// ErrResolve is returned when a URI's host does not resolve.
var ErrResolve = errors.New("cannot resolve host")

// ResolveError names the host that did not resolve and why.
type ResolveError struct {
	Host string
	Err  error
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("cannot resolve host %q: %v", e.Host, e.Err)
}
func (e *ResolveError) Unwrap() []error { return []error{ErrResolve, e.Err} }

// ErrHostName is why a literal-only resolver refuses a name.
var ErrHostName = errors.New("host names are not resolved here, give an IP address")

// Resolver maps a URI's host and port to a socket address. It may block
// (a DNS lookup): call it off any lock that others wait for.
type Resolver func(host, port string) (*net.UDPAddr, error)

// lookupTimeout bounds one system lookup: a bogus name must not hold a
// device's update for the resolver's full retry schedule.
const lookupTimeout = 3 * time.Second

// SystemResolver resolves through the system resolver, within lookupTimeout.
func SystemResolver(host, port string) (*net.UDPAddr, error) {
	if a, err := LiteralResolver(host, port); err == nil {
		return a, nil
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("port %q", port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	return &net.UDPAddr{IP: ips[0].IP, Port: p, Zone: ips[0].Zone}, nil
}

// LiteralResolver accepts IP addresses only and never does a lookup.
func LiteralResolver(host, port string) (*net.UDPAddr, error) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, ErrHostName
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("port %q", port)
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p))), nil
}

// URI is a coap:// URI read but not resolved.
type URI struct {
	Host    string // without brackets
	Port    string // "5683" when the URI gives none
	Path    string
	Queries []string
}

// ReadURI reads coap://host[:port]/path[?query] without resolving the host:
// it is cheap and never blocks, so a request handler may call it.
func ReadURI(uri string) (URI, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "coap" || u.Host == "" || u.Hostname() == "" {
		return URI{}, fmt.Errorf("%w: %q", ErrBadURI, uri)
	}
	port := u.Port()
	if port == "" {
		port = "5683"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return URI{}, fmt.Errorf("%w: %q: port %q", ErrBadURI, uri, port)
	}
	r := URI{Host: strings.Trim(u.Hostname(), "[]"), Port: port, Path: u.Path}
	if r.Path == "" {
		r.Path = "/"
	}
	if u.RawQuery != "" {
		r.Queries = strings.Split(u.RawQuery, "&")
	}
	return r, nil
}

// HostPort is host:port as the URI names it (brackets around IPv6).
func (u URI) HostPort() string { return net.JoinHostPort(u.Host, u.Port) }

// Resolve finds the URI's socket address with resolve.
func (u URI) Resolve(resolve Resolver) (Target, error) {
	addr, err := resolve(u.Host, u.Port)
	if err != nil {
		return Target{}, &ResolveError{Host: u.Host, Err: err}
	}
	return Target{Addr: addr, Path: u.Path, Queries: u.Queries}, nil
}

// ParseURI reads coap://host[:port]/path[?query]. Names resolve through the
// system resolver; the default port is 5683.
func ParseURI(uri string) (Target, error) { return ParseURIWith(uri, SystemResolver) }

// ParseURIWith is ParseURI with a resolver of one's own: the lab names its
// repository coap://repo.localhost/ so transcripts do not carry random ports.
func ParseURIWith(uri string, resolve Resolver) (Target, error) {
	u, err := ReadURI(uri)
	if err != nil {
		return Target{}, err
	}
	return u.Resolve(resolve)
}

// Block is one block of a block-wise GET.
type Block struct {
	Data  []byte
	Num   int64
	SZX   blockwise.SZX
	More  bool
	Total int64 // from Size2, or -1 when the server did not say
}

// ErrStatus is returned when a peer answers with an error code.
var ErrStatus = errors.New("coap: error response")

// StatusError carries the code and text of an error response.
type StatusError struct {
	Code codes.Code
	Text string
}

func (e *StatusError) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("coap: %s: %s", e.Code, e.Text)
	}
	return "coap: " + e.Code.String()
}

func (e *StatusError) Unwrap() error { return ErrStatus }

// GetBlock fetches block num of t's resource with block size szx: one real
// exchange through this server's socket.
func (s *Server) GetBlock(ctx context.Context, t Target, num int64, szx blockwise.SZX) (Block, error) {
	resp, err := s.Do(ctx, t.Addr, func(m *pool.Message) error {
		m.SetCode(codes.GET)
		m.SetType(message.Confirmable)
		if err := m.SetPath(t.Path); err != nil {
			return err
		}
		for _, q := range t.Queries {
			m.AddQuery(q)
		}
		bo, err := blockwise.EncodeBlockOption(szx, num, false)
		if err != nil {
			return err
		}
		m.SetOptionUint32(message.Block2, bo)
		if num == 0 {
			m.SetOptionUint32(message.Size2, 0)
		}
		return nil
	})
	if err != nil {
		return Block{}, err
	}
	if resp.Code != codes.Content {
		return Block{}, &StatusError{Code: resp.Code, Text: string(resp.Body)}
	}
	b := Block{Data: resp.Body, Num: num, SZX: szx, Total: -1}
	if v, err := resp.Options.GetUint32(message.Size2); err == nil {
		b.Total = int64(v)
	}
	if v, err := resp.Options.GetUint32(message.Block2); err == nil {
		rs, rn, more, err := blockwise.DecodeBlockOption(v)
		if err != nil {
			return Block{}, fmt.Errorf("coap: bad Block2 in response: %w", err)
		}
		b.SZX, b.Num, b.More = rs, rn, more
	} else if num > 0 {
		return Block{}, fmt.Errorf("coap: asked for block %d, got a response without Block2", num)
	}
	return b, nil
}

// Get fetches a whole resource block by block into w, calling progress after
// each block. It is the plain client; a device paces each block itself and
// goes through Blocks with its own fetch.
func (s *Server) Get(ctx context.Context, t Target, szx blockwise.SZX, w io.Writer, progress func(done, total int64)) error {
	return Blocks(func(num int64, szx blockwise.SZX) (Block, error) { return s.GetBlock(ctx, t, num, szx) }, szx, w, progress)
}

// Blocks runs the block-wise transfer of one resource: it asks get for block
// after block, writes them to w and calls progress (total is -1 until the
// server says it with Size2), until a block says no more follow.
func Blocks(get func(num int64, szx blockwise.SZX) (Block, error), szx blockwise.SZX, w io.Writer, progress func(done, total int64)) error {
	done, total := int64(0), int64(-1)
	for num := int64(0); ; num++ {
		b, err := get(num, szx)
		if err != nil {
			return err
		}
		if b.Total >= 0 {
			total = b.Total
		}
		if _, err := w.Write(b.Data); err != nil {
			return err
		}
		done += int64(len(b.Data))
		if progress != nil {
			progress(done, total)
		}
		if !b.More {
			return nil
		}
		// The server may answer with smaller blocks than asked (RFC 7959 §2.4):
		// continue at its size.
		if b.SZX != szx {
			szx = b.SZX
			num = done/szx.Size() - 1
		}
	}
}

// Request sends one request with a body (no block-wise) and returns the response.
func (s *Server) Request(ctx context.Context, t Target, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) (*Response, error) {
	return s.Do(ctx, t.Addr, func(m *pool.Message) error {
		m.SetCode(code)
		m.SetType(message.Confirmable)
		if err := m.SetPath(t.Path); err != nil {
			return err
		}
		for _, q := range t.Queries {
			m.AddQuery(q)
		}
		for _, o := range opts {
			m.AddOptionBytes(o.ID, o.Value)
		}
		if body != nil {
			m.SetContentFormat(cf)
			m.SetBody(bytes.NewReader(body))
		}
		return nil
	})
}

// Notify sends body to t as a non-confirmable POST through this server's
// socket and returns the peer's answer, if one comes before ctx ends.
func (s *Server) Notify(ctx context.Context, t Target, body []byte) (*Response, error) {
	return s.Do(ctx, t.Addr, func(m *pool.Message) error {
		m.SetCode(codes.POST)
		m.SetType(message.NonConfirmable)
		if err := m.SetPath(t.Path); err != nil {
			return err
		}
		for _, q := range t.Queries {
			m.AddQuery(q)
		}
		m.SetContentFormat(message.AppOctets)
		m.SetBody(bytes.NewReader(body))
		return nil
	})
}

// TinyContainer's experimental options on /container/ (upstream's
// TinyContainerNetwork.md).
const (
	OptAction   message.OptionID = 65001 // uint: 1 load, 2 start, 3 is-running, 4 stop, 5 delete
	OptMetadata message.OptionID = 65002 // opaque
	OptData     message.OptionID = 65003 // opaque
	OptCode     message.OptionID = 65004 // opaque
	OptUID      message.OptionID = 65005 // opaque
	OptStatus   message.OptionID = 65006 // uint: 0 not running, 1 running
	// OptTenant is tinylab's own: on a load, the tenant the owner loads the
	// container for (upstream's metadata names no tenant).
	OptTenant message.OptionID = 65007 // string
)
