package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"tinylab/device"
)

// fleet is a campaign over n devices d-1 ... d-n with the waves
// (canary 1%, then 10%, 50%, 100%), halting above 5%, watching 30 s.
type fleet struct {
	t     *testing.T
	c     *Campaign
	steps []Step
	outs  []DeviceOutcome
	sent  []string // every device triggered, in order
	wake  time.Duration
	now   time.Duration
}

func newFleet(t *testing.T, n int) *fleet {
	t.Helper()
	f := &fleet{t: t}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("d-%d", i+1)
	}
	c, err := New(Spec{Name: "app-v2", Container: "app", Release: "app-v2", Seq: 2, From: "app", Targets: ids,
		Canary: 100, Waves: []Percent{1000, 5000, 10000}, HaltOn: 500, Pause: 30 * time.Second}, func(p device.Payload) {
		switch v := p.(type) {
		case Step:
			f.steps = append(f.steps, v)
		case DeviceOutcome:
			f.outs = append(f.outs, v)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

func (f *fleet) act(a Actions) []string {
	f.sent = append(f.sent, a.Trigger...)
	if a.Wake > 0 {
		f.wake = a.Wake
	}
	return a.Trigger
}

// finish reports a result for every device of the list.
func (f *fleet) finish(ids []string, what ObsKind, reason string) {
	for _, id := range ids {
		f.act(f.c.Observe(f.now, Observation{Device: id, What: what, Reason: reason}))
	}
}

// tick lets virtual time pass to the wake-up asked for.
func (f *fleet) tick() []string {
	f.now = f.wake
	return f.act(f.c.Tick(f.now))
}

func (f *fleet) last() StepKind { return f.steps[len(f.steps)-1].What }

func (f *fleet) wantState(s State) {
	f.t.Helper()
	if f.c.State() != s {
		f.t.Fatalf("state %s, want %s (last step %v)", f.c.State(), s, f.steps[len(f.steps)-1])
	}
}

func TestWaveSizes(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []int
	}{
		{2000, []int{20, 180, 800, 1000}},
		{10, []int{1, 1, 3, 5}}, // 1% and 10% of 10 are both 1 device: every wave takes at least one
		{1, []int{1}},
	} {
		f := newFleet(t, tc.n)
		var got []int
		for _, w := range f.c.Waves() {
			got = append(got, len(w.Devices))
		}
		want := slices.DeleteFunc(slices.Clone(tc.want), func(n int) bool { return n == 0 })
		if !slices.Equal(got, want) {
			t.Errorf("%d devices: waves %v, want %v", tc.n, got, want)
		}
	}
}

func TestHappyPath(t *testing.T) {
	f := newFleet(t, 2000)
	first := f.act(f.c.Start(0))
	if len(first) != 20 || first[0] != "d-1" {
		t.Fatalf("canary triggers %d devices from %v", len(first), first[:1])
	}
	batch := first
	for wave := 0; wave < 4; wave++ {
		f.now += time.Second
		f.finish(batch, UpdateOK, "")
		f.wantState(Observing)
		if f.wake != f.now+30*time.Second {
			t.Fatalf("wake at %v, want the end of the 30 s window", f.wake)
		}
		batch = f.tick()
	}
	f.wantState(Completed)
	if len(f.sent) != 2000 || len(f.outs) != 2000 {
		t.Fatalf("%d triggered, %d outcomes", len(f.sent), len(f.outs))
	}
}

func TestHaltResumeAbort(t *testing.T) {
	f := newFleet(t, 2000)
	canary := f.act(f.c.Start(0))
	// One of 20 canaries fails: 5%, not above the 5% threshold.
	f.finish(canary[:1], UpdateFailed, "digest mismatch")
	f.finish(canary[1:], UpdateOK, "")
	f.wantState(Observing)
	wave2 := f.tick()
	if len(wave2) != 180 {
		t.Fatalf("wave 2 triggers %d", len(wave2))
	}
	f.finish(wave2[:170], UpdateOK, "")
	// Containers installed go FAILED in the window: the 10th (10 of 180 =
	// 5.6%) halts it while the last 10 still fetch.
	f.finish(wave2[:9], ContainerFailed, "watchdog")
	f.wantState(Rolling)
	f.finish(wave2[9:10], ContainerFailed, "watchdog")
	f.wantState(Halted)
	h := f.steps[len(f.steps)-1]
	if h.What != StepHalted || h.Wave != 2 || h.Failed != 10 || !strings.Contains(h.Detail, "watchdog ×10") {
		t.Fatalf("halt step %+v", h)
	}
	// Results still arrive, the halt sends nothing more.
	f.finish(wave2[170:], UpdateOK, "")
	f.wantState(Halted)
	if len(f.sent) != 200 {
		t.Fatalf("%d triggered after the halt", len(f.sent))
	}
	if a, err := f.c.Retry(f.now); err != nil || len(f.act(a)) != 11 { // the canary's failure and wave 2's ten
		t.Fatalf("retry %+v %v", a, err)
	}
	// The watchdog failures are retried with the same release, which the
	// devices refuse as a replay.
	f.finish(f.sent[200:], UpdateFailed, "sequence number")
	f.wantState(Halted)
	a, err := f.c.Resume(f.now)
	if err != nil {
		t.Fatal(err)
	}
	if wave3 := f.act(a); len(wave3) != 800 {
		t.Fatalf("resume of a finished wave starts wave 3 with %d devices", len(wave3))
	}
	f.wantState(Rolling)
	if _, err := f.c.Resume(f.now); !errors.Is(err, ErrState) {
		t.Fatalf("resume while rolling: %v", err)
	}
	if err := f.c.Abort(f.now); err != nil {
		t.Fatal(err)
	}
	f.wantState(Aborted)
	if err := f.c.Abort(f.now); !errors.Is(err, ErrState) {
		t.Fatalf("abort twice: %v", err)
	}
	f.finish(f.sent[len(f.sent)-800:], UpdateOK, "")
	if f.tick(); f.c.State() != Aborted {
		t.Fatalf("an aborted campaign moved on to %s", f.c.State())
	}
}

func TestRollbackWaitsForUpdatesInFlight(t *testing.T) {
	f := newFleet(t, 2000)
	canary := f.act(f.c.Start(0))
	f.finish(canary, UpdateOK, "")
	wave2 := f.tick()
	f.finish(wave2[:100], UpdateOK, "")
	f.finish(wave2[:20], ContainerFailed, "watchdog")
	f.wantState(Halted)
	if _, err := f.c.Rollback(f.now, 2); !errors.Is(err, ErrSpec) {
		t.Fatalf("rollback at the release's own sequence: %v", err)
	}
	a, err := f.c.Rollback(f.now, 3)
	if err != nil {
		t.Fatal(err)
	}
	// 120 devices have results: they get v1 now; 80 still fetch v2 and get
	// it when they are done.
	if now := f.act(a); len(now) != 120 || a.Release != "app" || a.Seq != 3 {
		t.Fatalf("rollback triggers %d devices with %s seq %d", len(now), a.Release, a.Seq)
	}
	f.wantState(RollingBack)
	f.finish(f.sent[200:], UpdateOK, "")
	late := wave2[100:]
	for _, id := range late {
		a := f.c.Observe(f.now, Observation{Device: id, What: UpdateOK})
		if len(a.Trigger) != 1 || a.Trigger[0] != id || a.Seq != 3 {
			t.Fatalf("a device done with v2 gets %+v", a)
		}
		f.act(a)
	}
	f.wantState(RollingBack)
	f.finish(late, UpdateOK, "")
	f.wantState(RollingBack)
	rb := f.c.Waves()[len(f.c.Waves())-1]
	if rb.Count(Installed) != 200 || !rb.Done() {
		t.Fatalf("rollback wave %+v", rb.Counts)
	}
	f.tick()
	f.wantState(RolledBack)
	// The waves keep their history for the pane.
	if w := f.c.Waves()[1]; w.Count(Failed) != 20 || w.Reasons["watchdog"] != 20 {
		t.Fatalf("wave 2 history %v %v", w.Counts, w.Reasons)
	}
	if _, err := f.c.Rollback(f.now, 4); !errors.Is(err, ErrState) {
		t.Fatalf("rollback twice: %v", err)
	}
}

func TestPowerOffMidWave(t *testing.T) {
	f := newFleet(t, 100) // waves of 1, 9, 40, 50
	f.finish(f.act(f.c.Start(0)), UpdateOK, "")
	wave2 := f.tick()
	// d-2 loses power mid-update: its interrupted update reports a storage
	// error, then the power event; it is offline, not failed.
	f.act(f.c.Observe(f.now, Observation{Device: "d-2", What: UpdateFailed, Reason: "storage"}, Observation{Device: "d-2", What: PowerOff}))
	if s, _, _ := f.c.Device("d-2"); s != Offline {
		t.Fatalf("d-2 is %s", s)
	}
	// d-3 loses power before any result.
	f.finish(wave2[1:2], PowerOff, "")
	f.finish(wave2[2:], UpdateOK, "")
	f.wantState(Observing)
	if w := f.c.Waves()[1]; w.Count(Failed) != 0 || w.Count(Offline) != 2 {
		t.Fatalf("wave 2: %v", w.Counts)
	}
	// A device that powers off after installing is not the release's failure.
	f.finish(wave2[2:3], PowerOff, "")
	if s, _, _ := f.c.Device("d-4"); s != Installed {
		t.Fatalf("d-4 is %s", s)
	}
	// d-2 boots during the window: it is triggered again.
	n := len(f.sent)
	f.finish(wave2[:1], PowerOn, "")
	if len(f.sent) != n+1 || f.sent[n] != "d-2" {
		t.Fatalf("boot triggers %v", f.sent[n:])
	}
	f.finish(wave2[:1], UpdateOK, "")
	wave3 := f.tick()
	if len(wave3) != 40 {
		t.Fatalf("wave 3: %d", len(wave3))
	}
	// A stale result (an update nobody in the campaign sent) is ignored.
	f.act(f.c.Observe(f.now, Observation{Device: "d-3", What: UpdateOK}))
	if s, _, _ := f.c.Device("d-3"); s != Offline {
		t.Fatalf("d-3 is %s after a result the campaign did not ask for", s)
	}
	a, err := f.c.Retry(f.now)
	if err != nil || len(a.Trigger) != 1 || a.Trigger[0] != "d-3" {
		t.Fatalf("retry %+v %v", a, err)
	}
}

func TestSpecErrors(t *testing.T) {
	emit := func(device.Payload) {}
	for _, tc := range []Spec{
		{Container: "a", Release: "a"},
		{Container: "a", Release: "a", Targets: []string{"x", "x"}},
		{Container: "a", Release: "a", Targets: []string{"x"}, Waves: []Percent{5000, 1000}},
	} {
		if _, err := New(tc, emit); !errors.Is(err, ErrSpec) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	for in, want := range map[string]Percent{"5%": 500, "0.5%": 50, "100": 10000, "12.25%": 1225} {
		if p, err := ParsePercent(in); err != nil || p != want {
			t.Errorf("ParsePercent(%q) = %v, %v", in, p, err)
		}
	}
	for _, in := range []string{"", "x%", "101%", "-1%"} {
		if _, err := ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) accepted", in)
		}
	}
}

func TestFormatReasons(t *testing.T) {
	got := FormatReasons(map[string]int{"digest mismatch": 3, "watchdog": 12, "budget": 3})
	if want := "watchdog ×12, budget ×3, digest mismatch ×3"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// TestEventsRoundTrip: the campaign's records decode from the transcript
// as they were, beside the envelope's own keys (time, device, seq, kind).
func TestEventsRoundTrip(t *testing.T) {
	for _, p := range []device.Payload{
		Step{Campaign: "app-v2", What: StepHalted, State: Halted, Wave: 2, Name: "wave 2", Devices: 180, Failed: 13, Detail: "13 of 180",
			Plan: &Plan{Release: "app-v2", Seq: 2, From: "app", To: "box-*", HaltOn: 500, Waves: []WavePlan{{Name: "canary", Share: 100, Devices: 20}}}},
		DeviceOutcome{Campaign: "app-v2", Device: "box-7", Wave: 2, State: Failed, Reason: "watchdog"},
	} {
		in := device.Event{At: 34352 * time.Millisecond, Device: "lab", Seq: 9, Data: p}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out device.Event
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		if fmt.Sprintf("%+v", out) != fmt.Sprintf("%+v", in) || !reflect.DeepEqual(out.Data, in.Data) {
			t.Errorf("%s\ndecodes to %+v", b, out)
		}
	}
}
