package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plgd-dev/go-coap/v3/net/blockwise"

	"tinylab/device/coapnet"
	"tinylab/suit"
)

// Net is the device's network: one block-wise GET exchange at a time,
// through the device's own CoAP socket.
type Net interface {
	GetBlock(ctx context.Context, t coapnet.Target, num int64, szx blockwise.SZX) (coapnet.Block, error)
}

// SetNet gives the device its network (nil: updates by URI fail).
func (d *Device) SetNet(n Net) { d.net = n }

// Link is the modelled radio link of the device: how many of its exchanges
// are lost, and how long each takes beyond the air time of its bytes.
type Link struct {
	Loss    float64       // fraction of exchanges lost, 0..1
	Latency time.Duration // per exchange (radio turnaround, 6LoWPAN, border router)
}

// SetLink changes the device's link model from now on.
func (d *Device) SetLink(l Link) {
	l.Loss = math.Max(0, math.Min(1, l.Loss))
	d.link = l
}

// Link is the current link model.
func (d *Device) Link() Link { return d.link }

// CoAP transmission parameters (RFC 7252 §4.8), used to model a lost block
// in virtual time.
const (
	ackTimeout    = 2 * time.Second
	ackRandom     = 1.5
	maxRetransmit = 4
	requestBytes  = 40 // a GET with its options, over 6LoWPAN
)

// maxManifest is the largest manifest the device accepts (RIOT keeps the
// manifest in a static buffer of CONFIG_SUIT_MANIFEST_BUFSIZE bytes).
const maxManifest = 4096

// SuitStatus is what /suit/status reports and the UI's update pane shows.
type SuitStatus struct {
	State     string // idle, fetching, verifying, installing
	URI       string
	Namespace string // sequence-number namespace of the update ("ram", "tc.coach")
	Container string // the container the update carries ("" for RAM-slot images)
	Seq       uint64 // the manifest's sequence number, once it is read
	Last      SuitResult
	LastStep  string
	Steps     []SuitStep // the current or last update's checks, in order
	Done      uint64     // bytes of the payload being fetched
	Total     uint64
	Component string
	Updates   int // updates finished, successful or not
}

type updateRun struct {
	task      Task
	aborted   bool     // power was cut: the run is over; what it still reports is dropped
	installed []string // containers installed, to start when the update ends
}

// SuitStatus is the current update status.
func (d *Device) SuitStatus() SuitStatus {
	s := d.suitStatus
	s.Steps = slices.Clone(s.Steps)
	if s.State == "" {
		s.State = "idle"
	}
	return s
}

// Sequence is the stored SUIT sequence number of a namespace.
func (d *Device) Sequence(ns string) uint64 { return d.seqs[ns] }

// Sequences lists every stored sequence number by namespace.
func (d *Device) Sequences() map[string]uint64 { return maps.Clone(d.seqs) }

// loadSequences reads the stored sequence numbers from flash once; the
// device keeps them in memory after that, as every Store goes through it.
func (d *Device) loadSequences() error {
	d.seqs = map[string]uint64{}
	keys, err := d.cfg.Store.Keys("seq/")
	if err != nil {
		return err
	}
	for _, k := range keys {
		b, ok, err := d.cfg.Store.Get(k)
		if err != nil || !ok {
			return err
		}
		n, err := strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("stored %s: %w", k, err)
		}
		d.seqs[strings.TrimPrefix(k, "seq/")] = n
	}
	return nil
}

// TriggerUpdate starts an update from a manifest URI, as RIOT's
// /suit/trigger does: the manifest and payloads are fetched over CoAP, block
// by block, in the background. The URI is only read here: its host is
// resolved by the update, off the world, so a slow or bogus name never
// holds a request handler (or every other device).
func (d *Device) TriggerUpdate(uri string) error {
	if _, err := coapnet.ReadURI(uri); err != nil {
		return err
	}
	return d.startUpdate(uri, nil)
}

// SubmitManifest starts an update from a manifest given whole (/suit/manifest).
func (d *Device) SubmitManifest(envelope []byte) error {
	if len(envelope) > maxManifest {
		return fmt.Errorf("manifest of %d bytes, at most %d", len(envelope), maxManifest)
	}
	return d.startUpdate("", slices.Clone(envelope))
}

func (d *Device) startUpdate(uri string, envelope []byte) error {
	if !d.on {
		return ErrPoweredOff
	}
	if d.update != nil {
		return ErrBusy
	}
	d.suitStatus = SuitStatus{State: "fetching", URI: uri, Last: d.suitStatus.Last, Updates: d.suitStatus.Updates}
	run := &updateRun{}
	d.update = run
	run.task = d.env.Go(func(t Task) { d.runUpdate(run, t, uri, envelope) })
	return nil
}

// abortUpdate ends the update in flight at a power cut: its result is
// reported now, and the task, which wakes up later to see its context
// cancelled, reports nothing more.
func (d *Device) abortUpdate() {
	run := d.update
	if run == nil {
		return
	}
	run.aborted = true
	run.task.Cancel()
	d.update = nil
	d.suitStatus.State = "idle"
	d.suitStatus.Last = SuitResult{Code: int(suit.CodeStorage), Result: suit.CodeStorage.String(), Message: "interrupted by a power cut; nothing installed"}
	d.suitStatus.Updates++
	d.emit(d.suitStatus.Last)
}

// runUpdate is the update task: fetch the manifest if needed, then the SUIT
// procedure with the device's storage, fetcher and sequence numbers.
func (d *Device) runUpdate(run *updateRun, t Task, uri string, envelope []byte) {
	defer func() {
		if d.update == run {
			d.update = nil
		}
	}()
	ctx := t.Context()
	if envelope == nil {
		d.suitStep(run, SuitStep{Step: "manifest", Status: "started", Message: fmt.Sprintf("suit_coap: downloading %q", uri)})
		var buf bytes.Buffer
		err := d.fetch(t, uri, &limitWriter{w: &buf, n: maxManifest}, nil)
		if err != nil {
			d.finishUpdate(run, 0, fmt.Errorf("manifest download: %w", err))
			return
		}
		envelope = buf.Bytes()
		d.suitStep(run, SuitStep{Step: "manifest", Status: "passed", Message: fmt.Sprintf("suit_coap: got manifest with size %d", len(envelope))})
	}
	ns, seq := namespaceOf(envelope)
	d.suitStatus.Namespace, d.suitStatus.Seq = ns, seq
	d.suitStatus.Container, _ = strings.CutPrefix(ns, "tc.")
	if ns == "ram" {
		d.suitStatus.Container = ""
	}
	st := &devStorage{d: d, t: t, seq: seq, run: run}
	cfg := suit.Config{
		Keys:     d.cfg.Trust,
		VendorID: suit.VendorID(),
		ClassID:  suit.ClassID(d.cfg.Board.Name),
		Storage:  st,
		Fetcher:  &devFetcher{d: d, t: t},
		Seq:      &seqStore{d: d, ns: ns},
		Policy:   containerPolicy,
		OnEvent:  func(e suit.Event) { d.onSuitEvent(run, e) },
		SignerPolicy: func(_ *suit.Manifest, k suit.PublicKey) error {
			st.tenant = d.tenantOf(k.Fingerprint())
			return d.mayReplace(d.suitStatus.Container, st.tenant)
		},
	}
	rep, err := suit.Process(ctx, cfg, envelope)
	if err == nil {
		seq = rep.Sequence
	}
	d.finishUpdate(run, seq, err)
}

// startInstalled starts a container just installed: at once, or when an
// update installs it, after the update is committed, so that no container
// of an update runs before its sequence number is stored.
func (d *Device) startInstalled(uid string) {
	if d.installing != nil {
		*d.installing = append(*d.installing, uid)
		return
	}
	_ = d.Start(uid)
}

func (d *Device) finishUpdate(run *updateRun, seq uint64, err error) {
	start := run.installed
	run.installed = nil
	if run.aborted {
		return
	}
	defer func() {
		// what the update installed runs now, its install committed
		for _, uid := range start {
			_ = d.Start(uid)
		}
	}()
	res := SuitResult{Code: 0, Result: suit.CodeOK.String(), Seq: seq}
	if err != nil {
		res.Code, res.Result, res.Message = int(suit.CodeInvalidManifest), suit.CodeInvalidManifest.String(), err.Error()
		var se *suit.Error
		if errors.As(err, &se) {
			res.Code, res.Result, res.Message = int(se.Code), se.Code.String(), se.Msg
		}
	}
	d.suitStatus.State = "idle"
	d.suitStatus.Last = res
	d.suitStatus.Updates++
	d.emit(res)
}

func (d *Device) suitStep(run *updateRun, s SuitStep) {
	if run.aborted {
		return
	}
	d.suitStatus.Steps = append(d.suitStatus.Steps, s)
	d.suitStatus.LastStep = s.Step
	d.emit(s)
}

// onSuitEvent turns the procedure's events into device events.
func (d *Device) onSuitEvent(run *updateRun, e suit.Event) {
	if run.aborted {
		return
	}
	switch e.Step {
	case suit.StepFetch:
		d.suitStatus.State = "fetching"
	case suit.StepImageMatch, suit.StepSignature:
		d.suitStatus.State = "verifying"
	case suit.StepInstall:
		d.suitStatus.State = "installing"
	}
	if e.Status == suit.Progress {
		d.suitStatus.Done, d.suitStatus.Total, d.suitStatus.Component = e.Done, e.Total, e.Component
		d.emit(SuitProgress{URI: e.Component, Done: e.Done, Total: e.Total})
		return
	}
	d.suitStep(run, SuitStep{Step: e.Step.String(), Status: e.Status.String(), Message: e.Message, Component: e.Component, Code: int(e.Code)})
}

// namespaceOf picks the sequence-number namespace of an envelope: each
// TinyContainer container has its own (tenants do not share one counter),
// RIOT's RAM slots share one, as RIOT's RAM storage does. It also returns
// the manifest's sequence number; an envelope that does not decode gets the
// RAM namespace, and the procedure will refuse it.
func namespaceOf(envelope []byte) (string, uint64) {
	env, err := suit.Decode(envelope)
	if err != nil || env.Manifest == nil {
		return "ram", 0
	}
	for _, c := range env.Manifest.Components {
		if uid, _, ok := tcLocation(c.Location()); ok {
			return "tc." + uid, env.Manifest.Sequence
		}
	}
	return "ram", env.Manifest.Sequence
}

// A TinyContainer container travels as components ["tc", uid, part].
var tcParts = []string{"meta", "code", "data"}

// tcLocation splits ".tc.<uid>.<part>".
func tcLocation(loc string) (uid, part string, ok bool) {
	rest, found := strings.CutPrefix(loc, ".tc.")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 || !slices.Contains(tcParts, rest[i+1:]) {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// containerPolicy is the device's own check before anything is fetched: a
// manifest carries RIOT RAM-slot images or one container's parts (with its
// metadata and code), never a mix.
func containerPolicy(m *suit.Manifest) error {
	uids := map[string]map[string]bool{}
	ram := false
	for _, c := range m.Components {
		if uid, part, ok := tcLocation(c.Location()); ok {
			if uids[uid] == nil {
				uids[uid] = map[string]bool{}
			}
			uids[uid][part] = true
		} else {
			ram = true
		}
	}
	switch {
	case len(uids) > 1:
		return fmt.Errorf("one manifest may carry one container, this one carries %d", len(uids))
	case len(uids) == 1 && ram:
		return errors.New("a manifest may not mix a container with RAM slots")
	}
	for uid, parts := range uids {
		if !parts["meta"] || !parts["code"] {
			return fmt.Errorf("container %s: a manifest must carry its metadata and code", uid)
		}
	}
	return nil
}

// ErrNotYours refuses one signer's update of a container another tenant shipped.
var ErrNotYours = errors.New("the container belongs to another tenant")

// mayReplace says whether an update signed for tenant may replace the
// container uid: a tenant updates only its own containers (the owner's
// maintainer key, tenant "", only the owner's).
func (d *Device) mayReplace(uid, tenant string) error {
	c := d.container(uid)
	if uid == "" || c == nil || c.tenant == tenant {
		return nil
	}
	owner := func(t string) string {
		if t == "" {
			return "the owner"
		}
		return "tenant " + t
	}
	return fmt.Errorf("%w: %s is %s's, this update is signed by %s", ErrNotYours, uid, owner(c.tenant), owner(tenant))
}

// seqStore keeps one namespace's sequence number in flash.

// seqStore keeps the sequence number of the namespace an update installs
// into in flash. The number a manifest must exceed is, as in RIOT, the
// highest of every namespace; with Config.SeqPerContainer it is the
// namespace's own.
type seqStore struct {
	d  *Device
	ns string
}

// Highest is the number a manifest must exceed: the highest stored on the
// device (RIOT's suit_storage_get_highest_seq_no), or with SeqPerContainer
// the namespace's own.
func (d *Device) Highest(ns string) uint64 {
	if d.cfg.SeqPerContainer {
		return d.seqs[ns]
	}
	var hi uint64
	for _, n := range d.seqs {
		hi = max(hi, n)
	}
	return hi
}

func (s *seqStore) Load() (uint64, error) { return s.d.Highest(s.ns), nil }

// Scope names the numbering in the sequence-number check's log line when it
// is not RIOT's.
func (s *seqStore) Scope() string {
	if !s.d.cfg.SeqPerContainer {
		return ""
	}
	return "per-container numbering, not RIOT's one per device: " + s.ns
}

func (s *seqStore) Store(seq uint64) error {
	if cur := s.d.Highest(s.ns); seq <= cur {
		return &suit.Error{Code: suit.CodeSequenceNumber, Step: suit.StepInstall, Msg: fmt.Sprintf("stored sequence number %d, refusing %d", cur, seq)}
	}
	if err := s.d.cfg.Store.Put("seq/"+s.ns, []byte(strconv.FormatUint(seq, 10))); err != nil {
		return &suit.Error{Code: suit.CodeStorage, Step: suit.StepInstall, Msg: "storing the sequence number", Err: err}
	}
	s.d.seqs[s.ns] = seq
	return nil
}

// devFetcher fetches a payload block by block over the device's socket,
// each block a real CoAP exchange followed by its modelled air time.
type devFetcher struct {
	d *Device
	t Task
}

func (f *devFetcher) Fetch(ctx context.Context, uri string, w io.Writer, progress func(done, total uint64)) error {
	return f.d.fetch(f.t, uri, w, progress)
}

func (d *Device) fetch(t Task, uri string, w io.Writer, progress func(done, total uint64)) error {
	if d.net == nil {
		return errors.New("the device has no network")
	}
	tgt, err := d.resolve(t, uri)
	if err != nil {
		return err
	}
	ctx := t.Context()
	get := func(num int64, szx blockwise.SZX) (coapnet.Block, error) { return d.fetchBlock(t, ctx, tgt, num, szx) }
	var report func(done, total int64)
	if progress != nil {
		report = func(done, total int64) { progress(uint64(done), uint64(max(total, 0))) }
	}
	return coapnet.Blocks(get, coapnet.SZXFor(d.cfg.BlockSize), w, report)
}

// resolve finds a URI's address off the world (a lookup may block); the
// virtual clock holds meanwhile, as for any real exchange.
func (d *Device) resolve(t Task, uri string) (coapnet.Target, error) {
	u, err := coapnet.ReadURI(uri)
	if err != nil {
		return coapnet.Target{}, err
	}
	if d.cfg.ResolveInWorld {
		return u.Resolve(d.cfg.Resolve)
	}
	var tgt coapnet.Target
	// a lookup has no modelled duration; the task resumes at once, so its
	// place among timers of this instant can depend on how long the lookup
	// took: a lab, whose resolver never blocks, resolves in the world instead
	if werr := t.Await(func() time.Duration {
		tgt, err = u.Resolve(d.cfg.Resolve)
		return 0
	}); werr != nil {
		return coapnet.Target{}, werr
	}
	return tgt, err
}

// exchangeTimeout is how long the device waits in wall time for one real
// exchange: peers are on loopback and answer in milliseconds, so silence
// this long means nobody is there. The device then behaves as CoAP does for
// a lost message, in virtual time.
const exchangeTimeout = 2 * time.Second

// fetchBlock gets one block: a real exchange off the world, resumed after its
// modelled air time; a block lost on the modelled link, or not answered at
// all, is retransmitted after CoAP's randomized, doubling ACK timeout.
func (d *Device) fetchBlock(t Task, ctx context.Context, tgt coapnet.Target, num int64, szx blockwise.SZX) (coapnet.Block, error) {
	energy, latency := d.cfg.Energy, d.link.Latency
	for attempt := 0; ; attempt++ {
		lost := d.link.Loss > 0 && d.rng.Float64() < d.link.Loss
		reason := "lost"
		if !lost {
			var b coapnet.Block
			var err error
			if werr := t.Await(func() time.Duration {
				ectx, cancel := context.WithTimeout(ctx, exchangeTimeout)
				defer cancel()
				b, err = d.net.GetBlock(ectx, tgt, num, szx)
				return energy.Airtime(requestBytes+len(b.Data)+radioOverhead) + latency
			}); werr != nil {
				return coapnet.Block{}, werr
			}
			switch {
			case err == nil:
				d.charge(energy.RadioPJ(requestBytes + len(b.Data) + radioOverhead))
				return b, nil
			case !errors.Is(err, context.DeadlineExceeded):
				return coapnet.Block{}, err
			}
			reason = "no answer"
		}
		if attempt >= maxRetransmit {
			return coapnet.Block{}, fmt.Errorf("block %d of %s: %s after %d attempts", num, tgt.Path, reason, attempt+1)
		}
		wait := time.Duration(float64(ackTimeout<<attempt) * (1 + (ackRandom-1)*d.rng.Float64()))
		d.charge(energy.RadioPJ(requestBytes))
		d.emit(CoAP{Dir: "out", Method: "GET", Path: tgt.Path, Code: reason + ", retransmitting in " + fmtDur(wait)})
		if err := t.Sleep(wait); err != nil {
			return coapnet.Block{}, err
		}
	}
}

// limitWriter refuses to grow past n bytes.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("more than the %d bytes allowed", maxManifest)
	}
	l.n -= len(p)
	return l.w.Write(p)
}

// devStorage is the device's SUIT storage: RIOT's RAM slots .ram.0 and
// .ram.1, and TinyContainer containers as .tc.<uid>.meta|code|data. Commit
// takes the modelled time of writing flash, then installs: a power cut
// before its end installs nothing.
type devStorage struct {
	d      *Device
	t      Task
	seq    uint64
	run    *updateRun
	tenant string // whose container the update carries (its signer's)
}

// maxMetadata is the largest metadata a slot keeps (upstream's
// MAX_SIZE_FOR_METADATA default is 1024).
const maxMetadata = 2048

func (s *devStorage) capacity(loc string) (uint64, bool) {
	switch loc {
	case ".ram.0", ".ram.1":
		return uint64(s.d.cfg.Board.RAMSlotBytes), true
	}
	_, part, ok := tcLocation(loc)
	switch {
	case !ok:
		return 0, false
	case part == "meta":
		return maxMetadata, true
	}
	return uint64(s.d.cfg.Board.SlotBytes), true
}

func (s *devStorage) HasLocation(loc string) bool { _, ok := s.capacity(loc); return ok }

func (s *devStorage) Stage(loc string, size uint64) (suit.Staged, error) {
	c, ok := s.capacity(loc)
	if !ok {
		return nil, &suit.Error{Code: suit.CodeStorageUnavailable, Step: suit.StepFetch, Msg: fmt.Sprintf("no storage location %q on %s", loc, s.d.cfg.Board.Name)}
	}
	if size > c {
		return nil, &suit.Error{Code: suit.CodeStorageExceeded, Step: suit.StepFetch, Msg: fmt.Sprintf("image-size %d exceeds the %d bytes of %s", size, c, loc)}
	}
	return &staged{loc: loc, max: size}, nil
}

// flashWrite is the modelled time to erase and write n bytes of nRF52 flash
// (85 ms per 4 KiB page erase, 41 µs per 32-bit word).
func flashWrite(n int) time.Duration {
	pages := (n + 4095) / 4096
	return time.Duration(pages)*85*time.Millisecond + time.Duration((n+3)/4)*41*time.Microsecond
}

func (s *devStorage) Commit(list []suit.Staged) error {
	total := 0
	for _, st := range list {
		total += len(st.Bytes())
	}
	if err := s.t.Sleep(flashWrite(total)); err != nil {
		return &suit.Error{Code: suit.CodeStorage, Step: suit.StepInstall, Msg: "install interrupted", Err: err}
	}
	parts := map[string][]byte{}
	uid := ""
	for _, st := range list {
		loc := st.Location()
		switch loc {
		case ".ram.0", ".ram.1":
			i := int(loc[len(loc)-1] - '0')
			s.d.ramSlot[i] = slices.Clone(st.Bytes())
			if s.d.cfg.PersistRAM {
				_ = s.d.cfg.Store.Put("ram/"+strconv.Itoa(i), st.Bytes())
			}
		default:
			u, part, _ := tcLocation(loc)
			uid, parts[part] = u, st.Bytes()
		}
	}
	if uid == "" {
		return nil
	}
	if err := s.d.mayReplace(uid, s.tenant); err != nil {
		return &suit.Error{Code: suit.CodePolicyForbidden, Step: suit.StepInstall, Msg: err.Error(), Err: err}
	}
	s.d.installing = &s.run.installed
	c, err := s.d.install(parts["meta"], parts["code"], parts["data"], "suit", s.seq, true)
	s.d.installing = nil
	if err != nil {
		return &suit.Error{Code: suit.CodePolicyForbidden, Step: suit.StepInstall, Msg: "the agent refused container " + uid + ": " + err.Error(), Err: err}
	}
	if c.tenant != s.tenant {
		c.tenant = s.tenant
		s.d.persist(c)
	}
	return nil
}

// staged is one component being written by an update.
type staged struct {
	loc    string
	buf    []byte
	max    uint64
	erased bool
}

func (s *staged) Write(p []byte) (int, error) {
	if s.erased {
		return 0, errors.New("write to an erased slot")
	}
	if uint64(len(s.buf)+len(p)) > s.max {
		return 0, &suit.Error{Code: suit.CodeStorageExceeded, Step: suit.StepFetch, Msg: fmt.Sprintf("more than the %d bytes staged for %s", s.max, s.loc)}
	}
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func (s *staged) Location() string { return s.loc }
func (s *staged) Bytes() []byte    { return s.buf }
func (s *staged) Erase()           { s.erased, s.buf = true, nil }

// RAMSlot returns what RIOT's RAM slot i (.ram.i) holds.
func (d *Device) RAMSlot(i int) []byte {
	if i < 0 || i >= len(d.ramSlot) {
		return nil
	}
	return slices.Clone(d.ramSlot[i])
}
