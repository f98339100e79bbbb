// Package sim is the lab's virtual time: one clock, one ordered queue of
// timers, and a world lock that serializes everything the devices do.
//
// Two modes: Fast jumps the clock to the next due timer (headless runs and
// tests); Paced follows wall time times a speed factor, with pause, for live
// use. In both, timers run one at a time in the order (virtual time, order of
// scheduling), and each sees Now() equal to its own due time, so the same
// inputs give the same sequence of events whatever the machine's speed.
//
// A Task is a coroutine: a goroutine that runs only while the world is handed
// to it and hands it back when it sleeps in virtual time or ends. A SUIT update
// is one: it fetches over real CoAP, sleeps for the modelled air time of each
// block, and resumes at a deterministic virtual time. While a task or timer
// runs, the clock does not move, so a real network exchange in flight never
// lets time advance under it.
//
// sim imports nothing of the project; device code reaches it only through the
// device.Env interface, and tests of other packages may use it as their world.
package sim
