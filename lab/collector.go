package lab

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

// CollectorHost is the name devices of the lab reach the collector by:
// coap://collector.localhost/PATH.
const CollectorHost = "collector.localhost"

// Delivery is what the collector holds from one device on one path: the
// last bytes it received and how many datagrams came.
type Delivery struct {
	Device string
	Path   string
	Last   []byte
	Count  int
}

func (d Delivery) String() string {
	return fmt.Sprintf("%s %s: %d received, last %x", d.Device, d.Path, d.Count, d.Last)
}

// collector is the lab's own CoAP endpoint for remote endpoints (a mapping
// company's server): it answers each POST with 2.04 and keeps the last
// value per device and path. It lives outside the world: what it received
// is shown, never put in the transcript, whose delivery events come from
// the devices in virtual time.
type collector struct {
	srv *coapnet.Stateless
	mu  sync.Mutex
	got map[[2]string]*Delivery
}

func (l *Lab) startCollector() error {
	c := &collector{got: map[[2]string]*Delivery{}}
	srv, err := coapnet.ListenStateless(net.JoinHostPort(l.opts.Host, "0"), func(r *coapnet.Request) *coapnet.Reply {
		if r.Code != codes.POST && r.Code != codes.PUT {
			return &coapnet.Reply{Code: codes.MethodNotAllowed, Body: []byte("the collector takes POST")}
		}
		from := l.deviceAt(r.Peer)
		c.mu.Lock()
		k := [2]string{from, r.Path}
		d := c.got[k]
		if d == nil {
			d = &Delivery{Device: from, Path: r.Path}
			c.got[k] = d
		}
		d.Last = append([]byte(nil), r.Payload...)
		d.Count++
		c.mu.Unlock()
		return &coapnet.Reply{Code: codes.Changed, Format: message.TextPlain}
	})
	if err != nil {
		return err
	}
	c.srv = srv
	l.collector = c
	return nil
}

// deviceAt names the device whose socket addr is, or the address itself.
func (l *Lab) deviceAt(addr *net.UDPAddr) string {
	for _, n := range l.Nodes() {
		if n.Sock != nil && n.Sock.Addr().String() == addr.String() {
			return n.Spec.ID
		}
	}
	return addr.String()
}

// Collected is what the collector holds, by device and path.
func (l *Lab) Collected() []Delivery {
	c := l.collector
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Delivery, 0, len(c.got))
	for _, d := range c.got {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		return strings.Compare(a.Device+" "+a.Path, b.Device+" "+b.Path)
	})
	return out
}

// CollectorURI is the collector's real address, for peers outside the lab.
func (l *Lab) CollectorURI() string { return l.collector.srv.URI() }
