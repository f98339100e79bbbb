package gateway

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

// Options configure a gateway.
type Options struct {
	// Devices returns the JSON summary /lab/devices serves; nil serves the
	// registrations alone.
	Devices func() []byte
	// Now is the gateway's clock for lifetimes; nil: the wall clock.
	Now func() time.Time
	// OnChange is told of each registration, refresh, removal and expiry.
	OnChange func(Change)
	// Fleet lists the lab's own devices, which the RD's lookups show as if
	// registered (under /lab/rd/ID, no lifetime) unless they registered
	// themselves: the RD view of the whole fleet. nil: none.
	Fleet func() []Registration
}

// Change is something that happened to a registration.
type Change struct {
	Action string // registered, refreshed, removed, expired
	Reg    Registration
}

// Registration is one endpoint registered with the RD.
type Registration struct {
	Location string    `json:"location"` // /rd/N
	Endpoint string    `json:"ep"`
	Sector   string    `json:"d,omitempty"`
	Base     string    `json:"base"`
	Lifetime int       `json:"lt"`
	Links    string    `json:"links"`
	Expires  time.Time `json:"expires"`
	Since    time.Time `json:"since"` // first registration under this location
}

// DefaultLifetime is RFC 9176's default lt: 90000 s.
const DefaultLifetime = 90000

// maxRegistrations bounds what peers can make the gateway hold.
const maxRegistrations = 20000

// Gateway is the lab's endpoint.
type Gateway struct {
	opts Options
	srv  *coapnet.Stateless

	done, swept chan struct{}

	mu        sync.Mutex
	regs      map[string]*Registration // by location
	next      int
	collected map[string]*Collected // by path under /collect
}

// Collected is what remote endpoints sent to one path of the collector
// (/collect/...): TinyContainer's remote peers report there.
type Collected struct {
	Path  string    `json:"path"`
	Count int       `json:"count"`
	Bytes int       `json:"bytes"`
	Last  []byte    `json:"last"` // the last payload, cut to maxCollected bytes
	From  string    `json:"from"` // the last sender
	At    time.Time `json:"at"`
}

// The collector keeps little: a bounded number of paths, the last payload
// of each, cut short.
const (
	maxCollectPaths = 256
	maxCollected    = 256
)

// Listen serves a gateway at addr ("127.0.0.1:0" picks a port).
func Listen(addr string, o Options) (*Gateway, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	g := &Gateway{opts: o, regs: map[string]*Registration{}, collected: map[string]*Collected{}}
	srv, err := coapnet.ListenStateless(addr, g.answer)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.srv = srv
	g.done = make(chan struct{})
	g.swept = make(chan struct{})
	go g.sweep()
	return g, nil
}

// sweep expires registrations once a second, so that an endpoint that went
// away is reported gone even when nobody asks.
func (g *Gateway) sweep() {
	defer close(g.swept)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-t.C:
			g.mu.Lock()
			g.expire()
			g.mu.Unlock()
		}
	}
}

// URI is the gateway's coap:// address.
func (g *Gateway) URI() string { return g.srv.URI() }

// Close stops serving.
func (g *Gateway) Close() {
	g.srv.Close()
	close(g.done)
	<-g.swept
}

// Registrations lists the live registrations by location.
func (g *Gateway) Registrations() []Registration {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire()
	out := make([]Registration, 0, len(g.regs))
	for _, r := range g.regs {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Registration) int { return locOrder(a.Location) - locOrder(b.Location) })
	return out
}

func locOrder(loc string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(loc, "/rd/"))
	return n
}

// expire drops registrations whose lifetime ran out. Called with mu held.
func (g *Gateway) expire() {
	now := g.opts.Now()
	for loc, r := range g.regs {
		if !now.Before(r.Expires) {
			delete(g.regs, loc)
			g.tell("expired", *r)
		}
	}
}

func (g *Gateway) tell(action string, r Registration) {
	if g.opts.OnChange != nil {
		g.opts.OnChange(Change{Action: action, Reg: r})
	}
}

func reply(code codes.Code, cf message.MediaType, body string) *coapnet.Reply {
	return &coapnet.Reply{Code: code, Format: cf, Body: []byte(body)}
}

func (g *Gateway) answer(req *coapnet.Request) *coapnet.Reply {
	rep := g.route(req)
	if req.Code == codes.GET {
		return coapnet.Slice(req.Options, rep)
	}
	return rep
}

func (g *Gateway) route(req *coapnet.Request) *coapnet.Reply {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire()
	switch {
	case req.Path == "/.well-known/core" && req.Code == codes.GET:
		return reply(codes.Content, message.AppLinkFormat, g.wellKnown(queries(req.Options)))
	case req.Path == "/rd" && req.Code == codes.POST:
		return g.register(req)
	case req.Path == "/rd-lookup/ep" && req.Code == codes.GET:
		return reply(codes.Content, message.AppLinkFormat, g.lookupEP(g.view(), queries(req.Options)))
	case req.Path == "/rd-lookup/res" && req.Code == codes.GET:
		return reply(codes.Content, message.AppLinkFormat, g.lookupRes(g.view(), queries(req.Options)))
	case strings.HasPrefix(req.Path, "/lab/rd/") && req.Code == codes.GET:
		for _, r := range g.view() {
			if r.Location == req.Path {
				return reply(codes.Content, message.AppLinkFormat, r.Links)
			}
		}
		return reply(codes.NotFound, message.TextPlain, "no device "+strings.TrimPrefix(req.Path, "/lab/rd/"))
	case req.Path == "/lab/devices" && req.Code == codes.GET:
		return reply(codes.Content, message.AppJSON, string(g.devices()))
	case strings.HasPrefix(req.Path, "/rd/"):
		return g.registration(req)
	case strings.HasPrefix(req.Path, "/collect/") && (req.Code == codes.POST || req.Code == codes.PUT):
		return g.collect(req)
	case req.Path == "/rd" || req.Path == "/rd-lookup/ep" || req.Path == "/rd-lookup/res" || req.Path == "/lab/devices" || req.Path == "/.well-known/core":
		return reply(codes.MethodNotAllowed, message.TextPlain, req.Code.String()+" is not allowed on "+req.Path)
	}
	return reply(codes.NotFound, message.TextPlain, "no resource "+req.Path)
}

func (g *Gateway) devices() []byte {
	if g.opts.Devices != nil {
		// the lab reads its own lock: do not hold ours meanwhile
		g.mu.Unlock()
		defer g.mu.Lock()
		return g.opts.Devices()
	}
	return []byte("[]")
}

func queries(opts message.Options) map[string]string {
	q := map[string]string{}
	qs, _ := opts.Queries()
	for _, s := range qs {
		k, v, _ := strings.Cut(s, "=")
		q[k] = v
	}
	return q
}

func (g *Gateway) wellKnown(q map[string]string) string {
	l := []coapnet.Link{
		{Target: "/rd", Attrs: []coapnet.LinkAttr{attr("rt", "core.rd"), attr("ct", "40")}},
		{Target: "/rd-lookup/ep", Attrs: []coapnet.LinkAttr{attr("rt", "core.rd-lookup-ep"), attr("ct", "40")}},
		{Target: "/rd-lookup/res", Attrs: []coapnet.LinkAttr{attr("rt", "core.rd-lookup-res"), attr("ct", "40")}},
		{Target: "/lab/devices", Attrs: []coapnet.LinkAttr{attr("rt", "tinylab.devices"), attr("ct", "50")}},
		{Target: "/collect/", Attrs: []coapnet.LinkAttr{attr("rt", "tinylab.collector")}},
	}
	for _, r := range g.sorted() {
		l = append(l, coapnet.Link{Target: r.Location, Attrs: []coapnet.LinkAttr{attr("ep", r.Endpoint)}})
	}
	// rt filter with a trailing '*' as RFC 6690 §4.1 (cord_ep asks rt=core.rd*)
	if rt, ok := q["rt"]; ok {
		l = slices.DeleteFunc(l, func(k coapnet.Link) bool {
			v, _ := k.Attr("rt")
			return !matches(v, rt)
		})
	}
	return join(l)
}

func matches(v, pattern string) bool {
	for _, f := range strings.Fields(v) {
		if p, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(f, p) || f == pattern {
			return true
		}
	}
	return false
}

func join(l []coapnet.Link) string {
	s := make([]string, len(l))
	for i, k := range l {
		s[i] = k.String()
	}
	return strings.Join(s, ",")
}

// view is what the lookups show: the registrations, then the lab's own
// devices that did not register. Called with mu held; the lab is asked
// without it.
func (g *Gateway) view() []*Registration {
	regs := g.sorted()
	if g.opts.Fleet == nil {
		return regs
	}
	g.mu.Unlock()
	fleet := g.opts.Fleet()
	g.mu.Lock()
	// a device that registered itself shows once: by its name or its address
	have := map[string]bool{}
	for _, r := range regs {
		have[r.Endpoint], have[r.Base] = true, true
	}
	for i := range fleet {
		if !have[fleet[i].Endpoint] && !have[fleet[i].Base] {
			regs = append(regs, &fleet[i])
		}
	}
	return regs
}

func (g *Gateway) sorted() []*Registration {
	out := make([]*Registration, 0, len(g.regs))
	for _, r := range g.regs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Registration) int { return locOrder(a.Location) - locOrder(b.Location) })
	return out
}

func (g *Gateway) register(req *coapnet.Request) *coapnet.Reply {
	q := queries(req.Options)
	ep := q["ep"]
	if ep == "" {
		return reply(codes.BadRequest, message.TextPlain, "ep= is required (RFC 9176 §5.3)")
	}
	if cf, err := req.Options.ContentFormat(); err == nil && cf != message.AppLinkFormat {
		return reply(codes.UnsupportedMediaType, message.TextPlain, "the payload must be link format (40)")
	}
	links := string(req.Payload)
	if _, err := coapnet.ParseLinks(links); err != nil {
		return reply(codes.BadRequest, message.TextPlain, err.Error())
	}
	lt := DefaultLifetime
	if s, ok := q["lt"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return reply(codes.BadRequest, message.TextPlain, "lt= must be a positive number of seconds")
		}
		lt = n
	}
	base := q["base"]
	if base == "" {
		base = "coap://" + req.Peer.String()
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "coap" && u.Scheme != "coaps") || u.Host == "" {
		return reply(codes.BadRequest, message.TextPlain, "base= must be a coap:// URI")
	}
	now := g.opts.Now()
	for _, r := range g.regs {
		if r.Endpoint == ep && r.Sector == q["d"] {
			// the same endpoint again replaces its registration (§5.3)
			r.Base, r.Lifetime, r.Links, r.Expires = base, lt, links, now.Add(time.Duration(lt)*time.Second)
			g.tell("registered", *r)
			return created(r.Location)
		}
	}
	if len(g.regs) >= maxRegistrations {
		return reply(codes.ServiceUnavailable, message.TextPlain, "too many registrations")
	}
	g.next++
	r := &Registration{Location: "/rd/" + strconv.Itoa(g.next), Endpoint: ep, Sector: q["d"], Base: base, Lifetime: lt, Links: links,
		Expires: now.Add(time.Duration(lt) * time.Second), Since: now}
	g.regs[r.Location] = r
	g.tell("registered", *r)
	return created(r.Location)
}

func created(loc string) *coapnet.Reply {
	var opts message.Options
	for _, seg := range strings.Split(strings.Trim(loc, "/"), "/") {
		opts = append(opts, message.Option{ID: message.LocationPath, Value: []byte(seg)})
	}
	return &coapnet.Reply{Code: codes.Created, Format: message.TextPlain, Options: opts}
}

func (g *Gateway) registration(req *coapnet.Request) *coapnet.Reply {
	r := g.regs[req.Path]
	if r == nil {
		return reply(codes.NotFound, message.TextPlain, "no registration "+req.Path)
	}
	switch req.Code {
	case codes.GET:
		return reply(codes.Content, message.AppLinkFormat, r.Links)
	case codes.POST:
		q := queries(req.Options)
		if s, ok := q["lt"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return reply(codes.BadRequest, message.TextPlain, "lt= must be a positive number of seconds")
			}
			r.Lifetime = n
		}
		if b, ok := q["base"]; ok {
			r.Base = b
		}
		if len(req.Payload) > 0 {
			if _, err := coapnet.ParseLinks(string(req.Payload)); err != nil {
				return reply(codes.BadRequest, message.TextPlain, err.Error())
			}
			r.Links = string(req.Payload)
		}
		r.Expires = g.opts.Now().Add(time.Duration(r.Lifetime) * time.Second)
		g.tell("refreshed", *r)
		return &coapnet.Reply{Code: codes.Changed, Format: message.TextPlain}
	case codes.DELETE:
		delete(g.regs, req.Path)
		g.tell("removed", *r)
		return &coapnet.Reply{Code: codes.Deleted, Format: message.TextPlain}
	}
	return reply(codes.MethodNotAllowed, message.TextPlain, "use GET, POST or DELETE")
}

// collect takes in what a remote endpoint sent (a container's write to a
// remote peer): counted per path, the last payload kept.
func (g *Gateway) collect(req *coapnet.Request) *coapnet.Reply {
	c := g.collected[req.Path]
	if c == nil {
		if len(g.collected) >= maxCollectPaths {
			return reply(codes.ServiceUnavailable, message.TextPlain, "too many collector paths")
		}
		c = &Collected{Path: req.Path}
		g.collected[req.Path] = c
	}
	c.Count++
	c.Bytes += len(req.Payload)
	c.Last = append(c.Last[:0], req.Payload[:min(len(req.Payload), maxCollected)]...)
	c.From, c.At = req.Peer.String(), g.opts.Now()
	return &coapnet.Reply{Code: codes.Changed, Format: message.TextPlain}
}

// Collected lists what the collector received, by path.
func (g *Gateway) Collected() []Collected {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Collected, 0, len(g.collected))
	for _, c := range g.collected {
		cc := *c
		cc.Last = slices.Clone(c.Last)
		out = append(out, cc)
	}
	slices.SortFunc(out, func(a, b Collected) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// lookupEP is RFC 9176 §6.3 endpoint lookup: a link to each registration,
// with ep, base and lt; filtered by ep= and d=.
func (g *Gateway) lookupEP(view []*Registration, q map[string]string) string {
	var l []coapnet.Link
	for _, r := range view {
		if (q["ep"] != "" && !glob(r.Endpoint, q["ep"])) || (q["d"] != "" && r.Sector != q["d"]) {
			continue
		}
		attrs := []coapnet.LinkAttr{attr("ep", r.Endpoint), attr("base", r.Base), attr("rt", "core.rd-ep")}
		if r.Lifetime > 0 {
			attrs = append(attrs, attr("lt", strconv.Itoa(r.Lifetime)))
		}
		if r.Sector != "" {
			attrs = append(attrs, attr("d", r.Sector))
		}
		l = append(l, coapnet.Link{Target: r.Location, Attrs: attrs})
	}
	return join(l)
}

// lookupRes is resource lookup: every registered link made absolute against
// its endpoint's base, with the anchor set to it.
func (g *Gateway) lookupRes(view []*Registration, q map[string]string) string {
	var l []coapnet.Link
	for _, r := range view {
		if q["ep"] != "" && !glob(r.Endpoint, q["ep"]) {
			continue
		}
		links, _ := coapnet.ParseLinks(r.Links)
		base, err := url.Parse(r.Base)
		if err != nil {
			continue
		}
		for _, k := range links {
			ref, err := url.Parse(k.Target)
			if err != nil {
				continue
			}
			if rt, ok := q["rt"]; ok {
				v, _ := k.Attr("rt")
				if !matches(v, rt) {
					continue
				}
			}
			abs := coapnet.Link{Target: base.ResolveReference(ref).String(), Attrs: append([]coapnet.LinkAttr{attr("anchor", r.Base)}, k.Attrs...)}
			l = append(l, abs)
		}
	}
	return join(l)
}

func glob(v, pattern string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(v, p)
	}
	return v == pattern
}

// Addr is the gateway's socket address.
func (g *Gateway) Addr() *net.UDPAddr { return g.srv.Addr() }

func attr(name, value string) coapnet.LinkAttr { return coapnet.LinkAttr{Name: name, Value: value} }
