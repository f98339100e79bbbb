// Package fwcli is the `tinylab metadata` command: workshop tooling to make
// signed TinyContainer metadata (create), to read and check any metadata,
// upstream's included (show), and to make an owner key pair (keygen).
//
// It uses only the firewall package and the standard library's flag package;
// it must not import the device, the lab or the UI.
package fwcli
