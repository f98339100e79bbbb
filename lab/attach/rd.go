package attach

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

// Found is an endpoint an RD lists.
type Found struct {
	Endpoint string // ep=, or the registration's path when the RD does not say
	Base     string // the device's coap:// URI; "" when the RD keeps none
	Reg      string // the registration resource
}

// ErrNoBase is returned for a registration whose address the RD does not
// give: libcoap's RD keeps neither base= nor an IPv4 source address, so a
// device registered there is found only if its links are absolute.
var ErrNoBase = errors.New("the RD gives no address for this endpoint")

// Discover lists what an RD knows: through the RFC 9176 endpoint lookup when
// it has one (rt=core.rd-lookup-ep), else, as libcoap's RD offers, through
// its /.well-known/core, where each registration is a </rd/...> link whose
// GET returns the links the device sent.
func Discover(ctx context.Context, d Dialer, rd string) ([]Found, error) {
	sess, err := d.Dial(ctx, rd)
	if err != nil {
		return nil, err
	}
	core, err := getLinks(ctx, sess, "/.well-known/core")
	if err != nil {
		return nil, fmt.Errorf("RD %s: %w", rd, err)
	}
	for _, l := range core {
		if l.HasType("core.rd-lookup-ep") {
			return lookupEP(ctx, sess, rd, l.Target)
		}
	}
	var out []Found
	for _, l := range core {
		if !strings.HasPrefix(l.Target, "/rd/") {
			continue
		}
		f := Found{Endpoint: l.Target, Reg: l.Target}
		if ep, ok := l.Attr("ep"); ok {
			f.Endpoint = ep
		}
		links, err := getLinks(ctx, sess, l.Target)
		if err != nil {
			return nil, fmt.Errorf("RD %s: registration %s: %w", rd, l.Target, err)
		}
		for _, k := range links {
			if u, err := url.Parse(k.Target); err == nil && u.IsAbs() && (u.Scheme == "coap" || u.Scheme == "coaps") {
				f.Base = u.Scheme + "://" + u.Host
				break
			}
		}
		out = append(out, f)
	}
	return out, nil
}

func lookupEP(ctx context.Context, sess Session, rd, path string) ([]Found, error) {
	links, err := getLinks(ctx, sess, path)
	if err != nil {
		return nil, fmt.Errorf("RD %s: lookup: %w", rd, err)
	}
	out := make([]Found, 0, len(links))
	for _, l := range links {
		f := Found{Endpoint: l.Target, Reg: l.Target}
		if ep, ok := l.Attr("ep"); ok {
			f.Endpoint = ep
		}
		f.Base, _ = l.Attr("base")
		out = append(out, f)
	}
	return out, nil
}

func getLinks(ctx context.Context, sess Session, path string) ([]coapnet.Link, error) {
	resp, err := sess.Do(ctx, path, codes.GET, message.AppLinkFormat, nil)
	if err != nil {
		return nil, err
	}
	if resp.Code != codes.Content {
		return nil, &coapnet.StatusError{Code: resp.Code, Text: string(resp.Body)}
	}
	return coapnet.ParseLinks(string(resp.Body))
}

// AttachRD attaches every endpoint the RD lists that is not attached yet,
// named by its ep; it returns those it attached and, for those it could
// not, why.
func (a *Attacher) AttachRD(ctx context.Context, rd string) (added []string, errs []error) {
	return a.AttachRDWhere(ctx, rd, nil)
}

// AttachRDWhere is AttachRD for the endpoints keep accepts (nil: all).
func (a *Attacher) AttachRDWhere(ctx context.Context, rd string, keep func(Found) bool) (added []string, errs []error) {
	found, err := Discover(ctx, a.o.Dialer, rd)
	if err != nil {
		return nil, []error{err}
	}
	for _, f := range found {
		if keep != nil && !keep(f) {
			continue
		}
		a.mu.Lock()
		_, have := a.remotes[f.Endpoint]
		a.mu.Unlock()
		if have {
			continue
		}
		if f.Base == "" {
			errs = append(errs, fmt.Errorf("%s (%s): %w", f.Endpoint, f.Reg, ErrNoBase))
			continue
		}
		if err := a.Attach(f.Endpoint, f.Base); err != nil {
			errs = append(errs, err)
			continue
		}
		added = append(added, f.Endpoint)
	}
	return added, errs
}
