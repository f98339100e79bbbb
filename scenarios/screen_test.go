package scenarios

import (
	"context"
	"strings"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/lab/sim"
)

// TestPowerCutIsSeen: in SmartDroneBox the step whose narration says the
// box loses power is the one that cuts it, and box-3 stays off for a while
// of virtual time before the next step powers it on: the audience sees the
// board dark. Before, the update and its narration came a step before the
// cut, and the cut and the recovery took no virtual time.
func TestPowerCutIsSeen(t *testing.T) {
	sc, err := Load("smartdronebox")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(sc, Options{Mode: sim.Fast})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cut, on time.Duration = -1, -1
	remove := r.Lab().Bus().Sink(func(e device.Event) {
		if e.Device != "box-3" {
			return
		}
		switch e.Data.(type) {
		case device.Power:
			if cut < 0 {
				cut = e.At
			}
		case device.Boot:
			if cut >= 0 && on < 0 {
				on = e.At
			}
		}
	})
	defer remove()
	for {
		res, err := r.Step(ctx)
		if err != nil {
			break
		}
		if !res.OK() {
			t.Fatal(res.Failure())
		}
		st := res.Step
		says := strings.Contains(st.Say, "loses power")
		cuts := false
		for _, a := range st.Do {
			cuts = cuts || a.Line == "power-cut box-3"
		}
		if says != cuts {
			t.Errorf("step %d (%s): narration says the power fails: %v, the step cuts it: %v", res.Index, st.Title, says, cuts)
		}
		if cuts && st.About.Device != "box-3" {
			t.Errorf("step %d cuts box-3's power but is about %q", res.Index, st.About)
		}
	}
	if cut < 0 || on < 0 {
		t.Fatalf("box-3 was cut at %v and back at %v", cut, on)
	}
	if on-cut < 2*time.Second {
		t.Fatalf("box-3 was off for %v of virtual time: too short to be seen", on-cut)
	}
}
