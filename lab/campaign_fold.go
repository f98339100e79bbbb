package lab

import (
	"path"

	"tinylab/device"
	"tinylab/lab/rollout"
)

// RolloutFold rebuilds the latest campaign of a transcript from its steps
// and its devices' outcomes, for a replay: the same view the live lab
// gives, from the recording alone. The devices of a wave are fetching from
// the step that starts it until their outcome; a retry sends the failed
// and offline devices of the waves sent so far back to fetching, as the
// campaign does.
type RolloutFold struct {
	v    *RolloutView
	to   string
	devs map[string]foldDev
	why  []map[string]int // failure reasons per wave
}

type foldDev struct {
	wave   int // index in v.Waves
	state  rollout.DeviceState
	reason string
}

// Apply takes one event; it ignores what is not a campaign's.
func (f *RolloutFold) Apply(p device.Payload) {
	switch s := p.(type) {
	case rollout.Step:
		f.step(s)
	case rollout.DeviceOutcome:
		f.outcome(s)
	}
}

func (f *RolloutFold) step(s rollout.Step) {
	if s.What == rollout.StepStarted {
		if s.Plan == nil {
			return
		}
		f.v = &RolloutView{Name: s.Campaign, Release: s.Plan.Release, Seq: s.Plan.Seq, From: s.Plan.From, HaltOn: s.Plan.HaltOn}
		f.to, f.devs, f.why = s.Plan.To, map[string]foldDev{}, nil
		for _, w := range s.Plan.Waves {
			f.why = append(f.why, map[string]int{})
			wv := WaveView{Name: w.Name, Share: w.Share, Devices: w.Devices}
			wv.Counts[rollout.Pending] = w.Devices
			f.v.Waves = append(f.v.Waves, wv)
		}
	}
	if f.v == nil || s.Campaign != f.v.Name {
		return
	}
	f.v.State = s.State
	switch s.What {
	case rollout.StepRollback:
		if s.Plan != nil {
			f.v.Waves = append(f.v.Waves, WaveView{Name: s.Name, Rollback: true, Devices: s.Devices})
			f.why = append(f.why, map[string]int{})
		}
	case rollout.StepWave:
		if i := s.Wave - 1; i >= 0 && i < len(f.v.Waves) {
			w := &f.v.Waves[i]
			w.Started = true
			w.Counts[rollout.Pending], w.Counts[rollout.Fetching] = 0, w.Devices
			f.v.Current = i
		}
	case rollout.StepRetried:
		first := 0
		if f.v.Waves[f.v.Current].Rollback {
			first = f.v.Current
		}
		for id, d := range f.devs {
			if d.wave >= first && d.wave <= f.v.Current && (d.state == rollout.Failed || d.state == rollout.Offline) {
				f.move(id, d.wave, rollout.Fetching, "")
			}
		}
	}
}

func (f *RolloutFold) outcome(o rollout.DeviceOutcome) {
	if f.v == nil || o.Campaign != f.v.Name || o.Wave < 1 || o.Wave > len(f.v.Waves) {
		return
	}
	f.move(o.Device, o.Wave-1, o.State, o.Reason)
}

// move sets a device's state in a wave; a device seen in an earlier wave
// leaves that wave's counts as history, as the campaign keeps them.
func (f *RolloutFold) move(id string, wave int, s rollout.DeviceState, reason string) {
	w := &f.v.Waves[wave]
	d, ok := f.devs[id]
	failed := s == rollout.Failed
	if ok && d.wave == wave {
		w.Counts[d.state]--
		failed = failed || d.state == rollout.Failed
	} else {
		w.Counts[rollout.Fetching]--
	}
	w.Counts[s]++
	f.devs[id] = foldDev{wave: wave, state: s, reason: reason}
	if failed {
		f.reasons(wave)
	}
}

// reasons groups the failures of a wave again.
func (f *RolloutFold) reasons(wave int) {
	m := map[string]int{}
	for _, d := range f.devs {
		if d.wave == wave && d.state == rollout.Failed {
			m[d.reason]++
		}
	}
	f.why[wave] = m
	f.v.Waves[wave].Reasons = rollout.FormatReasons(m)
}

// View is the campaign so far, its map drawn over ids (the transcript's
// devices in their order; those the campaign's pattern matches are its
// targets), or false when no campaign was started.
func (f *RolloutFold) View(ids []string) (RolloutView, bool) {
	if f.v == nil {
		return RolloutView{}, false
	}
	v := *f.v
	v.Waves = append([]WaveView(nil), f.v.Waves...)
	total := map[string]int{}
	for _, m := range f.why {
		for r, n := range m {
			total[r] += n
		}
	}
	v.Reasons = rollout.FormatReasons(total)
	// The waves of the rollout take the targets in order: a target with no
	// outcome yet is fetching when its wave started, pending otherwise.
	rb := -1
	for i, w := range f.v.Waves {
		if w.Rollback && w.Started {
			rb = i
		}
	}
	k, wave, upto := 0, 0, 0
	for _, id := range ids {
		if ok, _ := path.Match(f.to, id); !ok {
			continue
		}
		for wave < len(f.v.Waves) && !f.v.Waves[wave].Rollback && k >= upto {
			upto += f.v.Waves[wave].Devices
			wave++
		}
		st := rollout.Pending
		d, seen := f.devs[id]
		switch {
		case seen && rb >= 0 && d.wave < rb:
			st = rollout.Fetching // touched, and the rollback is on its way
		case seen:
			st = d.state
		case wave > 0 && k < upto && f.v.Waves[wave-1].Started:
			st = rollout.Fetching
		}
		v.Cells = append(v.Cells, st)
		k++
	}
	return v, true
}
