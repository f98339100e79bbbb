// Package firewall owns what a TinyContainer device decides about its
// containers' calls: the container metadata and its tokens, the call table and
// syscall mask, each container's policy, the device's fd table, per-loop call
// budgets, and the accounting of every allowed and denied call.
//
// It follows TinyContainer (github.com/TinyPART/RIOT, branch tinycontainer):
//
//   - Metadata (metadata.c, tinycontainer_metadata.cddl): CBOR tag
//     6082514239057121876 ("TinyPART") over {1: bstr .cbor container,
//     2: bstr .cbor endpoints, 3: bstr .cbor security}; container
//     {1: uid, 2: type, 3: syscall-mask CWT}; endpoints
//     [{1: id, 2: peer type, 3: peer uid, 4: peer endpoint, 5: direction,
//     6: token}]; security [start max, loop period, loop max, loop lifetime,
//     stop max, data token, code token, metadata token]. Unknown keys are
//     refused, as upstream does; sizes are bounded (Limits).
//   - Tokens (cwt.c, memmgr_ram.c): CWTs in COSE_Sign1 with Ed25519, claims
//     bitmask (-65536) and sha256 (-65537). The mask token carries the
//     syscall mask; the data and code tokens hash those bytes; the metadata
//     token hashes the metadata without the token's own bytes at its end.
//     Upstream verifies the signature over the raw claim bytes rather than the
//     COSE Sig_structure, and its default crypto backend accepts anything;
//     here every token is verified for real with go-cose, and the raw variant
//     only in SigningUpstreamRaw mode, with each result saying when it was used.
//   - Policy (service.c, service_endpoint*.c): a call is allowed when bit
//     (syscall id - 1) of the verified mask is set; a failed token leaves mask
//     0. Endpoints map the container's ids to peers; opening the same endpoint
//     twice is refused; fds are numbered per device from 1. Upstream leaves
//     container peers, heartbeat and budgets unimplemented; they are here.
//
// Direction is read from the container's side (in = it reads), as the CDDL
// names the values; upstream's fd table tests the reverse (see Direction).
//
// The device supplies what the firewall cannot know: whether a peer container
// runs (Options.PeerRunning), whether a pointer argument is inside the
// container's memory (Request.Fault), and when a loop starts (BeginLoop).
//
// firewall imports nothing of the project. CBOR is fxamacker/cbor; COSE is
// veraison/go-cose; nothing is hand-written where those libraries do the job.
package firewall
