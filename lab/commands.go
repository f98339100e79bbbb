package lab

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"

	"tinylab/device"
	"tinylab/device/coapnet"
	"tinylab/firewall"
	"tinylab/suit"
)

// requestTimeout bounds one CoAP exchange of the lab with a device (wall
// time; peers are on loopback).
const requestTimeout = 5 * time.Second

// ErrQuiet is returned for a command that needs a device's socket in a lab
// built without sockets.
var ErrQuiet = errors.New("the device has no CoAP socket in this lab (it was built quiet)")

// CoAPError is a device's error answer to a lab command.
type CoAPError struct {
	Device, Path string
	Code         codes.Code
	Text         string
}

func (e *CoAPError) Error() string {
	if e.Text != "" {
		return e.Text
	}
	return fmt.Sprintf("%s %s: %s", e.Device, e.Path, e.Code)
}

// Actor is the lab acting as one party toward its devices: the owner
// unless a scenario or the command line says `as PARTY` (a tenant, or
// anyone: plain CoAP without credentials).
type Actor struct {
	l   *Lab
	who string
}

// As is the lab acting as party who (a party's name, or Anyone).
func (l *Lab) As(who string) Actor { return Actor{l: l, who: who} }

// Party is who the actor acts as.
func (a Actor) Party() string { return a.who }

// CoAP sends one request to a device from the lab's socket and returns its
// response. accept < 0 leaves the Accept option out.
func (l *Lab) CoAP(id string, method codes.Code, path string, body []byte, accept int, opts ...message.Option) (*coapnet.Response, error) {
	return l.As(l.acting()).CoAP(id, method, path, body, accept, opts...)
}

// CoAP sends one request to a device as the actor's party: over its DTLS
// session, or plain CoAP for anyone.
func (a Actor) CoAP(id string, method codes.Code, path string, body []byte, accept int, opts ...message.Option) (*coapnet.Response, error) {
	n, err := a.l.node(id)
	if err != nil {
		return nil, err
	}
	if n.Sock == nil {
		return nil, ErrQuiet
	}
	if err := a.l.reach(n, path); err != nil {
		return nil, err
	}
	rq, err := a.l.requester(n, a.who)
	if err != nil {
		return nil, err
	}
	if n.Host != "" {
		opts = append(opts, message.Option{ID: message.URIHost, Value: []byte(n.Host)})
	}
	if accept >= 0 {
		opts = append(opts, message.Option{ID: message.Accept, Value: encodeUint(uint32(accept))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	p := "/" + strings.TrimPrefix(path, "/")
	resp, err := rq.Request(ctx, p, method, message.TextPlain, body, opts...)
	if err != nil || method != codes.GET {
		return resp, err
	}
	// A body larger than one block comes in the first block; the rest is
	// asked for block by block (RFC 7959 §2.4), so a long answer arrives whole.
	for range maxBlocks {
		v, err := resp.Options.GetUint32(message.Block2)
		if err != nil {
			return resp, nil
		}
		szx, num, more, err := blockwise.DecodeBlockOption(v)
		if err != nil || !more {
			return resp, nil
		}
		bo, err := blockwise.EncodeBlockOption(szx, num+1, false)
		if err != nil {
			return resp, nil
		}
		next, err := rq.Request(ctx, p, method, message.TextPlain, nil,
			append(slices.Clone(opts), message.Option{ID: message.Block2, Value: encodeUint(bo)})...)
		if err != nil {
			return nil, fmt.Errorf("%s %s: block %d: %w", id, path, num+1, err)
		}
		if next.Code != resp.Code {
			return next, nil
		}
		next.Body = append(resp.Body, next.Body...)
		resp = next
	}
	return nil, fmt.Errorf("%s %s: more than %d blocks", id, path, maxBlocks)
}

// maxBlocks bounds a block-wise answer the lab reads (at 1 KiB a block,
// far more than any resource of a device).
const maxBlocks = 256

// LostError is a request of the lab that the device's modelled radio link
// lost, every transmission of it.
type LostError struct {
	Device, Path string
	Loss         float64
	Attempts     int
}

func (e *LostError) Error() string {
	return fmt.Sprintf("%s %s: no answer: the link loses %s of its exchanges and all %d transmissions were lost (drop %s 0 restores it)",
		e.Device, e.Path, Percent(e.Loss), e.Attempts, e.Device)
}

// reach models the way to a device before a request of the lab goes out on
// the real socket: a board without power answers nobody, and the link the
// device's fetches lose packets on loses the lab's requests as well, with
// CoAP's retransmissions (RFC 7252 §4.2: one transmission and up to
// MAX_RETRANSMIT = 4 more). The draws come from the lab's seeded source and
// only when a loss is set, so runs without one are unchanged.
func (l *Lab) reach(n *Node, path string) error {
	var on bool
	var loss float64
	l.world.Do(func() { on, loss = n.Dev.Powered(), n.Dev.Link().Loss })
	if !on {
		return fmt.Errorf("%s %s: no answer: %w (power-on %s)", n.Spec.ID, path, device.ErrPoweredOff, n.Spec.ID)
	}
	if loss <= 0 {
		return nil
	}
	const attempts = 5
	l.mu.Lock()
	defer l.mu.Unlock()
	for range attempts {
		if l.rng.Float64() >= loss {
			return nil
		}
	}
	return &LostError{Device: n.Spec.ID, Path: path, Loss: loss, Attempts: attempts}
}

func encodeUint(v uint32) []byte {
	b := make([]byte, 4)
	n, _ := message.EncodeUint32(b, v)
	return b[:n]
}

// Refused reports whether err is a device's refusal for the party
// (4.01 or 4.03).
func Refused(err error) bool {
	var ce *CoAPError
	return errors.As(err, &ce) && (ce.Code == codes.Unauthorized || ce.Code == codes.Forbidden)
}

// command sends a management request and turns an error answer into an error.
func (a Actor) command(id string, method codes.Code, path string, body []byte, ok codes.Code, opts ...message.Option) error {
	resp, err := a.CoAP(id, method, path, body, -1, opts...)
	if err != nil {
		return err
	}
	if resp.Code != ok {
		return &CoAPError{Device: id, Path: path, Code: resp.Code, Text: string(resp.Body)}
	}
	return nil
}

func (l *Lab) command(id string, method codes.Code, path string, body []byte, ok codes.Code, opts ...message.Option) error {
	return l.As(l.acting()).command(id, method, path, body, ok, opts...)
}

// Start starts a container (POST /containers/{uid} "start") as the owner.
func (l *Lab) Start(id, uid string) error { return l.As(l.acting()).Start(id, uid) }

// Stop stops a container as the owner.
func (l *Lab) Stop(id, uid string) error { return l.As(l.acting()).Stop(id, uid) }

// Restart restarts a FAILED container as the owner.
func (l *Lab) Restart(id, uid string) error { return l.As(l.acting()).Restart(id, uid) }

// Delete deletes a container as the owner.
func (l *Lab) Delete(id, uid string) error { return l.As(l.acting()).Delete(id, uid) }

// Start starts a container (POST /containers/{uid} "start").
func (a Actor) Start(id, uid string) error {
	return a.command(id, codes.POST, "/containers/"+uid, []byte("start"), codes.Changed)
}

// Stop stops a container.
func (a Actor) Stop(id, uid string) error {
	return a.command(id, codes.POST, "/containers/"+uid, []byte("stop"), codes.Changed)
}

// Restart restarts a FAILED container.
func (a Actor) Restart(id, uid string) error {
	return a.command(id, codes.POST, "/containers/"+uid, []byte("restart"), codes.Changed)
}

// Delete deletes a container.
func (a Actor) Delete(id, uid string) error {
	return a.command(id, codes.DELETE, "/containers/"+uid, nil, codes.Deleted)
}

// Load provisions a defined container on a device as the owner.
func (l *Lab) Load(id, name string) error { return l.As(l.acting()).Load(id, name) }

// Load provisions a defined container on a device with TinyContainer's own
// protocol: one POST to /container/ with the metadata, code and data in
// options 65002-65004, as upstream's tooling sends them, and the tenant it
// is for in tinylab's option 65007. Like upstream it fits one datagram;
// larger containers travel by update.
func (a Actor) Load(id, name string) error {
	l := a.l
	def, err := l.Def(name)
	if err != nil {
		return err
	}
	meta, err := l.metadata(def)
	if err != nil {
		return err
	}
	if size := len(meta) + len(def.Code) + len(def.Data); size > coapnet.MaxDatagram-100 {
		return fmt.Errorf("%s is %d bytes: too big for one /container/ datagram; use update", name, size)
	}
	opts := []message.Option{
		{ID: coapnet.OptAction, Value: []byte{1}},
		{ID: coapnet.OptMetadata, Value: meta},
		{ID: coapnet.OptCode, Value: def.Code},
		{ID: coapnet.OptData, Value: def.Data},
	}
	if p, ok := l.Party(def.Tenant); ok && p.Role == Tenant {
		opts = append(opts, message.Option{ID: coapnet.OptTenant, Value: []byte(def.Tenant)})
	}
	return a.command(id, codes.POST, "/container/", nil, codes.Created, opts...)
}

// UpdateOptions choose what an update sends.
type UpdateOptions struct {
	Seq    uint64      // 0: one above the highest published
	Format suit.Format // draft-09 (RIOT's) unless told
	Attack Attack      // applied on top of an armed one
}

// Update publishes a container's update and triggers it as the owner.
func (l *Lab) Update(id, name string, o UpdateOptions) (*Release, error) {
	return l.As(l.acting()).Update(id, name, o)
}

// Update publishes a container's update for the device's board (or reuses
// the published one with that sequence number: a replay) and triggers the
// device over CoAP (POST /suit/trigger with the manifest URI), as RIOT's
// suit_coap does. The device updates in the background.
//
// An armed attack (tamper next) is spent only by an update the device
// accepted to fetch: a refused command (an unknown container, a device
// that does not answer) leaves it armed for the next one.
func (a Actor) Update(id, name string, o UpdateOptions) (*Release, error) {
	l := a.l
	n, err := l.node(id)
	if err != nil {
		return nil, err
	}
	def, err := l.Def(name)
	if err != nil {
		return nil, err
	}
	armed := l.Armed()
	spends := o.Attack == NoAttack && armed != NoAttack
	if spends {
		o.Attack = armed
	}
	board := n.Spec.Board
	if board == "" {
		board = device.DefaultBoard
	}
	if o.Seq == 0 {
		// The same definition goes to another device as the same release
		// while the device would take it; a new definition (a new version)
		// takes the next sequence number.
		if rel := l.latest(def.Name, board); rel != nil && o.Attack == NoAttack && rel.Seq > l.highest(n, def.UID) {
			o.Seq = rel.Seq
		} else {
			o.Seq = l.nextSeq(def.UID, n.Spec.SeqPerContainer)
		}
	}
	// A clean release of this uid and sequence number already published is
	// sent again as it was: a replay.
	rel := l.release(def.UID, board, o.Seq)
	if rel == nil || o.Attack != NoAttack || rel.Format != o.Format {
		if rel, err = l.Publish(name, board, o.Seq, o.Format, o.Attack); err != nil {
			return nil, err
		}
	}
	if err := a.command(id, codes.POST, "/suit/trigger", []byte(rel.URI), codes.Created); err != nil {
		return rel, err
	}
	if spends {
		l.mu.Lock()
		if l.armed == armed {
			l.armed = NoAttack
		}
		l.mu.Unlock()
	}
	return rel, nil
}

// Arm makes the next update published carry an attack (tamper next).
func (l *Lab) Arm(a Attack) {
	l.mu.Lock()
	l.armed = a
	l.mu.Unlock()
	l.Note("tamper: the next update will be sent with " + a.String())
}

// Armed is the attack the next update will carry (NoAttack: none).
func (l *Lab) Armed() Attack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.armed
}

// inWorld runs fn on a device in the world.
func (l *Lab) inWorld(id string, fn func(d *device.Device) error) error {
	n, err := l.node(id)
	if err != nil {
		return err
	}
	l.world.Do(func() { err = fn(n.Dev) })
	return err
}

// ErrBadValue is returned for a value a command cannot take: not a
// number, infinite, or outside the range it was declared with.
var ErrBadValue = errors.New("bad value")

// SetSensor gives a sensor a value (a scripted step, or a tester). The value
// must be a finite number, within the sensor's declared min and max when it
// has them: a real sensor cannot read NaN or beyond its range.
func (l *Lab) SetSensor(id, sensor string, v float64) error {
	n, err := l.node(id)
	if err != nil {
		return err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%w: %s on %s cannot read %v: give a finite number", ErrBadValue, sensor, id, v)
	}
	for _, p := range n.Spec.Peers {
		if p.Name == sensor && p.Min < p.Max && (v < p.Min || v > p.Max) {
			return fmt.Errorf("%w: %s on %s reads %g to %g (declared min and max); %g is outside", ErrBadValue, sensor, id, p.Min, p.Max, v)
		}
	}
	return l.inWorld(id, func(d *device.Device) error { return d.SetSensor(sensor, v) })
}

// PowerCut cuts a device's power.
func (l *Lab) PowerCut(id string) error {
	return l.inWorld(id, func(d *device.Device) error { return d.PowerCut("power cut by the lab") })
}

// PowerOn boots a device that is off.
func (l *Lab) PowerOn(id string) error {
	return l.inWorld(id, func(d *device.Device) error {
		if d.Boots() == 0 {
			return d.PowerOn("power on")
		}
		return d.PowerOn("power restored")
	})
}

// Drop makes a device's radio link lose a fraction (0 to 1) of its
// exchanges: the device's own fetches and the lab's requests to it.
func (l *Lab) Drop(id string, loss float64) error {
	if math.IsNaN(loss) || loss < 0 || loss > 1 {
		return fmt.Errorf("%w: loss %v: between 0 and 1 (0%% to 100%%)", ErrBadValue, loss)
	}
	return l.inWorld(id, func(d *device.Device) error {
		lk := d.Link()
		lk.Loss = loss
		d.SetLink(lk)
		l.note(fmt.Sprintf("link of %s now loses %s of its exchanges", id, Percent(loss)))
		return nil
	})
}

// Percent writes a fraction as the percentage the command line takes.
func Percent(f float64) string { return strconv.FormatFloat(f*100, 'g', 4, 64) + "%" }

// ParsePercent reads a share as the command line writes it: a percentage,
// with or without its sign ("30%" and "30" are both 30 %, "0.5" is half a
// percent), from 0 to 100. It returns the fraction.
func ParsePercent(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
		return 0, fmt.Errorf("%w: %q is not a percentage from 0 to 100 (write 30 or 30%%)", ErrBadValue, s)
	}
	return p / 100, nil
}

// Grant changes what a container may call, as its owner re-issuing its
// tokens: the container's definition changes and a new version is sent to
// the device by update. revoke removes the call instead of adding it.
func (l *Lab) Grant(id, name string, call firewall.Call, revoke bool) (*Release, error) {
	cur, err := l.Def(name)
	if err != nil {
		return nil, err
	}
	// The new version comes after every one published, counted before the
	// stale releases of this definition are forgotten.
	n, err := l.node(id)
	if err != nil {
		return nil, err
	}
	seq := l.nextSeq(cur.UID, n.Spec.SeqPerContainer)
	l.mu.Lock()
	def := l.defs[name]
	delete(l.metas, name)
	l.releases = slices.DeleteFunc(l.releases, func(r *Release) bool { return r.Def == name })
	if revoke {
		def.Grants &^= firewall.MaskOf(call)
	} else {
		def.Grants |= firewall.MaskOf(call)
	}
	l.mu.Unlock()
	verb := "grants"
	if revoke {
		verb = "revokes"
	}
	l.Note(fmt.Sprintf("the owner %s %s to %s", verb, call, name))
	return l.Update(id, name, UpdateOptions{Seq: seq})
}
