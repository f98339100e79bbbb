package lab

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab/sim"
)

// smallFleet is a lab of n boards box-1…box-n, four to a shared socket (so
// requests cross many socket pairs), with containers a and b defined; the
// board named off is added powered off.
func smallFleet(t *testing.T, n int, off string) (*Lab, []string) {
	t.Helper()
	l, err := New(Options{Seed: 1, Mode: sim.Fast, BoardsPerSocket: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	must(t, firstErr(l.AddParty("owner", Owner)))
	must(t, firstErr(l.AddParty("ops", Tenant)))
	grants := firewall.MaskOf(firewall.CallHeartbeat)
	for _, name := range []string{"a", "b"} {
		must(t, l.Define(ContainerDef{Name: name, Tenant: "ops", Code: code(t, beatSrc), Grants: grants}))
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("box-%d", i+1)
		must(t, firstErr(l.AddDevice(DeviceSpec{ID: ids[i], Board: "nrf52dk", Off: ids[i] == off})))
	}
	return l, ids
}

// provisioned provisions a and b on a small fleet and returns what the
// devices said, in order.
func provisioned(t *testing.T, n int, off string) ([]string, error) {
	t.Helper()
	l, ids := smallFleet(t, n, off)
	var said []string
	l.Bus().Sink(func(e device.Event) {
		if _, ok := e.Data.(device.StateChange); ok {
			said = append(said, e.Device+" "+e.Data.String())
		}
	})
	err := l.Provision(ids, []string{"a", "b"})
	return said, err
}

// TestProvisionOrder: requests fly concurrently, yet the world sees them
// container by container, loads then starts, device by device, on every run.
func TestProvisionOrder(t *testing.T) {
	const n = 64
	first, err := provisioned(t, n, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := provisioned(t, n, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(first, again) {
			t.Fatalf("two provisionings differ:\n%s\n---\n%s", strings.Join(first, "\n"), strings.Join(again, "\n"))
		}
	}
	if len(first) != 3*2*n {
		t.Fatalf("%d state changes, want %d:\n%s", len(first), 3*2*n, strings.Join(first, "\n"))
	}
	// loads: each device goes EMPTY -> PROVISIONING -> READY before the next
	for ci, c := range []string{"a", "b"} {
		base := ci * 3 * n
		for i := range n {
			dev := fmt.Sprintf("box-%d container %s: ", i+1, c)
			if got := first[base+2*i]; !strings.HasPrefix(got, dev+"EMPTY -> PROVISIONING") {
				t.Fatalf("change %d is %q, want %sEMPTY -> PROVISIONING", base+2*i, got, dev)
			}
			if got := first[base+2*i+1]; !strings.HasPrefix(got, dev+"PROVISIONING -> READY") {
				t.Fatalf("change %d is %q, want %sPROVISIONING -> READY", base+2*i+1, got, dev)
			}
			if got := first[base+2*n+i]; !strings.HasPrefix(got, dev+"READY -> RUNNING") {
				t.Fatalf("change %d is %q, want %sREADY -> RUNNING", base+2*n+i, got, dev)
			}
		}
	}
}

// TestProvisionOffDevice: a board that is off is refused by name, one
// request at a time, and what came before it stays installed.
func TestProvisionOffDevice(t *testing.T) {
	said, err := provisioned(t, 12, "box-7")
	if err == nil || !strings.Contains(err.Error(), "box-7") {
		t.Fatalf("provisioning with box-7 off: %v", err)
	}
	if len(said) != 6*2 || !strings.HasPrefix(said[len(said)-1], "box-6 container a: PROVISIONING -> READY") {
		t.Fatalf("before box-7 failed:\n%s", strings.Join(said, "\n"))
	}
}

// TestProvisionTwice: a device listed twice is an error before anything is sent.
func TestProvisionTwice(t *testing.T) {
	l, err := New(Options{Seed: 1, Mode: sim.Fast, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Provision([]string{"x", "x"}, []string{"a"}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("x twice: %v", err)
	}
}
