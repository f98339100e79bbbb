package lab

import (
	"context"
	"testing"
	"time"

	"tinylab/device"
)

// walked counts what the tally counts by walking every device: the truth
// the tally keeps without walking.
func walked(l *Lab) Tally {
	var t Tally
	for _, d := range l.Snapshot("").Devices {
		if !d.Powered {
			t.Off++
		}
		for _, c := range d.Containers {
			if c.State != device.Empty {
				t.Containers[c.State]++
			}
		}
	}
	return t
}

// TestTallyFollowsTheFleet: loads, starts, a stop, a power cut and a boot,
// and a board added off: the counts kept event by event match a walk.
func TestTallyFollowsTheFleet(t *testing.T) {
	l, ids := smallFleet(t, 12, "")
	must(t, firstErr(l.AddDevice(DeviceSpec{ID: "spare", Board: "nrf52dk", Off: true})))
	check := func(when string) Tally {
		t.Helper()
		got := l.Snapshot("").Tally
		want := walked(l)
		if got.Containers != want.Containers || got.Off != want.Off {
			t.Fatalf("%s: tally %+v, walking the fleet %+v", when, got, want)
		}
		return got
	}
	check("built")
	must(t, l.Provision(ids, []string{"a", "b"}))
	if got := check("provisioned"); got.Of(device.Running) != 24 || got.Off != 1 {
		t.Fatalf("provisioned: %+v", got)
	}
	must(t, l.Stop("box-2", "a"))
	must(t, l.PowerCut("box-3"))
	if got := check("a stop and a power cut"); got.Of(device.Running) != 21 || got.Of(device.Ready) != 1 || got.Off != 2 {
		t.Fatalf("after a stop and a power cut: %+v", got)
	}
	must(t, l.PowerOn("box-3"))
	must(t, l.PowerOn("spare"))
	must(t, l.Advance(context.Background(), 3*time.Second))
	if got := check("booted again"); got.Off != 0 || got.Heartbeats == 0 {
		t.Fatalf("booted again: %+v", got)
	}
}
