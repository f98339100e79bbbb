package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"tinylab/device"
	"tinylab/firewall"
	"tinylab/lab"
	"tinylab/lab/rollout"
	"tinylab/lab/sim"
	"tinylab/scenarios"
	"tinylab/ui/pane"
	"tinylab/ui/theme"
)

// fakeSource hands out prepared frames and records what the UI asked of it.
type fakeSource struct {
	frames []frame // handed out in turn; the last one repeats without events
	asked  []string
	isRep  bool
	comps  []string
}

func (s *fakeSource) frame(string, lab.Rows) frame {
	if len(s.frames) == 0 {
		return frame{}
	}
	f := s.frames[0]
	if len(s.frames) > 1 {
		s.frames = s.frames[1:]
	} else {
		s.frames[0].events, s.frames[0].restart = nil, false
	}
	return f
}

func (s *fakeSource) ask(what string) tea.Cmd {
	s.asked = append(s.asked, what)
	return nil
}
func (s *fakeSource) next() tea.Cmd      { return s.ask("next") }
func (s *fakeSource) back() tea.Cmd      { return s.ask("back") }
func (s *fakeSource) reset() tea.Cmd     { return s.ask("reset") }
func (s *fakeSource) playPause() tea.Cmd { return s.ask("play") }
func (s *fakeSource) faster(up bool) tea.Cmd {
	return s.ask(map[bool]string{true: "faster", false: "slower"}[up])
}
func (s *fakeSource) exec(line string) tea.Cmd { return s.ask("exec " + line) }
func (s *fakeSource) complete(string) []string { return s.comps }
func (s *fakeSource) replay() bool             { return s.isRep }
func (s *fakeSource) close()                   {}
func ev(at time.Duration, dev string, p device.Payload) device.Event {
	return device.Event{At: at, Device: dev, Data: p}
}

// fixedNow is the wall clock of fixture models: messages never expire.
func fixedNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

const sec = time.Second

// fixtureFrame is MyCoach in the middle of step 7: the coach's version 2
// being fetched on bench-1, the analytics container denied, a second
// station and a kiosk that lost its power.
func fixtureFrame() frame {
	board := device.Board{Name: "nrf52840dk", MCU: "nRF52840", FlashKiB: 1024, RAMKiB: 256,
		FirmwareFlashKiB: 184, FirmwareRAMKiB: 36, Slots: 8, SlotBytes: 32 << 10, RAMSlotBytes: 16 << 10}
	now := 42300 * time.Millisecond
	coach := device.ContainerInfo{UID: "coach", Slot: 0, State: "RUNNING", Runtime: "wasm", Reason: "start", Since: 31000, Origin: "suit",
		Seq: 1, Size: 2176, RAM: 1296, Mask: "heartbeat,open,close,read,write,log", Loops: 41, Heartbeats: 41, LastBeatMs: 42200,
		Allowed: 164, CPUMicros: 3100, LastLoopUs: 75, EnergyMicroJ: 3100, Watched: true,
		Intervals: []time.Duration{sec, sec, sec, 1100 * time.Millisecond, sec, 900 * time.Millisecond, sec, sec},
		Last:      device.Transition{From: device.Ready, To: device.Running, Reason: "start", At: 31 * sec}}
	analytics := device.ContainerInfo{UID: "analytics", Slot: 1, State: "RUNNING", Runtime: "bpf", Reason: "start", Since: 30000,
		Origin: "suit", Seq: 1, Size: 180, RAM: 5120, Mask: "heartbeat,open,close", Loops: 12, Heartbeats: 12, LastBeatMs: 41500,
		Denied: 12, Allowed: 36, CPUMicros: 800, EnergyMicroJ: 800, Watched: true,
		Intervals: []time.Duration{sec, sec, sec},
		Last:      device.Transition{From: device.Ready, To: device.Running, Reason: "start", At: 30 * sec}}
	steps := []device.SuitStep{
		{Step: "manifest", Status: "started", Message: `suit_coap: downloading "coap://repo.localhost/coach/coach/v2-nrf52840dk.suit"`},
		{Step: "manifest", Status: "passed", Message: "suit_coap: got manifest with size 654"},
		{Step: "signature", Status: "passed", Message: "signature OK: EdDSA, trusted key 1 of 2 (ed25519:a1329861)"},
		{Step: "manifest-digest", Status: "passed", Message: "manifest digest OK: sha256 855649766970611da12ca9c03c1ab0185214f270b0d08fc4dfe7d19d1086b01b"},
		{Step: "version", Status: "passed", Message: "suit: validated manifest version"},
		{Step: "sequence-number", Status: "passed", Message: "Manifest seq_no: 2, highest available: 1"},
		{Step: "vendor", Status: "passed", Message: "validating vendor ID: OK; Comparing 547d0d74-6d3a-5a92-9662-4881afd9407b to 547d0d74-6d3a-5a92-9662-4881afd9407b from manifest"},
		{Step: "class", Status: "passed", Message: "validating class id: OK; Comparing 00c72996-68a1-5fda-a6a2-351d3b91fb50 to 00c72996-68a1-5fda-a6a2-351d3b91fb50 from manifest"},
		{Step: "policy", Status: "passed", Message: "SUIT policy check OK."},
		{Step: "fetch", Status: "started", Message: "fetching coap://repo.localhost/coach/coach/v2.code (3120 bytes) into .tc.coach.code"},
	}
	detail := device.Snapshot{ID: "bench-1", Board: board, Powered: true, Boots: 1, BatteryPermille: 971, UsedMicroJoule: 48000,
		Usage:      device.Usage{FlashUsed: 212 << 10, FlashTotal: 1 << 20, RAMUsed: 39117, RAMTotal: 256 << 10, SlotsUsed: 2, Slots: 8},
		Containers: []device.ContainerInfo{coach, analytics},
		Peers: []device.PeerInfo{{ID: 10, Name: "hr", Class: device.ClassHeartRate, Value: "168 bpm"},
			{ID: 11, Name: "reps", Class: device.ClassCounter, Value: "21"},
			{ID: 20, Name: "display", Class: device.ClassDisplay, Value: "Zone 5 - 168 bpm"}},
		Suit: device.SuitStatus{State: "fetching", URI: "coap://repo.localhost/coach/coach/v2-nrf52840dk.suit", Namespace: "tc.coach", Container: "coach", Seq: 2,
			Steps: steps, Done: 2432, Total: 3120, Component: ".tc.coach.code", Updates: 2,
			Last: device.SuitResult{Code: 0, Result: "SUIT_OK", Seq: 1}},
		Sequences: map[string]uint64{"tc.coach": 1, "tc.analytics": 1},
	}
	sums := []device.Summary{
		{ID: "bench-1", Board: "nrf52840dk", Powered: true, BatteryPermille: 971, Denied: 12, Updating: true, UpdateDone: 2432, UpdateTotal: 3120, Updates: 2,
			Containers: []device.ContainerBrief{{UID: "coach", State: device.Running, Runtime: firewall.TypeWasm, LastBeat: 42200 * time.Millisecond, Watched: true},
				{UID: "analytics", State: device.Running, Runtime: firewall.TypeBPF, LastBeat: 41500 * time.Millisecond, Watched: true, Denied: 12}}},
		{ID: "bench-2", Board: "nrf52840dk", Powered: true, BatteryPermille: 994,
			Containers: []device.ContainerBrief{{UID: "coach", State: device.Failed, Runtime: firewall.TypeWasm, LastBeat: 20 * sec, Watched: false}}},
		{ID: "kiosk", Board: "nrf52dk", Powered: false, BatteryPermille: 1000},
	}
	events := []device.Event{
		ev(0, "bench-1", device.Boot{Board: "nrf52840dk", Reason: "power on"}),
		ev(30*sec, "scenario", scenarios.StepStarted{Index: 5, Total: 9, Title: "A second tenant wants the heart rate", Say: "A statistics company…", Watch: "the event log"}),
		ev(30*sec, "bench-1", device.StateChange{Container: "analytics", From: device.Ready, To: device.Running, Reason: "start"}),
		ev(31*sec, "bench-1", device.Denied{Container: "analytics", Call: "read", Target: "fd 3 (endpoint 1)", Reason: "not-granted", Detail: "mask heartbeat,open,close"}),
		ev(35*sec, "scenario", scenarios.Checked{Index: 5, OK: true, Want: "bench-1/analytics is RUNNING"}),
		ev(36*sec, "bench-2", device.MissedHeartbeat{Container: "coach", Missed: 3, Max: 3}),
		ev(36*sec, "bench-2", device.StateChange{Container: "coach", From: device.Running, To: device.Failed, Reason: "watchdog: 3 heartbeats missed"}),
		ev(37*sec, "kiosk", device.Power{On: false, Reason: "power-cut"}),
		ev(38*sec, lab.LabSource, lab.Note{Text: "tamper: the next update will be sent with wrong-key"}),
		ev(40*sec, "scenario", scenarios.StepStarted{Index: 7, Total: 9, Title: "The coach ships version 2"}),
		ev(40*sec, "bench-1", device.SuitStep{Step: "signature", Status: "passed", Message: "signature OK: EdDSA, trusted key 1 of 2 (ed25519:a1329861)"}),
		ev(41*sec, "bench-1", device.SuitStep{Step: "sequence-number", Status: "passed", Message: "Manifest seq_no: 2, highest available: 1"}),
		ev(41500*time.Millisecond, "bench-1", device.Heartbeat{Container: "analytics", Interval: sec}),
		ev(41900*time.Millisecond, "bench-1", device.Denied{Container: "analytics", Call: "read", Target: "fd 7 (endpoint 1)", Reason: "not-granted"}),
		ev(42*sec, "bench-1", device.SuitProgress{URI: ".tc.coach.code", Done: 2432, Total: 3120}),
		ev(42200*time.Millisecond, "bench-1", device.Heartbeat{Container: "coach", Interval: sec}),
		ev(42200*time.Millisecond, "bench-1", device.Actuator{Container: "coach", Peer: "display", Text: "Zone 5 - 168 bpm"}),
	}
	story := pane.Story{Name: "mycoach", Title: "MyCoach: a personal training session on shared city equipment", Current: 6}
	titles := []string{"Before provisioning", "The coach's container arrives", "It coaches, and heartbeats", "The athlete sprints",
		"A second tenant wants the heart rate", "Each tenant sees only its own", "The coach ships version 2", "A replay of version 1", "The session ends"}
	for i, t := range titles {
		st := pane.StoryStep{Title: t, Say: "Narration of step " + t + "."}
		switch {
		case i < 5:
			st.State = pane.Held
			st.Checks = []pane.StoryCheck{{OK: true, Want: "an expectation of " + t}}
		case i == 5:
			st.State = pane.Failed
			st.Checks = []pane.StoryCheck{{OK: false, Want: "bench-1/analytics: denied call \"read\" at least 2 times", Got: "1 time"}}
		case i == 6:
			st.State = pane.Playing
			st.Say = "The coach improves the session: version 2 also counts repetitions and lasts 20 loops. Same checks; the running container is stopped, replaced and started again, and its state machine shows each step."
			st.Watch = "the state machine, RUNNING -> STOPPING -> PROVISIONING -> READY -> RUNNING"
		}
		story.Steps = append(story.Steps, st)
	}
	return frame{
		snap:   lab.Snapshot{Now: now, Mode: sim.Paced, Speed: 1, IDs: []string{"bench-1", "bench-2", "kiosk"}, Devices: sums, Detail: &detail, Published: 4242},
		events: events, story: story, dropped: 3,
	}
}

// fixtureModel is a model showing fixtureFrame at w×h.
func fixtureModel(th *theme.Theme, w, h int) (*model, *fakeSource) {
	src := &fakeSource{frames: []frame{fixtureFrame()}}
	m := newModel(src, th, fixedNow)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(frameMsg(src.frame("", lab.AllRows)))
	return m, src
}

// haltedRollout is a campaign over n boards halted in its second wave by
// one watchdog failure in ten, the later waves held back.
func haltedRollout(n int) lab.RolloutView {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("box-%d", i+1)
	}
	c, err := rollout.New(rollout.Spec{Name: "thermo-v2", Container: "thermo", Release: "thermo-v2", Seq: 1, From: "thermo",
		Targets: ids, Canary: 100, Waves: []rollout.Percent{1000, 5000, 10000}, HaltOn: 500, Pause: 15 * time.Second}, func(device.Payload) {})
	if err != nil {
		panic(err)
	}
	done := func(at time.Duration, ids []string, what rollout.ObsKind, every int) {
		var obs []rollout.Observation
		for k, id := range ids {
			if k%every == 0 {
				obs = append(obs, rollout.Observation{Device: id, What: what, Reason: "watchdog"})
			}
		}
		c.Observe(at, obs...)
	}
	done(sec, c.Start(0).Trigger, rollout.UpdateOK, 1)
	wave := c.Tick(16 * sec).Trigger
	done(17*sec, wave, rollout.UpdateOK, 1)
	done(26*sec, wave, rollout.ContainerFailed, 10)
	return lab.ViewCampaign(c, true)
}
