package coapnet

import (
	"errors"
	"testing"
)

func TestParseLinks(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // each link re-written
		err       bool
	}{
		{"libcoap rd", `</rd>;ins="default";rt="core.rd";ct=40,</rd/cf1e-24e>;A=""`, []string{`</rd>;ins="default";rt="core.rd";ct="40"`, `</rd/cf1e-24e>;A`}, false},
		{"device", `</riot/board>;ct=0,</containers>;ct="60 50 0";obs`, []string{`</riot/board>;ct="0"`, `</containers>;ct="60 50 0";obs`}, false},
		{"spaces and escapes", " <a>;title=\"x\\\"y\" ,\n<b>", []string{`<a>;title="x\"y"`, `<b>`}, false},
		{"empty", "", nil, false},
		{"no bracket", `a>;rt=x`, nil, true},
		{"unterminated", `<a`, nil, true},
		{"unterminated quote", `<a>;rt="x`, nil, true},
		{"garbage between", `<a> <b>`, nil, true},
		{"empty attr", `<a>;=x`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			links, err := ParseLinks(tt.doc)
			if tt.err {
				if !errors.Is(err, ErrLinkFormat) {
					t.Fatalf("want ErrLinkFormat, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(links) != len(tt.want) {
				t.Fatalf("got %d links %v, want %d", len(links), links, len(tt.want))
			}
			for i, l := range links {
				if l.String() != tt.want[i] {
					t.Errorf("link %d: %s, want %s", i, l, tt.want[i])
				}
			}
		})
	}
}

func TestLinkHasType(t *testing.T) {
	links, err := ParseLinks(`</rd>;rt="core.rd core.rd-lookup-ep"`)
	if err != nil {
		t.Fatal(err)
	}
	if !links[0].HasType("core.rd") || !links[0].HasType("core.rd-lookup-ep") || links[0].HasType("core") {
		t.Fatalf("types of %s", links[0])
	}
}

func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{`</rd>;ins="default";rt="core.rd";ct=40,</rd/1>;A=""`, `<a>;b="\"",<c>;d`, `<`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		links, err := ParseLinks(doc)
		if err != nil {
			return
		}
		// what was read writes out and reads back the same
		var out string
		for i, l := range links {
			if i > 0 {
				out += ","
			}
			out += l.String()
		}
		again, err := ParseLinks(out)
		if err != nil {
			t.Fatalf("%q rewritten as %q does not parse: %v", doc, out, err)
		}
		if len(again) != len(links) {
			t.Fatalf("%q: %d links, rewritten %q: %d", doc, len(links), out, len(again))
		}
	})
}
