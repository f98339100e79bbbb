// Command tinylab is a terminal lab of virtual TinyContainer devices:
// several virtual nRF52 boards, each running a TinyContainer agent, a
// femto-container eBPF VM, an application firewall and a SUIT update client,
// speaking real CoAP on loopback.
//
// main parses the first word of the command line and hands the rest to the
// package that owns that command (ui, scenarios/scencli, lab/labcli,
// vm/vmcli, suit/suitcli, firewall/fwcli); it wires the pieces and does
// nothing else. Nothing imports main.
package main
