package dsl

import (
	"strings"
	"testing"
)

// shardFile is a scenario whose target picks its replica by shard.index.
const shardFile = `variable "replicas" {
  type    = list(string)
  default = ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1", "http://127.0.0.1:8003/v1"]
}
locals {
  parts = "${shard.index + 1} of ${shard.count}"
}
target "t" {
  base_url = var.replicas[shard.index]
  headers  = { "X-Part" = local.parts }
}
corpus "c" {
  source "synthetic" { documents = 4 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a"]
}
scenario "x" {
  target     = target.t
  corpus     = corpus.c
  script     = script.s
  rounds     = 1
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
`

func TestShardObject(t *testing.T) {
	tests := []struct {
		name      string
		shard     Shard
		wantURL   string
		wantParts string
	}{
		{"unsharded reads 0 of 1", Shard{}, "http://127.0.0.1:8001/v1", "1 of 1"},
		{"first of three", Shard{Index: 0, Count: 3}, "http://127.0.0.1:8001/v1", "1 of 3"},
		{"third of three", Shard{Index: 2, Count: 3}, "http://127.0.0.1:8003/v1", "3 of 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := LoadSource("shard.hcl", []byte(shardFile), Options{Shard: tc.shard})
			if l.Diags.HasErrors() {
				t.Fatalf("diagnostics: %s", l.Diags.Error())
			}
			tg := l.File.Scenarios[0].Target
			if tg.BaseURL != tc.wantURL {
				t.Errorf("base_url = %q, want %q", tg.BaseURL, tc.wantURL)
			}
			if got := tg.Headers["X-Part"]; got != tc.wantParts {
				t.Errorf("X-Part = %q, want %q", got, tc.wantParts)
			}
		})
	}
}

func TestShardObjectErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"unknown attribute", "shard.replica", "shard has two attributes"},
		{"the whole object", "shard", "shard has two attributes"},
		{"index past the list", "var.replicas[shard.index + 5]", "Invalid index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(shardFile, "var.replicas[shard.index]", tc.expr, 1)
			l := LoadSource("shard.hcl", []byte(src), Options{})
			if !l.Diags.HasErrors() {
				t.Fatalf("%s: no error", tc.expr)
			}
			if !strings.Contains(l.Diags.Error(), tc.want) {
				t.Errorf("%s: diagnostics %q, want %q", tc.expr, l.Diags.Error(), tc.want)
			}
		})
	}
}
