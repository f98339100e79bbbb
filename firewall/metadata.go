package firewall

import (
	"fmt"
	"math"
	"strconv"

	"github.com/fxamacker/cbor/v2"
)

// MetadataTag is the CBOR tag around TinyContainer metadata: the ASCII of
// "TinyPART" read as a big-endian integer.
const MetadataTag uint64 = 6082514239057121876

// RuntimeType is the container's interpreter (the CDDL's interpreter-types).
type RuntimeType uint8

// The runtime types, numbered as upstream's CDDL.
const (
	TypeUndefined RuntimeType = iota
	TypeNative
	TypeShell
	TypeBPF
	TypeWasm
	TypeJavaCard
	TypeJavaScript
	TypePython
	numTypes
)

var typeNames = [numTypes]string{"undefined", "native", "shell", "bpf", "wasm", "javacard-applet", "javascript", "python"}

func (t RuntimeType) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseRuntimeType reads a runtime type name as String prints it, or its
// number in the CDDL (3 for bpf).
func ParseRuntimeType(s string) (RuntimeType, error) {
	for i, n := range typeNames {
		if n == s {
			return RuntimeType(i), nil
		}
	}
	if n, err := strconv.ParseUint(s, 10, 8); err == nil && n < uint64(numTypes) {
		return RuntimeType(n), nil
	}
	return 0, fmt.Errorf("%w: runtime type %q (known: %v, or 0..%d)", ErrInvalidValue, s, typeNames, numTypes-1)
}

// PeerType says what is at the other end of an endpoint.
type PeerType uint8

// Peer types, numbered as upstream.
const (
	PeerContainer PeerType = iota // another container on the device (needs PeerUID)
	PeerLocal                     // a local peripheral: sensor or actuator
	PeerRemote                    // a remote node
	numPeerTypes
)

var peerNames = [numPeerTypes]string{"container", "local", "remote"}

func (p PeerType) String() string {
	if p < numPeerTypes {
		return peerNames[p]
	}
	return fmt.Sprintf("peer(%d)", uint8(p))
}

// ParsePeerType reads a peer type name as String prints it.
func ParsePeerType(s string) (PeerType, error) {
	for i, n := range peerNames {
		if n == s {
			return PeerType(i), nil
		}
	}
	return 0, fmt.Errorf("%w: peer type %q (want container, local or remote)", ErrInvalidValue, s)
}

// Direction is the way data may flow through an endpoint, seen from the
// container: In means the container reads from its peer, Out means it writes
// to it. The CDDL names the values that way; upstream's fd table
// (service_endpoint_fd.c) tests the opposite (read allowed on out), which
// would make a sensor declared "in" unreadable, so tinylab follows the names.
type Direction uint8

// Directions, numbered as upstream.
const (
	DirIn Direction = iota
	DirOut
	DirBoth
	numDirections
)

var dirNames = [numDirections]string{"in", "out", "both"}

func (d Direction) String() string {
	if d < numDirections {
		return dirNames[d]
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// ParseDirection reads a direction name as String prints it.
func ParseDirection(s string) (Direction, error) {
	for i, n := range dirNames {
		if n == s {
			return Direction(i), nil
		}
	}
	return 0, fmt.Errorf("%w: direction %q (want in, out or both)", ErrInvalidValue, s)
}

// CanRead reports whether the container may read through the endpoint.
func (d Direction) CanRead() bool { return d == DirIn || d == DirBoth }

// CanWrite reports whether the container may write through the endpoint.
func (d Direction) CanWrite() bool { return d == DirOut || d == DirBoth }

// Endpoint is one entry of the metadata's endpoint list. The container only
// knows ID; the host maps it to the peer.
type Endpoint struct {
	ID           uint32
	Peer         PeerType
	PeerUID      string // the peer container's uid; only for PeerContainer
	PeerEndpoint uint32 // the endpoint id on the peer's side
	Direction    Direction
	Token        []byte // optional endpoint CWT, kept as is (upstream defines no claims for it)
}

// Timing is the five numbers at the head of the security array.
type Timing struct {
	StartMaxMS      uint32 // longest start() run, ms
	LoopPeriodMS    uint32 // time between two loop() calls, ms
	LoopMaxMS       uint32 // longest loop() run, ms
	LoopMaxLifetime uint32 // most loop() calls
	StopMaxMS       uint32 // longest stop() run, ms
}

// DefaultTiming is the timing of upstream's example containers.
var DefaultTiming = Timing{StartMaxMS: 100, LoopPeriodMS: 1000, LoopMaxMS: 100, LoopMaxLifetime: 1000, StopMaxMS: 100}

// Security is the security array: the timing limits and three tokens.
type Security struct {
	Timing
	DataToken     []byte
	CodeToken     []byte
	MetadataToken []byte
}

// Container is the container part of the metadata.
type Container struct {
	UID       string // bytes, not necessarily text
	Type      RuntimeType
	MaskToken []byte // the syscall-mask CWT
}

// Metadata is a decoded TinyContainer metadata object.
type Metadata struct {
	Container Container
	Endpoints []Endpoint
	Security  Security

	raw []byte // the bytes it was decoded from; the metadata token hashes these
}

// Raw returns the bytes the metadata was decoded from, nil when it was built
// in memory.
func (m *Metadata) Raw() []byte { return m.raw }

// Endpoint finds an endpoint by id.
func (m *Metadata) Endpoint(id uint32) (Endpoint, bool) {
	for _, e := range m.Endpoints {
		if e.ID == id {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Limits bound what the decoder accepts.
type Limits struct {
	MaxSize      int // the whole metadata, bytes
	MaxUID       int // container and peer uid, bytes
	MaxEndpoints int
	MaxToken     int // each token, bytes
}

// DefaultLimits: uids as upstream's controller (UID_MAX_LEN 64, so at most
// 63 bytes); room for 16 endpoints with tokens, where upstream's RAM memory
// manager keeps 512 bytes of metadata by default.
var DefaultLimits = Limits{MaxSize: 4096, MaxUID: 63, MaxEndpoints: 16, MaxToken: 512}

// DecodeMetadata decodes metadata with DefaultLimits.
func DecodeMetadata(b []byte) (*Metadata, error) { return DefaultLimits.Decode(b) }

// Decode decodes tagged TinyContainer metadata. Every malformed part gives a
// *FieldError naming the field. Endpoints or security absent from the outer
// map (the CDDL makes them optional) decode as empty.
func (l Limits) Decode(b []byte) (*Metadata, error) {
	if len(b) > l.MaxSize {
		return nil, &FieldError{Field: "metadata", Want: fmt.Sprintf("at most %d bytes", l.MaxSize), Got: fmt.Sprintf("%d bytes", len(b)), Err: ErrLimit}
	}
	if err := decMode.Wellformed(b); err != nil {
		return nil, &FieldError{Field: "metadata", Want: "one well-formed CBOR item", Got: err.Error(), Err: ErrMalformed}
	}
	want := fmt.Sprintf("tag %d (TinyPART)", MetadataTag)
	if major(b) != majorTag {
		return nil, &FieldError{Field: "metadata", Want: want, Got: describe(b), Err: ErrMalformed}
	}
	var tag cbor.RawTag
	if err := decMode.Unmarshal(b, &tag); err != nil {
		return nil, &FieldError{Field: "metadata", Want: want, Got: err.Error(), Err: ErrMalformed}
	}
	if tag.Number != MetadataTag {
		return nil, &FieldError{Field: "metadata", Want: want, Got: fmt.Sprintf("tag %d", tag.Number), Err: ErrMalformed}
	}
	top, err := intMap(tag.Content, "metadata map")
	if err != nil {
		return nil, err
	}
	md := &Metadata{raw: append([]byte(nil), b...)}
	for k := range top {
		if k < 1 || k > 3 {
			return nil, &FieldError{Field: fmt.Sprintf("metadata map key %d", k), Want: "1 (container), 2 (endpoints) or 3 (security)", Err: ErrUnknownField}
		}
	}
	raw, ok := top[1]
	if !ok {
		return nil, &FieldError{Field: "metadata.container", Want: "key 1: bstr .cbor container", Err: ErrMissingField}
	}
	if md.Container, err = l.decodeContainer(raw); err != nil {
		return nil, err
	}
	if raw, ok := top[2]; ok {
		if md.Endpoints, err = l.decodeEndpoints(raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := top[3]; ok {
		if md.Security, err = l.decodeSecurity(raw); err != nil {
			return nil, err
		}
	}
	return md, nil
}

// wrapped reads a "bstr .cbor X" field: a byte string holding exactly one CBOR item.
func (l Limits) wrapped(raw []byte, field string) ([]byte, error) {
	inner, err := bytesField(raw, field, 1, l.MaxSize)
	if err != nil {
		return nil, err
	}
	if err := decMode.Wellformed(inner); err != nil {
		return nil, &FieldError{Field: field, Want: "bstr holding one well-formed CBOR item", Got: err.Error(), Err: ErrMalformed}
	}
	return inner, nil
}

func (l Limits) decodeContainer(raw []byte) (Container, error) {
	var c Container
	inner, err := l.wrapped(raw, "metadata.container")
	if err != nil {
		return c, err
	}
	m, err := intMap(inner, "container")
	if err != nil {
		return c, err
	}
	for k := range m {
		if k < 1 || k > 3 {
			return c, &FieldError{Field: fmt.Sprintf("container key %d", k), Want: "1 (uid), 2 (type) or 3 (syscall-mask)", Err: ErrUnknownField}
		}
	}
	need := func(k int64, name, want string) ([]byte, error) {
		v, ok := m[k]
		if !ok {
			return nil, &FieldError{Field: "container." + name, Want: fmt.Sprintf("key %d: %s", k, want), Err: ErrMissingField}
		}
		return v, nil
	}
	v, err := need(1, "uid", "bstr")
	if err != nil {
		return c, err
	}
	uid, err := bytesField(v, "container.uid", 1, l.MaxUID)
	if err != nil {
		return c, err
	}
	c.UID = string(uid)
	if v, err = need(2, "type", "interpreter type 0..7"); err != nil {
		return c, err
	}
	t, err := uintField(v, "container.type", uint64(numTypes-1))
	if err != nil {
		return c, err
	}
	c.Type = RuntimeType(t)
	if v, err = need(3, "syscall-mask", "bstr .cbor cwt"); err != nil {
		return c, err
	}
	if c.MaskToken, err = bytesField(v, "container.syscall-mask", 0, l.MaxToken); err != nil {
		return c, err
	}
	return c, nil
}

func (l Limits) decodeEndpoints(raw []byte) ([]Endpoint, error) {
	inner, err := l.wrapped(raw, "metadata.endpoints")
	if err != nil {
		return nil, err
	}
	items, err := rawArray(inner, "endpoints")
	if err != nil {
		return nil, err
	}
	if len(items) > l.MaxEndpoints {
		return nil, &FieldError{Field: "endpoints", Want: fmt.Sprintf("at most %d endpoints", l.MaxEndpoints), Got: fmt.Sprintf("%d", len(items)), Err: ErrLimit}
	}
	eps := make([]Endpoint, 0, len(items))
	for i, item := range items {
		e, err := l.decodeEndpoint(item, fmt.Sprintf("endpoints[%d]", i))
		if err != nil {
			return nil, err
		}
		eps = append(eps, e)
	}
	if err := checkEndpointIDs(eps); err != nil {
		return nil, err
	}
	return eps, nil
}

func (l Limits) decodeEndpoint(raw []byte, field string) (Endpoint, error) {
	var e Endpoint
	m, err := intMap(raw, field)
	if err != nil {
		return e, err
	}
	for k := range m {
		if k < 1 || k > 6 {
			return e, &FieldError{Field: fmt.Sprintf("%s key %d", field, k), Want: "1 (id), 2 (peer-type), 3 (peer-uid), 4 (peer-endpoint-id), 5 (direction) or 6 (token)", Err: ErrUnknownField}
		}
	}
	get := func(k int64, name, want string) ([]byte, error) {
		v, ok := m[k]
		if !ok {
			return nil, &FieldError{Field: field + "." + name, Want: fmt.Sprintf("key %d: %s", k, want), Err: ErrMissingField}
		}
		return v, nil
	}
	v, err := get(1, "id", "uint")
	if err != nil {
		return e, err
	}
	id, err := uintField(v, field+".id", math.MaxUint32)
	if err != nil {
		return e, err
	}
	e.ID = uint32(id)
	if v, err = get(2, "peer-type", "0 (container), 1 (local) or 2 (remote)"); err != nil {
		return e, err
	}
	pt, err := uintField(v, field+".peer-type", uint64(numPeerTypes-1))
	if err != nil {
		return e, err
	}
	e.Peer = PeerType(pt)
	if v, ok := m[3]; ok {
		uid, err := bytesField(v, field+".peer-uid", 1, l.MaxUID)
		if err != nil {
			return e, err
		}
		e.PeerUID = string(uid)
	} else if e.Peer == PeerContainer {
		return e, &FieldError{Field: field + ".peer-uid", Want: "key 3: bstr, required for a container peer", Err: ErrMissingField}
	}
	if v, err = get(4, "peer-endpoint-id", "uint"); err != nil {
		return e, err
	}
	pe, err := uintField(v, field+".peer-endpoint-id", math.MaxUint32)
	if err != nil {
		return e, err
	}
	e.PeerEndpoint = uint32(pe)
	if v, err = get(5, "direction", "0 (in), 1 (out) or 2 (both)"); err != nil {
		return e, err
	}
	d, err := uintField(v, field+".direction", uint64(numDirections-1))
	if err != nil {
		return e, err
	}
	e.Direction = Direction(d)
	if v, ok := m[6]; ok {
		if e.Token, err = bytesField(v, field+".token", 1, l.MaxToken); err != nil {
			return e, err
		}
	}
	return e, nil
}

func checkEndpointIDs(eps []Endpoint) error {
	for i := range eps {
		for j := range i {
			if eps[i].ID == eps[j].ID {
				return &FieldError{Field: fmt.Sprintf("endpoints[%d].id", i), Want: "an id no other endpoint has", Got: fmt.Sprintf("%d, as endpoints[%d]", eps[i].ID, j), Err: ErrInvalidValue}
			}
		}
	}
	return nil
}

var securityNames = [8]string{
	"start-max-duration", "loop-period", "loop-max-duration", "loop-max-lifetime", "stop-max-duration",
	"data-token", "code-token", "metadata-token",
}

func (l Limits) decodeSecurity(raw []byte) (Security, error) {
	var s Security
	inner, err := l.wrapped(raw, "metadata.security")
	if err != nil {
		return s, err
	}
	items, err := rawArray(inner, "security")
	if err != nil {
		return s, err
	}
	if len(items) != len(securityNames) {
		return s, &FieldError{Field: "security", Want: "array of 8 (5 timing values, data, code and metadata tokens)", Got: fmt.Sprintf("array of %d", len(items)), Err: ErrMalformed}
	}
	nums := [5]*uint32{&s.StartMaxMS, &s.LoopPeriodMS, &s.LoopMaxMS, &s.LoopMaxLifetime, &s.StopMaxMS}
	for i, p := range nums {
		v, err := uintField(items[i], "security."+securityNames[i], math.MaxUint32)
		if err != nil {
			return s, err
		}
		*p = uint32(v)
	}
	toks := [3]*[]byte{&s.DataToken, &s.CodeToken, &s.MetadataToken}
	for i, p := range toks {
		if *p, err = bytesField(items[5+i], "security."+securityNames[5+i], 0, l.MaxToken); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Validate checks what the decoder would check on the encoded form.
func (m *Metadata) Validate(l Limits) error {
	if n := len(m.Container.UID); n < 1 || n > l.MaxUID {
		return &FieldError{Field: "container.uid", Want: fmt.Sprintf("1..%d bytes", l.MaxUID), Got: fmt.Sprintf("%d bytes", n), Err: ErrInvalidValue}
	}
	if m.Container.Type >= numTypes {
		return &FieldError{Field: "container.type", Want: "0..7", Got: fmt.Sprint(uint8(m.Container.Type)), Err: ErrInvalidValue}
	}
	if len(m.Endpoints) > l.MaxEndpoints {
		return &FieldError{Field: "endpoints", Want: fmt.Sprintf("at most %d endpoints", l.MaxEndpoints), Got: fmt.Sprint(len(m.Endpoints)), Err: ErrLimit}
	}
	for i, e := range m.Endpoints {
		f := fmt.Sprintf("endpoints[%d]", i)
		switch {
		case e.Peer >= numPeerTypes:
			return &FieldError{Field: f + ".peer-type", Want: "0..2", Got: fmt.Sprint(uint8(e.Peer)), Err: ErrInvalidValue}
		case e.Direction >= numDirections:
			return &FieldError{Field: f + ".direction", Want: "0..2", Got: fmt.Sprint(uint8(e.Direction)), Err: ErrInvalidValue}
		case e.Peer == PeerContainer && e.PeerUID == "":
			return &FieldError{Field: f + ".peer-uid", Want: "a uid for a container peer", Err: ErrMissingField}
		case len(e.PeerUID) > l.MaxUID:
			return &FieldError{Field: f + ".peer-uid", Want: fmt.Sprintf("at most %d bytes", l.MaxUID), Got: fmt.Sprintf("%d bytes", len(e.PeerUID)), Err: ErrLimit}
		case len(e.Token) > l.MaxToken:
			return &FieldError{Field: f + ".token", Want: fmt.Sprintf("at most %d bytes", l.MaxToken), Got: fmt.Sprintf("%d bytes", len(e.Token)), Err: ErrLimit}
		}
	}
	if err := checkEndpointIDs(m.Endpoints); err != nil {
		return err
	}
	toks := [4][]byte{m.Container.MaskToken, m.Security.DataToken, m.Security.CodeToken, m.Security.MetadataToken}
	for i, t := range toks {
		if len(t) > l.MaxToken {
			return &FieldError{Field: TokenKind(i).String() + " token", Want: fmt.Sprintf("at most %d bytes", l.MaxToken), Got: fmt.Sprintf("%d bytes", len(t)), Err: ErrLimit}
		}
	}
	return nil
}

// Encode writes the metadata in upstream's layout: the tag over
// {1: container, 2: endpoints, 3: security}, each part a byte string holding
// deterministic CBOR, all three parts always present. The security array
// comes last, so the metadata token is the last bytes of the result.
func (m *Metadata) Encode() ([]byte, error) {
	if err := m.Validate(DefaultLimits); err != nil {
		return nil, err
	}
	container, err := encMode.Marshal(map[int]any{1: []byte(m.Container.UID), 2: uint8(m.Container.Type), 3: nonNil(m.Container.MaskToken)})
	if err != nil {
		return nil, err
	}
	eps := make([]map[int]any, 0, len(m.Endpoints))
	for _, e := range m.Endpoints {
		em := map[int]any{1: e.ID, 2: uint8(e.Peer), 4: e.PeerEndpoint, 5: uint8(e.Direction)}
		if e.PeerUID != "" {
			em[3] = []byte(e.PeerUID)
		}
		if len(e.Token) > 0 {
			em[6] = e.Token
		}
		eps = append(eps, em)
	}
	endpoints, err := encMode.Marshal(eps)
	if err != nil {
		return nil, err
	}
	s := m.Security
	security, err := encMode.Marshal([]any{s.StartMaxMS, s.LoopPeriodMS, s.LoopMaxMS, s.LoopMaxLifetime, s.StopMaxMS,
		nonNil(s.DataToken), nonNil(s.CodeToken), nonNil(s.MetadataToken)})
	if err != nil {
		return nil, err
	}
	out, err := encMode.Marshal(cbor.Tag{Number: MetadataTag, Content: map[int][]byte{1: container, 2: endpoints, 3: security}})
	if err != nil {
		return nil, err
	}
	if len(out) > DefaultLimits.MaxSize {
		return nil, &FieldError{Field: "metadata", Want: fmt.Sprintf("at most %d bytes", DefaultLimits.MaxSize), Got: fmt.Sprintf("%d bytes", len(out)), Err: ErrLimit}
	}
	return out, nil
}

// nonNil makes a nil token encode as an empty byte string rather than null.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
