package firewall

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds upstream's metadata (when present) and metadata built here.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, name := range []string{"simple_container", "example_app"} {
		if b, err := os.ReadFile(filepath.Join(upstreamDir, name+".metadata")); err == nil {
			seeds = append(seeds, b)
		}
	}
	b, err := Build(testSpec(), testKey(f, 7))
	if err != nil {
		f.Fatal(err)
	}
	return append(seeds, b)
}

func FuzzDecodeMetadata(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{0xdb, 0x54, 0x69, 0x6e, 0x79, 0x50, 0x41, 0x52, 0x54, 0xa0})
	owner := pub(testKey(f, 7))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := DecodeMetadata(b)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError: %v", err, err)
			}
			return
		}
		// Re-encoding writes shortest lengths and fills in absent endpoints
		// and security (at most 14 bytes more), so it fits unless the input
		// was already at the size limit.
		out, err := md.Encode()
		if err != nil && len(b)+14 <= DefaultLimits.MaxSize {
			t.Fatalf("decoded metadata does not encode: %v", err)
		}
		if err == nil {
			if _, err := DecodeMetadata(out); err != nil {
				t.Fatalf("re-encoded metadata does not decode: %v", err)
			}
		}
		rep := VerifyMetadata(md, VerifyOptions{Owner: owner, Mode: SigningUpstreamRaw})
		if rep.Err() == nil && rep.Mask != 0 {
			pol := NewPolicy(md, &rep)
			if pol.Mask != rep.Mask {
				t.Fatalf("policy mask %v, report %v", pol.Mask, rep.Mask)
			}
		}
	})
}

func FuzzVerifyToken(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if md, err := DecodeMetadata(s); err == nil {
			f.Add(md.Container.MaskToken)
			f.Add(md.Security.DataToken)
			f.Add(md.Security.MetadataToken)
		}
	}
	f.Add(rawVariant(f, testKey(f, 7), Claims{Bitmask: []byte{0xff}}))
	f.Add([]byte{0xd8, 0x3d, 0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40})
	owner := pub(testKey(f, 7))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range numTokens {
			for _, mode := range []SigningMode{SigningCOSE, SigningUpstreamRaw} {
				r := VerifyToken(k, b, owner, mode)
				if r.OK() != (r.Err == nil) || r.OK() && !r.Signed {
					t.Fatalf("%v %v: inconsistent result %+v", k, mode, r)
				}
				if r.Err != nil {
					var te *TokenError
					if !errors.As(r.Err, &te) {
						t.Fatalf("error %T is not a *TokenError: %v", r.Err, r.Err)
					}
				}
				if r.OK() && r.Scheme == SigningUpstreamRaw && mode != SigningUpstreamRaw {
					t.Fatal("raw variant accepted in COSE mode")
				}
			}
		}
	})
}
