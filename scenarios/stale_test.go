package scenarios

import (
	"bytes"
	"context"
	"testing"
	"testing/fstest"
	"time"

	"tinylab/lab"
)

// TestStaleObjectWarns: a C container whose source is newer than the object
// beside it still loads (the object is what the device gets), and the lab
// says so in the transcript; an object newer than its source says nothing.
func TestStaleObjectWarns(t *testing.T) {
	for _, k := range []struct {
		target, obj, ext, source, warn string
	}{
		{"bpf", "coach_bpf.o", ".o", "int loop(void) { return 0; }\n", "rebuild it (clang -target bpf"},
		{"wasm", "coach.wasm", ".wasm", "#include \"tinylab_wasm.h\"\nTL_HOOK(loop) int loop(void) { return 0; }\n", "rebuild it (clang-19 --target=wasm32"},
	} {
		t.Run(k.target, func(t *testing.T) { staleObject(t, k.obj, k.ext, k.source, k.warn) })
	}
}

func staleObject(t *testing.T, builtinObj, ext, source, warn string) {
	obj, err := builtinFS.ReadFile("builtin/containers/" + builtinObj)
	if err != nil {
		t.Fatal(err)
	}
	src := []byte(`name: stale
title: a C container
seed: 1
owner: city
tenants: [coach]
devices:
  - id: bench-1
containers:
  coach:
    tenant: coach
    source: coach.c
steps:
  - title: Nothing
    say: nothing happens
`)
	built := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		edited time.Time
		warn   bool
	}{
		{"source edited after the build", built.Add(time.Hour), true},
		{"object built after the edit", built.Add(-time.Hour), false},
		{"checkout jitter", built.Add(300 * time.Millisecond), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"s/coach.c":     {Data: []byte(source), ModTime: tc.edited},
				"s/coach" + ext: {Data: obj, ModTime: built},
			}
			sc, err := Parse("stale.yaml", src, fsys, "s")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			var rec *lab.Recorder
			r, err := NewRunner(sc, Options{Setup: func(l *lab.Lab) { rec = l.Record(&buf) }})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Play(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			want := []byte("warning: container coach: coach.c is newer than coach" + ext + " (by 1h0m0s), which is loaded as it is: " + warn)
			if got := bytes.Contains(buf.Bytes(), want); got != tc.warn {
				t.Fatalf("warning %v, want %v:\n%s", got, tc.warn, buf.Bytes())
			}
		})
	}
}
