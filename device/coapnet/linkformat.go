package coapnet

import (
	"errors"
	"fmt"
	"strings"
)

// Link is one link of an RFC 6690 link-format document: its target and its
// attributes in the order given. A value-less attribute (obs) has Value "".
type Link struct {
	Target string
	Attrs  []LinkAttr
}

// LinkAttr is one attribute of a link.
type LinkAttr struct {
	Name, Value string
}

// Attr returns the first value of the named attribute.
func (l Link) Attr(name string) (string, bool) {
	for _, a := range l.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// HasType reports whether the link's rt attribute holds the resource type t
// (rt is a space-separated list, RFC 6690 §3.1).
func (l Link) HasType(t string) bool {
	rt, _ := l.Attr("rt")
	for _, f := range strings.Fields(rt) {
		if f == t {
			return true
		}
	}
	return false
}

func (l Link) String() string {
	var b strings.Builder
	b.WriteString("<" + l.Target + ">")
	for _, a := range l.Attrs {
		b.WriteString(";" + a.Name)
		if a.Value != "" {
			b.WriteString(`="` + quoteEscaper.Replace(a.Value) + `"`)
		}
	}
	return b.String()
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// ErrLinkFormat is returned for a document that is not RFC 6690 link format.
var ErrLinkFormat = errors.New("coap: bad link format")

// maxLinks bounds what a peer can make us hold.
const maxLinks = 4096

// ParseLinks reads an RFC 6690 link-format document. Attribute values may be
// quoted (with backslash escapes) or bare tokens.
func ParseLinks(doc string) ([]Link, error) {
	var links []Link
	s := strings.TrimSpace(doc)
	for s != "" {
		if len(links) == maxLinks {
			return nil, fmt.Errorf("%w: more than %d links", ErrLinkFormat, maxLinks)
		}
		if s[0] != '<' {
			return nil, fmt.Errorf("%w: a link must start with '<' at %q", ErrLinkFormat, clip(s))
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return nil, fmt.Errorf("%w: no '>' after %q", ErrLinkFormat, clip(s))
		}
		l := Link{Target: s[1:end]}
		s = s[end+1:]
		for len(s) > 0 && s[0] == ';' {
			s = s[1:]
			n := strings.IndexAny(s, "=;,")
			if n < 0 {
				n = len(s)
			}
			a := LinkAttr{Name: strings.TrimSpace(s[:n])}
			if a.Name == "" {
				return nil, fmt.Errorf("%w: empty attribute name in link <%s>", ErrLinkFormat, l.Target)
			}
			s = s[n:]
			if len(s) > 0 && s[0] == '=' {
				v, rest, err := attrValue(s[1:])
				if err != nil {
					return nil, fmt.Errorf("%w: attribute %s of <%s>: %v", ErrLinkFormat, a.Name, l.Target, err)
				}
				a.Value, s = v, rest
			}
			l.Attrs = append(l.Attrs, a)
		}
		links = append(links, l)
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("%w: expected ',' between links at %q", ErrLinkFormat, clip(s))
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
	}
	return links, nil
}

func attrValue(s string) (v, rest string, err error) {
	if len(s) == 0 || s[0] != '"' {
		n := strings.IndexAny(s, ";,")
		if n < 0 {
			n = len(s)
		}
		return s[:n], s[n:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("unterminated escape")
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quoted value")
}

func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
