package device

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"

	"tinylab/device/authz"
	"tinylab/device/coapnet"
	"tinylab/firewall"
)

// handler is the device's CoAP resources (DESIGN §3): RIOT's /riot/board
// and /suit subtree, the femto-container demo's /bpf/exec/N, tinylab's
// /containers, and TinyContainer's /container/ protocol, for the party
// partyOf names (access.go). Every request runs in the device's world, so
// it sees a consistent device.
func (d *Device) handler(partyOf func(mux.ResponseWriter) authz.Party) mux.Handler {
	uploads := &coapnet.Uploads{Max: maxManifest}
	nons := &nonSeen{}
	return mux.HandlerFunc(func(w mux.ResponseWriter, r *mux.Message) {
		switch {
		case r.Type() == message.Reset:
			d.env.Do(func() { d.observers.reset(d, w.Conn(), r.MessageID()) })
			return
		case r.Code() == codes.Empty:
			// an ACK go-coap passes on: nothing to answer
			return
		}
		if r.Type() == message.NonConfirmable {
			if nons.dup(w.Conn().RemoteAddr().String(), r.MessageID()) {
				return
			}
			defer answerNon(w)
		}
		path, _ := r.Options().Path()
		path = "/" + strings.Trim(path, "/")
		p := partyOf(w)
		var body []byte
		if m, ok := methodOf[r.Code()]; path == "/suit/manifest" && (!ok || authz.Decide(p, authz.SuitManifest, m, authz.Facts{}).Allowed()) {
			// Block1 assembly happens outside the world: only the whole
			// manifest is handed to the device.
			b, ok := uploads.Receive(w, r)
			if !ok {
				return
			}
			body = b
		}
		d.env.Do(func() {
			// a bug in a resource answers 5.00 instead of ending the process
			defer func() {
				if v := recover(); v != nil {
					text(w, codes.InternalServerError, fmt.Sprintf("internal error: %v", v))
				}
			}()
			d.serve(w, r, p, path, body)
		})
	})
}

// nonWindow is how many recent NON requests the device remembers to drop
// their duplicates (RFC 7252 §4.5), a fixed ring as a constrained device
// would keep rather than NON_LIFETIME's worth.
const nonWindow = 64

// nonSeen remembers the peer and message id of recent NON requests. go-coap
// deduplicates through its response cache, which answerNon bypasses.
type nonSeen struct {
	mu   sync.Mutex
	ring *[nonWindow]struct { // made at the first NON: most devices of a fleet never see one
		peer string
		mid  int32
	}
	next int
}

// dup reports whether the request was seen, and remembers it if not.
func (n *nonSeen) dup(peer string, mid int32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ring == nil {
		n.ring = new([nonWindow]struct {
			peer string
			mid  int32
		})
	}
	for _, e := range n.ring {
		if e.peer == peer && e.mid == mid {
			return true
		}
	}
	n.ring[n.next].peer, n.ring[n.next].mid = peer, mid
	n.next = (n.next + 1) % nonWindow
	return false
}

// answerNon sends the answer to a non-confirmable request as a
// non-confirmable message (RFC 7252 §5.2.3). go-coap would make it
// confirmable, so it goes out here and go-coap is told there is nothing left.
func answerNon(w mux.ResponseWriter) {
	m := w.Message()
	if !m.IsModified() {
		return
	}
	m.SetType(message.NonConfirmable)
	m.SetMessageID(-1)
	_ = w.Conn().WriteMessage(m)
	m.SetModified(false)
}

func text(w mux.ResponseWriter, code codes.Code, s string) {
	_ = w.SetResponse(code, message.TextPlain, strings.NewReader(s))
}

// accept is the content format a request asks for: CBOR (60) unless it
// says JSON (50) or text (0); false when it asks for one the device does
// not offer.
func accept(r *mux.Message) (message.MediaType, bool) {
	a, err := r.Options().Accept()
	if err != nil {
		return message.AppCBOR, true
	}
	switch a {
	case message.AppCBOR, message.AppJSON, message.TextPlain:
		return a, true
	}
	return a, false
}

// notAcceptable is 4.06 for an Accept the resource does not offer.
func notAcceptable(w mux.ResponseWriter, a message.MediaType, offered string) {
	text(w, codes.NotAcceptable, fmt.Sprintf("Accept %d is not offered; this resource has %s", a, offered))
}

// encode answers v in the content format the request asks for, or 4.06.
func encode(w mux.ResponseWriter, r *mux.Message, code codes.Code, v any, plain func() string, opts ...message.Option) {
	cf, ok := accept(r)
	if !ok {
		notAcceptable(w, cf, "60 (CBOR), 50 (JSON) or 0 (text)")
		return
	}
	var b []byte
	var err error
	switch cf {
	case message.AppJSON:
		b, err = json.Marshal(v)
	case message.TextPlain:
		b = []byte(plain())
	default:
		b, err = cborEnc.Marshal(v)
	}
	if err != nil {
		text(w, codes.InternalServerError, err.Error())
		return
	}
	_ = coapnet.WriteBody(w, r, code, cf, b, opts...)
}

var cborEnc, _ = cbor.CanonicalEncOptions().EncMode()

// conflict is 4.09 Conflict (RFC 8132), which go-coap does not name: the
// command does not fit the container's state.
const conflict codes.Code = 4<<5 | 9

func (d *Device) serve(w mux.ResponseWriter, r *mux.Message, p authz.Party, path string, body []byte) {
	if !d.on {
		// A board without power answers nobody: no response is written
		// (go-coap still acknowledges a confirmable request at the
		// message layer, so the client waits for an answer that never comes).
		return
	}
	if !d.authorize(w, r, p, path) {
		return
	}
	method := r.Code()
	switch {
	case path == "/.well-known/core" && method == codes.GET:
		if a, err := r.Options().Accept(); err == nil && a != message.AppLinkFormat {
			notAcceptable(w, a, "40 (link format)")
			return
		}
		_ = coapnet.WriteBody(w, r, codes.Content, message.AppLinkFormat, []byte(d.links()))
	case path == "/riot/board" && method == codes.GET:
		text(w, codes.Content, d.cfg.Board.Name)
	case path == "/suit/trigger" && (method == codes.POST || method == codes.PUT):
		d.serveTrigger(w, r)
	case path == "/suit/manifest" && (method == codes.POST || method == codes.PUT):
		d.answerUpdate(w, d.SubmitManifest(body))
	case path == "/suit/status" && method == codes.GET:
		encode(w, r, codes.Content, d.statusDoc(), d.statusText, d.observe(w, r, statusPath, "", p)...)
	case path == "/containers" && method == codes.GET:
		d.serveList(w, r, p)
	case strings.HasPrefix(path, "/containers/"):
		d.serveContainer(w, r, strings.TrimPrefix(path, "/containers/"))
	case strings.HasPrefix(path, "/bpf/exec/") && method == codes.POST:
		d.serveExec(w, r, strings.TrimPrefix(path, "/bpf/exec/"))
	case path == "/container":
		d.serveTinyContainer(w, r)
	case path == "/device-id":
		d.serveDeviceID(w, r)
	case d.known(path):
		text(w, codes.MethodNotAllowed, method.String()+" is not allowed on "+path)
	default:
		text(w, codes.NotFound, "no resource "+path)
	}
}

func (d *Device) known(path string) bool {
	for _, p := range []string{"/.well-known/core", "/riot/board", "/suit/trigger", "/suit/manifest", "/suit/status", "/containers", "/container", "/device-id"} {
		if p == path {
			return true
		}
	}
	return strings.HasPrefix(path, "/bpf/exec/")
}

// Links is the RFC 6690 description of the resources, as /.well-known/core
// answers it and an RD registration carries it. Call it in the world.
func (d *Device) Links() string { return d.links() }

// links is the RFC 6690 description of the resources.
func (d *Device) links() string {
	l := []string{
		`</riot/board>;ct=0`,
		`</suit/trigger>;rt="suit.trigger"`,
		`</suit/manifest>;rt="suit.manifest"`,
		`</suit/status>;ct="60 50";obs`,
		`</containers>;ct="60 50 0";obs`,
		`</bpf/exec/0>`, `</bpf/exec/1>`,
		`</container/>;rt="tinycontainer"`,
		`</device-id/>`,
	}
	for _, c := range d.Containers() {
		l = append(l, fmt.Sprintf(`</containers/%s>;ct="60 50 0";obs`, c.UID))
	}
	return strings.Join(l, ",")
}

func (d *Device) serveTrigger(w mux.ResponseWriter, r *mux.Message) {
	b, err := r.ReadBody()
	uri := strings.TrimSpace(string(b))
	if err != nil || uri == "" {
		text(w, codes.BadRequest, "the payload must be the manifest URI")
		return
	}
	d.answerUpdate(w, d.TriggerUpdate(uri))
}

func (d *Device) answerUpdate(w mux.ResponseWriter, err error) {
	switch {
	case err == nil:
		_ = w.SetResponse(codes.Created, message.TextPlain, nil)
	case errors.Is(err, ErrBusy):
		text(w, codes.ServiceUnavailable, err.Error())
	default:
		text(w, codes.BadRequest, err.Error())
	}
}

// statusDoc is /suit/status: the keys the issue names, CBOR or JSON.
type statusDoc struct {
	SeqNo     uint64            `json:"seq_no" cbor:"seq_no"`
	State     string            `json:"state" cbor:"state"`
	Last      lastDoc           `json:"last" cbor:"last"`
	Slots     []SlotInfo        `json:"slots" cbor:"slots"`
	Namespace string            `json:"namespace" cbor:"namespace"`
	Sequences map[string]uint64 `json:"sequences" cbor:"sequences"`
	Progress  progressDoc       `json:"progress" cbor:"progress"`
}

type lastDoc struct {
	Code    int    `json:"code" cbor:"code"`
	Result  string `json:"result" cbor:"result"`
	Step    string `json:"step" cbor:"step"`
	Message string `json:"message,omitempty" cbor:"message,omitempty"`
}

type progressDoc struct {
	Done      uint64 `json:"done" cbor:"done"`
	Total     uint64 `json:"total" cbor:"total"`
	Component string `json:"component,omitempty" cbor:"component,omitempty"`
}

func (d *Device) statusDoc() statusDoc {
	s := d.SuitStatus()
	ns := s.Namespace
	if ns == "" {
		ns = "ram"
	}
	return statusDoc{
		SeqNo: d.Highest(ns), State: s.State, Namespace: ns, Sequences: d.Sequences(),
		Last:     lastDoc{Code: s.Last.Code, Result: s.Last.Result, Step: s.LastStep, Message: s.Last.Message},
		Slots:    d.Slots(),
		Progress: progressDoc{Done: s.Done, Total: s.Total, Component: s.Component},
	}
}

// statusPath is SUIT's status resource, observable like the container list.
const statusPath = "/suit/status"

func (d *Device) statusText() string {
	s := d.statusDoc()
	var b strings.Builder
	fmt.Fprintf(&b, "state %s, seq_no %d (%s), last %s (%d) at %s\n", s.State, s.SeqNo, s.Namespace, s.Last.Result, s.Last.Code, s.Last.Step)
	for _, sl := range s.Slots {
		fmt.Fprintf(&b, "%s %d bytes %s\n", sl.Location, sl.Size, sl.SHA256)
	}
	return b.String()
}

func (d *Device) serveList(w mux.ResponseWriter, r *mux.Message, p authz.Party) {
	list := d.listFor(p)
	encode(w, r, codes.Content, list, func() string { return containersText(list) }, d.observe(w, r, "/containers", "", p)...)
}

// observe registers or deregisters a GET carrying Observe whose Accept the
// resource can answer, and returns the options its answer carries.
func (d *Device) observe(w mux.ResponseWriter, r *mux.Message, path, uid string, p authz.Party) []message.Option {
	obs, err := r.Options().Observe()
	if err != nil {
		return nil
	}
	cf, ok := accept(r)
	if !ok {
		return nil
	}
	return d.observers.update(d, w, r, path, uid, obs, cf, p)
}

func containersText(list []ContainerInfo) string {
	var b strings.Builder
	for _, c := range list {
		if c.brief {
			fmt.Fprintf(&b, "%s %s\n", c.UID, c.State)
			continue
		}
		fmt.Fprintf(&b, "%s %s loops=%d heartbeats=%d denied=%d\n", c.UID, c.State, c.Loops, c.Heartbeats, c.Denied)
	}
	return b.String()
}

func (d *Device) serveContainer(w mux.ResponseWriter, r *mux.Message, uid string) {
	c := d.container(uid)
	if c == nil {
		text(w, codes.NotFound, "no container "+uid)
		return
	}
	switch r.Code() {
	case codes.GET:
		info := c.Info()
		encode(w, r, codes.Content, info, func() string { return containersText([]ContainerInfo{info}) }, d.observe(w, r, "/containers/"+uid, uid, authz.Nobody)...)
	case codes.POST, codes.PUT:
		b, _ := r.ReadBody()
		var err error
		switch action := strings.TrimSpace(string(b)); action {
		case "start":
			err = d.Start(uid)
		case "stop":
			err = d.Stop(uid)
		case "restart":
			err = d.Restart(uid)
		default:
			text(w, codes.BadRequest, "payload must be start, stop or restart")
			return
		}
		d.answerCommand(w, err, codes.Changed)
	case codes.DELETE:
		d.answerCommand(w, d.Delete(uid), codes.Deleted)
	default:
		text(w, codes.MethodNotAllowed, "use GET, POST or DELETE")
	}
}

func (d *Device) answerCommand(w mux.ResponseWriter, err error, ok codes.Code) {
	switch {
	case err == nil:
		_ = w.SetResponse(ok, message.TextPlain, nil)
	case errors.Is(err, ErrIllegalCommand):
		text(w, conflict, err.Error())
	case errors.Is(err, ErrUnknownContainer):
		text(w, codes.NotFound, err.Error())
	default:
		text(w, codes.InternalServerError, err.Error())
	}
}

// serveExec runs the femto-container in RAM slot N once with the request
// payload as its context and answers r0 as the RIOT demo does: a decimal
// with two fixed-point digits (fmt_s32_dfp(result, -2)).
func (d *Device) serveExec(w mux.ResponseWriter, r *mux.Message, slot string) {
	i, err := strconv.Atoi(slot)
	if err != nil || i < 0 || i >= len(d.ramSlot) {
		text(w, codes.NotFound, "no RAM slot "+slot)
		return
	}
	if len(d.ramSlot[i]) == 0 {
		text(w, codes.NotFound, fmt.Sprintf(".ram.%d is empty", i))
		return
	}
	ctx, _ := r.ReadBody()
	r0, err := d.ExecRAM(i, ctx)
	if err != nil {
		text(w, codes.InternalServerError, err.Error())
		return
	}
	text(w, codes.Changed, fixedPoint2(int32(r0)))
}

// fixedPoint2 writes v/100 with two decimals, as RIOT's fmt_s32_dfp(v, -2).
func fixedPoint2(v int32) string {
	sign := ""
	n := int64(v)
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// ExecRAM runs the application in RAM slot i once. RAM-slot applications are
// plain femto-containers without TinyContainer metadata: their bytes pick
// the runtime, and the device grants them log, time, sensors, store and
// memcpy, and no endpoints.
func (d *Device) ExecRAM(i int, ctx []byte) (uint64, error) {
	code := d.ramSlot[i]
	typ, _ := codeType(code)
	rt, _, err := d.runtimeFor(typ, code)
	if err != nil {
		return 0, err
	}
	mod, err := rt.Load(code)
	if err != nil {
		return 0, err
	}
	uid := fmt.Sprintf(".ram.%d", i)
	meta := &firewall.Metadata{Container: firewall.Container{UID: uid, Type: typ}}
	meta.Security.Timing = firewall.DefaultTiming
	c := &Container{d: d, UID: uid, State: Running, locals: map[uint32]uint32{}, inbox: map[uint32][][]byte{}, candidate: candidate{
		meta: meta, mod: mod,
		policy: firewall.Policy{Mask: firewall.MaskOf(firewall.CallLog, firewall.CallTime, firewall.CallSensors, firewall.CallStore, firewall.CallMemcpy)},
	}}
	d.fw.Remove(uid)
	if err := d.fw.Install(uid, c.policy); err != nil {
		return 0, err
	}
	defer d.fw.Remove(uid)
	if c.inst, err = mod.Create(nil, &hostCalls{c: c}); err != nil {
		return 0, err
	}
	defer c.finalize()
	c.extra = 0
	res, err := c.inst.Exec(ctx, Budget{Branches: d.cfg.BranchBudget, Instructions: d.cfg.CPU.Budget(msDuration(c.Timing().LoopMaxMS))})
	cost := d.cfg.CPU.Time(res.Counts) + c.extra
	d.charge(d.cfg.Energy.CPUPJ(cost))
	if err != nil {
		d.emit(faultEvent(uid, HookExec, trapOf(err)))
		return 0, err
	}
	return res.R0, nil
}

// TinyContainer's /container/ actions (upstream TinyContainerNetwork.md).
const (
	actionLoad      = 1
	actionStart     = 2
	actionIsRunning = 3
	actionStop      = 4
	actionDelete    = 5
)

func uintOption(r *mux.Message, id message.OptionID) (uint32, bool) {
	b, err := r.Options().GetBytes(id)
	if err != nil || len(b) > 4 {
		return 0, false
	}
	var buf [4]byte
	copy(buf[4-len(b):], b)
	return binary.BigEndian.Uint32(buf[:]), true
}

// serveTinyContainer is upstream's /container/ protocol: the action and the
// container's parts travel in options 65001..65006. Stop and delete, which
// upstream answers 5.01, are implemented.
func (d *Device) serveTinyContainer(w mux.ResponseWriter, r *mux.Message) {
	action, ok := uintOption(r, coapnet.OptAction)
	if !ok {
		text(w, codes.BadOption, "option 65001 (action) is missing")
		return
	}
	want := map[uint32]codes.Code{actionLoad: codes.POST, actionStart: codes.PUT, actionIsRunning: codes.GET, actionStop: codes.PUT, actionDelete: codes.DELETE}
	method, known := want[action]
	if !known {
		text(w, codes.BadOption, fmt.Sprintf("unknown action %d", action))
		return
	}
	if r.Code() != method {
		text(w, codes.MethodNotAllowed, fmt.Sprintf("action %d needs %s", action, method))
		return
	}
	if action == actionLoad {
		meta, e1 := r.Options().GetBytes(coapnet.OptMetadata)
		code, e2 := r.Options().GetBytes(coapnet.OptCode)
		data, _ := r.Options().GetBytes(coapnet.OptData)
		if e1 != nil || e2 != nil || len(code) == 0 {
			text(w, codes.BadOption, "metadata (65002) and code (65004) are required")
			return
		}
		c, err := d.Load(sharedBytes(meta), sharedBytes(code), sharedBytes(data), "coap")
		if err != nil {
			text(w, codes.InternalServerError, err.Error())
			return
		}
		d.assignTenant(c, r)
		_ = w.SetResponse(codes.Created, message.TextPlain, nil)
		return
	}
	uid, err := r.Options().GetBytes(coapnet.OptUID)
	if err != nil {
		text(w, codes.BadOption, "option 65005 (uid) is missing")
		return
	}
	switch action {
	case actionStart:
		d.answerCommand(w, d.Start(string(uid)), codes.Changed)
	case actionStop:
		d.answerCommand(w, d.Stop(string(uid)), codes.Changed)
	case actionDelete:
		d.answerCommand(w, d.Delete(string(uid)), codes.Deleted)
	case actionIsRunning:
		running := uint32(0)
		if c := d.container(string(uid)); c != nil && c.State == Running {
			running = 1
		}
		buf := make([]byte, 4)
		n, _ := message.EncodeUint32(buf, running)
		_ = w.SetResponse(codes.Content, message.TextPlain, nil, message.Option{ID: coapnet.OptStatus, Value: buf[:n]})
	}
}

// serveDeviceID is upstream's /device-id/: read or set the device identifier.
func (d *Device) serveDeviceID(w mux.ResponseWriter, r *mux.Message) {
	switch r.Code() {
	case codes.GET:
		_ = w.SetResponse(codes.Content, message.AppOctets, strings.NewReader(d.deviceID()))
	case codes.POST:
		b, _ := r.ReadBody()
		switch {
		case len(b) == 0:
			text(w, codes.BadRequest, "empty device id")
		case len(b) > maxDeviceID:
			buf := make([]byte, 4)
			n, _ := message.EncodeUint32(buf, maxDeviceID)
			_ = w.SetResponse(codes.RequestEntityTooLarge, message.TextPlain, nil, message.Option{ID: message.Size1, Value: buf[:n]})
		default:
			d.devID = string(b)
			_ = w.SetResponse(codes.Changed, message.TextPlain, nil)
		}
	default:
		text(w, codes.MethodNotAllowed, "use GET or POST")
	}
}

// maxDeviceID is upstream's DEVICE_ID_MAX_SIZE.
const maxDeviceID = 64

func (d *Device) deviceID() string {
	if d.devID != "" {
		return d.devID
	}
	return d.cfg.ID
}
