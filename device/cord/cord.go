package cord

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/coapnet"
)

// Transport sends one confirmable request and returns the answer: the
// device's own socket (coapnet.Server), or a DTLS session to the RD.
type Transport interface {
	Request(ctx context.Context, t coapnet.Target, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) (*coapnet.Response, error)
}

// RIOT's defaults (sys/include/net/cord/config.h).
const (
	DefaultLifetime = 86400 * time.Second // CONFIG_CORD_LT
	EPPrefix        = "RIOT-"             // CORD_EP_PREFIX
	minLifetime     = 2 * time.Second
)

// Config says where and as what a device registers.
type Config struct {
	RD       string        // coap://host[:port][/registration-resource]
	Endpoint string        // ep=, the endpoint name
	Lifetime time.Duration // lt=, in whole seconds; 0: DefaultLifetime
	// Base is base=, the device's own coap:// URI; "" lets the RD take the
	// request's source address (RFC 9176 §5.3).
	Base string
	// Links is the link-format description the device registers, read at
	// each (re-)registration so new containers show.
	Links func() string
	// AbsoluteLinks sends the links with absolute targets (Base joined to
	// each): for an RD without lookup that keeps no base, such as
	// libcoap's, so that whoever reads the registration knows the device's
	// address. RIOT sends relative links.
	AbsoluteLinks bool
	Resolve       coapnet.Resolver // nil: the system resolver
	Timeout       time.Duration    // per exchange; 0: 10 s
	Source        string           // the events' device name
	// Up says whether the device is powered (nil: always). While it is not,
	// nothing is sent and the registration is forgotten, so it lapses at
	// the RD as a real node's does; at power-on it registers again, as RIOT
	// does at boot. Called in the world.
	Up func() bool
}

// State is where an endpoint is in its life.
type State int

const (
	Idle State = iota
	Registering
	Registered
	Stopped
)

func (s State) String() string {
	switch s {
	case Registering:
		return "registering"
	case Registered:
		return "registered"
	case Stopped:
		return "stopped"
	}
	return "idle"
}

// Status is a copy of what the endpoint knows.
type Status struct {
	State        State
	RegIf        string // the registration resource, as discovered
	Location     string // the registration, from Location-Path
	Registered   int    // successful registrations so far
	Refreshed    int    // successful refreshes so far
	Failures     int
	LastError    string
	NoRefresh    bool          // the RD cannot refresh (4.05/5.01): the registration is kept as is
	RegisteredIn time.Duration // wall time of the last registration exchange(s), discovery included
}

// EP is one device's registration with one RD.
type EP struct {
	cfg   Config
	env   device.Env
	tr    Transport
	timer device.Timer
	ctx   context.Context
	stop  context.CancelFunc
	seq   uint64 // events published (only in the world)

	mu      sync.Mutex
	st      Status
	backoff time.Duration
	busy    bool // an exchange is in flight
}

// ErrConfig is returned for a configuration the endpoint cannot work with.
var ErrConfig = errors.New("cord: bad configuration")

// New checks cfg and makes an endpoint; Start begins registering.
func New(env device.Env, tr Transport, cfg Config) (*EP, error) {
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Lifetime < minLifetime {
		return nil, fmt.Errorf("%w: lifetime %s is under %s", ErrConfig, cfg.Lifetime, minLifetime)
	}
	cfg.Lifetime = cfg.Lifetime.Truncate(time.Second)
	if cfg.Endpoint == "" || strings.ContainsAny(cfg.Endpoint, "&= ") {
		return nil, fmt.Errorf("%w: endpoint name %q", ErrConfig, cfg.Endpoint)
	}
	if cfg.Resolve == nil {
		cfg.Resolve = coapnet.SystemResolver
	}
	if _, err := coapnet.ParseURIWith(cfg.RD, cfg.Resolve); err != nil {
		return nil, fmt.Errorf("%w: RD %w", ErrConfig, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Links == nil {
		return nil, fmt.Errorf("%w: no links to register", ErrConfig)
	}
	if cfg.Source == "" {
		cfg.Source = cfg.Endpoint
	}
	if cfg.AbsoluteLinks && cfg.Base == "" {
		return nil, fmt.Errorf("%w: absolute links need the device's base URI", ErrConfig)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &EP{cfg: cfg, env: env, tr: tr, ctx: ctx, stop: stop}, nil
}

// UpdateInterval is when a registration is refreshed: 3/4 of its lifetime,
// as RIOT's CONFIG_CORD_UPDATE_INTERVAL.
func (e *EP) UpdateInterval() time.Duration { return e.cfg.Lifetime / 4 * 3 }

// Start schedules the first registration now. Call it in the world.
func (e *EP) Start() {
	e.timer = e.env.NewTimer(e.tick)
	e.mu.Lock()
	e.st.State = Registering
	e.mu.Unlock()
	e.timer.Reset(e.env.Now())
}

// Status copies the endpoint's status; safe from any goroutine.
func (e *EP) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st
}

// tick runs in the world: it starts the exchange that is due.
func (e *EP) tick() {
	e.mu.Lock()
	if e.busy || e.st.State == Stopped {
		e.mu.Unlock()
		return
	}
	if e.cfg.Up != nil && !e.cfg.Up() {
		e.st.Location, e.st.State = "", Registering
		e.mu.Unlock()
		e.timer.Reset(e.env.Now() + powerCheck)
		return
	}
	e.busy = true
	loc := e.st.Location
	e.mu.Unlock()
	links := e.cfg.Links()
	if e.cfg.AbsoluteLinks {
		links = absolute(e.cfg.Base, links)
	}
	go func() {
		if loc != "" {
			e.refresh(loc, links)
		} else {
			e.register(links)
		}
	}()
}

// powerCheck is how often a powered-off device's endpoint looks whether it
// is back.
const powerCheck = time.Second

// after goes back into the world to publish what happened and schedule the
// next exchange d later.
func (e *EP) after(ev Registration, d time.Duration) {
	e.env.Do(func() {
		e.mu.Lock()
		e.busy = false
		stopped := e.st.State == Stopped
		e.mu.Unlock()
		if stopped {
			return
		}
		if ev.Action != "" {
			e.emit(ev)
		}
		e.timer.Reset(e.env.Now() + d)
	})
}

func (e *EP) emit(ev Registration) {
	ev.RD, ev.Endpoint = e.cfg.RD, e.cfg.Endpoint
	e.seq++
	e.env.Emit(device.Event{At: e.env.Now(), Device: e.cfg.Source, Seq: e.seq, Data: ev})
}

func (e *EP) target(uri string) (coapnet.Target, error) {
	return coapnet.ParseURIWith(uri, e.cfg.Resolve)
}

func (e *EP) request(t coapnet.Target, code codes.Code, cf message.MediaType, body []byte, opts ...message.Option) (*coapnet.Response, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
	defer cancel()
	return e.tr.Request(ctx, t, code, cf, body, opts...)
}

// discover finds the registration resource as cord_ep does, unless the RD
// URI names it.
func (e *EP) discover() (string, error) {
	rd, err := e.target(e.cfg.RD)
	if err != nil {
		return "", err
	}
	if rd.Path != "/" {
		return rd.Path, nil
	}
	rd.Path, rd.Queries = "/.well-known/core", []string{"rt=core.rd*"}
	resp, err := e.request(rd, codes.GET, 0, nil)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	if resp.Code != codes.Content {
		return "", fmt.Errorf("discovery: %w", &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)})
	}
	if cf, ok := resp.Format(); ok && cf != message.AppLinkFormat {
		return "", fmt.Errorf("discovery: %w: content format %d, not link format", ErrNoRD, cf)
	}
	links, err := coapnet.ParseLinks(string(resp.Body))
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	for _, l := range links {
		if l.HasType("core.rd") {
			return resolveRef("/", l.Target)
		}
	}
	return "", fmt.Errorf("discovery: %w at %s", ErrNoRD, e.cfg.RD)
}

// ErrNoRD is returned when the peer names no registration resource.
var ErrNoRD = errors.New("no resource of type core.rd")

// resolveRef resolves a link target against a path; the RD must be on the
// host it was asked at (an RD that points elsewhere is not followed).
func resolveRef(base, ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("bad link target %q: %w", ref, err)
	}
	if u.IsAbs() || u.Host != "" {
		return "", fmt.Errorf("registration resource %q is on another host", ref)
	}
	b, _ := url.Parse(base)
	return b.ResolveReference(u).Path, nil
}

func (e *EP) register(links string) {
	start := time.Now()
	e.mu.Lock()
	regif := e.st.RegIf
	e.mu.Unlock()
	var err error
	if regif == "" {
		if regif, err = e.discover(); err != nil {
			e.failed("register", err)
			return
		}
	}
	t, err := e.target(e.cfg.RD)
	if err != nil {
		e.failed("register", err)
		return
	}
	t.Path = regif
	t.Queries = []string{"ep=" + e.cfg.Endpoint, "lt=" + strconv.Itoa(int(e.cfg.Lifetime/time.Second))}
	if e.cfg.Base != "" {
		t.Queries = append(t.Queries, "base="+e.cfg.Base)
	}
	resp, err := e.request(t, codes.POST, message.AppLinkFormat, []byte(links))
	if err == nil && resp.Code != codes.Created {
		err = &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)}
	}
	var loc string
	if err == nil {
		if loc = locationPath(resp.Options); loc == "" {
			err = errors.New("2.01 without Location-Path")
		}
	}
	if err != nil {
		e.mu.Lock()
		e.st.RegIf = "" // discover again: the RD may have moved
		e.mu.Unlock()
		e.failed("register", err)
		return
	}
	took := time.Since(start)
	e.mu.Lock()
	e.st.RegIf, e.st.Location, e.st.State, e.st.NoRefresh = regif, loc, Registered, false
	e.st.Registered++
	e.st.RegisteredIn = took
	e.backoff = 0
	e.mu.Unlock()
	e.after(Registration{Action: "registered", Location: loc, Lifetime: int(e.cfg.Lifetime / time.Second)}, e.UpdateInterval())
}

func (e *EP) refresh(loc, links string) {
	t, err := e.target(e.cfg.RD)
	if err != nil {
		e.failed("refresh", err)
		return
	}
	t.Path, t.Queries = loc, nil
	resp, err := e.request(t, codes.POST, 0, nil)
	switch {
	case err == nil && resp.Code == codes.Changed:
		e.mu.Lock()
		e.st.Refreshed++
		e.st.NoRefresh = false
		e.backoff = 0
		e.mu.Unlock()
		e.after(Registration{Action: "refreshed", Location: loc, Lifetime: int(e.cfg.Lifetime / time.Second)}, e.UpdateInterval())
	case err == nil && resp.Code == codes.NotFound:
		// The RD forgot the registration: register again at once.
		e.mu.Lock()
		e.st.Location, e.st.State = "", Registering
		e.mu.Unlock()
		e.after(Registration{Action: "lost", Location: loc, Message: "the RD no longer knows the registration (4.04): registering again"}, 0)
	case err == nil && (resp.Code == codes.MethodNotAllowed || resp.Code == codes.NotImplemented):
		e.mu.Lock()
		first := !e.st.NoRefresh
		e.st.NoRefresh = true
		e.mu.Unlock()
		var ev Registration
		if first {
			ev = Registration{Action: "no-refresh", Location: loc, Message: fmt.Sprintf("the RD cannot refresh registrations (%s); keeping %s", dotted(resp.Code), loc)}
		}
		e.after(ev, e.UpdateInterval())
	default:
		if err == nil {
			err = &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)}
		}
		e.mu.Lock()
		e.st.Location, e.st.State = "", Registering
		e.mu.Unlock()
		e.failed("refresh", err)
	}
}

// failed reports a failed exchange and tries again after a back-off that
// doubles from 1 s up to a quarter of the lifetime.
func (e *EP) failed(what string, err error) {
	e.mu.Lock()
	e.st.Failures++
	e.st.LastError = err.Error()
	e.st.State = Registering
	e.backoff = min(max(2*e.backoff, time.Second), max(e.cfg.Lifetime/4, time.Second))
	d := e.backoff
	e.mu.Unlock()
	if e.ctx.Err() != nil {
		return
	}
	e.after(Registration{Action: "failed", Message: fmt.Sprintf("%s: %v (again in %s)", what, err, d)}, d)
}

// absolute joins base to every relative link target.
func absolute(base, links string) string {
	l, err := coapnet.ParseLinks(links)
	if err != nil {
		return links
	}
	b, err := url.Parse(base)
	if err != nil {
		return links
	}
	out := make([]string, len(l))
	for i, k := range l {
		if ref, err := url.Parse(k.Target); err == nil {
			k.Target = b.ResolveReference(ref).String()
		}
		out[i] = k.String()
	}
	return strings.Join(out, ",")
}

// dotted writes a code as RFC 7252 does (4.05).
func dotted(c codes.Code) string { return fmt.Sprintf("%d.%02d", c>>5, c&31) }

func locationPath(opts message.Options) string {
	var segs []string
	for _, o := range opts {
		if o.ID == message.LocationPath {
			segs = append(segs, string(o.Value))
		}
	}
	if len(segs) == 0 {
		return ""
	}
	return "/" + strings.Join(segs, "/")
}

// Stop ends the schedule and removes the registration with a DELETE, as
// cord_ep_remove does (whatever the answer, the registration is dropped
// locally). It may be called from any goroutine, once the world no longer
// runs the endpoint's timer or while it does.
func (e *EP) Stop(ctx context.Context) error {
	e.mu.Lock()
	if e.st.State == Stopped {
		e.mu.Unlock()
		return nil
	}
	e.st.State = Stopped
	loc := e.st.Location
	e.st.Location = ""
	e.mu.Unlock()
	e.stop()
	if loc == "" {
		return nil
	}
	t, err := e.target(e.cfg.RD)
	if err != nil {
		return err
	}
	t.Path, t.Queries = loc, nil
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	resp, err := e.tr.Request(ctx, t, codes.DELETE, 0, nil)
	if err != nil {
		return fmt.Errorf("cord: removing %s: %w", loc, err)
	}
	if resp.Code != codes.Deleted {
		return fmt.Errorf("cord: removing %s: %w", loc, &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)})
	}
	return nil
}

// Name is RIOT's generated endpoint name: CORD_EP_PREFIX and 16 hex digits
// of a locally unique id; tinylab's id is the device's seed.
func Name(luid uint64) string { return fmt.Sprintf("%s%016x", EPPrefix, luid) }

// Registration is an RD event in the device's transcript.
type Registration struct {
	Action   string `json:"action"` // registered, refreshed, lost, no-refresh, failed
	RD       string `json:"rd"`
	Endpoint string `json:"ep"`
	Location string `json:"location,omitempty"`
	Lifetime int    `json:"lt,omitempty"`
	Message  string `json:"message,omitempty"`
}

// KindRD is the transcript kind of RD events.
var KindRD = device.RegisterKind[Registration]("rd")

func (Registration) Kind() device.Kind { return KindRD }

func (r Registration) String() string {
	switch r.Action {
	case "registered":
		return fmt.Sprintf("cord_ep: registered as %s at %s%s (lt=%ds)", r.Endpoint, r.RD, r.Location, r.Lifetime)
	case "refreshed":
		return fmt.Sprintf("cord_ep: refreshed %s (lt=%ds)", r.Location, r.Lifetime)
	}
	return "cord_ep: " + r.Message
}
