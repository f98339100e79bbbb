package authz

import (
	"fmt"
	"strings"
	"testing"
)

// TestTable checks every party against every resource and method, under
// each fact that matters: the verdicts are written out here by hand, one row
// per resource and method, so a change to the table shows up as a change to
// this grid.
func TestTable(t *testing.T) {
	parties := []Party{Nobody, {Role: Tenant, Name: "coach"}, {Role: Tenant, Name: "stats"}, {Role: Owner, Name: "city"}}
	facts := []Facts{
		{Tenant: "coach"},      // the container is coach's; the URI is elsewhere
		{FromRepository: true}, // the URI is on a repository; the container is the owner's
	}
	// Each cell: a verdict letter per party (anyone, coach, stats, owner),
	// for the first facts, then "|" and the same for the second facts.
	// A = allow, U = 4.01, F = 4.03.
	want := map[string]string{
		"GET /.well-known/core":    "AAAA|AAAA",
		"POST /.well-known/core":   "AAAA|AAAA",
		"PUT /.well-known/core":    "AAAA|AAAA",
		"DELETE /.well-known/core": "AAAA|AAAA",
		"GET /riot/board":          "AAAA|AAAA",
		"POST /riot/board":         "AAAA|AAAA",
		"PUT /riot/board":          "AAAA|AAAA",
		"DELETE /riot/board":       "AAAA|AAAA",
		"GET /suit/status":         "AAAA|AAAA",
		"POST /suit/status":        "AAAA|AAAA",
		"PUT /suit/status":         "AAAA|AAAA",
		"DELETE /suit/status":      "AAAA|AAAA",
		"GET /suit/trigger":        "AAAA|AAAA",
		"POST /suit/trigger":       "UAAA|AAAA",
		"PUT /suit/trigger":        "UAAA|AAAA",
		"DELETE /suit/trigger":     "AAAA|AAAA",
		"GET /suit/manifest":       "AAAA|AAAA",
		"POST /suit/manifest":      "UAAA|UAAA",
		"PUT /suit/manifest":       "UAAA|UAAA",
		"DELETE /suit/manifest":    "AAAA|AAAA",
		"GET /containers":          "AAAA|AAAA",
		"POST /containers":         "AAAA|AAAA",
		"PUT /containers":          "AAAA|AAAA",
		"DELETE /containers":       "AAAA|AAAA",
		"GET /containers/{uid}":    "UAFA|UFFA",
		"POST /containers/{uid}":   "UAFA|UFFA",
		"PUT /containers/{uid}":    "UAFA|UFFA",
		"DELETE /containers/{uid}": "UAFA|UFFA",
		"GET /bpf/exec/{slot}":     "AAAA|AAAA",
		"POST /bpf/exec/{slot}":    "UFFA|UFFA",
		"PUT /bpf/exec/{slot}":     "AAAA|AAAA",
		"DELETE /bpf/exec/{slot}":  "AAAA|AAAA",
		"GET /container/":          "UFFA|UFFA",
		"POST /container/":         "UFFA|UFFA",
		"PUT /container/":          "UFFA|UFFA",
		"DELETE /container/":       "UFFA|UFFA",
		"GET /device-id/":          "AAAA|AAAA",
		"POST /device-id/":         "UFFA|UFFA",
		"PUT /device-id/":          "AAAA|AAAA",
		"DELETE /device-id/":       "AAAA|AAAA",
	}
	letter := map[Verdict]byte{Allow: 'A', Unauthorized: 'U', Forbidden: 'F'}
	seen := 0
	for _, res := range Resources() {
		for _, m := range Methods() {
			key := m.String() + " " + res.String()
			var got strings.Builder
			for i, f := range facts {
				if i > 0 {
					got.WriteByte('|')
				}
				for _, p := range parties {
					d := Decide(p, res, m, f)
					got.WriteByte(letter[d.Verdict])
					if d.Allowed() == (d.Verdict != Allow) {
						t.Errorf("%s: Allowed() disagrees with %s", d, d.Verdict)
					}
				}
			}
			w, ok := want[key]
			if !ok {
				t.Errorf("%s: no expectation", key)
				continue
			}
			seen++
			if got.String() != w {
				t.Errorf("%s: got %s, want %s", key, got.String(), w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d expectations, %d resource×method pairs", len(want), seen)
	}
}

func TestOwnContainersNeedsAName(t *testing.T) {
	// a container with no tenant (the owner's) is no tenant's own, even for
	// a tenant whose name is empty
	if d := Decide(Party{Role: Tenant}, Container, Post, Facts{}); d.Allowed() {
		t.Fatalf("a nameless tenant got %s", d)
	}
}

func TestResourceOf(t *testing.T) {
	for path, want := range map[string]Resource{
		"/.well-known/core": Discovery, "riot/board": Board, "/suit/status": SuitStatus, "/suit/trigger": SuitTrigger,
		"/suit/manifest": SuitManifest, "/containers": ContainerList, "/containers/coach": Container,
		"/bpf/exec/0": BPFExec, "/container/": TinyContainer, "/container": TinyContainer, "/device-id/": DeviceID,
	} {
		if got, ok := ResourceOf(path); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", path, got, ok, want)
		}
	}
	if _, ok := ResourceOf("/nope"); ok {
		t.Error("/nope is a resource")
	}
}

func TestParseParty(t *testing.T) {
	for in, want := range map[string]string{"owner:city": "owner city", "tenant/coach": "tenant coach", "tenant:x": "tenant x", "anyone": "anyone"} {
		p, err := ParseParty(in)
		if err != nil || p.String() != want {
			t.Errorf("%s: %v %v", in, p, err)
		}
	}
	for _, bad := range []string{"", "owner", "owner:", "boss:x", "tenant"} {
		if _, err := ParseParty(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, s := range []fmt.Stringer{Role(9), Resource(99), Method(9), Rule(99), Verdict(9)} {
		if !strings.Contains(s.String(), "(") {
			t.Errorf("out of range prints %q", s.String())
		}
	}
	d := Decide(Party{Role: Tenant, Name: "stats"}, Container, Post, Facts{Tenant: "coach"})
	if d.String() != "tenant stats POST /containers/{uid}: forbidden (own-containers)" {
		t.Errorf("decision prints %q", d)
	}
}
