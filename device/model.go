package device

import "time"

// CPUModel is the modelled cost of each class of instruction on the
// board's CPU. Containers are charged modelled time, not measured time, so a
// demo behaves the same on a fast laptop and a slow one. The defaults are the
// femto-container figures measured on an nRF52840 at 64 MHz (DESIGN §2).
type CPUModel struct {
	ALU, LoadStore, Branch, Divide, Call time.Duration
}

// DefaultCPU is the nRF52840 at 64 MHz.
var DefaultCPU = CPUModel{
	ALU:       500 * time.Nanosecond,
	LoadStore: 1100 * time.Nanosecond,
	Branch:    600 * time.Nanosecond,
	Divide:    2100 * time.Nanosecond,
	Call:      1000 * time.Nanosecond,
}

// Cost is the modelled time of a run with these instruction-class counts.
func (m CPUModel) Cost(alu, loadStore, branch, divide, call uint64) time.Duration {
	return time.Duration(alu)*m.ALU + time.Duration(loadStore)*m.LoadStore +
		time.Duration(branch)*m.Branch + time.Duration(divide)*m.Divide + time.Duration(call)*m.Call
}

// Time is the modelled time of a hook run that executed c.
func (m CPUModel) Time(c Counts) time.Duration {
	return m.Cost(c.ALU, c.LoadStore, c.Branch, c.Divide, c.Call)
}

// Budget is how many instructions can run in d at the cheapest class: a run
// that executes more has certainly spent more than d.
func (m CPUModel) Budget(d time.Duration) int64 {
	cheapest := min(m.ALU, m.LoadStore, m.Branch, m.Divide, m.Call)
	if cheapest <= 0 {
		return 1 << 40
	}
	return int64(d/cheapest) + 1
}

// EnergyModel is the board's power figures. Energy is counted in picojoules
// in integers, so runs repeat exactly; 1 mW for 1 ns is 1 pJ.
type EnergyModel struct {
	BatteryMAh float64 // capacity
	Volts      float64
	SleepUA    float64 // System ON idle with the RTC running
	CPUMA      float64 // CPU running from flash
	RadioMA    float64 // 802.15.4 radio, TX at 0 dBm (RX is about the same)
	BitRate    int     // radio bits per second
}

// DefaultEnergy is an nRF52840 on a CR2032-class cell (DC/DC on, 3 V).
var DefaultEnergy = EnergyModel{BatteryMAh: 220, Volts: 3, SleepUA: 3, CPUMA: 5, RadioMA: 4.8, BitRate: 250_000}

// CapacityPJ is the battery's energy.
func (e EnergyModel) CapacityPJ() int64 {
	return int64(e.BatteryMAh * 3.6 * e.Volts * 1e12)
}

// CPUPJ is the energy of d of CPU time.
func (e EnergyModel) CPUPJ(d time.Duration) int64 {
	return int64(float64(d) * e.CPUMA * e.Volts)
}

// SleepPJ is the energy of d of idle time.
func (e EnergyModel) SleepPJ(d time.Duration) int64 {
	return int64(float64(d) * e.SleepUA * e.Volts / 1000)
}

// Airtime is how long n bytes take on the radio.
func (e EnergyModel) Airtime(n int) time.Duration {
	if e.BitRate <= 0 {
		return 0
	}
	return time.Duration(int64(n) * 8 * int64(time.Second) / int64(e.BitRate))
}

// RadioPJ is the energy of sending or receiving n bytes.
func (e EnergyModel) RadioPJ(n int) int64 {
	return int64(float64(e.Airtime(n)) * e.RadioMA * e.Volts)
}
