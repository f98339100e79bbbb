// Package labcli is the command line of the lab's standalone pieces:
// `tinylab device` runs virtual boards headless in real time, printing their
// events in the style of RIOT's console, and `tinylab repo` serves a folder
// as a CoAP update repository. It imports lab and the packages whose key
// formats it reads (suit, firewall); nothing imports it but main.
package labcli
