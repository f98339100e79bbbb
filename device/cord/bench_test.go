package cord

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRegistration is one endpoint's registration with the lab's
// gateway RD on loopback: discovery (GET /.well-known/core?rt=core.rd*) and
// the registration POST, from Start to Registered, then its removal.
func BenchmarkRegistration(b *testing.B) {
	env := &world{}
	env.w = newWorldB(b)
	gw := listenGatewayB(b)
	tr := clientB(b)
	var took time.Duration
	for i := 0; b.Loop(); i++ {
		ep, err := New(env, tr, Config{RD: gw.URI(), Endpoint: "bench", Lifetime: time.Minute, Links: func() string { return links }})
		if err != nil {
			b.Fatal(err)
		}
		env.Do(ep.Start)
		for ep.Status().State != Registered {
			time.Sleep(20 * time.Microsecond)
		}
		took += ep.Status().RegisteredIn
		if err := ep.Stop(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(took.Microseconds())/float64(b.N), "µs-exchanges/op")
}

// BenchmarkRegistrationLibcoap registers with libcoap's coap-rd (the POST to
// its /rd; it has no removal that works, so each registration stays).
func BenchmarkRegistrationLibcoap(b *testing.B) {
	bin, err := exec.LookPath("coap-rd-notls")
	if err != nil {
		b.Skip("coap-rd-notls is not installed (Debian package libcoap3-bin)")
	}
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	rd := exec.Command(bin, "-A", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := rd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = rd.Process.Kill(); _ = rd.Wait() }()
	env := &world{w: newWorldB(b)}
	tr := clientB(b)
	uri := "coap://127.0.0.1:" + strconv.Itoa(port) + "/rd"
	register := func() time.Duration {
		ep, err := New(env, tr, Config{RD: uri, Endpoint: "bench", Lifetime: time.Minute, Links: func() string { return links }, Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		env.Do(ep.Start)
		for ep.Status().State != Registered {
			time.Sleep(20 * time.Microsecond)
		}
		ep.abandon()
		return ep.Status().RegisteredIn
	}
	register() // the RD is up once one registration went through
	var took time.Duration
	for b.Loop() {
		took += register()
	}
	b.ReportMetric(float64(took.Microseconds())/float64(b.N), "µs-exchanges/op")
}
