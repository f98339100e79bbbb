package device

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestEventJSONRoundTripsEveryKind(t *testing.T) {
	payloads := []Payload{
		Boot{Board: "nrf52dk", Reason: "power on"}, Power{On: false, Reason: "test"},
		StateChange{Container: "c", From: Ready, To: Running, Reason: "start"},
		Heartbeat{Container: "c", Interval: time.Second}, MissedHeartbeat{Container: "c", Missed: 1, Max: 3},
		Denied{Container: "c", Call: "read", Target: "fd 3", Reason: "not-granted", Detail: "mask grants none", Args: [5]uint64{3, 1, 4}},
		Fault{Container: "c", Hook: "loop", Code: "illegal_memory_access", PC: 2, Message: "m"},
		BudgetExceeded{Container: "c", Limit: "loop_max_ms", Value: 30000, Max: 20000, Unit: "µs"},
		SuitStep{Step: "signature", Status: "passed", Message: "ok", Component: ".ram.0", Code: 0},
		SuitProgress{URI: "coap://x/y", Done: 64, Total: 128}, SuitResult{Code: -5, Result: "SUIT_ERR_SEQUENCE_NUMBER", Seq: 1},
		Log{Container: "c", Text: "hello"}, Energy{BatteryPermille: 990, UsedMicroJoule: 12},
		CoAP{Dir: "in", Method: "GET", Path: "/riot/board", Code: "2.05", Bytes: 9},
		SensorChange{Sensor: "temp", Value: 31.5}, Actuator{Container: "c", Peer: "display", Text: "hi"},
		Update{Container: "c", Status: "rejected", Detail: "d"},
	}
	seen := map[Kind]bool{}
	for i, p := range payloads {
		ev := Event{At: time.Duration(i) * 1500 * time.Microsecond, Device: "bench-1", Seq: uint64(i + 1), Data: p}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("%s: %v", p.Kind(), err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v\n%s", p.Kind(), err, b)
		}
		if !reflect.DeepEqual(back, ev) {
			t.Fatalf("%s: round trip\n got %#v\nwant %#v\n%s", p.Kind(), back, ev, b)
		}
		if back.String() == "" || p.String() == "" {
			t.Fatalf("%s renders empty", p.Kind())
		}
		want := ""
		if f := reflect.ValueOf(p).FieldByName("Container"); f.IsValid() {
			want = f.String()
		}
		if got := ContainerOf(p); got != want {
			t.Errorf("%s: ContainerOf = %q, want %q (the payload's Container field)", p.Kind(), got, want)
		}
		seen[p.Kind()] = true
	}
	for _, k := range Kinds()[:len(payloads)] {
		if !seen[k] {
			t.Errorf("kind %s has no round-trip case", k)
		}
	}
}

func FuzzEventUnmarshal(f *testing.F) {
	f.Add([]byte(`{"t_ms":1.5,"device":"d","seq":1,"kind":"state","container":"c","from":"READY","to":"RUNNING","reason":"r"}`))
	f.Add([]byte(`{"t_ms":-1e300,"kind":"boot"}`))
	f.Add([]byte(`{"kind":"nope"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return
		}
		if e.Data == nil {
			t.Fatal("an event decoded without a payload")
		}
		_ = e.String()
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("re-encoding a decoded event: %v", err)
		}
	})
}

// TestFaultLocations: a fault located by pc encodes as it did before faults
// could name a function and an offset, so recorded eBPF runs stay byte for
// byte the same; one located by function and offset round-trips.
func TestFaultLocations(t *testing.T) {
	b, err := json.Marshal(Fault{Container: "c", Hook: "loop", Code: "illegal_memory_access", PC: 2, Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"container":"c","hook":"loop","code":"illegal_memory_access","pc":2,"message":"m"}`; string(b) != want {
		t.Errorf("%s\nwant %s", b, want)
	}
	ev := Event{Device: "d", Seq: 1, Data: Fault{Container: "c", Hook: "start", Code: "unreachable", PC: -1, Function: "start", Offset: 17, Message: "m"}}
	if b, err = json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, ev) {
		t.Errorf("round trip: %v\n got %#v\nwant %#v", err, back, ev)
	}
}
