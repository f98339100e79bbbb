package device

import (
	"errors"
	"fmt"
	"time"

	"tinylab/firewall"
)

func msDuration(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }

// transition moves the container to a new state and says so.
func (c *Container) transition(to State, reason string) {
	from := c.State
	c.State = to
	c.Last = Transition{From: from, To: to, Reason: reason, At: c.d.env.Now()}
	c.d.emit(StateChange{Container: c.UID, From: from, To: to, Reason: reason})
}

func (c *Container) timers() {
	if c.loopTimer == nil {
		c.loopTimer = c.d.env.NewTimer(c.tick)
		c.wdTimer = c.d.env.NewTimer(c.watchdog)
		c.restartTmr = c.d.env.NewTimer(c.restart)
	}
}

func (c *Container) stopTimers() {
	if c.loopTimer != nil {
		c.loopTimer.Stop()
		c.wdTimer.Stop()
		c.restartTmr.Stop()
	}
}

// start runs the container: READY -> RUNNING, its start() hook, then a loop
// every period and the watchdog.
func (c *Container) start(reason string) {
	c.timers()
	if err := c.inst.Reset(); err != nil {
		c.fail("reset: " + err.Error())
		return
	}
	// loops and heartbeats both count from this start, so a container that
	// beats once a loop shows as many of each after an update or a restart
	c.loops, c.heartbeats, c.missed, c.hbSeen = 0, 0, 0, false
	c.window = energyWindow{start: c.d.env.Now()}
	c.transition(Running, reason)
	if c.inst.Has(HookStart) {
		if _, ok := c.run(HookStart, msDuration(c.Timing().StartMaxMS), "start_max_ms"); !ok {
			return
		}
	}
	now := c.d.env.Now()
	c.nextLoop = now + c.period()
	c.loopTimer.Reset(c.nextLoop)
	if c.watched() {
		c.lastHB = now
		c.wdTimer.Reset(now + c.heartbeatTimeout())
	}
	if !c.autostart {
		c.autostart = true
		c.d.persist(c)
	}
}

// tick is one loop() call.
func (c *Container) tick() {
	if c.State != Running {
		return
	}
	c.d.fw.BeginLoop(c.UID)
	r0, ok := c.run(HookLoop, msDuration(c.Timing().LoopMaxMS), "loop_max_ms")
	if !ok {
		return
	}
	c.loops++
	switch {
	case r0 != 0:
		c.stop(fmt.Sprintf("loop() returned %d: finished", int64(r0)))
	case c.Timing().LoopMaxLifetime > 0 && c.loops >= uint64(c.Timing().LoopMaxLifetime):
		c.stop(lifetimeReason(c.loops, c.Timing().LoopMaxLifetime))
	default:
		c.nextLoop += c.period()
		c.loopTimer.Reset(c.nextLoop)
	}
}

// lifetimeReason says why a container stopped after its last loop, and
// whether the lifetime is the default one, which ends a long demo's
// containers after 16 min 40 s at one loop a second without anyone asking.
func lifetimeReason(loops uint64, lifetime uint32) string {
	if lifetime == firewall.DefaultTiming.LoopMaxLifetime {
		return fmt.Sprintf("lifetime reached: %d loops (default loop_max_lifetime; metadata create --lifetime or a scenario's limits: lifetime sets another)", loops)
	}
	return fmt.Sprintf("lifetime reached: %d loops (loop_max_lifetime)", loops)
}

// stop ends a running container: RUNNING -> STOPPING, its stop() hook, READY.
func (c *Container) stop(reason string) {
	if c.halt(reason) {
		c.transition(Ready, "stopped")
	}
}

// halt takes a running container to STOPPING and runs its stop() hook. It
// reports false when the hook failed (the container is FAILED then).
func (c *Container) halt(reason string) bool {
	c.stopTimers()
	c.d.fw.CloseAll(c.UID)
	c.transition(Stopping, reason)
	if c.inst.Has(HookStop) {
		if _, ok := c.run(HookStop, msDuration(c.Timing().StopMaxMS), "stop_max_ms"); !ok {
			return false
		}
	}
	return true
}

// fail stops the container where it is: -> FAILED, and the restart policy
// decides what comes next.
func (c *Container) fail(reason string) {
	c.stopTimers()
	c.d.fw.CloseAll(c.UID)
	c.faults++
	// A failed container is not started again at boot; the restart
	// policy, or someone, decides.
	if c.autostart {
		c.autostart = false
		c.d.persist(c)
	}
	c.transition(Failed, reason)
	p := c.d.cfg.Restart
	if !p.OnFailure || (p.MaxRestarts > 0 && c.restarts >= p.MaxRestarts) {
		return
	}
	backoff := p.Backoff << min(c.restarts, 16)
	backoff = min(backoff, p.MaxBackoff)
	c.restartTmr.Reset(c.d.env.Now() + backoff)
}

// restart is the restart policy's timer.
func (c *Container) restart() {
	if c.State != Failed || !c.d.on {
		return
	}
	c.restarts++
	c.transition(Ready, fmt.Sprintf("restart %d after failure", c.restarts))
	c.start("start after restart")
}

// watchdog fires when no heartbeat came within the timeout.
func (c *Container) watchdog() {
	if c.State != Running {
		return
	}
	c.missed++
	max := c.d.cfg.Watchdog.MaxMissed
	c.d.emit(MissedHeartbeat{Container: c.UID, Missed: c.missed, Max: max})
	if c.missed >= max {
		c.fail(fmt.Sprintf("watchdog: %d heartbeats missed (timeout %s)", c.missed, c.heartbeatTimeout()))
		return
	}
	c.wdTimer.Reset(c.d.env.Now() + c.heartbeatTimeout())
}

// heartbeat is the container's heartbeat syscall.
func (c *Container) heartbeat() {
	now := c.d.env.Now()
	var interval time.Duration
	if c.heartbeats > 0 {
		interval = now - c.lastHB
	}
	c.intervals[c.heartbeats%uint64(len(c.intervals))] = interval
	c.heartbeats++
	c.lastHB = now
	c.missed = 0
	if hb, ok := c.lastBeat.(Heartbeat); !ok || hb.Interval != interval || hb.Container != c.UID {
		c.lastBeat = Heartbeat{Container: c.UID, Interval: interval}
	}
	c.d.emit(c.lastBeat)
	if c.State == Running {
		c.wdTimer.Reset(now + c.heartbeatTimeout())
	}
}

// run executes one hook with its time limit. It charges the modelled time
// and its energy, and fails the container (reporting which limit or which
// fault) when the hook does not end well. ok is false when it failed.
func (c *Container) run(h Hook, limit time.Duration, limitName string) (r0 uint64, ok bool) {
	c.extra = 0
	// Each hook runs under its own limit: more instructions than fit in it at
	// the cheapest class would certainly be over.
	b := Budget{Branches: c.d.cfg.BranchBudget, Instructions: c.d.cfg.CPU.Budget(limit)}
	res, err := c.hook(h, b)
	cost := c.d.cfg.CPU.Time(res.Counts) + c.extra
	c.cpu += cost
	if h == HookLoop {
		c.lastRun = cost
	}
	pj := c.d.cfg.Energy.CPUPJ(cost)
	c.energyPJ += pj
	c.d.charge(pj)
	if !c.d.on || c.State == Failed {
		return 0, false
	}
	switch {
	case errors.Is(err, ErrOutOfInstructions) || (err == nil && limit > 0 && cost > limit):
		c.d.emit(BudgetExceeded{Container: c.UID, Limit: limitName, Value: cost.Microseconds(), Max: limit.Microseconds(), Unit: "µs"})
		c.fail(fmt.Sprintf("%s exceeded in %s(): %s > %s", limitName, h, fmtDur(cost), fmtDur(limit)))
		return 0, false
	case errors.Is(err, ErrOutOfBranches):
		// the runtime stops at the branch that would go over: count it
		taken := max(int64(res.Counts.TakenBranches), c.d.cfg.BranchBudget+1)
		c.d.emit(BudgetExceeded{Container: c.UID, Limit: "branches", Value: taken, Max: c.d.cfg.BranchBudget, Unit: "branches"})
		c.fail(fmt.Sprintf("branch budget exceeded in %s(): %d taken branches", h, taken))
		return 0, false
	case err != nil:
		t := trapOf(err)
		c.d.emit(faultEvent(c.UID, h, t))
		c.fail(fmt.Sprintf("fault in %s(): %s%s", h, t.Phrase, t.where()))
		return 0, false
	}
	if !c.chargeWindow(pj) {
		return 0, false
	}
	return res.R0, true
}

// hook runs one of the instance's hooks, and finalizes the instance after
// it when it was finalized meanwhile.
func (c *Container) hook(h Hook, b Budget) (Result, error) {
	c.inHook = true
	defer func() {
		c.inHook = false
		if c.retired != nil {
			c.retired.Finalize()
			c.retired = nil
		}
	}()
	switch h {
	case HookStart:
		return c.inst.OnStart(b)
	case HookStop:
		return c.inst.OnStop(b)
	}
	return c.inst.OnLoop(b)
}

// chargeWindow counts energy against the container's energy budget; it fails
// the container and reports false when the budget of the window is spent.
func (c *Container) chargeWindow(pj int64) bool {
	budget := c.limits.EnergyUJ
	if budget <= 0 {
		return true
	}
	win := c.limits.EnergyWindow
	if win <= 0 {
		win = time.Minute
	}
	now := c.d.env.Now()
	if now-c.window.start >= win {
		c.window = energyWindow{start: now - (now-c.window.start)%win}
	}
	c.window.pj += pj
	if used := c.window.pj / 1_000_000; used > budget {
		c.d.emit(BudgetExceeded{Container: c.UID, Limit: "energy", Value: used, Max: budget, Unit: "µJ per " + fmtDur(win)})
		c.fail(fmt.Sprintf("energy budget exceeded: %d µJ > %d µJ per %s", used, budget, fmtDur(win)))
		return false
	}
	return true
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3g s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3g ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3g µs", float64(d)/float64(time.Microsecond))
	}
}
