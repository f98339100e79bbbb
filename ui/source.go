package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"tinylab/device"
	"tinylab/lab"
	"tinylab/ui/pane"
)

// source is what the UI shows: a live lab played by a scenario runner, or a
// recorded transcript. Every method returns at once; what takes time (a
// CoAP exchange, rebuilding a lab) runs in the tea.Cmd it returns, which
// reports back with a noteMsg.
type source interface {
	// frame drains the events published since the last frame and takes one
	// snapshot, with detail the device shown in full and rows the part of
	// the device list summarised. It may wait for the world's lock, so the
	// UI calls it from a command, never from Update.
	frame(detail string, rows lab.Rows) frame
	next() tea.Cmd
	back() tea.Cmd
	reset() tea.Cmd
	playPause() tea.Cmd
	faster(up bool) tea.Cmd
	exec(line string) tea.Cmd
	complete(line string) []string
	replay() bool
	close()
}

// frame is one coalesced update of the UI: everything that happened since
// the previous frame.
type frame struct {
	snap    lab.Snapshot
	events  []device.Event
	dropped uint64 // events the bus dropped for this reader so far
	story   pane.Story
	busy    string // what the source is doing (building, rewinding)
	err     error  // why the lab could not be built
	restart bool   // the log starts again (a new lab, a replay sought back)
	took    time.Duration
}

// noteMsg reports the outcome of a command for the footer and the console.
type noteMsg struct {
	text string
	bad  bool
	// console lines a command line command produced
	console []string
}

// speeds are the steps of + and -, within the world's limits.
var speeds = []float64{0.25, 0.5, 1, 2, 5, 10, 20, 50, 100}

// nextSpeed is the speed one step up or down from s.
func nextSpeed(s float64, up bool) float64 {
	if up {
		for _, v := range speeds {
			if v > s+1e-9 {
				return v
			}
		}
		return speeds[len(speeds)-1]
	}
	for i := len(speeds) - 1; i >= 0; i-- {
		if speeds[i] < s-1e-9 {
			return speeds[i]
		}
	}
	return speeds[0]
}
