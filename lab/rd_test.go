package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
	"tinylab/device/cord"
	"tinylab/lab/gateway"
	"tinylab/lab/sim"
)

// runningLab is a paced lab whose world runs until the test ends (real
// time, as the RD's timers need).
func runningLab(t *testing.T, opts Options) *Lab {
	t.Helper()
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.World().Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; l.Close() })
	return l
}

// TestGatewayShowsTheFleet: a paced lab with its gateway; its device
// registers with the gateway's RD, and /lab/devices (block-wise JSON over
// real CoAP) shows the device, its registration and the RD's entry.
func TestGatewayShowsTheFleet(t *testing.T) {
	l := runningLab(t, Options{Seed: 1, Mode: sim.Paced, Gateway: "127.0.0.1:0"})
	for _, id := range []string{"bench-1", "bench-2"} {
		if _, err := l.AddDevice(DeviceSpec{ID: id, Board: "native"}); err != nil {
			t.Fatal(err)
		}
	}
	gw, ok := l.Gateway()
	if !ok {
		t.Fatal("no gateway")
	}
	ep, err := l.Register("bench-1", cord.Config{RD: gw.URI(), Endpoint: "bench-1", Lifetime: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); ep.Status().State != cord.Registered; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not registered: %+v", ep.Status())
		}
	}
	cl, err := coapnet.Listen("127.0.0.1:0", nil, coapnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	target, err := coapnet.ParseURI(gw.URI() + "/lab/devices")
	if err != nil {
		t.Fatal(err)
	}
	var body blockBuf
	if err := cl.Get(context.Background(), target, coapnet.SZXFor(256), &body, nil); err != nil {
		t.Fatal(err)
	}
	var doc DevicesDoc
	if err := json.Unmarshal(body.b, &doc); err != nil {
		t.Fatalf("%v: %s", err, body.b)
	}
	if doc.Mode != "paced" || len(doc.Devices) != 2 || doc.Devices[0].ID != "bench-1" || doc.Devices[0].Board != "native" || !doc.Devices[0].Powered {
		t.Fatalf("devices: %+v", doc)
	}
	if rd := doc.Devices[0].RD; rd == nil || rd.State != "registered" || rd.Location != "/rd/1" || doc.Devices[1].RD != nil {
		t.Fatalf("registration: %+v", doc.Devices[0].RD)
	}
	if len(doc.Registrations) != 1 || doc.Registrations[0].Endpoint != "bench-1" || doc.Registrations[0].Base != doc.Devices[0].URI {
		t.Fatalf("RD entries: %+v", doc.Registrations)
	}
	// read-only
	resp, err := cl.Request(context.Background(), target, codes.POST, 0, []byte("x"))
	if err != nil || resp.Code != codes.MethodNotAllowed {
		t.Fatalf("POST: %v %v", resp, err)
	}
	// closing the lab removes the registration first
	l.Unregister()
	if regs := gw.Registrations(); len(regs) != 0 {
		t.Fatalf("after unregister: %+v", regs)
	}
}

type blockBuf struct{ b []byte }

func (w *blockBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// A device on every interface registers without base=: the RD takes the
// registration's source address.
func TestUnspecifiedListenLeavesTheBaseToTheRD(t *testing.T) {
	l := runningLab(t, Options{Seed: 1, Mode: sim.Paced, Gateway: "127.0.0.1:0"})
	if _, err := l.AddDevice(DeviceSpec{ID: "any", Listen: "0.0.0.0:0"}); err != nil {
		t.Fatal(err)
	}
	gw, _ := l.Gateway()
	if _, err := l.Register("any", cord.Config{RD: gw.URI(), Endpoint: "any", AbsoluteLinks: true}); err == nil {
		t.Fatal("absolute links without an address were accepted")
	}
	ep, err := l.Register("any", cord.Config{RD: gw.URI(), Endpoint: "any"})
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); ep.Status().State != cord.Registered; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not registered: %+v", ep.Status())
		}
	}
	n, _ := l.Node("any")
	regs := gw.Registrations()
	if len(regs) != 1 || regs[0].Base != fmt.Sprintf("coap://127.0.0.1:%d", n.Sock.Addr().Port) {
		t.Fatalf("base %+v (device on port %d)", regs, n.Sock.Addr().Port)
	}
}

// TestTheRDOption: a paced lab given an RD registers each device as it is
// added, under its name; a fast one registers none.
func TestTheRDOption(t *testing.T) {
	gw, err := gateway.Listen("127.0.0.1:0", gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	fast, err := New(Options{Mode: sim.Fast, RD: gw.URI()})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if _, err := fast.AddDevice(DeviceSpec{ID: "quick"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := fast.Registration("quick"); ok {
		t.Fatal("a fast lab registered a device")
	}
	l := runningLab(t, Options{Mode: sim.Paced, RD: gw.URI(), RDLifetime: 5 * time.Second})
	if _, err := l.AddDevice(DeviceSpec{ID: "slow"}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); len(gw.Registrations()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the paced lab's device did not register")
		}
	}
	if r := gw.Registrations()[0]; r.Endpoint != "slow" || r.Lifetime != 5 {
		t.Fatalf("%+v", r)
	}
}

// Boards on a shared socket neither register nor show in the RD view.
func TestSharedSocketBoardsStayOutOfTheRD(t *testing.T) {
	l, err := New(Options{Mode: sim.Paced, BoardsPerSocket: 4, Gateway: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.AddDevice(DeviceSpec{ID: "box-1"}); err != nil {
		t.Fatal(err)
	}
	gw, _ := l.Gateway()
	if _, err := l.Register("box-1", cord.Config{RD: gw.URI(), Endpoint: "box-1"}); err == nil || !strings.Contains(err.Error(), "shares a socket") {
		t.Fatalf("register: %v", err)
	}
	if f := l.Fleet(); len(f) != 0 {
		t.Fatalf("fleet: %+v", f)
	}
}
