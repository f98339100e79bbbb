package device

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tinylab/device/coapnet"
)

// Sender is the device's network toward remote peers: one non-confirmable
// POST, waiting a short while for the peer's (non-confirmable) answer.
// coapnet.Server is one; a device without it only counts remote bytes.
type Sender interface {
	Notify(ctx context.Context, t coapnet.Target, body []byte) (*coapnet.Response, error)
}

// notifyWait is how long, in wall time, a delivery waits for the peer's
// answer to its NON POST; peers are on loopback. Silence is no error: a
// NON request need not be answered.
const notifyWait = 500 * time.Millisecond

// maxDeliveries bounds the deliveries in flight per remote: a container
// writing faster than the network takes is dropped, as a radio queue would.
const maxDeliveries = 4

// remote is one remote peer the device sends to: a CoAP resource.
type remote struct {
	uri      string
	inflight int
	last     []byte // the peer's last answer: what read() returns
}

// remoteFor is the configured peer behind remote endpoint id n.
func (d *Device) remoteFor(n uint32) *remote {
	if d.remotes == nil {
		d.remotes = map[uint32]*remote{}
		for id, uri := range d.cfg.Remotes {
			d.remotes[id] = &remote{uri: uri}
		}
	}
	return d.remotes[n]
}

// sendRemote delivers a container's bytes to remote peer n for real: a
// task does the exchange off the world while the virtual clock holds,
// as a SUIT fetch does. The radio is charged by the caller; a link that
// loses the datagram sends nothing. It runs in the world.
func (c *Container) sendRemote(n uint32, data []byte) string {
	d := c.d
	r := d.remoteFor(n)
	s, ok := d.net.(Sender)
	switch {
	case r == nil:
		return fmt.Sprintf("sent %d bytes (remote %d has no address on this device)", len(data), n)
	case !ok:
		return fmt.Sprintf("sent %d bytes (the device has no network)", len(data))
	case d.link.Loss > 0 && d.rng.Float64() < d.link.Loss:
		return fmt.Sprintf("%d bytes to %s lost on the radio link", len(data), r.uri)
	case r.inflight >= maxDeliveries:
		return fmt.Sprintf("%d bytes to %s dropped: %d deliveries in flight", len(data), r.uri, r.inflight)
	}
	r.inflight++
	body := append([]byte(nil), data...)
	uid := c.UID
	d.env.Go(func(t Task) {
		defer func() { r.inflight-- }()
		tgt, err := d.resolve(t, r.uri)
		var resp *coapnet.Response
		if err == nil {
			// the task resumes after the datagram's air time, in the
			// future, so its order never depends on the wall time it took
			air := d.cfg.Energy.Airtime(len(body) + radioOverhead)
			werr := t.Await(func() time.Duration {
				ctx, cancel := context.WithTimeout(t.Context(), notifyWait)
				defer cancel()
				resp, err = s.Notify(ctx, tgt, body)
				return air
			})
			if werr != nil {
				return
			}
		}
		ev := CoAP{Dir: "out", Method: "POST", Path: r.uri}
		switch {
		case err == nil:
			ev.Code = resp.Code.String()
			r.last = resp.Body
		case errors.Is(err, context.DeadlineExceeded):
			ev.Code = "sent, no answer"
		default:
			ev.Code = "failed: " + err.Error()
		}
		d.emit(Actuator{Container: uid, Peer: fmt.Sprintf("remote %d", n), Text: fmt.Sprintf("delivered %d bytes to %s: %s", len(body), r.uri, ev.Code)})
	})
	return fmt.Sprintf("sent %d bytes to %s", len(data), r.uri)
}

// readRemote is what read() on remote endpoint n returns: the peer's last answer.
func (c *Container) readRemote(n uint32, buf []byte) uint64 {
	r := c.d.remoteFor(n)
	if r == nil {
		return 0
	}
	return uint64(copy(buf, r.last))
}
