package suit

import "fmt"

// Format is a SUIT wire format: the same model, numbered two ways.
type Format int

// The formats. The zero value is RIOT's.
const (
	// FormatDraft09 is draft-ietf-suit-manifest-09 as RIOT's sys/suit and
	// its vendored suit-tool implement it: untagged envelope, COSE_Sign1
	// with the manifest digest embedded as payload, SHA-256 = 2.
	FormatDraft09 Format = iota
	// FormatFinal is the final numbering (draft-ietf-suit-manifest-34 and
	// later, the RFC-to-be): envelope tag 107, authentication
	// [digest, *COSE_Sign1] with a detached payload, SHA-256 = -16.
	FormatFinal
)

func (f Format) String() string {
	switch f {
	case FormatDraft09:
		return "draft09"
	case FormatFinal:
		return "final"
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// ParseFormat reads "draft09" (also "draft-09", "riot") or "final" (also "rfc").
func ParseFormat(s string) (Format, error) {
	switch s {
	case "draft09", "draft-09", "riot":
		return FormatDraft09, nil
	case "final", "rfc":
		return FormatFinal, nil
	}
	return 0, fmt.Errorf("suit: unknown format %q (want draft09 or final)", s)
}

// Envelope keys.
const (
	keyDelegation = 1 // draft-09 only
	keyAuth       = 2
	keyManifest   = 3
)

// Manifest keys common to both formats.
const (
	keyVersion      = 1
	keySequence     = 2
	keyCommon       = 3
	keyReferenceURI = 4
)

// Common keys.
const (
	keyDependencies   = 1 // draft-09 only
	keyComponents     = 2
	keyDepComponents  = 3 // draft-09 only
	keySharedSequence = 4
)

// SectionKind names a manifest member that holds a command sequence or text.
type SectionKind int

// The sections, in the order the procedure runs the command sequences.
const (
	SectionDependencyResolution SectionKind = iota // draft-09 only
	SectionPayloadFetch
	SectionInstall
	SectionValidate
	SectionLoad
	SectionInvoke // draft-09 calls it run
	SectionText
	SectionCoSWID // draft-09 only
	sectionCount
)

type sectionInfo struct {
	key       [2]int64 // by Format; 0: not in that format
	name      [2]string
	severable bool
	commands  bool // holds a command sequence
}

var sections = [sectionCount]sectionInfo{
	SectionDependencyResolution: {key: [2]int64{7, 0}, name: [2]string{"dependency-resolution", ""}, severable: true, commands: true},
	SectionPayloadFetch:         {key: [2]int64{8, 16}, name: [2]string{"payload-fetch", "payload-fetch"}, severable: true, commands: true},
	SectionInstall:              {key: [2]int64{9, 20}, name: [2]string{"install", "install"}, severable: true, commands: true},
	SectionValidate:             {key: [2]int64{10, 7}, name: [2]string{"validate", "validate"}, commands: true},
	SectionLoad:                 {key: [2]int64{11, 8}, name: [2]string{"load", "load"}, commands: true},
	SectionInvoke:               {key: [2]int64{12, 9}, name: [2]string{"run", "invoke"}, commands: true},
	SectionText:                 {key: [2]int64{13, 23}, name: [2]string{"text", "text"}, severable: true},
	SectionCoSWID:               {key: [2]int64{14, 0}, name: [2]string{"coswid", ""}, severable: true},
}

// Key returns the section's manifest key in format f, 0 if f has none.
func (k SectionKind) Key(f Format) int64 {
	if k < 0 || k >= sectionCount || f < 0 || f > FormatFinal {
		return 0
	}
	return sections[k].key[f]
}

// Name returns the section's name in format f ("run" in draft-09, "invoke"
// in the final format).
func (k SectionKind) Name(f Format) string {
	if k < 0 || k >= sectionCount || f < 0 || f > FormatFinal {
		return fmt.Sprintf("section(%d)", int(k))
	}
	if n := sections[k].name[f]; n != "" {
		return n
	}
	return sections[k].name[FormatDraft09]
}

func (k SectionKind) String() string { return k.Name(FormatFinal) }

// Severable reports whether the section may be severed from the manifest.
func (k SectionKind) Severable() bool { return k >= 0 && k < sectionCount && sections[k].severable }

func sectionByKey(f Format, key int64) (SectionKind, bool) {
	for k := SectionKind(0); k < sectionCount; k++ {
		if sections[k].key[f] == key && key != 0 {
			return k, true
		}
	}
	return 0, false
}

// Op is a command (condition or directive), independent of its number.
type Op int

// The commands of both formats. Numbers differ by format; an Op with no
// number in a format cannot be encoded in it.
const (
	OpUnknown Op = iota // a number neither format defines; Command.Key holds it
	OpCustom            // a negative (custom) command number
	OpVendorIdentifier
	OpClassIdentifier
	OpImageMatch
	OpUseBefore
	OpComponentSlot // draft-09: condition-component-offset
	OpCheckContent
	OpAbort // draft-09: directive-abort; final: condition-abort
	OpDeviceIdentifier
	OpImageNotMatch
	OpMinimumBattery
	OpUpdateAuthorized
	OpVersion
	OpSetComponentIndex
	OpSetDependencyIndex
	OpTryEach
	OpProcessDependency
	OpWrite
	OpSetParameters
	OpOverrideParameters
	OpFetch
	OpCopy
	OpInvoke // draft-09: directive-run
	OpWait
	OpRunSequence
	OpRunWithArguments
	OpSwap
	opCount
)

type argKind int

const (
	argPolicy   argKind = iota // SUIT_Rep_Policy: uint
	argIndex                   // uint / bool / [+uint]
	argParams                  // {+ parameters}
	argTryEach                 // [2* bstr .cbor sequence, ?nil]
	argSequence                // bstr .cbor sequence
	argRaw                     // kept as encoded
)

type opInfo struct {
	key  [2]int64
	name [2]string
	arg  argKind
}

// Draft-09 numbers are RIOT's (sys/include/suit/handlers.h and its
// suit-tool), which differ from the draft-09 CDDL for run-sequence (30, CDDL
// 32), swap (32, CDDL 31) and 31 (run-with-arguments; the CDDL has
// fetch-uri-list at 30).
var ops = [opCount]opInfo{
	OpUnknown:            {arg: argRaw},
	OpCustom:             {name: [2]string{"custom", "custom"}, arg: argRaw},
	OpVendorIdentifier:   {key: [2]int64{1, 1}, name: [2]string{"condition-vendor-identifier", ""}},
	OpClassIdentifier:    {key: [2]int64{2, 2}, name: [2]string{"condition-class-identifier", ""}},
	OpImageMatch:         {key: [2]int64{3, 3}, name: [2]string{"condition-image-match", ""}},
	OpUseBefore:          {key: [2]int64{4, 0}, name: [2]string{"condition-use-before", ""}},
	OpComponentSlot:      {key: [2]int64{5, 5}, name: [2]string{"condition-component-offset", "condition-component-slot"}},
	OpCheckContent:       {key: [2]int64{0, 6}, name: [2]string{"", "condition-check-content"}},
	OpAbort:              {key: [2]int64{14, 14}, name: [2]string{"directive-abort", "condition-abort"}},
	OpDeviceIdentifier:   {key: [2]int64{24, 24}, name: [2]string{"condition-device-identifier", ""}},
	OpImageNotMatch:      {key: [2]int64{25, 0}, name: [2]string{"condition-image-not-match", ""}},
	OpMinimumBattery:     {key: [2]int64{26, 0}, name: [2]string{"condition-minimum-battery", ""}},
	OpUpdateAuthorized:   {key: [2]int64{27, 0}, name: [2]string{"condition-update-authorized", ""}},
	OpVersion:            {key: [2]int64{28, 0}, name: [2]string{"condition-version", ""}},
	OpSetComponentIndex:  {key: [2]int64{12, 12}, name: [2]string{"directive-set-component-index", ""}, arg: argIndex},
	OpSetDependencyIndex: {key: [2]int64{13, 0}, name: [2]string{"directive-set-dependency-index", ""}, arg: argRaw},
	OpTryEach:            {key: [2]int64{15, 15}, name: [2]string{"directive-try-each", ""}, arg: argTryEach},
	OpProcessDependency:  {key: [2]int64{18, 0}, name: [2]string{"directive-process-dependency", ""}},
	OpWrite:              {key: [2]int64{0, 18}, name: [2]string{"", "directive-write"}},
	OpSetParameters:      {key: [2]int64{19, 0}, name: [2]string{"directive-set-parameters", ""}, arg: argParams},
	OpOverrideParameters: {key: [2]int64{20, 20}, name: [2]string{"directive-override-parameters", ""}, arg: argParams},
	OpFetch:              {key: [2]int64{21, 21}, name: [2]string{"directive-fetch", ""}},
	OpCopy:               {key: [2]int64{22, 22}, name: [2]string{"directive-copy", ""}},
	OpInvoke:             {key: [2]int64{23, 23}, name: [2]string{"directive-run", "directive-invoke"}},
	OpWait:               {key: [2]int64{29, 0}, name: [2]string{"directive-wait", ""}, arg: argRaw},
	OpRunSequence:        {key: [2]int64{30, 32}, name: [2]string{"directive-run-sequence", ""}, arg: argSequence},
	OpRunWithArguments:   {key: [2]int64{31, 0}, name: [2]string{"directive-run-with-arguments", ""}, arg: argRaw},
	OpSwap:               {key: [2]int64{32, 31}, name: [2]string{"directive-swap", ""}},
}

// Key returns the command's number in format f, 0 if f has none.
func (o Op) Key(f Format) int64 {
	if o < 0 || o >= opCount || f < 0 || f > FormatFinal {
		return 0
	}
	return ops[o].key[f]
}

// Name returns the command's name in format f.
func (o Op) Name(f Format) string {
	if o < 0 || o >= opCount {
		return fmt.Sprintf("op(%d)", int(o))
	}
	if f == FormatFinal && ops[o].name[1] != "" {
		return ops[o].name[1]
	}
	if ops[o].name[0] != "" {
		return ops[o].name[0]
	}
	if ops[o].name[1] != "" {
		return ops[o].name[1]
	}
	return "unknown"
}

func (o Op) String() string { return o.Name(FormatFinal) }

func opByKey(f Format, key int64) Op {
	if key < 0 {
		return OpCustom
	}
	for o := OpVendorIdentifier; o < opCount; o++ {
		if ops[o].key[f] == key && key != 0 {
			return o
		}
	}
	return OpUnknown
}

// Param is a parameter of set- and override-parameters, independent of its
// number.
type Param int

// The parameters of both formats.
const (
	ParamUnknown Param = iota
	ParamCustom
	ParamVendorID
	ParamClassID
	ParamImageDigest
	ParamUseBefore
	ParamSlot // draft-09: component-offset
	ParamStrictOrder
	ParamSoftFailure
	ParamImageSize
	ParamEncryptionInfo
	ParamCompressionInfo
	ParamUnpackInfo
	ParamContent
	ParamURI
	ParamSourceComponent
	ParamInvokeArgs // draft-09: run-args
	ParamDeviceID
	ParamFetchArguments
	ParamMinimumBattery
	ParamUpdatePriority
	ParamVersion
	ParamWaitInfo
	ParamURIList
	paramCount
)

type paramInfo struct {
	key  [2]int64
	name [2]string
}

var params = [paramCount]paramInfo{
	ParamUnknown:         {},
	ParamCustom:          {name: [2]string{"custom", ""}},
	ParamVendorID:        {key: [2]int64{1, 1}, name: [2]string{"vendor-id", ""}},
	ParamClassID:         {key: [2]int64{2, 2}, name: [2]string{"class-id", ""}},
	ParamImageDigest:     {key: [2]int64{3, 3}, name: [2]string{"image-digest", ""}},
	ParamUseBefore:       {key: [2]int64{4, 0}, name: [2]string{"use-before", ""}},
	ParamSlot:            {key: [2]int64{5, 5}, name: [2]string{"component-offset", "component-slot"}},
	ParamStrictOrder:     {key: [2]int64{12, 12}, name: [2]string{"strict-order", ""}},
	ParamSoftFailure:     {key: [2]int64{13, 13}, name: [2]string{"soft-failure", ""}},
	ParamImageSize:       {key: [2]int64{14, 14}, name: [2]string{"image-size", ""}},
	ParamEncryptionInfo:  {key: [2]int64{18, 0}, name: [2]string{"encryption-info", ""}},
	ParamCompressionInfo: {key: [2]int64{19, 0}, name: [2]string{"compression-info", ""}},
	ParamUnpackInfo:      {key: [2]int64{20, 0}, name: [2]string{"unpack-info", ""}},
	ParamContent:         {key: [2]int64{0, 18}, name: [2]string{"", "content"}},
	ParamURI:             {key: [2]int64{21, 21}, name: [2]string{"uri", ""}},
	ParamSourceComponent: {key: [2]int64{22, 22}, name: [2]string{"source-component", ""}},
	ParamInvokeArgs:      {key: [2]int64{23, 23}, name: [2]string{"run-args", "invoke-args"}},
	ParamDeviceID:        {key: [2]int64{24, 24}, name: [2]string{"device-id", ""}},
	ParamFetchArguments:  {key: [2]int64{0, 25}, name: [2]string{"", "fetch-arguments"}},
	ParamMinimumBattery:  {key: [2]int64{26, 0}, name: [2]string{"minimum-battery", ""}},
	ParamUpdatePriority:  {key: [2]int64{27, 0}, name: [2]string{"update-priority", ""}},
	ParamVersion:         {key: [2]int64{28, 0}, name: [2]string{"version", ""}},
	ParamWaitInfo:        {key: [2]int64{29, 0}, name: [2]string{"wait-info", ""}},
	ParamURIList:         {key: [2]int64{30, 0}, name: [2]string{"uri-list", ""}},
}

// Key returns the parameter's number in format f, 0 if f has none.
func (p Param) Key(f Format) int64 {
	if p < 0 || p >= paramCount || f < 0 || f > FormatFinal {
		return 0
	}
	return params[p].key[f]
}

// Name returns the parameter's name in format f.
func (p Param) Name(f Format) string {
	if p < 0 || p >= paramCount {
		return fmt.Sprintf("param(%d)", int(p))
	}
	if f == FormatFinal && params[p].name[1] != "" {
		return params[p].name[1]
	}
	if params[p].name[0] != "" {
		return params[p].name[0]
	}
	if params[p].name[1] != "" {
		return params[p].name[1]
	}
	return "unknown"
}

func (p Param) String() string { return p.Name(FormatFinal) }

func paramByKey(f Format, key int64) Param {
	if key < 0 {
		return ParamCustom
	}
	for p := ParamVendorID; p < paramCount; p++ {
		if params[p].key[f] == key && key != 0 {
			return p
		}
	}
	return ParamUnknown
}

// DigestAlg is a digest algorithm, independent of its number.
type DigestAlg int

// The digest algorithms either format names.
const (
	DigestUnknown DigestAlg = iota
	DigestSHA224
	DigestSHA256
	DigestSHA384
	DigestSHA512
	DigestSHA3_224
	DigestSHA3_256
	DigestSHA3_384
	DigestSHA3_512
	DigestSHAKE128
	DigestSHAKE256
	digestCount
)

type digestInfo struct {
	key  [2]int64
	name string
}

// Draft-09 uses the Named Information registry numbers; the final format
// uses COSE algorithm ids.
var digests = [digestCount]digestInfo{
	DigestUnknown:  {name: "unknown"},
	DigestSHA224:   {key: [2]int64{1, 0}, name: "sha224"},
	DigestSHA256:   {key: [2]int64{2, -16}, name: "sha256"},
	DigestSHA384:   {key: [2]int64{3, -43}, name: "sha384"},
	DigestSHA512:   {key: [2]int64{4, -44}, name: "sha512"},
	DigestSHA3_224: {key: [2]int64{5, 0}, name: "sha3-224"},
	DigestSHA3_256: {key: [2]int64{6, 0}, name: "sha3-256"},
	DigestSHA3_384: {key: [2]int64{7, 0}, name: "sha3-384"},
	DigestSHA3_512: {key: [2]int64{8, 0}, name: "sha3-512"},
	DigestSHAKE128: {key: [2]int64{0, -18}, name: "shake128"},
	DigestSHAKE256: {key: [2]int64{0, -45}, name: "shake256"},
}

func (a DigestAlg) String() string {
	if a >= 0 && a < digestCount {
		return digests[a].name
	}
	return fmt.Sprintf("digest(%d)", int(a))
}

// Key returns the algorithm's number in format f, 0 if f has none.
func (a DigestAlg) Key(f Format) int64 {
	if a < 0 || a >= digestCount || f < 0 || f > FormatFinal {
		return 0
	}
	return digests[a].key[f]
}

func digestByKey(f Format, key int64) DigestAlg {
	for a := DigestSHA224; a < digestCount; a++ {
		if digests[a].key[f] == key && key != 0 {
			return a
		}
	}
	return DigestUnknown
}
