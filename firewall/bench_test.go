package firewall

import (
	"testing"
)

func benchFirewall(b *testing.B) (*Firewall, int32) {
	fw := New(Options{CallsPerLoop: 0})
	err := fw.Install("coach", Policy{Mask: MaskOf(CallHeartbeat, CallOpen, CallRead, CallLog), Endpoints: []Endpoint{
		{ID: 1, Peer: PeerLocal, PeerEndpoint: 3, Direction: DirIn},
		{ID: 2, Peer: PeerLocal, PeerEndpoint: 4, Direction: DirOut},
	}})
	if err != nil {
		b.Fatal(err)
	}
	fd, d := fw.Open(Request{Container: "coach", Endpoint: 1})
	if !d.Allowed {
		b.Fatal(d)
	}
	return fw, fd
}

// BenchmarkCheckAllowed is the hot path: a granted helper call with no fd.
func BenchmarkCheckAllowed(b *testing.B) {
	fw, _ := benchFirewall(b)
	req := Request{Container: "coach", Call: CallHeartbeat}
	b.ReportAllocs()
	for b.Loop() {
		if d := fw.Check(req); !d.Allowed {
			b.Fatal(d)
		}
	}
}

// BenchmarkResolveAllowed is a granted read through an open fd.
func BenchmarkResolveAllowed(b *testing.B) {
	fw, fd := benchFirewall(b)
	req := Request{Container: "coach", Call: CallRead, FD: fd}
	b.ReportAllocs()
	for b.Loop() {
		if _, d := fw.Resolve(req); !d.Allowed {
			b.Fatal(d)
		}
	}
}

// BenchmarkCheckDenied is a call outside the mask (formats a detail).
func BenchmarkCheckDenied(b *testing.B) {
	fw, _ := benchFirewall(b)
	req := Request{Container: "coach", Call: CallWrite, FD: 1}
	b.ReportAllocs()
	for b.Loop() {
		if d := fw.Check(req); d.Allowed {
			b.Fatal(d)
		}
	}
}

func BenchmarkDecodeMetadata(b *testing.B) {
	meta, err := Build(testSpec(), testKey(b, 7))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMetadata(meta); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMetadata(b *testing.B) {
	spec := testSpec()
	key := testKey(b, 7)
	meta, err := Build(spec, key)
	if err != nil {
		b.Fatal(err)
	}
	md, err := DecodeMetadata(meta)
	if err != nil {
		b.Fatal(err)
	}
	opts := VerifyOptions{Owner: pub(key), Code: spec.Code, Data: spec.Data}
	b.ReportAllocs()
	for b.Loop() {
		if rep := VerifyMetadata(md, opts); rep.Err() != nil {
			b.Fatal(rep.Err())
		}
	}
}
