package coapnet

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
)

func TestStatelessServesBlocksAndKeepsNothing(t *testing.T) {
	body := payload(3000)
	s, err := ListenStateless("127.0.0.1:0", func(r *Request) *Reply {
		if r.Path != "/f" || r.Code != codes.GET {
			return &Reply{Code: codes.NotFound}
		}
		return Slice(r.Options, &Reply{Code: codes.Content, Format: message.AppOctets, Body: body})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cli := listen(t, nil)
	tgt, _ := ParseURI(s.URI() + "/f")
	for range 3 {
		var got bytes.Buffer
		if err := cli.Get(context.Background(), tgt, blockwise.SZX64, &got, nil); err != nil || !bytes.Equal(got.Bytes(), body) {
			t.Fatalf("got %d bytes, %v", got.Len(), err)
		}
	}
	miss, _ := ParseURI(s.URI() + "/nope")
	if _, err := cli.GetBlock(context.Background(), miss, 0, blockwise.SZX64); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("missing resource: %v", err)
	}
	if bin, err := exec.LookPath("coap-client-notls"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "-m", "get", "-b", "64", s.URI()+"/f").Output()
		if err != nil || !bytes.Contains(out, body[:100]) {
			t.Fatalf("coap-client: %v (%d bytes)", err, len(out))
		}
	}
}
