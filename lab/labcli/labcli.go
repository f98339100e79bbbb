package labcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/device/cord"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/lab/gateway"
	"tinylab/lab/repo"
	"tinylab/lab/sim"
	"tinylab/suit"
)

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// Parse parses flags that may come before or after the positional arguments,
// as users type them, and returns the positional arguments.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
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

// ParseExit is the exit code for a Parse error: 0 when the user asked for
// -h (the usage went out as asked), 2 for a bad flag.
func ParseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// Device is `tinylab device`: one or more virtual boards in real time.
func Device(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("device", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tinylab device [--listen ADDR] [--dtls ADDR] [--board B] [--runtime bpf|wasm|any] [--trust KEY.pub ...] [--tenant NAME=KEY.pub ...] [--owner KEY.pub ...]")
		fmt.Fprintln(stderr, "                      [--psk PARTY:ID=KEY ...] [--keys FILE] [--repo URI ...] [--remote N=URI ...] [--insecure] [--state DIR] [--count N] [--id NAME]")
		fmt.Fprintln(stderr, "                      [--sensor NAME=CLASS[:MODEL][@ID] ...] [--actuator NAME=CLASS[@ID] ...] [--seq-per-container]")
		fmt.Fprintln(stderr, "                      [--rd coap://HOST:PORT [--rd-lt SECONDS] [--ep NAME] [--rd-absolute]]")
		fmt.Fprintln(stderr, "Runs virtual boards headless in real time and prints their events. The first lines are the devices' URIs,")
		fmt.Fprintln(stderr, "coap:// (plain: discovery, board, status, triggers from --repo) and coaps:// (DTLS with PSK: management),")
		fmt.Fprintln(stderr, "then one line per sensor and actuator with the peer id a container's endpoint names (local:ID).")
		fmt.Fprintln(stderr, "PARTY is owner (may do everything) or tenant/NAME (manages the containers NAME signed, see --tenant).")
		fmt.Fprintln(stderr, "KEY is the text coap-client-openssl -k takes; 0x starts a key in hex.")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:5683", "address of the (first) device; port 0 picks a free one")
	board := fs.String("board", device.DefaultBoard, "board: "+strings.Join(device.BoardNames(), ", "))
	state := fs.String("state", "", "folder keeping each device's flash (sequence numbers, containers) across restarts")
	count := fs.Int("count", 1, "devices to run, on consecutive ports")
	id := fs.String("id", "device", "device name (numbered when --count > 1)")
	upstream := fs.Bool("upstream-signing", false, "accept TinyContainer-demo tokens signed over the raw claims")
	runtime := fs.String("runtime", "any", "container runtime of the firmware: bpf, wasm, or any (every runtime it has)")
	perContainer := fs.Bool("seq-per-container", false, "one SUIT sequence number per container instead of RIOT's one per device")
	rd := fs.String("rd", "", "register with this CoRE Resource Directory (RFC 9176), as RIOT's cord_ep")
	rdLT := fs.Int("rd-lt", int(lab.DefaultRDLifetime/time.Second), "registration lifetime in seconds (lt=); refreshed every 3/4 of it")
	rdAbs := fs.Bool("rd-absolute", false, "register links as absolute URIs, for an RD that keeps no address (libcoap's coap-rd): then tinylab attach --rd finds the device")
	epName := fs.String("ep", "", "endpoint name at the RD (numbered when --count > 1); default RIOT-style: RIOT- and 16 hex digits stable for the device name")
	dtlsAddr := fs.String("dtls", "", "DTLS address of the (first) device (default: a free port on the --listen host)")
	insecure := fs.Bool("insecure", false, "DEMO ONLY: no DTLS; plain CoAP manages the device, so anyone on the network can")
	keysFile := fs.String("keys", "", "file of credentials, one PARTY:ID=KEY a line (# comments)")
	var trust, owners, sensors, actuators, psks, tenants, repos, remotes list
	fs.Var(&psks, "psk", "DTLS credential PARTY:ID=KEY: owner:ID=KEY or tenant/NAME:ID=KEY (repeatable)")
	fs.Var(&tenants, "tenant", "SUIT signer NAME=KEY.pub: trusted, and what it signs is tenant NAME's (repeatable)")
	fs.Var(&repos, "repo", "update repository coap://HOST:PORT anyone may trigger updates from (repeatable)")
	fs.Var(&remotes, "remote", "remote peer N=coap://HOST:PORT/PATH: where container endpoints remote:N send (repeatable)")
	fs.Var(&trust, "trust", "SUIT manifest signer to trust (PEM or 32-byte hex Ed25519; repeatable)")
	fs.Var(&owners, "owner", "container token issuer (PEM or hex Ed25519; repeatable)")
	fs.Var(&sensors, "sensor", "a sensor, `NAME=CLASS[:MODEL][@ID]` (model script, walk or counter; repeatable)")
	fs.Var(&actuators, "actuator", "an actuator, `NAME=CLASS[@ID]` (display, lock or led; repeatable)")
	pos, err := Parse(fs, args)
	if err != nil {
		return ParseExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "tinylab device: unexpected argument %q\n", pos[0])
		return 2
	}
	if *count < 1 || *count > 5000 {
		fmt.Fprintln(stderr, "tinylab device: --count must be between 1 and 5000")
		return 2
	}
	if *rd != "" {
		if _, err := coapnet.ParseURI(*rd); err != nil {
			fmt.Fprintln(stderr, "tinylab device: --rd:", err)
			return 2
		}
		if *rdLT < 2 {
			fmt.Fprintln(stderr, "tinylab device: --rd-lt must be at least 2 seconds")
			return 2
		}
	}
	if _, err := device.LookupBoard(*board); err != nil {
		fmt.Fprintln(stderr, "tinylab device:", err)
		return 2
	}
	spec := lab.DeviceSpec{Board: *board, UpstreamSigning: *upstream, SeqPerContainer: *perContainer, Off: true}
	if spec.Runtime, err = parseRuntime(*runtime); err != nil {
		fmt.Fprintln(stderr, "tinylab device: --runtime:", err)
		return 2
	}
	if spec.Peers, err = ParsePeers(sensors, actuators); err != nil {
		fmt.Fprintln(stderr, "tinylab device:", err)
		return 2
	}
	for _, f := range trust {
		k, err := readKey(f, suit.ParsePublicKey)
		if err != nil {
			fmt.Fprintf(stderr, "tinylab device: --trust %s: %v\n", f, err)
			return 2
		}
		spec.Trust = append(spec.Trust, k)
	}
	for _, f := range owners {
		k, err := readKey(f, firewall.ParsePublicKey)
		if err != nil {
			fmt.Fprintf(stderr, "tinylab device: --owner %s: %v\n", f, err)
			return 2
		}
		spec.Owners = append(spec.Owners, k)
	}
	creds, err := credentials(psks, *keysFile, tenants, repos, &spec)
	if err != nil {
		fmt.Fprintln(stderr, "tinylab device:", err)
		return 2
	}
	spec.Credentials = creds
	if spec.Remotes, err = parseRemotes(remotes); err != nil {
		fmt.Fprintln(stderr, "tinylab device:", err)
		return 2
	}
	if *insecure && len(creds.PSKs) > 0 {
		fmt.Fprintln(stderr, "tinylab device: --insecure has no DTLS: drop --psk/--keys or --insecure")
		return 2
	}
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintln(stderr, "tinylab device: --listen:", err)
		return 2
	}
	first, err := strconv.Atoi(port)
	if err != nil {
		fmt.Fprintln(stderr, "tinylab device: --listen port:", err)
		return 2
	}
	dtlsFirst := 0
	dtlsHost := host
	if *dtlsAddr != "" {
		h, p, err := net.SplitHostPort(*dtlsAddr)
		if err == nil {
			dtlsFirst, err = strconv.Atoi(p)
		}
		if err != nil {
			fmt.Fprintln(stderr, "tinylab device: --dtls:", err)
			return 2
		}
		dtlsHost = h
	}
	l, err := lab.New(lab.Options{Mode: sim.Paced, Host: host, StateDir: *state, Insecure: *insecure, Names: true})
	if err != nil {
		fmt.Fprintln(stderr, "tinylab device:", err)
		return 1
	}
	defer l.Close()
	out := &syncWriter{w: stdout}
	var nodes []*lab.Node
	for i := 0; i < *count; i++ {
		s := spec
		s.ID = *id
		if *count > 1 {
			s.ID = fmt.Sprintf("%s-%d", *id, i+1)
		}
		s.Listen = net.JoinHostPort(host, "0")
		if first != 0 {
			s.Listen = net.JoinHostPort(host, strconv.Itoa(first+i))
		}
		s.SecureListen = net.JoinHostPort(dtlsHost, "0")
		if dtlsFirst != 0 {
			s.SecureListen = net.JoinHostPort(dtlsHost, strconv.Itoa(dtlsFirst+i))
		}
		n, err := l.AddDevice(s)
		if err != nil {
			fmt.Fprintln(stderr, "tinylab device:", err)
			return 1
		}
		out.println(n.URI())
		if n.Secure != nil {
			out.println(n.SecureURI())
		}
		nodes = append(nodes, n)
	}
	for _, p := range spec.Peers {
		out.println(peerLine(p))
	}
	if *insecure {
		warnInsecure(stdout, stderr, nodes)
	} else if len(creds.PSKs) == 0 {
		fmt.Fprintln(stderr, "tinylab device: no --psk or --keys: nobody can manage the device (plain CoAP reads status and triggers updates from --repo only)")
	}
	if len(spec.Trust) == 0 {
		fmt.Fprintln(stderr, "tinylab device: no --trust key: every SUIT update will be refused")
	}
	// The URIs come first; then the boards boot and their events follow.
	l.Bus().Sink(func(e device.Event) { out.println(e.String()) })
	for _, n := range nodes {
		if err := l.PowerOn(n.ID()); err != nil {
			fmt.Fprintln(stderr, "tinylab device:", err)
			return 1
		}
	}
	if *rd != "" {
		for i, n := range nodes {
			ep := cord.Name(stableID(n.ID()))
			if *epName != "" {
				ep = *epName
				if *count > 1 {
					ep = fmt.Sprintf("%s-%d", *epName, i+1)
				}
			}
			if _, err := l.Register(n.ID(), cord.Config{RD: *rd, Endpoint: ep, Lifetime: time.Duration(*rdLT) * time.Second, AbsoluteLinks: *rdAbs}); err != nil {
				fmt.Fprintln(stderr, "tinylab device:", err)
				return 1
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = l.World().Run(ctx)
	// still catching signals: a second Ctrl-C must not cut the goodbye short
	l.Unregister()
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "tinylab device:", err)
		return 1
	}
	return 0
}

// parseRuntime reads --runtime: any, or the one runtime a board is pinned to.
func parseRuntime(s string) (firewall.RuntimeType, error) {
	switch s {
	case "any":
		return firewall.TypeUndefined, nil
	case firewall.TypeBPF.String(), firewall.TypeWasm.String():
		return firewall.ParseRuntimeType(s)
	}
	return 0, fmt.Errorf("%q: want bpf, wasm or any", s)
}

// stableID is a device name's locally unique id (RIOT's luid): the same name
// gives the same RD endpoint name after a restart.
func stableID(name string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return h.Sum64()
}

func readKey[K any](path string, parse func([]byte) (K, error)) (K, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var zero K
		return zero, err
	}
	return parse(b)
}

// Repo is `tinylab repo`: a folder served as a CoAP update repository.
func Repo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tinylab repo [--listen ADDR] DIR")
		fmt.Fprintln(stderr, "Serves DIR over CoAP (block-wise), like aiocoap-fileserver. The first line is its URI.")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:5684", "address to serve on; port 0 picks a free one")
	pos, err := Parse(fs, args)
	if err != nil {
		return ParseExit(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	r, err := repo.New(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "tinylab repo:", err)
		return 2
	}
	out := &syncWriter{w: stdout}
	r.OnGet(func(p string, size int) { out.println(fmt.Sprintf("serving %s (%d bytes)", p, size)) })
	srv, err := r.Listen(*listen)
	if err != nil {
		fmt.Fprintln(stderr, "tinylab repo:", err)
		return 1
	}
	defer srv.Close()
	out.println(srv.URI())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}

// Gateway is `tinylab gateway`: the lab's gateway endpoint on its own, a
// CoRE Resource Directory with lifetimes, refresh, removal and lookup.
func Gateway(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tinylab gateway [--listen ADDR]")
		fmt.Fprintln(stderr, "Serves a CoRE Resource Directory (RFC 9176: /rd, /rd-lookup/ep, /rd-lookup/res) and /lab/devices.")
		fmt.Fprintln(stderr, "The first line is its URI; then each registration, refresh, removal and expiry.")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:5683", "address to serve on; port 0 picks a free one")
	pos, err := Parse(fs, args)
	if err != nil {
		return ParseExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "tinylab gateway: unexpected argument %q\n", pos[0])
		return 2
	}
	out := &syncWriter{w: stdout}
	var gw *gateway.Gateway
	gw, err = gateway.Listen(*listen, gateway.Options{
		Devices: func() []byte {
			b, err := json.Marshal(lab.DevicesDoc{Mode: "gateway", Devices: []lab.DeviceDoc{}, Registrations: gw.Registrations(), Collected: gw.Collected()})
			if err != nil {
				return []byte("{}")
			}
			return b
		},
		OnChange: func(c gateway.Change) {
			out.println(fmt.Sprintf("rd: %s %s ep=%s base=%s lt=%d", c.Action, c.Reg.Location, c.Reg.Endpoint, c.Reg.Base, c.Reg.Lifetime))
		},
	})
	if err != nil {
		fmt.Fprintln(stderr, "tinylab gateway:", err)
		return 1
	}
	defer gw.Close()
	out.println(gw.URI())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}
