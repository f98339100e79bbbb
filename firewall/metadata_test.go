package firewall

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

func mustEnc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parts builds metadata from its three parts, each given as a Go value to
// encode or as raw CBOR (cbor.RawMessage); a nil part is left out.
type parts struct {
	container, endpoints, security any
	extra                          map[int]any // more keys in the outer map
}

func okContainer() map[int]any { return map[int]any{1: []byte("c"), 2: 3, 3: []byte{}} }
func okEndpoint() map[int]any  { return map[int]any{1: 1, 2: 1, 4: 10, 5: 0} }
func okSecurity() []any {
	return []any{100, 1000, 100, 1000, 100, []byte{}, []byte{}, []byte{}}
}

func (p parts) bytes(t testing.TB) []byte {
	t.Helper()
	top := map[int]any{}
	for k, v := range map[int]any{1: p.container, 2: p.endpoints, 3: p.security} {
		switch v := v.(type) {
		case nil:
		case cbor.RawMessage:
			top[k] = []byte(v)
		default:
			top[k] = mustEnc(t, v)
		}
	}
	for k, v := range p.extra {
		top[k] = v
	}
	return mustEnc(t, cbor.Tag{Number: MetadataTag, Content: top})
}

func with(m map[int]any, k int, v any) map[int]any {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
	return m
}

func TestDecodeErrors(t *testing.T) {
	good := parts{container: okContainer(), endpoints: []any{}, security: okSecurity()}
	sec := func(i int, v any) []any { s := okSecurity(); s[i] = v; return s }
	tests := []struct {
		name  string
		in    []byte
		field string
		err   error
	}{
		{"not CBOR", []byte{0xff}, "metadata", ErrMalformed},
		{"trailing bytes", append(good.bytes(t), 0), "metadata", ErrMalformed},
		{"untagged", mustEnc(t, map[int]any{1: []byte{}}), "metadata", ErrMalformed},
		{"wrong tag", mustEnc(t, cbor.Tag{Number: 61, Content: map[int]any{}}), "metadata", ErrMalformed},
		{"tag over array", mustEnc(t, cbor.Tag{Number: MetadataTag, Content: []any{}}), "metadata map", ErrMalformed},
		{"indefinite length", append([]byte{0xdb, 0x54, 0x69, 0x6e, 0x79, 0x50, 0x41, 0x52, 0x54, 0xbf}, 0xff), "metadata", ErrMalformed},
		{"too large", append([]byte{0x5a, 0, 0, 0x13, 0x88}, make([]byte, 5000)...), "metadata", ErrLimit},
		{"unknown outer key", parts{container: okContainer(), extra: map[int]any{4: []byte{0x80}}}.bytes(t), "metadata map key 4", ErrUnknownField},
		{"text outer key", mustEnc(t, cbor.Tag{Number: MetadataTag, Content: map[string]any{"c": 1}}), "metadata map", ErrMalformed},
		{"no container", parts{endpoints: []any{}}.bytes(t), "metadata.container", ErrMissingField},
		{"container not wrapped", parts{extra: map[int]any{1: okContainer()}}.bytes(t), "metadata.container", ErrMalformed},
		{"container bstr not CBOR", parts{container: cbor.RawMessage{0xff}}.bytes(t), "metadata.container", ErrMalformed},
		{"container not a map", parts{container: []any{1}}.bytes(t), "container", ErrMalformed},
		{"container duplicate key", parts{container: cbor.RawMessage{0xa2, 0x01, 0x41, 'a', 0x01, 0x41, 'b'}}.bytes(t), "container", ErrMalformed},
		{"container unknown key", parts{container: with(okContainer(), 4, 1)}.bytes(t), "container key 4", ErrUnknownField},
		{"no uid", parts{container: with(okContainer(), 1, nil)}.bytes(t), "container.uid", ErrMissingField},
		{"uid text", parts{container: with(okContainer(), 1, "c")}.bytes(t), "container.uid", ErrMalformed},
		{"uid empty", parts{container: with(okContainer(), 1, []byte{})}.bytes(t), "container.uid", ErrInvalidValue},
		{"uid 64 bytes", parts{container: with(okContainer(), 1, make([]byte, 64))}.bytes(t), "container.uid", ErrLimit},
		{"no type", parts{container: with(okContainer(), 2, nil)}.bytes(t), "container.type", ErrMissingField},
		{"type 8", parts{container: with(okContainer(), 2, 8)}.bytes(t), "container.type", ErrInvalidValue},
		{"type negative", parts{container: with(okContainer(), 2, -1)}.bytes(t), "container.type", ErrMalformed},
		{"no mask", parts{container: with(okContainer(), 3, nil)}.bytes(t), "container.syscall-mask", ErrMissingField},
		{"mask not bstr", parts{container: with(okContainer(), 3, map[int]any{})}.bytes(t), "container.syscall-mask", ErrMalformed},
		{"mask too large", parts{container: with(okContainer(), 3, make([]byte, 513))}.bytes(t), "container.syscall-mask", ErrLimit},
		{"endpoints not array", parts{container: okContainer(), endpoints: map[int]any{}}.bytes(t), "endpoints", ErrMalformed},
		{"17 endpoints", parts{container: okContainer(), endpoints: make([]any, 17)}.bytes(t), "endpoints", ErrLimit},
		{"endpoint not map", parts{container: okContainer(), endpoints: []any{1}}.bytes(t), "endpoints[0]", ErrMalformed},
		{"endpoint unknown key", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 7, 1)}}.bytes(t), "endpoints[0] key 7", ErrUnknownField},
		{"endpoint no id", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 1, nil)}}.bytes(t), "endpoints[0].id", ErrMissingField},
		{"endpoint id over 32 bits", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 1, uint64(1)<<32)}}.bytes(t), "endpoints[0].id", ErrInvalidValue},
		{"endpoint no peer type", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 2, nil)}}.bytes(t), "endpoints[0].peer-type", ErrMissingField},
		{"endpoint peer type 3", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 2, 3)}}.bytes(t), "endpoints[0].peer-type", ErrInvalidValue},
		{"container peer without uid", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 2, 0)}}.bytes(t), "endpoints[0].peer-uid", ErrMissingField},
		{"peer uid text", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 3, "p")}}.bytes(t), "endpoints[0].peer-uid", ErrMalformed},
		{"endpoint no peer endpoint", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 4, nil)}}.bytes(t), "endpoints[0].peer-endpoint-id", ErrMissingField},
		{"endpoint no direction", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 5, nil)}}.bytes(t), "endpoints[0].direction", ErrMissingField},
		{"endpoint direction 3", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 5, 3)}}.bytes(t), "endpoints[0].direction", ErrInvalidValue},
		{"endpoint empty token", parts{container: okContainer(), endpoints: []any{with(okEndpoint(), 6, []byte{})}}.bytes(t), "endpoints[0].token", ErrInvalidValue},
		{"duplicate endpoint id", parts{container: okContainer(), endpoints: []any{okEndpoint(), with(okEndpoint(), 4, 11)}}.bytes(t), "endpoints[1].id", ErrInvalidValue},
		{"security not array", parts{container: okContainer(), security: map[int]any{}}.bytes(t), "security", ErrMalformed},
		{"security of 7", parts{container: okContainer(), security: okSecurity()[:7]}.bytes(t), "security", ErrMalformed},
		{"security of 9", parts{container: okContainer(), security: append(okSecurity(), []byte{})}.bytes(t), "security", ErrMalformed},
		{"loop period text", parts{container: okContainer(), security: sec(1, "1000")}.bytes(t), "security.loop-period", ErrMalformed},
		{"stop max over 32 bits", parts{container: okContainer(), security: sec(4, uint64(1)<<32)}.bytes(t), "security.stop-max-duration", ErrInvalidValue},
		{"data token not bstr", parts{container: okContainer(), security: sec(5, 1)}.bytes(t), "security.data-token", ErrMalformed},
		{"metadata token too large", parts{container: okContainer(), security: sec(7, make([]byte, 513))}.bytes(t), "security.metadata-token", ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := DecodeMetadata(tt.in)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", md)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err %T %v is not a *FieldError", err, err)
			}
			if fe.Field != tt.field || !errors.Is(err, tt.err) {
				t.Errorf("err = %v; want field %q, %v", err, tt.field, tt.err)
			}
			if fe.Want == "" || !strings.HasPrefix(err.Error(), "metadata: ") {
				t.Errorf("err %q does not say what was expected", err)
			}
		})
	}
	if _, err := DecodeMetadata(good.bytes(t)); err != nil {
		t.Fatalf("baseline does not decode: %v", err)
	}
}

func TestDecodeOptionalParts(t *testing.T) {
	md, err := DecodeMetadata(parts{container: okContainer()}.bytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if md.Container.UID != "c" || md.Container.Type != TypeBPF || len(md.Endpoints) != 0 || md.Security.Timing != (Timing{}) {
		t.Errorf("got %+v", md)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	md := &Metadata{
		Container: Container{UID: "coach", Type: TypeBPF, MaskToken: []byte{1, 2, 3}},
		Endpoints: []Endpoint{
			{ID: 1, Peer: PeerLocal, PeerEndpoint: 7, Direction: DirIn},
			{ID: 2, Peer: PeerContainer, PeerUID: "stats", PeerEndpoint: 1, Direction: DirOut, Token: []byte{9}},
			{ID: 3, Peer: PeerRemote, PeerEndpoint: 5683, Direction: DirBoth},
		},
		Security: Security{Timing: DefaultTiming, DataToken: []byte{4}, CodeToken: []byte{5}, MetadataToken: []byte{6, 7}},
	}
	b, err := md.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, md.Security.MetadataToken) {
		t.Error("the metadata token is not the last bytes")
	}
	back.raw = nil
	if !reflect.DeepEqual(back, md) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, md)
	}
	again, err := back.Encode()
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoding differs: %v", err)
	}
	if ep, ok := back.Endpoint(2); !ok || ep.PeerUID != "stats" {
		t.Errorf("Endpoint(2) = %+v, %v", ep, ok)
	}
	if _, ok := back.Endpoint(4); ok {
		t.Error("Endpoint(4) found")
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	base := func() *Metadata {
		return &Metadata{Container: Container{UID: "c", Type: TypeBPF}}
	}
	tests := []struct {
		name   string
		mutate func(*Metadata)
		field  string
	}{
		{"empty uid", func(m *Metadata) { m.Container.UID = "" }, "container.uid"},
		{"long uid", func(m *Metadata) { m.Container.UID = strings.Repeat("u", 64) }, "container.uid"},
		{"bad type", func(m *Metadata) { m.Container.Type = 8 }, "container.type"},
		{"container peer without uid", func(m *Metadata) { m.Endpoints = []Endpoint{{ID: 1, Peer: PeerContainer}} }, "endpoints[0].peer-uid"},
		{"bad direction", func(m *Metadata) { m.Endpoints = []Endpoint{{ID: 1, Peer: PeerLocal, Direction: 3}} }, "endpoints[0].direction"},
		{"bad peer type", func(m *Metadata) { m.Endpoints = []Endpoint{{ID: 1, Peer: 3}} }, "endpoints[0].peer-type"},
		{"duplicate ids", func(m *Metadata) { m.Endpoints = []Endpoint{{ID: 1, Peer: PeerLocal}, {ID: 1, Peer: PeerLocal}} }, "endpoints[1].id"},
		{"too many endpoints", func(m *Metadata) { m.Endpoints = make([]Endpoint, 17) }, "endpoints"},
		{"huge token", func(m *Metadata) { m.Security.CodeToken = make([]byte, 513) }, "code token"},
	}
	for _, tt := range tests {
		m := base()
		tt.mutate(m)
		_, err := m.Encode()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: err = %v, want a FieldError on %q", tt.name, err, tt.field)
		}
	}
}

func TestNamesParse(t *testing.T) {
	for i := range numTypes {
		if got, err := ParseRuntimeType(i.String()); err != nil || got != i {
			t.Errorf("ParseRuntimeType(%q) = %v, %v", i, got, err)
		}
	}
	for i := range numPeerTypes {
		if got, err := ParsePeerType(i.String()); err != nil || got != i {
			t.Errorf("ParsePeerType(%q) = %v, %v", i, got, err)
		}
	}
	for i := range numDirections {
		if got, err := ParseDirection(i.String()); err != nil || got != i {
			t.Errorf("ParseDirection(%q) = %v, %v", i, got, err)
		}
	}
	for _, f := range []func(string) error{
		func(s string) error { _, err := ParseRuntimeType(s); return err },
		func(s string) error { _, err := ParsePeerType(s); return err },
		func(s string) error { _, err := ParseDirection(s); return err },
	} {
		if err := f("sideways"); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("parse of a bad name: %v", err)
		}
	}
	for s, want := range map[string]RuntimeType{"3": TypeBPF, "4": TypeWasm, "0": TypeUndefined, "7": TypePython} {
		if got, err := ParseRuntimeType(s); err != nil || got != want {
			t.Errorf("ParseRuntimeType(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"8", "-1", "256", "03x", " 3"} {
		if got, err := ParseRuntimeType(s); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("ParseRuntimeType(%q) = %v, %v; want an invalid value", s, got, err)
		}
	}
	if !DirIn.CanRead() || DirIn.CanWrite() || DirOut.CanRead() || !DirOut.CanWrite() || !DirBoth.CanRead() || !DirBoth.CanWrite() {
		t.Error("direction permissions are wrong")
	}
}
