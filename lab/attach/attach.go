package attach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/coapnet"
)

// Options configure an attacher.
type Options struct {
	Dialer  Dialer
	Probe   time.Duration // liveness probe and poll interval; 0: 2 s
	Timeout time.Duration // per request; 0: 2 s
	// OnEvent gets what attached devices report, in the order it arrives.
	// It must be quick (it runs on the device's follower goroutine).
	OnEvent func(device.Event)
	Now     func() time.Time // nil: the wall clock
}

// Remote is an attached device as last seen.
type Remote struct {
	Name       string
	URI        string
	Board      string
	Live       bool
	Since      time.Time // when it last became live or unreachable
	Observing  bool      // both resources are observed (false: polled, besides any notification that comes)
	Containers []device.ContainerInfo
	Suit       SuitDoc
	Updated    time.Time // when it last reported
	Err        string    // why it is unreachable
}

// SuitDoc is what a device's /suit/status says (the part the view shows).
type SuitDoc struct {
	SeqNo uint64 `cbor:"seq_no" json:"seq_no"`
	State string `cbor:"state" json:"state"`
	Last  struct {
		Code    int    `cbor:"code" json:"code"`
		Result  string `cbor:"result" json:"result"`
		Step    string `cbor:"step" json:"step"`
		Message string `cbor:"message,omitempty" json:"message,omitempty"`
	} `cbor:"last" json:"last"`
}

// Attacher follows attached devices.
type Attacher struct {
	o     Options
	start time.Time
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup

	mu      sync.Mutex
	remotes map[string]*follower
	order   []string
}

type follower struct {
	a    *Attacher
	sess Session
	seq  uint64 // events, under a.mu

	r       Remote // under a.mu
	stopObs []func()
	pings   int // probes since the observations were made
}

// reobserveEvery is how many probes an observation is trusted for: a device
// that restarted between two pings answers them but has forgotten its
// observers (RFC 7641 §3.3.1: a client re-registers to stay in the list).
const reobserveEvery = 10

// ErrUnknown is returned for a name that is not attached.
var ErrUnknown = errors.New("no attached device")

// New makes an attacher.
func New(o Options) *Attacher {
	if o.Probe <= 0 {
		o.Probe = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnEvent == nil {
		o.OnEvent = func(device.Event) {}
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Attacher{o: o, start: o.Now(), ctx: ctx, stop: stop, remotes: map[string]*follower{}}
}

// Attach starts following the device at uri under name ("" names it by its
// address).
func (a *Attacher) Attach(name, uri string) error {
	uri = strings.TrimRight(uri, "/")
	if name == "" {
		name = strings.TrimPrefix(strings.TrimPrefix(uri, "coap://"), "coaps://")
	}
	sess, err := a.o.Dialer.Dial(a.ctx, uri)
	if err != nil {
		return fmt.Errorf("attach %s: %w", uri, err)
	}
	a.mu.Lock()
	if _, dup := a.remotes[name]; dup {
		a.mu.Unlock()
		return fmt.Errorf("attach %s: %q is attached already", uri, name)
	}
	f := &follower{a: a, sess: sess, r: Remote{Name: name, URI: uri, Since: a.o.Now()}}
	a.remotes[name] = f
	a.order = append(a.order, name)
	a.mu.Unlock()
	f.emit(Attached{URI: uri})
	a.wg.Go(f.run)
	return nil
}

// Devices copies what every attached device last reported, in attach order.
func (a *Attacher) Devices() []Remote {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Remote, 0, len(a.order))
	for _, n := range a.order {
		r := a.remotes[n].r
		r.Containers = slices.Clone(r.Containers)
		out = append(out, r)
	}
	return out
}

// Close stops following (cancelling the observations) and waits.
func (a *Attacher) Close() {
	a.stop()
	a.wg.Wait()
}

func (a *Attacher) get(name string) (*follower, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.remotes[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	return f, nil
}

// Command sends start, stop or restart to a container (POST), or delete
// (DELETE), and returns the device's refusal as an error.
func (a *Attacher) Command(ctx context.Context, name, action, uid string) error {
	f, err := a.get(name)
	if err != nil {
		return err
	}
	code, body, want := codes.POST, []byte(action), codes.Changed
	switch action {
	case "start", "stop", "restart":
	case "delete":
		code, body, want = codes.DELETE, nil, codes.Deleted
	default:
		return fmt.Errorf("unknown command %q: start, stop, restart or delete", action)
	}
	return f.expect(ctx, "/containers/"+uid, code, body, want)
}

// Update makes the device fetch a manifest (POST /suit/trigger, as RIOT).
func (a *Attacher) Update(ctx context.Context, name, manifestURI string) error {
	f, err := a.get(name)
	if err != nil {
		return err
	}
	return f.expect(ctx, "/suit/trigger", codes.POST, []byte(manifestURI), codes.Created)
}

// Get sends a GET to any resource of the device.
func (a *Attacher) Get(ctx context.Context, name, path string, accept message.MediaType) (*coapnet.Response, error) {
	f, err := a.get(name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.o.Timeout)
	defer cancel()
	return f.sess.Do(ctx, path, codes.GET, accept, nil)
}

func (f *follower) expect(ctx context.Context, path string, code codes.Code, body []byte, want codes.Code) error {
	ctx, cancel := context.WithTimeout(ctx, f.a.o.Timeout)
	defer cancel()
	resp, err := f.sess.Do(ctx, path, code, message.TextPlain, body)
	if err != nil {
		f.unreachable(err)
		return err
	}
	if resp.Code != want {
		return &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)}
	}
	return nil
}

// run follows one device until the attacher closes.
func (f *follower) run() {
	defer f.dropObservations()
	t := time.NewTicker(f.a.o.Probe)
	defer t.Stop()
	for {
		f.probe()
		select {
		case <-f.a.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (f *follower) probe() {
	ctx, cancel := context.WithTimeout(f.a.ctx, f.a.o.Timeout)
	defer cancel()
	f.a.mu.Lock()
	live, observing := f.r.Live, f.r.Observing
	f.a.mu.Unlock()
	if live && observing {
		f.pings++
		if f.pings < reobserveEvery {
			if err := f.sess.Ping(ctx); err != nil {
				f.unreachable(err)
			}
			return
		}
		if f.observe(ctx) {
			return
		}
	}
	if !live {
		resp, err := f.sess.Do(ctx, "/riot/board", codes.GET, message.TextPlain, nil)
		if err == nil && resp.Code != codes.Content {
			err = &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)}
		}
		if err != nil {
			f.unreachable(err)
			return
		}
		f.becameLive(string(resp.Body))
		if f.observe(ctx) {
			return
		}
	}
	f.poll(ctx)
}

// observe registers on /containers and /suit/status; it reports whether
// both registrations were accepted.
func (f *follower) observe(ctx context.Context) bool {
	f.dropObservations()
	ok := true
	for _, path := range []string{"/containers", "/suit/status"} {
		stop, accepted, err := f.sess.Observe(ctx, path, message.AppCBOR, func(r *coapnet.Response) { f.report(path, r) })
		if err != nil {
			f.unreachable(err)
			return false
		}
		f.a.mu.Lock()
		f.stopObs = append(f.stopObs, stop)
		f.a.mu.Unlock()
		ok = ok && accepted
	}
	f.a.mu.Lock()
	f.r.Observing = ok
	f.a.mu.Unlock()
	f.pings = 0
	return ok
}

func (f *follower) dropObservations() {
	f.a.mu.Lock()
	stops := f.stopObs
	f.stopObs = nil
	f.a.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

func (f *follower) poll(ctx context.Context) {
	for _, path := range []string{"/containers", "/suit/status"} {
		resp, err := f.sess.Do(ctx, path, codes.GET, message.AppCBOR, nil)
		if err != nil {
			f.unreachable(err)
			return
		}
		f.report(path, resp)
	}
}

func (f *follower) becameLive(board string) {
	now := f.a.o.Now()
	f.a.mu.Lock()
	was := f.r.Live
	f.r.Live, f.r.Board, f.r.Err = true, board, ""
	if !was {
		f.r.Since = now
	}
	f.a.mu.Unlock()
	if !was {
		f.emit(Reachability{Live: true, Board: board})
	}
}

func (f *follower) unreachable(err error) {
	now := f.a.o.Now()
	f.a.mu.Lock()
	was := f.r.Live
	f.r.Live, f.r.Observing, f.r.Err = false, false, err.Error()
	if was {
		f.r.Since = now
	}
	// a device that stopped answering does not answer the cancellations
	// either: they go out without being waited for
	stops := f.stopObs
	f.stopObs = nil
	f.a.mu.Unlock()
	go func() {
		for _, stop := range stops {
			stop()
		}
	}()
	if was {
		f.emit(Reachability{Live: false, Reason: err.Error()})
	}
}

// report takes in one answer or notification.
func (f *follower) report(path string, r *coapnet.Response) {
	if r.Code != codes.Content {
		return
	}
	if cf, ok := r.Format(); ok && cf != message.AppCBOR {
		return
	}
	now := f.a.o.Now()
	switch path {
	case "/containers":
		var list []device.ContainerInfo
		if err := cbor.Unmarshal(r.Body, &list); err != nil {
			return
		}
		f.a.mu.Lock()
		old := f.r.Containers
		f.r.Containers, f.r.Updated = list, now
		f.a.mu.Unlock()
		for _, ch := range diff(old, list) {
			f.emit(ch)
		}
	case "/suit/status":
		var s SuitDoc
		if err := cbor.Unmarshal(r.Body, &s); err != nil {
			return
		}
		f.a.mu.Lock()
		old := f.r.Suit
		f.r.Suit, f.r.Updated = s, now
		f.a.mu.Unlock()
		if old.Last != s.Last || old.SeqNo != s.SeqNo {
			f.emit(SuitReport{SeqNo: s.SeqNo, State: s.State, Code: s.Last.Code, Result: s.Last.Result})
		}
	}
}

// diff lists the container state changes between two reports.
func diff(old, cur []device.ContainerInfo) []ContainerReport {
	var out []ContainerReport
	prev := map[string]string{}
	for _, c := range old {
		prev[c.UID] = c.State
	}
	for _, c := range cur {
		if p, ok := prev[c.UID]; !ok || p != c.State {
			out = append(out, ContainerReport{Container: c.UID, From: p, To: c.State, Reason: c.Reason})
		}
		delete(prev, c.UID)
	}
	for uid, p := range prev {
		out = append(out, ContainerReport{Container: uid, From: p, To: "gone"})
	}
	slices.SortStableFunc(out, func(a, b ContainerReport) int { return strings.Compare(a.Container, b.Container) })
	return out
}

func (f *follower) emit(p device.Payload) {
	f.a.mu.Lock()
	f.seq++
	ev := device.Event{At: f.a.o.Now().Sub(f.a.start), Device: f.r.Name, Seq: f.seq, Data: p}
	f.a.mu.Unlock()
	f.a.o.OnEvent(ev)
}
