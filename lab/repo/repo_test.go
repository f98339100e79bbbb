package repo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tinylab/device/coapnet"
)

func serve(t *testing.T, r *Repo) (*coapnet.Stateless, *coapnet.Server) {
	t.Helper()
	srv, err := r.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cli, err := coapnet.Listen("127.0.0.1:0", nil, coapnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cli.Close)
	return srv, cli
}

func get(t *testing.T, cli *coapnet.Server, uri string) ([]byte, error) {
	t.Helper()
	tgt, err := coapnet.ParseURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = cli.Get(context.Background(), tgt, coapnet.SZXFor(64), &b, nil)
	return b.Bytes(), err
}

func TestServesFolderAndMemoryFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fw"), 0o755); err != nil {
		t.Fatal(err)
	}
	disk := bytes.Repeat([]byte("riot"), 700)
	if err := os.WriteFile(filepath.Join(dir, "fw", "app.bin"), disk, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	mem := []byte("signed manifest bytes")
	if err := r.Put("coach/v1.suit", mem); err != nil {
		t.Fatal(err)
	}
	srv, cli := serve(t, r)
	if b, err := get(t, cli, srv.URI()+"/fw/app.bin"); err != nil || !bytes.Equal(b, disk) {
		t.Fatalf("folder file: %d bytes, %v", len(b), err)
	}
	if b, err := get(t, cli, srv.URI()+"/coach/v1.suit"); err != nil || !bytes.Equal(b, mem) {
		t.Fatalf("memory file: %q, %v", b, err)
	}
	if r.Served("/coach/v1.suit") != 1 {
		t.Fatalf("served count = %d", r.Served("/coach/v1.suit"))
	}
	b, err := get(t, cli, srv.URI()+"/.well-known/core")
	if err != nil || string(b) != "</coach/v1.suit>,</fw/app.bin>" {
		t.Fatalf("well-known/core = %q, %v", b, err)
	}
	if b, err := get(t, cli, srv.URI()+"/"); err != nil || string(b) != "</coach/>,</fw/>" {
		t.Fatalf("root listing = %q, %v", b, err)
	}
	if _, err := get(t, cli, srv.URI()+"/missing"); !errors.Is(err, coapnet.ErrStatus) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestTamperChangesWhatIsServed(t *testing.T) {
	r, _ := New("")
	_ = r.Put("/p.bin", []byte{1, 2, 3})
	r.SetTamper(func(p string, d []byte) []byte { d[0] ^= 0xff; return d })
	srv, cli := serve(t, r)
	if b, _ := get(t, cli, srv.URI()+"/p.bin"); !bytes.Equal(b, []byte{0xfe, 2, 3}) {
		t.Fatalf("tampered = %v", b)
	}
	r.SetTamper(nil)
	if b, _ := get(t, cli, srv.URI()+"/p.bin"); !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Fatalf("after tamper removed = %v", b)
	}
}

func TestRefusesPathsOutsideTheRepository(t *testing.T) {
	for _, p := range []string{"../etc/passwd", "/a/../../b", "a\\b", "x\x00"} {
		if _, err := clean(p); !errors.Is(err, ErrBadPath) {
			t.Errorf("clean(%q) = %v", p, err)
		}
	}
	r, _ := New("")
	if err := r.Put("/", []byte("x")); err == nil {
		t.Error("Put at the root should fail")
	}
}

// TestLibcoapClientFetchesBlockwise drives the repository with a peer we did
// not write: libcoap's coap-client (Debian libcoap3-bin).
func TestLibcoapClientFetchesBlockwise(t *testing.T) {
	bin, err := exec.LookPath("coap-client-notls")
	if err != nil {
		t.Skip("coap-client-notls not installed (Debian package libcoap3-bin)")
	}
	r, _ := New("")
	want := bytes.Repeat([]byte("0123456789abcdef"), 300) // 4800 bytes
	_ = r.Put("/big.bin", want)
	srv, _ := serve(t, r)
	out := filepath.Join(t.TempDir(), "out.bin")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-m", "get", "-b", "64", "-o", out, srv.URI()+"/big.bin")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("coap-client: %v\n%s", err, msg)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want) {
		t.Fatalf("coap-client got %d bytes, want %d", len(got), len(want))
	}
	cmd = exec.CommandContext(ctx, bin, "-m", "get", srv.URI()+"/.well-known/core")
	msg, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(msg), "</big.bin>") {
		t.Fatalf("coap-client discovery: %v\n%s", err, msg)
	}
}
