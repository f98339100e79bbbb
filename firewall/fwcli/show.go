package fwcli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"tinylab/firewall"
)

func show(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("show", "FILE [--owner PUB] [--code FILE] [--data FILE] [--upstream-signing]", stderr)
	var owner, codeFile, dataFile string
	var upstream bool
	fs.StringVar(&owner, "owner", "", "owner public key: PEM `FILE`, or 64 hex digits")
	fs.StringVar(&codeFile, "code", "", "container code `FILE` for the code token's digest")
	fs.StringVar(&dataFile, "data", "", "container data `FILE` for the data token's digest")
	fs.BoolVar(&upstream, "upstream-signing", false, "also accept upstream's demo signatures over the raw claim bytes")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exit(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(stderr, "show", err)
	}
	md, err := firewall.DecodeMetadata(raw)
	if err != nil {
		return fail(stderr, "show", fmt.Errorf("%s: %w", pos[0], err))
	}
	opts := firewall.VerifyOptions{SkipCode: codeFile == "", SkipData: dataFile == ""}
	if upstream {
		opts.Mode = firewall.SigningUpstreamRaw
	}
	if owner != "" {
		b, err := os.ReadFile(owner)
		if errors.Is(err, os.ErrNotExist) {
			b, err = []byte(owner), nil
		}
		if err != nil {
			return fail(stderr, "show", err)
		}
		if opts.Owner, err = firewall.ParsePublicKey(b); err != nil {
			return fail(stderr, "show", fmt.Errorf("--owner %s: %w", owner, err))
		}
	}
	if codeFile != "" {
		if opts.Code, err = os.ReadFile(codeFile); err != nil {
			return fail(stderr, "show", err)
		}
	}
	if dataFile != "" {
		if opts.Data, err = os.ReadFile(dataFile); err != nil {
			return fail(stderr, "show", err)
		}
	}
	rep := firewall.VerifyMetadata(md, opts)
	printMetadata(stdout, pos[0], len(raw), md)
	printTokens(stdout, md, &rep, opts)
	printPolicy(stdout, md, &rep, opts.Owner != nil)
	if opts.Owner != nil && rep.Err() != nil {
		return 1
	}
	return 0
}

func printMetadata(w io.Writer, name string, size int, md *firewall.Metadata) {
	c, s := md.Container, md.Security
	fmt.Fprintf(w, "file        %s, %d bytes, tag %d (TinyPART)\n", name, size, firewall.MetadataTag)
	fmt.Fprintf(w, "container   uid %q, type %s (%d)\n", c.UID, c.Type, uint8(c.Type))
	fmt.Fprintf(w, "endpoints   %d\n", len(md.Endpoints))
	for _, e := range md.Endpoints {
		fmt.Fprintf(w, "  %-9d %s, %s", e.ID, peerText(e), e.Direction)
		if len(e.Token) > 0 {
			fmt.Fprintf(w, ", token of %d bytes (not checked: upstream defines no claims for it)", len(e.Token))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "security    start max %d ms, loop period %d ms, loop max %d ms, lifetime %d loops, stop max %d ms\n",
		s.StartMaxMS, s.LoopPeriodMS, s.LoopMaxMS, s.LoopMaxLifetime, s.StopMaxMS)
}

func peerText(e firewall.Endpoint) string {
	if e.Peer == firewall.PeerContainer {
		return fmt.Sprintf("container %q endpoint %d", e.PeerUID, e.PeerEndpoint)
	}
	return fmt.Sprintf("%s peer endpoint %d", e.Peer, e.PeerEndpoint)
}

func printTokens(w io.Writer, md *firewall.Metadata, rep *firewall.Report, opts firewall.VerifyOptions) {
	if opts.Owner == nil {
		fmt.Fprintln(w, "tokens      not verified (give --owner)")
	} else {
		fmt.Fprintf(w, "tokens      owner %s, signing %s\n", hex.EncodeToString(opts.Owner), opts.Mode)
	}
	sizes := [...]int{len(md.Container.MaskToken), len(md.Security.DataToken), len(md.Security.CodeToken), len(md.Security.MetadataToken)}
	for i, t := range rep.Tokens {
		status := "ok"
		switch {
		case errors.Is(t.Err, firewall.ErrNoKey):
			status = "unverified"
		case errors.Is(t.Err, firewall.ErrNotChecked):
			status = fmt.Sprintf("signature ok, digest not checked (give --%s)", t.Kind)
		case t.Err != nil:
			status = "FAIL: " + t.Err.Error()
		case t.Scheme == firewall.SigningUpstreamRaw:
			status = "ok (upstream raw-payload signature)"
		}
		fmt.Fprintf(w, "  %-12s %3d bytes  %s\n", t.Kind, sizes[i], status)
		if t.Claims.Bitmask != nil {
			m, _ := firewall.MaskFromBytes(t.Claims.Bitmask)
			fmt.Fprintf(w, "               bitmask %x: %s\n", t.Claims.Bitmask, m)
		}
		if t.Claims.SHA256 != nil {
			fmt.Fprintf(w, "               sha256 %x\n", t.Claims.SHA256)
		}
		if t.Claims.KeyID != nil {
			fmt.Fprintf(w, "               keyid %x\n", t.Claims.KeyID)
		}
	}
}

func printPolicy(w io.Writer, md *firewall.Metadata, rep *firewall.Report, verified bool) {
	pol := firewall.NewPolicy(md, rep)
	switch {
	case !verified:
		fmt.Fprintln(w, "firewall    would allow nothing: tokens not verified")
		return
	case rep.Err() != nil:
		fmt.Fprintln(w, "firewall    would allow nothing: a token does not hold (mask 0, as upstream)")
		return
	}
	fmt.Fprintf(w, "firewall    calls %s\n", pol.Mask)
	for _, e := range pol.Endpoints {
		var ops []string
		for _, op := range []struct {
			c  firewall.Call
			ok bool
		}{
			{firewall.CallOpen, true}, {firewall.CallRead, e.Direction.CanRead()},
			{firewall.CallWrite, e.Direction.CanWrite()}, {firewall.CallClose, true},
		} {
			if op.ok && pol.Mask.Has(op.c) {
				ops = append(ops, op.c.String())
			}
		}
		line := "nothing"
		if len(ops) > 0 {
			line = strings.Join(ops, ", ")
			if e.Peer == firewall.PeerContainer {
				line += fmt.Sprintf(" (while container %q runs)", e.PeerUID)
			}
		}
		fmt.Fprintf(w, "  endpoint %d (%s, %s): %s\n", e.ID, peerText(e), e.Direction, line)
	}
}
