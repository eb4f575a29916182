package dsl

import (
	"strings"
	"testing"
)

// cascadeBase is a valid file in which every whole-number attribute is set,
// and tight enough that a default standing in for a bad value would break a
// plan-time rule: the script has fewer questions than the default rounds,
// and the corpus has just the documents the capped search may reach.
const cascadeBase = `target "t" {
  simulator {
    profile         = "quickstart"
    kv_cache_tokens = 65536
  }
  down_after = 3
}
corpus "c" {
  source "synthetic" {
    documents = 4
    seed      = 1
  }
  tokens        = 128
  min_documents = 1
}
corpus "g" {
  source "gutenberg" { ids = [2701] }
}
script "s" {
  opening     = "Summarize.\n\n${document}"
  questions   = ["a", "b"]
  max_tokens  = 8
  temperature = 0
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  rounds = 2
  seed   = 7
  grid {
    concurrent = [1, 2]
    sequential = [1, 2]
  }
  search "frontier" {
    extend         = true
    extend_step    = 1
    max_concurrent = 2
    max_sequential = 2
    max_points     = 4
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
`

// TestBadNumberNoCascade sets each whole-number attribute in turn to a value
// it refuses (not a number, not whole, below its minimum) and checks that
// the file gets exactly one error, on that attribute's line: the default
// that stands in for the bad value must not trip a second, spurious check.
func TestBadNumberNoCascade(t *testing.T) {
	if errs := loadErrors(t, cascadeBase, Options{}); len(errs) > 0 {
		t.Fatalf("the base file has errors: %v", errs)
	}
	tests := []struct {
		old  string   // a line of cascadeBase, without its indentation
		bads []string // values to put in its place
	}{
		{"rounds = 2", []string{`"two"`, "2.5", "-1"}},
		{"seed   = 7", []string{`"seven"`, "7.5"}},
		{"concurrent = [1, 2]", []string{`"two"`, `["two"]`, "[1.5, 2]", "[0, 2]", "[1, 1]", "[]"}},
		{"sequential = [1, 2]", []string{`"two"`, `["two"]`, "[1.5, 2]", "[-1, 2]"}},
		{"extend_step    = 1", []string{`"one"`, "1.5", "-1"}},
		{"max_concurrent = 2", []string{`"two"`, "2.5", "-2"}},
		{"max_sequential = 2", []string{`"two"`, "2.5", "-2"}},
		{"max_points     = 4", []string{`"four"`, "4.5", "-4"}},
		{"documents = 4", []string{`"four"`, "4.5", "0"}},
		{"seed      = 1", []string{`"one"`, "1.5"}},
		{"tokens        = 128", []string{`"many"`, "128.5", "-128"}},
		{"min_documents = 1", []string{`"one"`, "1.5", "-1"}},
		{"ids = [2701]", []string{`"moby"`, `["moby"]`, "[2701.5]", "[0]"}},
		{"max_tokens  = 8", []string{`"eight"`, "8.5", "0"}},
		{"temperature = 0", []string{`"cold"`, "-1"}},
		{"down_after = 3", []string{`"three"`, "3.5", "0"}},
		{"kv_cache_tokens = 65536", []string{`"big"`, "1.5"}},
	}
	for _, tt := range tests {
		if n := strings.Count(cascadeBase, tt.old); n != 1 {
			t.Fatalf("%q occurs %d times in the base file, want once", tt.old, n)
		}
		line := 1 + strings.Count(cascadeBase[:strings.Index(cascadeBase, tt.old)], "\n")
		key, _, _ := strings.Cut(tt.old, "=")
		for _, bad := range tt.bads {
			src := strings.Replace(cascadeBase, tt.old, key+"= "+bad, 1)
			t.Run(strings.TrimSpace(key)+"="+bad, func(t *testing.T) {
				errs := loadErrors(t, src, Options{})
				if len(errs) != 1 {
					var all []string
					for _, d := range errs {
						all = append(all, d.Error())
					}
					t.Fatalf("%d errors, want 1:\n%s", len(errs), strings.Join(all, "\n"))
				}
				if d := errs[0]; d.Subject == nil || d.Subject.Start.Line != line {
					t.Errorf("error %q at %v, want line %d", d.Summary, d.Subject, line)
				}
			})
		}
	}
}
