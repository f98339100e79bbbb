package attach

import (
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device"
	"tinylab/device/coapnet"
)

// FuzzReport feeds what a remote peer could answer to /containers and
// /suit/status: anything decodes or is ignored, never a crash, and a
// report that decodes is what the view shows.
func FuzzReport(f *testing.F) {
	good, _ := cbor.Marshal([]device.ContainerInfo{{UID: "coach", State: "RUNNING"}})
	suit, _ := cbor.Marshal(SuitDoc{SeqNo: 3, State: "idle"})
	f.Add(true, good)
	f.Add(false, suit)
	f.Add(true, []byte{0x9f, 0xa1, 0x63})
	f.Fuzz(func(t *testing.T, list bool, body []byte) {
		a := New(Options{})
		fl := &follower{a: a, r: Remote{Name: "x"}}
		path := "/suit/status"
		if list {
			path = "/containers"
		}
		cf := uintBytes(uint32(message.AppCBOR))
		fl.report(path, &coapnet.Response{Code: codes.Content, Body: body, Options: message.Options{{ID: message.ContentFormat, Value: cf}}})
		if list {
			var want []device.ContainerInfo
			if cbor.Unmarshal(body, &want) == nil && len(fl.r.Containers) != len(want) {
				t.Fatalf("decoded %d containers, view has %d", len(want), len(fl.r.Containers))
			}
		}
	})
}
