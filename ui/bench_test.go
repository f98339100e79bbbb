package ui

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"tinylab/device"
	"tinylab/lab/sim"
	"tinylab/scenarios"
	"tinylab/ui/theme"
)

// fleetLive builds the fleet built-in (1,000 boards, 2,000 containers)
// behind a live source, played for a few virtual seconds so every
// container has a state, counters and heartbeats.
func fleetLive(b *testing.B) (*live, *model) {
	b.Helper()
	sc, err := scenarios.Load("fleet")
	if err != nil {
		b.Skip("the fleet built-in is not there:", err)
	}
	src := newLive(sc, nil, 1)
	b.Cleanup(src.close)
	m := newModel(src, theme.New(theme.Default, false), time.Now)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	if msg := src.build(0, "")(); msg != nil {
		if n, ok := msg.(noteMsg); ok && n.bad {
			b.Fatal(n.text)
		}
	}
	r := src.runner()
	r.Lab().World().SetMode(sim.Fast)
	if err := r.Lab().Advance(context.Background(), 5*time.Second); err != nil {
		b.Fatal(err)
	}
	m.Update(frameMsg(src.frame(m.selID)))
	return src, m
}

// BenchmarkFrame1000 is one UI frame with the 1,000-board fleet: the
// snapshot, the events drained, the model updated and the whole screen
// drawn (160x48). The goal is 8 ms.
func BenchmarkFrame1000(b *testing.B) {
	src, m := fleetLive(b)
	r := src.runner()
	// a frame's worth of events at 10,000 a second
	batch := make([]device.Event, 333)
	for i := range batch {
		batch[i] = device.Event{At: time.Duration(i) * time.Millisecond, Device: "node-42", Seq: uint64(i),
			Data: device.Heartbeat{Container: "beacon", Interval: time.Second}}
	}
	b.Run("snapshot", func(b *testing.B) {
		for range b.N {
			_ = r.Lab().Snapshot(m.selID)
		}
	})
	b.Run("render", func(b *testing.B) {
		for range b.N {
			m.dirty = true
			_ = m.render()
		}
	})
	b.Run("frame", func(b *testing.B) {
		for range b.N {
			f := src.frame(m.selID)
			f.events = append(f.events, batch...)
			m.Update(frameMsg(f))
			_ = m.View()
		}
	})
	b.Run("frame-filtered", func(b *testing.B) {
		m.log.setFilter("node-42")
		defer m.log.setFilter("")
		for range b.N {
			f := src.frame(m.selID)
			f.events = append(f.events, batch...)
			m.Update(frameMsg(f))
			_ = m.View()
		}
	})
}

// BenchmarkKeepUp runs the fleet paced at 5x and 10x (2,000 containers
// heartbeating every virtual second: 10,000 and 20,000 events a second) for
// three seconds of wall time while the UI takes a frame every 1/30 s as the
// program does, and reports how many events a second the UI took in, how
// many the bus dropped for it, the frame times, and how far virtual time
// lagged the wall clock. Dropped events fail the benchmark.
func BenchmarkKeepUp(b *testing.B) {
	for _, speed := range []float64{5, 10} {
		b.Run(fmt.Sprintf("%gx", speed), func(b *testing.B) { keepUp(b, speed) })
	}
}

func keepUp(b *testing.B, speed float64) {
	for range b.N {
		b.StopTimer()
		src, m := fleetLive(b)
		r := src.runner()
		w := r.Lab().World()
		m.Update(frameMsg(src.frame(m.selID))) // drain what the build made
		w.SetMode(sim.Paced)
		w.SetSpeed(speed)
		w.SetPaused(false)
		b.StartTimer()
		start, v0 := time.Now(), r.Lab().Now()
		var events int
		var frames []time.Duration
		for time.Since(start) < 3*time.Second {
			t0 := time.Now()
			f := src.frame(m.selID)
			events += len(f.events)
			m.Update(frameMsg(f))
			_ = m.View()
			took := time.Since(t0)
			frames = append(frames, took)
			time.Sleep(max(frameEvery-took, 0))
		}
		wall := time.Since(start)
		lag := wall.Seconds()*speed - (r.Lab().Now() - v0).Seconds()
		b.StopTimer()
		sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
		b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
		b.ReportMetric(float64(m.dropped), "dropped")
		b.ReportMetric(float64(frames[len(frames)/2].Microseconds())/1000, "ms/frame-median")
		b.ReportMetric(float64(frames[len(frames)-1].Microseconds())/1000, "ms/frame-max")
		b.ReportMetric(lag, "lag-virtual-s")
		if m.dropped > 0 {
			b.Errorf("the bus dropped %d events for the UI", m.dropped)
		}
		src.close()
	}
}

// firstFrame records when the program first draws its status line.
type firstFrame struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	at   time.Time
	done chan struct{}
}

func (f *firstFrame) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at.IsZero() {
		f.buf.Write(p)
		if strings.Contains(f.buf.String(), "tinylab") {
			f.at = time.Now()
			close(f.done)
		}
	}
	return len(p), nil
}

// readyProbe reports when the lab behind the UI is built and shown.
type readyProbe struct {
	*model
	once  sync.Once
	ready chan struct{}
}

func (p *readyProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := p.model.Update(msg)
	if len(p.model.snap.Devices) > 0 && p.model.busy == "" {
		p.once.Do(func() { close(p.ready) })
	}
	return p, cmd
}

// BenchmarkFirstFrame is the time from starting the UI on the default
// scenario to its first frame on the terminal (goal: 300 ms), and to the
// first frame showing the built lab.
func BenchmarkFirstFrame(b *testing.B) {
	for _, name := range []string{scenarios.DefaultScenario, "fleet"} {
		b.Run(name, func(b *testing.B) {
			var first, ready []time.Duration
			for range b.N {
				start := time.Now()
				sc, err := scenarios.Load(name)
				if err != nil {
					b.Skip(err)
				}
				src := newLive(sc, nil, 1)
				out := &firstFrame{done: make(chan struct{})}
				p := &readyProbe{model: newModel(src, theme.New(theme.Default, false), time.Now), ready: make(chan struct{})}
				prog := tea.NewProgram(p, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(120, 35), tea.WithoutSignals())
				go func() { _, _ = prog.Run() }()
				<-out.done
				first = append(first, out.at.Sub(start))
				<-p.ready
				ready = append(ready, time.Since(start))
				prog.Quit()
				prog.Wait()
				src.close()
			}
			b.ReportMetric(float64(median(first).Microseconds())/1000, "ms-first-frame")
			b.ReportMetric(float64(median(ready).Microseconds())/1000, "ms-lab-shown")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkFrame10000Rollout is one UI frame at 160x48 with 10,000 boards
// in the device list and a 10,000-board campaign in the rollout pane: the
// frame applied (the device list and the aggregates handed in) and the
// whole screen drawn. The goal is 8 ms. The snapshot itself is the lab's
// (BenchmarkFleetBoards measures the lab at scale).
func BenchmarkFrame10000Rollout(b *testing.B) {
	m, src := fixtureModel(theme.New(theme.Default, false), 160, 48)
	f := src.frame("")
	base := f.snap.Devices[0]
	f.snap.Devices = make([]device.Summary, 10000)
	for i := range f.snap.Devices {
		f.snap.Devices[i] = base
		f.snap.Devices[i].ID = fmt.Sprintf("box-%d", i+1)
	}
	v := haltedRollout(10000)
	f.snap.Rollout = &v
	f.events = nil
	m.Update(frameMsg(f))
	m.selIdx = 5000
	m.Update(press("down"))
	b.ResetTimer()
	for range b.N {
		m.Update(frameMsg(f))
		m.dirty = true
		_ = m.View()
	}
}
