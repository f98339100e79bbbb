package suit

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// Limits on what the decoder accepts. They keep a hostile envelope from
// costing more than a real one could.
const (
	// MaxEnvelopeSize bounds the whole envelope, integrated payloads
	// included.
	MaxEnvelopeSize = 1 << 20
	// MaxComponents is how many components a manifest may name: a
	// TinyContainer container travels as metadata, code and data.
	MaxComponents = 3
	// MaxLocationLen bounds a component's location string, like RIOT's
	// CONFIG_SUIT_COMPONENT_MAX_NAME_LEN (32, which counts the terminating
	// NUL).
	MaxLocationLen = 31
	// maxDepth bounds the nesting of try-each and run-sequence.
	maxDepth = 8
)

// envelopeTag is SUIT_Envelope_Tagged; manifestTag is SUIT_Manifest_Tagged.
const (
	envelopeTag = 107
	manifestTag = 1070
)

// decMode is strict: duplicate map keys, indefinite lengths and invalid
// UTF-8 are errors, and nesting and container sizes are bounded.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 4096,
		MaxMapPairs:      512,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err) // the options are constant; this cannot happen at run time
	}
	return dm
}()

// cbor major types.
const (
	majUint  = 0
	majNint  = 1
	majBytes = 2
	majText  = 3
	majArray = 4
	majMap   = 5
	majTag   = 6
	majOther = 7
)

func major(raw []byte) int {
	if len(raw) == 0 {
		return -1
	}
	return int(raw[0] >> 5)
}

// kind names the CBOR type of raw for error messages.
func kind(raw []byte) string {
	switch major(raw) {
	case majUint:
		return "an unsigned integer"
	case majNint:
		return "a negative integer"
	case majBytes:
		return "a byte string"
	case majText:
		return "a text string"
	case majArray:
		return "an array"
	case majMap:
		return "a map"
	case majTag:
		return "a tag"
	case majOther:
		switch raw[0] {
		case 0xf4, 0xf5:
			return "a bool"
		case 0xf6:
			return "null"
		case 0xf7:
			return "undefined"
		}
		return "a float or simple value"
	}
	return "nothing"
}

// decoder builds errors with a path ("manifest: common: components[1]").
type decoder struct {
	f    Format
	step Step
}

func (d decoder) errf(path, format string, args ...any) *Error {
	return newError(CodeInvalidManifest, d.step, "%s: %s", path, fmt.Sprintf(format, args...))
}

func (d decoder) cborErr(path string, err error) *Error {
	return &Error{Code: CodeInvalidManifest, Step: d.step, Msg: path + ": malformed CBOR", Err: err}
}

func (d decoder) want(path string, raw []byte, maj int, what string) *Error {
	if major(raw) != maj {
		return d.errf(path, "expected %s, got %s", what, kind(raw))
	}
	return nil
}

func (d decoder) bytes(path string, raw []byte) ([]byte, *Error) {
	if e := d.want(path, raw, majBytes, "a byte string"); e != nil {
		return nil, e
	}
	var b []byte
	if err := decMode.Unmarshal(raw, &b); err != nil {
		return nil, d.cborErr(path, err)
	}
	return b, nil
}

func (d decoder) text(path string, raw []byte) (string, *Error) {
	if e := d.want(path, raw, majText, "a text string"); e != nil {
		return "", e
	}
	var s string
	if err := decMode.Unmarshal(raw, &s); err != nil {
		return "", d.cborErr(path, err)
	}
	return s, nil
}

func (d decoder) uint(path string, raw []byte) (uint64, *Error) {
	if e := d.want(path, raw, majUint, "an unsigned integer"); e != nil {
		return 0, e
	}
	var v uint64
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return 0, d.cborErr(path, err)
	}
	return v, nil
}

func (d decoder) int(path string, raw []byte) (int64, *Error) {
	if m := major(raw); m != majUint && m != majNint {
		return 0, d.errf(path, "expected an integer, got %s", kind(raw))
	}
	var v int64
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return 0, d.cborErr(path, err)
	}
	return v, nil
}

func (d decoder) array(path string, raw []byte) ([]cbor.RawMessage, *Error) {
	if e := d.want(path, raw, majArray, "an array"); e != nil {
		return nil, e
	}
	var a []cbor.RawMessage
	if err := decMode.Unmarshal(raw, &a); err != nil {
		return nil, d.cborErr(path, err)
	}
	return a, nil
}

// intMap decodes a map whose keys are all integers and returns its keys in
// ascending order.
func (d decoder) intMap(path string, raw []byte) (map[int64]cbor.RawMessage, []int64, *Error) {
	if e := d.want(path, raw, majMap, "a map"); e != nil {
		return nil, nil, e
	}
	var m map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(raw, &m); err != nil {
		return nil, nil, d.cborErr(path, err)
	}
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return m, keys, nil
}

// bstrWrapped returns the content of a bstr that must itself hold one CBOR
// item.
func (d decoder) bstrWrapped(path string, raw []byte) ([]byte, *Error) {
	b, e := d.bytes(path, raw)
	if e != nil {
		return nil, e
	}
	if err := decMode.Wellformed(b); err != nil {
		return nil, d.cborErr(path+" (bstr content)", err)
	}
	return b, nil
}

// formatSet is the set of formats a client accepts.
type formatSet uint8

func (s formatSet) has(f Format) bool { return s&(1<<uint(f)) != 0 }

func formatsOf(fs []Format) formatSet {
	if len(fs) == 0 {
		return 1<<uint(FormatDraft09) | 1<<uint(FormatFinal)
	}
	var s formatSet
	for _, f := range fs {
		if f == FormatDraft09 || f == FormatFinal {
			s |= 1 << uint(f)
		}
	}
	return s
}

// Decode decodes a whole envelope in either format (detected from its
// shape), the manifest and the severable members it carries included. It
// checks structure only: no signature, digest or condition. Errors are
// *Error with CodeInvalidManifest, CodeUnsupported or CodeNoMem.
func Decode(data []byte) (*Envelope, error) {
	env, e := decodeEnvelope(data, formatsOf(nil))
	if e != nil {
		return nil, e
	}
	m, e := decodeManifest(env.ManifestBytes, env.Format)
	if e != nil {
		return nil, e
	}
	env.Manifest = m
	for k, raw := range env.Severed {
		s := m.Sections[k]
		if s == nil || s.Severed == nil {
			continue
		}
		if e := fillSevered(s, raw, env.Format); e != nil {
			return nil, e
		}
	}
	return env, nil
}

// decodeEnvelope decodes the outer envelope without looking into the
// manifest, as a device does before it has checked the signature.
func decodeEnvelope(data []byte, accept formatSet) (*Envelope, *Error) {
	d := decoder{step: StepEnvelope}
	if len(data) == 0 {
		return nil, d.errf("envelope", "empty")
	}
	if len(data) > MaxEnvelopeSize {
		return nil, newError(CodeNoMem, StepEnvelope, "envelope of %d bytes exceeds %d", len(data), MaxEnvelopeSize)
	}
	if err := decMode.Wellformed(data); err != nil {
		return nil, d.cborErr("envelope", err)
	}
	env := &Envelope{}
	body := data
	if major(data) == majTag {
		var t cbor.RawTag
		if err := decMode.Unmarshal(data, &t); err != nil {
			return nil, d.cborErr("envelope", err)
		}
		switch t.Number {
		case envelopeTag:
			if !accept.has(FormatFinal) {
				// RIOT enters only a bare map: the tag is a structure error.
				return nil, d.errf("envelope", "CBOR tag 107 (final-format envelope): this client reads only %s", FormatDraft09)
			}
			env.Format, env.Tagged = FormatFinal, true
		case manifestTag:
			return nil, newError(CodeUnsupported, StepEnvelope, "envelope: CBOR tag 1070 (a manifest without envelope or authentication) is not supported")
		default:
			return nil, d.errf("envelope", "unexpected CBOR tag %d", t.Number)
		}
		body = t.Content
	}
	if e := d.want("envelope", body, majMap, "a map"); e != nil {
		return nil, e
	}
	var members map[any]cbor.RawMessage
	if err := decMode.Unmarshal(body, &members); err != nil {
		return nil, d.cborErr("envelope", err)
	}
	ints := map[int64]cbor.RawMessage{}
	var texts []string
	for k, v := range members {
		switch k := k.(type) {
		case uint64:
			if k > 1<<62 {
				return nil, d.errf("envelope", "key %d out of range", k)
			}
			ints[int64(k)] = v
		case int64:
			ints[k] = v
		case string:
			texts = append(texts, k)
		default:
			return nil, d.errf("envelope", "unexpected key type %T", k)
		}
	}
	if !env.Tagged {
		env.Format = FormatDraft09
		if raw, ok := ints[keyAuth]; ok && authLooksFinal(raw) {
			env.Format = FormatFinal
		}
		if !accept.has(env.Format) {
			return nil, d.errf("envelope", "authentication wrapper in the %s layout: this client reads only %s", env.Format, other(env.Format))
		}
	}
	d.f = env.Format
	if raw, ok := ints[keyAuth]; ok {
		a, e := d.auth(raw)
		if e != nil {
			return nil, e
		}
		env.Auth = a
	}
	raw, ok := ints[keyManifest]
	if !ok {
		return nil, d.errf("envelope", "no manifest (key 3)")
	}
	mb, e := d.bstrWrapped("envelope: manifest (3)", raw)
	if e != nil {
		return nil, e
	}
	if !bytes.Equal(raw[:len(raw)-len(mb)], bstrHead(len(mb))) {
		// The digest covers the bstr as encoded; a padded length head would
		// make signer and device hash different bytes.
		return nil, d.errf("envelope: manifest (3)", "byte string length not in shortest form")
	}
	env.ManifestBytes = mb
	keys := make([]int64, 0, len(ints))
	for k := range ints {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == keyAuth || k == keyManifest {
			continue
		}
		if sk, ok := sectionByKey(env.Format, k); ok && sk.Severable() {
			b, e := d.bstrWrapped(fmt.Sprintf("envelope: %s (%d)", sk.Name(env.Format), k), ints[k])
			if e != nil {
				return nil, e
			}
			if env.Severed == nil {
				env.Severed = map[SectionKind][]byte{}
			}
			env.Severed[sk] = b
			continue
		}
		env.Other = append(env.Other, RawMember{Key: k, Raw: ints[k]})
	}
	if len(texts) > 0 {
		if env.Format != FormatFinal {
			return nil, d.errf("envelope", "text key %q: draft-09 envelopes have integer keys only", texts[0])
		}
		slices.Sort(texts)
		env.Integrated = map[string][]byte{}
		for _, k := range texts {
			b, e := d.bytes(fmt.Sprintf("envelope: integrated payload %q", k), members[k])
			if e != nil {
				return nil, e
			}
			env.Integrated[k] = b
		}
	}
	return env, nil
}

func other(f Format) Format {
	if f == FormatFinal {
		return FormatDraft09
	}
	return FormatFinal
}

// authLooksFinal tells the two authentication layouts apart in an untagged
// envelope: the final format starts with a bstr-wrapped SUIT_Digest (an
// array), draft-09 with a bstr-wrapped COSE block (a tag).
func authLooksFinal(raw []byte) bool {
	var b []byte
	if major(raw) != majBytes || decMode.Unmarshal(raw, &b) != nil {
		return false
	}
	var items []cbor.RawMessage
	if major(b) != majArray || decMode.Unmarshal(b, &items) != nil || len(items) == 0 {
		return false
	}
	var first []byte
	if major(items[0]) != majBytes || decMode.Unmarshal(items[0], &first) != nil {
		return false
	}
	return major(first) == majArray
}

func (d decoder) auth(raw []byte) (*Auth, *Error) {
	const path = "envelope: authentication-wrapper (2)"
	b, e := d.bstrWrapped(path, raw)
	if e != nil {
		return nil, e
	}
	items, e := d.array(path, b)
	if e != nil {
		return nil, e
	}
	a := &Auth{}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		v, e := d.bstrWrapped(p, it)
		if e != nil {
			return nil, e
		}
		if d.f == FormatFinal && i == 0 {
			if _, e := d.digest(p, v); e != nil {
				return nil, e
			}
			a.Digest = v
			continue
		}
		a.Blocks = append(a.Blocks, v)
	}
	if d.f == FormatFinal && a.Digest == nil {
		return nil, d.errf(path, "no SUIT_Digest")
	}
	return a, nil
}

// digest decodes an encoded SUIT_Digest.
func (d decoder) digest(path string, raw []byte) (*Digest, *Error) {
	items, e := d.array(path, raw)
	if e != nil {
		return nil, e
	}
	if len(items) < 2 {
		return nil, d.errf(path, "SUIT_Digest has %d items, want [algorithm-id, digest-bytes]", len(items))
	}
	alg, e := d.int(path+": algorithm-id", items[0])
	if e != nil {
		return nil, e
	}
	b, e := d.bytes(path+": digest-bytes", items[1])
	if e != nil {
		return nil, e
	}
	return &Digest{Alg: digestByKey(d.f, alg), Wire: alg, Bytes: b}, nil
}

func decodeManifest(data []byte, f Format) (*Manifest, *Error) {
	d := decoder{f: f, step: StepManifest}
	const path = "manifest"
	mm, keys, e := d.intMap(path, data)
	if e != nil {
		return nil, e
	}
	m := &Manifest{}
	for _, k := range []int64{keyVersion, keySequence, keyCommon} {
		if _, ok := mm[k]; !ok {
			return nil, d.errf(path, "required member %d (%s) is missing", k, manifestKeyName(f, k))
		}
	}
	for _, k := range keys {
		raw := mm[k]
		p := fmt.Sprintf("%s: %s (%d)", path, manifestKeyName(f, k), k)
		switch k {
		case keyVersion:
			m.Version, e = d.uint(p, raw)
		case keySequence:
			m.Sequence, e = d.uint(p, raw)
		case keyCommon:
			e = d.common(p, raw, m)
		case keyReferenceURI:
			m.ReferenceURI, e = d.text(p, raw)
		default:
			sk, ok := sectionByKey(f, k)
			if !ok {
				m.Other = append(m.Other, RawMember{Key: k, Raw: raw})
				continue
			}
			m.Sections[sk], e = d.section(p, sk, raw)
		}
		if e != nil {
			return nil, e
		}
	}
	return m, nil
}

func manifestKeyName(f Format, k int64) string {
	switch k {
	case keyVersion:
		return "manifest-version"
	case keySequence:
		return "manifest-sequence-number"
	case keyCommon:
		return "common"
	case keyReferenceURI:
		return "reference-uri"
	}
	if sk, ok := sectionByKey(f, k); ok {
		return sk.Name(f)
	}
	return "unknown"
}

func (d decoder) section(path string, k SectionKind, raw []byte) (*Section, *Error) {
	s := &Section{Kind: k}
	if k.Severable() && major(raw) == majArray {
		dg, e := d.digest(path, raw)
		if e != nil {
			return nil, e
		}
		s.Severed = dg
		return s, nil
	}
	b, e := d.bstrWrapped(path, raw)
	if e != nil {
		return nil, e
	}
	s.Raw = b
	if sections[k].commands {
		s.Commands, e = d.sequence(path, b, 0)
		if e != nil {
			return nil, e
		}
	}
	return s, nil
}

// fillSevered decodes a severed member the envelope carries into s. The
// caller checks its digest first when it matters (Process does).
func fillSevered(s *Section, raw []byte, f Format) *Error {
	d := decoder{f: f, step: StepSeverable}
	s.Raw = raw
	if sections[s.Kind].commands {
		cmds, e := d.sequence("envelope: "+s.Kind.Name(f), raw, 0)
		if e != nil {
			return e
		}
		s.Commands = cmds
	}
	return nil
}

func (d decoder) common(path string, raw []byte, m *Manifest) *Error {
	b, e := d.bstrWrapped(path, raw)
	if e != nil {
		return e
	}
	cm, keys, e := d.intMap(path, b)
	if e != nil {
		return e
	}
	for _, k := range keys {
		v := cm[k]
		switch k {
		case keyComponents:
			p := path + ": components (2)"
			list, e := d.array(p, v)
			if e != nil {
				return e
			}
			for i, c := range list {
				parts, e := d.array(fmt.Sprintf("%s[%d]", p, i), c)
				if e != nil {
					return e
				}
				id := make(ComponentID, 0, len(parts))
				for j, part := range parts {
					pb, e := d.bytes(fmt.Sprintf("%s[%d][%d]", p, i, j), part)
					if e != nil {
						return e
					}
					id = append(id, pb)
				}
				m.Components = append(m.Components, id)
			}
		case keySharedSequence:
			p := path + ": shared-sequence (4)"
			sb, e := d.bstrWrapped(p, v)
			if e != nil {
				return e
			}
			if m.Shared, e = d.sequence(p, sb, 0); e != nil {
				return e
			}
		default:
			m.CommonOther = append(m.CommonOther, RawMember{Key: k, Raw: v})
		}
	}
	return nil
}

// sequence decodes an encoded command sequence: [ key, arg, key, arg, ... ].
func (d decoder) sequence(path string, raw []byte, depth int) (CommandSequence, *Error) {
	if depth > maxDepth {
		return nil, d.errf(path, "command sequences nested deeper than %d", maxDepth)
	}
	items, e := d.array(path, raw)
	if e != nil {
		return nil, e
	}
	if len(items)%2 != 0 {
		return nil, d.errf(path, "command sequence has %d items; commands come in pairs (id, argument)", len(items))
	}
	seq := make(CommandSequence, 0, len(items)/2)
	for i := 0; i < len(items); i += 2 {
		p := fmt.Sprintf("%s[%d]", path, i)
		key, e := d.int(p, items[i])
		if e != nil {
			return nil, e
		}
		c := Command{Op: opByKey(d.f, key), Key: key}
		p = fmt.Sprintf("%s[%d] %s", path, i+1, c.Op.Name(d.f))
		arg := items[i+1]
		switch ops[c.Op].arg {
		case argPolicy:
			c.Policy, e = d.uint(p, arg)
		case argIndex:
			c.Index, e = d.index(p, arg)
		case argParams:
			c.Params, e = d.params(p, arg)
		case argTryEach:
			e = d.tryEach(p, arg, depth, &c)
		case argSequence:
			var sb []byte
			if sb, e = d.bstrWrapped(p, arg); e == nil {
				var s CommandSequence
				s, e = d.sequence(p, sb, depth+1)
				c.Seqs = []CommandSequence{s}
			}
		default:
			c.Raw = slices.Clone(arg)
		}
		if e != nil {
			return nil, e
		}
		seq = append(seq, c)
	}
	return seq, nil
}

func (d decoder) index(path string, raw []byte) (IndexArg, *Error) {
	switch {
	case len(raw) == 1 && raw[0] == 0xf5:
		return IndexArg{All: true}, nil
	case len(raw) == 1 && raw[0] == 0xf4:
		return IndexArg{None: true}, nil
	case major(raw) == majUint:
		v, e := d.uint(path, raw)
		return IndexArg{Indices: []uint64{v}}, e
	case major(raw) == majArray:
		items, e := d.array(path, raw)
		if e != nil {
			return IndexArg{}, e
		}
		if len(items) == 0 {
			return IndexArg{}, d.errf(path, "empty list of component indices")
		}
		a := IndexArg{List: true}
		for i, it := range items {
			v, e := d.uint(fmt.Sprintf("%s[%d]", path, i), it)
			if e != nil {
				return IndexArg{}, e
			}
			a.Indices = append(a.Indices, v)
		}
		return a, nil
	}
	return IndexArg{}, d.errf(path, "expected a component index (uint, bool or list), got %s", kind(raw))
}

func (d decoder) tryEach(path string, raw []byte, depth int, c *Command) *Error {
	items, e := d.array(path, raw)
	if e != nil {
		return e
	}
	if len(items) == 0 {
		return d.errf(path, "try-each without options")
	}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		if i == len(items)-1 && len(it) == 1 && it[0] == 0xf6 {
			c.TryEachNil = true
			break
		}
		sb, e := d.bstrWrapped(p, it)
		if e != nil {
			return e
		}
		s, e := d.sequence(p, sb, depth+1)
		if e != nil {
			return e
		}
		c.Seqs = append(c.Seqs, s)
	}
	return nil
}

func (d decoder) params(path string, raw []byte) (*Parameters, *Error) {
	pm, keys, e := d.intMap(path, raw)
	if e != nil {
		return nil, e
	}
	ps := &Parameters{}
	for _, k := range keys {
		v := pm[k]
		p := paramByKey(d.f, k)
		pp := fmt.Sprintf("%s: %s (%d)", path, p.Name(d.f), k)
		var e *Error
		switch {
		case p == ParamVendorID && major(v) == majBytes:
			ps.VendorID, e = d.bytes(pp, v)
		case p == ParamClassID && major(v) == majBytes:
			ps.ClassID, e = d.bytes(pp, v)
		case p == ParamImageDigest:
			var b []byte
			if b, e = d.bstrWrapped(pp, v); e == nil {
				ps.ImageDigest, e = d.digest(pp, b)
			}
		case p == ParamImageSize:
			ps.ImageSize, e = d.uintPtr(pp, v)
		case p == ParamSlot:
			ps.Slot, e = d.uintPtr(pp, v)
		case p == ParamSourceComponent:
			ps.SourceComponent, e = d.uintPtr(pp, v)
		case p == ParamURI:
			var s string
			if s, e = d.text(pp, v); e == nil {
				ps.URI = &s
			}
		default:
			ps.Other = append(ps.Other, RawParam{Param: p, Key: k, Raw: slices.Clone(v)})
		}
		if e != nil {
			return nil, e
		}
	}
	return ps, nil
}

func (d decoder) uintPtr(path string, raw []byte) (*uint64, *Error) {
	v, e := d.uint(path, raw)
	if e != nil {
		return nil, e
	}
	return &v, nil
}
