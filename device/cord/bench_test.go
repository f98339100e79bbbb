package cord

import (
	"context"
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
