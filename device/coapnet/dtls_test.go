package coapnet

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"
)

// whoami answers the PSK identity the request came with.
var whoami = mux.HandlerFunc(func(w mux.ResponseWriter, r *mux.Message) {
	s, ok := PeerSession(w)
	if !ok {
		s.Identity = "(plain)"
	}
	_ = w.SetResponse(codes.Content, message.TextPlain, strings.NewReader(s.Identity+" "+s.Suite))
})

func testKeys(id string) ([]byte, bool) {
	switch id {
	case "alice":
		return []byte("alice-secret-key"), true
	case "bob":
		return []byte("bob-secret-key-2"), true
	}
	return nil, false
}

func listenDTLS(t testing.TB, h mux.Handler, suites ...piondtls.CipherSuiteID) *SecureServer {
	t.Helper()
	s, err := ListenDTLS("127.0.0.1:0", h, testKeys, Options{Suites: suites})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestDTLSIdentity(t *testing.T) {
	s := listenDTLS(t, whoami)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range []string{"alice", "bob"} {
		key, _ := testKeys(id)
		c, err := DialDTLS(ctx, s.Addr().String(), id, key)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Request(ctx, "/who", codes.GET, message.TextPlain, nil)
		c.Close()
		if err != nil || resp.Code != codes.Content || string(resp.Body) != id+" TLS_PSK_WITH_AES_128_CCM_8" {
			t.Fatalf("%s: %v %v", id, resp, err)
		}
	}
	short, cancel2 := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel2()
	if _, err := DialDTLS(short, s.Addr().String(), "alice", []byte("not-alices-key!!")); err == nil {
		t.Fatal("a wrong key completed the handshake")
	}
	if _, err := DialDTLS(short, s.Addr().String(), "mallory", []byte("whatever")); err == nil {
		t.Fatal("an unknown identity completed the handshake")
	}
}

// TestDTLSWithLibcoap is the interop test: libcoap's OpenSSL client
// authenticates with -u/-k and the server sees its identity.
func TestDTLSWithLibcoap(t *testing.T) {
	bin, err := exec.LookPath("coap-client-openssl")
	if err != nil {
		t.Skip("coap-client-openssl (libcoap3-bin) is not installed")
	}
	for _, tc := range []struct {
		suites []piondtls.CipherSuiteID
		want   string
	}{
		{nil, "alice TLS_PSK_WITH_AES_128_GCM_SHA256"}, // OpenSSL's first choice among ours
		{[]piondtls.CipherSuiteID{piondtls.TLS_PSK_WITH_AES_128_CCM_8}, "alice TLS_PSK_WITH_AES_128_CCM_8"},
	} {
		s := listenDTLS(t, whoami, tc.suites...)
		out, err := exec.Command(bin, "-B", "5", "-u", "alice", "-k", "alice-secret-key", "coaps://"+s.Addr().String()+"/who").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Fatalf("coap-client-openssl: %v: %q, want %q", err, out, tc.want)
		}
	}
	s := listenDTLS(t, whoami)
	uri := "coaps://" + s.Addr().String() + "/who"
	out, _ := exec.Command(bin, "-B", "3", "-u", "alice", "-k", "wrong-key", uri).CombinedOutput()
	if strings.Contains(string(out), "alice") {
		t.Fatalf("a wrong key got an answer: %s", out)
	}
}
