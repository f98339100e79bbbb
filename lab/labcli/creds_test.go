package labcli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParsePSK(t *testing.T) {
	for in, want := range map[string]string{
		"owner:city=s3cret":           "city owner city s3cret",
		"tenant/coach:coach-7=0x6b65": "coach-7 tenant coach ke",
		"tenant/x:id=a=b":             "id tenant x a=b",
	} {
		id, k, err := parsePSK(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := id + " " + k.Party.String() + " " + string(k.Key); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "owner", "owner:city", "owner:=k", "owner:city=", "boss:x=k", "tenant/:x=k", "tenant:x=k", "owner:x=0xzz"} {
		if _, _, err := parsePSK(bad); !errors.Is(err, ErrCredential) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestKeysFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "keys")
	os.WriteFile(f, []byte("# the box's parties\nowner:city=one\n\ntenant/coach:coach=two\n"), 0o600)
	m, err := readKeysFile(f)
	if err != nil || len(m) != 2 || string(m["coach"].Key) != "two" || m["city"].Party.String() != "owner city" {
		t.Fatalf("%v %v", m, err)
	}
	os.WriteFile(f, []byte("owner:city=one\nowner:city=two\n"), 0o600)
	if _, err := readKeysFile(f); err == nil {
		t.Fatal("a twice-given identity was accepted")
	}
	os.WriteFile(f, []byte("owner:city=one\nnonsense\n"), 0o600)
	if _, err := readKeysFile(f); err == nil || !errors.Is(err, ErrCredential) || err.Error()[len(f):len(f)+3] != ":2:" {
		t.Fatalf("bad line: %v", err)
	}
}

// FuzzParsePSK: any credential text is read or refused with ErrCredential,
// never a panic, and what reads has an identity, a key and a named party.
func FuzzParsePSK(f *testing.F) {
	for _, s := range []string{"owner:city=s3cret", "tenant/coach:c=0x6b65", "tenant/:x=k", "owner:x=0x", "::=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, k, err := parsePSK(s)
		if err != nil {
			if !errors.Is(err, ErrCredential) {
				t.Fatalf("%q: %v is not ErrCredential", s, err)
			}
			return
		}
		if id == "" || len(k.Key) == 0 || k.Party.Name == "" {
			t.Fatalf("%q read as %q %+v", s, id, k)
		}
	})
}
