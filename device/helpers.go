package device

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"tinylab/firewall"
)

// refused is what a denied or failed call returns to the container: -1, as
// TinyContainer's service calls and RIOT's helpers return an error.
const refused = ^uint64(0)

// Limits on what one helper call may move, as a real agent's buffers would.
const (
	maxCopy       = 4096 // memcpy
	maxIO         = 256  // one read or write of an endpoint
	maxInbox      = 8    // messages queued on a container endpoint
	maxFormat     = 128  // printf's format string and each %s argument
	radioOverhead = 21   // 802.15.4 + 6LoWPAN + UDP header bytes per datagram
)

// Modelled time of the work a helper does beyond the call itself.
const (
	uartPerChar   = 87 * time.Microsecond // printf to a 115200-baud console
	sensorRead    = 100 * time.Microsecond
	serviceCall   = 20 * time.Microsecond // TinyContainer's service thread round trip
	actuatorWrite = 50 * time.Microsecond
)

// hostCalls is a container's Natives, the same for every runtime: every call
// goes through the firewall first, and every pointer is checked against the
// container's own memory.
type hostCalls struct{ c *Container }

func (h *hostCalls) Call(id uint32, args *[5]uint64, mem Memory) (uint64, error) {
	c := h.c
	hp, ok := firewall.HelperByID(id)
	if !ok {
		return 0, fmt.Errorf("helper %#x is not provided by this device", id)
	}
	req := firewall.Request{Container: c.UID, Call: hp.Call, Args: *args}
	switch hp.Call {
	case firewall.CallOpen:
		req.Endpoint = uint32(args[0])
		c.extra += serviceCall
		if fd, dec := c.d.fw.Open(req); dec.Allowed {
			return uint64(int64(fd)), nil
		}
		return refused, nil
	case firewall.CallClose:
		req.FD = int32(args[0])
		c.extra += serviceCall
		if dec := c.d.fw.Close(req); dec.Allowed {
			return 0, nil
		}
		return refused, nil
	case firewall.CallRead:
		return c.read(req, args, mem), nil
	case firewall.CallWrite:
		return c.write(req, args, mem), nil
	}
	if dec := c.d.fw.Check(req); !dec.Allowed {
		return refused, nil
	}
	switch id {
	case 0x01:
		return c.printf(req, args, mem), nil
	case 0x02:
		n := int(min(args[2], maxCopy))
		src, err := mem.Read(args[1], n)
		if err == nil {
			var dst []byte
			if dst, err = mem.Write(args[0], n); err == nil {
				copy(dst, src)
				return args[0], nil
			}
		}
		c.d.fw.Deny(req, firewall.ReasonBadPointer, err.Error())
		return refused, nil
	case 0x10:
		c.locals[uint32(args[0])] = uint32(args[1])
		return 0, nil
	case 0x11:
		c.d.globals[uint32(args[0])] = uint32(args[1])
		return 0, nil
	case 0x12, 0x13:
		store := c.locals
		if id == 0x13 {
			store = c.d.globals
		}
		b, err := mem.Write(args[1], 4)
		if err != nil {
			c.d.fw.Deny(req, firewall.ReasonBadPointer, err.Error())
			return refused, nil
		}
		binary.LittleEndian.PutUint32(b, store[uint32(args[0])])
		return 0, nil
	case 0x20:
		return uint64(c.d.env.Now() / time.Millisecond), nil
	case 0x60:
		return uint64(uint32(c.d.env.Now() / time.Microsecond)), nil
	case 0x61:
		b, err := mem.Write(args[0], 4)
		if err != nil {
			c.d.fw.Deny(req, firewall.ReasonBadPointer, err.Error())
			return refused, nil
		}
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)+uint32(args[1]))
		return 0, nil
	case 0x30:
		if n := int(args[0]); n >= 0 && n < len(c.d.peers) {
			return saulHandle(n), nil
		}
		return 0, nil
	case 0x31:
		for i, p := range c.d.peers {
			if uint64(p.Spec.Class.SAULType()) == args[0] {
				return saulHandle(i), nil
			}
		}
		return 0, nil
	case 0x32:
		return c.saulRead(req, args, mem), nil
	case 0x71:
		c.extra += serviceCall
		c.heartbeat()
		return 0, nil
	}
	return 0, fmt.Errorf("helper %s (%#x) has no implementation", hp.Name, id)
}

// SAUL handles are opaque to the container; RIOT hands out pointers.
const saulBase = 0x5a00_0000

func saulHandle(i int) uint64 { return saulBase + uint64(i) }

// saulRead writes a phydat_t (int16 val[3], uint8 unit, int8 scale) for the
// sensor behind a SAUL handle and returns its dimension count, as
// saul_reg_read does.
func (c *Container) saulRead(req firewall.Request, args *[5]uint64, mem Memory) uint64 {
	i := int(args[0]) - saulBase
	if i < 0 || i >= len(c.d.peers) {
		return refused
	}
	p := c.d.peers[i]
	b, err := mem.Write(args[1], 8)
	if err != nil {
		c.d.fw.Deny(req, firewall.ReasonBadPointer, err.Error())
		return refused
	}
	c.extra += sensorRead
	v, scale := float64(p.Fixed(c.d.env.Now())), -p.Spec.Class.Scale()
	for math.Abs(v) > math.MaxInt16 {
		v, scale = math.Round(v/10), scale+1
	}
	clear(b)
	binary.LittleEndian.PutUint16(b, uint16(int16(v)))
	b[6] = 1 // UNIT_NONE
	if p.Spec.Class == ClassTemperature {
		b[6] = 2 // UNIT_TEMP_C
	}
	b[7] = byte(int8(scale))
	return 1
}

// transfer is the common part of read and write (fd, buf, size): the
// buffer checked against the container's memory (for writing into it when
// reading, for reading from it when writing) and the firewall's decision on
// the endpoint behind the fd, both in one decision.
func (c *Container) transfer(req firewall.Request, args *[5]uint64, mem Memory, into bool) (firewall.Endpoint, []byte, bool) {
	req.FD = int32(args[0])
	n := int(min(args[2], maxIO))
	access := mem.Read
	if into {
		access = mem.Write
	}
	buf, err := access(args[1], n)
	if err != nil {
		req.Fault = err
	}
	c.extra += serviceCall
	ep, dec := c.d.fw.Resolve(req)
	return ep, buf, dec.Allowed
}

// read is TinyContainer's read(fd, buf, size): what the endpoint's peer
// offers, into the container's buffer.
func (c *Container) read(req firewall.Request, args *[5]uint64, mem Memory) uint64 {
	ep, buf, ok := c.transfer(req, args, mem, true)
	if !ok {
		return refused
	}
	switch ep.Peer {
	case firewall.PeerLocal:
		p, ok := c.d.peerByID(ep.PeerEndpoint)
		if !ok || p.Spec.Class.IsActuator() {
			return 0
		}
		c.extra += sensorRead
		var v [4]byte
		binary.LittleEndian.PutUint32(v[:], uint32(p.Fixed(c.d.env.Now())))
		return uint64(copy(buf, v[:]))
	case firewall.PeerContainer:
		q := c.inbox[ep.ID]
		if len(q) == 0 {
			return 0
		}
		c.inbox[ep.ID] = q[1:]
		return uint64(copy(buf, q[0]))
	case firewall.PeerRemote:
		return c.readRemote(ep.PeerEndpoint, buf)
	}
	return 0
}

// write is TinyContainer's write(fd, buf, size): the container's bytes to
// the endpoint's peer.
func (c *Container) write(req firewall.Request, args *[5]uint64, mem Memory) uint64 {
	ep, data, ok := c.transfer(req, args, mem, false)
	if !ok {
		return refused
	}
	switch ep.Peer {
	case firewall.PeerLocal:
		p, ok := c.d.peerByID(ep.PeerEndpoint)
		if !ok || !p.Spec.Class.IsActuator() {
			return 0
		}
		c.extra += actuatorWrite
		p.Text = actuatorText(p.Spec.Class, data)
		c.d.emit(Actuator{Container: c.UID, Peer: p.Spec.Name, Text: p.Text})
	case firewall.PeerContainer:
		peer := c.d.container(ep.PeerUID)
		if peer == nil {
			return refused
		}
		q := peer.inbox[ep.PeerEndpoint]
		if len(q) >= maxInbox {
			q = q[1:]
		}
		peer.inbox[ep.PeerEndpoint] = append(q, append([]byte(nil), data...))
		c.d.emit(Actuator{Container: c.UID, Peer: fmt.Sprintf("%s endpoint %d", ep.PeerUID, ep.PeerEndpoint), Text: fmt.Sprintf("%d bytes", len(data))})
	case firewall.PeerRemote:
		air := c.d.cfg.Energy.Airtime(len(data) + radioOverhead)
		c.extra += air
		pj := c.d.cfg.Energy.RadioPJ(len(data) + radioOverhead)
		c.energyPJ += pj
		c.d.charge(pj)
		c.d.emit(Actuator{Container: c.UID, Peer: fmt.Sprintf("remote %d", ep.PeerEndpoint), Text: c.sendRemote(ep.PeerEndpoint, data)})
	}
	return uint64(len(data))
}

// actuatorText is what an actuator shows for the bytes written to it.
func actuatorText(class Class, b []byte) string {
	switch class {
	case ClassLock:
		if len(b) > 0 && b[0] != 0 {
			return "locked"
		}
		return "unlocked"
	case ClassLED:
		if len(b) > 0 && b[0] != 0 {
			return "on"
		}
		return "off"
	}
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strings.ToValidUTF8(strings.TrimRight(s, "\r\n"), "?")
}

// printf formats like RIOT's bpf_printf: %d %i %u %x %X %c %s %p and %%,
// with flags and widths; arguments come from r2..r5.
func (c *Container) printf(req firewall.Request, args *[5]uint64, mem Memory) uint64 {
	format, err := mem.ReadString(args[0], maxFormat)
	if err != nil {
		c.d.fw.Deny(req, firewall.ReasonBadPointer, err.Error())
		return refused
	}
	var b strings.Builder
	next := 1
	arg := func() uint64 {
		if next >= len(args) {
			return 0
		}
		next++
		return args[next-1]
	}
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0123456789.lhz", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			b.WriteString(format[i:])
			break
		}
		spec := format[i:j] // flags and width, without the verb
		spec = strings.Map(func(r rune) rune {
			if r == 'l' || r == 'h' || r == 'z' {
				return -1
			}
			return r
		}, spec)
		switch verb := format[j]; verb {
		case 'd', 'i':
			fmt.Fprintf(&b, spec+"d", int32(arg()))
		case 'u':
			fmt.Fprintf(&b, spec+"d", uint32(arg()))
		case 'x', 'X':
			fmt.Fprintf(&b, spec+string(verb), uint32(arg()))
		case 'p':
			b.WriteString("0x" + strconv.FormatUint(arg(), 16))
		case 'c':
			b.WriteByte(byte(arg()))
		case 's':
			s, err := mem.ReadString(arg(), maxFormat)
			if err != nil {
				c.d.fw.Deny(req, firewall.ReasonBadPointer, "%s argument: "+err.Error())
				return refused
			}
			fmt.Fprintf(&b, spec+"s", s)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteString(format[i : j+1])
		}
		i = j
	}
	out := strings.TrimRight(b.String(), "\n")
	c.extra += time.Duration(b.Len()) * uartPerChar
	c.d.emit(Log{Container: c.UID, Text: strings.ToValidUTF8(out, "?")})
	return uint64(b.Len())
}
