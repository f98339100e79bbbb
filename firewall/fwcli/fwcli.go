package fwcli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"tinylab/firewall"
)

const usage = `usage: tinylab metadata COMMAND [arguments]

  create --uid NAME --code FILE [--data FILE] [--type bpf|wasm|N] --grant CALL,... [--endpoint SPEC ...]
         [--start-max-ms N --loop-period-ms N --loop-max-ms N --lifetime N --stop-max-ms N]
         [--upstream] -k OWNER.pem -o OUT
      make metadata signed by the device owner: syscall mask, data, code and metadata tokens.
      The container type is the code's (wasm for a WebAssembly module, else bpf) unless --type says.
      SPEC is ID:local:PEER:DIR, ID:remote:PEER:DIR or ID:container:UID:PEER_EP:DIR, DIR in|out|both.
      By default the tokens are standard COSE_Sign1 (EdDSA over the Sig_structure, the algorithm
      in the protected header; 114-byte hash tokens): what any COSE library verifies, and what
      tinylab devices accept. --upstream writes what the real TinyContainer (TinyPART/RIOT,
      branch tinycontainer) loads as it is, the portable mode: empty headers, Ed25519 over the
      raw claims, 111-byte hash tokens; tinylab devices take it with --upstream-signing.
  show FILE [--owner PUB] [--code FILE] [--data FILE] [--upstream-signing]
      decode metadata, print every field, verify each token and say what the firewall would allow.
      PUB is a PEM public key file, or 64 hex digits (a file or the argument itself).
  keygen -o NAME
      make an Ed25519 owner key pair: NAME.pem (PKCS#8) and NAME.pem.pub (SPKI).

calls: %s
`

// Main runs `tinylab metadata` and returns the exit code: 0 done, 1 failed
// (bad input or a token that does not verify), 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	switch args[0] {
	case "create":
		return create(args[1:], stdout, stderr)
	case "show":
		return show(args[1:], stdout, stderr)
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "metadata: unknown command %q\n", args[0])
	printUsage(stderr)
	return 2
}

func printUsage(w io.Writer) {
	var names []string
	for _, c := range firewall.Calls() {
		names = append(names, c.String())
	}
	fmt.Fprintf(w, usage, strings.Join(names, ", "))
}

// parseInterleaved parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name, use string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("metadata "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tinylab metadata %s %s\n", name, use)
		fs.PrintDefaults()
	}
	return fs
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// exit turns a parse error into an exit code: 0 for -h, 2 otherwise.
func exit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func create(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("create", "--uid NAME --code FILE [--data FILE] --grant CALL,... [--endpoint SPEC ...] -k OWNER.pem -o OUT", stderr)
	var (
		uid, typ, codeFile, dataFile, keyFile, out string
		grants, endpoints                          listFlag
		t                                          = firewall.DefaultTiming
	)
	fs.StringVar(&uid, "uid", "", "container uid (1..63 bytes)")
	fs.StringVar(&typ, "type", "", "container `TYPE`: bpf, wasm or a CDDL number (default: from the code)")
	fs.StringVar(&codeFile, "code", "", "container code `FILE`")
	fs.StringVar(&dataFile, "data", "", "container data `FILE` (default: no data)")
	fs.Var(&grants, "grant", "granted `CALLS`, comma-separated; repeatable")
	fs.Var(&endpoints, "endpoint", "endpoint `SPEC`; repeatable")
	timing := []struct {
		name, help string
		p          *uint32
	}{
		{"start-max-ms", "longest start() run, ms", &t.StartMaxMS},
		{"loop-period-ms", "time between loop() calls, ms", &t.LoopPeriodMS},
		{"loop-max-ms", "longest loop() run, ms", &t.LoopMaxMS},
		{"lifetime", "most loop() calls", &t.LoopMaxLifetime},
		{"stop-max-ms", "longest stop() run, ms", &t.StopMaxMS},
	}
	for _, f := range timing {
		fs.Func(f.name, fmt.Sprintf("%s (default %d)", f.help, *f.p), func(s string) error {
			v, err := strconv.ParseUint(s, 10, 32)
			*f.p = uint32(v)
			return err
		})
	}
	fs.StringVar(&keyFile, "k", "", "owner private key `PEM`")
	fs.StringVar(&keyFile, "key", "", "same as -k")
	fs.StringVar(&out, "o", "", "output `FILE`")
	fs.StringVar(&out, "out", "", "same as -o")
	upstream := fs.Bool("upstream", false, "write tokens the real TinyContainer loads (portable; not standard COSE)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "metadata create: unexpected argument %q\n", pos[0])
		fs.Usage()
		return 2
	}
	for name, v := range map[string]string{"--uid": uid, "--code": codeFile, "-k": keyFile, "-o": out} {
		if v == "" {
			fmt.Fprintf(stderr, "metadata create: %s is required\n", name)
			fs.Usage()
			return 2
		}
	}
	spec := firewall.Spec{UID: uid, Timing: t, Upstream: *upstream}
	if spec.Grants, err = firewall.ParseGrants(grants); err != nil {
		return fail(stderr, "create", err)
	}
	for _, s := range endpoints {
		ep, err := ParseEndpoint(s)
		if err != nil {
			return fail(stderr, "create", err)
		}
		spec.Endpoints = append(spec.Endpoints, ep)
	}
	if spec.Code, err = os.ReadFile(codeFile); err != nil {
		return fail(stderr, "create", err)
	}
	found := codeType(spec.Code)
	spec.Type = found
	if typ != "" {
		if spec.Type, err = firewall.ParseRuntimeType(typ); err != nil {
			return fail(stderr, "create", err)
		}
		if spec.Type != found {
			fmt.Fprintf(stderr, "metadata create: note: the code looks like %s but --type is %s: a device will refuse it\n", found, spec.Type)
		}
	}
	if dataFile != "" {
		if spec.Data, err = os.ReadFile(dataFile); err != nil {
			return fail(stderr, "create", err)
		}
	}
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return fail(stderr, "create", err)
	}
	key, err := firewall.ParsePrivateKey(pem)
	if err != nil {
		return fail(stderr, "create", fmt.Errorf("%s: %w", keyFile, err))
	}
	meta, err := firewall.Build(spec, key)
	if err != nil {
		return fail(stderr, "create", err)
	}
	if err := os.WriteFile(out, meta, 0o644); err != nil {
		return fail(stderr, "create", err)
	}
	mode := ""
	if *upstream {
		mode = ", upstream tokens (TinyPART/RIOT loads them; tinylab devices need --upstream-signing)"
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): container %q, %s, grants %s, %d endpoints, owner %s%s\n",
		out, len(meta), uid, spec.Type, spec.Grants, len(spec.Endpoints), hex.EncodeToString(key.Public().(ed25519.PublicKey)), mode)
	return 0
}

// codeType is the container type code is for: wasm for a WebAssembly
// module (its \0asm magic), bpf for anything else (an rBPF image, an ELF
// object, raw bytecode), as a device tells them apart.
func codeType(code []byte) firewall.RuntimeType {
	if strings.HasPrefix(string(code), "\x00asm") {
		return firewall.TypeWasm
	}
	return firewall.TypeBPF
}

func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "metadata %s: %v\n", cmd, err)
	return 1
}

// ParseEndpoint reads an endpoint as the --endpoint flag gives it:
// ID:local:PEER:DIR, ID:remote:PEER:DIR or ID:container:UID:PEER_EP:DIR.
func ParseEndpoint(s string) (firewall.Endpoint, error) {
	var ep firewall.Endpoint
	bad := func(why string) (firewall.Endpoint, error) {
		return ep, fmt.Errorf("endpoint %q: %s (want ID:local:PEER:DIR, ID:remote:PEER:DIR or ID:container:UID:PEER_EP:DIR)", s, why)
	}
	f := strings.Split(s, ":")
	if len(f) < 4 {
		return bad("too few fields")
	}
	id, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return bad("id is not a 32-bit number")
	}
	ep.ID = uint32(id)
	if ep.Peer, err = firewall.ParsePeerType(f[1]); err != nil {
		return bad(err.Error())
	}
	if ep.Direction, err = firewall.ParseDirection(f[len(f)-1]); err != nil {
		return bad(err.Error())
	}
	peerEP := f[2]
	switch {
	case ep.Peer == firewall.PeerContainer && len(f) >= 5:
		ep.PeerUID = strings.Join(f[2:len(f)-2], ":")
		peerEP = f[len(f)-2]
	case ep.Peer == firewall.PeerContainer:
		return bad("a container peer needs UID and PEER_EP")
	case len(f) != 4:
		return bad("too many fields")
	}
	pe, err := strconv.ParseUint(peerEP, 10, 32)
	if err != nil {
		return bad("peer endpoint is not a 32-bit number")
	}
	ep.PeerEndpoint = uint32(pe)
	return ep, nil
}

func keygen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("keygen", "-o NAME", stderr)
	var name string
	fs.StringVar(&name, "o", "", "writes `NAME`.pem and NAME.pem.pub")
	fs.StringVar(&name, "out", "", "same as -o")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exit(err)
	}
	if name == "" || len(pos) > 0 {
		fs.Usage()
		return 2
	}
	key, err := firewall.GenerateKey(rand.Reader)
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	priv, err := firewall.MarshalPrivateKey(key)
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	pubPEM, err := firewall.MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return fail(stderr, "keygen", err)
	}
	if err := writeNew(name+".pem", priv, 0o600); err != nil {
		return fail(stderr, "keygen", err)
	}
	if err := writeNew(name+".pem.pub", pubPEM, 0o644); err != nil {
		return fail(stderr, "keygen", err)
	}
	fmt.Fprintf(stdout, "wrote %s.pem and %s.pem.pub (Ed25519, public %s)\n", name, name, hex.EncodeToString(key.Public().(ed25519.PublicKey)))
	return 0
}

// writeNew writes a file that must not exist yet, so a key is never overwritten.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
