package metrics

// Load is what a point's sessions asked of the server's KV cache, counted
// from its records. It is not a condition name: it describes the point
// rather than judging it, and the report's explanation of the knee sets it
// beside the server's KV capacity.
type Load struct {
	// WorkingSetTokens is the tokens the point's sessions hold at their
	// longest: for each session, the largest prompt + completion tokens of
	// any of its turns, summed over the sessions. Keeping every session's
	// conversation cached at once takes this much KV cache.
	WorkingSetTokens int `json:"working_set_tokens"`
	// LowerBound is true when some session's last turn failed or reported
	// no tokens: its conversation may be longer than counted.
	LowerBound bool `json:"working_set_lower_bound,omitempty"`
	// FollowUpPromptTokens is the mean prompt of the steady turns (every
	// turn but the opening) that succeeded.
	FollowUpPromptTokens float64 `json:"follow_up_prompt_tokens"`
	// FollowUpUncachedTokens is the mean of prompt − cached tokens over
	// the steady turns that succeeded and whose usage reported cached
	// tokens: what the server prefilled for each follow-up. Nil when no
	// such turn reported them.
	FollowUpUncachedTokens *float64 `json:"follow_up_uncached_tokens,omitempty"`
}

// MeasureLoad counts a point's load from its records. Canceled records
// are left out (the run was stopping); a session's turns are its records
// with the same Session label.
func MeasureLoad(recs []Record) Load {
	type session struct {
		tokens   int
		lastTurn int
		lastOK   bool
	}
	sessions := map[string]*session{}
	var l Load
	var followUps, prompt, known, uncached int
	for i := range recs {
		r := &recs[i]
		if r.Error == ErrCanceled {
			continue
		}
		s := sessions[r.Session]
		if s == nil {
			s = &session{lastTurn: -1}
			sessions[r.Session] = s
		}
		s.tokens = max(s.tokens, r.PromptTokens+r.CompletionTokens)
		if r.Turn > s.lastTurn || (r.Turn == s.lastTurn && r.OK()) {
			s.lastTurn, s.lastOK = r.Turn, r.OK() && r.PromptTokens > 0
		}
		if r.Turn == 0 || !r.OK() || r.UsageInvalid != "" {
			continue
		}
		followUps++
		prompt += r.PromptTokens
		if !r.ClientCounted && !r.CachedUnknown {
			known++
			uncached += r.PromptTokens - r.CachedTokens
		}
	}
	for _, s := range sessions {
		l.WorkingSetTokens += s.tokens
		l.LowerBound = l.LowerBound || !s.lastOK
	}
	if followUps > 0 {
		l.FollowUpPromptTokens = float64(prompt) / float64(followUps)
	}
	if known > 0 {
		u := float64(uncached) / float64(known)
		l.FollowUpUncachedTokens = &u
	}
	return l
}
