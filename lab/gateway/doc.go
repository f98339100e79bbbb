// Package gateway is the lab's one CoAP endpoint toward the outside, in the
// place TinyContainer's edge gateway holds: a CoRE Resource Directory
// (RFC 9176) where devices register, a collector at /collect/... that takes
// what remote endpoints send (POST or PUT; counted, the last payload kept),
// and a read-only JSON summary of the fleet at /lab/devices for scripts that
// watch a run.
//
// The RD implements what libcoap's example RD leaves out: lifetimes expire,
// a registration is refreshed by a POST to it and removed by DELETE, a second
// registration with the same ep replaces the first, and the lookup interface
// (/rd-lookup/ep, /rd-lookup/res) answers with each endpoint's base, and
// shows the lab's own devices too (under /lab/rd/ID, without a lifetime)
// unless they registered themselves: the RD view of the whole fleet. Like
// libcoap's RD, /.well-known/core lists each registration as </rd/N> and a
// GET on it returns the links sent, so one script reads both.
//
// The gateway is infrastructure, not a device: lifetimes run on its clock
// (wall time unless a test gives it another). It keeps nothing between
// requests but the registrations, and answers from a stateless socket.
// Block-wise GET is supported for large answers; registrations must fit in
// one datagram (RIOT's cord_ep sends one).
//
// gateway imports device/coapnet only; the lab gives it the summary to serve.
package gateway
