package coapnet

import (
	"strings"
	"sync"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"
)

// Hosts is the handler of a socket shared by several boards: each request
// goes to the board its Uri-Host option names (RFC 7252 §5.10.1: the host
// a request is for, which one endpoint may serve many of). A fleet of
// 10,000 boards then needs a few dozen sockets and serving goroutines
// instead of 10,000, under the process's open-file limit.
type Hosts struct {
	mu sync.RWMutex
	m  map[string]mux.Handler
}

// NewHosts makes an empty table.
func NewHosts() *Hosts { return &Hosts{m: map[string]mux.Handler{}} }

// Add serves host (case-insensitive, as URI hosts are) with h.
func (hs *Hosts) Add(host string, h mux.Handler) {
	hs.mu.Lock()
	hs.m[strings.ToLower(host)] = h
	hs.mu.Unlock()
}

// Len is how many hosts the socket serves.
func (hs *Hosts) Len() int {
	hs.mu.RLock()
	defer hs.mu.RUnlock()
	return len(hs.m)
}

// ServeCOAP hands the request to the board it names.
func (hs *Hosts) ServeCOAP(w mux.ResponseWriter, r *mux.Message) {
	host, err := r.Options().GetString(message.URIHost)
	if err != nil {
		_ = w.SetResponse(codes.BadRequest, message.TextPlain, strings.NewReader("this socket serves several boards: name one with the Uri-Host option"))
		return
	}
	hs.mu.RLock()
	h := hs.m[strings.ToLower(host)]
	hs.mu.RUnlock()
	if h == nil {
		_ = w.SetResponse(codes.NotFound, message.TextPlain, strings.NewReader("no board "+host+" on this socket"))
		return
	}
	h.ServeCOAP(w, r)
}
