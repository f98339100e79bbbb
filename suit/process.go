package suit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Config is what a device brings to an update.
type Config struct {
	Keys              []PublicKey // trusted signers (Ed25519 and/or P-256)
	VendorID, ClassID uuid.UUID
	Storage           Storage  // required
	Fetcher           Fetcher  // nil: only integrated payloads and Payloads
	Seq               SeqStore // required
	// Payloads are payloads given in memory, by location (".ram.0"); they
	// are used before the Fetcher.
	Payloads map[string][]byte
	// Policy is asked before the first fetch, after RIOT's own policy
	// (version, sequence number, vendor and class validated); an error
	// refuses the update with CodePolicyForbidden.
	Policy func(m *Manifest) error
	// SignerPolicy is asked with Policy, with the trusted key whose
	// signature verified: a device that gives each signer its own
	// containers refuses one signer's update of another's (CodePolicyForbidden).
	SignerPolicy func(m *Manifest, signer PublicKey) error
	// OnEvent is called synchronously, in order, for every event.
	OnEvent func(Event)
	// Formats are the wire formats accepted; empty means both. A RIOT-like
	// client accepts only FormatDraft09.
	Formats []Format
}

// Installed is one component an update installed.
type Installed struct {
	Location string
	Size     uint64
	SHA256   [32]byte
}

// Report is the result of a successful update.
type Report struct {
	Sequence  uint64
	Installed []Installed
	Format    Format
}

// RIOT's policy bits (sys/include/suit/policy.h): what must be validated
// before anything is fetched.
const (
	validatedVersion = 1 << iota
	validatedSeq
	validatedVendor
	validatedClass
	validatedAll = validatedVersion | validatedSeq | validatedVendor | validatedClass
)

type component struct {
	id          ComponentID
	loc         string
	p           Parameters
	fetched     bool
	fetchFailed bool
	matched     bool
	staged      Staged
	sum         [32]byte
	summed      bool
}

type proc struct {
	ctx       context.Context
	cfg       *Config
	env       *Envelope
	signer    PublicKey // the trusted key whose signature verified
	m         *Manifest
	f         Format
	comps     []*component
	cur       []int
	validated int
	policyOK  bool
}

// Process runs the update procedure on an envelope, in RIOT's order:
// signature, manifest digest, version, sequence number, components and
// their storage, the common sequence (vendor and class), then install
// (policy, fetch, image-match) and validate, then the commit and the new
// sequence number. Every step is reported to cfg.OnEvent. On failure it
// returns a *Error, erases what it staged and changes nothing installed; the
// stored sequence number advances only after every fetched component
// matched its digest and Commit succeeded. Cancelling ctx is a power cut:
// the procedure stops at the next command or payload block.
func Process(ctx context.Context, cfg Config, envelope []byte) (*Report, error) {
	p := &proc{ctx: ctx, cfg: &cfg}
	rep, e := p.run(envelope)
	if e != nil {
		for _, c := range p.comps {
			if c.staged != nil {
				c.staged.Erase()
				c.staged = nil
			}
		}
		return nil, e
	}
	return rep, nil
}

func (p *proc) emit(ev Event) {
	if p.cfg.OnEvent != nil {
		p.cfg.OnEvent(ev)
	}
}

func (p *proc) started(step Step, comp, format string, args ...any) {
	p.emit(Event{Step: step, Status: Started, Component: comp, Message: fmt.Sprintf(format, args...)})
}

func (p *proc) passed(step Step, comp, format string, args ...any) {
	p.emit(Event{Step: step, Status: Passed, Component: comp, Message: fmt.Sprintf(format, args...)})
}

// fail reports e as a Failed event and returns it.
func (p *proc) fail(e *Error, comp string) *Error {
	p.emit(Event{Step: e.Step, Status: Failed, Component: comp, Message: e.Msg, Code: e.Code})
	return e
}

func (p *proc) failf(code Code, step Step, comp, format string, args ...any) *Error {
	return p.fail(newError(code, step, format, args...), comp)
}

// interrupted reports a power cut (ctx cancelled) at step.
func (p *proc) interrupted(step Step) *Error {
	if err := p.ctx.Err(); err != nil {
		return p.fail(&Error{Code: CodeStorage, Step: step, Msg: "interrupted (power cut)", Err: err}, "")
	}
	return nil
}

// asError turns an error from the device's storage or fetcher into a
// *Error: its own code when it is one, otherwise code.
func asError(err error, code Code, step Step, msg string) *Error {
	var se *Error
	if errors.As(err, &se) {
		return &Error{Code: se.Code, Step: step, Msg: msg + ": " + se.Msg, Err: se.Err}
	}
	return &Error{Code: code, Step: step, Msg: msg, Err: err}
}

func (p *proc) run(envelope []byte) (*Report, *Error) {
	if p.cfg.Storage == nil {
		return nil, p.failf(CodeStorageUnavailable, StepEnvelope, "", "no storage configured")
	}
	if p.cfg.Seq == nil {
		return nil, p.failf(CodeStorage, StepEnvelope, "", "no sequence number store configured")
	}
	if e := p.interrupted(StepEnvelope); e != nil {
		return nil, e
	}
	env, e := decodeEnvelope(envelope, formatsOf(p.cfg.Formats))
	if e != nil {
		return nil, p.fail(e, "")
	}
	p.env, p.f = env, env.Format
	if len(env.Other) > 0 {
		o := env.Other[0]
		name := "unknown"
		if o.Key == keyDelegation && p.f == FormatDraft09 {
			name = "delegation"
		}
		return nil, p.failf(CodeUnsupported, StepEnvelope, "", "envelope member %d (%s) is not supported", o.Key, name)
	}
	tag := "untagged"
	if env.Tagged {
		tag = "tag 107"
	}
	p.passed(StepEnvelope, "", "%s envelope (%s), %d bytes", p.f, tag, len(envelope))

	signed, e := p.signature()
	if e != nil {
		return nil, e
	}
	if e := p.manifestDigest(signed); e != nil {
		return nil, e
	}
	m, e := decodeManifest(env.ManifestBytes, p.f)
	if e != nil {
		return nil, p.fail(e, "")
	}
	p.m, env.Manifest = m, m
	p.passed(StepManifest, "", "manifest of %d bytes decoded", len(env.ManifestBytes))

	if m.Version != 1 {
		// RIOT's _version_handler answers a wrong version with
		// SUIT_ERR_SEQUENCE_NUMBER; kept for fidelity.
		return nil, p.failf(CodeSequenceNumber, StepVersion, "", "manifest version %d, supported 1", m.Version)
	}
	p.validated |= validatedVersion
	p.passed(StepVersion, "", "suit: validated manifest version")

	if e := p.sequenceNumber(); e != nil {
		return nil, e
	}
	if e := p.components(); e != nil {
		return nil, e
	}
	if e := p.section("common", m.Shared); e != nil {
		return nil, e
	}
	if e := p.severable(); e != nil {
		return nil, e
	}
	if len(m.Other) > 0 {
		o := m.Other[0]
		return nil, p.failf(CodeUnsupported, StepSection, "", "manifest member %d is not supported", o.Key)
	}
	for k := SectionKind(0); k < sectionCount; k++ {
		s := m.Sections[k]
		if s == nil {
			continue
		}
		switch k {
		case SectionInstall, SectionValidate:
			if s.Raw == nil {
				return nil, p.failf(CodeInvalidManifest, StepSeverable, "", "%s (%d) is severed and the envelope does not carry it", k.Name(p.f), k.Key(p.f))
			}
			if e := p.section(k.Name(p.f), s.Commands); e != nil {
				return nil, e
			}
		case SectionText, SectionCoSWID:
			// Information for people; nothing to run.
		default:
			return nil, p.failf(CodeUnsupported, StepSection, "", "%s (%d) is not supported: RIOT runs the common, install and validate sequences only", k.Name(p.f), k.Key(p.f))
		}
	}
	return p.install()
}

// signature verifies the authentication blocks with the trusted keys and
// returns the authenticated SUIT_Digest (encoded).
func (p *proc) signature() ([]byte, *Error) {
	p.started(StepSignature, "", "suit: verifying manifest signature")
	a := p.env.Auth
	if a == nil || len(a.Blocks) == 0 {
		what := "no authentication wrapper"
		if a != nil {
			what = "the authentication wrapper holds no signature"
		}
		return nil, p.failf(CodeSignature, StepSignature, "", "Unable to validate signature: %s", what)
	}
	if len(p.cfg.Keys) == 0 {
		return nil, p.failf(CodeSignature, StepSignature, "", "Unable to validate signature: no trusted keys configured")
	}
	var algs []string
	for i, b := range a.Blocks {
		msg, e := parseBlock(b, p.f, i)
		if e != nil {
			return nil, p.fail(e, "")
		}
		algs = append(algs, blockAlg(msg))
		for ki, k := range p.cfg.Keys {
			if verifyBlock(msg, a.Digest, k) {
				p.signer = k
				p.passed(StepSignature, "", "signature OK: %s, trusted key %d of %d (%s)", k.Alg(), ki+1, len(p.cfg.Keys), k.Fingerprint())
				if p.f == FormatFinal {
					return a.Digest, nil
				}
				return msg.Payload, nil
			}
		}
	}
	return nil, p.failf(CodeSignature, StepSignature, "", "Unable to validate signature: none of %d block(s) (%s) verifies with the %d trusted key(s)",
		len(a.Blocks), strings.Join(algs, ", "), len(p.cfg.Keys))
}

// manifestDigest compares the authenticated digest with SHA-256 of the
// bstr-wrapped manifest, as RIOT's _manifest_handler does.
func (p *proc) manifestDigest(signed []byte) *Error {
	sum := digestOfWrapped(p.env.ManifestBytes)
	d := decoder{f: p.f, step: StepManifestDigest}
	dg, e := d.digest(&path{name: "signed digest"}, signed)
	if e != nil {
		return p.failf(CodeDigestMismatch, StepManifestDigest, "", "SUIT manifest digest and COSE digest mismatch: the signed payload is not a SUIT_Digest (%s)", e.Msg)
	}
	if dg.Alg != DigestSHA256 {
		return p.failf(CodeUnsupported, StepManifestDigest, "", "manifest digest algorithm %s (%d) is not supported; sha256 is", dg.Alg, dg.Wire)
	}
	if !bytes.Equal(dg.Bytes, sum[:]) {
		msg := fmt.Sprintf("SUIT manifest digest and COSE digest mismatch: manifest sha256 %x, signed %x (%d bytes)", sum, dg.Bytes, len(dg.Bytes))
		if bytes.Equal(dg.Bytes, []byte(hex.EncodeToString(sum[:]))) {
			msg += "; the signed digest is the ASCII hex of the manifest digest (the draft-09 example generator's bug)"
		}
		return p.failf(CodeDigestMismatch, StepManifestDigest, "", "%s", msg)
	}
	p.passed(StepManifestDigest, "", "manifest digest OK: sha256 %x", sum)
	return nil
}

func (p *proc) sequenceNumber() *Error {
	stored, err := p.cfg.Seq.Load()
	if err != nil {
		return p.fail(asError(err, CodeStorage, StepSequenceNumber, "Unable to get sequence number"), "")
	}
	msg := fmt.Sprintf("Manifest seq_no: %d, highest available: %d", p.m.Sequence, stored)
	if sc, ok := p.cfg.Seq.(SeqScoper); ok && sc.Scope() != "" {
		msg += " (" + sc.Scope() + ")"
	}
	if p.m.Sequence <= stored {
		return p.failf(CodeSequenceNumber, StepSequenceNumber, "", "%s; seq_nr <= running image", msg)
	}
	p.validated |= validatedSeq
	p.passed(StepSequenceNumber, "", "%s", msg)
	return nil
}

func (p *proc) components() *Error {
	m := p.m
	if len(m.CommonOther) > 0 {
		o := m.CommonOther[0]
		name := "unknown"
		switch {
		case o.Key == keyDependencies && p.f == FormatDraft09:
			name = "dependencies"
		case o.Key == keyDepComponents && p.f == FormatDraft09:
			name = "dependency-components"
		}
		return p.failf(CodeUnsupported, StepComponents, "", "common member %d (%s) is not supported", o.Key, name)
	}
	if len(m.Components) > MaxComponents {
		return p.failf(CodeUnsupported, StepComponents, "", "Too many components found: %d, Supported: %d", len(m.Components), MaxComponents)
	}
	lc, _ := p.cfg.Storage.(LocationChecker)
	seen := map[string]bool{}
	var locs []string
	for _, id := range m.Components {
		loc := id.Location()
		switch {
		case len(loc) > MaxLocationLen:
			return p.failf(CodeNoMem, StepComponents, "", "component name %q is %d bytes, max %d", loc, len(loc), MaxLocationLen)
		case seen[loc]:
			return p.failf(CodeInvalidManifest, StepComponents, loc, "component %s listed twice", loc)
		case lc != nil && !lc.HasLocation(loc):
			return p.failf(CodeStorageUnavailable, StepComponents, loc, "No storage handler found for component %s", loc)
		}
		seen[loc] = true
		locs = append(locs, printable(loc))
		p.comps = append(p.comps, &component{id: id, loc: loc})
	}
	p.passed(StepComponents, "", "%d component(s): %s", len(locs), strings.Join(locs, " "))
	return nil
}

// printable quotes a location that holds bytes a terminal would not show.
func printable(loc string) string {
	for _, r := range loc {
		if r < ' ' || r > '~' {
			return strconv.Quote(loc)
		}
	}
	return loc
}

// severable checks the severable members the envelope carries against the
// digests the manifest holds (SHA-256 of the bstr-wrapped member).
func (p *proc) severable() *Error {
	for k := SectionKind(0); k < sectionCount; k++ {
		raw, ok := p.env.Severed[k]
		if !ok {
			continue
		}
		s := p.m.Sections[k]
		name := fmt.Sprintf("%s (%d)", k.Name(p.f), k.Key(p.f))
		if s == nil || s.Severed == nil {
			return p.failf(CodeInvalidManifest, StepSeverable, "", "the envelope carries %s but the manifest holds no digest for it", name)
		}
		if s.Severed.Alg != DigestSHA256 {
			return p.failf(CodeUnsupported, StepSeverable, "", "%s: digest algorithm %s (%d) is not supported; sha256 is", name, s.Severed.Alg, s.Severed.Wire)
		}
		sum := digestOfWrapped(raw)
		if !bytes.Equal(sum[:], s.Severed.Bytes) {
			return p.failf(CodeDigestMismatch, StepSeverable, "", "%s: digest mismatch: manifest %x, envelope member %x", name, s.Severed.Bytes, sum)
		}
		if e := fillSevered(s, raw, p.f); e != nil {
			return p.fail(e, "")
		}
		p.passed(StepSeverable, "", "%s: digest OK", name)
	}
	return nil
}

// section runs a top-level command sequence; the component index starts at
// 0 in each.
func (p *proc) section(name string, seq CommandSequence) *Error {
	p.cur = p.cur[:0]
	if len(p.comps) > 0 {
		p.cur = append(p.cur, 0)
	}
	return p.sequence(name, seq)
}

func (p *proc) sequence(name string, seq CommandSequence) *Error {
	for i := range seq {
		if e := p.interrupted(StepCommand); e != nil {
			return e
		}
		if e := p.command(name, &seq[i]); e != nil {
			return e
		}
	}
	return nil
}

// selected returns the components the current index selects, or an error
// when a command needs one and there is none.
func (p *proc) selected(c *Command, step Step) ([]*component, *Error) {
	if len(p.comps) == 0 {
		return nil, p.failf(CodeInvalidManifest, step, "", "%s: the manifest has no components", c.Op.Name(p.f))
	}
	out := make([]*component, len(p.cur))
	for i, ix := range p.cur {
		out[i] = p.comps[ix]
	}
	return out, nil
}

func (p *proc) command(section string, c *Command) *Error {
	switch c.Op {
	case OpSetComponentIndex:
		return p.setIndex(c)
	case OpSetParameters, OpOverrideParameters:
		return p.setParams(c)
	case OpVendorIdentifier:
		return p.checkUUID(c, StepVendor, "vendor ID", p.cfg.VendorID, func(ps *Parameters) []byte { return ps.VendorID }, validatedVendor)
	case OpClassIdentifier:
		return p.checkUUID(c, StepClass, "class id", p.cfg.ClassID, func(ps *Parameters) []byte { return ps.ClassID }, validatedClass)
	case OpComponentSlot:
		return p.checkSlot(c)
	case OpImageMatch:
		return p.imageMatch(c)
	case OpFetch:
		return p.fetch(c)
	case OpTryEach:
		return p.tryEach(section, c)
	case OpRunSequence:
		if len(c.Seqs) != 1 {
			return p.failf(CodeInvalidManifest, StepCommand, "", "%s needs one sequence", c.Op.Name(p.f))
		}
		return p.sequence(section, c.Seqs[0])
	}
	name := c.Op.Name(p.f)
	if c.Op == OpUnknown || c.Op == OpCustom {
		name = "unknown"
	}
	return p.failf(CodeUnsupported, StepCommand, "", "%s: command %d (%s) is not supported", section, c.Key, name)
}

func (p *proc) setIndex(c *Command) *Error {
	switch {
	case c.Index.All:
		p.cur = p.cur[:0]
		for i := range p.comps {
			p.cur = append(p.cur, i)
		}
	case c.Index.None:
		p.cur = p.cur[:0]
	default:
		next := make([]int, 0, len(c.Index.Indices))
		for _, ix := range c.Index.Indices {
			if ix >= uint64(len(p.comps)) {
				return p.failf(CodeInvalidManifest, StepCommand, "", "set-component-index %d: the manifest has %d component(s)", ix, len(p.comps))
			}
			next = append(next, int(ix))
		}
		p.cur = append(p.cur[:0], next...)
	}
	return nil
}

// setParams applies set-parameters (only where a value is not yet set,
// as draft-09 specifies; RIOT overwrites) and override-parameters.
func (p *proc) setParams(c *Command) *Error {
	ps := c.Params
	if ps == nil {
		return p.failf(CodeInvalidManifest, StepParameters, "", "%s without parameters", c.Op.Name(p.f))
	}
	if len(ps.Other) > 0 {
		o := ps.Other[0]
		return p.failf(CodeUnsupported, StepParameters, "", "Unsupported parameter %d (%s)", o.Key, o.Param.Name(p.f))
	}
	if ps.SourceComponent != nil {
		return p.failf(CodeUnsupported, StepParameters, "", "Unsupported parameter %d (%s)", ParamSourceComponent.Key(p.f), ParamSourceComponent.Name(p.f))
	}
	comps, e := p.selected(c, StepParameters)
	if e != nil {
		return e
	}
	override := c.Op == OpOverrideParameters
	for _, comp := range comps {
		var set []string
		apply := func(name string, isSet bool, assign func()) {
			if override || !isSet {
				assign()
				set = append(set, name)
			}
		}
		t := &comp.p
		if ps.VendorID != nil {
			apply("vendor-id="+uuidString(ps.VendorID), t.VendorID != nil, func() { t.VendorID = ps.VendorID })
		}
		if ps.ClassID != nil {
			apply("class-id="+uuidString(ps.ClassID), t.ClassID != nil, func() { t.ClassID = ps.ClassID })
		}
		if ps.ImageDigest != nil {
			apply("image-digest="+ps.ImageDigest.String(), t.ImageDigest != nil, func() { t.ImageDigest = ps.ImageDigest })
		}
		if ps.ImageSize != nil {
			apply(fmt.Sprintf("image-size=%d", *ps.ImageSize), t.ImageSize != nil, func() { t.ImageSize = ps.ImageSize })
		}
		if ps.Slot != nil {
			apply(fmt.Sprintf("%s=%d", ParamSlot.Name(p.f), *ps.Slot), t.Slot != nil, func() { t.Slot = ps.Slot })
		}
		if ps.URI != nil {
			apply("uri="+*ps.URI, t.URI != nil, func() { t.URI = ps.URI })
		}
		if len(set) == 0 {
			set = append(set, "nothing (already set)")
		}
		p.passed(StepParameters, comp.loc, "%s: %s", c.Op.Name(p.f), strings.Join(set, ", "))
	}
	return nil
}

func uuidString(b []byte) string {
	if u, err := uuid.FromBytes(b); err == nil {
		return u.String()
	}
	return fmt.Sprintf("%x (not a UUID)", b)
}

func (p *proc) checkUUID(c *Command, step Step, what string, want uuid.UUID, get func(*Parameters) []byte, bit int) *Error {
	comps, e := p.selected(c, step)
	if e != nil {
		return e
	}
	for _, comp := range comps {
		got := get(&comp.p)
		if got == nil {
			return p.failf(CodeInvalidManifest, step, comp.loc, "validating %s: no %s parameter set", what, strings.ToLower(what))
		}
		msg := fmt.Sprintf("Comparing %s to %s from manifest", want, uuidString(got))
		if !bytes.Equal(got, want[:]) {
			return p.failf(CodeCond, step, comp.loc, "validating %s: %s", what, msg)
		}
		p.validated |= bit
		p.passed(step, comp.loc, "validating %s: OK; %s", what, msg)
	}
	return nil
}

func (p *proc) checkSlot(c *Command) *Error {
	comps, e := p.selected(c, StepSlot)
	if e != nil {
		return e
	}
	name := ParamSlot.Name(p.f)
	sc, _ := p.cfg.Storage.(SlotChecker)
	for _, comp := range comps {
		if comp.p.Slot == nil {
			return p.failf(CodeInvalidManifest, StepSlot, comp.loc, "no %s parameter set", name)
		}
		slot := *comp.p.Slot
		if sc == nil {
			return p.failf(CodeCond, StepSlot, comp.loc, "%s %d: the storage has no slots", name, slot)
		}
		if !sc.MatchSlot(comp.loc, slot) {
			return p.failf(CodeCond, StepSlot, comp.loc, "%s %d does not match %s", name, slot, comp.loc)
		}
		p.passed(StepSlot, comp.loc, "%s %d matches %s", name, slot, comp.loc)
	}
	return nil
}

// tryEach runs the options in turn until one does not fail a condition, as
// RIOT's _dtv_try_each: only CodeCond moves on to the next option.
func (p *proc) tryEach(section string, c *Command) *Error {
	n := len(c.Seqs)
	for i, s := range c.Seqs {
		p.started(StepTryEach, "", "try-each: option %d of %d", i+1, n)
		e := p.sequence(section, s)
		if e == nil {
			p.passed(StepTryEach, "", "try-each: option %d of %d succeeded", i+1, n)
			return nil
		}
		if e.Code != CodeCond {
			return e
		}
	}
	if c.TryEachNil {
		p.passed(StepTryEach, "", "try-each: no option succeeded; the list ends with nil, so this is not a failure")
		return nil
	}
	return p.failf(CodeCond, StepTryEach, "", "try-each: none of %d option(s) succeeded", n)
}

func (p *proc) policy() *Error {
	if p.policyOK {
		return nil
	}
	if missing := validatedAll &^ p.validated; missing != 0 {
		var names []string
		for _, b := range []struct {
			bit  int
			name string
		}{{validatedVersion, "version"}, {validatedSeq, "sequence number"}, {validatedVendor, "vendor"}, {validatedClass, "class"}} {
			if missing&b.bit != 0 {
				names = append(names, b.name)
			}
		}
		return p.failf(CodePolicyForbidden, StepPolicy, "", "SUIT policy check failed! not validated before fetch: %s", strings.Join(names, ", "))
	}
	if p.cfg.Policy != nil {
		if err := p.cfg.Policy(p.m); err != nil {
			return p.fail(&Error{Code: CodePolicyForbidden, Step: StepPolicy, Msg: "device policy refuses the update", Err: err}, "")
		}
	}
	if p.cfg.SignerPolicy != nil {
		if err := p.cfg.SignerPolicy(p.m, p.signer); err != nil {
			return p.fail(&Error{Code: CodePolicyForbidden, Step: StepPolicy, Msg: "device policy refuses the update: " + err.Error(), Err: err}, "")
		}
	}
	p.policyOK = true
	p.passed(StepPolicy, "", "SUIT policy check OK.")
	return nil
}

// sizeWriter passes writes to the staged slot until image-size is reached
// and stops at a power cut.
type sizeWriter struct {
	ctx      context.Context
	w        io.Writer
	n, max   uint64
	exceeded bool
	tried    uint64 // offset + len of the write that went beyond image-size
}

var errBeyondSize = errors.New("image beyond size")

func (w *sizeWriter) Write(b []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if w.n+uint64(len(b)) > w.max {
		w.exceeded, w.tried = true, w.n+uint64(len(b))
		return 0, fmt.Errorf("%w: offset + len=%d, image_size=%d", errBeyondSize, w.n+uint64(len(b)), w.max)
	}
	n, err := w.w.Write(b)
	w.n += uint64(n)
	return n, err
}

func (p *proc) fetch(c *Command) *Error {
	comps, e := p.selected(c, StepFetch)
	if e != nil {
		return e
	}
	if e := p.policy(); e != nil {
		return e
	}
	for _, comp := range comps {
		if e := p.fetchOne(comp); e != nil {
			return e
		}
	}
	return nil
}

func (p *proc) fetchOne(comp *component) *Error {
	loc := comp.loc
	switch {
	case comp.fetched:
		return p.failf(CodeInvalidManifest, StepFetch, loc, "Component already fetched before")
	case comp.p.URI == nil:
		return p.failf(CodeInvalidManifest, StepFetch, loc, "no uri parameter set")
	case comp.p.ImageSize == nil:
		return p.failf(CodeInvalidManifest, StepFetch, loc, "no image-size parameter set")
	}
	uri, size := *comp.p.URI, *comp.p.ImageSize
	data, inMemory := p.env.Integrated[uri]
	source := "integrated payload"
	if !inMemory {
		data, inMemory = p.cfg.Payloads[loc]
		source = "payload in memory"
	}
	if !inMemory && p.cfg.Fetcher == nil {
		return p.failf(CodeUnsupported, StepFetch, loc, "suit: unsupported URL scheme: no fetcher and no payload in memory for %s", uri)
	}
	if inMemory {
		p.started(StepFetch, loc, "fetching %s (%d bytes) into %s from the %s", uri, size, loc, source)
	} else {
		p.started(StepFetch, loc, "fetching %s (%d bytes) into %s", uri, size, loc)
	}
	st, err := p.cfg.Storage.Stage(loc, size)
	if err != nil {
		return p.fail(asError(err, CodeStorage, StepFetch, "Unable to start storage backend"), loc)
	}
	comp.staged, comp.fetched = st, true
	w := &sizeWriter{ctx: p.ctx, w: st, max: size}
	if inMemory {
		_, err = w.Write(data)
		if err == nil {
			p.emit(Event{Step: StepFetch, Status: Progress, Component: loc, Done: w.n, Total: size})
		}
	} else {
		err = p.cfg.Fetcher.Fetch(p.ctx, uri, w, func(done, total uint64) {
			if total == 0 {
				total = size
			}
			p.emit(Event{Step: StepFetch, Status: Progress, Component: loc, Done: done, Total: total})
		})
	}
	if err == nil {
		err = p.ctx.Err()
	}
	if err != nil || w.exceeded {
		// A fetcher that swallowed the refused write still failed.
		comp.fetchFailed = true
		switch {
		case w.exceeded:
			return p.failf(CodeStorageExceeded, StepFetch, loc, "Image beyond size, offset + len=%d, image_size=%d", w.tried, size)
		case p.ctx.Err() != nil:
			return p.fail(&Error{Code: CodeStorage, Step: StepFetch, Msg: "interrupted (power cut) after " + fmt.Sprint(w.n) + " bytes", Err: p.ctx.Err()}, loc)
		}
		return p.fail(asError(err, CodeStorage, StepFetch, fmt.Sprintf("image download (%s) failed", uri)), loc)
	}
	if w.n != size {
		comp.fetchFailed = true
		return p.failf(CodeStorageExceeded, StepFetch, loc, "Incorrect size received, got %d, expected %d", w.n, size)
	}
	p.passed(StepFetch, loc, "fetched %d bytes into %s", w.n, loc)
	return nil
}

func (p *proc) imageMatch(c *Command) *Error {
	comps, e := p.selected(c, StepImageMatch)
	if e != nil {
		return e
	}
	for _, comp := range comps {
		if e := p.matchOne(comp); e != nil {
			return e
		}
	}
	return nil
}

func (p *proc) matchOne(comp *component) *Error {
	loc := comp.loc
	switch {
	case comp.p.ImageDigest == nil:
		return p.failf(CodeInvalidManifest, StepImageMatch, loc, "no image-digest parameter set")
	case comp.p.ImageSize == nil:
		return p.failf(CodeInvalidManifest, StepImageMatch, loc, "no image-size parameter set")
	case !comp.fetched || comp.fetchFailed || comp.staged == nil:
		return p.failf(CodeInvalidManifest, StepImageMatch, loc, "Fetch failed, or nothing fetched, nothing to check")
	case comp.p.ImageDigest.Alg != DigestSHA256:
		return p.failf(CodeUnsupported, StepImageMatch, loc, "image digest algorithm %s (%d) is not supported; sha256 is", comp.p.ImageDigest.Alg, comp.p.ImageDigest.Wire)
	}
	p.started(StepImageMatch, loc, "Verifying image digest")
	payload := comp.staged.Bytes()
	if size := *comp.p.ImageSize; uint64(len(payload)) != size {
		return p.failf(CodeStorageExceeded, StepImageMatch, loc, "payload of %d bytes, image-size %d", len(payload), size)
	}
	if !comp.summed {
		comp.sum, comp.summed = sha256.Sum256(payload), true
	}
	want := comp.p.ImageDigest.Bytes
	if !bytes.Equal(want, comp.sum[:]) {
		comp.staged.Erase()
		comp.staged, comp.fetchFailed = nil, true
		return p.failf(CodeDigestMismatch, StepImageMatch, loc, "image digest mismatch: manifest sha256 %x, payload %x; Erasing bad payload", want, comp.sum)
	}
	if comp.matched {
		p.passed(StepImageMatch, loc, "Verified installed payload: sha256 %x", comp.sum)
	} else {
		comp.matched = true
		p.passed(StepImageMatch, loc, "image digest OK: sha256 %x", comp.sum)
	}
	return nil
}

// install commits every fetched component, all matched, and then stores the
// new sequence number.
func (p *proc) install() (*Report, *Error) {
	rep := &Report{Sequence: p.m.Sequence, Format: p.f}
	var staged []Staged
	for _, c := range p.comps {
		if c.staged == nil {
			continue
		}
		if !c.matched {
			return nil, p.failf(CodeInvalidManifest, StepInstall, c.loc, "%s was fetched but never matched against its image digest", c.loc)
		}
		staged = append(staged, c.staged)
		rep.Installed = append(rep.Installed, Installed{Location: c.loc, Size: uint64(len(c.staged.Bytes())), SHA256: c.sum})
	}
	if len(staged) == 0 {
		// As in RIOT, where only an install stores the sequence number.
		p.passed(StepInstall, "", "nothing fetched, nothing to install; sequence number unchanged")
		return rep, nil
	}
	if e := p.interrupted(StepInstall); e != nil {
		return nil, e
	}
	p.started(StepInstall, "", "Install correct payload: %d component(s)", len(staged))
	if err := p.cfg.Storage.Commit(staged); err != nil {
		return nil, p.fail(asError(err, CodeStorage, StepInstall, "commit failed"), "")
	}
	for _, c := range p.comps {
		c.staged = nil
	}
	for _, in := range rep.Installed {
		p.passed(StepInstall, in.Location, "installed %d bytes, sha256 %x", in.Size, in.SHA256)
	}
	if err := p.cfg.Seq.Store(p.m.Sequence); err != nil {
		return nil, p.fail(asError(err, CodeStorage, StepInstall, "payload installed but the sequence number could not be stored"), "")
	}
	p.passed(StepInstall, "", "Stored sequence number: %d", p.m.Sequence)
	return rep, nil
}
