package metrics

import (
	"testing"
	"time"
)

// A record whose usage was rejected keeps its TTFT but gives no tokens to
// the throughputs, ITL or cached_tokens_ratio.
func TestAggregateSkipsInvalidUsage(t *testing.T) {
	recs := []Record{
		// Span: 0 to 10 s.
		{Turn: 0, Start: 0, TTFT: 1, End: 2, Duration: 2, PromptTokens: 1000, CompletionTokens: 11},
		{Turn: 1, Start: 2, TTFT: 0.5, End: 1.5, Duration: 1.5, PromptTokens: 1100, CompletionTokens: 11, CachedTokens: 1000},
		// Rejected: cached > prompt; its absurd counts must not show.
		{Turn: 1, Start: 4, TTFT: 0.25, End: 6, Duration: 6, PromptTokens: 100, CompletionTokens: 900000, CachedTokens: 5000,
			CachedUnknown: true, UsageInvalid: "cached_tokens 5000 > prompt_tokens 100"},
	}
	p := Aggregate(1, 2, recs)
	// Input: (1000 + 1100) / 10 s; output: (11 + 11) / 10 s.
	if p.InputTokensPerS != 210 || p.OutputTokensPerS != 2.2 {
		t.Errorf("throughput in %v out %v, want 210 and 2.2", p.InputTokensPerS, p.OutputTokensPerS)
	}
	// Cached: 1000 / 1100 from the one valid steady turn.
	if want := 1000.0 / 1100; p.CachedTokensRatio != want {
		t.Errorf("cached_tokens_ratio %v, want %v", p.CachedTokensRatio, want)
	}
	// ITL: only the valid steady turn, (1.5 − 0.5) / 10 = 100 ms.
	if p.ITLMax != 100*time.Millisecond || p.ITLMin != p.ITLMax {
		t.Errorf("itl min %v max %v, want 100ms", p.ITLMin, p.ITLMax)
	}
	// TTFT still counts both steady turns: 250 ms and 500 ms.
	if p.Samples != 2 || p.TTFTMin != 250*time.Millisecond || p.TTFTMax != 500*time.Millisecond || p.Errors != 0 {
		t.Errorf("samples %d ttft %v…%v errors %d", p.Samples, p.TTFTMin, p.TTFTMax, p.Errors)
	}
}
