package ui

// paneID names a pane; the order is the tab order.
type paneID int

const (
	paneDevices paneID = iota
	paneDetail
	paneSuit
	paneEvents
	paneStory
	paneCount
)

func (p paneID) String() string {
	return [...]string{"devices", "device", "update", "events", "scenario"}[p]
}

// rect is a region of the screen in cells.
type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

// layout places the panes: the status line on top, the footer at the
// bottom, devices and the selected device above, the update pane and the
// event log below, the story across the foot.
type layout struct {
	w, h  int
	panes [paneCount]rect
	// tooSmall is set when the terminal cannot hold the panes at all.
	tooSmall bool
}

// Smallest terminal the panes are drawn in; below it the UI says so.
const minW, minH = 60, 14

// storyRows is how many lines the story would like: its title, the
// narration (wrapped) and its last line.
func computeLayout(w, h int, zoom paneID, zoomed bool, storyRows int) layout {
	l := layout{w: w, h: h}
	if w < minW || h < minH {
		l.tooSmall = true
		return l
	}
	body := rect{0, 1, w, h - 2}
	if zoomed {
		l.panes[zoom] = body
		return l
	}
	// the narration is what the presenter reads out: it gets its lines, up
	// to two fifths of the screen, and a little more on tall screens
	sh := min(max(storyRows+2, 5), max(body.h*2/5, 5))
	if body.h >= 40 {
		sh = max(sh, 9)
	}
	rest := body.h - sh
	top := (rest + 1) / 2
	bottom := rest - top
	lw := min(max(w*34/100, 30), 48)
	// the update pane's check list shows the values compared: on wide
	// screens it takes more of the bottom row than the device list does above
	bw := max(lw, w*40/100)
	if w >= 110 {
		bw = w * 44 / 100
	}
	l.panes[paneDevices] = rect{0, body.y, lw, top}
	l.panes[paneDetail] = rect{lw, body.y, w - lw, top}
	l.panes[paneSuit] = rect{0, body.y + top, bw, bottom}
	l.panes[paneEvents] = rect{bw, body.y + top, w - bw, bottom}
	l.panes[paneStory] = rect{0, body.y + rest, w, sh}
	return l
}

// at returns the pane under a cell, if any.
func (l layout) at(x, y int) (paneID, bool) {
	for p := range paneCount {
		if r := l.panes[p]; r.w > 0 && r.contains(x, y) {
			return p, true
		}
	}
	return 0, false
}
