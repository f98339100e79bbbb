package gateway

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newGateway(t *testing.T) (*Gateway, *clock, *[]Change) {
	c := &clock{t: time.Unix(1000, 0)}
	var changes []Change
	g, err := Listen("127.0.0.1:0", Options{Now: c.now, OnChange: func(ch Change) { changes = append(changes, ch) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g, c, &changes
}

var peer = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func req(code codes.Code, path string, body string, queries ...string) *coapnet.Request {
	// go-coap looks options up in ID order
	var opts message.Options
	if body != "" {
		opts = append(opts, message.Option{ID: message.ContentFormat, Value: []byte{40}})
	}
	for _, q := range queries {
		opts = append(opts, message.Option{ID: message.URIQuery, Value: []byte(q)})
	}
	return &coapnet.Request{Code: code, Path: path, Options: opts, Payload: []byte(body), Peer: peer}
}

func withFormat(r *coapnet.Request, cf message.MediaType) *coapnet.Request {
	for i, o := range r.Options {
		if o.ID == message.ContentFormat {
			r.Options[i].Value = []byte{byte(cf)}
		}
	}
	return r
}

func location(rep *coapnet.Reply) string {
	var segs []string
	for _, o := range rep.Options {
		if o.ID == message.LocationPath {
			segs = append(segs, string(o.Value))
		}
	}
	return "/" + strings.Join(segs, "/")
}

func TestRegistrationLifecycle(t *testing.T) {
	g, c, changes := newGateway(t)
	rep := g.answer(req(codes.POST, "/rd", "</a>;rt=x", "ep=node1", "lt=10"))
	if rep.Code != codes.Created || location(rep) != "/rd/1" {
		t.Fatalf("register: %v %s", rep.Code, location(rep))
	}
	// no base: the source address
	if r := g.Registrations(); len(r) != 1 || r[0].Base != "coap://127.0.0.1:40000" || r[0].Lifetime != 10 {
		t.Fatalf("%+v", r)
	}
	// the same ep again replaces, at the same location
	rep = g.answer(req(codes.POST, "/rd", "</b>", "ep=node1", "lt=20", "base=coap://[::1]:5683"))
	if location(rep) != "/rd/1" || len(g.Registrations()) != 1 || g.Registrations()[0].Links != "</b>" {
		t.Fatalf("replace: %s %+v", location(rep), g.Registrations())
	}
	c.add(19 * time.Second)
	if rep := g.answer(req(codes.POST, "/rd/1", "")); rep.Code != codes.Changed {
		t.Fatalf("refresh: %v", rep.Code)
	}
	c.add(19 * time.Second)
	if len(g.Registrations()) != 1 {
		t.Fatal("expired although refreshed")
	}
	c.add(time.Second)
	if len(g.Registrations()) != 0 {
		t.Fatal("did not expire")
	}
	if rep := g.answer(req(codes.POST, "/rd/1", "")); rep.Code != codes.NotFound {
		t.Fatalf("refresh after expiry: %v", rep.Code)
	}
	g.answer(req(codes.POST, "/rd", "</c>", "ep=node2"))
	if rep := g.answer(req(codes.DELETE, "/rd/2", "")); rep.Code != codes.Deleted || len(g.Registrations()) != 0 {
		t.Fatalf("delete: %v", rep.Code)
	}
	var actions []string
	for _, ch := range *changes {
		actions = append(actions, ch.Action)
	}
	if got := strings.Join(actions, " "); got != "registered registered refreshed expired registered removed" {
		t.Fatalf("changes: %s", got)
	}
}

func TestRefusals(t *testing.T) {
	g, _, _ := newGateway(t)
	for name, tc := range map[string]struct {
		r    *coapnet.Request
		want codes.Code
	}{
		"no ep":          {req(codes.POST, "/rd", "</a>"), codes.BadRequest},
		"bad lt":         {req(codes.POST, "/rd", "</a>", "ep=x", "lt=-1"), codes.BadRequest},
		"bad base":       {req(codes.POST, "/rd", "</a>", "ep=x", "base=http://h"), codes.BadRequest},
		"bad links":      {req(codes.POST, "/rd", "<a", "ep=x"), codes.BadRequest},
		"json payload":   {withFormat(req(codes.POST, "/rd", "{}", "ep=x"), message.AppJSON), codes.UnsupportedMediaType},
		"put on devices": {req(codes.PUT, "/lab/devices", ""), codes.MethodNotAllowed},
		"unknown":        {req(codes.GET, "/nope", ""), codes.NotFound},
		"unknown reg":    {req(codes.GET, "/rd/9", ""), codes.NotFound},
	} {
		if rep := g.answer(tc.r); rep.Code != tc.want {
			t.Errorf("%s: %v, want %v", name, rep.Code, tc.want)
		}
	}
	if len(g.Registrations()) != 0 {
		t.Fatal("a refusal registered something")
	}
}

func TestDiscoveryAndLookup(t *testing.T) {
	g, _, _ := newGateway(t)
	g.answer(req(codes.POST, "/rd", `</suit/trigger>;rt="suit.trigger",</containers>;obs`, "ep=RIOT-1", "base=coap://127.0.0.1:5683"))
	g.answer(req(codes.POST, "/rd", `</riot/board>`, "ep=other", "base=coap://127.0.0.1:5684"))
	for _, tc := range []struct {
		r    *coapnet.Request
		want string
	}{
		{req(codes.GET, "/.well-known/core", "", "rt=core.rd*"), `</rd>;rt="core.rd";ct="40",</rd-lookup/ep>;rt="core.rd-lookup-ep";ct="40",</rd-lookup/res>;rt="core.rd-lookup-res";ct="40"`},
		{req(codes.GET, "/rd-lookup/ep", "", "ep=RIOT-*"), `</rd/1>;ep="RIOT-1";base="coap://127.0.0.1:5683";rt="core.rd-ep";lt="90000"`},
		{req(codes.GET, "/rd-lookup/res", "", "rt=suit.trigger"), `<coap://127.0.0.1:5683/suit/trigger>;anchor="coap://127.0.0.1:5683";rt="suit.trigger"`},
		{req(codes.GET, "/rd/2", ""), `</riot/board>`},
	} {
		if rep := g.answer(tc.r); rep.Code != codes.Content || string(rep.Body) != tc.want {
			t.Errorf("%s: %v %s\nwant %s", tc.r.Path, rep.Code, rep.Body, tc.want)
		}
	}
	if rep := g.answer(req(codes.GET, "/.well-known/core", "")); !strings.Contains(string(rep.Body), `</rd/1>;ep="RIOT-1",</rd/2>;ep="other"`) {
		t.Fatalf("registrations are not listed as libcoap's RD lists them: %s", rep.Body)
	}
}

func FuzzGatewayRequests(f *testing.F) {
	f.Add(uint8(codes.POST), "/rd", "</a>;rt=x", "ep=n")
	f.Add(uint8(codes.GET), "/rd-lookup/res", "", "rt=*")
	f.Add(uint8(codes.POST), "/rd/1", "<b>", "lt=5")
	f.Fuzz(func(t *testing.T, code uint8, path, body, query string) {
		g := &Gateway{opts: Options{Now: time.Now}, regs: map[string]*Registration{}}
		g.answer(req(codes.POST, "/rd", "</a>", "ep=seed"))
		rep := g.answer(req(codes.Code(code), path, body, query))
		if rep == nil {
			t.Fatal("no reply")
		}
		if len(g.regs) > 2 {
			t.Fatalf("%d registrations from one request", len(g.regs))
		}
	})
}

func TestCollectorCountsAndKeepsTheLast(t *testing.T) {
	g, _, _ := newGateway(t)
	for _, body := range []string{"rssi -71", "rssi -68"} {
		if rep := g.answer(req(codes.POST, "/collect/coverage", body)); rep.Code != codes.Changed {
			t.Fatalf("collect: %v", rep.Code)
		}
	}
	if rep := g.answer(req(codes.PUT, "/collect/big", strings.Repeat("x", 1000))); rep.Code != codes.Changed {
		t.Fatalf("collect: %v", rep.Code)
	}
	c := g.Collected()
	if len(c) != 2 || c[1].Path != "/collect/coverage" || c[1].Count != 2 || c[1].Bytes != 16 || string(c[1].Last) != "rssi -68" || c[1].From != peer.String() {
		t.Fatalf("%+v", c)
	}
	if c[0].Bytes != 1000 || len(c[0].Last) != maxCollected {
		t.Fatalf("big: %d bytes, kept %d", c[0].Bytes, len(c[0].Last))
	}
	if rep := g.answer(req(codes.GET, "/collect/coverage", "")); rep.Code != codes.NotFound {
		t.Fatalf("GET on the collector: %v", rep.Code)
	}
}

func TestLookupShowsTheFleet(t *testing.T) {
	fleet := []Registration{
		{Location: "/lab/rd/bench-1", Endpoint: "bench-1", Base: "coap://127.0.0.1:6001", Links: "</riot/board>"},
		{Location: "/lab/rd/bench-2", Endpoint: "bench-2", Base: "coap://127.0.0.1:6002", Links: "</riot/board>"},
	}
	g, err := Listen("127.0.0.1:0", Options{Fleet: func() []Registration { return fleet }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// bench-2 registered itself (under another name): it shows once
	g.answer(req(codes.POST, "/rd", "</riot/board>", "ep=RIOT-2", "base=coap://127.0.0.1:6002"))
	rep := g.answer(req(codes.GET, "/rd-lookup/ep", ""))
	want := `</rd/1>;ep="RIOT-2";base="coap://127.0.0.1:6002";rt="core.rd-ep";lt="90000",</lab/rd/bench-1>;ep="bench-1";base="coap://127.0.0.1:6001";rt="core.rd-ep"`
	if string(rep.Body) != want {
		t.Fatalf("lookup:\n%s\nwant\n%s", rep.Body, want)
	}
	if rep := g.answer(req(codes.GET, "/lab/rd/bench-1", "")); rep.Code != codes.Content || string(rep.Body) != "</riot/board>" {
		t.Fatalf("GET /lab/rd/bench-1: %v %s", rep.Code, rep.Body)
	}
	if rep := g.answer(req(codes.GET, "/lab/rd/nope", "")); rep.Code != codes.NotFound {
		t.Fatalf("GET /lab/rd/nope: %v", rep.Code)
	}
}
