package lab

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/suit"
)

// ContainerDef is a container as its tenant ships it: code, data, what it
// asks to be granted and its limits. The owner issues its tokens.
type ContainerDef struct {
	Name      string // the definition's name, as commands and scenarios write it
	UID       string // the container's uid on devices ("" is Name): versions of one container share it
	Tenant    string
	Source    string // where the code came from, for display
	Code      []byte // rBPF image, ELF object or raw bytecode
	Data      []byte
	Grants    firewall.Mask
	Endpoints []firewall.Endpoint
	Timing    firewall.Timing
	Energy    device.ExtraLimits
}

// Define registers a container definition (replacing one of the same name).
func (l *Lab) Define(def ContainerDef) error {
	if def.Name == "" || strings.ContainsAny(def.Name, " /.\t") {
		return fmt.Errorf("container name %q: one word, no dots or slashes", def.Name)
	}
	if len(def.Code) == 0 {
		return fmt.Errorf("container %s has no code", def.Name)
	}
	if p, ok := l.Party(def.Tenant); !ok || p.Role != Tenant && p.Role != Maintainer {
		return fmt.Errorf("container %s: tenant %q is not a tenant of the lab", def.Name, def.Tenant)
	}
	if def.UID == "" {
		def.UID = def.Name
	}
	if strings.ContainsAny(def.UID, " /.\t") {
		return fmt.Errorf("container %s: uid %q: one word, no dots or slashes", def.Name, def.UID)
	}
	if def.Timing == (firewall.Timing{}) {
		def.Timing = firewall.DefaultTiming
	}
	l.mu.Lock()
	l.defs[def.Name] = &def
	delete(l.metas, def.Name)
	nodes := slices.Clone(l.nodes)
	l.mu.Unlock()
	for _, n := range nodes {
		l.world.Do(func() { n.Dev.SetLimits(def.UID, def.Energy) })
	}
	return nil
}

// Def returns a container definition.
func (l *Lab) Def(name string) (*ContainerDef, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.defs[name]
	if !ok {
		names := make([]string, 0, len(l.defs))
		for n := range l.defs {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("no container %q defined (defined: %s)", name, strings.Join(names, ", "))
	}
	cp := *d
	return &cp, nil
}

// Defs lists the container definitions by name.
func (l *Lab) Defs() []ContainerDef {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ContainerDef, 0, len(l.defs))
	for _, d := range l.defs {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b ContainerDef) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// metadata issues a container's metadata: the owner signs its four tokens.
// Ed25519 signatures are deterministic, so the metadata of a definition is
// issued once and kept until the definition changes (Define, Grant): a
// fleet's thousand loads of one container send the same bytes.
func (l *Lab) metadata(def *ContainerDef) ([]byte, error) {
	l.mu.Lock()
	owner := l.owner
	cached, ok := l.metas[def.Name]
	l.mu.Unlock()
	if owner == nil {
		return nil, fmt.Errorf("the lab has no owner to issue %s's tokens", def.Name)
	}
	if ok {
		return cached, nil
	}
	meta, err := firewall.Build(firewall.Spec{UID: def.UID, Type: device.CodeType(def.Code), Grants: def.Grants, Endpoints: def.Endpoints,
		Timing: def.Timing, Code: def.Code, Data: def.Data}, owner.Token)
	if err == nil {
		l.mu.Lock()
		if cur, ok := l.defs[def.Name]; ok && cur.Grants == def.Grants {
			l.metas[def.Name] = meta
		}
		l.mu.Unlock()
	}
	return meta, err
}

// Attack is what an attack tour does to an update before it is published.
type Attack uint8

const (
	NoAttack          Attack = iota
	TamperedSignature        // a byte of the COSE signature flipped
	EditedBody               // a byte of the signed manifest changed after signing
	Unsigned                 // no authentication block
	WrongKey                 // signed by a key the device does not trust
	WrongVendor              // vendor-id of another vendor
	WrongClass               // class-id of another board
	DigestMismatch           // the code changed after the manifest was made
	SizeMismatch             // the manifest declares a size the code does not have
	Oversize                 // the code is larger than a container slot
)

var attackNames = [...]string{"none", "tampered-signature", "edited-body", "unsigned", "wrong-key",
	"wrong-vendor", "wrong-class", "digest-mismatch", "size-mismatch", "oversize"}

func (a Attack) String() string {
	if int(a) < len(attackNames) {
		return attackNames[a]
	}
	return fmt.Sprintf("attack(%d)", uint8(a))
}

// ParseAttack reads an attack name.
func ParseAttack(s string) (Attack, error) {
	for i, n := range attackNames {
		if n == s {
			return Attack(i), nil
		}
	}
	return 0, fmt.Errorf("unknown attack %q (known: %s)", s, strings.Join(attackNames[1:], ", "))
}

// Release is one published update of a container for one board.
type Release struct {
	Container string // uid
	Def       string // the definition published
	Tenant    string
	Board     string
	Seq       uint64
	Format    suit.Format
	Attack    Attack
	URI       string // the manifest, as devices of the lab fetch it
	Manifest  []byte
}

// Publish makes a container's update: the owner's metadata, the code and
// the data, a SUIT manifest with one component for each signed by the
// tenant (unless the attack says otherwise), all put in the repository.
func (l *Lab) Publish(name, board string, seq uint64, format suit.Format, attack Attack) (*Release, error) {
	def, err := l.Def(name)
	if err != nil {
		return nil, err
	}
	tenant, _ := l.Party(def.Tenant)
	meta, err := l.metadata(def)
	if err != nil {
		return nil, err
	}
	parts := map[string][]byte{"meta": meta, "code": slices.Clone(def.Code), "data": slices.Clone(def.Data)}
	if attack == Oversize {
		b, _ := device.LookupBoard(board)
		parts["code"] = append(parts["code"], make([]byte, b.SlotBytes)...)
	}
	spec := suit.Spec{Format: format, Sequence: seq, VendorID: suit.VendorID(), ClassID: suit.ClassID(board)}
	switch attack {
	case WrongVendor:
		spec.VendorID = uuid.NewSHA1(uuid.NameSpaceDNS, []byte("example.com"))
	case WrongClass:
		other := "native"
		if board == other {
			other = "nrf52dk"
		}
		spec.ClassID = suit.ClassID(other)
	}
	base := fmt.Sprintf("/%s/%s/v%d", def.Tenant, def.UID, seq)
	if attack != NoAttack {
		base += "-" + attack.String()
	}
	for _, part := range []string{"meta", "code", "data"} {
		size := uint64(len(parts[part]))
		if part == "code" && attack == SizeMismatch {
			size += 16
		}
		spec.Components = append(spec.Components, suit.ComponentSpec{
			ID:     suit.ComponentID{[]byte("tc"), []byte(def.UID), []byte(part)},
			URI:    "coap://" + RepoHost + base + "." + part,
			Digest: sha256.Sum256(parts[part]), Size: size,
		})
	}
	if attack == DigestMismatch {
		parts["code"][len(parts["code"])/2] ^= 0x5a
	}
	env, err := suit.Create(spec)
	if err != nil {
		return nil, err
	}
	signer := tenant.Suit
	if attack == WrongKey {
		mallory, err := newParty(l.opts.Seed, "mallory", Attacker)
		if err != nil {
			return nil, err
		}
		signer = mallory.Suit
	}
	if attack != Unsigned {
		if env, err = suit.Sign(env, signer); err != nil {
			return nil, err
		}
	}
	switch attack {
	case TamperedSignature:
		env, err = flipSignature(env)
	case EditedBody:
		env, err = editManifest(env)
	}
	if err != nil {
		return nil, err
	}
	for part, b := range parts {
		if err := l.repo.Put(base+"."+part, b); err != nil {
			return nil, err
		}
	}
	path := fmt.Sprintf("%s-%s.suit", base, board)
	if err := l.repo.Put(path, env); err != nil {
		return nil, err
	}
	rel := &Release{Container: def.UID, Def: def.Name, Tenant: def.Tenant, Board: board, Seq: seq, Format: format, Attack: attack,
		URI: "coap://" + RepoHost + path, Manifest: env}
	l.mu.Lock()
	l.releases = append(l.releases, rel)
	l.mu.Unlock()
	return rel, nil
}

// flipSignature changes the last byte of the first COSE block: its signature.
func flipSignature(env []byte) ([]byte, error) {
	e, err := suit.Decode(env)
	if err != nil || e.Auth == nil || len(e.Auth.Blocks) == 0 {
		return nil, fmt.Errorf("tamper: no signature to change (%v)", err)
	}
	blk := e.Auth.Blocks[0]
	i := bytes.Index(env, blk)
	out := slices.Clone(env)
	out[i+len(blk)-1] ^= 0x01
	return out, nil
}

// editManifest changes the last byte of the signed manifest (inside its last
// URI or digest), leaving the signature as it was.
func editManifest(env []byte) ([]byte, error) {
	e, err := suit.Decode(env)
	if err != nil {
		return nil, fmt.Errorf("tamper: %w", err)
	}
	i := bytes.Index(env, e.ManifestBytes)
	out := slices.Clone(env)
	out[i+len(e.ManifestBytes)-1] ^= 0x01
	return out, nil
}

// Releases lists what was published, oldest first.
func (l *Lab) Releases() []Release {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Release, len(l.releases))
	for i, r := range l.releases {
		out[i] = *r
	}
	return out
}

// release finds a clean release of a container uid for a board by seq.
func (l *Lab) release(uid, board string, seq uint64) *Release {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.releases {
		if r.Container == uid && r.Board == board && r.Seq == seq && r.Attack == NoAttack {
			return r
		}
	}
	return nil
}

// latest is the newest clean release of a definition for a board.
func (l *Lab) latest(def, board string) *Release {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last *Release
	for _, r := range l.releases {
		if r.Def == def && r.Board == board && r.Attack == NoAttack && (last == nil || r.Seq > last.Seq) {
			last = r
		}
	}
	return last
}

// nextSeq is one above the highest sequence number of the clean releases
// (an attack's forged release takes no number from a tenant): of every
// release, as a RIOT device keeps one number for all its storage, or of the
// uid's for a device numbering per container.
func (l *Lab) nextSeq(uid string, perContainer bool) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var top uint64
	for _, r := range l.releases {
		if (r.Container == uid || !perContainer) && r.Attack == NoAttack {
			top = max(top, r.Seq)
		}
	}
	return top + 1
}

// highest is the sequence number an update of uid must exceed on a device.
func (l *Lab) highest(n *Node, uid string) uint64 {
	var h uint64
	l.world.Do(func() { h = n.Dev.Highest("tc." + uid) })
	return h
}
