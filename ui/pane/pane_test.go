package pane

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/scenarios"
	"tinylab/ui/theme"
)

var th = theme.New(theme.Default, false)

func TestFit(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"abc", 5, "abc  "}, {"abcdef", 4, "abc…"}, {"", 2, "  "}, {"abc", 0, ""}, {"♥ ok", 4, "♥ ok"},
		{th.Bad.Render("denied"), 3, "de…"},
	} {
		got := Fit(c.in, c.w)
		if ansi.Strip(got) != c.want || ansi.StringWidth(got) != max(c.w, 0) {
			t.Errorf("Fit(%q, %d) = %q, want %q", c.in, c.w, ansi.Strip(got), c.want)
		}
	}
	if got := FitLeft("7%", 4); got != "  7%" {
		t.Errorf("FitLeft = %q", got)
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want []string
	}{
		{"a b c", 3, []string{"a b", "c"}},
		{"hello world", 20, []string{"hello world"}},
		{"abcdefgh xy", 3, []string{"abc", "def", "gh", "xy"}},
		{"", 5, nil},
		{"one\ntwo", 10, []string{"one", "two"}},
		{"x", 0, nil},
	} {
		if got := Wrap(c.in, c.w); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}

func TestScroll(t *testing.T) {
	for _, c := range []struct{ top, sel, n, h, want int }{
		{0, 0, 10, 5, 0}, {0, 4, 10, 5, 0}, {0, 5, 10, 5, 1}, {5, 2, 10, 5, 2},
		{0, 9, 10, 5, 5}, {8, 9, 10, 5, 5}, {3, 1, 3, 5, 0}, {0, 0, 10, 0, 0},
	} {
		if got := Scroll(c.top, c.sel, c.n, c.h); got != c.want {
			t.Errorf("Scroll(%d, %d, %d, %d) = %d, want %d", c.top, c.sel, c.n, c.h, got, c.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Energy(999), "999 µJ"}, {Energy(3100), "3.1 mJ"}, {Energy(2_500_000), "2.50 J"},
		{KiB(39117), "38.2"}, {KiB(212 << 10), "212"},
		{Clock(42300 * time.Millisecond), "00:42.3"}, {Clock(3723 * time.Second), "1:02:03.0"}, {Clock(-time.Second), "00:00.0"},
		{Speed(1), "1x"}, {Speed(0.25), "0.25x"}, {Speed(0.5), "0.5x"}, {Speed(100), "100x"},
		{Ago(1500 * time.Millisecond), "1.5s"}, {Ago(42 * time.Second), "42s"}, {Ago(3 * time.Hour), "180m"},
		{Sparkline([]time.Duration{1, 2, 3, 4, 5, 6, 7, 8}, 8), "▁▂▃▄▅▆▇█"},
		{Sparkline([]time.Duration{5, 5, 5}, 2), "▅▅"},
		{Sparkline(nil, 5), ""},
		{Shorten("Comparing 547d0d74-6d3a-5a92-9662-4881afd9407b to x"), "Comparing 547d0d74… to x"},
		{Compact("validating vendor ID: OK; Comparing a to b from manifest"), "Comparing a to b"},
		{Compact("signature OK: EdDSA, trusted key 1 of 2"), "EdDSA, trusted key 1 of 2"},
		{Compact("Manifest seq_no: 1, highest available: 2"), "Manifest seq_no: 1, highest available: 2"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestPulse(t *testing.T) {
	for _, c := range []struct {
		now, last time.Duration
		speed     float64
		want      bool
	}{
		{10 * time.Second, 9900 * time.Millisecond, 1, true},
		{10 * time.Second, 9 * time.Second, 1, false},
		{10 * time.Second, 9 * time.Second, 10, true},
		{10 * time.Second, -1, 1, false},
	} {
		if got := Pulse(c.now, c.last, c.speed); got != c.want {
			t.Errorf("Pulse(%v, %v, %g) = %v", c.now, c.last, c.speed, got)
		}
	}
}

// TestStateMachine draws the lifecycle at every width with the current
// state lit, never wider than asked.
func TestStateMachine(t *testing.T) {
	for _, st := range device.States() {
		for w := 10; w <= 90; w++ {
			s := StateMachine(th, st, w)
			if n := ansi.StringWidth(s); n > w {
				t.Fatalf("%s at %d: %d cells", st, w, n)
			}
			plain := ansi.Strip(s)
			if !strings.Contains(plain, "["+st.String()+"]") && !strings.Contains(plain, "["+Abbrev(st)+"]") {
				t.Fatalf("%s at %d: the current state is not lit: %q", st, w, plain)
			}
		}
	}
}

func steps(pairs ...string) []device.SuitStep {
	var out []device.SuitStep
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, device.SuitStep{Step: pairs[i], Status: pairs[i+1], Message: pairs[i] + " " + pairs[i+1]})
	}
	return out
}

func TestChecks(t *testing.T) {
	cs := Checks(steps("manifest", "started", "manifest", "passed", "signature", "passed",
		"sequence-number", "failed", "vendor", "passed"))
	got := map[string]string{}
	for _, c := range cs {
		got[c.Label] = c.Status
	}
	want := map[string]string{"manifest": "passed", "signature": "passed", "digest": "", "sequence": "failed",
		"vendor": "passed", "install": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	// a step reported only as started passes once a later step is reached
	cs = Checks(steps("manifest", "started", "signature", "passed"))
	if cs[0].Status != "passed" {
		t.Errorf("manifest: %q", cs[0].Status)
	}
	cs = Checks(steps("fetch", "started"))
	if cs[8].Label != "fetch" || cs[8].Status != "started" {
		t.Errorf("fetch: %+v", cs[8])
	}
}

// TestChecksPerComponent: fetch, image and install run once per component;
// a fetch that starts again begins a new component, whose image check is not
// reached yet, and an update that ends with a step under way failed there
// (a power cut) or passed it (success).
func TestChecksPerComponent(t *testing.T) {
	status := func(cs []Check) string {
		var b strings.Builder
		for _, c := range cs[8:] {
			fmt.Fprintf(&b, "%s=%s ", c.Label, c.Status)
		}
		return strings.TrimSpace(b.String())
	}
	second := steps("fetch", "started", "fetch", "passed", "image-match", "started", "image-match", "passed", "fetch", "started")
	for _, c := range []struct {
		name  string
		steps []device.SuitStep
		last  *device.SuitResult
		want  string
	}{
		{"second fetch under way", second, nil, "fetch=started image= install="},
		{"second fetch failed", append(slices.Clone(second), device.SuitStep{Step: "fetch", Status: "failed", Message: "Incorrect size"}), nil,
			"fetch=failed image= install="},
		{"power cut mid-fetch", second, &device.SuitResult{Code: -50, Result: "SUIT_ERR_STORAGE", Message: "interrupted by a power cut"},
			"fetch=failed image= install="},
		{"install under way, then OK", append(slices.Clone(second), steps("fetch", "passed", "image-match", "passed", "install", "started")...),
			&device.SuitResult{Code: 0, Result: "SUIT_OK"}, "fetch=passed image=passed install=passed"},
	} {
		cs := Checks(c.steps)
		if c.last != nil {
			cs = Settle(cs, *c.last)
		}
		if got := status(cs); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	cut := Settle(Checks(second), device.SuitResult{Code: -50, Message: "interrupted by a power cut"})
	if cut[8].Detail != "interrupted by a power cut" {
		t.Errorf("the failed fetch says %q", cut[8].Detail)
	}
	for _, c := range []struct {
		st   device.SuitStatus
		want string
	}{
		{device.SuitStatus{}, "update"},
		{device.SuitStatus{Namespace: "ram"}, "RAM slots"},
		{device.SuitStatus{Namespace: "tc.coach", Container: "coach"}, "coach"},
	} {
		if got := What(c.st); got != c.want {
			t.Errorf("What(%+v) = %q, want %q", c.st, got, c.want)
		}
	}
}

// TestCheckRows folds the check list into any number of lines and keeps
// the failure visible.
func TestCheckRows(t *testing.T) {
	all := Checks(steps("manifest", "passed", "signature", "passed", "manifest-digest", "passed", "version", "passed",
		"sequence-number", "failed"))
	for n := 1; n <= 14; n++ {
		rows := checkRows(th, all, 60, n, true)
		if len(rows) > n {
			t.Fatalf("%d rows for %d lines", len(rows), n)
		}
		joined := ansi.Strip(strings.Join(rows, "\n"))
		if !strings.Contains(joined, "✗ sequence") {
			t.Errorf("n=%d: the failure is gone:\n%s", n, joined)
		}
		if n >= 4 && !strings.Contains(joined, "signature") {
			t.Errorf("n=%d: signature is gone:\n%s", n, joined)
		}
	}
}

func TestSuitRender(t *testing.T) {
	idle := Suit{Device: "b", Status: device.SuitStatus{State: "idle"}}
	if got := ansi.Strip(strings.Join(idle.Render(th, 40, 3), "\n")); !strings.Contains(got, "no update yet on b") {
		t.Errorf("idle: %q", got)
	}
	failed := Suit{Device: "b", Status: device.SuitStatus{State: "idle", Namespace: "tc.coach", Container: "coach", Updates: 1,
		Steps: steps("signature", "passed", "sequence-number", "failed"),
		Last:  device.SuitResult{Code: -5, Result: "SUIT_ERR_SEQUENCE_NUMBER", Seq: 1}}}
	got := ansi.Strip(strings.Join(failed.Render(th, 50, 8), "\n"))
	for _, want := range []string{"coach seq 1 → b", "✗ sequence", "✗ SUIT_ERR_SEQUENCE_NUMBER (-5)", "· not reached: vendor"} {
		if !strings.Contains(got, want) {
			t.Errorf("failed update lacks %q:\n%s", want, got)
		}
	}
}

func TestEventLines(t *testing.T) {
	for _, c := range []struct {
		p    device.Payload
		want string
		bad  bool
	}{
		{device.Denied{Container: "a", Call: "read", Target: "fd 3", Reason: "not-granted"}, "✗ DENIED a read fd 3: not granted", true},
		{device.Fault{Container: "a", Hook: "loop", Message: "illegal memory access", PC: 7}, "✗ FAULT a loop(): illegal memory access at pc 7", true},
		{device.Refused{Party: "tenant mapco", Method: "POST", Path: "/containers/parcel", Code: "4.03", Rule: "own-containers"}, "✗ REFUSED tenant mapco POST /containers/parcel: 4.03, own-containers", true},
		{device.StateChange{Container: "a", From: device.Running, To: device.Failed, Reason: "watchdog"}, "✗ a RUNNING → FAILED (watchdog)", true},
		{device.StateChange{Container: "a", From: device.Ready, To: device.Running, Reason: "start"}, "a READY → RUNNING (start)", false},
		{device.SuitResult{Code: -6, Result: "SUIT_ERR_SIGNATURE"}, "✗ suit: update failed: SUIT_ERR_SIGNATURE (-6)", true},
		{device.SuitResult{Code: 0, Seq: 2}, "✓ suit: install OK (seq 2)", false},
		{device.MissedHeartbeat{Container: "a", Missed: 1, Max: 3}, "⚠ watchdog: a missed its heartbeat (1 of 3)", true},
		{device.Heartbeat{Container: "a", Interval: time.Second}, "♥ a +1.000s", false},
		{scenarios.StepStarted{Index: 2, Total: 5, Title: "Load"}, "━━ step 2/5: Load", false},
		{scenarios.Checked{OK: false, Want: "x", Got: "y"}, "✗ x: got y", true},
	} {
		e := device.Event{At: 1500 * time.Millisecond, Device: "bench-1", Data: c.p}
		line := ansi.Strip(EventLine(th, e, 8, 100))
		if !strings.HasSuffix(line, c.want) || !strings.HasPrefix(line, "00:01.500 bench-1  ") {
			t.Errorf("%T: %q, want …%q", c.p, line, c.want)
		}
		if Bad(e) != c.bad {
			t.Errorf("%T: Bad = %v", c.p, Bad(e))
		}
	}
	if got := Text(device.Event{Device: "d", Data: device.Denied{Container: "a", Call: "read"}}); !strings.Contains(got, "denied") || !strings.Contains(got, "DENIED") {
		t.Errorf("Text names neither the kind nor the content: %q", got)
	}
}

// TestRenderSizes draws every pane at many sizes with the same data: each
// returns exactly the lines asked for, each exactly as wide.
func TestRenderSizes(t *testing.T) {
	dev := &device.Snapshot{ID: "b", Board: device.Board{Name: "nrf52dk"}, Powered: false,
		Containers: []device.ContainerInfo{{UID: "a-very-long-container-name", State: "FAILED", Denied: 3, Missed: 2,
			Intervals: []time.Duration{time.Second}}, {UID: "b", State: "READY", LastBeatMs: -1}},
		Peers: []device.PeerInfo{{Name: "display", Class: device.ClassDisplay, Value: "hi"}},
		Suit:  device.SuitStatus{State: "fetching", Done: 10, Total: 100, Steps: steps("signature", "passed", "fetch", "started")}}
	sums := []device.Summary{{ID: "b", Powered: false}, {ID: "c", Powered: true, Denied: 123456, Updating: true,
		Containers: []device.ContainerBrief{{UID: "x", State: device.Running, Watched: true}}}}
	story := Story{Title: "T: t", Summary: "s", Current: 0, Steps: []StoryStep{{Title: "one", Say: strings.Repeat("word ", 60), State: Failed, Err: "boom"}}}
	evs := []device.Event{{Device: "b", Data: device.Log{Container: "x", Text: strings.Repeat("y", 300)}}}
	for w := 0; w <= 120; w += 3 {
		for h := 0; h <= 20; h += 2 {
			for name, lines := range map[string][]string{
				"devices":  Devices{List: sums, Selected: 1}.Render(th, w, h),
				"detail":   Detail{Dev: dev, Selected: 5}.Render(th, w, h),
				"partial":  Detail{Dev: dev, Partial: true}.Render(th, w, h),
				"suit":     Suit{Device: "b", Status: dev.Suit}.Render(th, w, h),
				"events":   Events{Rows: evs, Selected: 0, DevW: 4}.Render(th, w, h, "none"),
				"story":    story.Render(th, w, h, "hint"),
				"frame":    Frame(th, "title", "note", true, w, h, []string{"x"}),
				"no story": Story{Current: -1}.Render(th, w, h, ""),
			} {
				if len(lines) != h {
					t.Fatalf("%s at %dx%d: %d lines", name, w, h, len(lines))
				}
				for i, l := range lines {
					if n := ansi.StringWidth(l); n != w && !(w < 2 && name == "frame") {
						t.Fatalf("%s at %dx%d: line %d is %d wide: %q", name, w, h, i, n, ansi.Strip(l))
					}
				}
			}
		}
	}
}

// TestDevicesShowRuntimes: the device list names each container's runtime
// when there is room, by its initial when less, and drops it before the
// names; a replay's unknown runtime is left out.
func TestDevicesShowRuntimes(t *testing.T) {
	sums := []device.Summary{{ID: "b", Powered: true, Containers: []device.ContainerBrief{
		{UID: "coach", State: device.Running, Runtime: firewall.TypeWasm},
		{UID: "an", State: device.Ready, Runtime: firewall.TypeBPF},
		{UID: "old", State: device.Failed}}}}
	for _, tt := range []struct {
		w    int
		want string
	}{
		{61, "coach·wasm RUN an·bpf RDY old FAIL"},
		{56, "coach·w RUN an·b RDY old FAIL"},
		{51, "coach RUN an RDY old FAIL"},
	} {
		got := ansi.Strip(strings.Join(Devices{List: sums}.Render(th, tt.w, 1), ""))
		if !strings.Contains(got, tt.want) {
			t.Errorf("at %d: %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestAttachedDevicesAreMarked(t *testing.T) {
	d := Devices{List: []device.Summary{
		{ID: "bench-1", Board: "nrf52dk", Powered: true, BatteryPermille: 1000},
		{ID: "RIOT-a", Board: "native", Powered: true, Remote: "live", Containers: []device.ContainerBrief{{UID: "coach", State: device.Running}}},
		{ID: "RIOT-b", Board: "native", Remote: "unreachable since 15:04:05"},
	}}
	out := ansi.Strip(strings.Join(d.Render(th, 60, 3), "\n"))
	for _, want := range []string{"bench-1 nrf52dk    · 100%", "RIOT-a  native     ⇄ live coach RUN", "RIOT-b  native     ⇄ lost unreachable since 15:04:05"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// A window of a fleet: rows in List show their summary, rows outside it
// (the list scrolled since the window was taken) their id and a "…", never
// another row's summary.
func TestDevicesWindow(t *testing.T) {
	ids := []string{"box-1", "box-2", "box-3", "box-4", "box-5", "box-6"}
	sum := func(id string) device.Summary {
		return device.Summary{ID: id, Board: "nrf52dk", Powered: true, BatteryPermille: 870}
	}
	for _, tt := range []struct {
		name       string
		list       []device.Summary
		first, top int
		want       []string
	}{
		{"window covers the screen", []device.Summary{sum("box-2"), sum("box-3"), sum("box-4"), sum("box-5")}, 1, 2,
			[]string{"box-3 nrf52dk    ·  87% —", "▶ box-4 nrf52dk    ·  87% —", "box-5 nrf52dk    ·  87% —"}},
		{"screen past the window", []device.Summary{sum("box-1"), sum("box-2")}, 0, 1,
			[]string{"box-2 nrf52dk    ·  87% —", "box-3 …", "▶ box-4 …"}},
		{"window of other rows", []device.Summary{sum("box-6")}, 3, 2,
			[]string{"box-3 …", "▶ box-4 …", "box-5 …"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Devices{IDs: ids, List: tt.list, First: tt.first, Top: tt.top, Selected: 3}
			out := d.Render(th, 60, 3)
			if len(out) != 3 {
				t.Fatalf("%d lines", len(out))
			}
			for i, want := range tt.want {
				if got := strings.TrimSpace(ansi.Strip(out[i])); got != want {
					t.Errorf("row %d: %q, want %q", i, got, want)
				}
			}
		})
	}
}

// TestTallyNote: a fleet's counts, failures first, running, boards off and
// denials; what does not fit is left out, whole.
func TestTallyNote(t *testing.T) {
	var y lab.Tally
	y.Containers[device.Running] = 19996
	y.Containers[device.Failed] = 3
	y.Containers[device.Ready] = 1
	y.Off, y.Denied = 2, 41
	for _, tc := range []struct {
		w    int
		want string
	}{
		{80, "3 FAIL · 19996 RUN · 1 RDY · ⏻ 2 · ✗ 41"},
		{30, "3 FAIL · 19996 RUN · 1 RDY"},
		{12, "3 FAIL"},
		{5, ""},
	} {
		if got := ansi.Strip(TallyNote(th, y, tc.w)); got != tc.want {
			t.Errorf("width %d: %q, want %q", tc.w, got, tc.want)
		}
	}
	if got := TallyNote(th, lab.Tally{}, 80); got != "" {
		t.Errorf("an empty lab: %q", got)
	}
}
