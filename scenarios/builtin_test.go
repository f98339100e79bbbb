package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/lab/rollout"
	"tinylab/lab/sim"
	"tinylab/scenarios/internal/cbuild"
	"tinylab/vm/wasm"
)

// TestCommittedObjectsMatchTheirSources rebuilds every C container with the
// compiler that built the committed objects (clang for eBPF, clang-19 and
// lld-19 for WebAssembly) and compares the bytes.
func TestCommittedObjectsMatchTheirSources(t *testing.T) {
	dir := filepath.Join("builtin", "containers")
	for _, tg := range cbuild.Targets {
		t.Run(tg.Name, func(t *testing.T) {
			clang, err := tg.Find()
			if err != nil {
				t.Skipf("%s: %v: cannot check the committed %s objects (CI installs it)", tg.Name, err, tg.Ext)
			}
			want, err := os.ReadFile(filepath.Join(dir, tg.VersionFile))
			if err != nil {
				t.Fatal(err)
			}
			have, err := cbuild.Version(clang)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(want)) != have {
				t.Skipf("the objects were built by %q, this machine has %q: run go generate ./scenarios/... to rebuild them", strings.TrimSpace(string(want)), have)
			}
			srcs, err := tg.Sources(dir)
			if err != nil || len(srcs) == 0 {
				t.Fatalf("no C sources for %s in %s (%v)", tg.Name, dir, err)
			}
			for _, src := range srcs {
				obj := strings.TrimSuffix(src, ".c") + tg.Ext
				out := filepath.Join(t.TempDir(), filepath.Base(obj))
				if err := tg.Compile(clang, src, out); err != nil {
					t.Fatal(err)
				}
				got, _ := os.ReadFile(out)
				committed, err := os.ReadFile(obj)
				if err != nil {
					t.Fatalf("%s has no committed object: %v", src, err)
				}
				if !bytes.Equal(got, committed) {
					t.Errorf("%s does not match its source: run go generate ./scenarios/...", obj)
				}
			}
		})
	}
}

// TestEveryBuiltinHolds plays each built-in headless: every expectation of
// every step holds.
func TestEveryBuiltinHolds(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, sc := range all {
		names[sc.Name] = true
		t.Run(sc.Name, func(t *testing.T) {
			if (sc.Name == "fleet" || sc.Name == "bad-release") && testing.Short() {
				t.Skip("fleets are long for -short")
			}
			r, err := NewRunner(sc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := r.Play(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if len(r.Results()) != len(sc.Steps) {
				t.Fatalf("%d of %d steps played", len(r.Results()), len(sc.Steps))
			}
		})
	}
	for _, want := range []string{"hello", "mycoach", "smartdronebox", "update-attacks", "firewall-tour", "fleet", "runtime-abstraction", "bad-release", "who-may-do-what"} {
		if !names[want] {
			t.Errorf("built-in %s is missing", want)
		}
	}
}

// TestBuiltinTranscriptsRepeat: two runs of each built-in with the same seed
// give byte-identical transcripts.
func TestBuiltinTranscriptsRepeat(t *testing.T) {
	for _, name := range builtinNames(t) {
		t.Run(name, func(t *testing.T) {
			a, b := transcript(t, name, sim.Fast), transcript(t, name, sim.Fast)
			if !bytes.Equal(a, b) {
				t.Fatal(firstDiff(a, b))
			}
		})
	}
}

// TestWasmBuiltinsSameOnEveryEngine: every built-in with a WebAssembly
// container gives byte-identical transcripts under wazero's interpreter and
// its compiler: the meter, not the engine, decides every count.
func TestWasmBuiltinsSameOnEveryEngine(t *testing.T) {
	if wasm.Auto.Resolve() != wasm.Compiler {
		t.Skip("wazero has no compiler on this platform: only the interpreter runs")
	}
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range all {
		if usesWasm(t, sc) {
			names = append(names, sc.Name)
		}
	}
	if !slices.Contains(names, "mycoach") || !slices.Contains(names, "runtime-abstraction") {
		t.Fatalf("built-ins with wasm containers: %v, want mycoach and runtime-abstraction among them", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			in := transcriptOpts(t, name, Options{Mode: sim.Fast, Runtimes: device.RuntimesWithEngine(wasm.Interpreter)}, nil)
			co := transcriptOpts(t, name, Options{Mode: sim.Fast, Runtimes: device.RuntimesWithEngine(wasm.Compiler)}, nil)
			if !bytes.Equal(in, co) {
				t.Fatal("interpreter vs compiler: " + firstDiff(in, co))
			}
		})
	}
}

func usesWasm(t *testing.T, sc *Scenario) bool {
	for i := range sc.Containers {
		code, err := sc.Code(&sc.Containers[i])
		if err != nil {
			t.Fatal(err)
		}
		if device.CodeType(code) == firewall.TypeWasm {
			return true
		}
	}
	return false
}

// TestBadReleaseRepeats: the 2,000-board rollout, its halt and its
// rollback give the same transcript twice, and the campaign's steps decode
// back from it as the typed events they were.
func TestBadReleaseRepeats(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 boards are long for -short")
	}
	a, b := transcript(t, "bad-release", sim.Fast), transcript(t, "bad-release", sim.Fast)
	if !bytes.Equal(a, b) {
		t.Fatal(firstDiff(a, b))
	}
	var whats []string
	for _, line := range bytes.Split(bytes.TrimSpace(a), []byte("\n")) {
		if !bytes.Contains(line, []byte(`"rollout"`)) {
			continue
		}
		var e device.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if s, ok := e.Data.(rollout.Step); ok {
			whats = append(whats, s.What.String())
		}
	}
	want := "started wave observing wave-done wave observing halted rollback wave observing rolled-back"
	if got := strings.Join(whats, " "); got != want {
		t.Fatalf("campaign steps:\n%s\nwant\n%s", got, want)
	}
}

// TestBuiltinsPacedAsFast: stepping a built-in live gives the same
// transcript as playing it headless. The virtual times agree too as long as
// every real exchange ends within the paced clock's hold; only the sequence
// is promised, so the comparison leaves the times out. bad-release is not
// among them: its waves start hundreds of fetches at one instant, and on a
// loaded machine some outlast the paced clock's hold, which reorders them.
func TestBuiltinsPacedAsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("paced runs take wall time")
	}
	for _, name := range builtinNames(t) {
		t.Run(name, func(t *testing.T) {
			fast, paced := untimed(transcript(t, name, sim.Fast)), untimed(transcript(t, name, sim.Paced))
			if !bytes.Equal(fast, paced) {
				t.Fatal(firstDiff(fast, paced))
			}
		})
	}
}

// builtinNames lists the built-ins whose transcripts the determinism tests
// compare: every one but the fleet, which TestEveryBuiltinHolds plays and
// whose thousand boards would make these tests minutes long.
func builtinNames(t *testing.T) []string {
	t.Helper()
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range all {
		if sc.Name != "fleet" {
			names = append(names, sc.Name)
		}
	}
	return names
}

// untimed drops the virtual time from every record of a transcript.
func untimed(b []byte) []byte {
	return regexp.MustCompile(`"t_ms":[0-9.e+-]+,`).ReplaceAll(b, nil)
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d differs:\n%s\n%s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths differ: %d and %d lines", len(la), len(lb))
}

// TestPacedWithAWatcherGivesTheFastSequence: a UI reading the lab at frame
// rate while a paced scenario plays does not change its events.
func TestPacedWithAWatcherGivesTheFastSequence(t *testing.T) {
	if testing.Short() {
		t.Skip("paced runs take wall time")
	}
	stop := make(chan struct{})
	defer close(stop)
	watch := func(l *lab.Lab) {
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
					_ = l.Snapshot("bench-1")
				}
			}
		}()
	}
	fast := untimed(transcript(t, "mycoach", sim.Fast))
	paced := untimed(transcriptWith(t, "mycoach", sim.Paced, watch))
	if !bytes.Equal(fast, paced) {
		t.Fatal(firstDiff(fast, paced))
	}
}
