package dsl

import (
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// PlanTotals counts the work of one scenario's grid.
type PlanTotals struct {
	Points   int   // grid points
	Sessions int64 // Σ C×S over the points
	Requests int64 // Σ C×S×(rounds+1)
}

// Totals counts the work of a scenario's full grid (a frontier search may
// run fewer points).
func Totals(sc *spec.Scenario) PlanTotals {
	var t PlanTotals
	for _, p := range sc.Grid.Points() {
		c, s := int64(p[0]), int64(p[1])
		t.Points++
		t.Sessions += c * s
		t.Requests += c * s * int64(sc.Rounds+1)
	}
	return t
}

// describeUsers is the plan's line for an open-loop scenario.
func describeUsers(sc *spec.Scenario) string {
	u := sc.Users
	rates := make([]string, len(u.Rates))
	for i, r := range u.Rates {
		rates[i] = strconv.FormatFloat(r, 'g', -1, 64)
	}
	arrival := u.Arrival
	if u.Arrival == spec.ArrivalGamma {
		arrival += fmt.Sprintf(" (burstiness %g)", u.Burstiness)
	}
	bound := fmt.Sprintf("for %v", u.Duration)
	if u.Sessions > 0 {
		bound = fmt.Sprintf("%d sessions", u.Sessions)
	}
	think := "no think time"
	if u.Think.Mean > 0 {
		think = fmt.Sprintf("think %s, mean %v", u.Think.Distribution, u.Think.Mean)
	}
	return fmt.Sprintf("%s arrivals at [%s] a minute, %s a point, warm-up %v, at most %d active, %s (%d round%s + opening, assign %s, seed %d)",
		arrival, strings.Join(rates, ", "), bound, u.Warmup, u.MaxActive, think, sc.Rounds, plural(sc.Rounds), sc.Assign, sc.Seed)
}

// WritePlan writes the plan of a loaded file as validate prints it, with
// every secret of f hidden: per scenario its target, corpus, script, grid
// size and the requests it will make.
func WritePlan(w io.Writer, f *spec.File) {
	var b strings.Builder
	writePlan(&b, f)
	// Any line may carry a secret (a model name, a title or a path computed
	// from a sensitive variable), so the whole text is scrubbed.
	_, _ = io.WriteString(w, scrub(b.String(), f.Secrets))
}

func writePlan(w io.Writer, f *spec.File) {
	var all PlanTotals
	fmt.Fprintf(w, "%s: %d scenario%s\n", f.Path, len(f.Scenarios), plural(len(f.Scenarios)))
	if len(f.Files) > 1 {
		fmt.Fprintf(w, "files: %s\n", fileList(f.Files))
	}
	if f.RequiredVersion != "" {
		fmt.Fprintf(w, "requires mrqa %s\n", f.RequiredVersion)
	}
	for _, sc := range f.Scenarios {
		t := Totals(sc)
		all.Points += t.Points
		all.Sessions += t.Sessions
		all.Requests += t.Requests
		fmt.Fprintf(w, "\nscenario %q\n", sc.Name)
		writeTarget(w, sc.Target)
		fmt.Fprintf(w, "  corpus  %s\n", describeCorpus(sc.Corpus))
		fmt.Fprintf(w, "  script  %s\n", describeScript(sc.Script))
		if sc.Users != nil {
			fmt.Fprintf(w, "  users   %s\n", describeUsers(sc))
		} else {
			fmt.Fprintf(w, "  grid    concurrent %s × sequential %s: %d point%s, %d sessions, %d requests (%d round%s + opening, assign %s, seed %d)\n",
				ints(sc.Grid.Concurrent), ints(sc.Grid.Sequential), t.Points, plural(t.Points), t.Sessions, t.Requests,
				sc.Rounds, plural(sc.Rounds), sc.Assign, sc.Seed)
		}
		if s := sc.Search; s != nil {
			fmt.Fprintf(w, "  search  %s%s (the grid's counts are an upper bound)\n", s.Kind, describeSearch(s))
		}
		fmt.Fprintf(w, "  score   %s\n", sc.Score)
		for _, slo := range sc.SLOs {
			fmt.Fprintf(w, "  slo     %s: %s\n", slo.Name, slo.Condition.Text)
		}
		if sc.Expect != nil {
			fmt.Fprintf(w, "  expect  %s\n", sc.Expect.Text)
		}
		dir := sc.Report.Dir
		if dir == "" {
			dir = "out/" + sc.Name
		}
		extra := ""
		if sc.Report.LMBench {
			extra = " (with LMBenchmark files)"
		}
		fmt.Fprintf(w, "  report  %s%s\n", dir, extra)
	}
	if len(f.Scenarios) > 1 {
		fmt.Fprintf(w, "\ntotal: %d points, %d sessions, %d requests\n", all.Points, all.Sessions, all.Requests)
	}
}

// fileList names the configuration's files in load order, the variable
// files and those file() read marked.
func fileList(files []spec.SourceFile) string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
		switch f.Role {
		case spec.RoleVariables:
			names[i] += " (variables)"
		case spec.RoleInput:
			names[i] += " (read by file())"
		}
	}
	return strings.Join(names, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func describeTarget(t *spec.Target) string {
	if t == nil {
		return "(none)"
	}
	var parts []string
	if t.Simulator != nil {
		parts = append(parts, fmt.Sprintf("embedded simulator, profile %s, %s clock", t.Simulator.Profile, t.Simulator.Clock))
		if f := t.Simulator.ProfileFile; f != "" {
			parts = append(parts, "profile file "+f)
		}
		if n := len(t.Simulator.Params); n > 0 {
			parts = append(parts, fmt.Sprintf("%d field%s overridden", n, plural(n)))
		}
	} else {
		u := t.BaseURL
		if pu, err := url.Parse(u); err == nil {
			u = pu.Redacted()
		}
		parts = append(parts, u)
	}
	if t.Model != "" {
		parts = append(parts, "model "+t.Model)
	}
	parts = append(parts, t.API+" API")
	if t.Between.ResetPrefixCache {
		parts = append(parts, "prefix cache reset between points")
	}
	if t.Between.Cooldown > 0 {
		parts = append(parts, "cooldown "+t.Between.Cooldown.String())
	}
	return t.Name + ": " + strings.Join(parts, ", ")
}

// writeTarget writes the target's line, then its tls and metrics
// settings when it has them. Secrets are named, never shown.
func writeTarget(w io.Writer, t *spec.Target) {
	fmt.Fprintf(w, "  target  %s\n", describeTarget(t))
	if t == nil {
		return
	}
	if t.TLS != nil {
		fmt.Fprintf(w, "  tls     %s\n", describeTLS(t.TLS))
	}
	if t.Metrics != nil {
		fmt.Fprintf(w, "  metrics %s\n", describeMetrics(t))
	}
}

func describeTLS(t *spec.TLS) string {
	var parts []string
	if t.CAFile != "" {
		parts = append(parts, "ca_file "+t.CAFile)
	}
	if t.ServerName != "" {
		parts = append(parts, "server_name "+t.ServerName)
	}
	if t.CertFile != "" {
		parts = append(parts, "client certificate "+t.CertFile+" with key "+t.KeyFile)
	}
	if t.InsecureSkipVerify {
		parts = append(parts, "insecure_skip_verify: the server's certificate is not checked")
	}
	if len(parts) == 0 {
		return "the system's certificate authorities"
	}
	return strings.Join(parts, ", ")
}

// describeMetrics says where and how often /metrics is scraped, and with
// which credentials and tls settings, saying when they are the target's.
func describeMetrics(t *spec.Target) string {
	m := t.Metrics
	parts := []string{redactURL(m.URL) + " every " + m.Interval.String()}
	if m.BearerToken != "" {
		from := ""
		if m.BearerToken == t.APIKey {
			from = ", the target's api_key"
		}
		parts = append(parts, "bearer token (sensitive"+from+")")
	}
	if len(m.Headers) > 0 {
		names := slices.Sorted(maps.Keys(m.Headers))
		from := ""
		if maps.Equal(m.Headers, t.Headers) {
			from = ", the target's"
		}
		parts = append(parts, "headers "+strings.Join(names, ", ")+" (values sensitive"+from+")")
	}
	switch {
	case m.TLS == nil:
	case m.TLS == t.TLS:
		parts = append(parts, "the target's tls")
	default:
		parts = append(parts, "tls: "+describeTLS(m.TLS))
	}
	return strings.Join(parts, ", ")
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

func describeCorpus(c *spec.Corpus) string {
	if c == nil {
		return "(none)"
	}
	var docs string
	switch c.Source.Kind {
	case spec.SourceGutenberg:
		docs = fmt.Sprintf("%d Project Gutenberg book%s (ids %s)", len(c.Source.IDs), plural(len(c.Source.IDs)), ints(c.Source.IDs))
	case spec.SourceSynthetic:
		docs = fmt.Sprintf("%d synthetic document%s (seed %d)", c.Source.Documents, plural(c.Source.Documents), c.Source.Seed)
	case spec.SourceDir:
		docs = fmt.Sprintf("files %s in %s", c.Source.Pattern, c.Source.Path)
	}
	var size string
	switch {
	case c.Tokens > 0:
		size = fmt.Sprintf("each cut to %d tokens", c.Tokens)
		if n := knownDocuments(c); n > 0 {
			size += fmt.Sprintf(" (%d tokens in all)", int64(n)*int64(c.Tokens))
		}
	case c.Buckets:
		size = "each cut to a power-of-two bucket"
	default:
		size = "kept whole"
	}
	return fmt.Sprintf("%s: %s, %s, tokenizer %s", c.Name, docs, size, c.Tokenizer)
}

func describeScript(s *spec.Script) string {
	if s == nil {
		return "(none)"
	}
	sys := ""
	if len(s.System) > 0 {
		sys = ", system message"
	}
	return fmt.Sprintf("%s: %d question%s, max_tokens %d, temperature %g%s",
		s.Name, len(s.Questions), plural(len(s.Questions)), s.MaxTokens, s.Temperature, sys)
}

func describeSearch(s *spec.Search) string {
	var parts []string
	if s.Extend {
		step := "doubling"
		if s.ExtendStep > 0 {
			step = fmt.Sprintf("step %d", s.ExtendStep)
		}
		parts = append(parts, "extends past the grid, "+step)
	}
	if s.MaxConcurrent > 0 {
		parts = append(parts, fmt.Sprintf("C ≤ %d", s.MaxConcurrent))
	}
	if s.MaxSequential > 0 {
		parts = append(parts, fmt.Sprintf("S ≤ %d", s.MaxSequential))
	}
	if s.MaxPoints > 0 {
		parts = append(parts, fmt.Sprintf("at most %d points", s.MaxPoints))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// Select returns the scenarios named (all of them, in file order, when
// names is empty), or an error naming each unknown one with a suggestion.
func Select(f *spec.File, names []string) ([]*spec.Scenario, error) {
	if len(names) == 0 {
		return f.Scenarios, nil
	}
	byName := map[string]*spec.Scenario{}
	var have []string
	for _, sc := range f.Scenarios {
		byName[sc.Name] = sc
		have = append(have, sc.Name)
	}
	var out []*spec.Scenario
	var bad []string
	seen := map[string]bool{}
	for _, n := range names {
		sc, ok := byName[n]
		switch {
		case !ok:
			msg := fmt.Sprintf("no scenario named %q in %s", n, f.Path)
			if s := suggest(n, have); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += fmt.Sprintf(" (it has %s)", strings.Join(have, ", "))
			}
			bad = append(bad, msg)
		case !seen[n]:
			seen[n] = true
			out = append(out, sc)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return out, nil
}
