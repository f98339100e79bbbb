package device

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSuitUpdateOverCoAP measures a SUIT update of a 4 KiB container
// over loopback CoAP from the trigger to RUNNING, in fast virtual time (the
// modelled air time costs nothing): the manifest and the three parts fetched
// block by block, the signature, the digests, the tokens, the VM's
// verification and the install.
func BenchmarkSuitUpdateOverCoAP(b *testing.B) {
	for _, bs := range []struct {
		name string
		size int
	}{{"block64", 64}, {"block1024", 1024}} {
		b.Run(bs.name, func(b *testing.B) {
			sr := newSuitRig(b, func(c *Config) { c.BlockSize = bs.size })
			data := make([]byte, 4096-96) // with the ~96-byte code: 4 KiB of container
			for i := range data {
				data[i] = byte(i)
			}
			s := spec{uid: "bench", src: heartbeatSrc, grants: []string{"heartbeat"}, data: data}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				uri := sr.publish(release{s: s, seq: uint64(i + 1)})
				b.StartTimer()
				sr.do(func() {
					if err := sr.d.TriggerUpdate(uri); err != nil {
						b.Fatal(err)
					}
				})
				ok, err := sr.env.w.RunWhile(context.Background(), sr.env.w.Now()+time.Minute, func() bool {
					c := sr.d.container("bench")
					return sr.d.update != nil || c == nil || c.State != Running
				})
				if err != nil || !ok {
					b.Fatalf("update %d did not end RUNNING: %v\n%s", i+1, err, sr.log(KindSuitResult))
				}
			}
		})
	}
}

// BenchmarkLoopTick is one loop() of a heartbeating container: the VM run,
// the helper through the firewall, the heartbeat event and the timers.
func BenchmarkLoopTick(b *testing.B) {
	r := newRig(b, nil)
	r.load(spec{uid: "hb", src: heartbeatSrc, grants: []string{"heartbeat"}})
	r.do(func() { _ = r.d.Start("hb") })
	r.env.events = nil
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.advance(time.Second)
		if i%1024 == 0 {
			r.env.events = r.env.events[:0]
		}
	}
}
