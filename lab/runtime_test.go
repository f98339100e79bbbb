package lab

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"tinylab/firewall"
)

// TestMetadataTypeFromCode: the lab issues a container's metadata with the
// type its code is (4 for a WebAssembly module, 3 for eBPF), so a wasm
// container defined like an eBPF one runs on the device's wasm runtime.
func TestMetadataTypeFromCode(t *testing.T) {
	wasmCode, err := os.ReadFile(filepath.Join("..", "device", "testdata", "wasm", "beat.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	l := testLab(t, 1)
	must(t, l.Define(ContainerDef{Name: "beat", Tenant: "coach", Code: wasmCode, Data: []byte{0},
		Grants: firewall.MaskOf(firewall.CallHeartbeat, firewall.CallLog, firewall.CallStore)}))
	for name, want := range map[string]firewall.RuntimeType{"beat": firewall.TypeWasm, "coach": firewall.TypeBPF} {
		l.mu.Lock()
		def := l.defs[name]
		l.mu.Unlock()
		raw, err := l.metadata(def)
		if err != nil {
			t.Fatal(err)
		}
		md, err := firewall.DecodeMetadata(raw)
		if err != nil {
			t.Fatal(err)
		}
		if md.Container.Type != want {
			t.Errorf("%s: metadata type %s, want %s", name, md.Container.Type, want)
		}
	}
	must(t, l.Load("bench-1", "beat"))
	must(t, l.Start("bench-1", "beat"))
	run(t, l, 3*time.Second)
	if st := state(l, "bench-1", "beat"); st != "RUNNING" {
		t.Fatalf("beat is %s", st)
	}
	for _, s := range l.Snapshot("").Devices {
		for _, c := range s.Containers {
			if c.UID == "beat" && c.Runtime != firewall.TypeWasm {
				t.Errorf("beat runs on %s", c.Runtime)
			}
		}
	}
}
