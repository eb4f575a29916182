package runtime

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
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
	if err := s.checkProfileFile(); err != nil {
		return err
	}
	return s.checkWorkload()
}

// checkProfileFile refuses a simulator's profile file whose digest is not
// the recorded one.
func (s *sweep) checkProfileFile() error {
	rep := s.opts.Reproduce
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

// checkWorkload compares what the re-run would measure with what the
// recording measured (workloadDiff). A difference no -var override
// explains — an env() that reads another value now, a secret given anew
// with another value — refuses the re-run; with overrides, each difference
// is printed before the run.
func (s *sweep) checkWorkload() error {
	rep := s.opts.Reproduce
	diff := workloadDiff(rep.Recorded, s.sc, s.docs, s.red)
	return s.differences(diff, func(list string) error {
		return fmt.Errorf("%w: the run in %s measured another workload than this re-run would: %s. No -var changed these: an env() in the configuration that reads another value now, or a secret, corpus or file given with another value, may be the cause (nothing was sent)",
			ErrNotReproduced, rep.From.Dir, list)
	})
}

// differences settles what a re-run found different from the recording:
// nothing to do without differences; with -var overrides, each difference
// is printed before the run; without, the run is refused with refusal's
// error, given the differences as a list.
func (s *sweep) differences(diff []string, refusal func(list string) error) error {
	rep := s.opts.Reproduce
	switch {
	case len(diff) == 0:
		return nil
	case len(rep.From.Overridden) == 0:
		return refusal(strings.Join(diff, ", "))
	}
	for _, d := range diff {
		s.prog.line("-from %s: %s differs from the recording (-var %s)", rep.From.Dir, d, strings.Join(rep.From.Overridden, ", -var "))
	}
	return nil
}

// workloadDiff names each field of what a point measures (the identity,
// computed with the recording's salt so that digests of secrets compare)
// and of how points are chosen and judged (grid, rounds, seed, SLOs,
// score, search) whose value differs from the recording's, with both
// values: "rounds (1 → 3)". A field built from a secret reads "changed",
// never a value. The model is left out: identity records the model
// preflight confirmed, which only the server's answer gives
// (checkReproducedModel compares it then).
func workloadDiff(rec *results.Results, sc *spec.Scenario, docs []corpus.Document, red *redactor) []string {
	var out []string
	add := func(field, was, now string) {
		if was != now {
			out = append(out, fmt.Sprintf("%s (%s)", field, changeText(was, now)))
		}
	}
	add("rounds", strconv.Itoa(rec.Rounds), strconv.Itoa(sc.Rounds))
	add("seed", strconv.FormatInt(rec.Seed, 10), strconv.FormatInt(sc.Seed, 10))
	add("grid", jsonText(rec.Grid), jsonText(results.Grid{Concurrent: sc.Grid.Concurrent, Sequential: sc.Grid.Sequential}))
	add("slos", jsonText(rec.SLOs), jsonText(slosOf(sc)))
	add("score", rec.Score, sc.Score)
	add("search", searchKind(rec.Search), specSearchKind(sc.Search))
	if rec.Identity == nil {
		return out // recorded before identities were
	}
	now := identity(sc, docs, sc.Target.Model, red, rec.IdentitySalt)
	for _, k := range slices.Sorted(maps.Keys(union(rec.Identity, now))) {
		if !identityCompared(k, sc) {
			continue
		}
		add(k, rec.Identity[k], now[k])
	}
	return out
}

// identityCompared reports whether the identity field k is compared
// before the target starts: not rules (the measurement rules of the mrqa
// that runs, which from.tool_version records), nor rounds and seed
// (compared as such), nor the model, which preflight confirms.
func identityCompared(k string, _ *spec.Scenario) bool {
	switch k {
	case "rules", "rounds", "seed", "target.model":
		return false
	}
	return true
}

// checkReproducedModel refuses a re-run whose server, at preflight, serves
// another model than the recording measured (the same address restarted
// with another model, a model the configuration leaves to the server):
// the re-run would measure another server. Nothing has been sent but
// preflight. A model a -var override changed is printed instead.
func (s *sweep) checkReproducedModel(model string) error {
	rep := s.opts.Reproduce
	if rep == nil || rep.Recorded.Identity == nil {
		return nil
	}
	was := rep.Recorded.Identity["target.model"]
	now := identity(s.sc, s.docs, model, s.red, rep.Recorded.IdentitySalt)["target.model"]
	if was == now {
		return nil
	}
	diff := []string{"target.model (" + changeText(was, now) + ")"}
	return s.differences(diff, func(list string) error {
		return fmt.Errorf("%w: the server at preflight serves another model than the run in %s measured: %s. No -var changed it: the server was restarted with another model, or the configuration names none and leaves it to the server (nothing was sent)",
			ErrNotReproduced, rep.From.Dir, list)
	})
}

// changeText is "was → now", or "changed" when either is a digest of a
// secret, which says nothing to a reader and must not be shown.
func changeText(was, now string) string {
	if strings.HasPrefix(was, secretPrefix) || strings.HasPrefix(now, secretPrefix) {
		return "changed"
	}
	return shown(was) + " → " + shown(now)
}

func slosOf(sc *spec.Scenario) []results.SLO {
	var out []results.SLO
	for _, slo := range sc.SLOs {
		out = append(out, results.SLO{Name: slo.Name, Condition: slo.Condition.Text})
	}
	return out
}

func searchKind(s *results.Search) string {
	if s == nil {
		return ""
	}
	return s.Kind
}

func specSearchKind(s *spec.Search) string {
	if s == nil {
		return ""
	}
	return s.Kind
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
