package device

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/authz"
	"tinylab/device/coapnet"
	"tinylab/suit"
)

// secureRig is a device in secure mode with a DTLS socket and one session
// per party: the owner "city", tenants "coach" and "stats".
type secureRig struct {
	*suitRig
	dtls     *coapnet.SecureServer
	sessions map[string]*coapnet.SecureClient
	tenants  map[string]suit.PrivateKey
	seq      uint64 // the last sequence number installed: the device's numbering is device-wide
}

// rigKeys are the DTLS listener's keys; "ghost-id" has a key but the
// device knows no party for it.
var rigKeys = map[string][]byte{"city-id": []byte("city-key-0123456"), "coach-id": []byte("coach-key-012345"), "stats-id": []byte("stats-key-012345"), "ghost-id": []byte("ghost-key-012345")}

func newSecureRig(t testing.TB) *secureRig {
	t.Helper()
	coachKey, statsKey := testKey(t, 7), testKey(t, 8)
	sr := newSuitRig(t, func(c *Config) {
		c.Trust = append(c.Trust, coachKey.Public(), statsKey.Public())
		c.Access = Access{
			Identities: map[string]authz.Party{
				"city-id":  {Role: authz.Owner, Name: "city"},
				"coach-id": {Role: authz.Tenant, Name: "coach"},
				"stats-id": {Role: authz.Tenant, Name: "stats"},
			},
			Signers: map[string]string{coachKey.Public().Fingerprint(): "coach", statsKey.Public().Fingerprint(): "stats"},
		}
	})
	// the rig's file server is the one configured repository
	sr.d.cfg.Access.Repositories = []string{sr.files.srv.Addr().String()}
	s, err := coapnet.ListenDTLS("127.0.0.1:0", sr.d.SecureHandler(), func(id string) ([]byte, bool) { k, ok := rigKeys[id]; return k, ok }, coapnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	r := &secureRig{suitRig: sr, dtls: s, sessions: map[string]*coapnet.SecureClient{}, tenants: map[string]suit.PrivateKey{"coach": coachKey, "stats": statsKey}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for id, key := range rigKeys {
		c, err := coapnet.DialDTLS(ctx, s.Addr().String(), id, key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		r.sessions[strings.TrimSuffix(id, "-id")] = c
	}
	return r
}

// redial replaces every party's DTLS session with a new one.
func (r *secureRig) redial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for id, key := range rigKeys {
		c, err := coapnet.DialDTLS(ctx, r.dtls.Addr().String(), id, key)
		if err != nil {
			r.t.Fatal(err)
		}
		name := strings.TrimSuffix(id, "-id")
		r.sessions[name].Close()
		r.sessions[name] = c
	}
}

// as sends a request as a party: "anyone" over plain CoAP, the others over
// their DTLS session.
func (r *secureRig) as(party string, code codes.Code, path string, body []byte, opts ...message.Option) *coapnet.Response {
	r.t.Helper()
	if party == "anyone" {
		return (&coapRig{suitRig: r.suitRig, cli: r.anon()}).req(code, path, body, opts...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := r.sessions[party].Request(ctx, path, code, message.TextPlain, body, opts...)
	if err != nil {
		r.t.Fatalf("%s %s %s: %v", party, code, path, err)
	}
	return resp
}

func (r *secureRig) anon() *coapnet.Server {
	cli, err := coapnet.Listen("127.0.0.1:0", nil, coapnet.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(cli.Close)
	return cli
}

// install ships a container signed by a tenant's key, by SUIT.
func (r *secureRig) install(uid, tenant string) {
	r.t.Helper()
	key := r.tenants[tenant]
	r.seq++
	res := r.update(r.publish(release{s: spec{uid: uid, src: heartbeatSrc, grants: []string{"heartbeat"}}, seq: r.seq, signer: &key}))
	if res.Code != 0 {
		r.t.Fatalf("install %s: %+v\n%s", uid, res, r.log())
	}
}

func (r *secureRig) table() string {
	var b strings.Builder
	r.do(func() {
		for _, c := range r.d.Containers() {
			b.WriteString(c.UID + " " + c.State.String() + " " + c.tenant + "\n")
		}
	})
	return b.String()
}

func TestTenantsManageOnlyTheirOwn(t *testing.T) {
	r := newSecureRig(t)
	r.install("coach", "coach")
	r.install("stats", "stats")
	before := r.table()
	if before != "coach RUNNING coach\nstats RUNNING stats\n" {
		t.Fatalf("table: %q", before)
	}
	for _, tc := range []struct {
		party string
		code  codes.Code
		path  string
		body  string
		want  codes.Code
	}{
		{"stats", codes.POST, "/containers/coach", "stop", codes.Forbidden},
		{"stats", codes.DELETE, "/containers/coach", "", codes.Forbidden},
		{"stats", codes.GET, "/containers/coach", "", codes.Forbidden},
		{"anyone", codes.POST, "/containers/coach", "stop", codes.Unauthorized},
		{"anyone", codes.DELETE, "/containers/stats", "", codes.Unauthorized},
		{"anyone", codes.GET, "/containers/coach", "", codes.Unauthorized},
		{"anyone", codes.POST, "/suit/trigger", "coap://127.0.0.1:9/x.suit", codes.Unauthorized},
		{"anyone", codes.POST, "/suit/manifest", "x", codes.Unauthorized},
		{"anyone", codes.POST, "/bpf/exec/0", "", codes.Unauthorized},
		{"anyone", codes.POST, "/device-id/", "mine", codes.Unauthorized},
		{"coach", codes.POST, "/bpf/exec/0", "", codes.Forbidden},
		{"coach", codes.POST, "/device-id/", "mine", codes.Forbidden},
		{"ghost", codes.POST, "/containers/coach", "stop", codes.Unauthorized},
	} {
		resp := r.as(tc.party, tc.code, tc.path, []byte(tc.body))
		if resp.Code != tc.want {
			t.Errorf("%s %s %s: %v %s, want %v", tc.party, tc.code, tc.path, resp.Code, resp.Body, tc.want)
		}
		if got := r.table(); got != before {
			t.Fatalf("%s %s %s changed the table:\n%s", tc.party, tc.code, tc.path, got)
		}
	}
	// TinyContainer's own protocol is the owner's alone
	uid := message.Option{ID: coapnet.OptUID, Value: []byte("coach")}
	if resp := r.as("coach", codes.PUT, "/container/", nil, message.Option{ID: coapnet.OptAction, Value: []byte{actionStop}}, uid); resp.Code != codes.Forbidden {
		t.Errorf("coach on /container/: %v", resp.Code)
	}
	var refused uint64
	r.do(func() { refused = r.d.Refusals() })
	if refused != 14 || r.count(KindRefused) != 14 {
		t.Errorf("refusals %d, events %d", refused, r.count(KindRefused))
	}
	if log := r.log(KindRefused); !strings.Contains(log, "refused: tenant stats POST /containers/coach (4.03, rule own-containers: a tenant may manage only its own containers)") {
		t.Errorf("refusal events:\n%s", log)
	}
	// the tenant manages its own; the owner manages anyone's
	if resp := r.as("coach", codes.POST, "/containers/coach", []byte("stop")); resp.Code != codes.Changed {
		t.Fatalf("coach stops coach: %v %s", resp.Code, resp.Body)
	}
	if resp := r.as("city", codes.POST, "/containers/stats", []byte("stop")); resp.Code != codes.Changed {
		t.Fatalf("the owner stops stats: %v %s", resp.Code, resp.Body)
	}
	if resp := r.as("city", codes.DELETE, "/containers/stats", nil); resp.Code != codes.Deleted {
		t.Fatalf("the owner deletes stats: %v %s", resp.Code, resp.Body)
	}
	if resp := r.as("stats", codes.GET, "/containers/nope", nil); resp.Code != codes.NotFound {
		t.Fatalf("a tenant asks for no container: %v", resp.Code)
	}
	if got := r.table(); got != "coach READY coach\n" {
		t.Fatalf("table after the owner: %q", got)
	}
}

func TestListDetailByParty(t *testing.T) {
	r := newSecureRig(t)
	r.install("coach", "coach")
	r.advance(3 * time.Second)
	for party, detail := range map[string]bool{"anyone": false, "stats": false, "coach": true, "city": true} {
		resp := r.as(party, codes.GET, "/containers", nil, acceptJSON())
		if resp.Code != codes.Content {
			t.Fatalf("%s: %v", party, resp.Code)
		}
		has := strings.Contains(string(resp.Body), `"loops":0`)
		if has == detail || !strings.Contains(string(resp.Body), `"state":"RUNNING"`) {
			t.Errorf("%s sees %s", party, resp.Body)
		}
	}
}

func TestTriggerFromRepositoryIsOpen(t *testing.T) {
	r := newSecureRig(t)
	uri := r.publish(release{s: spec{uid: "hello", src: heartbeatSrc, grants: []string{"heartbeat"}}, seq: 1})
	if resp := r.as("anyone", codes.POST, "/suit/trigger", []byte(uri)); resp.Code != codes.Created {
		t.Fatalf("anyone triggers from the repository: %v %s", resp.Code, resp.Body)
	}
	r.waitUpdate()
	if st := r.state("hello"); st != Running {
		t.Fatalf("hello is %s\n%s", st, r.log())
	}
}

func TestTenantCannotReplaceARivalsContainer(t *testing.T) {
	r := newSecureRig(t)
	r.install("coach", "coach")
	stats := r.tenants["stats"]
	res := r.update(r.publish(release{s: spec{uid: "coach", src: heartbeatSrc}, seq: r.seq + 1, signer: &stats}))
	if res.Code != int(suit.CodePolicyForbidden) || !strings.Contains(res.Message, "coach is tenant coach's, this update is signed by tenant stats") {
		t.Fatalf("rival's update: %+v", res)
	}
	if got := r.table(); got != "coach RUNNING coach\n" {
		t.Fatalf("table: %q", got)
	}
}

// TestTriggerDoesNotResolveInTheHandler: a name that takes long to resolve
// does not hold the request (the answer is 2.01 at once) nor the world; the
// update then says which host failed.
func TestTriggerDoesNotResolveInTheHandler(t *testing.T) {
	release := make(chan struct{})
	c := newCoAPRig(t)
	c.d.cfg.Resolve = func(host, port string) (*net.UDPAddr, error) {
		<-release
		return nil, errors.New("no such host")
	}
	start := time.Now()
	if r := c.req(codes.POST, "/suit/trigger", []byte("coap://slow.invalid/x.suit")); r.Code != codes.Created {
		t.Fatalf("trigger: %v %s", r.Code, r.Body)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the handler took %s", d)
	}
	close(release)
	c.waitUpdate()
	var res SuitResult
	c.do(func() { res = c.d.suitStatus.Last })
	if !strings.Contains(res.Message, `cannot resolve host "slow.invalid": no such host`) {
		t.Fatalf("result: %+v", res)
	}
}

// FuzzDTLSRequests sends any request, as any party, over DTLS and plain
// CoAP to a secure device: every request gets an answer, and a refused one
// (4.01, 4.03) leaves the container table as it was.
func FuzzDTLSRequests(f *testing.F) {
	paths := []string{"/suit/trigger", "/suit/manifest", "/suit/status", "/containers", "/containers/coach", "/containers/stats",
		"/bpf/exec/0", "/container/", "/device-id/", "/riot/board", "/.well-known/core", "/containers/nope"}
	parties := []string{"anyone", "coach", "stats", "city"}
	f.Add(byte(0), byte(1), byte(4), []byte("stop"), []byte{})
	f.Add(byte(1), byte(2), byte(4), []byte("stop"), []byte{})
	f.Add(byte(2), byte(0), byte(0), []byte("coap://127.z00.1:1/x"), []byte{})
	f.Add(byte(1), byte(3), byte(7), []byte{}, []byte{4})
	r := newSecureRig(f)
	boundTriggers(r.suitRig)
	r.install("coach", "coach")
	r.install("stats", "stats")
	execs := 0
	f.Fuzz(func(t *testing.T, party, method, path byte, payload, action []byte) {
		r.t = t
		if execs++; execs%fuzzPeerRequests == 0 {
			r.redial() // a fresh session: see fuzzPeerRequests
		}
		code := codes.Code(1 + method%4)
		p := paths[int(path)%len(paths)]
		who := parties[int(party)%len(parties)]
		var opts []message.Option
		if len(action) > 0 && len(action) < 8 {
			opts = append(opts, message.Option{ID: coapnet.OptAction, Value: action}, message.Option{ID: coapnet.OptUID, Value: []byte("coach")})
		}
		if len(payload) > 1000 {
			payload = payload[:1000]
		}
		before := r.table()
		resp := r.as(who, code, p, payload, opts...)
		if resp.Code == codes.Empty {
			t.Fatalf("%s %s %s: no response code", who, code, p)
		}
		if resp.Code == codes.Unauthorized || resp.Code == codes.Forbidden {
			if after := r.table(); after != before {
				t.Fatalf("refused %s %s %s changed the table:\n%s\nto\n%s", who, code, p, before, after)
			}
			if who == "city" {
				t.Fatalf("the owner was refused %s %s: %s", code, p, resp.Body)
			}
		}
		r.advance(100 * time.Millisecond)
	})
}
