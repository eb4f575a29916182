package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

// ErrNotReproduced: a re-run's inputs are not the recorded run's (a usage
// error: exit 2). Nothing has been sent.
var ErrNotReproduced = errors.New("not the recorded run's inputs")

// Reproduction is the recorded run an exec -from re-runs.
type Reproduction struct {
	// From is written into the re-run's results.json.
	From results.From
	// Recorded is the recording: the corpus must load to its documents,
	// and the simulator's profile file must have its digest.
	Recorded *results.Results
}

// checkReproduced refuses a re-run whose corpus or profile file differ
// from the recording's, before the target starts: the same configuration
// would send other text, or simulate another server.
func (s *sweep) checkReproduced() error {
	rep := s.opts.Reproduce
	if rep == nil {
		return nil
	}
	if diff := documentsDiff(rep.Recorded.Corpus.Documents, s.docs); len(diff) > 0 {
		return fmt.Errorf("%w: corpus %q does not load to the documents the run in %s sent, so sessions would read other text: documents %s",
			ErrNotReproduced, s.sc.Corpus.Name, rep.From.Dir, strings.Join(diff, ", "))
	}
	want := rep.Recorded.Target.ProfileFile
	if want == nil || s.sc.Target.Simulator == nil {
		return nil
	}
	got := profileFileOf(s.sc.Target.Simulator.ProfileFile)
	if got == nil || got.SHA256 != want.SHA256 {
		return fmt.Errorf("%w: the simulator's profile file %s is not the one the run in %s loaded (sha256 %s, now %s)",
			ErrNotReproduced, want.Path, rep.From.Dir, short(want.SHA256), short(sumOf(got)))
	}
	return nil
}

// documentsDiff names the documents that differ, by id: "0002 (changed)",
// "0003 (gone)", "0004 (new)", or says the order differs (it decides
// which session reads which); none when ids, order, token counts and
// sha256s are the same.
func documentsDiff(recorded []results.Document, docs []corpus.Document) []string {
	now := map[string]corpus.Document{}
	for _, d := range docs {
		now[d.ID] = d
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range recorded {
		seen[r.ID] = true
		d, ok := now[r.ID]
		switch {
		case !ok:
			out = append(out, r.ID+" (gone)")
		case d.SHA256 != r.SHA256 || d.Tokens != r.Tokens:
			out = append(out, r.ID+" (changed)")
		}
	}
	for _, d := range docs {
		if !seen[d.ID] {
			out = append(out, d.ID+" (new)")
		}
	}
	if len(out) == 0 {
		for i, d := range docs {
			if recorded[i].ID != d.ID {
				return []string{"in another order (first at position " + strconv.Itoa(i+1) + ": " + d.ID + ", recorded " + recorded[i].ID + ")"}
			}
		}
	}
	return out
}

func sumOf(p *results.ProfileFile) string {
	if p == nil || p.SHA256 == "" {
		return "none: it cannot be read"
	}
	return p.SHA256
}

// short cuts a digest to what a person compares by eye.
func short(sum string) string {
	if len(sum) > 12 && !strings.Contains(sum, " ") {
		return sum[:12] + "…"
	}
	return sum
}
