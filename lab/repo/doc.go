// Package repo is the lab's update repository: a CoAP file server, like
// aiocoap-fileserver serving a coaproot folder, from which devices fetch SUIT
// manifests and payloads block by block.
//
// It serves files from a folder, files the lab puts in memory (tenants'
// signed updates), or both; directories answer with an RFC 6690 link-format
// listing. A Tamper hook lets an attack scenario change what is served,
// exactly as a compromised server or a man in the middle would.
//
// It answers through coapnet's stateless server: a repository keeps nothing
// per peer, and go-coap's per-peer response cache, scanned on every datagram,
// made a device's thousandth block cost far more than its first.
//
// repo imports device/coapnet for the block-wise plumbing and nothing else of
// the project.
package repo
