package device

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Store is a device's non-volatile memory: what survives a power cut and a
// reboot. The stored SUIT sequence numbers and the installed containers live
// here; RIOT's RAM slots only when the device persists them.
type Store interface {
	Get(key string) ([]byte, bool, error)
	Put(key string, val []byte) error
	Delete(key string) error
	// Keys lists the keys with the prefix, sorted.
	Keys(prefix string) ([]string, error)
}

// MemStore keeps a device's non-volatile memory in the process: it survives
// a power cut of the virtual device, not a restart of the lab.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemStore makes an empty in-process store.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

func (s *MemStore) Get(key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return slices.Clone(v), ok, nil
}

func (s *MemStore) Put(key string, val []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = sharedBytes(val) // Get copies: what a store holds is never written
	return nil
}

func (s *MemStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *MemStore) Keys(prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range maps.Keys(s.m) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out, nil
}

// DirStore keeps a device's non-volatile memory as files in a folder, so it
// survives a restart of the lab (`--state DIR`). Writes are atomic (a
// temporary file renamed), as a power cut must never leave half a value.
type DirStore struct{ dir string }

// NewDirStore uses (and creates) dir.
func NewDirStore(dir string) (*DirStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// path maps a key ("seq/tc.coach") to a file inside the folder; keys are
// made by the device, but a key must never leave the folder.
func (s *DirStore) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.ContainsAny(key, "\\\x00") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("state: bad key %q", key)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

func (s *DirStore) Get(key string) ([]byte, bool, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state: %w", err)
	}
	return b, true, nil
}

func (s *DirStore) Put(key string, val []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, val, 0o644); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

func (s *DirStore) Delete(key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

func (s *DirStore) Keys(prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".tmp") {
			return err
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	slices.Sort(out)
	return out, nil
}
