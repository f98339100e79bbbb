// Package device is one virtual nRF52 board: its profile (flash, RAM, slots),
// local peers (sensors and actuators with seeded models), energy model, and
// the TinyContainer agent that loads, verifies, runs and watches containers on
// the eBPF VM behind the application firewall, and installs SUIT updates.
//
// The agent is written by hand: no library models TinyContainer's lifecycle,
// its hooks and its limits. Everything a device does happens inside its Env
// (the lab's world): it never reads the wall clock or global randomness, and it
// reports what happens as typed Events to whoever the Env hands them to.
//
// device imports vm, suit and firewall; it must never import lab, scenarios or
// ui (tests may use lab/sim, which imports nothing of the project).
package device
