package device

import (
	"bytes"
	"encoding/json"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"
)

// maxObservers bounds the registrations a device keeps, as a constrained
// device would (gcoap's CONFIG_GCOAP_OBS_REGISTRATIONS_MAX is 2).
const maxObservers = 8

// observers are the RFC 7641 registrations on /containers and
// /containers/{uid}. Notifications go out as non-confirmable messages on each
// state change: a stream must not ride long-lived CON exchanges.
type observers struct {
	list []*observer
}

type observer struct {
	conn  mux.Conn
	token message.Token
	uid   string // "" observes the whole list
	seq   uint32
	cf    message.MediaType
}

// update registers (observe 0) or deregisters (observe 1) the requester and
// answers with the Observe option when it is registered. It runs in the world.
func (o *observers) update(w mux.ResponseWriter, r *mux.Message, uid string, obs uint32, cf message.MediaType) {
	conn, tok := w.Conn(), r.Token()
	peer := conn.RemoteAddr().String()
	for i, ob := range o.list {
		if ob.conn.RemoteAddr().String() == peer && ob.uid == uid {
			o.list = append(o.list[:i], o.list[i+1:]...)
			break
		}
	}
	if obs != 0 {
		return
	}
	if len(o.list) >= maxObservers {
		o.list = o.list[1:]
	}
	ob := &observer{conn: conn, token: append(message.Token(nil), tok...), uid: uid, seq: 2, cf: cf}
	o.list = append(o.list, ob)
	w.Message().SetObserve(ob.seq)
}

// notify sends the new state to the observers of a container whose state
// changed. It runs in the world; a failed send drops the registration.
func (o *observers) notify(d *Device, p Payload) {
	if len(o.list) == 0 {
		return
	}
	sc, ok := p.(StateChange)
	if !ok {
		return
	}
	var kept []*observer
	for _, ob := range o.list {
		if ob.uid != "" && ob.uid != sc.Container {
			kept = append(kept, ob)
			continue
		}
		var v any
		if ob.uid == "" {
			list := []ContainerInfo{}
			for _, c := range d.Containers() {
				list = append(list, c.Info())
			}
			v = list
		} else if c := d.container(ob.uid); c != nil {
			v = c.Info()
		} else {
			v = ContainerInfo{UID: sc.Container, State: sc.To.String(), Reason: sc.Reason}
		}
		if ob.send(v) == nil {
			kept = append(kept, ob)
		}
	}
	o.list = kept
}

func (ob *observer) send(v any) error {
	var b []byte
	var err error
	cf := ob.cf
	switch cf {
	case message.AppJSON:
		b, err = json.Marshal(v)
	case message.TextPlain:
		if list, ok := v.([]ContainerInfo); ok {
			b = []byte(containersText(list))
		} else {
			b = []byte(containersText([]ContainerInfo{v.(ContainerInfo)}))
		}
	default:
		b, err = cborEnc.Marshal(v)
	}
	if err != nil {
		return err
	}
	ob.seq = (ob.seq + 1) & 0xffffff
	m := ob.conn.AcquireMessage(ob.conn.Context())
	defer ob.conn.ReleaseMessage(m)
	m.SetCode(codes.Content)
	m.SetType(message.NonConfirmable)
	m.SetToken(ob.token)
	m.SetObserve(ob.seq)
	m.SetContentFormat(cf)
	m.SetBody(bytes.NewReader(b))
	return ob.conn.WriteMessage(m)
}

// peerRunning tells the firewall whether a peer container is running. The
// firewall calls it with its lock held; it only reads the container table.
func (d *Device) peerRunning(uid string) bool {
	c := d.container(uid)
	return c != nil && c.State == Running
}
