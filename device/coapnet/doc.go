// Package coapnet is the CoAP plumbing shared by tinylab's devices and its
// update repository, on top of go-coap v3 over UDP.
//
// It owns what go-coap does not do the way a constrained device does:
// block-wise transfer (RFC 7959) is done here by hand, one real exchange per
// block, so that a device can pace each block in virtual time, lose it on a
// lossy link and report progress, as RIOT's nanocoap does; a shared periodic
// runner so a thousand servers do not each keep a ticker goroutine; servers
// tuned for small memory; a guard that refuses to wrap a peer's 16-bit message
// ids within EXCHANGE_LIFETIME (go-coap would answer from its response cache
// and the client would hang); the TinyContainer /container/ options;
// the RFC 6690 link format, which discovery, the RD and its clients read; and
// CoAP over DTLS with PSK (go-coap's dtls package over pion/dtls):
// ListenDTLS serves the same handlers as Listen, PeerSession names the
// identity a request came with, DialDTLS is the client. URIs are read
// without a lookup (ReadURI) and resolved apart, so no handler waits for DNS.
//
// coapnet imports nothing of the project. It reads the wall clock only for
// network timing (go-coap's retransmissions and response cache live in wall
// time); device logic never sees it.
package coapnet
