package device

import (
	"strings"
	"testing"
	"time"
)

func TestHeartbeatingContainerRuns(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "hello", src: heartbeatSrc, grants: []string{"heartbeat"}})
	r.do(func() {
		if err := r.d.Start("hello"); err != nil {
			t.Fatal(err)
		}
	})
	r.advance(5500 * time.Millisecond)
	if got := r.count(KindHeartbeat); got != 5 {
		t.Fatalf("heartbeats after 5.5 s = %d, want 5\n%s", got, r.log())
	}
	log := r.log(KindState)
	for _, want := range []string{"EMPTY -> PROVISIONING", "PROVISIONING -> READY", "READY -> RUNNING"} {
		if !strings.Contains(log, want) {
			t.Errorf("missing %q in\n%s", want, log)
		}
	}
}

// TestReadingsDoNotChangeEnergy: a UI taking snapshots every few
// milliseconds must not change what the device spends (idle energy comes from
// the time powered, not from how often it is read).
func TestReadingsDoNotChangeEnergy(t *testing.T) {
	spent := func(snapshots bool) int64 {
		r := newRig(t, nil)
		r.load(spec{uid: "hello", src: heartbeatSrc, grants: []string{"heartbeat"}})
		r.do(func() { _ = r.d.Start("hello") })
		for range 1000 {
			r.advance(7 * time.Millisecond)
			if snapshots {
				r.do(func() { _ = r.d.Summary(); _ = r.d.Snapshot() })
			}
		}
		var pj int64
		r.do(func() { pj = r.d.spentPJ() })
		return pj
	}
	if a, b := spent(false), spent(true); a != b {
		t.Fatalf("energy spent: %d pJ unread, %d pJ when read every 7 ms", a, b)
	}
}

func TestPoweredOffBoardListsWhatFlashKeeps(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "hello", src: heartbeatSrc, grants: []string{"heartbeat"}})
	var s Summary
	r.do(func() { _ = r.d.PowerCut("test"); s = r.d.Summary() })
	if s.Powered || len(s.Containers) != 0 || len(s.InFlash) != 1 || s.InFlash[0] != "hello" {
		t.Fatalf("off: %+v", s)
	}
	r.do(func() { _ = r.d.PowerOn("test"); s = r.d.Summary() })
	if len(s.InFlash) != 0 || len(s.Containers) != 1 {
		t.Fatalf("back on: %+v", s)
	}
}
