package report

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// scenarioView is everything the scenario page shows besides chart options.
type scenarioView struct {
	Name, Title string
	Answer      string
	AnswerClass string // pass | fail | nodata
	Knee        *Knee  // why the limit is where it is; nil when nothing ran
	BestC       int    // 0 when no point passed
	BestS       int
	Extended    string
	Expect      string
	ExpectClass string
	Cache       string
	CacheClass  string      // ok | warn
	Clock       string      // on the virtual clock: what is simulated time
	Prediction  string      // on a profile file: that the figures are predicted, and from what
	Versus      *versusView // a measured run beside this predicted one; nil for none
	Notes       []string
	Facts       []fact
	SLOs        []results.SLO
	Table       table
	Heatmap     *chartView
	Turns       *chartView
	WorkingSet  *chartView // nil when no point recorded its working set
	CDF         *chartView
	Throughput  *chartView
	Errors      *chartView // nil when no request failed
	ErrorTable  *table
	Server      *serverView // nil when no point has server metrics
	File        results.File
	FileLabel   string       // "Scenario file", or "Configuration" for several files
	Sources     []sourceView // each file of the configuration, or the one file of older results
	Variables   []results.Var
	Implied     int
}

type fact struct{ Label, Value string }

// sourceView is one file of the configuration as the page shows it.
type sourceView struct {
	results.File
	Heading bool // named above its text: there are several
}

// sources lists the configuration's files; results written before files
// were recorded have only file.
func sources(r *results.Results) []sourceView {
	files := r.Files
	if len(files) == 0 {
		files = []results.File{r.File}
	}
	out := make([]sourceView, len(files))
	for i, f := range files {
		out[i] = sourceView{File: f, Heading: len(files) > 1}
	}
	return out
}

func buildScenario(r *results.Results) (*scenarioView, []chartView, error) {
	ps := sortedPoints(r)
	v := &scenarioView{Name: r.Scenario, Title: r.Title, SLOs: r.SLOs, File: r.File, FileLabel: "Scenario file", Sources: sources(r)}
	if len(v.Sources) > 1 {
		v.FileLabel = "Configuration"
	}
	v.Answer, v.AnswerClass = conclusion(r)
	v.Knee = explainKnee(r)
	if r.Best != nil {
		v.BestC, v.BestS = r.Best.Concurrent, r.Best.Sequential
	}
	if s := r.Search; s != nil && s.ExtendedBest != nil {
		v.Extended = "Within the declared grid: " + bestText(s.InGridBest) + "; extended past it: " + bestText(s.ExtendedBest) + "."
	}
	switch {
	case r.Expect != "" && r.Shard != nil:
		v.Expect, v.ExpectClass = fmt.Sprintf("expect %s: %s", r.Expect, shardExpect), "ok"
	case r.ExpectOutcome == metrics.NotJudged:
		v.Expect, v.ExpectClass = fmt.Sprintf("expect %s: %s", r.Expect, notJudgedText(r)), "warn"
	case r.Expect != "":
		v.Expect = fmt.Sprintf("expect %s: %s %s", r.Expect, expectWord(r.ExpectOutcome), passMark(r.ExpectOutcome == metrics.Pass))
		v.ExpectClass = "fail"
		if r.ExpectOutcome == metrics.Pass {
			v.ExpectClass = "pass"
		}
	}
	v.Cache, v.CacheClass = cacheLine(r)
	v.Clock = clockLine(r)
	v.Prediction = predictionLine(r)
	v.Notes = notes(r)
	v.Facts = facts(r)
	for _, vr := range r.Variables {
		if vr.Sensitive {
			vr.Value = Redacted // whatever results say, never show a sensitive value
		}
		v.Variables = append(v.Variables, vr)
	}
	open := isOpen(r)
	if open {
		v.Table = rateTable(r, ps)
	} else {
		v.Table = pointTable(r, ps)
	}
	if r.Search != nil {
		v.Implied = len(r.Search.Implied)
	}

	var all []chartView
	scale := heatScaleOf(r)
	charts := []struct {
		id     string
		title  string
		note   string
		height int
		build  func() (template.JS, error)
		skip   bool
		empty  string // why there is nothing to draw
	}{
		{"mrqa-heatmap", "ttft_p95 across C × S",
			heatNote(r),
			heatHeight(r), func() (template.JS, error) { return heatmapOption(r, scale) }, open || len(ps) == 0 && v.Implied == 0, ""},
		{"mrqa-rate", "ttft_p95 against the arrival rate",
			"Each point is an arrival rate; the second line is the sessions active at once on average. Past the knee the sessions pile up and TTFT climbs with them.",
			340, func() (template.JS, error) { return rateOption(r, ps) }, !open || len(ps) == 0, ""},
		{"mrqa-turns", "TTFT p95 by turn",
			"Turn 0 is the opening turn, which sends the whole document; later turns resend the conversation and can hit the prefix cache. " + keyNote(r),
			360, func() (template.JS, error) { return turnsOption(r, ps) }, len(ps) == 0, turnsEmpty(ps)},
		{"mrqa-working-set", "Working set against KV capacity", workingSetNote(r),
			320, func() (template.JS, error) { return workingSetOption(r, ps) }, open || !hasLoad(ps), ""},
		{"mrqa-cdf", "Steady-state TTFT distribution",
			"One curve per point (click the legend to show or hide points). A curve that ends below 100% did not get a first token for the rest: those turns failed. " + keyNote(r),
			380, func() (template.JS, error) { return cdfOption(r, ps) }, len(ps) == 0, cdfEmpty(ps)},
		{"mrqa-throughput", "Throughput", "Input and output tokens per second over each point's span.",
			320, func() (template.JS, error) { return throughputOption(ps, simulated(r)) }, len(ps) == 0, throughputEmpty(ps)},
	}
	kinds := errorKinds(ps)
	for _, c := range charts {
		if c.skip {
			continue
		}
		if c.empty != "" {
			all = append(all, chartView{ID: c.id, Title: c.title, Empty: c.empty})
			continue
		}
		js, err := c.build()
		if err != nil {
			return nil, nil, fmt.Errorf("chart %s: %w", c.id, err)
		}
		all = append(all, chartView{ID: c.id, Title: c.title, Note: c.note, Height: c.height, Option: js})
	}
	if len(kinds) > 0 {
		js, err := errorsOption(ps, kinds)
		if err != nil {
			return nil, nil, fmt.Errorf("chart errors: %w", err)
		}
		all = append(all, chartView{ID: "mrqa-errors", Title: "Failed requests by kind", Height: 320, Option: js,
			Note: "Every failed request counts: failed steady turns count as +∞ in ttft percentiles and in error_rate."})
		t := errorTable(ps, kinds)
		v.ErrorTable = &t
	}
	if hasServerData(r, ps) {
		sv, charts, err := serverSection(r, ps)
		if err != nil {
			return nil, nil, err
		}
		v.Server = sv
		all = append(all, charts...)
	}
	// Point the view at the final slice elements (appends may have moved them).
	for i := range all {
		c := &all[i]
		switch c.ID {
		case "mrqa-heatmap", "mrqa-rate":
			v.Heatmap = c
		case "mrqa-turns":
			v.Turns = c
		case "mrqa-working-set":
			v.WorkingSet = c
		case "mrqa-cdf":
			v.CDF = c
		case "mrqa-throughput":
			v.Throughput = c
		case "mrqa-errors":
			v.Errors = c
		case "mrqa-server-cache":
			v.Server.Cache = c
		case "mrqa-server-queue":
			v.Server.Queue = c
		case "mrqa-server-split":
			v.Server.Split = c
		default:
			if strings.HasPrefix(c.ID, "mrqa-server-ts-") {
				v.Server.Series = append(v.Server.Series, c)
			}
		}
	}
	return v, all, nil
}

func heatHeight(r *results.Results) int {
	_, ss := axes(r)
	return min(720, max(260, 120+44*len(ss)))
}

// cacheLine says whether points started from a clean prefix cache.
func cacheLine(r *results.Results) (string, string) {
	n, reset := len(r.Points), 0
	for _, p := range r.Points {
		if p.Reset {
			reset++
		}
	}
	cool := ""
	if r.Between.Cooldown > 0 {
		cool = ", cooldown " + fmtSec(r.Between.Cooldown) + " between points"
	}
	switch {
	case n > 0 && reset == n:
		return "Prefix cache reset before every point" + cool + ".", "ok"
	case reset == 0:
		return "Prefix cache not reset between points: each point started with what the previous one left in the cache" + cool + ".", "warn"
	}
	return fmt.Sprintf("Prefix cache reset before %d of %d points%s.", reset, n, cool), "warn"
}

func notes(r *results.Results) []string {
	var out []string
	if r.Stopped != "" {
		out = append(out, fmt.Sprintf("The sweep stopped early (%s); these results cover %d points.", r.Stopped, len(r.Points)))
	} else if !r.Complete && r.Missing == nil {
		out = append(out, fmt.Sprintf("The sweep is incomplete: %d points have run so far.", len(r.Points)))
	}
	if line := unrunLine(r); line != "" {
		out = append(out, line)
	}
	if r.Search != nil && len(r.Search.NonMonotone) > 0 {
		var pts []string
		for _, p := range r.Search.NonMonotone {
			pts = append(pts, fmt.Sprintf("C=%d, S=%d", p[0], p[1]))
		}
		out = append(out, "These points contradicted the search's assumption that more load never helps; their neighbours were measured: "+strings.Join(pts, "; ")+".")
	}
	if limited := clientLimited(r); len(limited) > 0 {
		out = append(out, "The client may have distorted these points (a stall or saturated cores during the point; see each point's client check in results.json): "+strings.Join(limited, "; ")+".")
	}
	if !r.Target.UsageSupported && len(r.Points) > 0 {
		out = append(out, "The server sent no token usage: token counts come from the client's tokenizer and cached_tokens_ratio is unknown.")
	}
	return out
}

// clientLimited lists the points the client flagged about itself, with why.
func clientLimited(r *results.Results) []string {
	var out []string
	for _, p := range sortedPoints(r) {
		if c := p.Client; c != nil && c.Limited {
			out = append(out, fmt.Sprintf("C=%d, S=%d: %s", p.Concurrent, p.Sequential, c.Why))
		}
	}
	return out
}

func facts(r *results.Results) []fact {
	t := r.Target
	target := t.Name
	var extra []string
	if t.API != "" {
		extra = append(extra, t.API+" API")
	}
	if t.Simulator != "" {
		extra = append(extra, "simulator profile "+t.Simulator)
	}
	if t.Clock != "" {
		extra = append(extra, t.Clock+" clock")
	}
	if len(extra) > 0 {
		target += " (" + strings.Join(extra, ", ") + ")"
	}
	tokens := r.Corpus.Tokens
	if tokens == 0 {
		for _, d := range r.Corpus.Documents {
			tokens += d.Tokens
		}
	}
	corpus := fmt.Sprintf("%s: %d documents × %s tokens in all", r.Corpus.Name, len(r.Corpus.Documents), groupDigits(tokens))
	if r.Corpus.Tokenizer != "" {
		corpus += " (" + r.Corpus.Tokenizer + ")"
	}
	if r.Corpus.Source != "" {
		corpus += ", from " + r.Corpus.Source
	}
	work := fmt.Sprintf("%d follow-up rounds after the opening turn", r.Rounds)
	if s := r.Script; s.Name != "" {
		work += fmt.Sprintf("; script %s: %d questions, max_tokens %d, temperature %s", s.Name, s.Questions, s.MaxTokens, strconv.FormatFloat(s.Temperature, 'g', -1, 64))
	}
	if r.Assign != "" {
		work += "; documents assigned " + r.Assign
	}
	work += fmt.Sprintf("; seed %d", r.Seed)
	grid := fmt.Sprintf("C ∈ %s, S ∈ %s", intList(r.Grid.Concurrent), intList(r.Grid.Sequential))
	switch s := r.Search; {
	case isOpen(r):
		grid = rateFacts(r)
	case s != nil:
		grid += fmt.Sprintf("; %s search: %d points measured, %d implied", s.Kind, len(r.Points), len(s.Implied))
	case r.Shard != nil || r.Merged != nil:
		grid += fmt.Sprintf("; full grid: %d of its %d points measured", len(r.Points), len(gridOf(r).Points()))
	default:
		grid += fmt.Sprintf("; full grid: %d points measured", len(r.Points))
	}
	score := r.Score
	if score == "" {
		score = spec.ScoreSessions
	}
	run := "started " + fmtTime(r.Started)
	if !r.Finished.IsZero() {
		run += ", finished " + fmtTime(r.Finished) + " (" + r.Finished.Sub(r.Started).Round(time.Second).String() + ")"
	}
	out := []fact{
		{"Target", target},
		{"Base URL", baseURLFact(r)},
		{"Model", t.Model},
		{"Corpus", corpus},
		{"Workload", work},
		{gridLabel(r), grid},
		{"Score", score},
		{"Run", run},
		{"Tool", strings.TrimSpace(r.Tool + " " + r.ToolVersion)},
	}
	if sh := shardsFact(r); sh != "" {
		out = append(out, fact{"Shards", sh})
	}
	if r.File.Path != "" {
		label := "Scenario file"
		if len(r.Files) > 1 {
			label = "Configuration"
		}
		out = append(out, fact{label, r.File.Path + " (sha256 " + short(r.File.SHA256) + ")"})
	}
	if f := r.From; f != nil {
		out = append(out, fact{"Re-run of", fmt.Sprintf("the run recorded in %s (scenario %s, started %s), from its results.json%s",
			f.Dir, f.Scenario, fmtTime(f.Started), overrides(r, nil))})
	}
	return out
}

// baseURLFact is the target's base URL, or each shard's when a merged
// sweep's shards named their own replicas.
func baseURLFact(r *results.Results) string {
	var ps []*results.Point
	for i := range r.Points {
		ps = append(ps, &r.Points[i])
	}
	urls := perPointURLs(ps)
	if len(urls) == 0 {
		return safeURL(r.Target.BaseURL)
	}
	for i, u := range urls {
		urls[i] = safeURL(u)
	}
	return "one per shard (the point table names each point's): " + strings.Join(urls, ", ")
}

// shardsFact says what part of a sharded sweep the folder is: the shard
// folders a merge combined, or the shard this folder ran; "" otherwise.
func shardsFact(r *results.Results) string {
	switch {
	case r.Merged != nil:
		parts := make([]string, len(r.Merged.Shards))
		for i, s := range r.Merged.Shards {
			parts[i] = fmt.Sprintf("%s (shard %d/%d, %d point%s)", s.Folder, s.Index, r.Merged.Count, s.Points, plural(s.Points))
		}
		return fmt.Sprintf("merged from %d of %d shards: %s", len(parts), r.Merged.Count, strings.Join(parts, "; "))
	case r.Shard != nil:
		return fmt.Sprintf("shard %d/%d of the sweep (mrqa exec -shard %d/%d)", r.Shard.Index, r.Shard.Count, r.Shard.Index, r.Shard.Count)
	}
	return ""
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(unknown)"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func intList(xs []int) string {
	if len(xs) == 0 {
		return "{}"
	}
	return "{" + strings.Join(intStrings(xs), ", ") + "}"
}

func groupDigits(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteString(",")
		}
		b.WriteRune(c)
	}
	return b.String()
}

func hasServer(ps []*results.Point) bool {
	for _, p := range ps {
		if p.Server != nil {
			return true
		}
	}
	return false
}

// serverColumns says whether the point table gets the kv_cache_usage_max
// and prefix_cache_hit_rate columns: when any point has the figure.
func serverColumns(ps []*results.Point) (kv, hit bool) {
	for _, p := range ps {
		if s := p.Server; s != nil {
			kv = kv || s.KVCacheUsageMax != nil
			hit = hit || s.PrefixCacheHitRate != nil
		}
	}
	return kv, hit
}

// serverValue is one figure of a point's server summary; nil when the point
// has none.
func serverValue(p *results.Point, get func(*results.ServerSummary) *float64) *float64 {
	if p.Server == nil {
		return nil
	}
	return get(p.Server)
}

func heatNote(r *results.Results) string {
	s := "Colour: steady-state ttft_p95 on a log scale (∞: failed turns pushed it to infinity). ✓ passed every SLO (green outline), ✗ failed one, ★ the best point (black outline); a thick purple line separates passing cells from failing ones."
	if r.Search != nil && len(r.Search.Implied) > 0 {
		s += " Grey hatched cells were implied by the search, not measured."
	}
	if simulated(r) {
		s += " Times are simulated (virtual clock)."
	}
	return s
}

// gridLabel names the facts line about the points: the grid, or the rates.
func gridLabel(r *results.Results) string {
	if isOpen(r) {
		return "Rates"
	}
	return "Grid"
}
