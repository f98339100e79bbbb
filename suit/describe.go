package suit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"
)

// Describe writes a readable dump of every field of a decoded envelope:
// the authentication blocks and what they sign, the manifest digest, each
// member and command with its number in the envelope's format, severable
// members and integrated payloads. It checks nothing beyond comparing the
// signed digest with the manifest (no signature is verified: that needs a
// key, see Process).
func Describe(w io.Writer, env *Envelope) error {
	d := &describer{w: w, f: env.Format}
	tag := "untagged"
	if env.Tagged {
		tag = "tag 107"
	}
	d.line(0, "envelope: %s format, %s", env.Format, tag)
	d.auth(env)
	sum := digestOfWrapped(env.ManifestBytes)
	d.line(0, "manifest (3): %d bytes, sha256 of the bstr-wrapped manifest %x", len(env.ManifestBytes), sum)
	if m := env.Manifest; m != nil {
		d.manifest(m)
	}
	for k := SectionKind(0); k < sectionCount; k++ {
		if raw, ok := env.Severed[k]; ok {
			d.severed(env, k, raw)
		}
	}
	names := make([]string, 0, len(env.Integrated))
	for k := range env.Integrated {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		d.line(0, "integrated payload %q: %d bytes", k, len(env.Integrated[k]))
	}
	for _, o := range env.Other {
		d.line(0, "envelope member %d: %s", o.Key, diag(o.Raw))
	}
	return d.err
}

// severed describes a severable member the envelope carries and checks it
// against the digest the manifest holds.
func (d *describer) severed(env *Envelope, k SectionKind, raw []byte) {
	sum := digestOfWrapped(raw)
	verdict := "the manifest holds no digest for it"
	if m := env.Manifest; m != nil && m.Sections[k] != nil && m.Sections[k].Severed != nil {
		want := m.Sections[k].Severed.Bytes
		plain := sha256.Sum256(raw)
		switch {
		case bytes.Equal(want, sum[:]):
			verdict = "matches the manifest's digest"
		case bytes.Equal(want, plain[:]):
			verdict = "DOES NOT match the manifest's digest, which was taken over the member without its bstr header"
		default:
			verdict = fmt.Sprintf("DOES NOT match the manifest's digest %x", want)
		}
	}
	d.line(0, "severable member %s (%d) in the envelope: %d bytes, sha256 of the bstr-wrapped member %x: %s", k.Name(d.f), k.Key(d.f), len(raw), sum, verdict)
}

type describer struct {
	w   io.Writer
	f   Format
	err error
}

func (d *describer) line(indent int, format string, args ...any) {
	if d.err != nil {
		return
	}
	_, d.err = fmt.Fprintf(d.w, "%s%s\n", strings.Repeat("  ", indent), fmt.Sprintf(format, args...))
}

func diag(raw []byte) string {
	s, err := cbor.Diagnose(raw)
	if err != nil {
		return "h'" + hex.EncodeToString(raw) + "'"
	}
	return s
}

func (d *describer) auth(env *Envelope) {
	a := env.Auth
	if a == nil {
		d.line(0, "authentication-wrapper (2): absent (unsigned)")
		return
	}
	d.line(0, "authentication-wrapper (2): %d COSE block(s)", len(a.Blocks))
	sum := digestOfWrapped(env.ManifestBytes)
	check := func(indent int, label string, raw []byte) {
		dg, e := decoder{f: d.f}.digest(&path{name: label}, raw)
		if e != nil {
			d.line(indent, "%s: not a SUIT_Digest: %s", label, diag(raw))
			return
		}
		verdict := "matches the manifest"
		if !bytes.Equal(dg.Bytes, sum[:]) {
			verdict = "DOES NOT match the manifest"
			if bytes.Equal(dg.Bytes, []byte(hex.EncodeToString(sum[:]))) {
				verdict += " (it is the ASCII hex of the manifest digest)"
			}
		}
		d.line(indent, "%s: %s (%d), %d bytes %x: %s", label, dg.Alg, dg.Wire, len(dg.Bytes), dg.Bytes, verdict)
	}
	if d.f == FormatFinal {
		check(1, "digest", a.Digest)
	}
	for i, b := range a.Blocks {
		msg, e := parseBlock(b, d.f, i)
		if e != nil {
			d.line(1, "block %d: %s", i+1, e.Msg)
			continue
		}
		mode := "embedded"
		if d.f == FormatFinal {
			mode = "detached"
		}
		d.line(1, "block %d: COSE_Sign1, alg %s, payload %s, signature %d bytes", i+1, blockAlg(msg), mode, len(msg.Signature))
		if d.f == FormatDraft09 {
			check(2, "signed digest", msg.Payload)
		}
	}
}

func (d *describer) manifest(m *Manifest) {
	d.line(1, "manifest-version (1): %d", m.Version)
	d.line(1, "manifest-sequence-number (2): %d", m.Sequence)
	d.line(1, "common (3):")
	d.line(2, "components (2):")
	for i, c := range m.Components {
		d.line(3, "[%d] %s (location %q)", i, c, c.Location())
	}
	if m.Shared != nil {
		d.line(2, "%s (4):", map[Format]string{FormatDraft09: "common-sequence", FormatFinal: "shared-sequence"}[d.f])
		d.sequence(3, m.Shared)
	}
	for _, o := range m.CommonOther {
		d.line(2, "member %d: %s", o.Key, diag(o.Raw))
	}
	if m.ReferenceURI != "" {
		d.line(1, "reference-uri (4): %q", m.ReferenceURI)
	}
	for k := SectionKind(0); k < sectionCount; k++ {
		s := m.Sections[k]
		if s == nil {
			continue
		}
		name := fmt.Sprintf("%s (%d)", k.Name(d.f), k.Key(d.f))
		switch {
		case s.Severed != nil:
			carried := "not in the envelope"
			if s.Raw != nil {
				carried = "carried in the envelope"
			}
			d.line(1, "%s: severed, digest %s, %s", name, s.Severed, carried)
			switch {
			case s.Commands != nil:
				d.sequence(2, s.Commands)
			case s.Raw != nil:
				d.line(2, "%s", diag(s.Raw))
			}
		case sections[k].commands:
			d.line(1, "%s:", name)
			d.sequence(2, s.Commands)
		default:
			d.line(1, "%s: %s", name, diag(s.Raw))
		}
	}
	for _, o := range m.Other {
		d.line(1, "member %d: %s", o.Key, diag(o.Raw))
	}
}

func (d *describer) sequence(indent int, seq CommandSequence) {
	for _, c := range seq {
		key := c.Key
		if c.Op != OpUnknown && c.Op != OpCustom {
			key = c.Op.Key(d.f)
		}
		name := c.Op.Name(d.f)
		switch ops[c.Op].arg {
		case argPolicy:
			d.line(indent, "%s (%d): %d", name, key, c.Policy)
		case argIndex:
			arg := ""
			switch {
			case c.Index.All:
				arg = "true (all components)"
			case c.Index.None:
				arg = "false (no component)"
			default:
				arg = strings.Trim(fmt.Sprint(c.Index.Indices), "[]")
			}
			d.line(indent, "%s (%d): %s", name, key, arg)
		case argParams:
			d.line(indent, "%s (%d):", name, key)
			d.params(indent+1, c.Params)
		case argTryEach, argSequence:
			d.line(indent, "%s (%d):", name, key)
			for i, s := range c.Seqs {
				d.line(indent+1, "option %d:", i+1)
				d.sequence(indent+2, s)
			}
			if c.TryEachNil {
				d.line(indent+1, "nil (no option succeeding is not a failure)")
			}
		default:
			d.line(indent, "%s (%d): %s", name, key, diag(c.Raw))
		}
	}
}

func (d *describer) params(indent int, p *Parameters) {
	if p == nil {
		return
	}
	show := func(pr Param, v string) {
		d.line(indent, "%s (%d): %s", pr.Name(d.f), pr.Key(d.f), v)
	}
	id := func(b []byte) string {
		if u, err := uuid.FromBytes(b); err == nil {
			return u.String()
		}
		return "h'" + hex.EncodeToString(b) + "'"
	}
	if p.VendorID != nil {
		show(ParamVendorID, id(p.VendorID))
	}
	if p.ClassID != nil {
		show(ParamClassID, id(p.ClassID))
	}
	if p.ImageDigest != nil {
		show(ParamImageDigest, p.ImageDigest.String())
	}
	if p.Slot != nil {
		show(ParamSlot, fmt.Sprint(*p.Slot))
	}
	if p.ImageSize != nil {
		show(ParamImageSize, fmt.Sprint(*p.ImageSize))
	}
	if p.URI != nil {
		show(ParamURI, fmt.Sprintf("%q", *p.URI))
	}
	if p.SourceComponent != nil {
		show(ParamSourceComponent, fmt.Sprint(*p.SourceComponent))
	}
	for _, o := range p.Other {
		d.line(indent, "%s (%d): %s", o.Param.Name(d.f), o.Key, diag(o.Raw))
	}
}
