package device

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// flashInfo is what flash keeps of a container besides its three parts.
type flashInfo struct {
	UID       string `json:"uid"`
	Seq       uint64 `json:"seq"`
	Origin    string `json:"origin"`
	Autostart bool   `json:"autostart"`
	Tenant    string `json:"tenant,omitempty"`
}

func slotKey(slot int, part string) string { return "slot/" + strconv.Itoa(slot) + "/" + part }

// persist writes a container to flash (the device's store).
func (d *Device) persist(c *Container) {
	info, _ := json.Marshal(flashInfo{UID: c.UID, Seq: c.seq, Origin: c.origin, Autostart: c.autostart, Tenant: c.tenant})
	for part, b := range map[string][]byte{"meta": c.metaRaw, "code": c.code, "data": c.data, "info": info} {
		if err := d.cfg.Store.Put(slotKey(c.Slot, part), b); err != nil {
			d.emit(Update{Container: c.UID, Status: "flash write failed", Detail: err.Error()})
			return
		}
	}
}

func (d *Device) unpersist(c *Container) {
	for _, part := range []string{"info", "meta", "code", "data"} {
		_ = d.cfg.Store.Delete(slotKey(c.Slot, part))
	}
}

// PowerOn boots the device: containers installed in flash are verified again
// and those that were running start again.
func (d *Device) PowerOn(reason string) error {
	if d.on {
		return fmt.Errorf("%s is already on", d.cfg.ID)
	}
	if d.BatteryPermille() == 0 {
		return fmt.Errorf("%s cannot boot: battery empty", d.cfg.ID)
	}
	d.on = true
	d.inFlash = nil
	d.boots++
	d.onSince = d.env.Now()
	d.emit(Boot{Board: d.cfg.Board.Name, Reason: reason})
	if d.cfg.PersistRAM {
		for i := range d.ramSlot {
			if b, ok, _ := d.cfg.Store.Get("ram/" + strconv.Itoa(i)); ok {
				d.ramSlot[i] = b
			}
		}
	}
	d.restore()
	return nil
}

// restore reinstalls the containers flash holds, in slot order.
func (d *Device) restore() {
	keys, err := d.cfg.Store.Keys("slot/")
	if err != nil {
		d.emit(Update{Container: "*", Status: "flash read failed", Detail: err.Error()})
		return
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, "/info") {
			continue
		}
		slot, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(k, "slot/"), "/info"))
		if err != nil || slot < 0 || slot >= len(d.slots) {
			continue
		}
		var info flashInfo
		raw, _, _ := d.cfg.Store.Get(k)
		if json.Unmarshal(raw, &info) != nil {
			continue
		}
		meta, _, _ := d.cfg.Store.Get(slotKey(slot, "meta"))
		code, _, _ := d.cfg.Store.Get(slotKey(slot, "code"))
		data, _, _ := d.cfg.Store.Get(slotKey(slot, "data"))
		d.restoreSlot(slot, info, meta, code, data)
	}
}

func (d *Device) restoreSlot(slot int, info flashInfo, meta, code, data []byte) {
	d.emit(StateChange{Container: info.UID, From: Empty, To: Provisioning, Reason: "restored from flash"})
	cand, err := d.validate(meta, code, data)
	if err != nil {
		d.emit(StateChange{Container: info.UID, From: Provisioning, To: Empty, Reason: err.Error()})
		return
	}
	c := &Container{d: d, Slot: slot, UID: info.UID, State: Provisioning, origin: info.Origin, seq: info.Seq, autostart: info.Autostart, tenant: info.Tenant}
	inst, err := instantiate(c, cand)
	if err != nil {
		d.emit(StateChange{Container: info.UID, From: Provisioning, To: Empty, Reason: err.Error()})
		return
	}
	d.slots[slot] = c
	d.adopt(c, cand, inst)
	if err := d.fw.Install(c.UID, c.policy); err != nil {
		c.finalize()
		d.slots[slot] = nil
		d.emit(StateChange{Container: c.UID, From: Provisioning, To: Empty, Reason: err.Error()})
		return
	}
	c.transition(Ready, provisionedReason(cand))
	if c.autostart {
		c.start("start at boot")
	}
}

// PowerCut switches the device off at once: no stop() hook runs, RAM is lost
// (containers' globals, RIOT's RAM slots unless persisted, an update in
// flight), flash keeps the installed containers and the sequence numbers.
func (d *Device) PowerCut(reason string) error {
	if !d.on {
		return fmt.Errorf("%s is already off", d.cfg.ID)
	}
	d.powerOff(reason)
	return nil
}

func (d *Device) powerOff(reason string) {
	d.idlePJ += d.cfg.Energy.SleepPJ(d.env.Now() - d.onSince)
	d.abortUpdate()
	d.inFlash = d.inFlash[:0]
	for i, c := range d.slots {
		if c != nil {
			d.inFlash = append(d.inFlash, c.UID)
			c.stopTimers()
			d.fw.Remove(c.UID)
			c.finalize()
			d.slots[i] = nil
		}
	}
	if !d.cfg.PersistRAM {
		d.ramSlot = [2][]byte{}
	}
	clear(d.globals)
	d.on = false
	d.emit(Power{On: false, Reason: reason})
}
