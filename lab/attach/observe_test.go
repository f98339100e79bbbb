package attach

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"

	"tinylab/device"
	"tinylab/device/coapnet"
)

// observable is a peer that registers observers as RFC 7641 says (the 2.05
// answer to Observe 0 carries the Observe option) and notifies them when
// told: it checks the attacher's Observe path on its own, whatever the
// device's resources do today.
type observable struct {
	mu    sync.Mutex
	state string
	obs   []func(state string)
	seq   uint32
}

func (o *observable) list() []byte {
	b, _ := cbor.Marshal([]device.ContainerInfo{{UID: "coach", State: o.state}})
	return b
}

func (o *observable) handler() mux.Handler {
	return mux.HandlerFunc(func(w mux.ResponseWriter, r *mux.Message) {
		path, _ := r.Options().Path()
		path = strings.Trim(path, "/")
		o.mu.Lock()
		defer o.mu.Unlock()
		switch path {
		case "riot/board":
			_ = w.SetResponse(codes.Content, message.TextPlain, bytes.NewReader([]byte("native")))
		case "suit/status":
			b, _ := cbor.Marshal(SuitDoc{SeqNo: 1, State: "idle"})
			_ = w.SetResponse(codes.Content, message.AppCBOR, bytes.NewReader(b))
			if v, err := r.Options().Observe(); err == nil && v == 0 {
				w.Message().SetObserve(2) // after SetResponse, which resets the options
			}
		case "containers":
			if v, err := r.Options().Observe(); err == nil && v == 0 {
				conn, tok := w.Conn(), append(message.Token(nil), r.Token()...)
				o.obs = append(o.obs, func(state string) {
					o.seq++
					m := conn.AcquireMessage(conn.Context())
					defer conn.ReleaseMessage(m)
					m.SetCode(codes.Content)
					m.SetType(message.NonConfirmable)
					m.SetToken(tok)
					m.SetObserve(o.seq + 2)
					m.SetContentFormat(message.AppCBOR)
					m.SetBody(bytes.NewReader(o.list()))
					_ = conn.WriteMessage(m)
				})
			}
			_ = w.SetResponse(codes.Content, message.AppCBOR, bytes.NewReader(o.list()))
			if v, err := r.Options().Observe(); err == nil && v == 0 {
				w.Message().SetObserve(2)
			}
		default:
			_ = w.SetResponse(codes.NotFound, message.TextPlain, nil)
		}
	})
}

func (o *observable) set(state string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.state = state
	for _, fn := range o.obs {
		fn(state)
	}
}

func TestObservedChangesArriveWithoutPolling(t *testing.T) {
	o := &observable{state: "RUNNING"}
	srv, err := coapnet.Listen("127.0.0.1:0", o.handler(), coapnet.Options{})
	must(t, err)
	defer srv.Close()
	var ev log
	u, err := NewUDP("127.0.0.1:0")
	must(t, err)
	defer u.Close()
	// a probe far slower than the test: only a notification can be in time
	a := New(Options{Dialer: u, Probe: time.Minute, Timeout: time.Second, OnEvent: ev.add})
	defer a.Close()
	must(t, a.Attach("obs", srv.URI()))
	eventually(t, 3*time.Second, "observing", func() bool { r := remote(a, "obs"); return r.Observing && stateOf(r, "coach") == "RUNNING" })
	o.set("READY")
	took := eventually(t, 2*time.Second, "the notification", func() bool { return stateOf(remote(a, "obs"), "coach") == "READY" })
	t.Logf("notification to view: %s", took)
}

// TestObservationsAreRenewed: a peer that forgot its observers (it
// restarted between two pings) is observed again within reobserveEvery
// probes, and its changes arrive again.
func TestObservationsAreRenewed(t *testing.T) {
	o := &observable{state: "RUNNING"}
	srv, err := coapnet.Listen("127.0.0.1:0", o.handler(), coapnet.Options{})
	must(t, err)
	defer srv.Close()
	u, err := NewUDP("127.0.0.1:0")
	must(t, err)
	defer u.Close()
	a := New(Options{Dialer: u, Probe: 20 * time.Millisecond, Timeout: time.Second})
	defer a.Close()
	must(t, a.Attach("obs", srv.URI()))
	eventually(t, 3*time.Second, "observing", func() bool { return remote(a, "obs").Observing })
	o.mu.Lock()
	o.obs = nil // forgotten, as by a restart
	o.mu.Unlock()
	eventually(t, 3*time.Second, "observed again", func() bool { o.mu.Lock(); defer o.mu.Unlock(); return len(o.obs) > 0 })
	o.set("READY")
	eventually(t, 2*time.Second, "the change", func() bool { return stateOf(remote(a, "obs"), "coach") == "READY" })
}
