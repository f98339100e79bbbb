// Package device is one virtual nRF52 board: its profile (flash, RAM, slots),
// local peers (sensors and actuators with seeded models), energy model, and
// the TinyContainer agent that loads, verifies, runs and watches containers
// behind the application firewall, and installs SUIT updates.
//
// The agent is written by hand: no library models TinyContainer's lifecycle,
// its hooks and its limits. Everything a device does happens inside its Env
// (the lab's world): it never reads the wall clock or global randomness, and it
// reports what happens as typed Events to whoever the Env hands them to.
//
// # Runtimes
//
// The agent runs containers through one seam, shaped like TinyContainer's
// runtime_impl.h (runtime.go): a Runtime checks code at provisioning (Load)
// and its Module makes an Instance (Create, runtime_create) with hooks
// OnStart, OnLoop, OnStop and Finalize. Each hook gets its Budget and returns
// r0 and its Counts by instruction class, which the CPUModel prices as time
// and the EnergyModel as energy, so the watchdog, the limits, energy, the UI
// and record/replay are the same for every runtime. A failed hook's error is
// a *Trap (code, phrase, pc or function+offset, message) that the agent turns
// into Fault or BudgetExceeded events and the FAILED reason. The natives
// (helpers.go) are one implementation for every runtime: they take helper
// numbers and a Memory (Read, Write, ReadString), and every call goes
// through the firewall.
//
// The metadata's container type picks the runtime from Config.Runtimes (3
// bpf, 4 wasm); code whose magic is another runtime's is refused naming both,
// and Config.PinRuntime builds a firmware with one runtime, as upstream does.
// runtime_bpf.go is the eBPF runtime (package vm). runtime_webassembly.go
// (not runtime_wasm.go: Go would build that file for GOARCH=wasm only) is
// the WebAssembly runtime (package vm/wasm): it maps each imported native
// to its helper number by name (firewall.HelperByName), so every native
// goes through the same grants, endpoint and pointer checks and denial
// events as eBPF; a hook that takes an i32 finds the container's data at
// __heap_base; traps name the function and the offset. It compiles each
// distinct code once for all devices of a process, and NewWASM or
// RuntimesWithEngine force one wazero engine (tests and the CLI), never
// the device itself. A runtime registers itself in the builtin list from
// its own file, so adding one touches neither the agent nor the natives.
//
// SUIT anti-rollback follows RIOT: one sequence number per device, the
// highest stored in any storage (suit_storage_get_highest_seq_no), which
// every manifest, RAM slot or container, must exceed. Config.SeqPerContainer
// is tinylab's divergence, one number per container, and its check says so.
//
// # Who may do what
//
// Who may manage it is the table in device/authz: every request is asked
// of it before a resource runs (access.go); the transport names the party
// (plain CoAP: anyone, or the owner in the insecure demo mode; DTLS: the
// party of the session's PSK identity). Remote endpoints POST for real
// (remote.go) from a task, so the virtual clock holds for the exchange.
//
// A fleet's boards hold the same container bytes and metadata: the host
// keeps one read-only copy of each (shared.go), and every board still
// counts it as its own flash and RAM.
//
// device imports vm, suit and firewall; it must never import lab, scenarios or
// ui (tests may use lab/sim, which imports nothing of the project).
package device
