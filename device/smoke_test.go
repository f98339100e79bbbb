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
