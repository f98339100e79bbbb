package device

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
	"tinylab/vm"
	"tinylab/vm/asm"
	"tinylab/vm/rbf"
)

// wasmModule is the smallest WebAssembly binary: the magic and version 1.
var wasmModule = []byte("\x00asm\x01\x00\x00\x00")

// bpfOnly is a firmware with the eBPF runtime alone, whatever else the
// build registers: the tests about a missing runtime stay true when a
// WebAssembly runtime is added.
func bpfOnly(c *Config) { c.Runtimes = map[firewall.RuntimeType]Runtime{firewall.TypeBPF: BPF} }

// signed is metadata of the given type over any code, signed by the owner.
func signed(t testing.TB, uid string, typ firewall.RuntimeType, code []byte) []byte {
	t.Helper()
	mask, _ := firewall.ParseGrants([]string{"heartbeat"})
	meta, err := firewall.Build(firewall.Spec{UID: uid, Type: typ, Grants: mask, Code: code, Timing: firewall.DefaultTiming}, ownerKey)
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

func assemble(t testing.TB, src string) *vm.Image {
	t.Helper()
	img, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// codeForms is the heartbeat program as an rBPF image and as raw bytecode,
// an ELF object from clang (the VM's own test object) and a WebAssembly
// module.
func codeForms(t *testing.T) map[string][]byte {
	img := assemble(t, heartbeatSrc)
	image, err := rbf.Encode(img)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := vm.EncodeText(img.Text)
	if err != nil {
		t.Fatal(err)
	}
	elf, err := os.ReadFile(filepath.Join("..", "vm", "elfobj", "testdata", "prog.o"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"rbf": image, "raw": raw, "elf": elf, "wasm": wasmModule}
}

// TestContainerTypeAndCode: the metadata's type picks the runtime; code
// whose bytes are another runtime's is refused naming both, and a type the
// firmware has no runtime for is refused naming it. The refusal is the
// provisioning event's reason, and nothing is installed.
func TestContainerTypeAndCode(t *testing.T) {
	forms := codeForms(t)
	tests := []struct {
		code string
		typ  firewall.RuntimeType
		part string // "" loads
		want string
		is   error
	}{
		{"rbf", firewall.TypeBPF, "", "", nil},
		{"raw", firewall.TypeBPF, "", "", nil},
		{"wasm", firewall.TypeBPF, "code", `code is WebAssembly (\0asm) but the metadata declares type 3 (bpf)`, ErrCodeType},
		{"rbf", firewall.TypeWasm, "code", "code is eBPF (rBPF image) but the metadata declares type 4 (wasm)", ErrCodeType},
		{"elf", firewall.TypeWasm, "code", "code is eBPF (ELF object) but the metadata declares type 4 (wasm)", ErrCodeType},
		{"raw", firewall.TypeWasm, "code", "code is eBPF (raw bytecode) but the metadata declares type 4 (wasm)", ErrCodeType},
		{"raw", firewall.TypeUndefined, "code", "code is eBPF (raw bytecode) but the metadata declares type 0 (undefined)", ErrCodeType},
		{"wasm", firewall.TypeNative, "code", `code is WebAssembly (\0asm) but the metadata declares type 1 (native)`, ErrCodeType},
		{"wasm", firewall.TypeWasm, "runtime", "type 4 (wasm): no wasm runtime on this device", ErrNoRuntime},
	}
	for _, tt := range tests {
		name := tt.code + " as " + tt.typ.String()
		t.Run(name, func(t *testing.T) {
			r := newRig(t, bpfOnly)
			code := forms[tt.code]
			var err error
			r.do(func() { _, err = r.d.Load(signed(t, "c", tt.typ, code), code, nil, "test") })
			if tt.part == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r.state("c") != Ready {
					t.Fatalf("state %s", r.state("c"))
				}
				return
			}
			var re *RejectError
			if !errors.As(err, &re) || re.Part != tt.part || !errors.Is(err, ErrRejected) || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v (%T), want a %s rejection wrapping %v", err, err, tt.part, tt.is)
			}
			if want := "c rejected: " + tt.part + ": " + tt.want; err.Error() != want {
				t.Errorf("err = %q\nwant  %q", err, want)
			}
			if got := r.log(KindState); !strings.Contains(got, "PROVISIONING -> EMPTY ("+err.Error()+")") {
				t.Errorf("no provisioning refusal event:\n%s", got)
			}
			if r.state("c") != Empty {
				t.Errorf("state %s, want nothing installed", r.state("c"))
			}
		})
	}
}

// TestPinnedRuntime: a board whose firmware is built with one runtime
// refuses the other type with that reason, and keeps what it has when an
// update of another type is refused; a pin to a runtime the firmware lacks
// is refused when the device is built.
func TestPinnedRuntime(t *testing.T) {
	forms := codeForms(t)
	r := newRig(t, func(c *Config) { c.PinRuntime = firewall.TypeBPF })
	var err error
	r.do(func() { _, err = r.d.Load(signed(t, "w", firewall.TypeWasm, wasmModule), wasmModule, nil, "test") })
	if want := "w rejected: runtime: type 4 (wasm) refused: this device is pinned to the bpf runtime"; err == nil || err.Error() != want || !errors.Is(err, ErrNoRuntime) {
		t.Errorf("wasm on a bpf board: %v\nwant %s", err, want)
	}
	r.load(spec{uid: "c", src: heartbeatSrc, grants: []string{"heartbeat"}})
	r.do(func() { _ = r.d.Start("c") })
	r.advance(2 * time.Second)
	r.do(func() { _, err = r.d.Load(signed(t, "c", firewall.TypeWasm, wasmModule), wasmModule, nil, "test") })
	if !errors.Is(err, ErrNoRuntime) {
		t.Errorf("wasm update of a bpf container: %v", err)
	}
	if got := r.log(KindUpdate); !strings.Contains(got, "rejected, RUNNING version kept") {
		t.Errorf("update events:\n%s", got)
	}
	before := r.count(KindHeartbeat)
	r.advance(2 * time.Second)
	if r.state("c") != Running || r.count(KindHeartbeat) <= before {
		t.Errorf("the installed version stopped: %s, heartbeats %d -> %d", r.state("c"), before, r.count(KindHeartbeat))
	}
	if _, _, err := r.d.runtimeFor(firewall.TypeBPF, forms["rbf"]); err != nil {
		t.Errorf("pinned bpf board refuses bpf: %v", err)
	}

	env := &testEnv{}
	_, err = New(Config{ID: "w", PinRuntime: firewall.TypeWasm, Runtimes: map[firewall.RuntimeType]Runtime{firewall.TypeBPF: BPF}}, env)
	if want := "device w: pinned to the wasm runtime: type 4 (wasm): no wasm runtime on this device"; err == nil || err.Error() != want || !errors.Is(err, ErrNoRuntime) {
		t.Errorf("pin without the runtime: %v\nwant %s", err, want)
	}
}

// TestBuiltinRuntimes: a device built without a runtime list has the
// firmware's, eBPF among them, and a copy it may change.
func TestBuiltinRuntimes(t *testing.T) {
	rts := BuiltinRuntimes()
	if rts[firewall.TypeBPF] != BPF || BPF.Type() != firewall.TypeBPF {
		t.Fatalf("builtin runtimes %v lack eBPF", rts)
	}
	delete(rts, firewall.TypeBPF)
	if _, ok := BuiltinRuntimes()[firewall.TypeBPF]; !ok {
		t.Fatal("BuiltinRuntimes returned the registry itself")
	}
	for _, k := range []Hook{HookStart, HookLoop, HookStop, HookExec, 9} {
		if k.String() == "" {
			t.Errorf("hook %d has no name", k)
		}
	}
}

// TestRuntimeInInfo: the container's runtime is in its info (the
// /containers JSON) and in the device list.
func TestRuntimeInInfo(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "c", src: heartbeatSrc, grants: []string{"heartbeat"}})
	var info ContainerInfo
	var sum Summary
	r.do(func() { info = r.d.Snapshot().Containers[0]; sum = r.d.Summary() })
	if info.Runtime != "bpf" || sum.Containers[0].Runtime != firewall.TypeBPF {
		t.Errorf("runtime %q / %v, want bpf", info.Runtime, sum.Containers[0].Runtime)
	}
}

// radioSrc sends 64 bytes of its stack to a remote peer on every loop.
const radioSrc = `
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -64
  mov %r3, 64
  call 0x75
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
`

// TestBatteryEmptiesInsideAHook: the radio's energy, charged inside
// write(), empties the battery and powers the device off while the hook
// runs; its instance is finalized only after the hook returned, and the
// device is off without a fault.
func TestBatteryEmptiesInsideAHook(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Energy = DefaultEnergy
		c.Energy.BatteryMAh = 2e-5 // about 200 µJ: a few dozen datagrams
	})
	radio := firewall.Endpoint{ID: 1, Peer: firewall.PeerRemote, PeerEndpoint: 5683, Direction: firewall.DirOut}
	c := r.load(spec{uid: "r", src: radioSrc, grants: []string{"open", "write", "close"}, endpoints: []firewall.Endpoint{radio}})
	r.do(func() { _ = r.d.Start("r") })
	r.advance(time.Minute)
	var on bool
	r.do(func() { on = r.d.Powered() })
	if on {
		t.Fatalf("the battery did not empty:\n%s", r.log(KindPower, KindEnergy))
	}
	off := -1
	for i, e := range r.env.events {
		if p, ok := e.Data.(Power); ok && !p.On {
			off = i
		}
	}
	if off < 0 || off+1 >= len(r.env.events) {
		t.Fatalf("no power-off event followed by the rest of the hook:\n%s", r.log())
	}
	if a, ok := r.env.events[off+1].Data.(Actuator); !ok || a.Container != "r" {
		t.Fatalf("the battery did not empty inside write(): after the power-off came %s", r.env.events[off+1])
	}
	if n := r.count(KindFault); n != 0 {
		t.Errorf("%d faults", n)
	}
	r.do(func() {
		if c.inst != nil || c.retired != nil || c.inHook {
			t.Errorf("instance left after power-off: inst %v retired %v in hook %v", c.inst, c.retired, c.inHook)
		}
	})
}
