package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/device/cord"
	"tinylab/lab"
	"tinylab/lab/sim"
	"tinylab/scenarios"
)

// TestAttachedDevicesShowBesideTheScenarios: a device of another lab (as a
// `tinylab device` process would be) attached by URI shows in the device
// list after the scenario's own, marked live; a command line command on it
// goes over CoAP; when it stops answering it is marked unreachable.
func TestAttachedDevicesShowBesideTheScenarios(t *testing.T) {
	other, err := lab.New(lab.Options{Mode: sim.Paced})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	n, err := other.AddDevice(lab.DeviceSpec{ID: "far", Board: "native"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = other.World().Run(ctx) }()
	defer func() { cancel(); <-done }()

	sc, err := scenarios.Load("hello")
	if err != nil {
		t.Fatal(err)
	}
	src := newLive(sc, nil, 100)
	defer src.close()
	if src.remote, err = attachRemotes("", false, []string{n.URI()}, nil); err != nil {
		t.Fatal(err)
	}
	src.build(0, "building")()
	name := strings.TrimPrefix(n.URI(), "coap://")
	var f frame
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		f = src.frame("", lab.AllRows)
		if d := f.snap.Devices; len(d) == 2 && d[1].Remote == "live" {
			break
		}
	}
	d := f.snap.Devices
	if len(d) != 2 || d[0].ID != "board-1" || d[1].ID != name || d[1].Board != "native" || d[1].Remote != "live" {
		t.Fatalf("devices: %+v", d)
	}
	if dt := src.frame(name, lab.AllRows).snap.Detail; dt == nil || dt.ID != name || dt.Board.Name != "native" || dt.Board.RAMSlotBytes != 2048 {
		t.Fatalf("detail of the attached device: %+v", dt)
	}
	msg := src.exec("get " + name + " /riot/board")()
	if nm, ok := msg.(noteMsg); !ok || nm.text != "2.05 native" {
		t.Fatalf("get over CoAP: %+v", msg)
	}
	n.Sock.Close()
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		f = src.frame("", lab.AllRows)
		if strings.HasPrefix(f.snap.Devices[1].Remote, "unreachable since ") {
			return
		}
	}
	t.Fatalf("never marked unreachable: %+v", f.snap.Devices[1])
}

// TestTheUIsGatewayTakesTheRoom: the UI serves the gateway; a device of
// another process registers with it and shows beside the scenario's, whose
// own devices are in the RD's lookups but not attached a second time.
func TestTheUIsGatewayTakesTheRoom(t *testing.T) {
	sc, err := scenarios.Load("hello")
	if err != nil {
		t.Fatal(err)
	}
	src := newLive(sc, nil, 100)
	defer src.close()
	gw, uri, err := serveGateway("127.0.0.1:0", src)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	src.build(0, "building")()
	if src.remote, err = attachRemotes(uri, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	other, err := lab.New(lab.Options{Mode: sim.Paced})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.AddDevice(lab.DeviceSpec{ID: "laptop-7", Board: "native"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = other.World().Run(ctx) }()
	defer func() { cancel(); <-done }()
	if _, err := other.Register("laptop-7", cord.Config{RD: uri, Endpoint: "laptop-7"}); err != nil {
		t.Fatal(err)
	}
	var f frame
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		f = src.frame("", lab.AllRows)
		if d := f.snap.Devices; len(d) == 2 && d[1].Remote == "live" {
			break
		}
	}
	if d := f.snap.Devices; len(d) != 2 || d[0].ID != "board-1" || d[0].Remote != "" || d[1].ID != "laptop-7" || d[1].Remote != "live" {
		t.Fatalf("devices: %+v", d)
	}
}

// Attached devices come after the lab's: in the ids always, in the
// summaries when the window reaches the lab's last row.
func TestWithRemote(t *testing.T) {
	labIDs := []string{"a", "b", "c"}
	sums := func(ids ...string) []device.Summary {
		var out []device.Summary
		for _, id := range ids {
			out = append(out, device.Summary{ID: id})
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		first  int
		window []device.Summary
		want   string
	}{
		{"the whole list", 0, sums("a", "b", "c"), "a b c r1 r2"},
		{"a window at the end", 2, sums("c"), "c r1 r2"},
		{"a window past the lab's rows", 3, nil, "r1 r2"},
		{"a window before the end", 0, sums("a", "b"), "a b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ids, devs := withRemote(lab.Snapshot{IDs: labIDs[:3:3], First: tt.first, Devices: tt.window}, sums("r1", "r2"))
			var got []string
			for _, d := range devs {
				got = append(got, d.ID)
			}
			if strings.Join(ids, " ") != "a b c r1 r2" || strings.Join(got, " ") != tt.want {
				t.Errorf("ids %v, rows %v, want rows %s", ids, got, tt.want)
			}
		})
	}
	if labIDs[0] != "a" || len(labIDs) != 3 {
		t.Errorf("the lab's ids changed: %v", labIDs)
	}
}
