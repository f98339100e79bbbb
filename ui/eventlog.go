package ui

import (
	"sort"
	"strings"

	"tinylab/device"
	"tinylab/ui/pane"
)

// logCap is how many events the log keeps to scroll back through and
// filter; older ones leave it (the transcript has them all).
const logCap = 20000

// eventLog is the event log's memory: a ring of the last logCap events and,
// with a filter, the absolute numbers of those that match, so filtering
// costs one test per new event and rows are formatted only when shown.
type eventLog struct {
	ring   []device.Event
	total  uint64 // events appended so far; event a sits at ring[a%logCap]
	filter string // lower case; "" shows everything
	match  []uint64
	devW   int
}

func newEventLog() *eventLog { return &eventLog{ring: make([]device.Event, logCap), devW: 5} }

// oldest is the absolute number of the oldest event still held.
func (l *eventLog) oldest() uint64 {
	if l.total > logCap {
		return l.total - logCap
	}
	return 0
}

func (l *eventLog) append(evs []device.Event) {
	for _, e := range evs {
		l.ring[l.total%logCap] = e
		if l.filter != "" && l.matches(e) {
			l.match = append(l.match, l.total)
		}
		l.total++
		if n := len(e.Device); n > l.devW && n <= 12 {
			l.devW = n
		}
	}
	if len(l.match) > 0 && l.match[0] < l.oldest() {
		k := sort.Search(len(l.match), func(i int) bool { return l.match[i] >= l.oldest() })
		l.match = append(l.match[:0], l.match[k:]...)
	}
}

// matches tests an event against the filter: "!" keeps the failures (denied
// calls, faults, limits, missed heartbeats, failed updates and checks), any
// other text is looked for in the device, the kind and the content.
func (l *eventLog) matches(e device.Event) bool {
	if l.filter == "!" {
		return pane.Bad(e)
	}
	return strings.Contains(strings.ToLower(pane.Text(e)), l.filter)
}

func (l *eventLog) setFilter(f string) {
	f = strings.ToLower(strings.TrimSpace(f))
	if f == l.filter {
		return
	}
	l.filter = f
	l.match = l.match[:0]
	if f == "" {
		return
	}
	for a := l.oldest(); a < l.total; a++ {
		if l.matches(l.ring[a%logCap]) {
			l.match = append(l.match, a)
		}
	}
}

func (l *eventLog) clear() {
	l.total = 0
	l.match = l.match[:0]
}

// count is how many rows the log shows (matching ones with a filter).
func (l *eventLog) count() int {
	if l.filter != "" {
		return len(l.match)
	}
	return int(l.total - l.oldest())
}

// abs is the absolute number of row i, counted from the newest (0).
func (l *eventLog) abs(i int) uint64 {
	if l.filter != "" {
		return l.match[len(l.match)-1-i]
	}
	return l.total - 1 - uint64(i)
}

// row is the index (from the newest) of absolute event a, or of the nearest
// older row shown when a is filtered out or gone.
func (l *eventLog) row(a uint64) int {
	if l.filter != "" {
		k := sort.Search(len(l.match), func(i int) bool { return l.match[i] > a })
		return max(len(l.match)-k, 0)
	}
	if a >= l.total {
		return 0
	}
	if a < l.oldest() {
		return l.count() - 1
	}
	return int(l.total - 1 - a)
}

// rows returns up to n events from row top down (newest first).
func (l *eventLog) rows(top, n int) []device.Event {
	c := l.count()
	out := make([]device.Event, 0, min(n, max(c-top, 0)))
	for i := top; i < c && i < top+n; i++ {
		out = append(out, l.ring[l.abs(i)%logCap])
	}
	return out
}

func (l *eventLog) event(a uint64) device.Event { return l.ring[a%logCap] }
