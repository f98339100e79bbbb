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
	"tinylab/lab"
	"tinylab/lab/sim"
	"tinylab/scenarios"
	"tinylab/ui/theme"
)

// fleetLive builds the fleet built-in (1,000 boards, 2,000 containers)
// behind a live source, played for a few virtual seconds so every
// container has a state, counters and heartbeats.
func fleetLive(b *testing.B) (*live, *model) { return builtinLive(b, "fleet", 0) }

// builtinLive is fleetLive for the built-in name with its fleet's count set
// to n boards (0 keeps it).
func builtinLive(b *testing.B, name string, n int) (*live, *model) {
	b.Helper()
	sc, err := scenarios.Load(name)
	if err != nil {
		b.Skip("the built-in is not there:", err)
	}
	if n > 0 {
		for i := range sc.Devices {
			if sc.Devices[i].Count > 0 {
				sc.Devices[i].Count = n
			}
		}
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
	m.Update(frameMsg(src.frame(m.selID, m.devRows())))
	return src, m
}

// BenchmarkFrameBoards is one UI frame of the bad-release built-in at
// 1,000 and 10,000 boards with its rollout under way, end to end as the
// program takes it: the lab's snapshot (the rows on screen, the selected
// board, the campaign and its map), the model updated and the whole screen
// drawn (160x48), with the selection in the middle of the list. The goal is
// 8 ms.
func BenchmarkFrameBoards(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("boards=%d", n), func(b *testing.B) {
			src, m := builtinLive(b, "bad-release", n)
			l := src.runner().Lab()
			if _, err := l.Exec("rollout thermo v2 --to box-* --canary 1% --waves 10%,50%,100% --halt-on 5% --pause 15s"); err != nil {
				b.Fatal(err)
			}
			if err := l.Advance(context.Background(), 3*time.Second); err != nil {
				b.Fatal(err)
			}
			m.selectDevice(n / 2)
			m.fixScroll()
			m.Update(frameMsg(src.frame(m.selID, m.devRows())))
			b.ResetTimer()
			for range b.N {
				m.Update(frameMsg(src.frame(m.selID, m.devRows())))
				m.dirty = true
				_ = m.View()
			}
			b.StopTimer()
			if got := len(m.snap.IDs); got != n || m.snap.Rollout == nil || m.snap.Rollout.State.Over() {
				b.Fatalf("%d devices in the list (want %d), rollout %v", got, n, m.snap.Rollout)
			}
		})
	}
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
			_ = r.Lab().SnapshotRows(m.selID, m.devRows())
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
			f := src.frame(m.selID, m.devRows())
			f.events = append(f.events, batch...)
			m.Update(frameMsg(f))
			_ = m.View()
		}
	})
	b.Run("frame-filtered", func(b *testing.B) {
		m.log.setFilter("node-42")
		defer m.log.setFilter("")
		for range b.N {
			f := src.frame(m.selID, m.devRows())
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
		m.Update(frameMsg(src.frame(m.selID, m.devRows()))) // drain what the build made
		w.SetMode(sim.Paced)
		w.SetSpeed(speed)
		w.SetPaused(false)
		b.StartTimer()
		start, v0 := time.Now(), r.Lab().Now()
		var events int
		var frames []time.Duration
		for time.Since(start) < 3*time.Second {
			t0 := time.Now()
			f := src.frame(m.selID, m.devRows())
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
	if len(p.model.snap.IDs) > 0 && p.model.busy == "" {
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
// frame applied (the ids of the list, the summaries of the rows the UI asked
// for, the campaign) and the whole screen drawn. The goal is 8 ms. The
// snapshot itself is the lab's (BenchmarkSnapshot in lab, and
// BenchmarkFrameBoards here end to end).
func BenchmarkFrame10000Rollout(b *testing.B) {
	m, src := fixtureModel(theme.New(theme.Default, false), 160, 48)
	f := src.frame("", lab.AllRows)
	base := f.snap.Devices[0]
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf("box-%d", i+1)
	}
	v := haltedRollout(10000)
	// the frame a source hands out for the rows asked for
	frameFor := func(rows lab.Rows) frame {
		g := f
		g.events = nil
		g.snap.IDs, g.snap.Rollout = ids, &v
		from, to := rows.Clip(len(ids))
		g.snap.First, g.snap.Devices = from, make([]device.Summary, to-from)
		for i := range g.snap.Devices {
			g.snap.Devices[i] = base
			g.snap.Devices[i].ID = ids[from+i]
		}
		return g
	}
	m.Update(frameMsg(frameFor(m.devRows())))
	m.selIdx = 5000
	m.Update(press("down"))
	b.ResetTimer()
	for range b.N {
		m.Update(frameMsg(frameFor(m.devRows())))
		m.dirty = true
		_ = m.View()
	}
}
