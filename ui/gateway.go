package ui

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"tinylab/lab"
	"tinylab/lab/gateway"
)

// serveGateway runs the lab's gateway endpoint for the UI's whole life (a
// rewind builds a new lab; the gateway and what registered with it stay):
// an RD the room's devices register with, the scenario's devices in its
// lookups, the collector, and /lab/devices for the lab being shown.
func serveGateway(addr string, s *live) (*gateway.Gateway, string, error) {
	var gw *gateway.Gateway
	current := func() *lab.Lab {
		if r := s.runner(); r != nil {
			return r.Lab()
		}
		return nil
	}
	gw, err := gateway.Listen(addr, gateway.Options{
		Devices: func() []byte {
			doc := lab.DevicesDoc{Mode: "ui", Devices: []lab.DeviceDoc{}}
			if l := current(); l != nil {
				doc = l.Devices()
			}
			doc.Registrations, doc.Collected = gw.Registrations(), gw.Collected()
			b, err := json.Marshal(doc)
			if err != nil {
				return []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
			}
			return b
		},
		Fleet: func() []gateway.Registration {
			if l := current(); l != nil {
				return l.Fleet()
			}
			return nil
		},
	})
	if err != nil {
		return nil, "", err
	}
	// the UI reaches its own gateway on loopback when it listens everywhere
	a := gw.Addr()
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return gw, "coap://" + net.JoinHostPort(host, strconv.Itoa(a.Port)), nil
}
