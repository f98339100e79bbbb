package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"

	"tinylab/device/coapnet"
)

// Repo is a set of files served over CoAP.
type Repo struct {
	dir string // "" when the repo holds only in-memory files

	mu     sync.RWMutex
	files  map[string][]byte // in memory, by clean path ("/coach/v2.suit")
	tamper func(path string, data []byte) []byte
	served map[string]int // GETs per path, for tests and the UI
	onGet  func(path string, size int)
}

// OnGet sets a function told of each file a peer starts fetching (its first
// block), for a console log.
func (r *Repo) OnGet(fn func(path string, size int)) {
	r.mu.Lock()
	r.onGet = fn
	r.mu.Unlock()
}

// New makes a repository over dir (may be "" for in-memory files only).
func New(dir string) (*Repo, error) {
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("repo: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("repo: %s is not a folder", dir)
		}
	}
	return &Repo{dir: dir, files: map[string][]byte{}, served: map[string]int{}}, nil
}

// ErrBadPath is returned for a path outside the repository.
var ErrBadPath = errors.New("repo: bad path")

// clean turns a request path into a canonical "/a/b" path, refusing anything
// that would leave the repository.
func clean(p string) (string, error) {
	if strings.Contains(p, "\x00") || strings.Contains(p, "\\") {
		return "", fmt.Errorf("%w %q", ErrBadPath, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%w %q", ErrBadPath, p)
		}
	}
	return path.Clean("/" + p), nil
}

// Put stores an in-memory file at p (it shadows a file of the folder).
func (r *Repo) Put(p string, data []byte) error {
	c, err := clean(p)
	if err != nil {
		return err
	}
	if c == "/" {
		return fmt.Errorf("%w: a file needs a name", ErrBadPath)
	}
	r.mu.Lock()
	r.files[c] = slices.Clone(data)
	r.mu.Unlock()
	return nil
}

// SetTamper installs a hook that may change every file as it is served (nil
// removes it). The hook must be cheap and deterministic.
func (r *Repo) SetTamper(fn func(path string, data []byte) []byte) {
	r.mu.Lock()
	r.tamper = fn
	r.mu.Unlock()
}

// Served reports how many GETs asked for p (every block counts).
func (r *Repo) Served(p string) int {
	c, _ := clean(p)
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.served[c]
}

// Read returns the file at p as a device would receive it (tamper applied).
func (r *Repo) Read(p string) ([]byte, error) {
	c, err := clean(p)
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	data, ok := r.files[c]
	tamper := r.tamper
	r.mu.RUnlock()
	if !ok {
		if r.dir == "" {
			return nil, fs.ErrNotExist
		}
		data, err = os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(c)))
		if err != nil {
			return nil, err
		}
	}
	if tamper != nil {
		data = tamper(c, slices.Clone(data))
	}
	return data, nil
}

// List returns the entries directly under directory p, sorted, with a
// trailing slash on sub-directories.
func (r *Repo) List(p string) ([]string, error) {
	c, err := clean(p)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(c, "/") + "/"
	set := map[string]bool{}
	found := false
	r.mu.RLock()
	for f := range r.files {
		if rest, ok := strings.CutPrefix(f, prefix); ok {
			found = true
			name, _, sub := strings.Cut(rest, "/")
			if sub {
				name += "/"
			}
			set[name] = true
		}
	}
	r.mu.RUnlock()
	if r.dir != "" {
		entries, err := os.ReadDir(filepath.Join(r.dir, filepath.FromSlash(c)))
		if err == nil {
			found = true
			for _, e := range entries {
				name := e.Name()
				if e.IsDir() {
					name += "/"
				}
				set[name] = true
			}
		}
	}
	if !found && c != "/" {
		return nil, fs.ErrNotExist
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// Respond answers one request to the repository: GET of a file (block-wise),
// of a folder or of /.well-known/core (link format).
func (r *Repo) Respond(req *coapnet.Request) *coapnet.Reply {
	if req.Code != codes.GET {
		return text(codes.MethodNotAllowed, "the repository is read-only")
	}
	p := req.Path
	if p == "/.well-known/core" {
		return r.listing(req, "/", true)
	}
	c, err := clean(p)
	if err != nil {
		return text(codes.BadRequest, err.Error())
	}
	if strings.HasSuffix(p, "/") || c == "/" {
		return r.listing(req, c, false)
	}
	data, err := r.Read(c)
	if err != nil {
		if _, lerr := r.List(c); lerr == nil {
			return r.listing(req, c, false)
		}
		return text(codes.NotFound, "no such file")
	}
	r.mu.Lock()
	r.served[c]++
	onGet := r.onGet
	r.mu.Unlock()
	if v, err := req.Options.GetUint32(message.Block2); onGet != nil && (err != nil || v>>4 == 0) {
		onGet(c, len(data))
	}
	return coapnet.Slice(req.Options, &coapnet.Reply{Code: codes.Content, Format: message.AppOctets, Body: data})
}

func text(code codes.Code, s string) *coapnet.Reply {
	return &coapnet.Reply{Code: code, Format: message.TextPlain, Body: []byte(s)}
}

// Listen serves the repository on addr ("127.0.0.1:0" picks a port) with a
// stateless CoAP server: a repository keeps nothing per peer.
func (r *Repo) Listen(addr string) (*coapnet.Stateless, error) {
	return coapnet.ListenStateless(addr, r.Respond)
}

// listing answers with RFC 6690 links to the entries of folder dir;
// recursive lists every file (for /.well-known/core).
func (r *Repo) listing(req *coapnet.Request, dir string, recursive bool) *coapnet.Reply {
	var links []string
	var walk func(d string) error
	walk = func(d string) error {
		names, err := r.List(d)
		if err != nil {
			return err
		}
		for _, n := range names {
			full := strings.TrimSuffix(d, "/") + "/" + n
			if recursive && strings.HasSuffix(n, "/") {
				if err := walk(full); err != nil {
					return err
				}
				continue
			}
			links = append(links, "<"+full+">")
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return text(codes.NotFound, "no such folder")
	}
	return coapnet.Slice(req.Options, &coapnet.Reply{Code: codes.Content, Format: message.AppLinkFormat, Body: []byte(strings.Join(links, ","))})
}
