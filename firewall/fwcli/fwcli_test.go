package fwcli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tinylab/firewall"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantContains(t *testing.T, what, text string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
}

func TestCreateShowRoundTrip(t *testing.T) {
	dir := t.TempDir()
	owner := filepath.Join(dir, "owner")
	if code, out, errs := run("keygen", "-o", owner); code != 0 || !strings.Contains(out, "owner.pem.pub") {
		t.Fatalf("keygen: %d %s %s", code, out, errs)
	}
	if code, _, errs := run("keygen", "-o", owner); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("keygen over existing files: %d %s", code, errs)
	}
	code := write(t, filepath.Join(dir, "coach.bin"), []byte("\x95\x00\x00\x00\x00\x00\x00\x00"))
	data := write(t, filepath.Join(dir, "coach.data"), []byte("reps=12"))
	meta := filepath.Join(dir, "coach.meta")

	rc, out, errs := run("create", "--uid", "coach", "--code", code, "--data", data,
		"--grant", "heartbeat,open,read", "--grant", "close,log",
		"--endpoint", "1:local:3:in", "--endpoint", "2:container:stats:1:out", "--endpoint", "3:remote:5683:both",
		"--loop-period-ms", "500", "-k", owner+".pem", "-o", meta)
	if rc != 0 {
		t.Fatalf("create: %d %s %s", rc, out, errs)
	}
	wantContains(t, "create output", out, `container "coach"`, "grants heartbeat,open,close,read,log", "3 endpoints")

	// Flags after the file name work too.
	rc, out, errs = run("show", meta, "--owner", owner+".pem.pub", "--code", code, "--data", data)
	if rc != 0 {
		t.Fatalf("show: %d\n%s%s", rc, out, errs)
	}
	wantContains(t, "show output", out,
		`uid "coach", type bpf (3)`,
		"loop period 500 ms",
		`2         container "stats" endpoint 1, out`,
		"calls heartbeat,open,close,read,log",
		"endpoint 1 (local peer endpoint 3, in): open, read, close",
		`endpoint 2 (container "stats" endpoint 1, out): open, close (while container "stats" runs)`,
		"endpoint 3 (remote peer endpoint 5683, both): open, read, close",
		"signing cose",
	)
	if strings.Contains(out, "FAIL") {
		t.Errorf("show reports a failure:\n%s", out)
	}

	other := write(t, filepath.Join(dir, "other.data"), []byte("reps=13"))
	rc, out, _ = run("show", "--owner", owner+".pem.pub", "--code", code, "--data", other, meta)
	if rc != 1 {
		t.Errorf("show with other data: exit %d", rc)
	}
	wantContains(t, "show with other data", out, "data", "FAIL: data token: digest: digest mismatch", "would allow nothing")

	rc, out, _ = run("show", meta)
	if rc != 0 {
		t.Errorf("show without owner: exit %d", rc)
	}
	wantContains(t, "show without owner", out, "not verified (give --owner)", "unverified", "bitmask 2f: heartbeat,open,close,read,log")
}

func TestShowUpstream(t *testing.T) {
	dir := "../../../shared/testdata/tinycontainer"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("upstream TinyContainer test data not found at %s: %v", dir, err)
	}
	const demo = "112ff4c9cddecbe153d72dcd7c5ffaf2bfc77603fd8478e300bafe8dd1946078"
	meta, data := filepath.Join(dir, "simple_container.metadata"), filepath.Join(dir, "simple_container.data")

	rc, out, _ := run("show", meta, "--owner", demo, "--data", data, "--upstream-signing")
	if rc != 1 {
		t.Errorf("exit %d, want 1 (data digest mismatch)", rc)
	}
	wantContains(t, "upstream show", out,
		`uid "simple_container", type wasm (4)`,
		"123       local peer endpoint 10, both",
		"start max 100 ms, loop period 1000 ms, loop max 100 ms, lifetime 1000 loops, stop max 100 ms",
		"signing upstream-raw-payload",
		"syscall-mask  76 bytes  ok (upstream raw-payload signature)",
		"bitmask ff: heartbeat,open,close,read,write,log,store,time",
		"data         111 bytes  FAIL: data token: digest: digest mismatch",
		"code         111 bytes  signature ok, digest not checked (give --code)",
		"metadata     111 bytes  ok (upstream raw-payload signature)",
	)

	rc, out, _ = run("show", meta, "--owner", demo, "--data", data)
	if rc != 1 || strings.Count(out, "bad signature") != 4 || !strings.Contains(out, "raw payload") {
		t.Errorf("standard COSE: exit %d\n%s", rc, out)
	}
}

func TestUsageAndErrors(t *testing.T) {
	dir := t.TempDir()
	code := write(t, filepath.Join(dir, "c.bin"), []byte{0x95, 0, 0, 0, 0, 0, 0, 0})
	key := filepath.Join(dir, "k")
	if rc, _, _ := run("keygen", "--out", key); rc != 0 {
		t.Fatal("keygen")
	}
	garbage := write(t, filepath.Join(dir, "garbage"), []byte{0xa0})
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"sign"}, 2, "unknown command"},
		{"help", []string{"help"}, 0, ""},
		{"create -h", []string{"create", "-h"}, 0, ""},
		{"create without uid", []string{"create", "--code", code, "-k", key + ".pem", "-o", filepath.Join(dir, "o")}, 2, "--uid is required"},
		{"create with unknown flag", []string{"create", "--colour", "red"}, 2, "flag provided but not defined"},
		{"create with extra argument", []string{"create", "extra"}, 2, "unexpected argument"},
		{"create with bad grant", []string{"create", "--uid", "u", "--code", code, "--grant", "reboot", "-k", key + ".pem", "-o", filepath.Join(dir, "o")}, 1, "unknown call"},
		{"create with bad endpoint", []string{"create", "--uid", "u", "--code", code, "--endpoint", "1:local:3", "-k", key + ".pem", "-o", filepath.Join(dir, "o")}, 1, "too few fields"},
		{"create with bad timing", []string{"create", "--loop-period-ms", "-5"}, 2, "invalid value"},
		{"create with public key", []string{"create", "--uid", "u", "--code", code, "-k", key + ".pem.pub", "-o", filepath.Join(dir, "o")}, 1, "PRIVATE KEY"},
		{"create with long uid", []string{"create", "--uid", strings.Repeat("u", 64), "--code", code, "-k", key + ".pem", "-o", filepath.Join(dir, "o")}, 1, "container.uid"},
		{"show without file", []string{"show"}, 2, "usage"},
		{"show missing file", []string{"show", filepath.Join(dir, "none")}, 1, "no such file"},
		{"show garbage", []string{"show", garbage}, 1, "want tag 6082514239057121876"},
		{"show with bad owner", []string{"show", garbage, "--owner", "beef"}, 1, ""},
		{"keygen without name", []string{"keygen"}, 2, "usage"},
	}
	for _, tt := range tests {
		rc, out, errs := run(tt.args...)
		if rc != tt.code || !strings.Contains(out+errs, tt.msg) {
			t.Errorf("%s: exit %d, want %d with %q\n%s%s", tt.name, rc, tt.code, tt.msg, out, errs)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want firewall.Endpoint
		err  string
	}{
		{"1:local:3:in", firewall.Endpoint{ID: 1, Peer: firewall.PeerLocal, PeerEndpoint: 3, Direction: firewall.DirIn}, ""},
		{"7:remote:5683:both", firewall.Endpoint{ID: 7, Peer: firewall.PeerRemote, PeerEndpoint: 5683, Direction: firewall.DirBoth}, ""},
		{"2:container:stats:1:out", firewall.Endpoint{ID: 2, Peer: firewall.PeerContainer, PeerUID: "stats", PeerEndpoint: 1, Direction: firewall.DirOut}, ""},
		{"2:container:a:b:9:in", firewall.Endpoint{ID: 2, Peer: firewall.PeerContainer, PeerUID: "a:b", PeerEndpoint: 9, Direction: firewall.DirIn}, ""},
		{"2:container:1:out", firewall.Endpoint{}, "needs UID"},
		{"1:local:3:4:in", firewall.Endpoint{}, "too many fields"},
		{"x:local:3:in", firewall.Endpoint{}, "id is not"},
		{"1:sensor:3:in", firewall.Endpoint{}, "peer type"},
		{"1:local:3:sideways", firewall.Endpoint{}, "direction"},
		{"1:local:-3:in", firewall.Endpoint{}, "peer endpoint"},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got.ID != tt.want.ID || got.Peer != tt.want.Peer || got.PeerUID != tt.want.PeerUID ||
			got.PeerEndpoint != tt.want.PeerEndpoint || got.Direction != tt.want.Direction {
			t.Errorf("%q = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestCreateContainerType: the type comes from the code (WebAssembly's
// \0asm magic, eBPF otherwise) unless --type names one, by name or number;
// a --type the code contradicts is written, with a note.
func TestCreateContainerType(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if rc, _, errs := run("keygen", "-o", key); rc != 0 {
		t.Fatal("keygen:", errs)
	}
	ebpf := write(t, filepath.Join(dir, "c.bin"), []byte{0x95, 0, 0, 0, 0, 0, 0, 0})
	wasm := write(t, filepath.Join(dir, "c.wasm"), []byte("\x00asm\x01\x00\x00\x00"))
	tests := []struct {
		name string
		code string
		typ  []string
		rc   int
		want firewall.RuntimeType
		msg  string // in stderr
	}{
		{"ebpf code", ebpf, nil, 0, firewall.TypeBPF, ""},
		{"wasm code", wasm, nil, 0, firewall.TypeWasm, ""},
		{"wasm named", wasm, []string{"--type", "wasm"}, 0, firewall.TypeWasm, ""},
		{"bpf by number", ebpf, []string{"--type", "3"}, 0, firewall.TypeBPF, ""},
		{"wasm by number", wasm, []string{"--type", "4"}, 0, firewall.TypeWasm, ""},
		{"contradicted", ebpf, []string{"--type", "wasm"}, 0, firewall.TypeWasm, "the code looks like bpf but --type is wasm"},
		{"bad number", ebpf, []string{"--type", "9"}, 1, 0, `runtime type "9"`},
		{"bad name", wasm, []string{"--type", "wamr"}, 1, 0, `runtime type "wamr"`},
	}
	for i, tt := range tests {
		out := filepath.Join(dir, tt.name+".meta")
		args := append([]string{"create", "--uid", "u", "--code", tt.code, "-k", key + ".pem", "-o", out}, tt.typ...)
		rc, stdout, errs := run(args...)
		if rc != tt.rc || !strings.Contains(errs, tt.msg) {
			t.Errorf("%d %s: exit %d, want %d with %q\n%s%s", i, tt.name, rc, tt.rc, tt.msg, stdout, errs)
			continue
		}
		if rc != 0 {
			continue
		}
		if tt.msg == "" && errs != "" {
			t.Errorf("%s: unexpected stderr %q", tt.name, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		md, err := firewall.DecodeMetadata(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if md.Container.Type != tt.want {
			t.Errorf("%s: metadata type %v, want %v", tt.name, md.Container.Type, tt.want)
		}
	}
}
