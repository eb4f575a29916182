package spec

import (
	"fmt"
	"slices"
)

// SearchMaxFactor bounds an extending search on an axis with no declared
// maximum: it may grow to this many times the grid's largest value there.
const SearchMaxFactor = 8

// MaxSearchRate is the highest arrival rate an open-loop search may reach:
// the declared rates' highest, or, with extend, max_rate (default
// SearchMaxFactor × the highest declared).
func MaxSearchRate(rates []float64, s *Search) float64 {
	var top float64
	for _, r := range rates {
		top = max(top, r)
	}
	switch {
	case s == nil || !s.Extend:
		return top
	case s.MaxRate > 0:
		return s.MaxRate
	}
	return SearchMaxFactor * top
}

// Reach returns the largest C and the largest S the sweep may run: the
// grid's, or, with an extending search, the caps the search grows up to.
func (sc *Scenario) Reach() (c, s int) {
	if len(sc.Grid.Concurrent) == 0 || len(sc.Grid.Sequential) == 0 {
		return 0, 0
	}
	c, s = slices.Max(sc.Grid.Concurrent), slices.Max(sc.Grid.Sequential)
	if sc.Search == nil || !sc.Search.Extend {
		return c, s
	}
	capAt := func(declared, largest int) int {
		if declared > 0 {
			return max(declared, largest)
		}
		return SearchMaxFactor * largest
	}
	return capAt(sc.Search.MaxConcurrent, c), capAt(sc.Search.MaxSequential, s)
}

// Facts are what is known about a scenario's resources when its plan is
// checked. validate knows some of them from the file alone; exec knows
// more once the corpus is loaded and the target has answered.
type Facts struct {
	// Documents the corpus yields; -1 when not known.
	Documents int
	// MaxModelLen is the target's context length in tokens; 0 when not known.
	MaxModelLen int
	// KVTokens is the target's KV cache in tokens (the simulator's
	// kv_cache_tokens); 0 when not known. One conversation larger than the
	// whole cache can never be served.
	KVTokens int
	// Conversation is a lower bound on the tokens of the longest
	// conversation the plan sends (the last turn's prompt plus its answer);
	// 0 when not known. A lower bound, so the check never rejects a plan
	// that fits.
	Conversation int
}

// PlanError is a rule the plan breaks. Field names the scenario attribute
// or block to point a diagnostic at: "grid", "search", "rounds", "corpus".
type PlanError struct {
	Field string
	Msg   string
}

func (e *PlanError) Error() string { return e.Msg }

// CheckPlan applies every rule that can be decided before the first point
// runs. validate and exec both call it, exec with more facts, so a plan
// validate accepts never fails mid-sweep for a reason known up front.
func CheckPlan(sc *Scenario, f Facts) []*PlanError {
	var errs []*PlanError
	if sc.Script != nil && sc.Rounds > len(sc.Script.Questions) {
		errs = append(errs, &PlanError{"rounds", fmt.Sprintf(
			"rounds = %d, but script.%s has %d question(s): each follow-up round asks the next question. Add questions or lower rounds.",
			sc.Rounds, sc.Script.Name, len(sc.Script.Questions))})
	}
	if e := checkDocuments(sc, f.Documents); e != nil {
		errs = append(errs, e)
	}
	if f.MaxModelLen > 0 && f.Conversation > f.MaxModelLen {
		errs = append(errs, &PlanError{"corpus", fmt.Sprintf(
			"The longest conversation needs at least %d tokens (document, %d round(s) of question and answer, max_tokens %d each), but the target's context length (max_model_len) is %d: every such request would be rejected. Use shorter documents (tokens), fewer rounds or a smaller max_tokens.",
			f.Conversation, sc.Rounds, maxTokens(sc), f.MaxModelLen)})
	}
	if f.KVTokens > 0 && f.Conversation > f.KVTokens {
		errs = append(errs, &PlanError{"corpus", fmt.Sprintf(
			"The longest conversation needs at least %d tokens (document, %d round(s) of question and answer, max_tokens %d each), but the target's whole KV cache holds %d: no such request can ever be scheduled. Use shorter documents (tokens), fewer rounds, a smaller max_tokens or a larger kv_cache_tokens.",
			f.Conversation, sc.Rounds, maxTokens(sc), f.KVTokens)})
	}
	return errs
}

// checkDocuments: with assign = "distinct" every session of a point gets its
// own document, up to the largest point the sweep may reach.
func checkDocuments(sc *Scenario, have int) *PlanError {
	if sc.Assign != AssignDistinct || have < 0 || sc.Corpus == nil {
		return nil
	}
	c, s := sc.Reach()
	need := c * s
	if need <= have {
		return nil
	}
	field, where := "grid", fmt.Sprintf("the largest point (%d×%d)", c, s)
	if gc, gs := slices.Max(sc.Grid.Concurrent), slices.Max(sc.Grid.Sequential); gc*gs < need {
		field, where = "search", fmt.Sprintf("the extending search may reach %d×%d, which", c, s)
	}
	fix := "Add documents, shrink the grid"
	if field == "search" {
		fix = "Add documents, cap the search with max_concurrent / max_sequential"
	}
	return &PlanError{field, fmt.Sprintf(
		"With assign = \"distinct\" every session of a point gets its own document: %s needs %d, but corpus.%s has %d. %s, or set assign = \"random\" (drawn with replacement, as the source benchmark does).",
		where, need, sc.Corpus.Name, have, fix)}
}

func maxTokens(sc *Scenario) int {
	if sc.Script == nil {
		return 0
	}
	return sc.Script.MaxTokens
}

// ConversationFloor is a lower bound on the tokens of a session's last turn
// (prompt plus answer) for a document of doc tokens: the document, every
// answer at max_tokens, and nothing for template text and questions.
func ConversationFloor(sc *Scenario, doc int) int {
	return doc + (sc.Rounds+1)*maxTokens(sc)
}

// Figures behind ClientMemory, from the measurements in docs/PERFORMANCE.md
// (rounded up): a document costs about 20 bytes a token in the client (its
// text, its escaped copy, and the collector's headroom), a session in
// flight about 256 KiB (its history, answers and connection buffers), a
// request's record about 512 bytes.
const (
	bytesPerDocumentToken = 20
	bytesPerSession       = 256 << 10
	bytesPerRecord        = 512
)

// ClientMemory estimates the bytes the client holds at the largest point
// the sweep may reach, for a corpus of documents documents (-1: unknown)
// of tokens tokens each (0: unknown, then documents are not counted).
func ClientMemory(sc *Scenario, documents, tokens int) int64 {
	c, s := sc.Reach()
	sessions := int64(c) * int64(s)
	held := sessions
	if sc.Assign == AssignRandom && documents >= 0 {
		held = min(held, int64(documents))
	}
	return held*int64(tokens)*bytesPerDocumentToken +
		sessions*bytesPerSession +
		sessions*int64(sc.Rounds+1)*bytesPerRecord
}
