package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"tinylab/device/cord"
	"tinylab/lab/gateway"
)

// DefaultRDLifetime is the lifetime lab devices register with. RIOT's is a
// day; a minute lets a closed laptop leave the room's RD soon.
const DefaultRDLifetime = 60 * time.Second

type rdState struct {
	mu  sync.Mutex
	eps map[string]*cord.EP // by device id
	gw  *gateway.Gateway
}

// Register makes device id register with an RD as RIOT's cord_ep does, from
// its own socket, with its resources as links and its URI as base. The
// endpoint's events go on the bus. Closing the lab removes the registration.
func (l *Lab) Register(id string, cfg cord.Config) (*cord.EP, error) {
	n, err := l.node(id)
	if err != nil {
		return nil, err
	}
	if n.Sock == nil {
		return nil, fmt.Errorf("device %s: no socket to register from (quiet lab)", id)
	}
	if n.Host != "" {
		// its address is the lab's own name (ID.localhost), which the RD's
		// readers cannot resolve, and its source address is its neighbours'
		return nil, fmt.Errorf("device %s shares a socket with other boards: it cannot register with an RD", id)
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultRDLifetime
	}
	// A device listening on every interface has no one address to give:
	// the RD then takes the source address of the registration (RFC 9176
	// §5.3), which is the interface the RD is reached through.
	if cfg.Base == "" && !n.Sock.Addr().IP.IsUnspecified() {
		cfg.Base = n.URI()
	}
	cfg.Source = id
	cfg.Links = n.Dev.Links
	cfg.Up = n.Dev.Powered
	cfg.Resolve = l.resolve
	ep, err := cord.New(env{l: l}, n.Sock, cfg)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", id, err)
	}
	l.rd.mu.Lock()
	if l.rd.eps == nil {
		l.rd.eps = map[string]*cord.EP{}
	}
	if old := l.rd.eps[id]; old != nil {
		l.rd.mu.Unlock()
		return nil, fmt.Errorf("device %s registers already", id)
	}
	l.rd.eps[id] = ep
	l.rd.mu.Unlock()
	l.world.Do(ep.Start)
	return ep, nil
}

// Registration is the RD endpoint of a device, if it registers.
func (l *Lab) Registration(id string) (*cord.EP, bool) {
	l.rd.mu.Lock()
	defer l.rd.mu.Unlock()
	ep, ok := l.rd.eps[id]
	return ep, ok
}

// Unregister removes every device's registration from its RD (in parallel,
// bounded), as a clean exit does before the process ends; Close does it too.
func (l *Lab) Unregister() {
	l.rd.mu.Lock()
	eps := l.rd.eps
	l.rd.eps = nil
	l.rd.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Go(func() { _ = ep.Stop(ctx) })
	}
	wg.Wait()
}

// closeRD removes the registrations and stops the gateway.
func (l *Lab) closeRD() {
	l.Unregister()
	l.rd.mu.Lock()
	gw := l.rd.gw
	l.rd.gw = nil
	l.rd.mu.Unlock()
	if gw != nil {
		gw.Close()
	}
}

func (l *Lab) startGateway(addr string) error {
	gw, err := gateway.Listen(addr, gateway.Options{Devices: l.DevicesJSON, Fleet: l.Fleet})
	if err != nil {
		return err
	}
	l.rd.mu.Lock()
	l.rd.gw = gw
	l.rd.mu.Unlock()
	return nil
}

// Fleet is the lab's devices with sockets of their own as a gateway's RD
// shows them (boards sharing a socket are reached by Uri-Host, which an RD
// reader does not send).
func (l *Lab) Fleet() []gateway.Registration {
	nodes := l.Nodes()
	out := make([]gateway.Registration, 0, len(nodes))
	l.world.Do(func() {
		for _, n := range nodes {
			if n.Sock == nil || n.Host != "" {
				continue
			}
			out = append(out, gateway.Registration{Location: "/lab/rd/" + n.ID(), Endpoint: n.ID(), Base: n.URI(), Links: n.Dev.Links()})
		}
	})
	return out
}

// Gateway is the lab's gateway endpoint, if it runs one.
func (l *Lab) Gateway() (*gateway.Gateway, bool) {
	l.rd.mu.Lock()
	defer l.rd.mu.Unlock()
	return l.rd.gw, l.rd.gw != nil
}

// DevicesDoc is /lab/devices: the fleet as scripts watching a run read it.
type DevicesDoc struct {
	NowMs         int64                  `json:"now_ms"` // virtual time
	Mode          string                 `json:"mode"`
	Devices       []DeviceDoc            `json:"devices"`
	Registrations []gateway.Registration `json:"registrations"` // endpoints registered with the lab's RD
	Collected     []gateway.Collected    `json:"collected"`     // what remote endpoints sent the collector
}

// DeviceDoc is one of the lab's own devices.
type DeviceDoc struct {
	ID         string         `json:"id"`
	Board      string         `json:"board"`
	URI        string         `json:"uri,omitempty"`
	Powered    bool           `json:"powered"`
	Battery    float64        `json:"battery_percent"`
	Containers []ContainerDoc `json:"containers"`
	Denied     uint64         `json:"denied"`
	Updating   bool           `json:"updating"`
	LastResult int            `json:"last_suit_result"`
	Updates    int            `json:"updates"`
	RD         *RDDoc         `json:"rd,omitempty"`
}

// ContainerDoc is one container of a device.
type ContainerDoc struct {
	UID   string `json:"uid"`
	State string `json:"state"`
}

// RDDoc is a device's registration.
type RDDoc struct {
	State    string `json:"state"`
	Location string `json:"location,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Devices describes the fleet now.
func (l *Lab) Devices() DevicesDoc {
	snap := l.Snapshot("")
	doc := DevicesDoc{NowMs: snap.Now.Milliseconds(), Mode: snap.Mode.String(), Devices: make([]DeviceDoc, 0, len(snap.Devices)), Registrations: []gateway.Registration{}, Collected: []gateway.Collected{}}
	nodes := l.Nodes()
	for i, s := range snap.Devices {
		d := DeviceDoc{ID: s.ID, Board: s.Board, URI: nodes[i].URI(), Powered: s.Powered, Battery: float64(s.BatteryPermille) / 10,
			Containers: make([]ContainerDoc, 0, len(s.Containers)), Denied: s.Denied, Updating: s.Updating, LastResult: s.LastResult, Updates: s.Updates}
		for _, c := range s.Containers {
			d.Containers = append(d.Containers, ContainerDoc{UID: c.UID, State: c.State.String()})
		}
		if ep, ok := l.Registration(s.ID); ok {
			st := ep.Status()
			d.RD = &RDDoc{State: st.State.String(), Location: st.Location, Error: st.LastError}
		}
		doc.Devices = append(doc.Devices, d)
	}
	if gw, ok := l.Gateway(); ok {
		doc.Registrations = gw.Registrations()
		doc.Collected = gw.Collected()
	}
	return doc
}

// DevicesJSON is Devices as JSON.
func (l *Lab) DevicesJSON() []byte {
	b, err := json.Marshal(l.Devices())
	if err != nil {
		return []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	return b
}
