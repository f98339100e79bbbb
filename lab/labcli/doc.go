// Package labcli is the command line of the lab's standalone pieces:
// `tinylab device` runs virtual boards headless in real time, printing their
// events in the style of RIOT's console (and, with --rd, registers them with
// a CoRE Resource Directory), `tinylab repo` serves a folder as a CoAP update
// repository, `tinylab gateway` serves the lab's gateway endpoint on its own
// (an RFC 9176 RD and /lab/devices), and `tinylab attach` follows devices
// running elsewhere. It imports lab and the packages whose key
// formats it reads (suit, firewall); nothing imports it but main.
package labcli
