package device

import (
	"context"
	"time"
)

// Env is the world a device lives in: its virtual clock, its scheduler, the
// lock that serializes it with every other device, and where its events go.
// The lab implements it over lab/sim; a device never reads wall time.
type Env interface {
	// Now is the virtual time.
	Now() time.Duration
	// NewTimer makes an unscheduled timer that runs fn in the world.
	NewTimer(fn func()) Timer
	// Go starts fn as a coroutine task at the current virtual time (updates).
	Go(fn func(Task)) Task
	// Do runs fn in the world from outside it (a CoAP handler goroutine).
	Do(fn func())
	// Emit hands an event to the lab. It must not block.
	Emit(Event)
}

// Timer is a rescheduleable call in virtual time.
type Timer interface {
	Reset(at time.Duration)
	Stop() bool
	Pending() bool
}

// Task is a coroutine that may sleep in virtual time and do real I/O.
type Task interface {
	Context() context.Context
	Now() time.Duration
	Sleep(d time.Duration) error
	// Await runs blocking network I/O off the world and resumes after the
	// virtual time fn returns (the exchange's modelled duration).
	Await(fn func() time.Duration) error
	Cancel()
	Done() bool
}
