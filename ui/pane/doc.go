// Package pane draws the UI's panes: pure functions from a copy of the lab
// (lab.Snapshot, device.Snapshot, events, the story so far) and a size to
// lines of text. A pane holds no state and never touches the lab; the root
// model in package ui owns focus, selection and scrolling and hands them in.
//
// Every function returns exactly the lines it is asked for, each exactly as
// wide as asked (in terminal cells), so the root can place panes side by side
// without measuring them, and only visible rows are ever formatted: a device
// list of a thousand boards costs what its visible rows cost.
//
// pane imports device, lab (for Snapshot and Note), scenarios (for the
// runner's step events) and the ui/theme styles; it must not import the ui
// package, nor start anything.
package pane
