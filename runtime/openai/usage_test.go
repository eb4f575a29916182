package openai

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Usage a server cannot have meant is flagged with the reason.
func TestUsageSanity(t *testing.T) {
	tests := []struct {
		name  string
		usage string // the usage object's members
		want  string // substring of UsageInvalid; "" for valid usage
		any   bool   // any reason will do (the conversion of 1e30 differs by CPU)
	}{
		{"plausible", `"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}`, "", false},
		{"negative prompt", `"prompt_tokens":-5,"completion_tokens":3`, "negative count (prompt_tokens -5", false},
		{"negative cached", `"prompt_tokens":5,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":-1}`, "cached_tokens -1", false},
		{"cached above prompt", `"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":11}`, "cached_tokens 11 > prompt_tokens 10", false},
		{"completion at 100x max_tokens", `"prompt_tokens":10,"completion_tokens":400`, "", false},
		{"completion above 100x max_tokens", `"prompt_tokens":10,"completion_tokens":401`, "completion_tokens 401 > 100 × max_tokens 4", false},
		{"prompt far beyond the bytes sent", `"prompt_tokens":1000000,"completion_tokens":3`, "prompt_tokens 1000000 > the", false},
		{"absurd float", `"prompt_tokens":10,"completion_tokens":1e30`, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				sse(w, roleEv, contentEv("Hi"), finishEv, fmt.Sprintf(`data: {"choices":[],"usage":{%s}}`, tc.usage), "data: [DONE]")
			})
			cn := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: "m"}).NewConn()
			defer cn.Close()
			res := cn.Do(context.Background(), Request{MaxTokens: 4, Messages: []Message{{Role: "user", Parts: []*Text{NewText("Say hello.")}}}})
			if res.ErrKind != "" || !res.Usage {
				t.Fatalf("request failed or no usage: %+v", res)
			}
			switch {
			case tc.any && res.UsageInvalid == "":
				t.Errorf("usage {%s} accepted", tc.usage)
			case !tc.any && tc.want == "" && res.UsageInvalid != "":
				t.Errorf("plausible usage rejected: %s", res.UsageInvalid)
			case !tc.any && tc.want != "" && !strings.Contains(res.UsageInvalid, tc.want):
				t.Errorf("UsageInvalid %q, want %q", res.UsageInvalid, tc.want)
			}
		})
	}
}
