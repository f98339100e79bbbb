package coapnet

import (
	"context"
	"testing"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

// BenchmarkBlocksFromOnePeer fetches 64-byte blocks from one client socket,
// as a device fetching update after update does. go-coap's server keeps each
// response to the peer for EXCHANGE_LIFETIME and scans them all on every
// datagram, so its cost per block grows with b.N; the stateless server's does
// not. Run with -benchtime 20000x to see it.
func BenchmarkBlocksFromOnePeer(b *testing.B) {
	body := payload(4096)
	b.Run("gocoap", func(b *testing.B) {
		r := mux.NewRouter()
		r.HandleFunc("/f", func(w mux.ResponseWriter, m *mux.Message) {
			_ = WriteBody(w, m, codes.Content, message.AppOctets, body)
		})
		srv := listen(b, r)
		benchBlocks(b, srv.URI()+"/f")
	})
	b.Run("stateless", func(b *testing.B) {
		srv, err := ListenStateless("127.0.0.1:0", func(r *Request) *Reply {
			return Slice(r.Options, &Reply{Code: codes.Content, Format: message.AppOctets, Body: body})
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(srv.Close)
		benchBlocks(b, srv.URI()+"/f")
	})
}

func benchBlocks(b *testing.B, uri string) {
	cli := listen(b, nil)
	tgt, err := ParseURI(uri)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cli.GetBlock(context.Background(), tgt, int64(i%64), blockwise.SZX64); err != nil {
			b.Fatalf("block %d: %v", i, err)
		}
	}
}
