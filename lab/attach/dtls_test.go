package attach

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestAttachOverDTLS: a secure device is followed and managed over DTLS
// with a party's PSK, as `tinylab attach --psk` does; the same device
// attached over plain CoAP is followed but its management is refused (4.01),
// and a wrong key fails the handshake at once.
func TestAttachOverDTLS(t *testing.T) {
	l := fleetOf(t, 1, false)
	n := l.Nodes()[0]
	if n.SecureURI() == "" {
		t.Fatal("the device has no coaps:// URI")
	}
	coach, ok := l.Party("coach")
	if !ok {
		t.Fatal("no party coach")
	}
	u, err := NewUDP("127.0.0.1:0")
	must(t, err)
	t.Cleanup(u.Close)
	sec := &DTLS{Identity: "coach", Key: coach.PSK}
	t.Cleanup(sec.Close)
	var ev log
	a := New(Options{Dialer: Schemes{"coap": u, "coaps": sec}, Probe: 200 * time.Millisecond, Timeout: time.Second, OnEvent: ev.add})
	t.Cleanup(a.Close)

	must(t, a.Attach("secure", n.SecureURI()))
	must(t, a.Attach("plain", n.URI()))
	eventually(t, 5*time.Second, "coach RUNNING, seen both ways", func() bool {
		return stateOf(remote(a, "secure"), "coach") == "RUNNING" && stateOf(remote(a, "plain"), "coach") == "RUNNING"
	})
	eventually(t, 3*time.Second, "observed over DTLS", func() bool { return remote(a, "secure").Observing })

	err = a.Command(context.Background(), "plain", "stop", "coach")
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("stop over plain CoAP on a secure device: %v, want 4.01", err)
	}
	if s := stateOf(remote(a, "plain"), "coach"); s != "RUNNING" {
		t.Fatalf("a refused stop changed the container: %s", s)
	}
	// the tenant stops its own container over its session; both views follow
	must(t, a.Command(context.Background(), "secure", "stop", "coach"))
	eventually(t, 3*time.Second, "coach READY in both views", func() bool {
		return stateOf(remote(a, "secure"), "coach") == "READY" && stateOf(remote(a, "plain"), "coach") == "READY"
	})

	bad := &DTLS{Identity: "coach", Key: []byte("not the key")}
	t.Cleanup(bad.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := bad.Dial(ctx, n.SecureURI()); err == nil || !strings.Contains(err.Error(), "handshake") {
		t.Fatalf("a wrong key: %v, want a failed handshake", err)
	}
	if _, err := (Schemes{"coap": u}).Dial(ctx, n.SecureURI()); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("coaps:// without credentials: %v", err)
	}
}
