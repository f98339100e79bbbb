package lab

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plgd-dev/go-coap/v3/message/pool"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/device/cord"
	"tinylab/firewall"
	"tinylab/lab/repo"
	"tinylab/lab/sim"
	"tinylab/suit"
)

// RepoHost is the name the lab's repository goes by in the URIs it
// publishes; devices of the lab resolve it to the repository's socket, so
// transcripts do not depend on which port the system handed out.
const RepoHost = "repo.localhost"

// Options configure a lab.
type Options struct {
	Seed      uint64
	Mode      sim.Mode
	Host      string // address devices and the repository listen on; "" is 127.0.0.1
	StateDir  string // non-volatile memory of each device in DIR/<id>/ ("" keeps it in the process)
	RepoDir   string // a folder the repository serves besides what the lab publishes
	BlockSize int    // CoAP block size for SUIT fetches (0: the device's default, 64)
	Ring      int    // events the bus keeps for slow readers (0: DefaultRing)
	// Quiet leaves devices without their own sockets: for labs of thousands
	// of devices that only run containers. Updates and CoAP commands then
	// need sockets and fail with a clear error.
	Quiet bool
	// Runtimes are the container runtimes every device's firmware has (nil:
	// device.BuiltinRuntimes); tests and the CLI pick wazero's engine here.
	Runtimes map[firewall.RuntimeType]device.Runtime
	// BoardsPerSocket, when above 0, puts that many devices on each socket,
	// told apart by Uri-Host (ID.localhost): for fleets that would pass the
	// process's open-file limit with a socket each (see coapnet.Hosts).
	BoardsPerSocket int
	// RD registers every device that has a socket with this CoRE Resource
	// Directory (coap://host:port), as RIOT's cord_ep; in paced mode only:
	// a fast lab's clock runs ahead of the RD's, so its lifetimes would mean
	// nothing there.
	RD         string
	RDLifetime time.Duration // 0: 60 s
	// Gateway is the address of the lab's gateway endpoint (its RD and
	// /lab/devices); "" runs none.
	Gateway string
	// Insecure is the plain-CoAP demo mode: devices open no DTLS socket
	// and give plain CoAP the owner's authority, so anyone may manage them.
	Insecure bool
	// Names lets devices resolve host names in update URIs through the
	// system (a standalone device); a lab resolves only its own names
	// (repo.localhost, DEVICE.localhost) and IP addresses.
	Names bool
}

// DeviceSpec says how to build one device.
type DeviceSpec struct {
	ID              string
	Board           string
	Peers           []device.PeerSpec
	BatteryMAh      float64 // 0: the board's default cell
	Restart         device.RestartPolicy
	Watchdog        device.Watchdog
	UpstreamSigning bool
	SeqPerContainer bool   // one SUIT sequence number per container, not RIOT's one per device
	Listen          string // "host:port" to listen on; "" picks a free port on Options.Host
	Off             bool   // stay powered off until PowerOn
	// Owners and Trust add keys the device trusts besides the lab's parties
	// (a standalone device given key files).
	Owners []ed25519.PublicKey
	Trust  []suit.PublicKey
	// Runtime pins the board's firmware to one container runtime, as
	// upstream builds are (firewall.TypeUndefined: every runtime).
	Runtime firewall.RuntimeType
	// Credentials adds DTLS identities, tenant signers and repositories
	// besides the lab's own (a standalone device given --psk, --tenant, --repo).
	Credentials Credentials
	// SecureListen is "host:port" for the DTLS socket; "" picks a free port.
	SecureListen string
	// Remotes maps remote endpoint ids to the CoAP resources they POST to
	// (coap://collector.localhost/PATH is the lab's collector).
	Remotes map[uint32]string
}

// Node is a device with its socket.
type Node struct {
	Index int
	Spec  DeviceSpec
	Dev   *device.Device
	Sock  *coapnet.Server // nil in a quiet lab
	// Host is the Uri-Host requests must carry when the socket is shared
	// with other devices ("" when it is the device's own).
	Host string
	// Secure is the device's CoAP-over-DTLS socket (nil in a quiet or
	// insecure lab).
	Secure *coapnet.SecureServer

	client *coapnet.Server // the lab's socket that sends this device plain commands
}

// SecureURI is the device's coaps:// base URI (empty without DTLS).
func (n *Node) SecureURI() string {
	if n.Secure == nil {
		return ""
	}
	return n.Secure.URI()
}

// ID is the device's id.
func (n *Node) ID() string { return n.Spec.ID }

// URI is the device's CoAP base URI (empty in a quiet lab). On a shared
// socket it names the device (coap://ID.localhost:PORT): a peer sends
// Uri-Host ID.localhost to the socket's address (coap-client -O 3,ID.localhost).
func (n *Node) URI() string {
	if n.Sock == nil {
		return ""
	}
	if n.Host != "" {
		return "coap://" + net.JoinHostPort(n.Host, strconv.Itoa(n.Sock.Addr().Port))
	}
	return n.Sock.URI()
}

// sharedSocket is a socket serving several devices by Uri-Host.
type sharedSocket struct {
	srv   *coapnet.Server
	hosts *coapnet.Hosts
}

// Lab is the world.
type Lab struct {
	opts   Options
	world  *sim.World
	bus    *Bus
	runner *coapnet.Runner
	// pool is the CoAP message pool of all the lab's sockets. go-coap
	// recycles a message only while its pool holds fewer than its bound;
	// at four a socket (coapnet's default) a fleet's setup allocated a
	// message and its buffer for nearly every datagram, a third of the
	// bytes it allocated.
	pool *pool.Pool

	mu       sync.Mutex // the lab's own tables, for readers outside the world
	nodes    []*Node
	byID     map[string]*Node
	ids      []string // every node's id, in order: appended to, never changed (snapshots share it)
	parties  []*Party
	owner    *Party
	defs     map[string]*ContainerDef
	metas    map[string][]byte // issued metadata by definition, while it is unchanged
	releases []*Release
	armed    Attack      // applies to the next update published
	rollouts []*campaign // rollout campaigns, oldest first
	seq      uint64      // lab events published
	rng      *rand.Rand  // the lab's own draws (its requests lost on a lossy link)

	repo    *repo.Repo
	repoSrv *coapnet.Stateless
	client  *coapnet.Server
	// spread are the lab's further client sockets, opened as shared sockets
	// fill up (see join).
	spread    []*coapnet.Server
	shared    *sharedSocket // the socket new devices join, with BoardsPerSocket
	rd        rdState
	sessions  map[sessionKey]*coapnet.SecureClient // the parties' DTLS sessions with devices
	collector *collector
	order     atomic.Pointer[turnstile] // while Provision runs: the order its requests enter the world
	tally     *tally                    // the fleet at a glance, kept from the bus
}

// ErrUnknownDevice is returned for a device id the lab does not have.
var ErrUnknownDevice = errors.New("no such device")

// New makes an empty lab: its world, bus, repository and client socket.
func New(opts Options) (*Lab, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	l := &Lab{
		opts: opts, world: sim.New(opts.Mode), bus: NewBus(opts.Ring),
		runner: coapnet.NewRunner(4 * time.Second),
		pool:   pool.New(256, coapnet.MaxDatagram),
		byID:   map[string]*Node{}, defs: map[string]*ContainerDef{}, metas: map[string][]byte{}, sessions: map[sessionKey]*coapnet.SecureClient{},
		rng: rand.New(rand.NewPCG(opts.Seed, 0x6c6f7373)), tally: newTally(),
	}
	l.bus.Sink(l.tally.see)
	// A bug in one device must not end a demo: it is reported and the world
	// goes on (the transcript shows it).
	l.world.OnPanic(func(v any) { l.note(fmt.Sprintf("internal error, please report it: %v", v)) })
	var err error
	if l.repo, err = repo.New(opts.RepoDir); err != nil {
		return nil, err
	}
	if l.repoSrv, err = l.repo.Listen(net.JoinHostPort(opts.Host, "0")); err != nil {
		return nil, err
	}
	if l.client, err = coapnet.Listen(net.JoinHostPort(opts.Host, "0"), nil, coapnet.Options{Runner: l.runner, Pool: l.pool}); err != nil {
		l.repoSrv.Close()
		return nil, err
	}
	if err = l.startCollector(); err != nil {
		l.client.Close()
		l.repoSrv.Close()
		return nil, err
	}
	if opts.Gateway != "" {
		if err := l.startGateway(opts.Gateway); err != nil {
			l.client.Close()
			l.repoSrv.Close()
			return nil, err
		}
	}
	return l, nil
}

// Close stops every socket.
func (l *Lab) Close() {
	l.world.Stop()
	l.closeRD()
	l.mu.Lock()
	nodes := slices.Clone(l.nodes)
	l.mu.Unlock()
	closed := map[*coapnet.Server]bool{}
	l.closeSessions()
	for _, n := range nodes {
		if n.Sock != nil && !closed[n.Sock] {
			closed[n.Sock] = true
			n.Sock.Close()
		}
		if n.Secure != nil {
			n.Secure.Close()
		}
	}
	l.client.Close()
	l.mu.Lock()
	spread := l.spread
	l.mu.Unlock()
	for _, c := range spread {
		c.Close()
	}
	l.repoSrv.Close()
	l.collector.srv.Close()
}

// World is the lab's virtual time.
func (l *Lab) World() *sim.World { return l.world }

// Bus is the lab's event bus.
func (l *Lab) Bus() *Bus { return l.bus }

// Repo is the update repository.
func (l *Lab) Repo() *repo.Repo { return l.repo }

// RepoURI is the repository's real address (coap://127.0.0.1:port), for
// peers outside the lab.
func (l *Lab) RepoURI() string { return l.repoSrv.URI() }

// Seed is the lab's seed.
func (l *Lab) Seed() uint64 { return l.opts.Seed }

// AddParty adds someone with keys. The first owner added issues the tokens
// of every container.
func (l *Lab) AddParty(name string, role Role) (*Party, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.parties {
		if p.Name == name {
			return nil, fmt.Errorf("party %q defined twice", name)
		}
	}
	if len(l.nodes) > 0 && role != Attacker {
		return nil, fmt.Errorf("party %q: parties must be defined before devices (devices trust them at boot)", name)
	}
	p, err := newParty(l.opts.Seed, name, role)
	if err != nil {
		return nil, err
	}
	l.parties = append(l.parties, p)
	if role == Owner && l.owner == nil {
		l.owner = p
	}
	return p, nil
}

// Party returns a party by name.
func (l *Lab) Party(name string) (*Party, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.parties {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Parties lists the parties in the order they were added.
func (l *Lab) Parties() []*Party {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.parties)
}

// env is a device's view of the lab; id names the device whose requests a
// running Provision puts in order.
type env struct {
	l  *Lab
	id string
}

func (e env) Now() time.Duration                  { return e.l.world.Now() }
func (e env) NewTimer(fn func()) device.Timer     { return e.l.world.NewTimer(fn) }
func (e env) Go(fn func(device.Task)) device.Task { return e.l.world.Go(func(t *sim.Task) { fn(t) }) }
func (e env) Do(fn func()) {
	if t := e.l.order.Load(); t != nil {
		place, ok := t.enter(e.id)
		if ok {
			defer t.finish(place)
		}
	}
	e.l.world.Do(fn)
}
func (e env) Emit(ev device.Event) { e.l.bus.Publish(ev) }
func (l *Lab) resolve(host, port string) (*net.UDPAddr, error) {
	switch host {
	case RepoHost:
		return l.repoSrv.Addr(), nil
	case CollectorHost:
		return l.collector.srv.Addr(), nil
	}
	if id, ok := strings.CutSuffix(host, ".localhost"); ok {
		if n, err := l.node(id); err == nil && n.Sock != nil {
			return n.Sock.Addr(), nil
		}
	}
	if l.opts.Names {
		return coapnet.SystemResolver(host, port)
	}
	return coapnet.LiteralResolver(host, port)
}

// AddDevice builds a device, gives it a socket and boots it. Every owner's
// token key and every tenant's and maintainer's SUIT key are trusted.
func (l *Lab) AddDevice(spec DeviceSpec) (*Node, error) {
	if spec.ID == "" || strings.ContainsAny(spec.ID, " /\t") {
		return nil, fmt.Errorf("device id %q: it must be one word", spec.ID)
	}
	if spec.Board == "" {
		spec.Board = device.DefaultBoard
	}
	board, err := device.LookupBoard(spec.Board)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", spec.ID, err)
	}
	l.mu.Lock()
	if _, dup := l.byID[spec.ID]; dup {
		l.mu.Unlock()
		return nil, fmt.Errorf("device %q defined twice", spec.ID)
	}
	cfg := device.Config{
		ID: spec.ID, Board: board, Seed: l.opts.Seed ^ hashString(spec.ID), Peers: spec.Peers,
		UpstreamSigning: spec.UpstreamSigning, SeqPerContainer: spec.SeqPerContainer, Watchdog: spec.Watchdog, Restart: spec.Restart, PinRuntime: spec.Runtime,
		BlockSize: l.opts.BlockSize, Resolve: l.resolve, ResolveInWorld: !l.opts.Names, Runtimes: l.opts.Runtimes,
		Owners: slices.Clone(spec.Owners), Trust: slices.Clone(spec.Trust),
		Access: l.access(spec.Credentials), Remotes: maps.Clone(spec.Remotes),
	}
	for _, p := range l.parties {
		switch p.Role {
		case Owner:
			cfg.Owners = append(cfg.Owners, p.TokenPublic())
		case Tenant, Maintainer:
			cfg.Trust = append(cfg.Trust, p.Suit.Public())
		}
	}
	index := len(l.nodes)
	l.mu.Unlock()
	if spec.BatteryMAh > 0 {
		cfg.Energy = device.DefaultEnergy
		cfg.Energy.BatteryMAh = spec.BatteryMAh
	}
	if l.opts.StateDir != "" {
		st, err := device.NewDirStore(filepath.Join(l.opts.StateDir, spec.ID))
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", spec.ID, err)
		}
		cfg.Store, cfg.PersistRAM = st, true
	}
	if l.opts.BoardsPerSocket > 0 && spec.Listen == "" {
		// boards sharing a socket have no DTLS socket of their own (one per
		// board is what sharing avoids): they run the plain demo mode
		cfg.Access.Insecure = true
	}
	n := &Node{Index: index, Spec: spec, client: l.client}
	l.world.Do(func() { n.Dev, err = device.New(cfg, env{l: l, id: spec.ID}) })
	if err != nil {
		return nil, err
	}
	if !l.opts.Quiet && l.opts.BoardsPerSocket > 0 && spec.Listen == "" {
		if n.Sock, err = l.join(n); err != nil {
			return nil, fmt.Errorf("device %s: %w", spec.ID, err)
		}
		l.world.Do(func() { n.Dev.SetNet(n.Sock) })
	} else if !l.opts.Quiet {
		addr := spec.Listen
		if addr == "" {
			addr = net.JoinHostPort(l.opts.Host, "0")
		}
		if n.Sock, err = coapnet.Listen(addr, n.Dev.Handler(), coapnet.Options{Runner: l.runner, Pool: l.pool}); err != nil {
			return nil, fmt.Errorf("device %s: %w", spec.ID, err)
		}
		l.world.Do(func() { n.Dev.SetNet(n.Sock) })
		if !l.opts.Insecure {
			saddr := spec.SecureListen
			if saddr == "" {
				saddr = net.JoinHostPort(l.opts.Host, "0")
			}
			if n.Secure, err = coapnet.ListenDTLS(saddr, n.Dev.SecureHandler(), l.pskFor(spec.Credentials), coapnet.Options{Runner: l.runner}); err != nil {
				n.Sock.Close()
				return nil, fmt.Errorf("device %s: %w", spec.ID, err)
			}
		}
	}
	l.mu.Lock()
	l.nodes = append(l.nodes, n)
	l.ids = append(l.ids, spec.ID)
	l.byID[spec.ID] = n
	for _, def := range l.defs {
		if def.Energy.EnergyUJ > 0 {
			l.world.Do(func() { n.Dev.SetLimits(def.UID, def.Energy) })
		}
	}
	l.mu.Unlock()
	if !spec.Off {
		l.world.Do(func() { err = n.Dev.PowerOn("power on") })
	} else {
		l.tally.see(device.Event{Device: spec.ID, Data: device.Power{On: false}})
	}
	if err == nil && n.Sock != nil && n.Host == "" && l.opts.RD != "" && l.opts.Mode == sim.Paced {
		_, err = l.Register(spec.ID, cord.Config{RD: l.opts.RD, Endpoint: spec.ID, Lifetime: l.opts.RDLifetime})
	}
	return n, err
}

// join puts a device on the shared socket that has room, opening a new one
// when the last is full.
func (l *Lab) join(n *Node) (*coapnet.Server, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shared == nil || l.shared.hosts.Len() >= l.opts.BoardsPerSocket {
		hosts := coapnet.NewHosts()
		srv, err := coapnet.Listen(net.JoinHostPort(l.opts.Host, "0"), hosts, coapnet.Options{Runner: l.runner, Pool: l.pool})
		if err != nil {
			return nil, err
		}
		l.shared = &sharedSocket{srv: srv, hosts: hosts}
	}
	n.Host = n.Spec.ID + ".localhost"
	k := l.shared.hosts.Len() % clientSpread
	l.shared.hosts.Add(n.Host, n.Dev.Handler())
	if k > 0 {
		for len(l.spread) < k {
			c, err := coapnet.Listen(net.JoinHostPort(l.opts.Host, "0"), nil, coapnet.Options{Runner: l.runner, Pool: l.pool})
			if err != nil {
				return nil, err
			}
			l.spread = append(l.spread, c)
		}
		n.client = l.spread[k-1]
	}
	return l.shared.srv, nil
}

// clientSpread is how many client sockets the lab sends commands to the
// devices of one shared socket from. go-coap's server keeps, per peer
// socket, the responses of the last EXCHANGE_LIFETIME and scans all of
// them on every datagram from that peer: with one client socket the setup
// of a fleet (four requests a board, 256 boards a socket) costs a quadratic
// scan. Spread over 8 sockets each scan is 8 times shorter.
const clientSpread = 8

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func (l *Lab) node(id string) (*Node, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok := l.byID[id]
	if !ok {
		ids := make([]string, 0, len(l.nodes))
		for _, n := range l.nodes {
			ids = append(ids, n.Spec.ID)
		}
		if len(ids) > 8 {
			ids = append(ids[:8], "...")
		}
		return nil, fmt.Errorf("%w %q (devices: %s)", ErrUnknownDevice, id, strings.Join(ids, ", "))
	}
	return n, nil
}

// Node returns a device by id.
func (l *Lab) Node(id string) (*Node, error) { return l.node(id) }

// Nodes lists the devices in the order they were added.
func (l *Lab) Nodes() []*Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.nodes)
}

// Now is the virtual time.
func (l *Lab) Now() time.Duration {
	var t time.Duration
	l.world.Do(func() { t = l.world.Now() })
	return t
}

// Advance runs the lab for d of virtual time (Fast mode).
func (l *Lab) Advance(ctx context.Context, d time.Duration) error {
	return l.world.RunUntil(ctx, l.world.Now()+d)
}

// Note publishes a lab event (an action the lab took), stamped in the world.
func (l *Lab) Note(text string) {
	l.world.Do(func() { l.note(text) })
}

func (l *Lab) note(text string) {
	l.seq++
	l.bus.Publish(device.Event{At: l.world.Now(), Device: LabSource, Seq: l.seq, Data: Note{Text: text}})
}

// LabSource is the device name of events the lab itself publishes.
const LabSource = "lab"

// Note is an action of the lab, in the transcript beside device events.
type Note struct {
	Text string `json:"text"`
}

// KindNote is the transcript kind of lab notes.
var KindNote = device.RegisterKind[Note]("lab")

func (Note) Kind() device.Kind { return KindNote }
func (n Note) String() string  { return n.Text }
