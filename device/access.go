package device

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"

	"tinylab/device/authz"
	"tinylab/device/coapnet"
)

// Access is who the device answers to (DESIGN §5b). The zero value is a
// secure device that knows no party yet: plain CoAP gets anyone's
// authority, and so does every DTLS identity.
type Access struct {
	// Insecure gives plain CoAP the owner's authority: the demo mode, which
	// anyone on the network can manage. Whoever sets it must say so loudly.
	Insecure bool
	// Identities says which party each DTLS PSK identity is. The keys live
	// with the DTLS listener, never in the device's logic.
	Identities map[string]authz.Party
	// Signers names the tenant of each trusted SUIT key, by fingerprint
	// (suit.PublicKey.Fingerprint): a container it signs is that tenant's.
	// A key that is not here (the maintainer's) ships the owner's containers.
	Signers map[string]string
	// Repositories are the update repositories anyone may trigger an update
	// from, as the URI names them: "host" or "host:port".
	Repositories []string
}

// Handler is the device's resources over plain CoAP: anyone's authority,
// or the owner's in the insecure demo mode.
func (d *Device) Handler() mux.Handler {
	return d.handler(func(mux.ResponseWriter) authz.Party {
		if d.cfg.Access.Insecure {
			return authz.Party{Role: authz.Owner, Name: "insecure"}
		}
		return authz.Nobody
	})
}

// SecureHandler is the device's resources over DTLS: the party is the one
// the session's PSK identity names.
func (d *Device) SecureHandler() mux.Handler {
	return d.handler(func(w mux.ResponseWriter) authz.Party {
		s, ok := coapnet.PeerSession(w)
		if !ok {
			return authz.Nobody
		}
		if p, known := d.cfg.Access.Identities[s.Identity]; known {
			return p
		}
		return authz.Nobody
	})
}

// Refused: the device refused a request because of who sent it (the
// authority table, device/authz); nothing changed.
type Refused struct {
	Party     string `json:"party"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Rule      string `json:"rule"`
	Code      string `json:"code"` // 4.01 or 4.03
	Container string `json:"container,omitempty"`
	Why       string `json:"why"`
}

// KindRefused is the transcript kind of refusals.
var KindRefused = RegisterKind[Refused]("refused")

func (Refused) Kind() Kind { return KindRefused }

func (e Refused) String() string {
	return fmt.Sprintf("refused: %s %s %s (%s, rule %s: %s)", e.Party, e.Method, e.Path, e.Code, e.Rule, e.Why)
}

// Refusals is how many requests the device refused for their party.
func (d *Device) Refusals() uint64 { return d.refusals }

var methodOf = map[codes.Code]authz.Method{codes.GET: authz.Get, codes.POST: authz.Post, codes.PUT: authz.Put, codes.DELETE: authz.Delete}

// authorize asks the table about one request; a refusal is answered,
// reported and counted here, and the resource never runs. It runs in the world.
func (d *Device) authorize(w mux.ResponseWriter, r *mux.Message, p authz.Party, path string) bool {
	res, known := authz.ResourceOf(path)
	m, isMethod := methodOf[r.Code()]
	if !known || !isMethod {
		return true // the resource answers 4.04 or 4.05 alike for everyone
	}
	var f authz.Facts
	uid := ""
	switch res {
	case authz.Container:
		uid = strings.TrimPrefix(path, "/containers/")
		c := d.container(uid)
		if c == nil && p.Role != authz.Anyone {
			return true // 4.04 for a caller with credentials
		}
		if c != nil {
			f.Tenant = c.tenant
		}
	case authz.SuitTrigger:
		b, _ := r.ReadBody()
		f.FromRepository = d.fromRepository(strings.TrimSpace(string(b)))
	}
	dec := authz.Decide(p, res, m, f)
	if dec.Allowed() {
		return true
	}
	code, name := codes.Forbidden, "4.03"
	if dec.Verdict == authz.Unauthorized {
		code, name = codes.Unauthorized, "4.01"
	}
	d.refusals++
	d.emit(Refused{Party: p.String(), Method: m.String(), Path: path, Rule: dec.Rule.String(), Code: name, Container: uid, Why: dec.Why()})
	text(w, code, fmt.Sprintf("%s may not %s %s: %s", p, m, path, dec.Why()))
	return false
}

// fromRepository says a trigger's URI is on one of the device's
// repositories. It only reads the URI: nothing is resolved.
func (d *Device) fromRepository(uri string) bool {
	u, err := coapnet.ReadURI(uri)
	if err != nil {
		return false
	}
	return slices.Contains(d.cfg.Access.Repositories, u.Host) || slices.Contains(d.cfg.Access.Repositories, u.HostPort())
}

// listFor is /containers as party p may read it: the owner sees every
// counter; a tenant sees its own containers in full and the others' uid
// and state; anyone sees uids and states.
func (d *Device) listFor(p authz.Party) []ContainerInfo {
	list := []ContainerInfo{}
	for _, c := range d.Containers() {
		info := c.Info()
		if p.Role != authz.Owner && (p.Role != authz.Tenant || c.tenant != p.Name) {
			info = ContainerInfo{UID: info.UID, Slot: info.Slot, State: info.State, Runtime: info.Runtime, Since: info.Since, Tenant: info.Tenant, LastBeatMs: -1, brief: true}
		}
		list = append(list, info)
	}
	return list
}

// tenantOf names the tenant a SUIT signer's containers belong to.
func (d *Device) tenantOf(fingerprint string) string { return d.cfg.Access.Signers[fingerprint] }

// assignTenant gives a container loaded over /container/ (by the owner
// alone) to the tenant option 65007 names; without it the container is the
// owner's.
func (d *Device) assignTenant(c *Container, r *mux.Message) {
	if t, err := r.Options().GetBytes(coapnet.OptTenant); err == nil && len(t) > 0 && len(t) <= 64 && string(t) != c.tenant {
		c.tenant = string(t)
		d.persist(c)
	}
}
