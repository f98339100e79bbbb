// Package suitcli is the maintainer's command line for SUIT updates:
// `tinylab suit keygen|create|sign|parse|verify`. It reads files, calls
// package suit and prints; it owns no SUIT logic. It imports only suit of
// the project.
package suitcli
