// Package cord is a device's CoRE Resource Directory endpoint (RFC 9176),
// written after RIOT's cord_ep and cord_ep_standalone:
//
//   - discovery: GET /.well-known/core?rt=core.rd* at the RD, the first link
//     of type core.rd is the registration resource (skipped when the RD URI
//     names a path, as cord_ep_register with a regif does);
//   - registration: POST to it with ep=, lt= and base= as Uri-Query options
//     and the device's link-format description as payload (Content-Format
//     40); the 2.01 answer's Location-Path is the registration;
//   - refresh: an empty POST to the registration every 3/4 of the lifetime
//     (CONFIG_CORD_UPDATE_INTERVAL); 4.04 means the RD forgot it (it
//     restarted, or the lifetime ran out) and the endpoint registers again;
//     a timeout or another failure does too, after a back-off;
//   - removal: DELETE on the registration at a clean exit.
//
// Where it differs from RIOT, on purpose: RIOT gives up after a failed
// update, tinylab retries (a workshop RD restarts); and an RD that keeps
// registrations but cannot refresh them (libcoap 4.3.1's coap-rd answers
// 4.05 to the update and never expires anything) is reported once and the
// registration is kept, to be checked again at the next interval.
//
// Time: the schedule runs on the device's Env timers (virtual time, which in
// `tinylab device` follows the wall clock); the exchanges run on their own
// goroutine through a Transport, outside the world, so an RD that does not
// answer never holds the device's clock. The wall clock is read only to time
// the exchanges (Status.RegisteredIn, a figure for the UI and benchmarks).
// A DTLS transport can take the place of the plain one.
//
// cord imports device (for Env and events) and device/coapnet; device must
// not import it (the lab wires the two).
package cord
