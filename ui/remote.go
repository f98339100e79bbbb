package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"tinylab/device"
	"tinylab/lab/attach"
)

// remotes are devices attached from other processes or machines, shown
// beside the lab's own: they outlive rebuilds of the lab (they are not the
// scenario's), run in real time, and their reports join the event log.
type remotes struct {
	a      *attach.Attacher
	udp    *attach.UDP
	secure *attach.DTLS // coaps:// devices, as one party (nil: none)
	stop   context.CancelFunc

	// own is set when rd is the UI's own gateway: the scenario's devices it
	// lists are not attached again
	own bool

	mu     sync.Mutex
	events []device.Event
	notes  []string // RD problems, said once
	said   map[string]bool
}

// attachRemotes follows the devices at uris and, when rd is set, those the
// RD lists (looked at again every 5 s).
func attachRemotes(rd string, own bool, uris []string, secure *attach.DTLS) (*remotes, error) {
	udp, err := attach.NewUDP("0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	r := &remotes{udp: udp, secure: secure, said: map[string]bool{}, own: own}
	dialer := attach.Schemes{"coap": udp}
	if secure != nil {
		dialer["coaps"] = secure
	}
	r.a = attach.New(attach.Options{Dialer: dialer, OnEvent: func(e device.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}})
	for _, u := range uris {
		if err := r.a.Attach("", u); err != nil {
			r.close()
			return nil, err
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	if rd != "" {
		go r.followRD(ctx, rd)
	}
	return r, nil
}

func (r *remotes) followRD(ctx context.Context, rd string) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		var keep func(attach.Found) bool
		if r.own {
			keep = func(f attach.Found) bool { return !strings.HasPrefix(f.Reg, "/lab/rd/") }
		}
		_, errs := r.a.AttachRDWhere(c, rd, keep)
		cancel()
		r.mu.Lock()
		for _, err := range errs {
			if !r.said[err.Error()] {
				r.said[err.Error()] = true
				r.notes = append(r.notes, err.Error())
			}
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain takes the reports since the last frame.
func (r *remotes) drain() []device.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// summaries are the attached devices as the device list shows them.
func (r *remotes) summaries() []device.Summary {
	var out []device.Summary
	for _, d := range r.a.Devices() {
		s := device.Summary{ID: d.Name, Board: d.Board, Powered: d.Live, BatteryPermille: 1000, Remote: "live", LastResult: d.Suit.Last.Code}
		if !d.Live {
			s.Remote = "unreachable since " + d.Since.Format(time.TimeOnly)
		}
		if s.Board == "" {
			s.Board = "?"
		}
		for _, c := range d.Containers {
			st, _ := device.ParseState(c.State)
			s.Containers = append(s.Containers, device.ContainerBrief{UID: c.UID, State: st, LastBeat: -1, Denied: c.Denied})
			s.Denied += c.Denied
		}
		out = append(out, s)
	}
	return out
}

// detail is an attached device as the device pane shows it: its containers
// as it reported them, its board's profile when tinylab knows the board.
func (r *remotes) detail(name string) *device.Snapshot {
	for _, d := range r.a.Devices() {
		if d.Name != name {
			continue
		}
		b, err := device.LookupBoard(d.Board)
		if err != nil {
			b = device.Board{Name: d.Board}
		}
		return &device.Snapshot{ID: d.Name, Board: b, Powered: d.Live, BatteryPermille: 1000, Containers: d.Containers}
	}
	return nil
}

// command runs a command line on an attached device when it names one:
// start|stop|restart|delete DEVICE UID, update DEVICE URI, get DEVICE PATH.
func (r *remotes) command(line string) (out string, handled bool, err error) {
	f := strings.Fields(line)
	if len(f) != 3 || !r.has(f[1]) {
		return "", false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch f[0] {
	case "start", "stop", "restart", "delete":
		return "", true, r.a.Command(ctx, f[1], f[0], f[2])
	case "update":
		return "", true, r.a.Update(ctx, f[1], f[2])
	case "get":
		resp, err := r.a.Get(ctx, f[1], f[2], 0)
		if err != nil {
			return "", true, err
		}
		return fmt.Sprintf("%d.%02d %s", resp.Code>>5, resp.Code&31, resp.Body), true, nil
	}
	return "", true, fmt.Errorf("%s is attached: start, stop, restart, delete, update or get", f[1])
}

func (r *remotes) has(name string) bool {
	for _, d := range r.a.Devices() {
		if d.Name == name {
			return true
		}
	}
	return false
}

func (r *remotes) close() {
	if r.stop != nil {
		r.stop()
	}
	r.a.Close()
	r.udp.Close()
	if r.secure != nil {
		r.secure.Close()
	}
}
