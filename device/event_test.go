package device

import (
	"encoding/json"
	"fmt"
	"math"
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

// TestFormatsAsFmt: the hand-written formats of the hot events write what
// fmt wrote before them, byte for byte.
func TestFormatsAsFmt(t *testing.T) {
	old := func(d time.Duration) string {
		ms := int64(d / time.Millisecond)
		neg := ""
		if ms < 0 {
			neg, ms = "-", -ms
		}
		h, m, s, frac := ms/3600000, ms/60000%60, ms/1000%60, ms%1000
		if h > 0 {
			return neg + fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, frac)
		}
		return neg + fmt.Sprintf("%02d:%02d.%03d", m, s, frac)
	}
	for _, d := range []time.Duration{0, 1, time.Millisecond, 999 * time.Millisecond, time.Second, 61*time.Second + 7*time.Millisecond,
		time.Hour, 100*time.Hour + 5*time.Minute, -1500 * time.Millisecond, math.MinInt64, math.MaxInt64, 1234567891234} {
		if got, want := FormatDuration(d), old(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
	}
	for _, iv := range []time.Duration{1, 500 * time.Microsecond, 1500 * time.Microsecond, time.Second, 999999999, 61 * time.Second} {
		h := Heartbeat{Container: "beacon", Interval: iv}
		if got, want := h.String(), fmt.Sprintf("container %s: heartbeat (+%.3f s)", h.Container, iv.Seconds()); got != want {
			t.Errorf("heartbeat %d: %q, want %q", iv, got, want)
		}
	}
}
