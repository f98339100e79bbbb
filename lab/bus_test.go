package lab

import (
	"testing"
	"time"

	"tinylab/device"
)

// TestDrainInOrder: a drain sees every event, in order, once stop returns,
// also when the publisher outruns it by more than its backlog.
func TestDrainInOrder(t *testing.T) {
	b := NewBus(16)
	var got []time.Duration
	slow := true
	stop := b.Drain(func(e device.Event) {
		if slow && len(got) == 0 {
			time.Sleep(50 * time.Millisecond) // the publisher fills the backlog meanwhile
		}
		got = append(got, e.At)
	})
	const n = 3*drainBacklog + 7
	for i := range n {
		b.Publish(device.Event{At: time.Duration(i)})
	}
	stop()
	stop() // twice is harmless
	if len(got) != n {
		t.Fatalf("%d events drained, want %d", len(got), n)
	}
	for i, at := range got {
		if at != time.Duration(i) {
			t.Fatalf("event %d is %d: out of order", i, at)
		}
	}
	b.Publish(device.Event{At: -1})
	if len(got) != n {
		t.Fatal("a stopped drain still takes events")
	}
}
