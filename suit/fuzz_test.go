package suit

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
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
