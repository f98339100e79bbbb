package scenarios

import (
	"os"
	"runtime/debug"
)

// MemoryLimit is the soft memory limit a process playing the scenario
// holds itself to (runtime/debug.SetMemoryLimit), 0 when it needs none.
// A fleet's live heap is some 22 KiB a board; the collector's default
// (collect when the heap has doubled) lets a 10,000-board lab reach 500 MB.
// 64 MiB and 36 KiB a board hold it near 420 MB for a few more collections;
// a lab that outgrows the limit gets more collections, not a crash (the
// runtime bounds the collector's share of the CPU).
func (sc *Scenario) MemoryLimit() int64 {
	n := len(sc.DeviceIDs())
	if n <= boardsPerSocket {
		return 0
	}
	return 64<<20 + int64(n)*36<<10
}

// HoldMemory sets the scenario's memory limit for this process, unless it
// needs none or the user chose one (GOMEMLIMIT).
func HoldMemory(sc *Scenario) {
	if lim := sc.MemoryLimit(); lim > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(lim)
	}
}
