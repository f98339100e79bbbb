package device

import (
	"sync"

	"tinylab/firewall"
)

// A fleet's boards hold the same bytes: 10,000 copies of one container in
// flash and in RAM, 10,000 decodings of one metadata. A real board keeps
// its own; the host keeps one, read-only, and each board still counts it as
// its own (flash and RAM use, sizes, what it reports). Only what the device
// never writes in place is shared: container code, data and metadata as
// received, and what a MemStore holds (Get hands out copies).
//
// The tables are bounded: when one fills up it starts again empty, and the
// bytes already given out stay with their holders. Content decides what is
// shared, never order, so runs repeat themselves.
type sharedTable[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// sharedMax bounds each table; sharedBlobMax is the largest blob shared.
const (
	sharedMax     = 1024
	sharedBlobMax = 64 << 10
)

func (t *sharedTable[V]) get(key []byte) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[string(key)]
	return v, ok
}

func (t *sharedTable[V]) put(key []byte, v V) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= sharedMax {
		t.m = make(map[string]V)
	}
	t.m[string(key)] = v
}

var (
	blobs sharedTable[[]byte]
	metas sharedTable[*firewall.Metadata]
)

// sharedBytes is a read-only copy of b, the same one for equal contents.
func sharedBytes(b []byte) []byte {
	if len(b) == 0 {
		return append(b[:0:0], b...) // nil stays nil, empty stays empty
	}
	if len(b) > sharedBlobMax {
		return append([]byte(nil), b...)
	}
	if v, ok := blobs.get(b); ok {
		return v
	}
	v := append([]byte(nil), b...)
	blobs.put(v, v)
	return v
}

// decodeMetadata decodes metadata once per content; the result is shared
// and must not be changed.
func decodeMetadata(raw []byte) (*firewall.Metadata, error) {
	if md, ok := metas.get(raw); ok {
		return md, nil
	}
	md, err := firewall.DecodeMetadata(raw)
	if err != nil {
		return nil, err
	}
	if len(raw) <= sharedBlobMax {
		metas.put(raw, md)
	}
	return md, nil
}
