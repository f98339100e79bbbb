package device

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tinylab/firewall"
)

// faultSrc reads address 0 in loop(): an illegal memory access.
const faultSrc = `
loop:
  mov %r1, 0
  ldxw %r0, [%r1+0]
  exit
`

// spinSrc never leaves loop().
const spinSrc = `
loop:
  mov %r0, 1
  add %r0, 1
  jne %r0, 0, -2
  exit
`

// countedSrc keeps a loop counter with store_local/fetch_local; it
// heartbeats for its first three loops only and returns 7 from its loop
// number RET (a placeholder replaced per test, 0 for never).
const countedSrc = `
loop:
  mov %r1, 1
  mov %r2, %r10
  add %r2, -8
  call 0x12
  ldxw %r6, [%r10-8]
  add %r6, 1
  mov %r1, 1
  mov %r2, %r6
  call 0x10
  jgt %r6, 3, +1
  call 0x71
  mov %r0, 0
  jne %r6, RET, +1
  mov %r0, 7
  exit
`

func counted(ret string) string { return strings.ReplaceAll(countedSrc, "RET", ret) }

// TestCommandsInEveryState tries each command in each state a user can see a
// container in. PROVISIONING, STOPPING and DELETING last only within one
// agent step (nothing else runs meanwhile), so no command can reach them.
func TestCommandsInEveryState(t *testing.T) {
	type setup func(r *rig)
	states := map[State]setup{
		Empty: func(r *rig) {},
		Ready: func(r *rig) { r.load(spec{uid: "c", src: heartbeatSrc, grants: []string{"heartbeat"}}) },
		Running: func(r *rig) {
			r.load(spec{uid: "c", src: heartbeatSrc, grants: []string{"heartbeat"}})
			r.do(func() { _ = r.d.Start("c") })
		},
		Failed: func(r *rig) {
			r.load(spec{uid: "c", src: faultSrc})
			r.do(func() { _ = r.d.Start("c") })
			r.advance(1500 * time.Millisecond)
		},
	}
	cmds := map[Command]func(d *Device) error{
		CmdStart: func(d *Device) error { return d.Start("c") }, CmdStop: func(d *Device) error { return d.Stop("c") },
		CmdDelete: func(d *Device) error { return d.Delete("c") }, CmdRestart: func(d *Device) error { return d.Restart("c") },
	}
	want := map[State]map[Command]State{ // resulting state; absent means refused
		Empty:   {},
		Ready:   {CmdStart: Running, CmdDelete: Empty},
		Running: {CmdStop: Ready},
		Failed:  {CmdDelete: Empty, CmdRestart: Running},
	}
	for from, set := range states {
		for cmd, run := range cmds {
			t.Run(from.String()+"/"+cmd.String(), func(t *testing.T) {
				r := newRig(t, nil)
				set(r)
				if got := r.state("c"); got != from {
					t.Fatalf("setup reached %s, want %s\n%s", got, from, r.log())
				}
				var err error
				r.do(func() { err = run(r.d) })
				to, ok := want[from][cmd]
				switch {
				case ok && err != nil:
					t.Fatalf("%s from %s refused: %v", cmd, from, err)
				case ok && r.state("c") != to:
					t.Fatalf("%s from %s ended %s, want %s", cmd, from, r.state("c"), to)
				case !ok && err == nil:
					t.Fatalf("%s from %s was accepted", cmd, from)
				case !ok:
					var ce *CommandError
					if !errors.As(err, &ce) || ce.Command != cmd {
						t.Fatalf("refusal is %T %v, want a *CommandError", err, err)
					}
					if from == Empty && !errors.Is(err, ErrUnknownContainer) || from != Empty && !errors.Is(err, ErrIllegalCommand) {
						t.Fatalf("refusal %v does not wrap the right sentinel", err)
					}
					if r.state("c") != from {
						t.Fatalf("a refused %s changed the state to %s", cmd, r.state("c"))
					}
				}
			})
		}
	}
}

func TestWatchdogStopsAContainerThatStopsBeating(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "w", src: counted("0"), grants: []string{"heartbeat", "store"}})
	r.do(func() { _ = r.d.Start("w") })
	r.advance(20 * time.Second)
	if got := r.state("w"); got != Failed {
		t.Fatalf("state %s, want FAILED\n%s", got, r.log())
	}
	// Beats at 1, 2, 3 s; timeout 3 periods: misses at 6, 9, 12 s.
	log := r.log(KindHeartbeat, KindMissedHeartbeat, KindState)
	for _, want := range []string{
		"00:03.000 dev container w: heartbeat",
		"00:06.000 dev watchdog: w missed its heartbeat (1 of 3)",
		"00:09.000 dev watchdog: w missed its heartbeat (2 of 3)",
		"00:12.000 dev watchdog: w missed its heartbeat (3 of 3)",
		"00:12.000 dev container w: RUNNING -> FAILED (watchdog: 3 heartbeats missed (timeout 3s))",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("missing %q in\n%s", want, log)
		}
	}
}

func TestLoopReturnFinishesAndLifetimeStops(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "done", src: counted("2"), grants: []string{"heartbeat", "store"}})
	r.load(spec{uid: "life", src: heartbeatSrc, grants: []string{"heartbeat"},
		timing: firewall.Timing{StartMaxMS: 10, LoopPeriodMS: 500, LoopMaxMS: 10, LoopMaxLifetime: 4, StopMaxMS: 10}})
	r.do(func() { _ = r.d.Start("done"); _ = r.d.Start("life") })
	r.advance(10 * time.Second)
	log := r.log(KindState)
	for _, want := range []string{
		"00:02.000 dev container done: RUNNING -> STOPPING (loop() returned 7: finished)",
		"00:02.000 dev container life: RUNNING -> STOPPING (lifetime reached: 4 loops (loop_max_lifetime))",
		"dev container life: STOPPING -> READY (stopped)",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("missing %q in\n%s", want, log)
		}
	}
}

// TestDefaultLifetimeSaysSo: with the default 1,000-loop lifetime a
// container stops after 16 min 40 s at one loop a second, and the reason
// says the limit was the default one.
func TestDefaultLifetimeSaysSo(t *testing.T) {
	r := newRig(t, nil)
	r.load(spec{uid: "long", src: heartbeatSrc, grants: []string{"heartbeat"}, timing: firewall.DefaultTiming})
	r.do(func() { _ = r.d.Start("long") })
	r.advance(16*time.Minute + 41*time.Second)
	want := "16:40.000 dev container long: RUNNING -> STOPPING (lifetime reached: 1000 loops (default loop_max_lifetime;"
	if log := r.log(KindState); !strings.Contains(log, want) {
		t.Fatalf("missing %q in\n%s", want, log)
	}
}

func TestLimitsAndBudgets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		src    string
		grants []string
		want   []string
	}{
		{name: "loop_max_ms", src: spinSrc, want: []string{
			"limit: spin exceeded loop_max_ms:", "RUNNING -> FAILED (loop_max_ms exceeded in loop(): "}},
		{name: "branches", cfg: func(c *Config) { c.BranchBudget = 500 }, src: spinSrc, want: []string{
			"limit: spin exceeded branches: 501 branches > 500 branches", "RUNNING -> FAILED (branch budget exceeded in loop(): 501 taken branches)"}},
		{name: "fault", src: faultSrc, want: []string{
			"vm fault: spin loop(): illegal memory access", "RUNNING -> FAILED (fault in loop(): illegal memory access)"}},
		{name: "energy", cfg: func(c *Config) { c.Limits = map[string]ExtraLimits{"spin": {EnergyUJ: 500, EnergyWindow: time.Minute}} },
			src: heartbeatSrc + "\n", grants: []string{"heartbeat", "log"}, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.cfg)
			r.load(spec{uid: "spin", src: tc.src, grants: tc.grants})
			r.do(func() { _ = r.d.Start("spin") })
			r.advance(3 * time.Second)
			log := r.log()
			for _, w := range tc.want {
				if !strings.Contains(log, w) {
					t.Errorf("missing %q in\n%s", w, log)
				}
			}
			if tc.want == nil && r.state("spin") != Running {
				t.Errorf("a frugal container under its energy budget is %s\n%s", r.state("spin"), log)
			}
		})
	}
}

// chattySrc prints a line every loop: at 87 µs a character on the console,
// that is energy the budget counts.
const chattySrc = `
loop:
  mov %r6, %r1
  mov %r1, %r6
  call 0x01
  mov %r0, 0
  exit
`

func TestEnergyBudgetStopsADrainingContainer(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Limits = map[string]ExtraLimits{"chatty": {EnergyUJ: 100, EnergyWindow: time.Minute}}
	})
	line := []byte(strings.Repeat("battery drain ", 8) + "\x00")
	r.load(spec{uid: "chatty", src: chattySrc, grants: []string{"log"}, data: line})
	r.do(func() { _ = r.d.Start("chatty") })
	r.advance(time.Minute)
	if r.state("chatty") != Failed {
		t.Fatalf("state %s, want FAILED\n%s", r.state("chatty"), r.log())
	}
	if log := r.log(KindBudget); !strings.Contains(log, "exceeded energy") {
		t.Fatalf("no energy budget event:\n%s", r.log())
	}
}

func TestRestartPolicyBacksOff(t *testing.T) {
	r := newRig(t, func(c *Config) {
		c.Restart = RestartPolicy{OnFailure: true, Backoff: time.Second, MaxBackoff: 4 * time.Second, MaxRestarts: 3}
	})
	r.load(spec{uid: "f", src: faultSrc})
	r.do(func() { _ = r.d.Start("f") })
	r.advance(time.Minute)
	log := r.log(KindState)
	// Faults at 1 s; restarts after 1, 2, 4 s of backoff, each faulting a
	// period later; then the policy gives up.
	for _, want := range []string{
		"00:01.000 dev container f: RUNNING -> FAILED",
		"00:02.000 dev container f: FAILED -> READY (restart 1 after failure)",
		"00:03.000 dev container f: RUNNING -> FAILED",
		"00:05.000 dev container f: FAILED -> READY (restart 2 after failure)",
		"00:10.000 dev container f: FAILED -> READY (restart 3 after failure)",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("missing %q in\n%s", want, log)
		}
	}
	if n := strings.Count(log, "-> FAILED"); n != 4 {
		t.Errorf("%d failures, want 4 (first run + 3 restarts)\n%s", n, log)
	}
}

func TestLoadRefusals(t *testing.T) {
	r := newRig(t, nil)
	meta, code, _ := build(t, spec{uid: "big", src: heartbeatSrc})
	huge := make([]byte, 40<<10)
	var err error
	r.do(func() { _, err = r.d.Load(meta, code, huge, "test") })
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "a nrf52840dk slot holds 32768") {
		t.Fatalf("oversize: %v", err)
	}
	other := ed25519Key(7)
	meta, code, _ = build(t, spec{uid: "stranger", src: heartbeatSrc, signer: other})
	r.do(func() { _, err = r.d.Load(meta, code, nil, "test") })
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "tokens") {
		t.Fatalf("tokens from an unknown issuer: %v", err)
	}
	meta, code, _ = build(t, spec{uid: "tampered", src: heartbeatSrc})
	code[len(code)-1] ^= 1
	r.do(func() { _, err = r.d.Load(meta, code, nil, "test") })
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "code") {
		t.Fatalf("code changed after signing: %v", err)
	}
	r.do(func() { _, err = r.d.Load([]byte("not cbor"), code, nil, "test") })
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("garbage metadata: %v", err)
	}
	for i := range 8 {
		r.load(spec{uid: "s" + string(rune('0'+i)), src: heartbeatSrc})
	}
	meta, code, _ = build(t, spec{uid: "ninth", src: heartbeatSrc})
	r.do(func() { _, err = r.d.Load(meta, code, nil, "test") })
	if !errors.Is(err, ErrNoSlot) {
		t.Fatalf("ninth container on 8 slots: %v", err)
	}
	if log := r.log(KindState); strings.Count(log, "PROVISIONING -> EMPTY") != 5 {
		t.Errorf("each refusal should end PROVISIONING -> EMPTY with its reason:\n%s", log)
	}
}
