// Package ui is tinylab's terminal UI: a live, presentable dashboard of the
// lab with the presenter's flow (step, pause, speed, back, reset), a command
// line for manual testing, and replay of recorded runs.
//
// It is a Bubble Tea v2 program. One root model (model.go) owns the layout,
// focus, overlays (help, console) and key and mouse routing; the panes in
// ui/pane are plain renderers of a snapshot of the lab; ui/theme holds the
// styles. What is shown comes from a source (source.go): a scenario runner
// on a live lab whose world runs in its own goroutine (live.go), or a
// recorded transcript folded back into the same snapshot types (replay.go).
//
// Lab events reach the UI coalesced: a frame command, at most one in flight,
// drains the UI's bus reader and takes one snapshot (30 times a second,
// 20 when nothing moves), off the UI loop; Update only applies it. The
// snapshot carries every device's id but summarises only the device list's
// rows on screen and a screenful either side (model.devRows), so a frame
// costs about the same with ten boards or ten thousand. Anything
// that can take time — a lab command's CoAP exchange, a step's actions,
// rebuilding the lab to go back a step — runs in a tea.Cmd and reports back
// with a message. Update never blocks and never calls Program.Send.
//
// What changes in one virtual instant is shown one state at a time
// (hold.go): each state of a burst of transitions stays on screen for a
// least wall time. Only the screen lingers; the lab and its transcript are
// untouched.
//
// ui imports scenarios, lab and device (for snapshots, commands and events);
// it reads the lab only through snapshots, the bus and the command line,
// never through device internals. Devices attached from elsewhere (--rd,
// --attach) come through lab/attach and join the device list and the log,
// marked live or unreachable. Nothing below ui imports it.
package ui
