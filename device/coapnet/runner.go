package coapnet

import (
	"sync"
	"time"
)

// Runner runs the periodic housekeeping of every server it is given (go-coap's
// inactivity monitors and response-cache expiry) from one goroutine, instead
// of one ticker goroutine per server.
type Runner struct {
	mu      sync.Mutex
	fns     []func(time.Time) bool
	started bool
	every   time.Duration
}

// NewRunner makes a runner that ticks every d (go-coap's default is 4 s).
func NewRunner(d time.Duration) *Runner { return &Runner{every: d} }

// Func is the periodic.Func to give go-coap (options.WithPeriodicRunner).
func (r *Runner) Func() func(func(time.Time) bool) {
	return func(f func(time.Time) bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.fns = append(r.fns, f)
		if !r.started {
			r.started = true
			go r.loop()
		}
	}
}

func (r *Runner) loop() {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for now := range t.C {
		r.mu.Lock()
		fns := r.fns[:0]
		for _, f := range r.fns {
			if f(now) {
				fns = append(fns, f)
			}
		}
		clear(r.fns[len(fns):])
		r.fns = fns
		r.mu.Unlock()
	}
}

// shared is the runner used by servers that are not given one.
var shared = NewRunner(4 * time.Second)
