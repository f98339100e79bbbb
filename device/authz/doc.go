// Package authz is the one table that says who may do what on a device
// (DESIGN §5b): which party (anyone on plain CoAP, a tenant or the owner
// over DTLS) may use which method on which of the device's CoAP resources,
// and under what condition (its own containers, a configured repository).
//
// It is a pure table with typed parties, resources, methods, rules and
// decisions: it does no I/O and keeps no state. The device asks it before
// a resource handler changes anything and reports a refusal as an event.
//
// authz imports nothing of the project.
package authz
