package firewall

import (
	"bytes"
	"errors"
	"testing"
)

func TestCallBitsMatchUpstreamSyscalls(t *testing.T) {
	// Upstream: a syscall is allowed when bit (id - 1) is set; heartbeat..write are ids 1..5.
	for id, c := range []Call{CallHeartbeat, CallOpen, CallClose, CallRead, CallWrite} {
		if c.Bit() != uint(id) {
			t.Errorf("%v bit = %d, want %d", c, c.Bit(), id)
		}
		h, ok := HelperByID(0x70 | uint32(id+1))
		if !ok || h.Call != c || h.Name != c.String() {
			t.Errorf("helper 0x%x = %+v, want %v", 0x70|(id+1), h, c)
		}
	}
	want := map[Call]uint{CallLog: 5, CallStore: 6, CallTime: 7, CallSensors: 8, CallMemcpy: 9}
	for c, b := range want {
		if c.Bit() != b {
			t.Errorf("%v bit = %d, want %d", c, c.Bit(), b)
		}
	}
}

func TestParseCallAndGrants(t *testing.T) {
	for _, c := range Calls() {
		got, err := ParseCall(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCall(%q) = %v, %v", c.String(), got, err)
		}
	}
	if _, err := ParseCall("reboot"); !errors.Is(err, ErrUnknownCall) {
		t.Errorf("ParseCall(reboot) err = %v", err)
	}
	tests := []struct {
		in   []string
		want Mask
		err  error
	}{
		{[]string{"heartbeat,read", "write"}, 0b11001, nil},
		{[]string{" Log , memcpy "}, 1<<5 | 1<<9, nil},
		{[]string{""}, 0, nil},
		{[]string{"read,bogus"}, 0, ErrUnknownCall},
	}
	for _, tt := range tests {
		got, err := ParseGrants(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("ParseGrants(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMaskString(t *testing.T) {
	tests := []struct {
		m    Mask
		want string
	}{
		{0, "none"},
		{0xff, "heartbeat,open,close,read,write,log,store,time"},
		{MaskOf(CallSensors, CallMemcpy) | 1<<12, "sensors,memcpy,bit12"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#x.String() = %q, want %q", uint64(tt.m), got, tt.want)
		}
	}
	if !Mask(0xff).Has(CallTime) || Mask(0xff).Has(CallSensors) || Mask(^uint64(0)).Has(Call(200)) {
		t.Error("Has is wrong")
	}
}

func TestMaskBytes(t *testing.T) {
	tests := []struct {
		m    Mask
		want []byte
	}{
		{0, []byte{0}},
		{0xff, []byte{0xff}},
		{0x3ff, []byte{0x03, 0xff}},
		{1 << 63, []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		got := tt.m.Bytes()
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%#x.Bytes() = %x, want %x", uint64(tt.m), got, tt.want)
		}
		back, err := MaskFromBytes(got)
		if err != nil || back != tt.m {
			t.Errorf("MaskFromBytes(%x) = %v, %v", got, back, err)
		}
	}
	// The claim's LSB is bit 0 of the rightmost byte; leading zeros are fine.
	if m, err := MaskFromBytes([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02}); err != nil || m != 0x0102 {
		t.Errorf("leading zeros: %v, %v", m, err)
	}
	if _, err := MaskFromBytes([]byte{}); err != nil {
		t.Errorf("empty bitmask: %v", err)
	}
	if _, err := MaskFromBytes([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0}); !errors.Is(err, ErrLimit) {
		t.Errorf("9 significant bytes: err = %v", err)
	}
}

func TestHelpers(t *testing.T) {
	want := map[uint32]Call{
		0x01: CallLog, 0x02: CallMemcpy, 0x10: CallStore, 0x11: CallStore, 0x12: CallStore, 0x13: CallStore,
		0x20: CallTime, 0x30: CallSensors, 0x31: CallSensors, 0x32: CallSensors, 0x60: CallTime, 0x61: CallTime,
		0x71: CallHeartbeat, 0x72: CallOpen, 0x73: CallClose, 0x74: CallRead, 0x75: CallWrite,
	}
	hs := Helpers()
	if len(hs) != len(want) {
		t.Fatalf("%d helpers, want %d", len(hs), len(want))
	}
	for _, h := range hs {
		if want[h.ID] != h.Call {
			t.Errorf("helper %#x %s -> %v, want %v", h.ID, h.Name, h.Call, want[h.ID])
		}
		if got, ok := HelperByID(h.ID); !ok || got != h {
			t.Errorf("HelperByID(%#x) = %+v, %v", h.ID, got, ok)
		}
	}
	for _, id := range []uint32{0, 3, 0x70, 0x76, 0x80, 1 << 31} {
		if _, ok := HelperByID(id); ok {
			t.Errorf("HelperByID(%#x) found a helper", id)
		}
	}
	hs[0].Name = "changed"
	if h, _ := HelperByID(0x01); h.Name != "printf" {
		t.Error("Helpers returned the table itself")
	}
}

// TestHelperByName: every helper by its own name, upstream's WebAssembly
// native names (module "env") onto the same helpers, nothing else.
func TestHelperByName(t *testing.T) {
	for _, h := range Helpers() {
		if got, ok := HelperByName(h.Name); !ok || got != h {
			t.Errorf("HelperByName(%q) = %+v, %v", h.Name, got, ok)
		}
	}
	for _, c := range []struct {
		name string
		id   uint32
	}{{"logger", 0x01}, {"open", 0x72}, {"read", 0x74}, {"write", 0x75}, {"close", 0x73}, {"heartbeat", 0x71}, {"saul_reg_read", 0x32}} {
		if got, ok := HelperByName(c.name); !ok || got.ID != c.id {
			t.Errorf("HelperByName(%q) = %+v, %v; want helper %#x", c.name, got, ok, c.id)
		}
	}
	for _, name := range []string{"", "Logger", "fd_write", "bpf_printf", "printf "} {
		if h, ok := HelperByName(name); ok {
			t.Errorf("HelperByName(%q) found %+v", name, h)
		}
	}
}
