package suit

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

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

// wfMode checks well-formedness strictly: no indefinite lengths, bounded
// nesting and container sizes.
var wfMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: 4096,
		MaxMapPairs:      512,
	}.DecMode()
	if err != nil {
		panic(err) // the options are constant; this cannot happen at run time
	}
	return dm
}()

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

// path locates an item for error messages; it is only turned into text
// when there is an error.
type path struct {
	parent *path
	name   string // "common", or "" for an index
	key    int64  // shown as "name (key)" when hasKey
	hasKey bool
	index  int
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	s := p.parent.String()
	switch {
	case p.name == "":
		return s + "[" + strconv.Itoa(p.index) + "]"
	case p.hasKey:
		s += sep(s) + p.name + " (" + strconv.FormatInt(p.key, 10) + ")"
	default:
		s += sep(s) + p.name
	}
	return s
}

func sep(s string) string {
	if s == "" {
		return ""
	}
	return ": "
}

// decoder builds errors with their path and decodes in the numbering of
// its format.
type decoder struct {
	f    Format
	step Step
}

func (d decoder) errf(p *path, format string, args ...any) *Error {
	return newError(CodeInvalidManifest, d.step, "%s: %s", p.String(), fmt.Sprintf(format, args...))
}

func (d decoder) want(p *path, raw []byte, what string) *Error {
	return d.errf(p, "expected %s, got %s", what, kind(raw))
}

func (d decoder) bytes(p *path, raw []byte) ([]byte, *Error) {
	b, ok := content(raw, majBytes)
	if !ok {
		return nil, d.want(p, raw, "a byte string")
	}
	return b, nil
}

func (d decoder) text(p *path, raw []byte) (string, *Error) {
	b, ok := content(raw, majText)
	if !ok {
		return "", d.want(p, raw, "a text string")
	}
	if !utf8.Valid(b) {
		return "", d.errf(p, "text string is not valid UTF-8")
	}
	return string(b), nil
}

func (d decoder) uint(p *path, raw []byte) (uint64, *Error) {
	maj, arg, n, ok := head(raw)
	if !ok || maj != majUint || n != len(raw) {
		return 0, d.want(p, raw, "an unsigned integer")
	}
	return arg, nil
}

func (d decoder) int(p *path, raw []byte) (int64, *Error) {
	v, ok := integer(raw)
	if !ok {
		if m := major(raw); m == majUint || m == majNint {
			return 0, d.errf(p, "integer out of range")
		}
		return 0, d.want(p, raw, "an integer")
	}
	return v, nil
}

func (d decoder) array(p *path, raw []byte) ([][]byte, *Error) {
	a, ok := items(raw, majArray)
	if !ok {
		return nil, d.want(p, raw, "an array")
	}
	return a, nil
}

// member is one map entry.
type member struct {
	key  int64
	text string // key, when the key is a text string
	val  []byte
}

// intMap splits a map whose keys are integers, sorted by key; a duplicate
// key is an error.
func (d decoder) intMap(p *path, raw []byte) ([]member, *Error) {
	kv, ok := items(raw, majMap)
	if !ok {
		return nil, d.want(p, raw, "a map")
	}
	ms := make([]member, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := integer(kv[i])
		if !ok {
			return nil, d.errf(p, "map key is %s, want an integer", kind(kv[i]))
		}
		ms = append(ms, member{key: k, val: kv[i+1]})
	}
	return sortMembers(d, p, ms)
}

func sortMembers(d decoder, p *path, ms []member) ([]member, *Error) {
	slices.SortFunc(ms, func(a, b member) int {
		if a.text != b.text {
			if a.text < b.text {
				return -1
			}
			return 1
		}
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	for i := 1; i < len(ms); i++ {
		if ms[i].key == ms[i-1].key && ms[i].text == ms[i-1].text {
			if ms[i].text != "" {
				return nil, d.errf(p, "duplicate map key %q", ms[i].text)
			}
			return nil, d.errf(p, "duplicate map key %d", ms[i].key)
		}
	}
	return ms, nil
}

// bstrWrapped returns the content of a bstr that must itself hold one
// well-formed CBOR item.
func (d decoder) bstrWrapped(p *path, raw []byte) ([]byte, *Error) {
	b, e := d.bytes(p, raw)
	if e != nil {
		return nil, e
	}
	if err := wfMode.Wellformed(b); err != nil {
		return nil, &Error{Code: CodeInvalidManifest, Step: d.step, Msg: p.String() + ": bstr content: malformed CBOR", Err: err}
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
// *Error with CodeInvalidManifest, CodeUnsupported or CodeNoMem. The
// envelope shares memory with data.
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
	top := &path{name: "envelope"}
	if len(data) == 0 {
		return nil, d.errf(top, "empty")
	}
	if len(data) > MaxEnvelopeSize {
		return nil, newError(CodeNoMem, StepEnvelope, "envelope of %d bytes exceeds %d", len(data), MaxEnvelopeSize)
	}
	if err := wfMode.Wellformed(data); err != nil {
		return nil, &Error{Code: CodeInvalidManifest, Step: StepEnvelope, Msg: "envelope: malformed CBOR", Err: err}
	}
	env := &Envelope{}
	body := data
	if maj, tag, n, ok := head(data); ok && maj == majTag {
		switch tag {
		case envelopeTag:
			if !accept.has(FormatFinal) {
				// RIOT enters only a bare map: the tag is a structure error.
				return nil, d.errf(top, "CBOR tag 107 (final-format envelope): this client reads only %s", FormatDraft09)
			}
			env.Format, env.Tagged = FormatFinal, true
		case manifestTag:
			return nil, newError(CodeUnsupported, StepEnvelope, "envelope: CBOR tag 1070 (a manifest without envelope or authentication) is not supported")
		default:
			return nil, d.errf(top, "unexpected CBOR tag %d", tag)
		}
		body = data[n:]
	}
	kv, ok := items(body, majMap)
	if !ok {
		return nil, d.want(top, body, "a map")
	}
	ms := make([]member, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m := member{val: kv[i+1]}
		if t, ok := content(kv[i], majText); ok {
			if !utf8.Valid(t) {
				return nil, d.errf(top, "text key is not valid UTF-8")
			}
			m.text = string(t)
		} else if m.key, ok = integer(kv[i]); !ok {
			return nil, d.errf(top, "map key is %s, want an integer or a text string", kind(kv[i]))
		}
		ms = append(ms, m)
	}
	ms, e := sortMembers(d, top, ms)
	if e != nil {
		return nil, e
	}
	get := func(key int64) ([]byte, bool) {
		for _, m := range ms {
			if m.text == "" && m.key == key {
				return m.val, true
			}
		}
		return nil, false
	}
	if !env.Tagged {
		env.Format = FormatDraft09
		if raw, ok := get(keyAuth); ok && authLooksFinal(raw) {
			env.Format = FormatFinal
		}
		if !accept.has(env.Format) {
			return nil, d.errf(top, "authentication wrapper in the %s layout: this client reads only %s", env.Format, other(env.Format))
		}
	}
	d.f = env.Format
	if raw, ok := get(keyAuth); ok {
		a, e := d.auth(raw)
		if e != nil {
			return nil, e
		}
		env.Auth = a
	}
	raw, ok := get(keyManifest)
	mp := &path{parent: top, name: "manifest", key: keyManifest, hasKey: true}
	if !ok {
		return nil, d.errf(top, "no manifest (key 3)")
	}
	mb, e := d.bstrWrapped(mp, raw)
	if e != nil {
		return nil, e
	}
	if !bytes.Equal(raw[:len(raw)-len(mb)], bstrHead(len(mb))) {
		// The digest covers the bstr as encoded; a padded length head would
		// make signer and device hash different bytes.
		return nil, d.errf(mp, "byte string length not in shortest form")
	}
	env.ManifestBytes = mb
	for _, m := range ms {
		if m.text != "" {
			if env.Format != FormatFinal {
				return nil, d.errf(top, "text key %q: draft-09 envelopes have integer keys only", m.text)
			}
			b, e := d.bytes(&path{parent: top, name: strconv.Quote(m.text)}, m.val)
			if e != nil {
				return nil, e
			}
			if env.Integrated == nil {
				env.Integrated = map[string][]byte{}
			}
			env.Integrated[m.text] = b
			continue
		}
		if m.key == keyAuth || m.key == keyManifest {
			continue
		}
		if sk, ok := sectionByKey(env.Format, m.key); ok && sk.Severable() {
			b, e := d.bstrWrapped(&path{parent: top, name: sk.Name(env.Format), key: m.key, hasKey: true}, m.val)
			if e != nil {
				return nil, e
			}
			if env.Severed == nil {
				env.Severed = map[SectionKind][]byte{}
			}
			env.Severed[sk] = b
			continue
		}
		env.Other = append(env.Other, RawMember{Key: m.key, Raw: m.val})
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
	b, ok := content(raw, majBytes)
	if !ok {
		return false
	}
	list, ok := items(b, majArray)
	if !ok || len(list) == 0 {
		return false
	}
	first, ok := content(list[0], majBytes)
	return ok && major(first) == majArray
}

func (d decoder) auth(raw []byte) (*Auth, *Error) {
	ap := &path{name: "envelope: authentication-wrapper", key: keyAuth, hasKey: true}
	b, e := d.bstrWrapped(ap, raw)
	if e != nil {
		return nil, e
	}
	list, e := d.array(ap, b)
	if e != nil {
		return nil, e
	}
	a := &Auth{}
	for i, it := range list {
		ip := &path{parent: ap, index: i}
		v, e := d.bstrWrapped(ip, it)
		if e != nil {
			return nil, e
		}
		if d.f == FormatFinal && i == 0 {
			if _, e := d.digest(ip, v); e != nil {
				return nil, e
			}
			a.Digest = v
			continue
		}
		a.Blocks = append(a.Blocks, v)
	}
	if d.f == FormatFinal && a.Digest == nil {
		return nil, d.errf(ap, "no SUIT_Digest")
	}
	return a, nil
}

// digest decodes an encoded SUIT_Digest.
func (d decoder) digest(p *path, raw []byte) (*Digest, *Error) {
	list, e := d.array(p, raw)
	if e != nil {
		return nil, e
	}
	if len(list) < 2 {
		return nil, d.errf(p, "SUIT_Digest has %d items, want [algorithm-id, digest-bytes]", len(list))
	}
	alg, e := d.int(&path{parent: p, name: "algorithm-id"}, list[0])
	if e != nil {
		return nil, e
	}
	b, e := d.bytes(&path{parent: p, name: "digest-bytes"}, list[1])
	if e != nil {
		return nil, e
	}
	return &Digest{Alg: digestByKey(d.f, alg), Wire: alg, Bytes: b}, nil
}

func decodeManifest(data []byte, f Format) (*Manifest, *Error) {
	d := decoder{f: f, step: StepManifest}
	top := &path{name: "manifest"}
	ms, e := d.intMap(top, data)
	if e != nil {
		return nil, e
	}
	m := &Manifest{}
	seen := 0
	for _, mb := range ms {
		p := &path{parent: top, name: manifestKeyName(f, mb.key), key: mb.key, hasKey: true}
		switch mb.key {
		case keyVersion:
			m.Version, e = d.uint(p, mb.val)
			seen |= 1
		case keySequence:
			m.Sequence, e = d.uint(p, mb.val)
			seen |= 2
		case keyCommon:
			e = d.common(p, mb.val, m)
			seen |= 4
		case keyReferenceURI:
			m.ReferenceURI, e = d.text(p, mb.val)
		default:
			sk, ok := sectionByKey(f, mb.key)
			if !ok {
				m.Other = append(m.Other, RawMember{Key: mb.key, Raw: mb.val})
				continue
			}
			m.Sections[sk], e = d.section(p, sk, mb.val)
		}
		if e != nil {
			return nil, e
		}
	}
	for i, k := range []int64{keyVersion, keySequence, keyCommon} {
		if seen&(1<<i) == 0 {
			return nil, d.errf(top, "required member %d (%s) is missing", k, manifestKeyName(f, k))
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

func (d decoder) section(p *path, k SectionKind, raw []byte) (*Section, *Error) {
	s := &Section{Kind: k}
	if k.Severable() && major(raw) == majArray {
		dg, e := d.digest(p, raw)
		if e != nil {
			return nil, e
		}
		s.Severed = dg
		return s, nil
	}
	b, e := d.bstrWrapped(p, raw)
	if e != nil {
		return nil, e
	}
	s.Raw = b
	if sections[k].commands {
		s.Commands, e = d.sequence(p, b, 0)
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
		cmds, e := d.sequence(&path{name: "envelope: " + s.Kind.Name(f)}, raw, 0)
		if e != nil {
			return e
		}
		s.Commands = cmds
	}
	return nil
}

func (d decoder) common(p *path, raw []byte, m *Manifest) *Error {
	b, e := d.bstrWrapped(p, raw)
	if e != nil {
		return e
	}
	cm, e := d.intMap(p, b)
	if e != nil {
		return e
	}
	for _, mb := range cm {
		switch mb.key {
		case keyComponents:
			cp := &path{parent: p, name: "components", key: keyComponents, hasKey: true}
			list, e := d.array(cp, mb.val)
			if e != nil {
				return e
			}
			m.Components = make([]ComponentID, 0, len(list))
			for i, c := range list {
				ip := &path{parent: cp, index: i}
				parts, e := d.array(ip, c)
				if e != nil {
					return e
				}
				id := make(ComponentID, 0, len(parts))
				for j, part := range parts {
					pb, e := d.bytes(&path{parent: ip, index: j}, part)
					if e != nil {
						return e
					}
					id = append(id, pb)
				}
				m.Components = append(m.Components, id)
			}
		case keySharedSequence:
			sp := &path{parent: p, name: "shared-sequence", key: keySharedSequence, hasKey: true}
			sb, e := d.bstrWrapped(sp, mb.val)
			if e != nil {
				return e
			}
			if m.Shared, e = d.sequence(sp, sb, 0); e != nil {
				return e
			}
		default:
			m.CommonOther = append(m.CommonOther, RawMember{Key: mb.key, Raw: mb.val})
		}
	}
	return nil
}

// sequence decodes an encoded command sequence: [ key, arg, key, arg, ... ].
func (d decoder) sequence(p *path, raw []byte, depth int) (CommandSequence, *Error) {
	if depth > maxDepth {
		return nil, d.errf(p, "command sequences nested deeper than %d", maxDepth)
	}
	list, e := d.array(p, raw)
	if e != nil {
		return nil, e
	}
	if len(list)%2 != 0 {
		return nil, d.errf(p, "command sequence has %d items; commands come in pairs (id, argument)", len(list))
	}
	seq := make(CommandSequence, 0, len(list)/2)
	for i := 0; i < len(list); i += 2 {
		key, e := d.int(&path{parent: p, index: i}, list[i])
		if e != nil {
			return nil, e
		}
		c := Command{Op: opByKey(d.f, key), Key: key}
		ap := &path{parent: &path{parent: p, index: i + 1}, name: c.Op.Name(d.f)}
		arg := list[i+1]
		switch ops[c.Op].arg {
		case argPolicy:
			c.Policy, e = d.uint(ap, arg)
		case argIndex:
			c.Index, e = d.index(ap, arg)
		case argParams:
			c.Params, e = d.params(ap, arg)
		case argTryEach:
			e = d.tryEach(ap, arg, depth, &c)
		case argSequence:
			var sb []byte
			if sb, e = d.bstrWrapped(ap, arg); e == nil {
				var s CommandSequence
				s, e = d.sequence(ap, sb, depth+1)
				c.Seqs = []CommandSequence{s}
			}
		default:
			c.Raw = arg
		}
		if e != nil {
			return nil, e
		}
		seq = append(seq, c)
	}
	return seq, nil
}

func (d decoder) index(p *path, raw []byte) (IndexArg, *Error) {
	switch {
	case len(raw) == 1 && raw[0] == 0xf5:
		return IndexArg{All: true}, nil
	case len(raw) == 1 && raw[0] == 0xf4:
		return IndexArg{None: true}, nil
	case major(raw) == majUint:
		v, e := d.uint(p, raw)
		return IndexArg{Indices: []uint64{v}}, e
	case major(raw) == majArray:
		list, e := d.array(p, raw)
		if e != nil {
			return IndexArg{}, e
		}
		if len(list) == 0 {
			return IndexArg{}, d.errf(p, "empty list of component indices")
		}
		a := IndexArg{List: true}
		for i, it := range list {
			v, e := d.uint(&path{parent: p, index: i}, it)
			if e != nil {
				return IndexArg{}, e
			}
			a.Indices = append(a.Indices, v)
		}
		return a, nil
	}
	return IndexArg{}, d.errf(p, "expected a component index (uint, bool or list), got %s", kind(raw))
}

func (d decoder) tryEach(p *path, raw []byte, depth int, c *Command) *Error {
	list, e := d.array(p, raw)
	if e != nil {
		return e
	}
	if len(list) == 0 {
		return d.errf(p, "try-each without options")
	}
	for i, it := range list {
		if i == len(list)-1 && len(it) == 1 && it[0] == 0xf6 {
			c.TryEachNil = true
			break
		}
		ip := &path{parent: p, index: i}
		sb, e := d.bstrWrapped(ip, it)
		if e != nil {
			return e
		}
		s, e := d.sequence(ip, sb, depth+1)
		if e != nil {
			return e
		}
		c.Seqs = append(c.Seqs, s)
	}
	return nil
}

func (d decoder) params(p *path, raw []byte) (*Parameters, *Error) {
	pm, e := d.intMap(p, raw)
	if e != nil {
		return nil, e
	}
	ps := &Parameters{}
	for _, mb := range pm {
		v := mb.val
		pr := paramByKey(d.f, mb.key)
		pp := &path{parent: p, name: pr.Name(d.f), key: mb.key, hasKey: true}
		var e *Error
		switch {
		case pr == ParamVendorID && major(v) == majBytes:
			ps.VendorID, e = d.bytes(pp, v)
		case pr == ParamClassID && major(v) == majBytes:
			ps.ClassID, e = d.bytes(pp, v)
		case pr == ParamImageDigest:
			var b []byte
			if b, e = d.bstrWrapped(pp, v); e == nil {
				ps.ImageDigest, e = d.digest(pp, b)
			}
		case pr == ParamImageSize:
			ps.ImageSize, e = d.uintPtr(pp, v)
		case pr == ParamSlot:
			ps.Slot, e = d.uintPtr(pp, v)
		case pr == ParamSourceComponent:
			ps.SourceComponent, e = d.uintPtr(pp, v)
		case pr == ParamURI:
			var s string
			if s, e = d.text(pp, v); e == nil {
				ps.URI = &s
			}
		default:
			ps.Other = append(ps.Other, RawParam{Param: pr, Key: mb.key, Raw: v})
		}
		if e != nil {
			return nil, e
		}
	}
	return ps, nil
}

func (d decoder) uintPtr(p *path, raw []byte) (*uint64, *Error) {
	v, e := d.uint(p, raw)
	if e != nil {
		return nil, e
	}
	return &v, nil
}
