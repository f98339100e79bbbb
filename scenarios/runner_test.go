package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/lab/sim"
)

func mustLoad(t testing.TB, name string) *Scenario {
	t.Helper()
	sc, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// transcript plays a scenario and returns its JSON Lines transcript.
func transcript(t testing.TB, name string, mode sim.Mode) []byte {
	return transcriptWith(t, name, mode, nil)
}

// transcriptWith is transcript with something watching the lab.
func transcriptWith(t testing.TB, name string, mode sim.Mode, watch func(*lab.Lab)) []byte {
	t.Helper()
	return transcriptOpts(t, name, Options{Mode: mode}, watch)
}

// transcriptOpts is transcript with options (the runtimes, the mode).
func transcriptOpts(t testing.TB, name string, o Options, watch func(*lab.Lab)) []byte {
	t.Helper()
	var buf bytes.Buffer
	var rec *lab.Recorder
	mode := o.Mode
	o.Speed = sim.MaxSpeed
	o.Setup = func(l *lab.Lab) {
		rec = l.Record(&buf)
		if watch != nil {
			watch(l)
		}
	}
	r, err := NewRunner(mustLoad(t, name), o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if mode == sim.Fast {
		if err := r.Play(ctx, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	} else {
		go r.Lab().World().Run(ctx)
		for r.Next() < len(r.Scenario().Steps) {
			if err := r.Begin(); err != nil {
				t.Fatal(err)
			}
			select {
			case res := <-r.Done():
				if !res.OK() {
					t.Fatalf("%s paced: %s", name, res.Failure())
				}
			case <-ctx.Done():
				t.Fatalf("%s paced: step %d never ended", name, r.Next())
			}
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHelloHeadless(t *testing.T) {
	out := transcript(t, "hello", sim.Fast)
	for _, want := range []string{`"kind":"step"`, `"ok":true`, `hello from a tinylab container`, `goodbye, stopping now`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("transcript lacks %s", want)
		}
	}
	if bytes.Contains(out, []byte(`"ok":false`)) {
		t.Errorf("an expectation failed:\n%s", out)
	}
}

// TestPacedStepsGiveTheFastSequence: stepping live (Paced) and playing
// headless (Fast) give the same events at the same virtual times.
func TestPacedStepsGiveTheFastSequence(t *testing.T) {
	fast := transcript(t, "hello", sim.Fast)
	paced := transcript(t, "hello", sim.Paced)
	if !bytes.Equal(fast, paced) {
		fl, pl := strings.Split(string(fast), "\n"), strings.Split(string(paced), "\n")
		for i := range min(len(fl), len(pl)) {
			if fl[i] != pl[i] {
				t.Fatalf("line %d differs:\nfast  %s\npaced %s", i+1, fl[i], pl[i])
			}
		}
		t.Fatalf("%d lines fast, %d paced", len(fl), len(pl))
	}
}

func TestFailedExpectationNamesItsLine(t *testing.T) {
	src := strings.ReplaceAll(mustRead(t, "builtin/hello.yaml"), "{log: {container: board-1/hello, contains: hello}}", "{log: {container: board-1/hello, contains: bonjour}}")
	sc, err := Parse("hello.yaml", []byte(src), builtinFS, "builtin")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Play(context.Background(), nil)
	line := strings.Count(src[:strings.Index(src, "bonjour")], "\n") + 1
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("hello.yaml:%d:", line)) || !strings.Contains(err.Error(), `containing "bonjour"`) {
		t.Fatalf("failure: %v", err)
	}
}

func mustRead(t testing.TB, p string) string {
	t.Helper()
	b, err := builtinFS.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTranscriptRecordsDecode(t *testing.T) {
	out := transcript(t, "hello", sim.Fast)
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var e device.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
	}
}

func TestRewindReachesTheSameState(t *testing.T) {
	sc := mustLoad(t, "hello")
	full, err := NewRunner(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for range 3 {
		if _, err := full.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Rewind(context.Background(), sc, Options{Mode: sim.Paced}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, b := full.Lab().Snapshot("board-1"), r.Lab().Snapshot("board-1")
	if a.Now != b.Now || r.Next() != 3 || !r.Lab().World().Paused() {
		t.Fatalf("rewound to %v (next %d, paused %v), the full run is at %v", b.Now, r.Next(), r.Lab().World().Paused(), a.Now)
	}
	if fmt.Sprint(a.Detail.Containers) != fmt.Sprint(b.Detail.Containers) {
		t.Fatalf("containers differ:\n%v\n%v", a.Detail.Containers, b.Detail.Containers)
	}
}
