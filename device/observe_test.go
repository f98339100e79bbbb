package device

import (
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/udp/coder"
)

// rawPeer is a CoAP client written at the message level, so the tests see
// the type, message id and options of every datagram the device sends.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	dev  *net.UDPAddr
	mid  uint16
}

func newRawPeer(t *testing.T, dev *net.UDPAddr) *rawPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{t: t, conn: conn, dev: dev, mid: 0x1000}
}

func (p *rawPeer) send(m message.Message) {
	p.t.Helper()
	size, err := coder.DefaultCoder.Size(m)
	if err != nil {
		p.t.Fatal(err)
	}
	b := make([]byte, size)
	if _, err := coder.DefaultCoder.Encode(m, b); err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDP(b, p.dev); err != nil {
		p.t.Fatal(err)
	}
}

// get sends a GET of path; observe < 0 leaves the Observe option out.
func (p *rawPeer) get(typ message.Type, tok string, path string, observe int, accept int) {
	p.mid++
	var opts message.Options
	buf := make([]byte, 64)
	opts, n, _ := opts.SetPath(buf, path)
	buf = buf[n:]
	if observe >= 0 {
		opts, n, _ = opts.SetUint32(buf, message.Observe, uint32(observe))
		buf = buf[n:]
	}
	if accept >= 0 {
		opts, _, _ = opts.SetUint32(buf, message.Accept, uint32(accept))
	}
	p.send(message.Message{Type: typ, Code: codes.GET, MessageID: int32(p.mid), Token: message.Token(tok), Options: opts})
}

// recv waits up to d for a datagram; ok is false when none came.
func (p *rawPeer) recv(d time.Duration) (message.Message, bool) {
	p.t.Helper()
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		return message.Message{}, false
	}
	m := message.Message{Options: make(message.Options, 0, 16)}
	if _, err := coder.DefaultCoder.Decode(buf[:n], &m); err != nil {
		p.t.Fatalf("undecodable datagram %x: %v", buf[:n], err)
	}
	return m, true
}

func (p *rawPeer) must(what string) message.Message {
	p.t.Helper()
	m, ok := p.recv(3 * time.Second)
	if !ok {
		p.t.Fatalf("%s: no datagram from the device", what)
	}
	return m
}

func observeOf(m message.Message) (uint32, bool) {
	v, err := m.Options.GetUint32(message.Observe)
	return v, err == nil
}

func (c *coapRig) observers() int {
	n := 0
	c.do(func() { n = len(c.d.observers.list) })
	return n
}

// TestObserveMessages follows RFC 7641 at the message level: the answer to a
// registration carries Observe, state changes and heartbeats are notified
// with increasing Observe values, an RST ends the registration, and so does
// a GET with Observe 1; a NON request gets a NON answer; an Accept the
// resource does not offer gets 4.06.
func TestObserveMessages(t *testing.T) {
	c := newCoAPRig(t)
	c.load(spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}})
	p := newRawPeer(t, c.sock.Addr())

	p.get(message.Confirmable, "ob1", "/containers/coach", 0, int(message.TextPlain))
	first := p.must("registration")
	obs, ok := observeOf(first)
	if first.Type != message.Acknowledgement || first.Code != codes.Content || string(first.Token) != "ob1" || !ok {
		t.Fatalf("registration answer: %v %v token %q observe %v (%d)", first.Type, first.Code, first.Token, ok, obs)
	}
	if n := c.observers(); n != 1 {
		t.Fatalf("%d registrations after GET Observe:0", n)
	}

	c.do(func() { _ = c.d.Start("coach") })
	sawRunning, beats := false, 0
	last := obs
	for !sawRunning || beats < 2 {
		if !sawRunning {
			c.advance(10 * time.Millisecond)
		} else {
			c.advance(time.Second)
		}
		for {
			n, ok := p.recv(200 * time.Millisecond)
			if !ok {
				break
			}
			v, has := observeOf(n)
			if !has || v <= last || string(n.Token) != "ob1" || n.Code != codes.Content {
				t.Fatalf("notification: %v token %q observe %v %d after %d", n.Code, n.Token, has, v, last)
			}
			if n.Type == message.Confirmable {
				p.send(message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: n.MessageID})
			}
			last = v
			if sawRunning {
				beats++
			}
			if string(n.Payload[:len("coach RUNNING")]) == "coach RUNNING" {
				sawRunning = true
			}
		}
	}

	// An RST to a notification cancels (RFC 7641 §3.6): nothing more comes.
	c.advance(time.Second)
	n := p.must("notification before the RST")
	p.send(message.Message{Type: message.Reset, Code: codes.Empty, MessageID: n.MessageID})
	deadline := time.Now().Add(2 * time.Second)
	for c.observers() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if k := c.observers(); k != 0 {
		t.Fatalf("%d registrations after an RST", k)
	}
	c.advance(2 * time.Second)
	if m, ok := p.recv(300 * time.Millisecond); ok {
		t.Fatalf("the device answered the RST or notified after it: %v %v", m.Type, m.Code)
	}

	// Deregistration with Observe 1: answered without Observe, then silence.
	p.get(message.Confirmable, "ob2", "/containers", 0, -1)
	if m := p.must("registration on /containers"); !hasObserve(m) {
		t.Fatal("the answer to a registration on /containers has no Observe")
	}
	p.get(message.Confirmable, "ob2", "/containers", 1, -1)
	for {
		m := p.must("deregistration")
		if m.Type == message.Acknowledgement {
			if hasObserve(m) || m.Code != codes.Content {
				t.Fatalf("deregistration answer: %v, observe %v", m.Code, hasObserve(m))
			}
			break
		}
	}
	if k := c.observers(); k != 0 {
		t.Fatalf("%d registrations after GET Observe:1", k)
	}

	// A NON request is answered NON (RFC 7252 §5.2.3).
	p.get(message.NonConfirmable, "non", "/riot/board", -1, -1)
	if m := p.must("NON GET"); m.Type != message.NonConfirmable || m.Code != codes.Content || string(m.Token) != "non" {
		t.Fatalf("NON GET answered %v %v token %q", m.Type, m.Code, m.Token)
	}

	// A duplicate of a NON request (same message id) is dropped (RFC 7252 §4.5).
	p.get(message.NonConfirmable, "dup", "/riot/board", -1, -1)
	p.must("NON GET")
	p.mid--
	p.get(message.NonConfirmable, "dup", "/riot/board", -1, -1)
	if m, ok := p.recv(300 * time.Millisecond); ok {
		t.Fatalf("a duplicate NON request was answered: %v %v", m.Type, m.Code)
	}

	// An Accept no representation has: 4.06, and no registration.
	for _, path := range []string{"/containers/coach", "/suit/status", "/.well-known/core"} {
		p.get(message.Confirmable, "acc", path, 0, 42)
		if m := p.must("Accept 42"); m.Code != codes.NotAcceptable || hasObserve(m) {
			t.Fatalf("%s with Accept 42: %v observe %v", path, m.Code, hasObserve(m))
		}
	}
	if k := c.observers(); k != 0 {
		t.Fatalf("an unacceptable GET registered: %d", k)
	}

	// A deleted container ends its observations with a 4.04 (RFC 7641 §3.2).
	p.get(message.Confirmable, "ob3", "/containers/coach", 0, int(message.TextPlain))
	if m := p.must("registration before the delete"); !hasObserve(m) {
		t.Fatal("no Observe in the registration's answer")
	}
	var err error
	c.do(func() {
		if err = c.d.Stop("coach"); err == nil {
			err = c.d.Delete("coach")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m := p.must("the 4.04 that ends the observation")
		if m.Type == message.Confirmable {
			p.send(message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: m.MessageID})
		}
		if m.Code == codes.NotFound {
			if string(m.Token) != "ob3" || hasObserve(m) {
				t.Fatalf("4.04 with token %q, observe %v", m.Token, hasObserve(m))
			}
			break
		}
	}
	if k := c.observers(); k != 0 {
		t.Fatalf("%d registrations after the container was deleted", k)
	}
}

func hasObserve(m message.Message) bool { _, ok := observeOf(m); return ok }

// TestObserveSuitStatus: /suit/status is observable (RFC 7641) as the
// container list is: each check of an update and its result are notified, the
// last notification carrying the stored sequence number and SUIT_OK.
func TestObserveSuitStatus(t *testing.T) {
	c := newCoAPRig(t)
	p := newRawPeer(t, c.sock.Addr())
	p.get(message.Confirmable, "st", "/suit/status", 0, int(message.AppJSON))
	first := p.must("registration")
	obs, ok := observeOf(first)
	if first.Code != codes.Content || !ok {
		t.Fatalf("registration answer: %v, observe %v", first.Code, ok)
	}
	uri := c.publish(release{s: spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}}, seq: 1})
	if res := c.update(uri); res.Code != 0 {
		t.Fatalf("update: %+v", res)
	}
	var last message.Message
	n := 0
	for {
		m, ok := p.recv(300 * time.Millisecond)
		if !ok {
			break
		}
		v, has := observeOf(m)
		if !has || string(m.Token) != "st" {
			t.Fatalf("notification %d: observe %v, token %q", n, has, m.Token)
		}
		if m.Type == message.Confirmable {
			p.send(message.Message{Type: message.Acknowledgement, Code: codes.Empty, MessageID: m.MessageID})
		}
		// A confirmable notification travels off the world and may arrive
		// after newer ones: a client keeps the freshest (RFC 7641 §3.4).
		if v <= obs {
			t.Logf("stale notification %d after %d (%v)", v, obs, m.Type)
			continue
		}
		obs, last = v, m
		n++
	}
	if n < 5 {
		t.Fatalf("%d notifications for a whole update, want one per check and the result", n)
	}
	var doc struct {
		SeqNo uint64 `json:"seq_no"`
		Last  struct {
			Result string `json:"result"`
		} `json:"last"`
	}
	if err := json.Unmarshal(last.Payload, &doc); err != nil || doc.SeqNo != 1 || doc.Last.Result != "SUIT_OK" {
		t.Fatalf("last notification %s (%v): want seq_no 1 and SUIT_OK", last.Payload, err)
	}
}
