package device

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

// coapRig is a device behind its real socket and a client socket.
type coapRig struct {
	*suitRig
	cli *coapnet.Server
}

func newCoAPRig(t testing.TB) *coapRig {
	t.Helper()
	sr := newSuitRig(t, nil)
	cli, err := coapnet.Listen("127.0.0.1:0", nil, coapnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cli.Close)
	return &coapRig{suitRig: sr, cli: cli}
}

func (c *coapRig) req(code codes.Code, path string, body []byte, opts ...message.Option) *coapnet.Response {
	c.t.Helper()
	tgt, err := coapnet.ParseURI(c.sock.URI() + path)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.cli.Request(ctx, tgt, code, message.TextPlain, body, opts...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", code, path, err)
	}
	return resp
}

func acceptJSON() message.Option {
	return message.Option{ID: message.Accept, Value: []byte{byte(message.AppJSON)}}
}

func TestCoAPResources(t *testing.T) {
	c := newCoAPRig(t)
	if r := c.req(codes.GET, "/riot/board", nil); r.Code != codes.Content || string(r.Body) != "nrf52840dk" {
		t.Fatalf("/riot/board: %v %q", r.Code, r.Body)
	}
	if r := c.req(codes.GET, "/.well-known/core", nil); !strings.Contains(string(r.Body), "</suit/trigger>") {
		t.Fatalf("discovery: %q", r.Body)
	}
	c.load(spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}})

	r := c.req(codes.GET, "/containers", nil, acceptJSON())
	var list []ContainerInfo
	if err := json.Unmarshal(r.Body, &list); err != nil || len(list) != 1 || list[0].State != "READY" {
		t.Fatalf("/containers JSON: %v %s", err, r.Body)
	}
	r = c.req(codes.GET, "/containers", nil)
	if err := cbor.Unmarshal(r.Body, &list); err != nil || list[0].UID != "coach" {
		t.Fatalf("/containers CBOR: %v %x", err, r.Body)
	}
	if r := c.req(codes.POST, "/containers/coach", []byte("start")); r.Code != codes.Changed {
		t.Fatalf("start: %v %s", r.Code, r.Body)
	}
	if r := c.req(codes.POST, "/containers/coach", []byte("start")); r.Code != conflict || !strings.Contains(string(r.Body), "it is RUNNING") {
		t.Fatalf("start twice: %v %s", r.Code, r.Body)
	}
	if r := c.req(codes.DELETE, "/containers/coach", nil); r.Code != conflict {
		t.Fatalf("delete while running: %v", r.Code)
	}
	// TinyContainer's own protocol: is-running, stop, delete.
	uid := message.Option{ID: coapnet.OptUID, Value: []byte("coach")}
	r = c.req(codes.GET, "/container/", nil, message.Option{ID: coapnet.OptAction, Value: []byte{actionIsRunning}}, uid)
	if st, _ := r.Options.GetUint32(coapnet.OptStatus); r.Code != codes.Content || st != 1 {
		t.Fatalf("is-running: %v status %d", r.Code, st)
	}
	if r := c.req(codes.PUT, "/container/", nil, message.Option{ID: coapnet.OptAction, Value: []byte{actionStop}}, uid); r.Code != codes.Changed {
		t.Fatalf("stop: %v %s", r.Code, r.Body)
	}
	if r := c.req(codes.PUT, "/container/", nil, message.Option{ID: coapnet.OptAction, Value: []byte{actionStop}}); r.Code != codes.BadOption {
		t.Fatalf("stop without uid: %v", r.Code)
	}
	if r := c.req(codes.POST, "/container/", nil, message.Option{ID: coapnet.OptAction, Value: []byte{actionStart}}, uid); r.Code != codes.MethodNotAllowed {
		t.Fatalf("start with POST: %v", r.Code)
	}
	if r := c.req(codes.DELETE, "/container/", nil, message.Option{ID: coapnet.OptAction, Value: []byte{actionDelete}}, uid); r.Code != codes.Deleted {
		t.Fatalf("delete: %v %s", r.Code, r.Body)
	}
	// /suit/status in JSON with the keys.
	r = c.req(codes.GET, "/suit/status", nil, acceptJSON())
	var st map[string]any
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"seq_no", "state", "last", "slots"} {
		if _, ok := st[k]; !ok {
			t.Errorf("/suit/status lacks %q: %s", k, r.Body)
		}
	}
	if r := c.req(codes.GET, "/nope", nil); r.Code != codes.NotFound {
		t.Fatalf("unknown path: %v", r.Code)
	}
	if r := c.req(codes.DELETE, "/riot/board", nil); r.Code != codes.MethodNotAllowed {
		t.Fatalf("DELETE /riot/board: %v", r.Code)
	}
}

// boundTriggers keeps every trigger a fuzzer makes up bounded in wall time:
// any host "resolves" to the rig's file server, which answers at once (4.04
// for a path it does not have). With the system resolver a made-up name such
// as 127.z00.1 was a DNS lookup, and an address nobody serves was a 2 s
// silence per block attempt; each input then held the world for seconds and
// minimising one never ended.
func boundTriggers(sr *suitRig) {
	files := sr.files.srv.Addr()
	sr.do(func() {
		sr.d.cfg.Resolve = func(host, port string) (*net.UDPAddr, error) { return files, nil }
	})
}

// fuzzPeerRequests is how many requests a fuzz target sends from one client
// socket before it takes a new one. go-coap's server keeps every response to
// a peer for EXCHANGE_LIFETIME (247 s) and scans that cache on each of its
// datagrams: a fuzzer sending a thousand requests a second from one socket
// made every exchange slower than the last until the fuzzing process looked
// hung (DESIGN §10). A new socket is a new peer with an empty cache.
const fuzzPeerRequests = 500

// rotate gives the rig a fresh client socket every fuzzPeerRequests calls.
func (c *coapRig) rotate(n *int) {
	if *n++; *n%fuzzPeerRequests != 0 {
		return
	}
	cli, err := coapnet.Listen("127.0.0.1:0", nil, coapnet.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.cli.Close()
	c.cli = cli
}

// FuzzCoAPResources sends any payload with any method to every resource of a
// device over its real socket: the device answers, never panics, and keeps
// running its container.
func FuzzCoAPResources(f *testing.F) {
	paths := []string{"/suit/trigger", "/suit/manifest", "/suit/status", "/containers", "/containers/coach",
		"/bpf/exec/0", "/bpf/exec/9", "/container/", "/device-id/", "/riot/board", "/.well-known/core"}
	f.Add(byte(2), byte(0), []byte("coap://127.0.0.1:1/x"), []byte{1})
	f.Add(byte(2), byte(4), []byte("stop"), []byte{})
	f.Add(byte(2), byte(7), []byte{}, []byte{1, 0xff})
	f.Add(byte(2), byte(1), []byte{0xa2, 0x02, 0x40, 0x03, 0x40}, []byte{})
	c := newCoAPRig(f)
	boundTriggers(c.suitRig)
	c.load(spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}})
	c.do(func() { _ = c.d.Start("coach") })
	execs := 0
	f.Fuzz(func(t *testing.T, method, path byte, payload, action []byte) {
		c.t = t
		c.rotate(&execs)
		code := codes.Code(1 + method%4)
		p := paths[int(path)%len(paths)]
		var opts []message.Option
		if len(action) > 0 && len(action) < 8 {
			opts = append(opts, message.Option{ID: coapnet.OptAction, Value: action}, message.Option{ID: coapnet.OptUID, Value: []byte("coach")})
		}
		if len(payload) > 1000 {
			payload = payload[:1000]
		}
		r := c.req(code, p, payload, opts...)
		if r.Code == codes.Empty {
			t.Fatalf("%s %s: no response code", code, p)
		}
		c.advance(100 * time.Millisecond)
		if st := c.state("coach"); st == Failed {
			t.Fatalf("%s %s left the container %s", code, p, st)
		}
	})
}
