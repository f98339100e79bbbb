package device

import (
	"context"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

// BenchmarkDTLSHandshake is one PSK handshake (TLS_PSK_WITH_AES_128_CCM_8)
// with a device's DTLS socket on loopback. Every session stays open until
// the end, off the clock: a new client socket that reuses the port of one
// just closed can meet the server's old session for that address, and its
// handshake then waits for the timeout (seen here about once in 10,000).
func BenchmarkDTLSHandshake(b *testing.B) {
	r := newSecureRig(b)
	ctx := context.Background()
	open := make([]*coapnet.SecureClient, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := coapnet.DialDTLS(ctx, r.dtls.Addr().String(), "coach-id", rigKeys["coach-id"])
		if err != nil {
			b.Fatal(err)
		}
		open = append(open, c)
	}
	b.StopTimer()
	for _, c := range open {
		c.Close()
	}
}

// BenchmarkManagement is one management request (GET /containers/coach as
// its tenant, authorized by the table) over an open DTLS session, and the
// same request over plain CoAP to an insecure device, for comparison.
func BenchmarkManagement(b *testing.B) {
	b.Run("dtls", func(b *testing.B) {
		r := newSecureRig(b)
		r.install("coach", "coach")
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			resp, err := r.sessions["coach"].Request(ctx, "/containers/coach", codes.GET, message.TextPlain, nil)
			if err != nil || resp.Code != codes.Content {
				b.Fatal(resp, err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		c := newCoAPRig(b)
		c.load(spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if resp := c.req(codes.GET, "/containers/coach", nil); resp.Code != codes.Content {
				b.Fatal(resp.Code)
			}
		}
	})
}

// BenchmarkSuitUpdateOverDTLS is a whole update of a 4 KiB container
// triggered by its tenant over DTLS (the manifest URI to /suit/trigger) and
// by the owner over plain CoAP to an insecure device: fetch, checks,
// install, RUNNING. The payload comes from the repository over plain CoAP
// in both, as RIOT fetches it. The goal is dtls ≤ 2× plain.
func BenchmarkSuitUpdateOverDTLS(b *testing.B) {
	data := make([]byte, 4096-96)
	for i := range data {
		data[i] = byte(i)
	}
	s := spec{uid: "coach", src: heartbeatSrc, grants: []string{"heartbeat"}, data: data}
	run := func(b *testing.B, sr *suitRig, trigger func(uri string) codes.Code) {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			uri := sr.publish(release{s: s, seq: uint64(i + 2)})
			b.StartTimer()
			if code := trigger(uri); code != codes.Created {
				b.Fatalf("trigger: %v", code)
			}
			ok, err := sr.env.w.RunWhile(context.Background(), sr.env.w.Now()+time.Minute, func() bool {
				c := sr.d.container("coach")
				return sr.d.update != nil || c == nil || c.State != Running || c.seq != uint64(i+2)
			})
			if err != nil || !ok {
				b.Fatalf("update %d did not end RUNNING: %v\n%s", i+1, err, sr.log(KindSuitResult))
			}
		}
	}
	b.Run("dtls", func(b *testing.B) {
		r := newSecureRig(b)
		coach := r.tenants["coach"]
		r.signer = coach
		r.install("coach", "coach")
		ctx := context.Background()
		run(b, r.suitRig, func(uri string) codes.Code {
			resp, err := r.sessions["coach"].Request(ctx, "/suit/trigger", codes.POST, message.TextPlain, []byte(uri))
			if err != nil {
				b.Fatal(err)
			}
			return resp.Code
		})
	})
	b.Run("plain", func(b *testing.B) {
		c := newCoAPRig(b)
		run(b, c.suitRig, func(uri string) codes.Code { return c.req(codes.POST, "/suit/trigger", []byte(uri)).Code })
	})
}
