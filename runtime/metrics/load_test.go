package metrics

import "testing"

// Hand-computed: session a holds 1,010 tokens at its longest (either turn)
// and b 1,200 + 10 (its follow-up), so the working set is 2,220; the two
// follow-ups average 1,105 prompt tokens, of which (1,010 − 1,000 + 1,200
// − 0) / 2 = 605 were prefilled (a's hit, b's missed).
func TestMeasureLoad(t *testing.T) {
	recs := []Record{
		{Session: "a", Turn: 0, PromptTokens: 1000, CompletionTokens: 10},
		{Session: "a", Turn: 1, PromptTokens: 1010, CompletionTokens: 0, CachedTokens: 1000},
		{Session: "b", Turn: 0, PromptTokens: 1100, CompletionTokens: 10},
		{Session: "b", Turn: 1, PromptTokens: 1200, CompletionTokens: 10},
		{Session: "b", Turn: 2, Error: ErrCanceled},
	}
	l := MeasureLoad(recs)
	if l.WorkingSetTokens != 2220 || l.LowerBound || l.FollowUpPromptTokens != 1105 || l.FollowUpUncachedTokens == nil || *l.FollowUpUncachedTokens != 605 {
		t.Fatalf("load %+v (uncached %v)", l, deref(l.FollowUpUncachedTokens))
	}
}

// A session whose last turn failed may hold more than it reported, and a
// server that reports no cached tokens says nothing of what was prefilled.
func TestMeasureLoadLowerBound(t *testing.T) {
	recs := []Record{
		{Session: "a", Turn: 0, PromptTokens: 1000, CompletionTokens: 10, CachedUnknown: true},
		{Session: "a", Turn: 1, PromptTokens: 1020, CompletionTokens: 10, CachedUnknown: true},
		{Session: "a", Turn: 2, Error: ErrTimeoutFirstToken},
	}
	l := MeasureLoad(recs)
	if l.WorkingSetTokens != 1030 || !l.LowerBound || l.FollowUpUncachedTokens != nil || l.FollowUpPromptTokens != 1020 {
		t.Fatalf("load %+v", l)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
