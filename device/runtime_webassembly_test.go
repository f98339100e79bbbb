package device

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
	"tinylab/vm/wasm"
)

//go:generate sh testdata/wasm/build.sh

// wasmCode reads a committed WebAssembly test container (testdata/wasm,
// built from the C beside it).
func wasmCode(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wasm", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wspec is a WebAssembly test container.
type wspec struct {
	uid, code string
	grants    []string
	endpoints []firewall.Endpoint
	data      []byte
	timing    firewall.Timing
}

func (r *rig) loadWasm(s wspec) (*Container, error) {
	r.t.Helper()
	code := wasmCode(r.t, s.code)
	mask, err := firewall.ParseGrants(s.grants)
	if err != nil {
		r.t.Fatal(err)
	}
	if s.timing == (firewall.Timing{}) {
		s.timing = firewall.Timing{StartMaxMS: 100, LoopPeriodMS: 1000, LoopMaxMS: 20, StopMaxMS: 100}
	}
	meta, err := firewall.Build(firewall.Spec{UID: s.uid, Type: firewall.TypeWasm, Grants: mask, Endpoints: s.endpoints,
		Timing: s.timing, Code: code, Data: s.data}, ownerKey)
	if err != nil {
		r.t.Fatal(err)
	}
	var c *Container
	r.do(func() { c, err = r.d.Load(meta, code, s.data, "test") })
	return c, err
}

func (r *rig) startWasm(s wspec) *Container {
	r.t.Helper()
	c, err := r.loadWasm(s)
	if err != nil {
		r.t.Fatalf("load %s: %v", s.uid, err)
	}
	r.do(func() { err = r.d.Start(s.uid) })
	if err != nil {
		r.t.Fatalf("start %s: %v", s.uid, err)
	}
	return c
}

// events lists the events of one container of a kind, rendered.
func (r *rig) eventsOf(uid string, k Kind) []string {
	var out []string
	for _, e := range r.env.events {
		if e.Data.Kind() == k && ContainerOf(e.Data) == uid {
			out = append(out, e.String())
		}
	}
	return out
}

func (r *rig) reason(uid string) string {
	var s string
	for _, e := range r.env.events {
		if sc, ok := e.Data.(StateChange); ok && sc.Container == uid {
			s = sc.Reason
		}
	}
	return s
}

// TestWasmContainerHooks: a container of metadata type 4 runs start, its
// loops (heartbeats, logs, a global that survives from loop to loop, its
// data at __heap_base), and stop, through the same natives as eBPF.
func TestWasmContainerHooks(t *testing.T) {
	r := newRig(t, nil)
	c := r.startWasm(wspec{uid: "beat", code: "beat", grants: []string{"heartbeat", "log", "store"}, data: []byte{3}})
	if c.Runtime() != firewall.TypeWasm {
		t.Fatalf("runtime %s", c.Runtime())
	}
	r.advance(5 * time.Second)
	if got := len(r.eventsOf("beat", KindHeartbeat)); got != 3 {
		t.Errorf("%d heartbeats, want 3 (the data says three loops)", got)
	}
	logs := strings.Join(r.eventsOf("beat", KindLog), "\n")
	if strings.Count(logs, "beat: tick") != 3 || !strings.Contains(logs, "beat: start") {
		t.Errorf("logs:\n%s", logs)
	}
	if st := r.state("beat"); st != Ready {
		t.Errorf("state %s after its lifetime, want READY", st)
	}
	var loops uint32
	r.do(func() { loops = r.d.container("beat").locals[1] })
	if loops != 3 {
		t.Errorf("stored loop count %d, want 3: globals must survive between loops", loops)
	}
	var info ContainerInfo
	r.do(func() { info = r.d.container("beat").Info() })
	if info.Runtime != "wasm" || info.Loops != 3 || info.CPUMicros <= 0 || info.EnergyMicroJ <= 0 {
		t.Errorf("info: %+v", info)
	}

	r.startWasm(wspec{uid: "forever", code: "beat", grants: []string{"heartbeat", "log", "store"}, data: []byte{0}})
	r.advance(3 * time.Second)
	var err error
	r.do(func() { err = r.d.Stop("forever") })
	if err != nil {
		t.Fatal(err)
	}
	r.advance(time.Second)
	if logs := strings.Join(r.eventsOf("forever", KindLog), "\n"); !strings.Contains(logs, "beat: stop") {
		t.Errorf("no stop hook:\n%s\n%s", logs, r.log())
	}
}

// TestWasmDenied: a native the metadata does not grant is denied by the
// firewall with an event, returns -1, and the container keeps running.
func TestWasmDenied(t *testing.T) {
	r := newRig(t, nil)
	r.startWasm(wspec{uid: "beat", code: "beat", grants: []string{"heartbeat"}, data: []byte{0}})
	r.advance(3 * time.Second)
	var first Denied
	for _, e := range r.env.events {
		if d, ok := e.Data.(Denied); ok && first.Call == "" {
			first = d
		}
	}
	if first.Container != "beat" || first.Call != "log" || first.Reason != "not-granted" {
		t.Fatalf("first denial %+v, want log not-granted", first)
	}
	if n := len(r.eventsOf("beat", KindHeartbeat)); n < 3 || r.state("beat") != Running {
		t.Errorf("%d heartbeats, state %s: a denial must not stop the container", n, r.state("beat"))
	}
}

// TestWasmUnknownImport: a module importing a native the device does not
// have is refused at provisioning.
func TestWasmUnknownImport(t *testing.T) {
	rt := NewWASM(wasm.Auto)
	// (import "env" "heartbeat") is known to vm/wasm; a module importing
	// anything else is already refused by the compiler: both refusals name
	// the import.
	mod := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type () -> ()
		"\x02\x0b\x01\x03env\x03foo\x00\x00") // import env.foo
	_, err := rt.Load(mod)
	if err == nil || !strings.Contains(err.Error(), "foo") {
		t.Fatalf("err = %v, want a refusal naming env.foo", err)
	}
}

// TestWasmTraps: each way wasm code can fail becomes FAILED with its reason,
// naming the function and the offset, and a Fault or BudgetExceeded event.
func TestWasmTraps(t *testing.T) {
	tests := []struct {
		mode   byte
		reason string // in the FAILED reason
		fault  string // the Fault event's code; "" for a budget
	}{
		{1, "fault in loop(): out of bounds memory access in loop at offset 0x", "out_of_bounds"},
		{2, "fault in loop(): integer divide by zero in loop at offset 0x", "divide_by_zero"},
		{3, "fault in loop(): unreachable executed in loop at offset 0x", "unreachable"},
		{4, "fault in loop(): call stack exhausted in deep at offset 0x", "stack_exhausted"},
		{5, "loop_max_ms exceeded in loop(): ", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.mode), func(t *testing.T) {
			r := newRig(t, nil)
			r.startWasm(wspec{uid: "h", code: "hostile", grants: []string{"heartbeat"}, data: []byte{tt.mode}})
			r.advance(3 * time.Second)
			if st := r.state("h"); st != Failed {
				t.Fatalf("state %s", st)
			}
			if got := r.reason("h"); !strings.HasPrefix(got, tt.reason) {
				t.Errorf("reason %q\nwant   %q...", got, tt.reason)
			}
			if tt.fault == "" {
				if n := len(r.eventsOf("h", KindBudget)); n != 1 {
					t.Errorf("%d budget events", n)
				}
				return
			}
			var f Fault
			for _, e := range r.env.events {
				if x, ok := e.Data.(Fault); ok {
					f = x
				}
			}
			if f.Code != tt.fault || f.Function == "" || f.Offset <= 0 || f.PC != -1 || f.Hook != "loop" {
				t.Errorf("fault %+v, want code %s with function and offset", f, tt.fault)
			}
		})
	}
}

// TestWasmHostileBesideOthers: hostile wasm containers fail with the right
// reason, or are denied, while the device's other containers, eBPF and
// wasm, keep their heartbeats.
func TestWasmHostileBesideOthers(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "bpf", src: heartbeatSrc, grants: []string{"heartbeat"}})
	r.do(func() { _ = r.d.Start("bpf") })
	r.startWasm(wspec{uid: "good", code: "beat", grants: []string{"heartbeat", "log", "store"}, data: []byte{0}})
	r.startWasm(wspec{uid: "spin", code: "hostile", grants: []string{"heartbeat"}, data: []byte{5}})
	r.startWasm(wspec{uid: "deep", code: "hostile", grants: []string{"heartbeat"}, data: []byte{4}})
	r.startWasm(wspec{uid: "grow", code: "grow", grants: []string{"heartbeat"}})
	r.startWasm(wspec{uid: "ptr", code: "hostile", grants: []string{"heartbeat", "open", "read", "close", "log"}, endpoints: []firewall.Endpoint{hrIn}, data: []byte{6}})
	r.advance(10 * time.Second)
	for uid, want := range map[string]string{
		"spin": "loop_max_ms exceeded in loop()",
		"deep": "fault in loop(): call stack exhausted in deep",
		"grow": "loop_max_ms exceeded in loop()",
	} {
		if st, got := r.state(uid), r.reason(uid); st != Failed || !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s (%s), want FAILED (%s...)", uid, st, got, want)
		}
	}
	var reasons []string
	for _, e := range r.env.events {
		if d, ok := e.Data.(Denied); ok && d.Container == "ptr" {
			reasons = append(reasons, d.Call+" "+d.Reason)
		}
	}
	if got := strings.Join(reasons[:2], ", "); got != "read bad-pointer, log bad-pointer" {
		t.Errorf("ptr denials %q, want bad pointers to read and log", reasons)
	}
	for _, uid := range []string{"bpf", "good", "ptr"} {
		if st, n := r.state(uid), len(r.eventsOf(uid, KindHeartbeat)); st != Running || n < 9 {
			t.Errorf("%s: %s with %d heartbeats in 10 s", uid, st, n)
		}
	}
	if n := r.count(KindMissedHeartbeat); n != 0 {
		t.Errorf("%d missed heartbeats:\n%s", n, r.log(KindMissedHeartbeat))
	}
}

// TestWasmFitsAnNRF52832: as WAMR charges a one-page module the bytes below
// __heap_base, wasm containers fill every slot of a 64 KiB nRF52832 with
// RAM to spare for more (upstream fits about six on a dwm1001), while a
// module that may grow is charged its whole page and refused with the
// numbers.
func TestWasmFitsAnNRF52832(t *testing.T) {
	for _, board := range []string{"nrf52dk", "dwm1001"} {
		t.Run(board, func(t *testing.T) {
			r := newRig(t, func(c *Config) { c.Board, _ = LookupBoard(board) })
			var grow error
			_, grow = r.loadWasm(wspec{uid: "grow", code: "grow", grants: []string{"heartbeat"}})
			var re *RejectError
			if !errors.As(grow, &re) || re.Part != "ram" || !strings.Contains(grow.Error(), "65536") && !strings.Contains(grow.Error(), "RAM would hold") {
				t.Errorf("a growing module: %v, want a RAM refusal", grow)
			}
			var before Usage
			r.do(func() { before = r.d.Usage() })
			slots := r.d.cfg.Board.Slots
			for i := range slots {
				r.startWasm(wspec{uid: fmt.Sprintf("c%d", i), code: "beat", grants: []string{"heartbeat", "log", "store"}, data: []byte{0}})
			}
			r.advance(3 * time.Second)
			var after Usage
			r.do(func() { after = r.d.Usage() })
			each := (after.RAMUsed - before.RAMUsed) / slots
			if fit := (before.RAMTotal - before.RAMUsed) / each; fit < 6 {
				t.Errorf("each wasm container takes %d bytes: %d fit in %d free, want at least 6", each, fit, before.RAMTotal-before.RAMUsed)
			}
			for i := range slots {
				if uid := fmt.Sprintf("c%d", i); r.state(uid) != Running {
					t.Errorf("%s: %s", uid, r.state(uid))
				}
			}
			t.Logf("%s: %d bytes per wasm container, %d of %d bytes used with %d", board, each, after.RAMUsed, after.RAMTotal, slots)
		})
	}
}

// TestWasmSameOnEveryEngine: the events of a mixed device, hostile
// containers included, are the same under wazero's interpreter and
// compiler.
func TestWasmSameOnEveryEngine(t *testing.T) {
	play := func(e wasm.Engine) string {
		r := newRig(t, func(c *Config) { c.Runtimes = RuntimesWithEngine(e) })
		r.startWasm(wspec{uid: "good", code: "beat", grants: []string{"heartbeat", "log", "store"}, data: []byte{0}})
		for m := byte(1); m <= 6; m++ {
			r.startWasm(wspec{uid: fmt.Sprintf("h%d", m), code: "hostile", grants: []string{"heartbeat", "open", "read", "close"}, endpoints: []firewall.Endpoint{hrIn}, data: []byte{m}})
		}
		r.advance(5 * time.Second)
		var b strings.Builder
		for _, e := range r.env.events {
			b.WriteString(e.String() + "\n")
		}
		var snap Snapshot
		r.do(func() { snap = r.d.Snapshot() })
		for _, in := range snap.Containers {
			fmt.Fprintf(&b, "%s %s cpu %d µs energy %d µJ\n", in.UID, in.State, in.CPUMicros, in.EnergyMicroJ)
		}
		return b.String()
	}
	if wasm.Compiler.Resolve() != wasm.Compiler || !compilerHere() {
		t.Skip("wazero has no compiler on this platform")
	}
	in, co := play(wasm.Interpreter), play(wasm.Compiler)
	if in != co {
		t.Fatalf("interpreter and compiler differ:\n%s\n----\n%s", in, co)
	}
}

func compilerHere() bool {
	_, err := wasm.Compile(wasmCodeBytes, wasm.Config{Engine: wasm.Compiler})
	return err == nil
}

// wasmCodeBytes is the smallest module, to ask whether an engine exists.
var wasmCodeBytes = []byte("\x00asm\x01\x00\x00\x00")

// TestWasmObjectsMatchSources rebuilds the committed test containers with
// clang-19 and lld-19 and compares the bytes.
func TestWasmObjectsMatchSources(t *testing.T) {
	for _, tool := range []string{"clang-19", "wasm-ld-19"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: cannot check the committed .wasm files", tool)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("testdata", "wasm", "build.sh"))
	cmd.Env = append(os.Environ(), "OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	srcs, _ := filepath.Glob(filepath.Join("testdata", "wasm", "*.c"))
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		got, _ := os.ReadFile(filepath.Join(out, name+".wasm"))
		if !bytes.Equal(got, wasmCode(t, name)) {
			t.Errorf("testdata/wasm/%s.wasm does not match its source: go generate ./device", name)
		}
	}
}

// TestWasmExecRAM: a WebAssembly application in a RAM slot runs once per
// /bpf/exec with the request's bytes in its linear memory, through the
// same seam as eBPF; each run is a fresh instance.
func TestWasmExecRAM(t *testing.T) {
	r := newRig(t, nil)
	var got [2]uint64
	var err error
	r.do(func() {
		r.d.ramSlot[1] = wasmCode(t, "exec")
		for i := range got {
			if got[i], err = r.d.ExecRAM(1, []byte{1, 2, 3, 40}); err != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != [2]uint64{46, 46} {
		t.Errorf("exec gave %v, want 46 twice", got)
	}
}

// TestWasmRestartResets: a container started again runs on fresh memory and
// globals, as the eBPF VM's Reset gives.
func TestWasmRestartResets(t *testing.T) {
	r := newRig(t, nil)
	// exec's start stores its run count, which its loop (entry) raises
	// before it finishes (it returns the data's sum, 10)
	r.startWasm(wspec{uid: "x", code: "exec", grants: []string{"store"}, data: []byte{1, 2, 3, 4}})
	r.advance(2 * time.Second)
	if st := r.state("x"); st != Ready {
		t.Fatalf("state %s, want READY after one loop", st)
	}
	var err error
	r.do(func() { err = r.d.Start("x") })
	if err != nil {
		t.Fatal(err)
	}
	var runs uint32
	r.do(func() { runs = r.d.container("x").locals[7] })
	if st := r.state("x"); st != Running || runs != 0 {
		t.Fatalf("state %s, %d runs seen by start after a restart: globals were not reset", st, runs)
	}
}

// TestWasmCompileCache: distinct modules are compiled once each, the cache
// keeps at most wasmCacheSize of those no instance uses, and a module whose
// compiled code was dropped is compiled again when it is instantiated.
func TestWasmCompileCache(t *testing.T) {
	rt := NewWASM(wasm.Auto).(*wasmRuntime)
	base := wasmCode(t, "beat")
	variant := func(i int) []byte { // a custom section makes each binary distinct
		name := fmt.Sprintf("v%03d", i)
		return append(append(bytes.Clone(base), 0, byte(len(name)+1), byte(len(name))), name...)
	}
	first, err := rt.Load(variant(0))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2*wasmCacheSize; i++ {
		if _, err := rt.Load(variant(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rt.cache); n > wasmCacheSize+1 {
		t.Errorf("%d modules cached, want at most %d", n, wasmCacheSize+1)
	}
	r := newRig(t, nil)
	var natives Natives
	r.startWasm(wspec{uid: "beat", code: "beat", grants: []string{"heartbeat"}, data: []byte{0}})
	r.do(func() { natives = &hostCalls{c: r.d.container("beat")} })
	in, err := first.Create([]byte{0}, natives)
	if err != nil {
		t.Fatalf("an evicted module: %v", err)
	}
	if _, err := in.OnStart(Budget{}); err != nil {
		t.Fatal(err)
	}
	in.Finalize()
}

// FuzzWasmContainer provisions any bytes as a WebAssembly container and
// runs its hooks: a module is refused with an error or runs; nothing may
// panic or break the device, and the same bytes give the same events.
func FuzzWasmContainer(f *testing.F) {
	for _, name := range []string{"beat", "hostile", "grow", "exec"} {
		f.Add(wasmCode(f, name), byte(1))
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"), byte(0))
	f.Fuzz(func(t *testing.T, code []byte, mode byte) {
		if len(code) > 16<<10 {
			return
		}
		play := func() string {
			// the interpreter: compiling every mutant to machine code
			// would spend the fuzzing time in wazero's compiler
			r := newRig(t, func(c *Config) { c.Runtimes = RuntimesWithEngine(wasm.Interpreter) })
			mask, _ := firewall.ParseGrants([]string{"heartbeat", "log", "store", "open", "read", "close"})
			meta, err := firewall.Build(firewall.Spec{UID: "f", Type: firewall.TypeWasm, Grants: mask, Endpoints: []firewall.Endpoint{hrIn},
				Timing: firewall.Timing{StartMaxMS: 10, LoopPeriodMS: 1000, LoopMaxMS: 10, StopMaxMS: 10}, Code: code, Data: []byte{mode}}, ownerKey)
			if err != nil {
				t.Fatal(err)
			}
			r.do(func() {
				if _, err = r.d.Load(meta, code, []byte{mode}, "fuzz"); err == nil {
					err = r.d.Start("f")
				}
			})
			if err == nil {
				r.advance(3 * time.Second)
				r.do(func() { _ = r.d.Stop("f") })
				r.advance(time.Second)
			}
			return r.log()
		}
		if a, b := play(), play(); a != b {
			t.Fatalf("the same module gave other events:\n%s\n----\n%s", a, b)
		}
	})
}
