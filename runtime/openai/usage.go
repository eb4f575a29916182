package openai

import "fmt"

// Limits of believable usage.
const (
	// completionFactor: a server never generates this many times max_tokens.
	completionFactor = 100
	// templateTokens: what a chat template may add to a prompt beyond one
	// token per byte sent (no tokenizer makes more than one token per byte).
	templateTokens = 8192
)

// checkUsage returns why the usage in res cannot be true, or "": a negative
// count, more cached than prompt tokens, more than completionFactor times
// maxTokens generated (when maxTokens is set), or more prompt tokens than
// the request's bodyBytes plus templateTokens.
func checkUsage(res *Result, maxTokens int, bodyBytes int64) string {
	p, c, k := res.PromptTokens, res.CompletionTokens, res.CachedTokens
	switch {
	case p < 0 || c < 0 || k < 0:
		return fmt.Sprintf("negative count (prompt_tokens %d, completion_tokens %d, cached_tokens %d)", p, c, k)
	case k > p:
		return fmt.Sprintf("cached_tokens %d > prompt_tokens %d", k, p)
	case maxTokens > 0 && c > completionFactor*maxTokens:
		return fmt.Sprintf("completion_tokens %d > %d × max_tokens %d", c, completionFactor, maxTokens)
	case int64(p) > bodyBytes+templateTokens:
		return fmt.Sprintf("prompt_tokens %d > the %d bytes sent + %d", p, bodyBytes, templateTokens)
	}
	return ""
}
