// Package uicli is the `tinylab ui` command (and `tinylab` alone): it parses
// the scenario and the flags, checks that there is a terminal to draw in, and
// runs the UI. Replay is the hook `tinylab replay` calls to show a recording.
//
// uicli imports ui, ui/theme, scenarios (for the default scenario's name),
// device (for the events of a recording), lab/attach (credentials for
// coaps:// devices) and lab/labcli (its flag parser); nothing imports it but
// main.
package uicli
