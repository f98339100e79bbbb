package coapnet

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

func listen(t testing.TB, h mux.Handler) *Server {
	t.Helper()
	if h == nil {
		h = mux.NewRouter()
	}
	s, err := Listen("127.0.0.1:0", h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

func TestBlockwiseGetAcrossSizes(t *testing.T) {
	body := payload(5000)
	r := mux.NewRouter()
	r.HandleFunc("/file", func(w mux.ResponseWriter, m *mux.Message) {
		_ = WriteBody(w, m, codes.Content, message.AppOctets, body)
	})
	srv := listen(t, r)
	cli := listen(t, nil)
	tgt, err := ParseURI(srv.URI() + "/file")
	if err != nil {
		t.Fatal(err)
	}
	for _, szx := range []blockwise.SZX{blockwise.SZX16, blockwise.SZX64, blockwise.SZX1024} {
		var got bytes.Buffer
		var last, total int64
		err := cli.Get(context.Background(), tgt, szx, &got, func(done, tot int64) { last, total = done, tot })
		if err != nil {
			t.Fatalf("szx %d: %v", szx.Size(), err)
		}
		if !bytes.Equal(got.Bytes(), body) || last != 5000 || total != 5000 {
			t.Fatalf("szx %d: got %d bytes (progress %d/%d)", szx.Size(), got.Len(), last, total)
		}
	}
	if _, err := cli.GetBlock(context.Background(), tgt, 1000, blockwise.SZX64); !errors.Is(err, ErrStatus) {
		t.Fatalf("block past the end: err = %v, want a 4.02 status error", err)
	}
}

func TestBlock1UploadIsAssembledInOrder(t *testing.T) {
	up := &Uploads{Max: 3000}
	got := make(chan []byte, 1)
	r := mux.NewRouter()
	r.HandleFunc("/up", func(w mux.ResponseWriter, m *mux.Message) {
		if body, ok := up.Receive(w, m); ok {
			got <- body
			_ = w.SetResponse(codes.Changed, message.TextPlain, nil)
		}
	})
	srv := listen(t, r)
	cli := listen(t, nil)
	tgt, _ := ParseURI(srv.URI() + "/up")
	body := payload(2100)
	send := func(num int64, more bool) *Response {
		t.Helper()
		bo, _ := blockwise.EncodeBlockOption(blockwise.SZX1024, num, more)
		b := make([]byte, 4)
		n, _ := message.EncodeUint32(b, bo)
		end := min(int(num+1)*1024, len(body))
		resp, err := cli.Request(context.Background(), tgt, codes.POST, message.AppOctets, body[num*1024:end], message.Option{ID: message.Block1, Value: b[:n]})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if c := send(0, true).Code; c != codes.Continue {
		t.Fatalf("block 0: %v, want 2.31 Continue", c)
	}
	if c := send(2, false).Code; c != codes.RequestEntityIncomplete {
		t.Fatalf("skipped block: %v, want 4.08", c)
	}
	send(0, true)
	send(1, true)
	if c := send(2, false).Code; c != codes.Changed {
		t.Fatalf("last block: %v", c)
	}
	if b := <-got; !bytes.Equal(b, body) {
		t.Fatalf("assembled %d bytes, want %d", len(b), len(body))
	}
	big := payload(4000)
	resp, err := cli.Request(context.Background(), tgt, codes.POST, message.AppOctets, big[:1024], blockOpt(0, true))
	if err != nil || resp.Code != codes.Continue {
		t.Fatalf("big upload start: %v %v", resp, err)
	}
	for num := int64(1); num < 3; num++ {
		resp, _ = cli.Request(context.Background(), tgt, codes.POST, message.AppOctets, big[num*1024:(num+1)*1024], blockOpt(num, true))
	}
	if resp.Code != codes.RequestEntityTooLarge {
		t.Fatalf("over Max: %v, want 4.13", resp.Code)
	}
}

func blockOpt(num int64, more bool) message.Option {
	bo, _ := blockwise.EncodeBlockOption(blockwise.SZX1024, num, more)
	b := make([]byte, 4)
	n, _ := message.EncodeUint32(b, bo)
	return message.Option{ID: message.Block1, Value: b[:n]}
}

func TestTinyContainerOptionsReachTheHandler(t *testing.T) {
	seen := make(chan []byte, 1)
	r := mux.NewRouter()
	r.HandleFunc("/container", func(w mux.ResponseWriter, m *mux.Message) {
		uid, _ := m.Options().GetBytes(OptUID)
		seen <- uid
		_ = w.SetResponse(codes.Changed, message.TextPlain, nil)
	})
	srv := listen(t, r)
	cli := listen(t, nil)
	tgt, _ := ParseURI(srv.URI() + "/container/")
	_, err := cli.Request(context.Background(), tgt, codes.PUT, 0, nil,
		message.Option{ID: OptAction, Value: []byte{2}}, message.Option{ID: OptUID, Value: []byte("coach")})
	if err != nil {
		t.Fatal(err)
	}
	if uid := <-seen; string(uid) != "coach" {
		t.Fatalf("uid option = %q", uid)
	}
}

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		in, path string
		port     int
		ok       bool
	}{
		{"coap://127.0.0.1:5684/suit/manifest", "/suit/manifest", 5684, true},
		{"coap://127.0.0.1/x?a=1", "/x", 5683, true},
		{"coap://[::1]:7000/", "/", 7000, true},
		{"http://127.0.0.1/x", "", 0, false},
		{"coap:///x", "", 0, false},
		{"::", "", 0, false},
	} {
		got, err := ParseURI(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.in, err)
			continue
		}
		if tc.ok && (got.Path != tc.path || got.Addr.Port != tc.port) {
			t.Errorf("%s: %+v", tc.in, got)
		}
	}
}

func TestMessageIDGuardRefusesToWrap(t *testing.T) {
	var g midGuard
	now := time.Unix(1_000_000, 0)
	for i := 0; i < midBudget; i++ {
		if err := g.take(now.Add(time.Duration(i) * time.Millisecond)); err != nil {
			t.Fatalf("request %d refused: %v", i, err)
		}
	}
	at := now.Add(midBudget * time.Millisecond)
	if err := g.take(at); !errors.Is(err, ErrMessageIDsExhausted) {
		t.Fatalf("request %d within the lifetime: err = %v", midBudget+1, err)
	}
	if err := g.take(now.Add(ExchangeLifetime + 70*time.Second)); err != nil {
		t.Fatalf("after the lifetime passed: %v", err)
	}
}

// TestBlocksFollowsTheServersBlockSize runs the block-wise loop against a
// server that serves at most max bytes a block, from the start or from
// block `from` on: the client continues at the server's size (RFC 7959 §2.4).
func TestBlocksFollowsTheServersBlockSize(t *testing.T) {
	body := payload(3000)
	for _, c := range []struct {
		name      string
		ask       blockwise.SZX
		max, from int64
		sized     bool // the server sends Size2
	}{
		{"same size", blockwise.SZX256, 256, 0, true},
		{"smaller from the start", blockwise.SZX1024, 64, 0, true},
		{"smaller after two blocks", blockwise.SZX256, 64, 2, false},
		{"tiny", blockwise.SZX64, 16, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var asked []int64
			get := func(num int64, szx blockwise.SZX) (Block, error) {
				asked = append(asked, num)
				off, size := num*szx.Size(), szx.Size()
				if num >= c.from && size > c.max {
					size = c.max
				}
				if off >= int64(len(body)) {
					return Block{}, errors.New("asked past the end")
				}
				end := min(off+size, int64(len(body)))
				served := SZXFor(int(size))
				b := Block{Data: body[off:end], Num: off / size, SZX: served, More: end < int64(len(body)), Total: -1}
				if c.sized {
					b.Total = int64(len(body))
				}
				return b, nil
			}
			var got bytes.Buffer
			var last, total int64
			if err := Blocks(get, c.ask, &got, func(done, tot int64) { last, total = done, tot }); err != nil {
				t.Fatalf("%v (asked for blocks %v)", err, asked)
			}
			wantTotal := int64(-1)
			if c.sized {
				wantTotal = 3000
			}
			if !bytes.Equal(got.Bytes(), body) || last != 3000 || total != wantTotal {
				t.Fatalf("got %d bytes, progress %d/%d (asked for blocks %v)", got.Len(), last, total, asked)
			}
		})
	}
}

// A client-only socket (no handler) answers a stray request with 4.04
// instead of going down.
func TestClientSocketAnswersStrayRequests(t *testing.T) {
	cl, err := Listen("127.0.0.1:0", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	other := listen(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := other.Request(ctx, Target{Addr: cl.Addr(), Path: "/x"}, codes.GET, 0, nil)
	if err != nil || resp.Code != codes.NotFound {
		t.Fatalf("%v %v", resp, err)
	}
}
