package dsl

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/mrqa-dev/mrqa/internal/sysmem"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

var scenarioSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "target", Required: true},
		{Name: "corpus", Required: true},
		{Name: "script", Required: true},
		{Name: "rounds"},
		{Name: "seed"},
		{Name: "assign"},
		{Name: "score"},
		{Name: "abort_on_all_failed"},
		{Name: "expect"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "grid"},
		{Type: "users"},
		{Type: "search", LabelNames: []string{"kind"}},
		{Type: "slo", LabelNames: []string{"name"}},
		{Type: "report"},
	},
}

// decodeScenarioBlock decodes scenario "NAME" { ... }.
func (l *loader) decodeScenarioBlock(b *hcl.Block) *spec.Scenario {
	name := b.Labels[0]
	if !l.checkName(b) {
		return nil
	}
	if prev, ok := l.scenarios[name]; ok {
		l.duplicate(b, prev)
		return nil
	}
	l.scenarios[name] = b.DefRange
	sc := &spec.Scenario{Name: name, Rounds: defaultRounds, Assign: spec.DefaultAssign, Score: spec.DefaultScore}

	content, diags := b.Body.Content(scenarioSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return nil
	}
	attrs := content.Attributes
	if n, ok := l.ref(attrs["target"], "target"); ok {
		sc.Target = l.targets[n].val
	}
	if n, ok := l.ref(attrs["corpus"], "corpus"); ok {
		sc.Corpus = l.corpora[n].val
	}
	if n, ok := l.ref(attrs["script"], "script"); ok {
		sc.Script = l.scripts[n].val
	}
	// A setting that failed to decode holds its default, which the plan
	// checks below must not judge: the file would get a second, spurious
	// error ("rounds = 3, but …" after rounds = "two").
	before := len(l.diags.Errs())
	blocks := l.decodeScenarioSettings(sc, content)
	planInputsOK := len(l.diags.Errs()) == before
	if r := blocks["report"]; r != nil {
		sc.Report = l.decodeReportBlock(r)
	}

	sloAttrs := map[string]*hcl.Attribute{}
	seen := map[string]hcl.Range{}
	for _, sb := range content.Blocks {
		if sb.Type != "slo" {
			continue
		}
		sloName := sb.Labels[0]
		if prev, ok := seen[sloName]; ok {
			l.duplicate(sb, prev)
			continue
		}
		seen[sloName] = sb.DefRange
		slo, a := l.decodeSLOBlock(sb)
		if slo.Condition != nil {
			sc.SLOs = append(sc.SLOs, slo)
			sloAttrs[sloName] = a
		}
	}
	if len(seen) == 0 {
		l.errorf(content.MissingItemRange, "Missing slo block",
			`scenario %q needs at least one slo "NAME" { condition = "ttft_p95 <= 2s" } block.`, name)
	}
	if a := attrs["expect"]; a != nil {
		sc.Expect = l.condition(a, metrics.ScopeSweep)
		if sc.Expect != nil {
			l.checkExpectLoop(sc, a)
		}
	}

	// Checks across blocks.
	if sc.Search != nil && sc.Search.Kind == spec.SearchFrontier {
		for _, slo := range sc.SLOs {
			if err := slo.Condition.UpperBoundOnLoadMetrics(); err != nil {
				l.errorf(sloAttrs[slo.Name].Expr.Range(), "Condition unsuitable for the frontier search",
					"search \"frontier\" skips points on the assumption that every SLO only gets worse as C or S grows, so each condition must be an upper bound (<, <=) on ttft, ttfc, latency, itl, error_rate, errors, queue_time or preemptions, joined by &&. In slo %q: %s. Remove the search block to run the full grid.",
					slo.Name, err)
			}
		}
	}
	if sc.Rounds == 0 && attrs["rounds"] != nil {
		l.warnf(attrs["rounds"].Expr.Range(), "No steady-state turns",
			"With rounds = 0 every session makes only its opening request; every metric except opening_* and the request counts has no data.")
	}
	if sc.Target != nil && sc.Script != nil && sc.Script.CompletionsTemplate != "" && sc.Target.API != spec.APICompletions {
		l.warnf(attrs["script"].Expr.Range(), "Unused completions_template",
			"script.%s sets completions_template, but target.%s uses the %s API, which sends messages as they are.",
			sc.Script.Name, sc.Target.Name, sc.Target.API)
	}
	if sc.Corpus != nil && sc.Target != nil && sc.Corpus.Tokenizer == "server" && sc.Target.Simulator != nil {
		l.errorf(attrs["corpus"].Expr.Range(), "Server tokenizer with the simulator",
			"corpus.%s counts tokens with tokenizer = \"server\" (the target's /tokenize), but target.%s is the embedded simulator, which is not serving while the corpus is cut. Use the simulator's own encoding instead, tokenizer = \"cl100k_base\" unless its tokenizer field says otherwise.",
			sc.Corpus.Name, sc.Target.Name)
	}
	if planInputsOK {
		l.checkPlan(sc, content, attrs, blocks)
		l.checkClientMemory(sc, content, blocks, sysmem.Total())
	}
	l.checkMetricsSource(sc, sloAttrs)
	return sc
}

// decodeScenarioSettings reads the scenario's own settings, the grid and
// the search, the inputs of its plan, and returns its single blocks.
func (l *loader) decodeScenarioSettings(sc *spec.Scenario, content *hcl.BodyContent) map[string]*hcl.Block {
	attrs := content.Attributes
	sc.Rounds = l.intAttr(attrs["rounds"], defaultRounds, 0)
	sc.Seed = int64(l.intAttr(attrs["seed"], 0, -maxInt))
	sc.Assign = l.oneOf(attrs["assign"], spec.DefaultAssign, spec.AssignDistinct, spec.AssignRandom)
	sc.Score = l.oneOf(attrs["score"], spec.DefaultScore, spec.ScoreSessions, spec.ScoreHarmonic)
	sc.AbortOnAllFailed = l.boolAttr(attrs["abort_on_all_failed"], true)

	blocks := l.singleBlocks(content, "grid", "users", "search", "report")
	g, u := blocks["grid"], blocks["users"]
	switch {
	case g != nil && u != nil:
		l.errorf(u.DefRange, "Closed loop and open loop at once",
			"A scenario is closed-loop (grid: C workers each cycling S sessions) or open-loop (users: sessions arriving at a rate), not both; the grid is at %s. Keep one of the two blocks, or split them into two scenarios.", g.DefRange)
	case g != nil:
		sc.Grid = l.decodeGridBlock(g)
	case u != nil:
		sc.Users = l.decodeUsersBlock(u)
	default:
		l.errorf(content.MissingItemRange, "Missing grid block",
			"scenario %q needs a grid { concurrent = [...], sequential = [...] } block (closed loop), or a users { rate = [...], ... } block (open loop).", sc.Name)
	}
	if s := blocks["search"]; s != nil {
		sc.Search = l.decodeSearchBlock(s)
		if sc.Users != nil {
			l.checkRateSearch(s)
			l.checkSearchReach(sc.Users, sc.Search, s)
		} else if a := searchAttr(s, "max_rate"); a != nil {
			l.errorf(a.NameRange, "Rate setting on a grid search",
				"max_rate caps the arrival rate of an open-loop (users) scenario; this one sweeps a C×S grid. Remove max_rate, or cap the grid with max_concurrent and max_sequential.")
		}
	}
	return blocks
}

// searchAttr is attribute name of a search block, or nil.
func searchAttr(b *hcl.Block, name string) *hcl.Attribute {
	content, _ := b.Body.Content(searchSchema)
	if content == nil {
		return nil
	}
	return content.Attributes[name]
}

// otherLoopNames are the sweep names a kind of scenario leaves at 0: an
// open-loop sweep has no best C or S, a grid no best rate.
func otherLoopNames(open bool) []string {
	if open {
		return []string{"max_sessions", "best_concurrent", "best_sequential"}
	}
	return []string{"best_rate"}
}

// checkExpectLoop reports an expect condition that reads the other loop's
// names: they are always 0 here, so the condition would judge nothing.
func (l *loader) checkExpectLoop(sc *spec.Scenario, a *hcl.Attribute) {
	open := sc.Users != nil
	for _, name := range otherLoopNames(open) {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(sc.Expect.Text) {
			continue
		}
		kind, ours := "a closed-loop grid", "max_sessions, best_concurrent and best_sequential"
		if open {
			kind, ours = "an open-loop (users) scenario", "best_rate"
		}
		l.errorf(a.Expr.Range(), "Expect reads the other loop's figure",
			"%s is always 0 in %s, so expect would judge nothing; this sweep's own figures are %s (and points_passed, points_run).", name, kind, ours)
		return
	}
}

// checkSearchReach reports a rate search that may extend to a rate whose
// point would plan more sessions than one point may: exec would otherwise
// stop part way through the sweep.
func (l *loader) checkSearchReach(u *spec.Users, s *spec.Search, b *hcl.Block) {
	top := spec.MaxSearchRate(u.Rates, s)
	if u.Duration <= 0 || top*u.Duration.Minutes() <= spec.MaxOpenSessions {
		return
	}
	rng := b.DefRange
	if a := searchAttr(b, "max_rate"); a != nil {
		rng = a.Expr.Range()
	}
	l.errorf(rng, "Search reaches too many sessions",
		"The rate search may extend to %s sessions a minute, and for duration = %v that point would plan about %.0f sessions, more than the %d one point may. Lower max_rate (or set it, if it is not set) or shorten duration.",
		strconv.FormatFloat(top, 'g', -1, 64), u.Duration, top*u.Duration.Minutes(), spec.MaxOpenSessions)
}

// checkRateSearch reports the search settings that only apply to a C×S
// grid: on an open-loop scenario the frontier search runs on the rate.
func (l *loader) checkRateSearch(b *hcl.Block) {
	for _, name := range []string{"extend_step", "max_concurrent", "max_sequential"} {
		if a := searchAttr(b, name); a != nil {
			l.errorf(a.NameRange, "Grid setting on an open-loop search",
				"%s applies to the C×S grid; on a users block the frontier search works on the arrival rate (max_rate caps it). Remove %s.", name, name)
		}
	}
}

// checkPlan reports the plan-time rules the scenario breaks (the same
// rules exec checks again once it knows the corpus and the target).
func (l *loader) checkPlan(sc *spec.Scenario, content *hcl.BodyContent, attrs hcl.Attributes, blocks map[string]*hcl.Block) {
	noGrid := len(sc.Grid.Concurrent) == 0 || len(sc.Grid.Sequential) == 0
	if sc.Script == nil || l.broken[sc.Script] || (sc.Corpus != nil && l.broken[sc.Corpus]) || noGrid && sc.Users == nil {
		return
	}
	facts := spec.Facts{Documents: -1}
	if sc.Corpus != nil {
		facts.Documents = knownDocuments(sc.Corpus)
		if sc.Corpus.Tokens > 0 {
			facts.Conversation = spec.ConversationFloor(sc, sc.Corpus.Tokens)
		}
	}
	if sc.Target != nil && sc.Target.Simulator != nil {
		if cfg, err := profile.Build(sc.Target.Simulator); err == nil {
			facts.MaxModelLen, facts.KVTokens = cfg.MaxModelLen, cfg.KVCacheTokens
		}
	}
	for _, e := range spec.CheckPlan(sc, facts) {
		rng := content.MissingItemRange
		switch e.Field {
		case "rounds":
			if a := attrs["script"]; a != nil {
				rng = a.Expr.Range()
			}
			if a := attrs["rounds"]; a != nil {
				rng = a.Expr.Range()
			}
		case "grid", "search":
			if b := blocks[e.Field]; b != nil {
				rng = b.DefRange
			}
		case "corpus":
			if a := attrs["corpus"]; a != nil {
				rng = a.Expr.Range()
			}
		}
		l.errorf(rng, planSummary[e.Field], "%s", sentence(e.Msg))
	}
}

// checkOutputDirs reports scenarios whose outputs would land in the same
// folder (report { dir }, or out/<name> by default): one run would
// overwrite or mix with the other's results.
func (l *loader) checkOutputDirs(scs []*spec.Scenario) {
	first := map[string]string{}
	for _, sc := range scs {
		dir := sc.Report.Dir
		if dir == "" {
			dir = filepath.Join("out", sc.Name)
		}
		dir = filepath.Clean(dir)
		if other, ok := first[dir]; ok {
			l.errorf(l.scenarios[sc.Name], "Two scenarios write to one folder",
				"scenario %q writes its results to %s, as scenario %q (at %s) does: the second run would overwrite or mix with the first's. Give one of them its own report { dir = \"...\" }.",
				sc.Name, dir, other, l.scenarios[other])
			continue
		}
		first[dir] = sc.Name
	}
}

// checkClientMemory warns when the largest point the sweep may reach needs
// more than half of the machine's memory (total bytes; 0: unknown) in the
// client alone.
func (l *loader) checkClientMemory(sc *spec.Scenario, content *hcl.BodyContent, blocks map[string]*hcl.Block, total uint64) {
	if total == 0 || sc.Corpus == nil || len(sc.Grid.Concurrent) == 0 || len(sc.Grid.Sequential) == 0 {
		return
	}
	need := spec.ClientMemory(sc, knownDocuments(sc.Corpus), sc.Corpus.Tokens)
	if need <= 0 || uint64(need) <= total/2 {
		return
	}
	rng := content.MissingItemRange
	if g := blocks["grid"]; g != nil {
		rng = g.DefRange
	}
	c, s := sc.Reach()
	l.warnf(rng, "Grid larger than this machine can hold",
		"The largest point the sweep may reach (%d×%d = %d sessions) needs about %s in the client (documents, %s a session in flight, records; see docs/PERFORMANCE.md), more than half of this machine's %s. Shrink the grid, cap the search, or run the sweep from a larger machine.",
		c, s, c*s, gib(need), gib(256<<10), gib(int64(total)))
}

func gib(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

// checkMetricsSource reports SLOs that read a server metric of a target
// with no /metrics to scrape: they could only ever have no data.
func (l *loader) checkMetricsSource(sc *spec.Scenario, sloAttrs map[string]*hcl.Attribute) {
	if sc.Target == nil || sc.Target.Simulator != nil || sc.Target.Metrics != nil {
		return
	}
	for _, slo := range sc.SLOs {
		for _, name := range slo.Condition.Reads {
			if !slices.Contains(metrics.ServerNames[:], name) {
				continue
			}
			l.errorf(sloAttrs[slo.Name].Expr.Range(), "Server metric without a metrics source",
				"slo %q reads %s, which comes from the target's Prometheus /metrics, but target.%s has no metrics block: every point would have no data and fail. Add metrics { url = \"http://HOST:PORT/metrics\" } to target.%s, or drop %s from the condition.",
				slo.Name, name, sc.Target.Name, sc.Target.Name, name)
			break
		}
	}
}

// planSummary titles a plan-time rule's diagnostic by the field it names.
var planSummary = map[string]string{
	"rounds": "Not enough questions",
	"grid":   "Corpus too small",
	"search": "Corpus too small",
	"corpus": "Conversation longer than the context",
}

// ref resolves a reference such as target.vllm to a declared block name.
func (l *loader) ref(a *hcl.Attribute, kind string) (string, bool) {
	if a == nil {
		return "", false // Content already reported the missing attribute
	}
	example := fmt.Sprintf("%s.NAME", kind)
	tr, diags := hcl.AbsTraversalForExpr(a.Expr)
	if diags.HasErrors() {
		detail := fmt.Sprintf("%s must be a reference to a %s block, like %s = %s.", kind, kind, kind, example)
		if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && hclsyntax.ValidIdentifier(v.AsString()) {
			detail = fmt.Sprintf("%s must be a reference, not a string: write %s = %s.%s.", kind, kind, kind, v.AsString())
		}
		l.errorf(a.Expr.Range(), "Invalid reference", "%s", detail)
		return "", false
	}
	root := tr.RootName()
	if root != kind {
		if blockKinds[root] {
			l.errorf(a.Expr.Range(), "Wrong kind of reference",
				"%s must refer to a %s block, but %s is a %s.", kind, kind, traversalText(tr), root)
		} else {
			l.errorf(a.Expr.Range(), "Invalid reference", "%s must be a reference to a %s block, like %s = %s.", kind, kind, kind, example)
		}
		return "", false
	}
	name, ok := traversalAttr(tr)
	if !ok || len(tr) != 2 {
		l.errorf(a.Expr.Range(), "Invalid reference", "%s must name one %s block, like %s = %s.", kind, kind, kind, example)
		return "", false
	}
	var known []string
	found := false
	switch kind {
	case "target":
		_, found = l.targets[name]
		known = keys(l.targets)
	case "corpus":
		_, found = l.corpora[name]
		known = keys(l.corpora)
	case "script":
		_, found = l.scripts[name]
		known = keys(l.scripts)
	}
	if !found {
		detail := fmt.Sprintf("No %s named %q is declared in this file.", kind, name)
		if s := suggest(name, known); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s?", kind, s)
		}
		l.errorf(a.Expr.Range(), "Reference to undeclared "+kind, "%s", detail)
		return "", false
	}
	return name, true
}

func keys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

var gridSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "concurrent", Required: true}, {Name: "sequential", Required: true},
}}

// decodeGridBlock decodes grid { concurrent, sequential }.
func (l *loader) decodeGridBlock(b *hcl.Block) spec.Grid {
	content, diags := b.Body.Content(gridSchema)
	l.diags = append(l.diags, diags...)
	var g spec.Grid
	if content == nil {
		return g
	}
	axis := func(name string) []int {
		a := content.Attributes[name]
		if a == nil {
			return nil
		}
		xs, ok := l.intList(a, 1)
		if !ok {
			return nil
		}
		if len(xs) == 0 {
			l.errorf(a.Expr.Range(), "Empty grid", "%s must list at least one value.", name)
			return nil
		}
		seen := map[int]bool{}
		for _, x := range xs {
			if seen[x] {
				l.errorf(a.Expr.Range(), "Duplicate grid value", "%s lists %d more than once.", name, x)
				return nil
			}
			seen[x] = true
		}
		return xs
	}
	g.Concurrent = axis("concurrent")
	g.Sequential = axis("sequential")
	return g
}

var searchSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "extend"}, {Name: "extend_step"}, {Name: "max_concurrent"}, {Name: "max_sequential"}, {Name: "max_points"}, {Name: "max_rate"},
}}

// decodeSearchBlock decodes search "frontier" { ... }.
func (l *loader) decodeSearchBlock(b *hcl.Block) *spec.Search {
	kind := b.Labels[0]
	if kind != spec.SearchFrontier {
		detail := fmt.Sprintf("The only search is \"frontier\", not %q; omit the block to run the full grid.", kind)
		l.errorf(b.LabelRanges[0], "Unknown search", "%s", detail)
		return nil
	}
	content, diags := b.Body.Content(searchSchema)
	l.diags = append(l.diags, diags...)
	s := &spec.Search{Kind: kind}
	if content == nil {
		return s
	}
	a := content.Attributes
	s.Extend = l.boolAttr(a["extend"], false)
	s.ExtendStep = l.intAttr(a["extend_step"], 0, 0)
	s.MaxConcurrent = l.intAttr(a["max_concurrent"], 0, 0)
	s.MaxSequential = l.intAttr(a["max_sequential"], 0, 0)
	s.MaxPoints = l.intAttr(a["max_points"], 0, 0)
	s.MaxRate = l.positiveAttr(a["max_rate"], 0)
	return s
}

var sloSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}}}

// decodeSLOBlock decodes slo "NAME" { condition }.
func (l *loader) decodeSLOBlock(b *hcl.Block) (spec.SLO, *hcl.Attribute) {
	slo := spec.SLO{Name: b.Labels[0]}
	content, diags := b.Body.Content(sloSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return slo, nil
	}
	a := content.Attributes["condition"]
	if a != nil {
		slo.Condition = l.condition(a, metrics.ScopePoint)
	}
	return slo, a
}

var reportSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "dir"}, {Name: "title"}, {Name: "lmbench"},
}}

// decodeReportBlock decodes report { dir, title, lmbench }.
func (l *loader) decodeReportBlock(b *hcl.Block) spec.Report {
	content, diags := b.Body.Content(reportSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return spec.Report{}
	}
	return spec.Report{
		Dir:     l.stringAttr(content.Attributes["dir"], ""),
		Title:   l.stringAttr(content.Attributes["title"], ""),
		LMBench: l.boolAttr(content.Attributes["lmbench"], false),
	}
}

// condition compiles an slo condition or expect, pointing errors at the
// exact character of the string literal when the text is written literally.
func (l *loader) condition(a *hcl.Attribute, scope metrics.Scope) *metrics.Condition {
	val, present, ok := l.typed(a, cty.String)
	if !present {
		if ok {
			l.errorf(a.Expr.Range(), "Missing condition", "%s must not be null.", a.Name)
		}
		return nil
	}
	text := val.AsString()
	c, err := metrics.Compile(text, scope)
	if err == nil {
		return c
	}
	var ce *metrics.CompileError
	if !errors.As(err, &ce) {
		l.errorf(a.Expr.Range(), "Invalid condition", "%s.", err)
		return nil
	}
	what := "SLO condition"
	if scope == metrics.ScopeSweep {
		what = "expect"
	}
	l.errorf(l.offsetRange(a.Expr, text, ce.Offset, ce.Len), "Invalid "+what, "%s", sentence(ce.Msg))
	return nil
}

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// offsetRange maps n bytes at offset off in a string's value (n = 0: the
// word or character there) to their source range: exact when the string is
// written as one literal without escapes (a quoted string or a heredoc),
// the whole expression otherwise.
func (l *loader) offsetRange(expr hcl.Expression, text string, off, n int) hcl.Range {
	rng := expr.Range()
	te, ok := expr.(*hclsyntax.TemplateExpr)
	file, inFile := l.srcs[rng.Filename]
	if !ok || len(te.Parts) != 1 || !inFile {
		return rng
	}
	lit, ok := te.Parts[0].(*hclsyntax.LiteralValueExpr)
	if !ok {
		return rng
	}
	// The literal's own range covers its text in the source, inside the
	// quotes or between the heredoc's markers.
	src := lit.SrcRange
	if src.Start.Byte < 0 || src.End.Byte > len(file) || src.Start.Byte > src.End.Byte || string(file[src.Start.Byte:src.End.Byte]) != text {
		return rng
	}
	off = max(0, min(off, len(text)))
	stop := wordEnd(text, off)
	if n > 0 {
		stop = min(off+n, len(text))
	}
	pos := func(o int) hcl.Pos {
		p := src.Start
		for _, r := range text[:o] {
			if r == '\n' {
				p.Line, p.Column = p.Line+1, 1
			} else {
				p.Column++
			}
		}
		p.Byte = src.Start.Byte + o
		return p
	}
	return hcl.Range{Filename: rng.Filename, Start: pos(off), End: pos(stop)}
}

// wordEnd returns the end of the word at off in text, or of the one
// character there when it starts no word.
func wordEnd(text string, off int) int {
	stop := off
	for stop < len(text) && isWordByte(text[stop]) {
		stop++
	}
	if stop == off && stop < len(text) && text[stop] != '\n' {
		_, n := utf8.DecodeRuneInString(text[stop:])
		stop += n
	}
	return stop
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
