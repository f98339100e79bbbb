package suit

import (
	"context"
	"testing"
)

// Goals (issue 3): decode alone <= 10 µs; decode + verify + the full
// procedure for a 4 KiB payload from memory <= 200 µs, median.

func BenchmarkDecode(b *testing.B) {
	for _, f := range formats {
		b.Run(f.String(), func(b *testing.B) {
			env := newUpdate(b, f, 2, 4096).signed(b)
			b.SetBytes(int64(len(env)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkProcess4KiB(b *testing.B) {
	for _, f := range formats {
		b.Run(f.String(), func(b *testing.B) {
			u := newUpdate(b, f, 2, 4096)
			env := u.signed(b)
			storage := NewRAMStorage(1, 4096)
			cfg := Config{
				Keys:     []PublicKey{u.key.Public()},
				VendorID: VendorID(), ClassID: ClassID("native"),
				Storage: storage, Payloads: u.payloads,
			}
			b.ReportAllocs()
			for b.Loop() {
				cfg.Seq = NewMemSeq(1)
				if _, err := Process(context.Background(), cfg, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
