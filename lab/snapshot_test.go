package lab

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// A snapshot of some rows has every id, the summaries of those rows only,
// and the detail wherever its device is.
func TestSnapshotRows(t *testing.T) {
	l := testLab(t, 1)
	for i := 2; i <= 6; i++ {
		if _, err := l.AddDevice(DeviceSpec{ID: fmt.Sprintf("bench-%d", i), Board: "nrf52dk"}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, l.Load("bench-1", "coach"))
	must(t, l.Start("bench-1", "coach"))
	run(t, l, 2*time.Second)
	all := []string{"bench-1", "bench-2", "bench-3", "bench-4", "bench-5", "bench-6"}
	for _, tt := range []struct {
		name   string
		rows   Rows
		detail string
		first  int
		want   []string
	}{
		{"all", AllRows, "", 0, all},
		{"a window", Rows{From: 2, Count: 3}, "bench-3", 2, all[2:5]},
		{"the detail outside the window", Rows{From: 3, Count: 2}, "bench-1", 3, all[3:5]},
		{"past the end", Rows{From: 5, Count: 10}, "", 5, all[5:]},
		{"beyond the list", Rows{From: 9, Count: 3}, "bench-2", 6, nil},
		{"before the list", Rows{From: -4, Count: 2}, "", 0, all[:2]},
		{"no rows", Rows{From: 1, Count: 0}, "bench-6", 1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := l.SnapshotRows(tt.detail, tt.rows)
			if !slices.Equal(s.IDs, all) {
				t.Errorf("ids %v", s.IDs)
			}
			var got []string
			for _, d := range s.Devices {
				got = append(got, d.ID)
			}
			if s.First != tt.first || !slices.Equal(got, tt.want) {
				t.Errorf("rows from %d: %v, want from %d: %v", s.First, got, tt.first, tt.want)
			}
			switch {
			case tt.detail == "" && s.Detail != nil:
				t.Errorf("a detail of %s, none asked for", s.Detail.ID)
			case tt.detail != "" && (s.Detail == nil || s.Detail.ID != tt.detail):
				t.Errorf("detail %+v, want %s", s.Detail, tt.detail)
			}
		})
	}
	// the rows summarised are the same as in the whole list
	full, part := l.Snapshot(""), l.SnapshotRows("", Rows{From: 0, Count: 1})
	if c := part.Devices[0].Containers; len(c) != 1 || c[0].UID != "coach" || c[0].LastBeat < 0 ||
		fmt.Sprint(part.Devices[0]) != fmt.Sprint(full.Devices[0]) {
		t.Errorf("row 0 of a window %+v, of the whole list %+v", part.Devices[0], full.Devices[0])
	}
}

// The id list a snapshot hands out stays what it was, whatever its reader
// appends to it and whatever devices the lab adds afterwards (snapshots
// share the lab's list).
func TestSnapshotIDsStay(t *testing.T) {
	l := testLab(t, 1)
	for _, id := range []string{"bench-2", "bench-3"} {
		if _, err := l.AddDevice(DeviceSpec{ID: id, Board: "nrf52dk"}); err != nil {
			t.Fatal(err)
		}
	}
	before := l.SnapshotRows("", Rows{})
	mine := append(before.IDs, "mine")
	if _, err := l.AddDevice(DeviceSpec{ID: "bench-4", Board: "nrf52dk"}); err != nil {
		t.Fatal(err)
	}
	after := l.SnapshotRows("", Rows{}).IDs
	if !slices.Equal(before.IDs, after[:3]) || !slices.Equal(mine[3:], []string{"mine"}) || !slices.Equal(after[3:], []string{"bench-4"}) {
		t.Errorf("ids before %v, appended to %v, after %v", before.IDs, mine, after)
	}
}
