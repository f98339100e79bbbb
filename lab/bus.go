package lab

import (
	"slices"
	"sync"

	"tinylab/device"
)

// DefaultRing is how many events a bus keeps for its readers.
const DefaultRing = 1 << 16

// Bus carries every event of the lab. Publishing never blocks a device:
// sinks (the recorder, the scenario runner) are called inline and must be
// quick; readers (the UI) read from a bounded ring at their own pace, and
// the bus counts what a slow reader missed.
type Bus struct {
	mu      sync.Mutex
	ring    []device.Event
	total   uint64 // events published
	sinks   []sink // copied on change, so Publish can call them unlocked
	lastID  uint64
	readers []*Reader
}

type sink struct {
	id uint64
	fn func(device.Event)
}

// NewBus makes a bus keeping the last ring events for its readers.
func NewBus(ring int) *Bus {
	if ring <= 0 {
		ring = DefaultRing
	}
	return &Bus{ring: make([]device.Event, ring)}
}

// Publish hands an event to every sink and reader.
func (b *Bus) Publish(e device.Event) {
	b.mu.Lock()
	b.ring[b.total%uint64(len(b.ring))] = e
	b.total++
	sinks := b.sinks
	readers := b.readers
	b.mu.Unlock()
	for _, s := range sinks {
		s.fn(e)
	}
	for _, r := range readers {
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}
}

// Sink adds a function called with every event, in order, on the publishing
// goroutine (inside the world). It returns a function that removes it.
func (b *Bus) Sink(fn func(device.Event)) (remove func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastID++
	id := b.lastID
	b.sinks = append(slices.Clone(b.sinks), sink{id, fn})
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.sinks = slices.DeleteFunc(slices.Clone(b.sinks), func(s sink) bool { return s.id == id })
	}
}

// Drain adds a sink whose fn runs on a goroutine of its own, in order: a
// printer formats and writes the transcript there, on another core, while
// the world runs on. Events are values the bus already shares with its
// readers, so reading them late is safe. When drainBacklog events wait,
// Publish waits for fn (a run that prints must not outgrow its memory, and
// a blocked output blocked the world as much when sinks printed inline).
// stop removes the sink and returns once every event it took went to fn.
func (b *Bus) Drain(fn func(device.Event)) (stop func()) {
	d := &drain{fn: fn, done: make(chan struct{})}
	d.more, d.room = sync.NewCond(&d.mu), sync.NewCond(&d.mu)
	go d.run()
	remove := b.Sink(d.take)
	var once sync.Once
	return func() {
		once.Do(func() {
			remove()
			d.mu.Lock()
			d.closed = true
			d.more.Signal()
			d.mu.Unlock()
			<-d.done
		})
	}
}

// drainBacklog bounds the events a Drain holds for its goroutine.
const drainBacklog = 1 << 14

type drain struct {
	fn         func(device.Event)
	mu         sync.Mutex
	more, room *sync.Cond
	queue      []device.Event
	spare      []device.Event // the last batch handed out, reused
	closed     bool
	done       chan struct{}
}

func (d *drain) take(e device.Event) {
	d.mu.Lock()
	for len(d.queue) >= drainBacklog {
		d.room.Wait()
	}
	d.queue = append(d.queue, e)
	if len(d.queue) == 1 {
		d.more.Signal()
	}
	d.mu.Unlock()
}

func (d *drain) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.more.Wait()
		}
		if len(d.queue) == 0 {
			d.mu.Unlock()
			return
		}
		batch := d.queue
		d.queue = d.spare[:0]
		d.room.Broadcast()
		d.mu.Unlock()
		for _, e := range batch {
			d.fn(e)
		}
		clear(batch)
		d.mu.Lock()
		d.spare = batch
		d.mu.Unlock()
	}
}

// Total is how many events were published.
func (b *Bus) Total() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// Reader follows the bus from the moment it was made.
type Reader struct {
	b       *Bus
	next    uint64
	dropped uint64
	notify  chan struct{}
}

// Reader makes a reader that starts at the next event published.
func (b *Bus) Reader() *Reader {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &Reader{b: b, next: b.total, notify: make(chan struct{}, 1)}
	b.readers = append(slices.Clone(b.readers), r)
	return r
}

// Notify is signalled (without blocking the bus) when events are published.
func (r *Reader) Notify() <-chan struct{} { return r.notify }

// Read returns up to max events not read yet (all when max <= 0), oldest
// first, and how many were missed so far because the reader fell more than
// a ring behind.
func (r *Reader) Read(max int) ([]device.Event, uint64) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	size := uint64(len(b.ring))
	if b.total-r.next > size {
		r.dropped += b.total - r.next - size
		r.next = b.total - size
	}
	n := b.total - r.next
	if max > 0 && n > uint64(max) {
		n = uint64(max)
	}
	out := make([]device.Event, n)
	for i := range out {
		out[i] = b.ring[(r.next+uint64(i))%size]
	}
	r.next += n
	return out, r.dropped
}

// Dropped is how many events this reader missed.
func (r *Reader) Dropped() uint64 {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.dropped
}

// Close stops the reader; the bus forgets it.
func (r *Reader) Close() {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.readers = slices.DeleteFunc(slices.Clone(b.readers), func(x *Reader) bool { return x == r })
}
