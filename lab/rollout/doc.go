// Package rollout is the state machine of an update campaign: a release
// sent to a fleet in waves (a canary first, then growing shares), watched
// while it lands, halted by itself when too many devices of a wave fail,
// and resumed, aborted, retried or rolled back by the operator.
//
// It is pure: it sends nothing and reads no clock. The lab feeds it what
// happened (Observe: an update's result, a container that went FAILED, a
// power change), the virtual time of each input, and the operator's
// commands; it answers with Actions (the devices to trigger now, when to be
// woken) and publishes every step as a typed event (Step, DeviceOutcome)
// through the emit function it was given, so the transcript holds the
// campaign beside the devices' own events and record and replay keep it.
//
// The rules, which the pane and the transcript explain:
//   - waves are cumulative shares of the targets in their given order: with
//     --canary 1% --waves 10%,50%,100% over 2,000 boards the waves hold 20,
//     180, 800 and 1,000 boards (every wave at least one);
//   - a wave's devices are all triggered when it starts; when every one of
//     them has an outcome (installed, failed, offline), the wave is watched
//     for the pause (the observation window: a container that goes FAILED
//     then, by watchdog, budget or fault, counts as a failure of its wave),
//     and the next wave starts at the end of the window;
//   - the campaign halts as soon as, in a wave of this rollout not yet
//     accepted by a resume, failed devices exceed the halt share of the
//     wave's size; devices powered off during their update are offline,
//     not failed (a power cut says nothing of the release), and are
//     triggered again when they boot while the campaign is rolling;
//   - resume accepts the halted wave as it is and goes on; abort sends
//     nothing more; retry triggers again the failed and offline devices;
//     rollback sends the previous version, as a new release with a higher
//     sequence number (SUIT refuses a downgrade by sequence), to every
//     device the campaign touched, in one wave; a device still busy with the
//     release is triggered when its update ends.
//
// rollout imports device only for the event types of the transcript; it
// must not import lab, scenarios or ui.
package rollout
