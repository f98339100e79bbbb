package suitcli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"tinylab/suit"
)

// Main runs `tinylab suit ARGS...` and returns the exit code: 0 on success,
// 1 when a command fails (verify refusing an update included), 2 on a usage
// error.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"keygen": keygen,
		"create": create,
		"sign":   sign,
		"parse":  parse,
		"verify": verify,
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "tinylab suit: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: tinylab suit COMMAND [arguments]

Commands:
  keygen   make an Ed25519 signing key: NAME.pem and NAME.pem.pub
  create   build an unsigned SUIT envelope for payload files
  sign     sign an envelope with a private key
  parse    print every field of an envelope
  verify   run the whole update procedure offline against payload files

Run 'tinylab suit COMMAND -h' for the arguments of a command.
`)
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// newFlags makes a subcommand's flag set with its usage line.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tinylab suit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tinylab suit %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. "--" ends flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageErr reports a usage problem and returns exit code 2.
func usageErr(fs *flag.FlagSet, stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return 2
}

func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "tinylab suit %s: %v\n", cmd, err)
	return 1
}

func flagErr(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func keygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("keygen", "-o NAME", stderr)
	out := fs.String("o", "", "write the private key to NAME.pem and the public key to NAME.pem.pub")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(pos) > 0 {
		return usageErr(fs, stderr, "unexpected argument %q", pos[0])
	}
	if *out == "" {
		return usageErr(fs, stderr, "-o NAME is required")
	}
	privPath, pubPath := *out+".pem", *out+".pem.pub"
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fail(stderr, "keygen", fmt.Errorf("%s exists; not overwriting a key", p))
		}
	}
	key, err := suit.GenerateKey(rand.Reader)
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	priv, err := key.MarshalPEM()
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	pub, err := key.Public().MarshalPEM()
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	if err := os.WriteFile(privPath, priv, 0o600); err != nil {
		return fail(stderr, "keygen", err)
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		return fail(stderr, "keygen", err)
	}
	fmt.Fprintf(stdout, "suit: wrote %s and %s (Ed25519, %s)\n", privPath, pubPath, key.Public().Fingerprint())
	return 0
}

// ids reads --board or --vendor-id/--class-id.
func ids(board, vendor, class string) (uuid.UUID, uuid.UUID, error) {
	switch {
	case board != "" && (vendor != "" || class != ""):
		return uuid.Nil, uuid.Nil, errors.New("give --board or --vendor-id and --class-id, not both")
	case board != "":
		return suit.VendorID(), suit.ClassID(board), nil
	case vendor == "" || class == "":
		return uuid.Nil, uuid.Nil, errors.New("give --board B, or --vendor-id U and --class-id U")
	}
	v, err := uuid.Parse(vendor)
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("--vendor-id: %w", err)
	}
	c, err := uuid.Parse(class)
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("--class-id: %w", err)
	}
	return v, c, nil
}

// splitComponent reads ID=FILE@URI; the URI starts at the first '@' that is
// followed by a scheme ("coap://") or an integrated payload name ("#").
func splitComponent(s string) (suit.ComponentID, string, string, error) {
	id, rest, ok := strings.Cut(s, "=")
	if !ok {
		return nil, "", "", fmt.Errorf("--component %q: want ID=FILE@URI", s)
	}
	at := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] != '@' {
			continue
		}
		if u := rest[i+1:]; strings.HasPrefix(u, "#") || hasScheme(u) {
			at = i
			break
		}
	}
	if at <= 0 || at == len(rest)-1 {
		return nil, "", "", fmt.Errorf("--component %q: want ID=FILE@URI, e.g. ram:0=app.bin@coap://[::1]/app.bin", s)
	}
	cid, err := suit.ParseComponentID(id)
	if err != nil {
		return nil, "", "", err
	}
	return cid, rest[:at], rest[at+1:], nil
}

// hasScheme reports whether u starts with "scheme://".
func hasScheme(u string) bool {
	scheme, _, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return false
	}
	for i, r := range scheme {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

func create(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("create", "--seq N --component ID=FILE@URI [...] (--board B | --vendor-id U --class-id U) [--format draft09|final] -o OUT", stderr)
	seq := fs.Uint64("seq", 0, "sequence number of the manifest (required, above the device's)")
	var comps listFlag
	fs.Var(&comps, "component", "a payload: component id (ram:0), file and URI; repeat for up to 3")
	board := fs.String("board", "", "board name: RIOT's vendor id and the board's class id")
	vendor := fs.String("vendor-id", "", "vendor UUID")
	class := fs.String("class-id", "", "class UUID")
	format := fs.String("format", "draft09", "wire format: draft09 (RIOT) or final")
	out := fs.String("o", "", "output file")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagErr(err)
	}
	switch {
	case len(pos) > 0:
		return usageErr(fs, stderr, "unexpected argument %q", pos[0])
	case *out == "":
		return usageErr(fs, stderr, "-o OUT is required")
	case len(comps) == 0:
		return usageErr(fs, stderr, "at least one --component is required")
	}
	seqSet := false
	fs.Visit(func(f *flag.Flag) { seqSet = seqSet || f.Name == "seq" })
	if !seqSet {
		return usageErr(fs, stderr, "--seq N is required")
	}
	f, err := suit.ParseFormat(*format)
	if err != nil {
		return usageErr(fs, stderr, "%v", err)
	}
	v, c, err := ids(*board, *vendor, *class)
	if err != nil {
		return usageErr(fs, stderr, "%v", err)
	}
	spec := suit.Spec{Format: f, Sequence: *seq, VendorID: v, ClassID: c}
	for _, s := range comps {
		id, file, uri, err := splitComponent(s)
		if err != nil {
			return usageErr(fs, stderr, "%v", err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fail(stderr, "create", err)
		}
		spec.Components = append(spec.Components, suit.ComponentSpec{ID: id, URI: uri, Digest: sha256.Sum256(data), Size: uint64(len(data))})
	}
	env, err := suit.Create(spec)
	if err != nil {
		return fail(stderr, "create", err)
	}
	if err := os.WriteFile(*out, env, 0o644); err != nil {
		return fail(stderr, "create", err)
	}
	fmt.Fprintf(stdout, "suit: wrote %s (%s, seq %d, %d component(s), unsigned)\n", *out, f, *seq, len(spec.Components))
	return 0
}

func sign(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sign", "-k KEY.pem IN -o OUT", stderr)
	keyPath := fs.String("k", "", "private key (PEM, PKCS#8 Ed25519 or P-256)")
	out := fs.String("o", "", "output file")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagErr(err)
	}
	switch {
	case len(pos) != 1:
		return usageErr(fs, stderr, "want one input envelope, got %d arguments", len(pos))
	case *keyPath == "":
		return usageErr(fs, stderr, "-k KEY.pem is required")
	case *out == "":
		return usageErr(fs, stderr, "-o OUT is required")
	}
	keyPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		return fail(stderr, "sign", err)
	}
	key, err := suit.ParsePrivateKey(keyPEM)
	if err != nil {
		return fail(stderr, "sign", err)
	}
	in, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(stderr, "sign", err)
	}
	signed, err := suit.Sign(in, key)
	if err != nil {
		return fail(stderr, "sign", err)
	}
	if err := os.WriteFile(*out, signed, 0o644); err != nil {
		return fail(stderr, "sign", err)
	}
	fmt.Fprintf(stdout, "suit: wrote %s (signed with %s, %s)\n", *out, key.Alg(), key.Public().Fingerprint())
	return 0
}

func parse(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("parse", "FILE", stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(pos) != 1 {
		return usageErr(fs, stderr, "want one envelope file, got %d arguments", len(pos))
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(stderr, "parse", err)
	}
	env, err := suit.Decode(data)
	if err != nil {
		return fail(stderr, "parse", err)
	}
	fmt.Fprintf(stdout, "%s: %d bytes\n", pos[0], len(data))
	if err := suit.Describe(stdout, env); err != nil {
		return fail(stderr, "parse", err)
	}
	return 0
}

// verifyStorage is where verify stages payloads: RIOT's .ram.0 and .ram.1
// plus every component the manifest names, each of --slot-size bytes.
func verifyStorage(data []byte, slot uint64) *suit.MemStorage {
	slots := map[string]uint64{".ram.0": slot, ".ram.1": slot}
	if env, err := suit.Decode(data); err == nil {
		for _, c := range env.Manifest.Components {
			slots[c.Location()] = slot
		}
	}
	return suit.NewMemStorage(slots)
}

func verify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", "--key PUB [--key PUB2] (--board B | --vendor-id U --class-id U) [--stored-seq N] [--payload ID=FILE ...] [--slot-size BYTES] MANIFEST", stderr)
	var keys, payloads listFlag
	fs.Var(&keys, "key", "trusted public key: PEM (SubjectPublicKeyInfo or private key) or raw Ed25519 hex; repeatable")
	board := fs.String("board", "", "board name: RIOT's vendor id and the board's class id")
	vendor := fs.String("vendor-id", "", "vendor UUID")
	class := fs.String("class-id", "", "class UUID")
	stored := fs.Uint64("stored-seq", 0, "the sequence number the device has stored")
	fs.Var(&payloads, "payload", "payload file for a component: ID=FILE (ram:0=app.bin); repeatable")
	slot := fs.Uint64("slot-size", 1<<20, "capacity of each storage slot in bytes")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagErr(err)
	}
	switch {
	case len(pos) != 1:
		return usageErr(fs, stderr, "want one manifest file, got %d arguments", len(pos))
	case len(keys) == 0:
		return usageErr(fs, stderr, "at least one --key is required")
	}
	v, c, err := ids(*board, *vendor, *class)
	if err != nil {
		return usageErr(fs, stderr, "%v", err)
	}
	cfg := suit.Config{VendorID: v, ClassID: c, Seq: suit.NewMemSeq(*stored), Payloads: map[string][]byte{}}
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return fail(stderr, "verify", err)
		}
		pub, err := suit.ParsePublicKey(b)
		if err != nil {
			return fail(stderr, "verify", fmt.Errorf("%s: %w", k, err))
		}
		cfg.Keys = append(cfg.Keys, pub)
	}
	for _, p := range payloads {
		idStr, file, ok := strings.Cut(p, "=")
		if !ok {
			return usageErr(fs, stderr, "--payload %q: want ID=FILE", p)
		}
		id, err := suit.ParseComponentID(idStr)
		if err != nil {
			return usageErr(fs, stderr, "%v", err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fail(stderr, "verify", err)
		}
		cfg.Payloads[id.Location()] = data
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(stderr, "verify", err)
	}
	cfg.Storage = verifyStorage(data, *slot)
	cfg.OnEvent = func(e suit.Event) { printEvent(stdout, e) }
	rep, err := suit.Process(context.Background(), cfg, data)
	var se *suit.Error
	if errors.As(err, &se) {
		fmt.Fprintf(stdout, "suit: update refused at %s: %s (%d)\n", se.Step, se.Code, int(se.Code))
		return 1
	}
	if err != nil {
		return fail(stderr, "verify", err)
	}
	fmt.Fprintf(stdout, "suit: install OK (seq %d)\n", rep.Sequence)
	return 0
}

var marks = map[suit.Status]string{suit.Started: "..", suit.Passed: "ok", suit.Failed: "FAIL"}

// printEvent writes one event: step, status, component, RIOT's wording.
func printEvent(w io.Writer, e suit.Event) {
	if e.Status == suit.Progress {
		return
	}
	comp := ""
	if e.Component != "" {
		comp = " " + strconv.Quote(e.Component)
		if !strings.ContainsFunc(e.Component, func(r rune) bool { return r < ' ' || r > '~' }) {
			comp = " " + e.Component
		}
	}
	fmt.Fprintf(w, "%-15s %-4s%s %s\n", e.Step, marks[e.Status], comp, e.Message)
}
