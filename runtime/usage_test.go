package runtime

import (
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
)

// Rejected usage reaches the record, and its cached count is not a
// measurement (the per-turn cached ratio relies on that).
func TestFillRecordUsageInvalid(t *testing.T) {
	tests := []struct {
		name              string
		res               openai.Result
		wantInvalid       string
		wantCachedUnknown bool
	}{
		{"valid", openai.Result{Usage: true, CachedReported: true, PromptTokens: 10, CachedTokens: 4}, "", false},
		{"invalid", openai.Result{Usage: true, CachedReported: true, PromptTokens: 10, CachedTokens: 40, UsageInvalid: "cached_tokens 40 > prompt_tokens 10"},
			"cached_tokens 40 > prompt_tokens 10", true},
	}
	for _, tc := range tests {
		now := time.Now()
		tc.res.Start = now
		var rec metrics.Record
		fillRecord(&rec, &tc.res, now, now.Add(time.Second))
		if rec.UsageInvalid != tc.wantInvalid || rec.CachedUnknown != tc.wantCachedUnknown {
			t.Errorf("%s: usage_invalid %q cached_unknown %v, want %q %v", tc.name, rec.UsageInvalid, rec.CachedUnknown, tc.wantInvalid, tc.wantCachedUnknown)
		}
	}
}
