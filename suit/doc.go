// Package suit owns SUIT secure updates (RFC 9019, RFC 9124,
// draft-ietf-suit-manifest) the way RIOT implements them: envelopes in two
// wire formats, their signatures, the tools that build and sign them, and
// the update procedure with RIOT's order of checks and RIOT's error codes.
//
// It imports nothing of the project. The device fetches payloads (CoAP) and
// keeps slots and the sequence number; the procedure talks to it through
// the Storage, Fetcher and SeqStore interfaces, and reports every step as a
// typed Event. A SeqStore whose number is not RIOT's one per device (the
// highest of every storage) says so through SeqScoper, and the
// sequence-number check's message names it.
//
// # One model, two codecs
//
// Envelope, Manifest, Command and Parameters are one model. Decode reads
// both numberings and tells them apart by shape: CBOR tag 107 or an
// authentication wrapper that starts with a SUIT_Digest is the final format
// (draft-ietf-suit-manifest-34 and later); an untagged map whose wrapper
// holds COSE blocks is RIOT's draft-09. Manifest.Encode and Envelope.Encode
// write either numbering as deterministic CBOR (fxamacker/cbor, RFC 8949
// §4.2.1 core deterministic, which for SUIT's integer keys orders maps as
// suit-tool's canonical cbor2 output). The draft-09 command numbers are
// RIOT's (sys/include/suit/handlers.h and its suit-tool): run-sequence 30,
// run-with-arguments 31, swap 32, where the draft-09 CDDL itself says
// fetch-uri-list 30, swap 31, run-sequence 32.
//
// Decoding is strict (definite lengths, no duplicate keys, valid UTF-8, the
// manifest bstr in shortest form because the digest covers its head) and
// every error is a *Error naming the member ("manifest: common (3):
// components (2)[0][0]: expected a byte string, got a text string").
// fxamacker checks each bstr-wrapped level for well-formedness; a small
// hand-written scanner (cborscan.go) then splits arrays and maps and reads
// scalars in place, because fxamacker's reflection-based Unmarshal, one call
// per level and per scalar, cost several times the 10 µs decoding budget.
// A fuzz target compares the scanner with fxamacker. Describe prints every
// field of an envelope for people (`tinylab suit parse`).
//
// Create emits what RIOT's gen_manifest.py followed by `suit-tool create`
// emits; Sign adds a COSE_Sign1 (EdDSA or ES256, go-cose) over SHA-256 of
// the bstr-wrapped manifest, embedded in draft-09, detached behind the
// SUIT_Digest in the final format.
//
// # The procedure
//
// Process checks, in RIOT's order: signature (any trusted key, any block) →
// manifest digest → version → sequence number (must be above the stored
// one) → components and storage locations → the common sequence (vendor,
// class, parameters, try-each) → severable members against their digests →
// install: policy (RIOT's: version, sequence number, vendor and class
// validated; then Config.Policy) → fetch (length must equal image-size) →
// image-match (SHA-256; a mismatch erases the slot) → validate → commit →
// store the sequence number. Codes are RIOT's, including its quirks: a
// wrong manifest version is SUIT_ERR_SEQUENCE_NUMBER, as RIOT's
// _version_handler returns. Sections RIOT does not run (dependency
// resolution, payload-fetch, load, run/invoke) and commands it has no
// handler for are SUIT_ERR_UNSUPPORTED, naming the key. Where RIOT's code
// is an accident of its transport, the procedure names the condition
// instead: a payload longer or shorter than image-size, like a slot too
// small, is SUIT_ERR_STORAGE_EXCEEDED (RIOT's RAM storage uses it for a
// size mismatch; its fetch path returns the CoAP callback's -1); an unknown
// storage location is SUIT_ERR_STORAGE_UNAVAILABLE (RIOT: UNSUPPORTED from
// the components handler); a fetch with no way to get the payload is
// SUIT_ERR_UNSUPPORTED ("unsupported URL scheme"); a failed transfer or a
// power cut is SUIT_ERR_STORAGE. set-parameters does not overwrite a value
// already set, as draft-09 specifies (RIOT treats it like override).
//
// RIOT installs each component in its image-match handler and stores the
// sequence number there, before the validate sequence and before later
// components are checked. Here nothing installed changes until every
// fetched component matched its digest (install and validate sequences
// both ran): then Storage.Commit installs all components at once and only
// after it succeeds is the sequence number stored. A power cut (ctx
// cancelled) before the commit leaves the old content and the old sequence
// number. Commit and the sequence number store run back to back without a
// cancellation point; a device whose Commit can be cut half way should make
// the two one atomic write.
//
// What the procedure does not do: dependencies, copy/swap, compression,
// COSE_Sign/Mac blocks, digest algorithms other than SHA-256, and running
// the image (invoke). The CLI is in suitcli.
package suit
