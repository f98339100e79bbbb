package device

import (
	"errors"
	"fmt"
	"strings"

	"tinylab/firewall"
)

// CommandError says why a command was refused; nothing changed.
type CommandError struct {
	Device, Container string
	Command           Command
	State             State // the container's state when refused (Empty if unknown)
	Err               error
}

func (e *CommandError) Error() string {
	if errors.Is(e.Err, ErrUnknownContainer) {
		return fmt.Sprintf("%s: cannot %s %s: no such container", e.Device, e.Command, e.Container)
	}
	if errors.Is(e.Err, ErrIllegalCommand) {
		var need []string
		for _, s := range allowedFrom[e.Command] {
			need = append(need, s.String())
		}
		return fmt.Sprintf("%s: cannot %s %s: it is %s (%s needs %s)", e.Device, e.Command, e.Container, e.State, e.Command, strings.Join(need, " or "))
	}
	return fmt.Sprintf("%s: cannot %s %s: %v", e.Device, e.Command, e.Container, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }

// RejectError says why a container (or a new version of one) was refused at
// provisioning. What was installed before is untouched.
type RejectError struct {
	Container string
	Part      string // metadata, tokens, code, size, slot
	Err       error
}

func (e *RejectError) Error() string {
	uid := e.Container
	if uid == "" {
		uid = "container"
	}
	return fmt.Sprintf("%s rejected: %s: %v", uid, e.Part, e.Err)
}

func (e *RejectError) Unwrap() []error { return []error{ErrRejected, e.Err} }

// candidate is a container checked and ready to take a slot.
type candidate struct {
	meta       *firewall.Metadata
	metaRaw    []byte
	code, data []byte
	report     firewall.Report
	policy     firewall.Policy
	mod        Module // the code as its runtime checked it
	notes      []string
}

// validate runs every provisioning check on a container's three parts
// without touching the device: metadata, the owner's tokens, the runtime the
// container type names (the code must be its code, the device must have it)
// and the code (the runtime's loader and verifier), and the size of a slot.
func (d *Device) validate(metaRaw, code, data []byte) (*candidate, error) {
	md, err := decodeMetadata(metaRaw)
	if err != nil {
		return nil, &RejectError{Part: "metadata", Err: err}
	}
	uid := md.Container.UID
	c := &candidate{meta: md, metaRaw: metaRaw, code: code, data: data}
	if len(code)+len(data) > d.cfg.Board.SlotBytes {
		return nil, &RejectError{Container: uid, Part: "size", Err: fmt.Errorf("%w: code %d + data %d = %d bytes, a %s slot holds %d",
			ErrTooBig, len(code), len(data), len(code)+len(data), d.cfg.Board.Name, d.cfg.Board.SlotBytes)}
	}
	c.report, err = d.verifyTokens(md, code, data)
	if err != nil {
		return nil, &RejectError{Container: uid, Part: "tokens", Err: err}
	}
	if c.report.UpstreamRaw() {
		c.notes = append(c.notes, "tokens accepted with upstream's raw-payload signing")
	}
	c.policy = firewall.Policy{Mask: c.report.Mask, Endpoints: md.Endpoints}
	if !c.report.Token(firewall.TokenMask).OK() {
		c.notes = append(c.notes, "syscall mask token failed: every call will be denied")
	}
	rt, part, err := d.runtimeFor(md.Container.Type, code)
	if err != nil {
		return nil, &RejectError{Container: uid, Part: part, Err: err}
	}
	if c.mod, err = rt.Load(code); err != nil {
		return nil, &RejectError{Container: uid, Part: "code", Err: err}
	}
	return c, nil
}

// verifyTokens checks the four tokens against each owner key. A failed
// syscall-mask token alone still loads, with mask 0, as upstream does; a
// failed code, data or metadata token refuses the container.
func (d *Device) verifyTokens(md *firewall.Metadata, code, data []byte) (firewall.Report, error) {
	if len(d.cfg.Owners) == 0 {
		return firewall.Report{}, errors.New("the device has no owner key to check tokens with")
	}
	mode := firewall.SigningCOSE
	if d.cfg.UpstreamSigning {
		mode = firewall.SigningUpstreamRaw
	}
	var first firewall.Report
	for i, owner := range d.cfg.Owners {
		rep := firewall.VerifyMetadata(md, firewall.VerifyOptions{Owner: owner, Mode: mode, Code: code, Data: data})
		if rep.Err() == nil {
			return rep, nil
		}
		if i == 0 {
			first = rep
		}
	}
	var errs []error
	for _, k := range []firewall.TokenKind{firewall.TokenData, firewall.TokenCode, firewall.TokenMetadata} {
		if err := first.Token(k).Err; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return first, errors.Join(errs...)
	}
	first.Mask = 0
	return first, nil
}

// Load provisions a new container from its three parts (TinyContainer's
// loadcontainer): EMPTY -> PROVISIONING -> READY, or back to EMPTY with the
// reason. A container whose uid is installed already is an update.
func (d *Device) Load(metaRaw, code, data []byte, origin string) (*Container, error) {
	if !d.on {
		return nil, ErrPoweredOff
	}
	return d.install(metaRaw, code, data, origin, 0, false)
}

// install puts a container (or a new version of one) into a slot.
func (d *Device) install(metaRaw, code, data []byte, origin string, seq uint64, autostart bool) (*Container, error) {
	cand, err := d.validate(metaRaw, code, data)
	uid := ""
	if cand != nil {
		uid = cand.meta.Container.UID
	} else if re := (*RejectError)(nil); errors.As(err, &re) {
		uid = re.Container
	}
	if old := d.container(uid); old != nil && uid != "" {
		return d.replace(old, cand, err, origin, seq, autostart)
	}
	slot := d.freeSlot()
	if err == nil && slot < 0 {
		err = &RejectError{Container: uid, Part: "slot", Err: fmt.Errorf("%w: all %d slots of %s are in use", ErrNoSlot, len(d.slots), d.cfg.Board.Name)}
	}
	if err == nil {
		err = d.checkBudgets(cand, nil)
	}
	name := uid
	if name == "" {
		name = "?"
	}
	d.emit(StateChange{Container: name, From: Empty, To: Provisioning, Reason: "load via " + origin})
	if err != nil {
		d.emit(StateChange{Container: name, From: Provisioning, To: Empty, Reason: err.Error()})
		return nil, err
	}
	c := &Container{d: d, Slot: slot, UID: uid, State: Provisioning, origin: origin, seq: seq, autostart: autostart}
	inst, err := instantiate(c, cand)
	if err != nil {
		d.emit(StateChange{Container: uid, From: Provisioning, To: Empty, Reason: err.Error()})
		return nil, err
	}
	d.slots[slot] = c
	d.adopt(c, cand, inst)
	if err := d.fw.Install(uid, c.policy); err != nil {
		c.finalize()
		d.slots[slot] = nil
		d.emit(StateChange{Container: uid, From: Provisioning, To: Empty, Reason: err.Error()})
		return nil, &RejectError{Container: uid, Part: "firewall", Err: err}
	}
	c.transition(Ready, provisionedReason(cand))
	d.persist(c)
	if autostart {
		d.startInstalled(uid)
	}
	return c, nil
}

func provisionedReason(c *candidate) string {
	r := fmt.Sprintf("verified: tokens OK, %s, mask %s", c.mod.Summary(), c.policy.Mask)
	for _, n := range c.notes {
		r += "; " + n
	}
	return r
}

// instantiate is runtime_create: the instance a candidate runs as in c.
func instantiate(c *Container, cand *candidate) (Instance, error) {
	inst, err := cand.mod.Create(cand.data, &hostCalls{c: c})
	if err != nil {
		return nil, &RejectError{Container: cand.meta.Container.UID, Part: "runtime", Err: err}
	}
	return inst, nil
}

// adopt moves a checked candidate and its instance into a container,
// finalizing the instance it replaces.
func (d *Device) adopt(c *Container, cand *candidate, inst Instance) {
	c.finalize()
	c.candidate = *cand
	c.inst = inst
	c.limits = d.cfg.Limits[c.UID]
	c.locals = map[uint32]uint32{}
	c.inbox = map[uint32][][]byte{}
}

// finalize is runtime_on_finalize for the container's instance, if any. An
// instance is never finalized under its own running hook (a helper can
// empty the battery, which powers the device off): run does it after.
func (c *Container) finalize() {
	if c.inst == nil {
		return
	}
	if c.inHook {
		c.retired, c.inst = c.inst, nil
		return
	}
	c.inst.Finalize()
	c.inst = nil
}

// replace installs a new version of a container that is installed already.
// A rejected version changes nothing: the old one keeps its state.
func (d *Device) replace(old *Container, cand *candidate, verr error, origin string, seq uint64, autostart bool) (*Container, error) {
	if verr == nil {
		verr = d.checkBudgets(cand, old)
	}
	var inst Instance
	if verr == nil {
		inst, verr = instantiate(old, cand)
	}
	if verr != nil {
		d.emit(Update{Container: old.UID, Status: "rejected, " + old.State.String() + " version kept", Detail: verr.Error()})
		return old, verr
	}
	// RUNNING -> STOPPING -> PROVISIONING; a failed stop() hook leaves it
	// FAILED, and the new version still replaces it.
	wasRunning := old.State == Running
	if wasRunning {
		old.halt("update to a new version")
	}
	old.stopTimers()
	old.transition(Provisioning, "update via "+origin)
	old.origin, old.seq = origin, seq
	old.autostart = old.autostart || autostart
	d.adopt(old, cand, inst)
	d.fw.Remove(old.UID)
	if err := d.fw.Install(old.UID, old.policy); err != nil {
		old.transition(Failed, err.Error())
		return old, err
	}
	old.loops, old.missed, old.hbSeen = 0, 0, false
	old.transition(Ready, provisionedReason(cand))
	d.persist(old)
	if wasRunning || autostart {
		d.startInstalled(old.UID)
	}
	return old, nil
}

// checkBudgets refuses a container the board's flash or RAM cannot hold,
// counting what is installed (minus the version it replaces).
func (d *Device) checkBudgets(c *candidate, replacing *Container) error {
	u := d.Usage()
	flash := u.FlashUsed + len(c.code) + len(c.data) + len(c.metaRaw)
	ram := u.RAMUsed + c.mod.RAM(c.data) + containerOverhead
	if replacing != nil {
		flash -= replacing.Size() + len(replacing.metaRaw)
		ram -= replacing.ramBytes()
	}
	uid := c.meta.Container.UID
	if flash > u.FlashTotal {
		return &RejectError{Container: uid, Part: "flash", Err: fmt.Errorf("%w: flash would hold %d of %d bytes", ErrTooBig, flash, u.FlashTotal)}
	}
	if ram > u.RAMTotal {
		return &RejectError{Container: uid, Part: "ram", Err: fmt.Errorf("%w: RAM would hold %d of %d bytes", ErrTooBig, ram, u.RAMTotal)}
	}
	return nil
}

// Usage is the board's memory use against its budget.
type Usage struct {
	FlashUsed, FlashTotal int
	RAMUsed, RAMTotal     int
	SlotsUsed, Slots      int
}

// Usage reports flash and RAM use: the firmware's share plus every container
// and RIOT's two RAM slots.
func (d *Device) Usage() Usage {
	b := d.cfg.Board
	u := Usage{
		FlashUsed: b.FirmwareFlashKiB << 10, FlashTotal: b.FlashKiB << 10,
		RAMUsed: b.FirmwareRAMKiB<<10 + 2*b.RAMSlotBytes, RAMTotal: b.RAMKiB << 10,
		Slots: len(d.slots),
	}
	for _, c := range d.slots {
		if c != nil {
			u.SlotsUsed++
			u.FlashUsed += c.Size() + len(c.metaRaw)
			u.RAMUsed += c.ramBytes()
		}
	}
	return u
}

func (d *Device) freeSlot() int {
	for i, c := range d.slots {
		if c == nil {
			return i
		}
	}
	return -1
}

func (d *Device) container(uid string) *Container {
	for _, c := range d.slots {
		if c != nil && c.UID == uid {
			return c
		}
	}
	return nil
}

// Container returns the installed container with that uid.
func (d *Device) Container(uid string) (*Container, bool) {
	c := d.container(uid)
	return c, c != nil
}

// Containers lists the installed containers in slot order.
func (d *Device) Containers() []*Container {
	var out []*Container
	for _, c := range d.slots {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func (d *Device) command(cmd Command, uid string) (*Container, error) {
	if !d.on {
		return nil, &CommandError{Device: d.cfg.ID, Container: uid, Command: cmd, Err: ErrPoweredOff}
	}
	c := d.container(uid)
	if c == nil {
		return nil, &CommandError{Device: d.cfg.ID, Container: uid, Command: cmd, Err: ErrUnknownContainer}
	}
	if !cmd.Allowed(c.State) {
		return nil, &CommandError{Device: d.cfg.ID, Container: uid, Command: cmd, State: c.State, Err: ErrIllegalCommand}
	}
	return c, nil
}

// Start runs a READY container (TinyContainer's startcontainer).
func (d *Device) Start(uid string) error {
	c, err := d.command(CmdStart, uid)
	if err != nil {
		return err
	}
	c.start("start")
	return nil
}

// Stop stops a RUNNING container: its stop() hook runs, then it is READY.
func (d *Device) Stop(uid string) error {
	c, err := d.command(CmdStop, uid)
	if err != nil {
		return err
	}
	c.autostart = false
	c.stop("stop requested")
	d.persist(c)
	return nil
}

// Restart makes a FAILED container READY and starts it again.
func (d *Device) Restart(uid string) error {
	c, err := d.command(CmdRestart, uid)
	if err != nil {
		return err
	}
	c.stopTimers()
	c.transition(Ready, "restart requested")
	c.start("start after restart")
	return nil
}

// Delete removes a READY or FAILED container and frees its slot.
func (d *Device) Delete(uid string) error {
	c, err := d.command(CmdDelete, uid)
	if err != nil {
		return err
	}
	c.stopTimers()
	c.transition(Deleting, "delete requested")
	d.fw.Remove(uid)
	c.finalize()
	d.slots[c.Slot] = nil
	d.unpersist(c)
	c.transition(Empty, "slot "+fmt.Sprint(c.Slot)+" freed")
	return nil
}
