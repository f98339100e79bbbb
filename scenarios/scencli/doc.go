// Package scencli is the command line of scenarios: `tinylab scenarios`
// lists the built-ins, `tinylab run` plays one headless (printing narration
// and events, or JSON Lines), and `tinylab replay` prints a recorded run or
// hands it to the UI. It imports scenarios and lab; only main imports it.
package scencli
