// Package prompt parses the completions template that renders a
// conversation into one prompt for /v1/completions (its syntax is in
// package openai's documentation, "Completions template"). It imports
// nothing but the standard library, so the scenario language can reject a
// bad template without linking the HTTP client.
package prompt

import (
	"fmt"
	"strings"
)

// Template is a parsed completions template: Prefix, then Block once per
// message, then Suffix. Literal text is as written, not escaped.
type Template struct {
	Prefix string
	Block  []Item
	Suffix string
}

// Item is one piece of the per-message block.
type Item struct {
	Kind Kind
	Lit  string // the literal text, when Kind is Lit
}

// Kind says what an Item stands for.
type Kind int

// Item kinds.
const (
	Lit     Kind = iota // literal text
	Role                // {{role}}: the message's role
	Content             // {{content}}: the message's content
)

// Parse parses src, reporting what is wrong with it.
func Parse(src string) (*Template, error) {
	const open, close = "{{messages}}", "{{end}}"
	i := strings.Index(src, open)
	j := strings.Index(src, close)
	if i < 0 || j < i {
		return nil, fmt.Errorf("completions template %q: needs one {{messages}} … {{end}} block", src)
	}
	t := &Template{Prefix: src[:i], Suffix: src[j+len(close):]}
	for _, lit := range []string{t.Prefix, t.Suffix} {
		if name, ok := findPlaceholder(lit); ok {
			return nil, fmt.Errorf("completions template: {{%s}} outside the {{messages}} … {{end}} block", name)
		}
	}
	var err error
	if t.Block, err = parseBlock(src[i+len(open) : j]); err != nil {
		return nil, err
	}
	return t, nil
}

// parseBlock splits the per-message block into literals and placeholders;
// it must hold {{content}}.
func parseBlock(block string) ([]Item, error) {
	var items []Item
	hasContent := false
	for len(block) > 0 {
		k := strings.Index(block, "{{")
		end := -1
		if k >= 0 {
			end = strings.Index(block[k:], "}}")
		}
		if end < 0 {
			items = append(items, Item{Lit: block})
			break
		}
		if k > 0 {
			items = append(items, Item{Lit: block[:k]})
		}
		switch name := block[k+2 : k+end]; name {
		case "role":
			items = append(items, Item{Kind: Role})
		case "content":
			hasContent = true
			items = append(items, Item{Kind: Content})
		default:
			return nil, fmt.Errorf("completions template: unknown placeholder {{%s}} (known: {{role}}, {{content}})", name)
		}
		block = block[k+end+2:]
	}
	if !hasContent {
		return nil, fmt.Errorf("completions template: the {{messages}} block has no {{content}}")
	}
	return items, nil
}

// findPlaceholder reports a {{name}} in literal text.
func findPlaceholder(s string) (string, bool) {
	for {
		k := strings.Index(s, "{{")
		if k < 0 {
			return "", false
		}
		end := strings.Index(s[k:], "}}")
		if end < 0 {
			return "", false
		}
		switch name := s[k+2 : k+end]; name {
		case "messages", "end", "role", "content":
			return name, true
		}
		s = s[k+2:]
	}
}
