package suit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"
)

// encMode writes deterministic CBOR (RFC 8949 §4.2.1). For the integer keys
// SUIT uses it orders maps as suit-tool's canonical cbor2 output does.
var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err) // the options are constant; this cannot happen at run time
	}
	return em
}()

func marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// bstrHead is the CBOR head of an n-byte byte string, in preferred
// (shortest) form.
func bstrHead(n int) []byte {
	u := uint64(n)
	switch {
	case u < 24:
		return []byte{0x40 | byte(u)}
	case u <= 0xff:
		return []byte{0x58, byte(u)}
	case u <= 0xffff:
		return []byte{0x59, byte(u >> 8), byte(u)}
	case u <= 0xffffffff:
		return []byte{0x5a, byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
	}
	return []byte{0x5b, byte(u >> 56), byte(u >> 48), byte(u >> 40), byte(u >> 32), byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
}

// digestOfWrapped is SHA-256 over the bstr-wrapped b (the bstr head and b):
// what SUIT digests for the manifest and for severed members.
func digestOfWrapped(b []byte) [32]byte {
	h := sha256.New()
	h.Write(bstrHead(len(b)))
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

type encoder struct{ f Format }

func (e encoder) errf(format string, args ...any) error {
	return fmt.Errorf("suit: encode %s: %s", e.f, fmt.Sprintf(format, args...))
}

func (e encoder) digest(d *Digest) ([]byte, error) {
	alg := d.Wire
	if d.Alg != DigestUnknown {
		if alg = d.Alg.Key(e.f); alg == 0 {
			return nil, e.errf("digest algorithm %s has no number", d.Alg)
		}
	}
	return marshal([]any{alg, d.Bytes})
}

func (e encoder) params(p *Parameters) (map[int64]any, error) {
	m := map[int64]any{}
	put := func(pp Param, v any) error {
		k := pp.Key(e.f)
		if k == 0 {
			return e.errf("parameter %s has no number", pp.Name(e.f))
		}
		m[k] = v
		return nil
	}
	var errs []error
	if p.VendorID != nil {
		errs = append(errs, put(ParamVendorID, p.VendorID))
	}
	if p.ClassID != nil {
		errs = append(errs, put(ParamClassID, p.ClassID))
	}
	if p.ImageDigest != nil {
		d, err := e.digest(p.ImageDigest)
		errs = append(errs, err, put(ParamImageDigest, d))
	}
	if p.ImageSize != nil {
		errs = append(errs, put(ParamImageSize, *p.ImageSize))
	}
	if p.Slot != nil {
		errs = append(errs, put(ParamSlot, *p.Slot))
	}
	if p.URI != nil {
		errs = append(errs, put(ParamURI, *p.URI))
	}
	if p.SourceComponent != nil {
		errs = append(errs, put(ParamSourceComponent, *p.SourceComponent))
	}
	for _, o := range p.Other {
		k := o.Key
		if o.Param != ParamUnknown && o.Param != ParamCustom {
			if k = o.Param.Key(e.f); k == 0 {
				errs = append(errs, e.errf("parameter %s has no number", o.Param.Name(e.f)))
				continue
			}
		}
		m[k] = cbor.RawMessage(o.Raw)
	}
	return m, errors.Join(errs...)
}

func (e encoder) sequence(seq CommandSequence) ([]byte, error) {
	items := make([]any, 0, 2*len(seq))
	for _, c := range seq {
		key := c.Key
		if c.Op != OpUnknown && c.Op != OpCustom {
			if key = c.Op.Key(e.f); key == 0 {
				return nil, e.errf("command %s has no number", c.Op.Name(e.f))
			}
		}
		var arg any
		switch ops[c.Op].arg {
		case argPolicy:
			arg = c.Policy
		case argIndex:
			switch {
			case c.Index.All:
				arg = true
			case c.Index.None:
				arg = false
			case c.Index.List:
				arg = c.Index.Indices
			case len(c.Index.Indices) == 1:
				arg = c.Index.Indices[0]
			default:
				return nil, e.errf("set-component-index without an index")
			}
		case argParams:
			if c.Params == nil {
				return nil, e.errf("%s without parameters", c.Op.Name(e.f))
			}
			m, err := e.params(c.Params)
			if err != nil {
				return nil, err
			}
			arg = m
		case argTryEach, argSequence:
			opts := make([]any, 0, len(c.Seqs)+1)
			for _, s := range c.Seqs {
				b, err := e.sequence(s)
				if err != nil {
					return nil, err
				}
				opts = append(opts, b)
			}
			if ops[c.Op].arg == argSequence {
				if len(opts) != 1 {
					return nil, e.errf("run-sequence needs exactly one sequence, has %d", len(opts))
				}
				arg = opts[0]
				break
			}
			if c.TryEachNil {
				opts = append(opts, nil)
			}
			arg = opts
		default:
			if len(c.Raw) == 0 {
				return nil, e.errf("command %d has no argument", key)
			}
			arg = cbor.RawMessage(c.Raw)
		}
		items = append(items, key, arg)
	}
	return marshal(items)
}

// Encode writes the manifest in format f, from the model: commands are
// encoded from their fields, text and unknown members from their raw bytes.
func (m *Manifest) Encode(f Format) ([]byte, error) {
	e := encoder{f: f}
	common := map[int64]any{}
	if m.Components != nil {
		comps := make([][][]byte, len(m.Components))
		for i, c := range m.Components {
			comps[i] = c
		}
		common[keyComponents] = comps
	}
	if m.Shared != nil {
		b, err := e.sequence(m.Shared)
		if err != nil {
			return nil, err
		}
		common[keySharedSequence] = b
	}
	for _, o := range m.CommonOther {
		common[o.Key] = cbor.RawMessage(o.Raw)
	}
	cb, err := marshal(common)
	if err != nil {
		return nil, err
	}
	mm := map[int64]any{
		keyVersion:  m.Version,
		keySequence: m.Sequence,
		keyCommon:   cb,
	}
	if m.ReferenceURI != "" {
		mm[keyReferenceURI] = m.ReferenceURI
	}
	for k, s := range m.Sections {
		if s == nil {
			continue
		}
		sk := SectionKind(k)
		key := sk.Key(f)
		if key == 0 {
			return nil, e.errf("section %s has no number", sk.Name(f))
		}
		switch {
		case s.Severed != nil:
			d, err := e.digest(s.Severed)
			if err != nil {
				return nil, err
			}
			mm[key] = cbor.RawMessage(d)
		case sections[sk].commands:
			b, err := e.sequence(s.Commands)
			if err != nil {
				return nil, err
			}
			mm[key] = b
		default:
			mm[key] = s.Raw
		}
	}
	for _, o := range m.Other {
		mm[o.Key] = cbor.RawMessage(o.Raw)
	}
	return marshal(mm)
}

// Encode writes the envelope. It uses ManifestBytes as they are (the signed
// bytes) and encodes Manifest only when ManifestBytes is nil.
func (env *Envelope) Encode() ([]byte, error) {
	mb := env.ManifestBytes
	if mb == nil {
		if env.Manifest == nil {
			return nil, errors.New("suit: encode: envelope has no manifest")
		}
		var err error
		if mb, err = env.Manifest.Encode(env.Format); err != nil {
			return nil, err
		}
	}
	m := map[any]any{uint64(keyManifest): mb}
	if env.Auth != nil {
		items := make([][]byte, 0, len(env.Auth.Blocks)+1)
		if env.Format == FormatFinal {
			if env.Auth.Digest == nil {
				return nil, errors.New("suit: encode: final-format authentication wrapper without digest")
			}
			items = append(items, env.Auth.Digest)
		}
		items = append(items, env.Auth.Blocks...)
		ab, err := marshal(items)
		if err != nil {
			return nil, err
		}
		m[uint64(keyAuth)] = ab
	}
	for k, b := range env.Severed {
		key := k.Key(env.Format)
		if key == 0 || !k.Severable() {
			return nil, fmt.Errorf("suit: encode: %s cannot be severed in %s", k.Name(env.Format), env.Format)
		}
		m[uint64(key)] = b
	}
	for k, b := range env.Integrated {
		m[k] = b
	}
	for _, o := range env.Other {
		m[o.Key] = cbor.RawMessage(o.Raw)
	}
	if env.Format == FormatFinal && env.Tagged {
		return marshal(cbor.Tag{Number: envelopeTag, Content: m})
	}
	return marshal(m)
}

// ComponentSpec describes one payload of an update.
type ComponentSpec struct {
	ID     ComponentID
	URI    string
	Digest [32]byte // SHA-256 of the payload
	Size   uint64
}

// Spec describes an update to build.
type Spec struct {
	Format     Format
	Sequence   uint64
	VendorID   uuid.UUID
	ClassID    uuid.UUID
	Components []ComponentSpec
}

// Create builds an unsigned envelope the way RIOT's gen_manifest.py and
// suit-tool do: the common sequence sets vendor, class, digest and size and
// checks vendor and class; install sets the URI, fetches and checks the
// image; validate checks the image again. With several components each
// command group is preceded by set-component-index. The final format uses
// override-parameters (it has no set-parameters) and the tagged envelope.
func Create(spec Spec) ([]byte, error) {
	m, err := spec.manifest()
	if err != nil {
		return nil, err
	}
	mb, err := m.Encode(spec.Format)
	if err != nil {
		return nil, err
	}
	env := &Envelope{Format: spec.Format, ManifestBytes: mb, Auth: &Auth{}}
	if spec.Format == FormatFinal {
		env.Tagged = true
		sum := digestOfWrapped(mb)
		enc := encoder{f: FormatFinal}
		if env.Auth.Digest, err = enc.digest(&Digest{Alg: DigestSHA256, Bytes: sum[:]}); err != nil {
			return nil, err
		}
	}
	return env.Encode()
}

func (spec Spec) manifest() (*Manifest, error) {
	if spec.Format != FormatDraft09 && spec.Format != FormatFinal {
		return nil, fmt.Errorf("suit: create: unknown format %v", spec.Format)
	}
	n := len(spec.Components)
	if n == 0 || n > MaxComponents {
		return nil, fmt.Errorf("suit: create: %d components, want 1 to %d", n, MaxComponents)
	}
	if spec.VendorID == uuid.Nil || spec.ClassID == uuid.Nil {
		return nil, errors.New("suit: create: vendor id and class id are required")
	}
	m := &Manifest{Version: 1, Sequence: spec.Sequence}
	setParams := OpSetParameters
	if spec.Format == FormatFinal {
		setParams = OpOverrideParameters
	}
	var install, validate CommandSequence
	seen := map[string]bool{}
	for i, c := range spec.Components {
		loc := c.ID.Location()
		switch {
		case len(c.ID) == 0:
			return nil, fmt.Errorf("suit: create: component %d has an empty id", i)
		case len(loc) > MaxLocationLen:
			return nil, fmt.Errorf("suit: create: component %v: location %q is %d bytes, max %d", c.ID, loc, len(loc), MaxLocationLen)
		case seen[loc]:
			return nil, fmt.Errorf("suit: create: component %v appears twice", c.ID)
		case c.URI == "":
			return nil, fmt.Errorf("suit: create: component %v has no URI", c.ID)
		}
		seen[loc] = true
		m.Components = append(m.Components, slices.Clone(c.ID))
		var idx CommandSequence
		if n > 1 {
			idx = CommandSequence{{Op: OpSetComponentIndex, Index: IndexArg{Indices: []uint64{uint64(i)}}}}
		}
		size, uri := c.Size, c.URI
		m.Shared = append(m.Shared, idx...)
		m.Shared = append(m.Shared,
			Command{Op: OpOverrideParameters, Params: &Parameters{
				VendorID:    spec.VendorID[:],
				ClassID:     spec.ClassID[:],
				ImageDigest: &Digest{Alg: DigestSHA256, Bytes: slices.Clone(c.Digest[:])},
				ImageSize:   &size,
			}},
			Command{Op: OpVendorIdentifier, Policy: 15},
			Command{Op: OpClassIdentifier, Policy: 15},
		)
		install = append(install, idx...)
		install = append(install,
			Command{Op: setParams, Params: &Parameters{URI: &uri}},
			Command{Op: OpFetch, Policy: 2},
			Command{Op: OpImageMatch, Policy: 15},
		)
		validate = append(validate, idx...)
		validate = append(validate, Command{Op: OpImageMatch, Policy: 15})
	}
	m.Sections[SectionInstall] = &Section{Kind: SectionInstall, Commands: install}
	m.Sections[SectionValidate] = &Section{Kind: SectionValidate, Commands: validate}
	return m, nil
}
