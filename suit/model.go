package suit

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// ComponentID identifies a component: a list of byte strings, as in
// SUIT_Component_Identifier.
type ComponentID [][]byte

// Location joins the parts with a leading dot, the way RIOT names storage
// locations: ["ram","0"] is ".ram.0".
func (c ComponentID) Location() string {
	var b strings.Builder
	for _, p := range c {
		b.WriteByte('.')
		b.Write(p)
	}
	return b.String()
}

// String writes the id the way the CLI reads it: parts joined with ':', a
// part that is not printable ASCII (or contains ':') as 0x-prefixed hex.
func (c ComponentID) String() string {
	parts := make([]string, len(c))
	for i, p := range c {
		parts[i] = formatPart(p)
	}
	return strings.Join(parts, ":")
}

func formatPart(p []byte) string {
	if len(p) == 0 || strings.HasPrefix(string(p), "0x") {
		return "0x" + hex.EncodeToString(p)
	}
	for _, c := range p {
		if c <= ' ' || c > '~' || c == ':' {
			return "0x" + hex.EncodeToString(p)
		}
	}
	return string(p)
}

// ParseComponentID reads the CLI form: parts separated by ':', each part
// taken as its bytes unless it starts with "0x" (then hex): "ram:0",
// "tc:coach:code", "0x00".
func ParseComponentID(s string) (ComponentID, error) {
	if s == "" {
		return nil, fmt.Errorf("suit: empty component id")
	}
	var id ComponentID
	for _, part := range strings.Split(s, ":") {
		if strings.HasPrefix(part, "0x") {
			b, err := hex.DecodeString(part[2:])
			if err != nil {
				return nil, fmt.Errorf("suit: component id %q: part %q is not hex: %w", s, part, err)
			}
			id = append(id, b)
			continue
		}
		if part == "" {
			return nil, fmt.Errorf("suit: component id %q has an empty part", s)
		}
		id = append(id, []byte(part))
	}
	return id, nil
}

// Digest is a SUIT_Digest: an algorithm and the digest bytes.
type Digest struct {
	Alg DigestAlg
	// Wire is the algorithm number as decoded; it is what gets encoded when
	// Alg is DigestUnknown.
	Wire  int64
	Bytes []byte
}

func (d Digest) String() string {
	name := d.Alg.String()
	if d.Alg == DigestUnknown {
		name = fmt.Sprintf("alg %d", d.Wire)
	}
	return fmt.Sprintf("%s:%x", name, d.Bytes)
}

// Parameters are the arguments of set- and override-parameters. Typed
// fields are nil when absent; everything else is kept as encoded in Other.
type Parameters struct {
	VendorID        []byte  // bstr (a UUID)
	ClassID         []byte  // bstr (a UUID)
	ImageDigest     *Digest // bstr .cbor SUIT_Digest
	ImageSize       *uint64
	Slot            *uint64 // component-slot; draft-09 component-offset
	URI             *string
	SourceComponent *uint64
	Other           []RawParam // sorted by Key
}

// RawParam is a parameter the model does not type.
type RawParam struct {
	Param Param
	Key   int64
	Raw   []byte // the value as encoded
}

// IndexArg is the argument of set-component-index.
type IndexArg struct {
	All     bool     // true: every component
	None    bool     // false (draft-09): no component
	Indices []uint64 // one index, or the list
	List    bool     // encoded as an array (final format)
}

// Command is one condition or directive with its argument.
type Command struct {
	Op  Op
	Key int64 // the number as decoded, for unknown and custom commands
	// Policy is the reporting policy of conditions and simple directives.
	Policy uint64
	Index  IndexArg    // set-component-index
	Params *Parameters // set-/override-parameters
	// Seqs are the options of try-each, or the one sequence of run-sequence.
	Seqs []CommandSequence
	// TryEachNil is set when try-each ends with nil: no option succeeding
	// is not a failure.
	TryEachNil bool
	Raw        []byte // the argument as encoded, for commands the model does not type
}

// CommandSequence is a list of commands.
type CommandSequence []Command

// Section is a command sequence or text member of the manifest.
type Section struct {
	Kind SectionKind
	// Severed is the digest the manifest holds in place of a severed
	// member; nil when the member is in the manifest.
	Severed *Digest
	// Raw is the bstr content: the member as encoded. For a severed member
	// it is filled from the envelope once its digest matched; nil if the
	// envelope does not carry it.
	Raw []byte
	// Commands is Raw decoded, for command sections.
	Commands CommandSequence
}

// RawMember is a map member the model does not type.
type RawMember struct {
	Key int64
	Raw []byte // the value as encoded
}

// Manifest is a decoded SUIT_Manifest.
type Manifest struct {
	Version      uint64
	Sequence     uint64
	Components   []ComponentID
	Shared       CommandSequence // common-sequence (draft-09) / shared-sequence
	ReferenceURI string
	Sections     [sectionCount]*Section // by SectionKind; nil when absent
	CommonOther  []RawMember            // common members the model does not type (dependencies)
	Other        []RawMember            // manifest members the model does not type
}

// Section returns the section of kind k, nil when the manifest has none.
func (m *Manifest) Section(k SectionKind) *Section {
	if k < 0 || k >= sectionCount {
		return nil
	}
	return m.Sections[k]
}

// Auth is the authentication wrapper.
type Auth struct {
	// Digest is the encoded SUIT_Digest the signatures cover: auth[0] in the
	// final format; nil in draft-09, where it travels as the COSE payload.
	Digest []byte
	// Blocks are the COSE authentication blocks as encoded (bstr content).
	Blocks [][]byte
}

// Envelope is a decoded SUIT envelope.
type Envelope struct {
	Format Format
	Tagged bool  // wrapped in tag 107
	Auth   *Auth // nil when the envelope has no authentication wrapper
	// ManifestBytes is the bstr content of the manifest member, exactly as
	// signed.
	ManifestBytes []byte
	// Manifest is ManifestBytes decoded; Decode fills it, Process only after
	// the manifest was authenticated.
	Manifest *Manifest
	// Severed holds the severable members the envelope carries (bstr content).
	Severed map[SectionKind][]byte
	// Integrated holds integrated payloads by key ("#name").
	Integrated map[string][]byte
	// Other holds envelope members the model does not type (draft-09
	// delegation).
	Other []RawMember
}
