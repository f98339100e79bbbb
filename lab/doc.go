// Package lab is the world the devices live in: it builds devices from
// specs, owns the virtual clock (lab/sim) and the event bus, runs the update
// repository (lab/repo), holds the keys of every party (the owner who issues
// container tokens, each tenant who signs its updates, the maintainer), and
// offers the commands that the scenario runner, the UI's command line and
// the CLI all use: load, start, stop, delete, update, sensor, power cut,
// drop packets, tamper, grant and revoke, raw CoAP requests, and rollout
// campaigns (campaign.go drives the lab/rollout state machine: releases
// published per board, triggers over CoAP, the devices' events fed back).
//
// Device commands travel over real CoAP on loopback, from the lab's own
// socket to each device's socket: the lab is a management client like
// TinyContainer's controller, and a tester's coap-client is its peer.
// Fleets (Options.BoardsPerSocket) put several devices on one socket, told
// apart by Uri-Host (see device/coapnet.Hosts). Provision sets a fleet up
// with several requests in flight, in a fixed order into the world
// (provision.go), and printers read the bus off the world (Bus.Drain).
//
// Each owner and tenant has a DTLS PSK from the seed; commands go as the
// owner over its DTLS session, or as another party (Actor, `as PARTY`):
// a tenant over its own session, anyone over plain CoAP (secure.go). The
// collector (collector.go) is the lab's CoAP endpoint for remote peers.
// Physical acts (a sensor value, a power cut, a lossy link) act on the
// device directly, in the world.
//
// Beyond one process: devices with sockets can register with a CoRE Resource
// Directory (device/cord, from the device's own socket, on the lab's clock:
// only in paced mode, as a fast clock would make lifetimes meaningless, and a
// paused lab stops refreshing), and the lab can run its gateway endpoint
// (lab/gateway: an RD and /lab/devices, the fleet as JSON). lab/attach, which
// follows devices running elsewhere, is used by the UI and the CLI; lab
// itself does not import it.
//
// lab imports device (and through it vm, suit, firewall); it never imports
// scenarios or ui. Records go to JSON Lines and come back for replay.
package lab
