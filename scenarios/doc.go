// Package scenarios holds tinylab's scenario files and plays them: the
// format (YAML, documented in README.md), a strict parser whose errors name
// the file, line and column and what was expected, the built-in scenarios
// (embedded with their containers), and the runner that builds a lab from a
// scenario, performs each step's actions through the lab's command line,
// waits in virtual time and checks the step's expectations against the
// lab's events and state.
//
// The same runner drives headless runs (`tinylab run`, Fast mode) and the
// presenter's UI (Paced mode): each step ends at a break of the world at an
// exact virtual time, so stepping live and playing headless give the same
// sequence of events.
//
// scenarios imports lab (and what lab offers: device, firewall, the vm
// loaders for container sources); it never imports ui.
package scenarios
