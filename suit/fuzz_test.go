package suit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// fuzzSeeds are envelopes of both formats, and the drafts' examples when
// they are there.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, fm := range formats {
		u := newUpdate(f, fm, 2, 64, 32)
		seeds = append(seeds, u.signed(f))
		raw, err := Create(u.spec)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, raw)
	}
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*", "*.cbor"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// FuzzDecode: any bytes give an envelope or a *Error, never a panic; what
// decodes encodes again, and the encoding decodes to the same manifest.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Decode(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *Error", err)
			}
			return
		}
		out, err := env.Encode()
		if err != nil {
			t.Fatalf("decoded envelope does not encode: %v", err)
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if !bytes.Equal(again.ManifestBytes, env.ManifestBytes) || again.Format != env.Format {
			t.Fatal("re-encoded envelope carries another manifest")
		}
		if _, err := env.Manifest.Encode(env.Format); err != nil {
			t.Fatalf("decoded manifest does not encode: %v", err)
		}
	})
}

func fuzzConfig(key PrivateKey) Config {
	return Config{
		Keys:     []PublicKey{key.Public()},
		VendorID: VendorID(), ClassID: ClassID("native"),
		Storage:  slotStorage{NewRAMStorage(3, 4096)},
		Seq:      NewMemSeq(1),
		Payloads: map[string][]byte{".ram.0": make([]byte, 64), ".ram.1": make([]byte, 32)},
		Fetcher:  &blockFetcher{files: map[string][]byte{"coap://[::1]/fw/0.bin": make([]byte, 64)}},
		OnEvent:  func(Event) {},
	}
}

// FuzzProcess: the procedure on any bytes ends with a report or a *Error.
func FuzzProcess(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	key := testKey(f, 1)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Process(context.Background(), fuzzConfig(key), data)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %v is not a *Error", err)
		}
	})
}

// FuzzProcessSigned signs whatever manifest bytes the fuzzer makes, so the
// procedure gets past the signature into the command interpreter.
func FuzzProcessSigned(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if env, err := Decode(s); err == nil {
			f.Add(env.ManifestBytes, env.Format == FormatFinal)
		}
	}
	key := testKey(f, 1)
	f.Fuzz(func(t *testing.T, manifest []byte, final bool) {
		env := &Envelope{ManifestBytes: manifest}
		if final {
			env.Format, env.Tagged, env.Auth = FormatFinal, true, &Auth{Digest: []byte{0x80}}
		}
		raw, err := env.Encode()
		if err != nil {
			return
		}
		signed, err := Sign(raw, key)
		if err != nil {
			return
		}
		cfg := fuzzConfig(key)
		st := cfg.Storage.(slotStorage).MemStorage
		_, err = Process(context.Background(), cfg, signed)
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error %v is not a *Error", err)
		}
		if err != nil {
			for _, loc := range st.Locations() {
				if st.Content(loc) != nil {
					t.Fatalf("%s changed by a failed update", loc)
				}
			}
		}
	})
}

// FuzzScan compares the hand-written scanner with fxamacker/cbor on
// well-formed input: the same items for arrays and maps, the same integers
// and strings.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{"80", "a0", "820102", "a20102030a", "1bffffffffffffffff", "3b7fffffffffffffff", "5803616263", "63616263", "c24101"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if wfMode.Wellformed(data) != nil {
			return
		}
		if n, ok := itemLen(data, 0); !ok || n != len(data) {
			t.Fatalf("itemLen %d %v for a well-formed item of %d bytes", n, ok, len(data))
		}
		// fxamacker also checks the content of built-in tags (tag 1 holds
		// a number, ...); compare only where it decodes the input at all.
		var generic any
		if cbor.Unmarshal(data, &generic) != nil {
			return
		}
		for _, maj := range []int{majArray, majMap} {
			got, ok := items(data, maj)
			var want []cbor.RawMessage
			switch maj {
			case majArray:
				ok2 := cbor.Unmarshal(data, &want) == nil && major(data) == majArray
				if ok != ok2 {
					t.Fatalf("array: scanner %v, fxamacker %v", ok, ok2)
				}
			case majMap:
				var pairs cbor.RawMessage
				ok2 := major(data) == majMap && cbor.Unmarshal(data, &pairs) == nil
				if ok != ok2 {
					t.Fatalf("map: scanner %v, fxamacker %v", ok, ok2)
				}
				continue
			}
			if ok && !slices.EqualFunc(got, want, func(a []byte, b cbor.RawMessage) bool { return bytes.Equal(a, b) }) {
				t.Fatalf("array items differ")
			}
		}
		if v, ok := integer(data); ok {
			var w int64
			if err := cbor.Unmarshal(data, &w); err != nil || w != v {
				t.Fatalf("integer %d, fxamacker %d (%v)", v, w, err)
			}
		}
		for _, maj := range []int{majBytes, majText} {
			if c, ok := content(data, maj); ok {
				var w []byte
				if maj == majText {
					var s string
					if err := cbor.Unmarshal(data, &s); err == nil {
						w = []byte(s)
					}
				} else if err := cbor.Unmarshal(data, &w); err != nil {
					t.Fatal(err)
				}
				if maj == majBytes && !bytes.Equal(c, w) {
					t.Fatalf("bytes differ")
				}
			}
		}
	})
}
