package lab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"tinylab/device"
)

// Recorder writes every event of the bus to w as JSON Lines, in order: the
// transcript. Two runs of the same scenario with the same seed in Fast mode
// write the same bytes. It encodes and writes off the world (Bus.Drain).
type Recorder struct {
	w      *bufio.Writer
	remove func()
	err    error
	n      int
}

// Record starts recording the bus to w.
func (l *Lab) Record(w io.Writer) *Recorder {
	r := &Recorder{w: bufio.NewWriterSize(w, 64<<10)}
	r.remove = l.bus.Drain(r.write)
	return r
}

func (r *Recorder) write(e device.Event) {
	if r.err != nil {
		return
	}
	b, err := json.Marshal(e)
	if err == nil {
		b = append(b, '\n')
		_, err = r.w.Write(b)
	}
	if err != nil {
		r.err = fmt.Errorf("record: %w", err)
		return
	}
	r.n++
}

// Close stops recording and flushes what was written.
func (r *Recorder) Close() error {
	r.remove()
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("record: %w", err)
	}
	return r.err
}

// Events is how many events were recorded.
func (r *Recorder) Events() int { return r.n }

// ReadTranscript reads a JSON Lines transcript back into typed events. A
// line that does not decode is an error naming its line number.
func ReadTranscript(rd io.Reader) ([]device.Event, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var out []device.Event
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e device.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("transcript line %d: %w", line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("transcript: %w", err)
	}
	return out, nil
}
