package cord

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/lab/gateway"
	"tinylab/lab/sim"
)

// world is a paced lab world (virtual time follows the wall clock, as in
// `tinylab device`) running until the test ends.
type world struct {
	w      *sim.World
	mu     sync.Mutex
	events []device.Event
}

func (e *world) Now() time.Duration                  { return e.w.Now() }
func (e *world) NewTimer(fn func()) device.Timer     { return e.w.NewTimer(fn) }
func (e *world) Go(fn func(device.Task)) device.Task { return e.w.Go(func(t *sim.Task) { fn(t) }) }
func (e *world) Do(fn func())                        { e.w.Do(fn) }
func (e *world) Emit(ev device.Event) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	e.mu.Unlock()
}

func (e *world) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.events {
		b.WriteString(ev.String() + "\n")
	}
	return b.String()
}

func newWorld(t *testing.T) *world { return &world{w: newWorldB(t)} }

func newWorldB(t testing.TB) *sim.World {
	w := sim.New(sim.Paced)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func client(t *testing.T) *coapnet.Server { return clientB(t) }

func clientB(t testing.TB) *coapnet.Server {
	s, err := coapnet.Listen("127.0.0.1:0", nil, coapnet.Options{Retry: coapnet.RetryOptions{AckTimeout: 200 * time.Millisecond, MaxRetransmit: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// eventually polls cond every 20 ms for at most d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s did not happen within %s", what, d)
}

// listenGateway starts an RD that outlives the endpoints of the test (its
// cleanup runs after theirs, so their DELETE is answered).
func listenGatewayB(t testing.TB) *gateway.Gateway { return listenGateway(t, "127.0.0.1:0") }

func listenGateway(t testing.TB, addr string) *gateway.Gateway {
	gw, err := gateway.Listen(addr, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	return gw
}

const links = `</riot/board>;ct=0,</containers>;ct="60 50 0";obs`

func start(t *testing.T, env *world, tr Transport, cfg Config) *EP {
	t.Helper()
	if cfg.Links == nil {
		cfg.Links = func() string { return links }
	}
	ep, err := New(env, tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.Do(ep.Start)
	t.Cleanup(func() { _ = ep.Stop(context.Background()) })
	return ep
}

func TestRegistersRefreshesAndRemovesAtTheGateway(t *testing.T) {
	env := newWorld(t)
	gw := listenGateway(t, "127.0.0.1:0")
	ep := start(t, env, client(t), Config{RD: gw.URI(), Endpoint: "RIOT-0123456789abcdef", Lifetime: 2 * time.Second, Base: "coap://127.0.0.1:5683"})
	eventually(t, 3*time.Second, "registration", func() bool { return ep.Status().State == Registered })
	regs := gw.Registrations()
	if len(regs) != 1 || regs[0].Endpoint != "RIOT-0123456789abcdef" || regs[0].Links != links || regs[0].Lifetime != 2 || regs[0].Base != "coap://127.0.0.1:5683" {
		t.Fatalf("registrations: %+v", regs)
	}
	if st := ep.Status(); st.RegIf != "/rd" || st.Location != regs[0].Location {
		t.Fatalf("status %+v", st)
	}
	// refreshed every 1.5 s: still there after two lifetimes
	eventually(t, 8*time.Second, "two refreshes", func() bool { return ep.Status().Refreshed >= 2 })
	if regs := gw.Registrations(); len(regs) != 1 {
		t.Fatalf("after refreshes: %+v", regs)
	}
	if err := ep.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if regs := gw.Registrations(); len(regs) != 0 {
		t.Fatalf("after stop: %+v", regs)
	}
	if log := env.log(); !strings.Contains(log, "cord_ep: registered as RIOT-0123456789abcdef at "+gw.URI()+"/rd/1 (lt=2s)") || !strings.Contains(log, "cord_ep: refreshed /rd/1") {
		t.Fatalf("events:\n%s", log)
	}
}

func TestAKilledEndpointExpires(t *testing.T) {
	env := newWorld(t)
	gw := listenGateway(t, "127.0.0.1:0")
	tr := client(t)
	ep := start(t, env, tr, Config{RD: gw.URI(), Endpoint: "gone", Lifetime: 2 * time.Second})
	eventually(t, 3*time.Second, "registration", func() bool { return ep.Status().State == Registered })
	// a kill: the schedule stops and nothing says goodbye
	ep.abandon()
	eventually(t, 4*time.Second, "expiry", func() bool { return len(gw.Registrations()) == 0 })
}

func TestReRegistersAfterTheRDRestarts(t *testing.T) {
	env := newWorld(t)
	gw, err := gateway.Listen("127.0.0.1:0", gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := gw.Addr().String()
	ep := start(t, env, client(t), Config{RD: gw.URI(), Endpoint: "node1", Lifetime: 2 * time.Second})
	eventually(t, 3*time.Second, "registration", func() bool { return ep.Status().Registered == 1 })
	gw.Close()
	gw2 := listenGateway(t, addr)
	// the refresh finds no registration (4.04) and registers again
	eventually(t, 6*time.Second, "re-registration", func() bool { return len(gw2.Registrations()) == 1 && ep.Status().State == Registered })
	if log := env.log(); !strings.Contains(log, "4.04") {
		t.Fatalf("events:\n%s", log)
	}
	if err := ep.Stop(context.Background()); err != nil || len(gw2.Registrations()) != 0 {
		t.Fatalf("stop: %v, left %+v", err, gw2.Registrations())
	}
}

func TestRetriesWhileTheRDIsDown(t *testing.T) {
	env := newWorld(t)
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.LocalAddr().String()
	l.Close()
	ep := start(t, env, client(t), Config{RD: "coap://" + addr, Endpoint: "patient", Lifetime: 8 * time.Second, Timeout: 500 * time.Millisecond})
	eventually(t, 3*time.Second, "a failure", func() bool { return ep.Status().Failures >= 1 })
	listenGateway(t, addr)
	eventually(t, 6*time.Second, "registration once the RD is up", func() bool { return ep.Status().State == Registered })
}

func TestConfigErrors(t *testing.T) {
	env := &world{w: sim.New(sim.Fast)}
	ok := Config{RD: "coap://127.0.0.1", Endpoint: "x", Links: func() string { return "" }}
	for name, mod := range map[string]func(*Config){
		"short lifetime": func(c *Config) { c.Lifetime = time.Second },
		"no endpoint":    func(c *Config) { c.Endpoint = "" },
		"ep with &":      func(c *Config) { c.Endpoint = "a&b" },
		"bad RD":         func(c *Config) { c.RD = "http://x" },
		"no links":       func(c *Config) { c.Links = nil },
	} {
		c := ok
		mod(&c)
		if _, err := New(env, nil, c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(env, nil, ok); err != nil {
		t.Fatal(err)
	}
}

func TestName(t *testing.T) {
	if got := Name(0x0123456789abcdef); got != "RIOT-0123456789abcdef" {
		t.Fatal(got)
	}
}

// TestLibcoapRD registers with libcoap's coap-rd: the registration shows
// in its /.well-known/core and a GET returns the links sent; its RD answers
// 4.05 to a refresh, which the endpoint reports once and lives with.
func TestLibcoapRD(t *testing.T) {
	bin, err := exec.LookPath("coap-rd-notls")
	if err != nil {
		t.Skip("coap-rd-notls is not installed (Debian package libcoap3-bin)")
	}
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	rd := exec.Command(bin, "-A", "127.0.0.1", "-p", itoa(port))
	if err := rd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rd.Process.Kill(); _ = rd.Wait() }()
	env := newWorld(t)
	tr := client(t)
	uri := "coap://127.0.0.1:" + itoa(port)
	var ep *EP
	// the RD needs a moment to bind
	eventually(t, 5*time.Second, "registration", func() bool {
		if ep == nil {
			ep = start(t, env, tr, Config{RD: uri, Endpoint: "RIOT-00000000000000aa", Lifetime: 2 * time.Second})
		}
		return ep.Status().State == Registered
	})
	loc := ep.Status().Location
	target, _ := coapnet.ParseURI(uri + "/.well-known/core")
	resp, err := tr.Request(context.Background(), target, codes.GET, 0, nil)
	if err != nil || !strings.Contains(string(resp.Body), "<"+loc+">") {
		t.Fatalf("well-known core: %v %q, want <%s>", err, resp.Body, loc)
	}
	target.Path = loc
	resp, err = tr.Request(context.Background(), target, codes.GET, 0, nil)
	if err != nil || string(resp.Body) != links {
		t.Fatalf("GET %s: %v %q", loc, err, resp.Body)
	}
	eventually(t, 8*time.Second, "the refresh refused", func() bool { return ep.Status().NoRefresh })
	if st := ep.Status(); st.State != Registered || st.Location != loc || st.Registered != 1 {
		t.Fatalf("status %+v", st)
	}
	// libcoap 4.3.1's RD aborts on DELETE (a double free): the endpoint
	// is not stopped here, the RD is killed first.
	ep.abandon()
}

func itoa(n int) string { return strconv.Itoa(n) }

// abandon ends the endpoint as a kill would: no DELETE.
func (e *EP) abandon() {
	e.mu.Lock()
	e.st.State = Stopped
	e.mu.Unlock()
	e.stop()
}

// TestAPoweredOffDeviceLetsItsRegistrationLapse: while the device is off
// nothing is refreshed and the RD lets the registration expire; at power-on
// it registers again.
func TestAPoweredOffDeviceLetsItsRegistrationLapse(t *testing.T) {
	env := newWorld(t)
	gw := listenGateway(t, "127.0.0.1:0")
	var mu sync.Mutex
	on := true
	up := func() bool { mu.Lock(); defer mu.Unlock(); return on }
	ep := start(t, env, client(t), Config{RD: gw.URI(), Endpoint: "flaky", Lifetime: 2 * time.Second, Up: up})
	eventually(t, 3*time.Second, "registration", func() bool { return ep.Status().Registered == 1 })
	mu.Lock()
	on = false
	mu.Unlock()
	eventually(t, 8*time.Second, "expiry while off", func() bool { return len(gw.Registrations()) == 0 })
	mu.Lock()
	on = true
	mu.Unlock()
	eventually(t, 3*time.Second, "registration after power-on", func() bool { return ep.Status().Registered == 2 && len(gw.Registrations()) == 1 })
}
