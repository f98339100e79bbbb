// Package uicli is the `tinylab ui` command (and `tinylab` alone): it parses
// the scenario and the flags, checks that there is a terminal to draw in, and
// runs the UI.
//
// uicli imports ui, scenarios (for the default scenario's name) and
// ui/theme; nothing imports it but main.
package uicli
