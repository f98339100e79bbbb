// Package attach follows devices that run in other processes or on other
// machines: found in a CoRE Resource Directory or given by address, their
// container states and SUIT status followed with Observe (RFC 7641) on
// /containers and /suit/status, commands (start, stop, restart, delete,
// update, any GET) sent to them over CoAP.
//
// Attached devices run in real time, outside any lab's virtual clock: what
// they report becomes events stamped with the wall time since attaching
// began, on devices named after them, so a record keeps them and a replay
// shows them while a lab's own transcript stays as it was.
//
// Following a device: a probe every Probe interval (a GET of /riot/board
// while it is not followed, a CoAP ping once it is); a failed probe or
// request marks it unreachable, with since when, and drops its observations;
// the next successful probe marks it live again and observes anew. A device
// that answers an Observe request without the Observe option (RFC 7641 §3.2:
// it does not accept the registration) is polled instead, at the same pace.
//
// The network is behind Dialer and Session, so that a DTLS dialer holding a
// party's credentials can take the place of the plain UDP one.
//
// attach imports device (for the formats devices answer in and the event
// types) and device/coapnet; nothing of lab, scenarios or ui.
package attach
