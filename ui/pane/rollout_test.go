package pane

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/lab/rollout"
)

// HaltedRollout is a real campaign over n boards halted in its second
// wave: the canary installed; in wave 2 one board in 13 failed by watchdog
// and one by digest mismatch, one went offline and the last three still
// fetch; the later waves are held back.
func HaltedRollout(n int) lab.RolloutView {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("box-%d", i+1)
	}
	c, err := rollout.New(rollout.Spec{Name: "thermo-v2", Container: "thermo", Release: "thermo-v2", Seq: 1, From: "thermo",
		Targets: ids, Canary: 100, Waves: []rollout.Percent{1000, 5000, 10000}, HaltOn: 500, Pause: 15 * time.Second}, func(device.Payload) {})
	if err != nil {
		panic(err)
	}
	var obs []rollout.Observation
	for _, id := range c.Start(0).Trigger {
		obs = append(obs, rollout.Observation{Device: id, What: rollout.UpdateOK})
	}
	c.Observe(time.Second, obs...)
	wave := c.Tick(16 * time.Second).Trigger
	obs = obs[:0]
	for k, id := range wave[:len(wave)-3] {
		switch {
		case k == 7:
			obs = append(obs, rollout.Observation{Device: id, What: rollout.UpdateFailed, Reason: "digest mismatch"})
		case k == 8:
			obs = append(obs, rollout.Observation{Device: id, What: rollout.PowerOff})
		default:
			obs = append(obs, rollout.Observation{Device: id, What: rollout.UpdateOK})
		}
	}
	c.Observe(17*time.Second, obs...)
	obs = obs[:0]
	for k, id := range wave {
		if k%13 == 5 {
			obs = append(obs, rollout.Observation{Device: id, What: rollout.ContainerFailed, Reason: "watchdog"})
		}
	}
	c.Observe(26*time.Second, obs...)
	return lab.ViewCampaign(c, true)
}

func TestGoldenRollout(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			r := Rollout{View: HaltedRollout(10000)}
			out := Frame(th, r.Title(), "", true, sz[0], sz[1], r.Render(th, Inner(sz[0]), sz[1]-2))
			for i, l := range out {
				if Width(l) != sz[0] {
					t.Fatalf("line %d is %d cells: %q", i, Width(l), ansi.Strip(l))
				}
			}
			golden.RequireEqual(t, strings.Join(out, "\n"))
		})
	}
}

func TestRolloutMapAggregates(t *testing.T) {
	for _, tc := range []struct {
		boards, w, rows int
		per             string
	}{
		{10000, 156, 30, "1 cell = 3 boards"},
		{2000, 156, 30, "1 cell = 1 board"},
		{10000, 76, 8, "1 cell = 19 boards"},
	} {
		r := Rollout{View: HaltedRollout(tc.boards)}
		m := r.fleetMap(th, tc.w, tc.rows)
		if len(m) > tc.rows {
			t.Errorf("%d boards in %dx%d: %d rows", tc.boards, tc.w, tc.rows, len(m))
		}
		if legend := ansi.Strip(m[len(m)-1]); !strings.Contains(legend, tc.per) || !strings.Contains(legend, "held") && !strings.Contains(legend, "halted") {
			t.Errorf("%d boards in %dx%d: legend %q", tc.boards, tc.w, tc.rows, legend)
		}
		// A failed board is never hidden by aggregation: every cell that
		// holds one shows it.
		failed := 0
		for _, l := range m[:len(m)-1] {
			failed += strings.Count(ansi.Strip(l), "✗") + strings.Count(ansi.Strip(l), "×")
		}
		if failed == 0 {
			t.Errorf("%d boards in %dx%d: no failure on the map", tc.boards, tc.w, tc.rows)
		}
	}
}

// BenchmarkRolloutPane draws the pane for 10,000 boards at 160x48.
func BenchmarkRolloutPane(b *testing.B) {
	r := Rollout{View: HaltedRollout(10000)}
	for range b.N {
		_ = r.Render(th, 156, 30)
	}
}
