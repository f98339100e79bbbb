package lab

import (
	"errors"
	"fmt"
	"sync"
)

// Provision loads and starts each named container on each device, as a
// fleet's provisioning tool does: every load and start is its own CoAP
// request, as Load and Start send, but up to provisionWindow of them are in
// flight at once. A fleet's setup is some 40,000 loopback round trips; one
// at a time they leave a core idle and pay the socket's wake-ups on every
// datagram.
//
// The order is fixed so that a run repeats itself: container by container,
// all loads, then all starts, each phase device by device in the order of
// ids. Requests travel concurrently but enter the world in that order (a
// turnstile in env.Do), so events, timers and draws are the same on every
// run. A device that is off or on a lossy link makes Provision go one
// request at a time instead (the lab draws losses in request order).
func (a Actor) Provision(ids, names []string) error {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return fmt.Errorf("provision: %s is listed twice", id)
		}
		seen[id] = true
	}
	nodes := make([]*Node, len(ids))
	ordered := true
	for i, id := range ids {
		n, err := a.l.node(id)
		if err != nil {
			return err
		}
		nodes[i] = n
		var on bool
		var loss float64
		a.l.world.Do(func() { on, loss = n.Dev.Powered(), n.Dev.Link().Loss })
		ordered = ordered && on && loss <= 0 && n.Sock != nil
	}
	for _, name := range names {
		for _, op := range []func(id string) error{
			func(id string) error { return a.Load(id, name) },
			func(id string) error { return a.Start(id, name) },
		} {
			var err error
			if ordered {
				err = a.l.inOrder(nodes, op)
			} else {
				for _, id := range ids {
					if err = op(id); err != nil {
						break
					}
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Provision loads and starts containers on devices as the owner.
func (l *Lab) Provision(ids, names []string) error { return l.As(l.acting()).Provision(ids, names) }

// provisionWindow is how many requests Provision keeps in flight.
const provisionWindow = 8

// inOrder runs op for every node, several at once, the effects entering
// the world in the nodes' order. It returns the first error in that order.
//
// go-coap handles the requests of one peer socket one after another, and a
// request waiting its turn holds its peer's queue: two requests in flight
// between the same pair of sockets could each wait for the other. So a
// request goes out only when no other is in flight between its sockets.
func (l *Lab) inOrder(nodes []*Node, op func(id string) error) error {
	t := newTurnstile(nodes)
	if !l.order.CompareAndSwap(nil, t) {
		return errors.New("provision: another provisioning is running")
	}
	defer l.order.Store(nil)
	type pair struct{ client, server any }
	var (
		mu     sync.Mutex
		free   = sync.NewCond(&mu)
		busy   = map[pair]bool{}
		flying int
		errs   = make([]error, len(nodes))
		wg     sync.WaitGroup
	)
	for i, n := range nodes {
		p := pair{n.client, n.Sock}
		mu.Lock()
		for flying >= provisionWindow || busy[p] {
			free.Wait()
		}
		busy[p] = true
		flying++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = op(n.Spec.ID)
			// a request that never reached the world must not hold up the
			// ones behind it
			t.finish(i)
			mu.Lock()
			delete(busy, p)
			flying--
			free.Broadcast()
			mu.Unlock()
		}()
	}
	wg.Wait()
	return firstError(errs)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// turnstile admits each device's request into the world in a fixed order.
type turnstile struct {
	mu    sync.Mutex
	turn  *sync.Cond
	place map[string]int // device id → its place, until its request is done
	ids   []string
	done  []bool
	next  int // the first place not done
}

func newTurnstile(nodes []*Node) *turnstile {
	t := &turnstile{place: make(map[string]int, len(nodes)), ids: make([]string, len(nodes)), done: make([]bool, len(nodes))}
	t.turn = sync.NewCond(&t.mu)
	for i, n := range nodes {
		t.place[n.Spec.ID] = i
		t.ids[i] = n.Spec.ID
	}
	return t
}

// enter waits until the device's request is next; false when the device
// has no request waiting its turn (any other work of the world passes).
func (t *turnstile) enter(id string) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.place[id]
	if !ok || t.done[i] {
		return 0, false
	}
	for t.next != i {
		t.turn.Wait()
	}
	return i, true
}

// finish marks a place done, its request answered or given up.
func (t *turnstile) finish(i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done[i] {
		return
	}
	t.done[i] = true
	delete(t.place, t.ids[i])
	for t.next < len(t.done) && t.done[t.next] {
		t.next++
	}
	t.turn.Broadcast()
}
