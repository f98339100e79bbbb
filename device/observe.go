package device

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"

	"tinylab/device/authz"
)

// maxObservers bounds the registrations a device keeps, as a constrained
// device would (gcoap's CONFIG_GCOAP_OBS_REGISTRATIONS_MAX is 2).
const maxObservers = 8

// conEvery makes every n-th notification confirmable. RFC 7641 §4.5 asks for
// a confirmable one now and then so that a client that went away is noticed:
// without it a device would stream to a closed port for ever.
const conEvery = 4

// conTimeout is how long a confirmable notification may wait for its ACK:
// go-coap's four retransmissions at the device's 2 s ACK timeout end by then.
const conTimeout = 12 * time.Second

// observers are the RFC 7641 registrations on /containers and
// /containers/{uid}, notified on each state change and heartbeat, and on
// /suit/status, notified on each SUIT check and result. Notifications go out
// non-confirmable except every conEvery-th: a stream must not ride
// long-lived CON exchanges.
type observers struct {
	list []*observer
}

type observer struct {
	conn    mux.Conn
	token   message.Token
	path    string
	uid     string // "" observes the whole list
	seq     uint32
	cf      message.MediaType
	sent    int         // notifications sent
	lastMID int32       // message id of the newest notification, which an RST names
	pending bool        // a confirmable notification awaits its ACK
	party   authz.Party // whose view of the list it gets
}

// update registers (observe 0) or deregisters (observe 1) the requester and
// returns the Observe option the answer carries when it is registered. It
// runs in the world.
func (o *observers) update(d *Device, w mux.ResponseWriter, r *mux.Message, path, uid string, obs uint32, cf message.MediaType, p authz.Party) []message.Option {
	conn, tok := w.Conn(), r.Token()
	peer := conn.RemoteAddr().String()
	was := false
	for i, ob := range o.list {
		if ob.conn.RemoteAddr().String() == peer && ob.path == path && ob.uid == uid {
			o.list = append(o.list[:i], o.list[i+1:]...)
			was = true
			break
		}
	}
	if obs != 0 {
		if was {
			d.emit(CoAP{Dir: "in", Method: "GET", Path: path, Code: "observation cancelled by the client", Peer: peer})
		}
		return nil
	}
	if len(o.list) >= maxObservers {
		o.list = o.list[1:]
	}
	ob := &observer{conn: conn, token: append(message.Token(nil), tok...), path: path, uid: uid, seq: 2, cf: cf, lastMID: -1, party: p}
	o.list = append(o.list, ob)
	what := "observing: notifications on state changes and heartbeats"
	if path == statusPath {
		what = "observing: notifications on each SUIT check and result"
	}
	d.emit(CoAP{Dir: "in", Method: "GET", Path: path, Code: what, Peer: peer})
	buf := make([]byte, 4)
	n, _ := message.EncodeUint32(buf, ob.seq)
	return []message.Option{{ID: message.Observe, Value: buf[:n]}}
}

// reset handles an RST from peer: a client answering a notification it does
// not want any more (RFC 7641 §3.6) loses its registration.
func (o *observers) reset(d *Device, conn mux.Conn, mid int32) {
	peer := conn.RemoteAddr().String()
	for i, ob := range o.list {
		if ob.conn.RemoteAddr().String() == peer && ob.lastMID == mid {
			o.list = append(o.list[:i], o.list[i+1:]...)
			d.emit(CoAP{Dir: "out", Method: "notify", Path: ob.path, Code: "RST from the client: observation dropped", Peer: peer})
			return
		}
	}
}

// drop removes ob after a confirmable notification went unanswered. It runs
// in the world.
func (o *observers) drop(d *Device, ob *observer) {
	for i, x := range o.list {
		if x == ob {
			o.list = append(o.list[:i], o.list[i+1:]...)
			d.emit(CoAP{Dir: "out", Method: "notify", Path: ob.path, Code: "no ACK to a confirmable notification: observation dropped", Peer: ob.conn.RemoteAddr().String()})
			return
		}
	}
}

// notify sends the new representation to the observers of a container whose
// state changed or that beat. It runs in the world; a failed send drops the
// registration.
func (o *observers) notify(d *Device, p Payload) {
	if len(o.list) == 0 {
		return
	}
	var uid string
	suit := false
	switch e := p.(type) {
	case StateChange:
		uid = e.Container
	case Heartbeat:
		uid = e.Container
	case SuitStep, SuitResult:
		suit = true
	default:
		return
	}
	var kept []*observer
	for _, ob := range o.list {
		if (ob.path == statusPath) != suit || ob.uid != "" && ob.uid != uid {
			kept = append(kept, ob)
			continue
		}
		if suit {
			if ob.send(d, d.statusDoc(), d.statusText) == nil {
				kept = append(kept, ob)
			}
			continue
		}
		if sc, ok := p.(StateChange); ok && ob.uid != "" && sc.To == Empty {
			// the resource is gone: a 4.04 ends the observation (RFC 7641 §3.2)
			ob.gone(d, "container "+sc.Container+" deleted: "+sc.Reason)
			continue
		}
		var list []ContainerInfo
		if ob.uid == "" {
			list = d.listFor(ob.party)
		} else if c := d.container(ob.uid); c != nil {
			list = []ContainerInfo{c.Info()}
		} else if sc, ok := p.(StateChange); ok {
			list = []ContainerInfo{{UID: sc.Container, State: sc.To.String(), Reason: sc.Reason}}
		} else {
			continue
		}
		var v any = list
		if ob.uid != "" {
			v = list[0]
		}
		if ob.send(d, v, func() string { return containersText(list) }) == nil {
			kept = append(kept, ob)
		}
	}
	o.list = kept
}

// gone sends the 4.04 that ends an observation of a deleted resource. The
// error carries no Observe option; the registration is over either way.
func (ob *observer) gone(d *Device, why string) {
	m := ob.conn.AcquireMessage(ob.conn.Context())
	defer ob.conn.ReleaseMessage(m)
	m.SetCode(codes.NotFound)
	m.SetType(message.NonConfirmable)
	m.SetToken(ob.token)
	m.SetContentFormat(message.TextPlain)
	m.SetBody(bytes.NewReader([]byte(why)))
	_ = ob.conn.WriteMessage(m)
	d.emit(CoAP{Dir: "out", Method: "notify", Path: ob.path, Code: "4.04 Not Found: observation ended", Peer: ob.conn.RemoteAddr().String()})
}

func (ob *observer) send(d *Device, v any, plain func() string) error {
	var b []byte
	var err error
	cf := ob.cf
	switch cf {
	case message.AppJSON:
		b, err = json.Marshal(v)
	case message.TextPlain:
		b = []byte(plain())
	default:
		b, err = cborEnc.Marshal(v)
	}
	if err != nil {
		return err
	}
	ob.seq = (ob.seq + 1) & 0xffffff
	ob.sent++
	confirm := ob.sent%conEvery == 0 && !ob.pending
	ctx := ob.conn.Context()
	cancel := context.CancelFunc(func() {})
	if confirm {
		ctx, cancel = context.WithTimeout(ctx, conTimeout)
	}
	m := ob.conn.AcquireMessage(ctx)
	if ids, ok := ob.conn.(interface{ GetMessageID() int32 }); ok {
		m.SetMessageID(ids.GetMessageID())
	}
	ob.lastMID = m.MessageID()
	m.SetCode(codes.Content)
	m.SetToken(ob.token)
	m.SetObserve(ob.seq)
	m.SetContentFormat(cf)
	m.SetBody(bytes.NewReader(b))
	if !confirm {
		defer cancel()
		defer ob.conn.ReleaseMessage(m)
		m.SetType(message.NonConfirmable)
		return ob.conn.WriteMessage(m)
	}
	// go-coap waits for the ACK: off the world, which must not block.
	m.SetType(message.Confirmable)
	ob.pending = true
	go func() {
		defer cancel()
		err := ob.conn.WriteMessage(m)
		ob.conn.ReleaseMessage(m)
		d.env.Do(func() {
			ob.pending = false
			if err != nil {
				d.observers.drop(d, ob)
			}
		})
	}()
	return nil
}

// peerRunning tells the firewall whether a peer container is running. The
// firewall calls it with its lock held; it only reads the container table.
func (d *Device) peerRunning(uid string) bool {
	c := d.container(uid)
	return c != nil && c.State == Running
}
