package runtime

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/clientcheck"
	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/openai"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/sim"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// Errors that decide the CLI's exit code.
var (
	// ErrInterrupted: the run was cancelled (Ctrl-C); completed points are on disk.
	ErrInterrupted = errors.New("interrupted")
	// ErrNoAnswer: the target answered none of the sweep's requests (every
	// one failed to connect or timed out). A server that answers with
	// errors has been measured: its points fail, and an expect decides.
	ErrNoAnswer = errors.New("the target answered no request")
	// ErrPlan: the plan breaks a rule that could be decided before the
	// first point (see spec.CheckPlan), with facts only exec knows.
	ErrPlan = errors.New("the plan cannot run")
)

// Options control a sweep.
type Options struct {
	// OutDir is the output root; a scenario writes to OutDir/<name> unless its
	// report block names a directory.
	OutDir string
	// Resume continues the run in the output folder: points measured the
	// same way are kept, the rest run.
	Resume bool
	// Force replaces the run in the output folder (once this run has a
	// point to save).
	Force   bool
	LMBench bool
	// Progress receives live progress; nil for none.
	Progress io.Writer
	// Terminal makes progress redraw one line instead of printing lines.
	Terminal bool
	// Version is the tool version recorded in results.
	Version string
	// Tokenizers is shared by every scenario of the run.
	Tokenizers *tokenizer.Cache
	// Corpus overrides corpus loading options (tests point it at mirrors).
	Corpus corpus.Options
	// Clock is the client's self-check clock (nil: time.Now); tests move it
	// to make a stall.
	Clock func() time.Time
}

// Dir is where a scenario writes its outputs.
func Dir(sc *spec.Scenario, outRoot string) string {
	if sc.Report.Dir != "" {
		return sc.Report.Dir
	}
	if outRoot == "" {
		outRoot = "out"
	}
	return filepath.Join(outRoot, sc.Name)
}

// Run executes one scenario and writes its results. The returned Results
// are complete as far as the run got, also when err is non-nil; they are
// nil when it failed before its first point.
func Run(ctx context.Context, file *spec.File, sc *spec.Scenario, opts Options) (*results.Results, error) {
	dir := Dir(sc, opts.OutDir)
	red := newRedactor(file.Secrets)
	if opts.Tokenizers == nil {
		opts.Tokenizers = tokenizer.NewCache()
	}
	copts := opts.Corpus
	if copts.Tokenizers == nil {
		copts.Tokenizers = opts.Tokenizers
	}
	var err error
	if copts.Tokenizer, err = TokenizerOptions(copts.Tokenizer, sc.Target); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	prog := newProgress(opts.Progress, opts.Terminal, sc.Name)
	defer prog.stopRedraw()

	prog.line("loading corpus %q", sc.Corpus.Name)
	docs, warns, err := corpus.Load(ctx, sc.Corpus, copts)
	for _, w := range warns {
		prog.line("warning: corpus %q: %s: %s", sc.Corpus.Name, w.DocumentID, w.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}

	r := newResults(file, sc, docs, opts.Version, red)

	// Until the first point runs, a failure returns no results: nothing
	// was measured, and a resumed run's old points are not shown again.
	tgt, err := startTarget(ctx, sc, opts, prog)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: target %q: %w", sc.Name, sc.Target.Name, err)
	}
	defer tgt.close()
	for _, n := range tgt.notes {
		prog.line("preflight: %s", red.apply(n))
	}
	if err := checkPlan(sc, docs, spec.Facts{MaxModelLen: tgt.maxModelLen, KVTokens: tgt.kvTokens}); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	r.Target.Model = tgt.model
	r.Target.UsageSupported = tgt.usage
	if tgt.baseURL != "" {
		r.Target.BaseURL = red.apply(results.StripUserinfo(tgt.baseURL))
	}
	// The folder is claimed once the model is known: it is part of what the
	// finished points in it measured.
	out, err := openOutput(dir, opts, r, func(salt string) map[string]string {
		return identity(sc, docs, tgt.model, red, salt)
	}, prog)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	defer out.close()
	// Adopted points are judged again: the SLOs are not part of the
	// identity, so the current ones decide.
	for i := range r.Points {
		evalSLOs(sc, &r.Points[i])
	}

	prevSeries := r.ServerSeries
	save := func() error {
		if err := out.beforeSave(); err != nil {
			return err
		}
		if tgt.scraper != nil {
			// The scrapes so far go to disk with every point, so a killed
			// run keeps them for the points it finished.
			r.ServerSeries = redactSeries(mergeSeries(prevSeries, tgt.scraper.Series()), red)
		}
		if err := saveResults(dir, r); err != nil {
			return err
		}
		out.afterSave()
		return nil
	}
	points := newPointOrder(sc)
	for _, p := range r.Points {
		points.record(p.Concurrent, p.Sequential, p.Passed)
	}
	total := points.total()
	prog.start(total, len(r.Points))
	var runErr error
	scrapeWarned := false
	for first := len(r.Points) == 0; ; first = false {
		c, s, ok := points.next()
		if !ok {
			break
		}
		if err := ctx.Err(); err != nil {
			runErr = ErrInterrupted
			break
		}
		// The prefix cache is reset before every point when asked (the
		// first included); a point only claims a clean start when the reset
		// really happened.
		resetOK := false
		if sc.Target.Between.ResetPrefixCache {
			if err := tgt.reset(ctx); err != nil {
				if ctx.Err() != nil {
					runErr = ErrInterrupted
					break
				}
				prog.line("reset prefix cache: %v (this point starts with what the last one left cached)", err)
			} else {
				resetOK = true
			}
		}
		if !first && sc.Target.Between.Cooldown > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(sc.Target.Between.Cooldown):
			}
			if ctx.Err() != nil {
				runErr = ErrInterrupted
				break
			}
		}
		plan, err := PlanPoint(sc, docs, c, s)
		if err != nil {
			runErr = err
			break
		}
		prog.point(c, s, plan.Requests())
		// The server-metrics window opens before a scrape on the point's
		// first boundary and closes after one on its last, so counter deltas
		// are exact and even a short point has gauge readings.
		scrapeFrom := time.Now()
		if tgt.scraper != nil && !tgt.fresh {
			_ = tgt.scraper.ScrapeNow(ctx)
		}
		started := time.Now()
		var mon *clientcheck.Monitor
		if !tgt.fresh {
			mon = clientcheck.Start(opts.Clock)
		}
		recs, perr := tgt.exec.RunPoint(ctx, plan, prog.record)
		finished := time.Now()
		var self *clientcheck.Report
		if mon != nil {
			rep := mon.Stop()
			self = &rep
		}
		if perr != nil && !errors.Is(perr, ErrTargetDown) {
			if ctx.Err() != nil {
				runErr = ErrInterrupted
				break
			}
			runErr = perr
			break
		}
		dur := finished.Sub(started)
		if tgt.fresh {
			// On the virtual clock the point's span is simulated time.
			dur = simulatedSpan(recs)
		}
		if h, ok := tgt.exec.(*HTTPExecutor); ok {
			// Record starts count from the moment connections were warm.
			started = h.Epoch()
			dur = finished.Sub(started)
		}
		pt := buildPoint(sc, plan, recs, started, dur)
		pt.Reset = resetOK || tgt.fresh
		if tgt.scraper != nil {
			w := promscrape.Window{BusyFrom: started}
			if v, ok := tgt.exec.(*virtualExecutor); ok {
				w.From, w.To = v.window()
				w.BusyFrom = w.From
				pt.Started = w.From.UTC()
			} else {
				_ = tgt.scraper.ScrapeNow(ctx)
				w.From, w.To = scrapeFrom, time.Now()
			}
			w.BusyTo = w.BusyFrom.Add(dur)
			sum := tgt.scraper.Summary(w)
			sum.Apply(&pt.Metrics)
			if err := tgt.scraper.FirstError(); err != nil && !scrapeWarned {
				scrapeWarned = true
				prog.line("warning: scraping the target's /metrics failed: %s (server metrics of the points it affects have no data; later failures are counted, not repeated)", red.apply(err.Error()))
			}
			// The server's queue-time histogram counts every request, so the
			// decomposition compares it with the client's mean over all turns.
			pt.Server = serverSummary(sum, meanTTFT(recs))
		} else {
			for _, n := range metrics.ServerNames {
				pt.Metrics.NoData[n] = metrics.WhyNoMetricsSource
			}
		}
		if self != nil {
			pt.Client = clientSummary(*self, pt.Metrics.TTFTOKP95)
		}
		// SLOs are decided once every metric, the server's included, is in.
		evalSLOs(sc, &pt)
		if errors.Is(perr, ErrTargetDown) {
			runErr = perr
			r.Stopped = perr.Error()
			// The point is incomplete: keep its records for inspection but
			// do not count it as a result (nor let it replace another run).
			if !out.replace || out.replaced {
				_ = results.WriteRecords(filepath.Join(dir, "points", fmt.Sprintf("c%d_s%d.partial.jsonl", c, s)), redactRecords(recs, red))
			}
			break
		}
		if err := out.beforeSave(); err != nil {
			return r, err
		}
		if err := results.WriteRecords(filepath.Join(dir, pt.Records), redactRecords(recs, red)); err != nil {
			return r, err
		}
		if opts.LMBench || sc.Report.LMBench {
			if err := results.WriteLMBench(filepath.Join(dir, "lmbench"), r, &pt, recs); err != nil {
				return r, err
			}
		}
		r.Points = append(r.Points, pt)
		points.record(c, s, pt.Passed)
		if why := allFailed(&pt); why != "" && sc.AbortOnAllFailed {
			r.Stopped = why
			prog.done(&pt)
			prog.line("stopping: %s (abort_on_all_failed; set it to false to run the remaining points)", why)
			break
		}
		finalize(sc, r, points)
		if err := save(); err != nil {
			return r, err
		}
		prog.done(&pt)
	}
	if errors.Is(runErr, ErrInterrupted) {
		r.Stopped = "interrupted"
	}

	r.Complete = runErr == nil && r.Stopped == ""
	r.Finished = time.Now().UTC()
	finalize(sc, r, points)
	// A run with no point of its own to show writes nothing: it never
	// replaces or touches what the folder held.
	if len(r.Points) > 0 && (out.resumed || !out.replace || out.replaced) {
		if err := save(); err != nil {
			return r, err
		}
	}
	prog.finish()
	if runErr != nil {
		return r, runErr
	}
	if !anyAnswered(r) {
		return r, ErrNoAnswer
	}
	return r, nil
}

// allFailed says why a point counts as one where every request failed, or
// "" when some request succeeded.
func allFailed(pt *results.Point) string {
	m := &pt.Metrics
	if m.Requests == 0 || m.Errors < m.Requests {
		return ""
	}
	return fmt.Sprintf("every request of point C=%d S=%d failed", pt.Concurrent, pt.Sequential)
}

// clientSummary records the client's check on itself for results.json.
func clientSummary(r clientcheck.Report, ttftOKP95 time.Duration) *results.ClientCheck {
	if ttftOKP95 == metrics.Inf {
		ttftOKP95 = 0
	}
	limited, why := clientcheck.Judge(r, ttftOKP95)
	return &results.ClientCheck{
		LagMax: r.LagMax.Seconds(), LagP99: r.LagP99.Seconds(), Stalls: r.Stalls,
		CPUSeconds: r.CPU.Seconds(), Utilization: r.Utilization(), Cores: r.Cores,
		Limited: limited, Why: why,
	}
}

// checkPlan applies the plan-time rules with what exec knows: the corpus as
// loaded and the target's context length.
func checkPlan(sc *spec.Scenario, docs []corpus.Document, facts spec.Facts) error {
	longest := 0
	for i := range docs {
		longest = max(longest, docs[i].Tokens)
	}
	facts.Documents = len(docs)
	if longest > 0 {
		facts.Conversation = spec.ConversationFloor(sc, longest)
	}
	errs := spec.CheckPlan(sc, facts)
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Msg
	}
	return fmt.Errorf("%w: %s", ErrPlan, strings.Join(msgs, "; "))
}

// anyAnswered reports whether the target answered at least one request,
// successfully or with an error of its own.
func anyAnswered(r *results.Results) bool {
	for _, p := range r.Points {
		if p.Metrics.Requests > p.Metrics.Errors {
			return true
		}
		for kind := range p.Errors {
			if !metrics.Unanswered(kind) {
				return true
			}
		}
	}
	return false
}

// buildPoint aggregates a point's records; the caller adds server metrics
// and then evaluates the SLOs.
func buildPoint(sc *spec.Scenario, plan *Point, recs []metrics.Record, started time.Time, dur time.Duration) results.Point {
	slices.SortStableFunc(recs, func(a, b metrics.Record) int { return cmp.Compare(a.Start, b.Start) })
	pt := results.Point{
		Concurrent: plan.C,
		Sequential: plan.S,
		Started:    started.UTC(),
		Duration:   dur.Seconds(),
		Metrics:    metrics.Aggregate(plan.C, plan.S, recs),
		Records:    filepath.ToSlash(results.RecordsPath(plan.C, plan.S)),
		CDF:        metrics.CDF(recs),
		Turns:      turnStats(recs, plan.Rounds),
	}
	for i := range recs {
		if k := recs[i].Error; k != "" && k != metrics.ErrCanceled {
			if pt.Errors == nil {
				pt.Errors = map[string]int{}
			}
			pt.Errors[k]++
		}
	}
	byDoc := map[string][]string{}
	for _, s := range plan.Sessions() {
		pt.Sessions = append(pt.Sessions, results.SessionDocument{Session: s.Label, Document: s.Doc.ID})
		byDoc[s.Doc.ID] = append(byDoc[s.Doc.ID], s.Label)
	}
	for doc, sessions := range byDoc {
		if len(sessions) > 1 {
			if pt.SharedDocuments == nil {
				pt.SharedDocuments = map[string][]string{}
			}
			pt.SharedDocuments[doc] = sessions
		}
	}
	return pt
}

// evalSLOs judges the point once every metric, the server's included, is in.
func evalSLOs(sc *spec.Scenario, pt *results.Point) {
	names := make([]string, len(sc.SLOs))
	conds := make([]*metrics.Condition, len(sc.SLOs))
	for i, slo := range sc.SLOs {
		names[i], conds[i] = slo.Name, slo.Condition
	}
	results.JudgePoint(pt, names, conds)
}

func turnStats(recs []metrics.Record, rounds int) []results.TurnStats {
	out := make([]results.TurnStats, rounds+1)
	vals := make([][]time.Duration, rounds+1)
	prompt := make([]int, rounds+1)
	cached := make([]int, rounds+1)
	for i := range recs {
		r := &recs[i]
		if r.Turn > rounds || r.Error == metrics.ErrCanceled {
			continue
		}
		t := metrics.Inf
		if !r.OK() {
			out[r.Turn].Errors++
		} else {
			if r.TTFT > 0 {
				t = time.Duration(math.Round(r.TTFT * 1e9))
			}
			// Only turns whose usage reported cached tokens say anything
			// about the cache.
			if !r.ClientCounted && !r.CachedUnknown {
				prompt[r.Turn] += r.PromptTokens
				cached[r.Turn] += r.CachedTokens
			}
		}
		vals[r.Turn] = append(vals[r.Turn], t)
	}
	for turn := range out {
		out[turn].Turn = turn
		out[turn].Samples = len(vals[turn])
		if st, ok := metrics.Summarize(vals[turn]); ok {
			out[turn].TTFTP50 = metrics.Sec(st.P50)
			out[turn].TTFTP95 = metrics.Sec(st.P95)
		}
		if prompt[turn] > 0 {
			out[turn].Cached = float64(cached[turn]) / float64(prompt[turn])
		}
	}
	return out
}

// target is a started target: an executor plus what sits around it.
type target struct {
	exec    Executor
	client  *openai.Client // nil on the virtual clock
	scraper *promscrape.Scraper
	model   string
	baseURL string // where requests went, once started
	usage   bool
	fresh   bool // every point starts on an empty cache (virtual clock)
	// maxModelLen is the target's context length in tokens and kvTokens
	// its KV cache; 0 when unknown.
	maxModelLen, kvTokens int
	notes                 []string // what preflight learned, for the terminal
	closers               []func()
}

func (t *target) close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
}

func (t *target) reset(ctx context.Context) error {
	if t.client == nil {
		return nil
	}
	return t.client.ResetPrefixCache(ctx)
}

func startTarget(ctx context.Context, sc *spec.Scenario, opts Options, prog *progress) (*target, error) {
	t := &target{usage: true}
	ts := sc.Target
	if ts.Simulator != nil && ts.Simulator.Clock == "virtual" {
		ex, err := newVirtualExecutor(sc, opts.Tokenizers)
		if err != nil {
			return nil, err
		}
		t.exec, t.fresh, t.model, t.scraper = ex, true, ex.cfg.Model, ex.scraper
		t.maxModelLen, t.kvTokens = ex.cfg.MaxModelLen, ex.cfg.KVCacheTokens
		return t, nil
	}
	baseURL := ts.BaseURL
	metricsURL := ""
	if ts.Metrics != nil {
		metricsURL = ts.Metrics.URL
	}
	if ts.Simulator != nil {
		srv, err := sim.Start(ctx, ts.Simulator, "")
		if err != nil {
			return nil, fmt.Errorf("start simulator: %w", err)
		}
		t.closers = append(t.closers, func() { srv.Close() })
		if cfg, err := sim.Build(ts.Simulator); err == nil {
			t.kvTokens = cfg.KVCacheTokens
		}
		baseURL = srv.BaseURL()
		metricsURL = strings.TrimSuffix(baseURL, "/v1") + "/metrics"
		prog.line("simulator %q listening on %s", ts.Simulator.Profile, baseURL)
	}
	var counter interface{ Count(string) int }
	topts, _ := serverTokenizer(tokenizer.Options{BaseDir: sc.Corpus.BaseDir}, ts, baseURL) // a bad tls block fails just below
	if tok, err := opts.Tokenizers.Load(sc.Corpus.Tokenizer, topts); err == nil {
		counter = tok
	}
	tlsCfg, err := tlsconf.Load(ts.TLS)
	if err != nil {
		t.close()
		return nil, err
	}
	t.baseURL = baseURL
	client, err := openai.New(openai.Config{
		BaseURL:             baseURL,
		Model:               ts.Model,
		API:                 ts.API,
		APIKey:              ts.APIKey,
		Headers:             ts.Headers,
		ExtraBody:           ts.ExtraBody,
		ConnectTimeout:      ts.Timeouts.Connect,
		FirstTokenTimeout:   ts.Timeouts.FirstToken,
		IdleTimeout:         ts.Timeouts.Idle,
		TotalTimeout:        ts.Timeouts.Total,
		CompletionsTemplate: sc.Script.CompletionsTemplate,
		Counter:             counter,
		TLS:                 tlsCfg,
	})
	if err != nil {
		t.close()
		return nil, err
	}
	info, err := client.Preflight(ctx)
	switch {
	case err == nil:
		t.client, t.model, t.usage = client, info.Model, info.StreamOptions && info.Usage
	default:
		// Nothing is measured against a target that cannot serve one
		// request: the sweep stops before its first point and writes
		// nothing that could read like a measurement.
		t.close()
		return nil, err
	}
	t.notes, t.maxModelLen = info.Notes, info.MaxModelLen
	if metricsURL != "" {
		interval := time.Second
		var include []string
		if ts.Metrics != nil {
			if ts.Metrics.Interval > 0 {
				interval = ts.Metrics.Interval
			}
			include = ts.Metrics.Include
		}
		access, err := metricsAccess(ts)
		if err != nil {
			t.close()
			return nil, err
		}
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		t.scraper = promscrape.Start(sctx, metricsURL, interval, include, access)
		t.closers = append(t.closers, func() { t.scraper.Stop(); cancel() })
	}
	runID := make([]byte, 4)
	_, _ = rand.Read(runID)
	down := ts.DownAfter
	if down == 0 {
		down = spec.DefaultDownAfter
	}
	t.exec = &HTTPExecutor{Client: client, Script: sc.Script, RunID: "mrqa-" + hex.EncodeToString(runID), DownAfter: down}
	return t, nil
}

// newResults fills the parts of results.json known before any point runs.
func newResults(file *spec.File, sc *spec.Scenario, docs []corpus.Document, version string, red *redactor) *results.Results {
	r := &results.Results{
		SchemaVersion: results.SchemaVersion,
		Tool:          "mrqa",
		ToolVersion:   version,
		Scenario:      sc.Name,
		Title:         sc.Report.Title,
		File:          results.File{Path: file.Path, SHA256: file.SHA256, Redacted: red.apply(file.Redacted)},
		Target: results.Target{
			Name:    sc.Target.Name,
			BaseURL: red.apply(results.StripUserinfo(sc.Target.BaseURL)),
			Model:   sc.Target.Model,
			API:     sc.Target.API,
		},
		Corpus: results.Corpus{Name: sc.Corpus.Name, Source: sc.Corpus.Source.Kind, Tokenizer: sc.Corpus.Tokenizer, Tokens: sc.Corpus.Tokens},
		Script: results.Script{Name: sc.Script.Name, Questions: len(sc.Script.Questions), MaxTokens: sc.Script.MaxTokens, Temperature: sc.Script.Temperature},
		Rounds: sc.Rounds,
		Seed:   sc.Seed,
		Assign: sc.Assign,
		Score:  sc.Score,
		Grid:   results.Grid{Concurrent: sc.Grid.Concurrent, Sequential: sc.Grid.Sequential},
		Between: results.Between{
			ResetPrefixCache: sc.Target.Between.ResetPrefixCache,
			Cooldown:         sc.Target.Between.Cooldown.Seconds(),
		},
		Started: time.Now().UTC(),
		Points:  []results.Point{},
	}
	if sim := sc.Target.Simulator; sim != nil {
		r.Target.Simulator, r.Target.Clock = sim.Profile, sim.Clock
	}
	for _, v := range file.Variables {
		val := v.Value
		if v.Sensitive {
			val = "(sensitive)"
		}
		r.Variables = append(r.Variables, results.Var{Name: v.Name, Value: red.apply(val), Sensitive: v.Sensitive, Source: v.Source})
	}
	for _, d := range docs {
		r.Corpus.Documents = append(r.Corpus.Documents, results.Document{ID: d.ID, Title: d.Title, Tokens: d.Tokens, SHA256: d.SHA256})
	}
	for _, slo := range sc.SLOs {
		r.SLOs = append(r.SLOs, results.SLO{Name: slo.Name, Condition: slo.Condition.Text})
	}
	if sc.Expect != nil {
		r.Expect = sc.Expect.Text
	}
	return r
}

func saveResults(dir string, r *results.Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return results.Save(dir, r)
}

// summarised are the stable names whose figures ServerSummary already has.
var summarised = map[string]bool{
	promscrape.KVCacheUsage: true, promscrape.PrefixCacheQueries: true, promscrape.PrefixCacheHits: true,
	promscrape.Preemptions: true, promscrape.QueueTime: true, promscrape.TTFT: true,
}

func serverSummary(s promscrape.Summary, steadyMean time.Duration) *results.ServerSummary {
	out := &results.ServerSummary{ScrapeErrors: s.Errors}
	set := func(name string, v float64) *float64 {
		if !s.Has[name] {
			return nil
		}
		return &v
	}
	out.KVCacheUsageMax = set("kv_cache_usage_max", s.KVCacheUsageMax)
	out.KVCacheUsageMean = set("kv_cache_usage_max", s.KVCacheUsageMean)
	out.PrefixCacheHitRate = set("prefix_cache_hit_rate", s.PrefixCacheHitRate)
	out.Preemptions = set("preemptions", s.Preemptions)
	out.QueueTimeP95 = set("queue_time_p95", s.QueueTimeP95.Seconds())
	out.QueueTimeMean = set("queue_time_p95", s.QueueTimeMean.Seconds())
	out.ServerTTFTP95 = set(promscrape.HasServerTTFT, s.ServerTTFTP95.Seconds())
	if s.Has["queue_time_p95"] {
		out.QueueTimeP95Bounds = &s.QueueTimeP95Bounds
	}
	if s.Has[promscrape.HasServerTTFT] {
		out.ServerTTFTP95Bounds = &s.ServerTTFTP95Bounds
	}
	if split, ok := s.Decompose(steadyMean); ok {
		out.QueueShare = &split.QueueShare
	}
	// Every other family, one figure each: a counter's increase, a gauge's
	// maximum, a histogram's p95.
	for name, st := range s.Stats {
		if summarised[name] {
			continue
		}
		v := st.Max
		switch st.Kind {
		case promscrape.KindCounter:
			v = st.Delta
		case promscrape.KindHistogram:
			v = st.P95
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue // e.g. a histogram with only its +Inf bucket: nothing to say, and JSON cannot hold it
		}
		if out.Extra == nil {
			out.Extra = map[string]float64{}
		}
		out.Extra[name] = v
	}
	return out
}

// pointOrder yields the points to run: the grid in order, or a frontier search.
type pointOrder struct {
	grid   [][2]int
	done   map[[2]int]bool
	search *search.Search
}

func newPointOrder(sc *spec.Scenario) *pointOrder {
	o := &pointOrder{done: map[[2]int]bool{}}
	if sc.Search != nil {
		o.search = search.New(searchConfig(sc))
		return o
	}
	for _, c := range sc.Grid.Concurrent {
		for _, s := range sc.Grid.Sequential {
			o.grid = append(o.grid, [2]int{c, s})
		}
	}
	return o
}

func searchConfig(sc *spec.Scenario) search.Config {
	return search.FromSpec(sc.Grid, sc.Score, sc.Search)
}

func (o *pointOrder) total() int {
	if o.search != nil {
		return 0 // unknown in advance
	}
	return len(o.grid)
}

func (o *pointOrder) record(c, s int, passed bool) {
	o.done[[2]int{c, s}] = true
	if o.search != nil {
		o.search.Record(c, s, passed)
	}
}

func (o *pointOrder) next() (int, int, bool) {
	if o.search != nil {
		return o.search.Next()
	}
	for _, p := range o.grid {
		if !o.done[p] {
			return p[0], p[1], true
		}
	}
	return 0, 0, false
}

// finalize computes the best point, the sweep metrics and expect.
func finalize(sc *spec.Scenario, r *results.Results, o *pointOrder) {
	var outs []search.PointOutcome
	r.Sweep = metrics.Sweep{PointsRun: len(r.Points)}
	for _, p := range r.Points {
		outs = append(outs, search.PointOutcome{C: p.Concurrent, S: p.Sequential, Passed: p.Passed})
		if p.Passed {
			r.Sweep.PointsPassed++
		}
	}
	r.Best = nil
	if c, s, ok := search.Best(outs, sc.Score); ok {
		r.Best = &results.Best{Concurrent: c, Sequential: s, Sessions: c * s, Score: search.ScoreOf(sc.Score, c, s)}
		r.Sweep.MaxSessions, r.Sweep.BestConcurrent, r.Sweep.BestSequential = c*s, c, s
	}
	if o.search != nil {
		res := o.search.Result()
		si := &results.Search{Kind: sc.Search.Kind}
		if res.InGridBest.Found {
			si.InGridBest = &results.Best{Concurrent: res.InGridBest.C, Sequential: res.InGridBest.S, Sessions: res.InGridBest.C * res.InGridBest.S, Score: search.ScoreOf(sc.Score, res.InGridBest.C, res.InGridBest.S)}
		}
		if res.ExtendedBest.Found && sc.Search.Extend {
			si.ExtendedBest = &results.Best{Concurrent: res.ExtendedBest.C, Sequential: res.ExtendedBest.S, Sessions: res.ExtendedBest.C * res.ExtendedBest.S, Score: search.ScoreOf(sc.Score, res.ExtendedBest.C, res.ExtendedBest.S)}
		}
		for k, v := range res.Implied {
			si.Implied = append(si.Implied, results.ImpliedPoint{Concurrent: k[0], Sequential: k[1], Passed: v == search.Pass})
		}
		slices.SortFunc(si.Implied, func(a, b results.ImpliedPoint) int {
			if a.Concurrent != b.Concurrent {
				return a.Concurrent - b.Concurrent
			}
			return a.Sequential - b.Sequential
		})
		si.NonMonotone = res.NonMonotone
		si.Concurrent, si.Sequential = res.Concurrent, res.Sequential
		si.Settled, si.Bracketed = res.Settled, res.Bracketed
		si.Order = res.Run
		r.Search = si
	}
	r.ExpectOutcome = ""
	if sc.Expect != nil {
		r.ExpectOutcome = sc.Expect.Eval(r.Sweep)
	}
}

// simulatedSpan is the time from the first request's start to the last one's end.
func simulatedSpan(recs []metrics.Record) time.Duration {
	var end float64
	for i := range recs {
		end = max(end, recs[i].Start+recs[i].Duration)
	}
	return time.Duration(end * float64(time.Second))
}

// redactSeries removes secrets from what a series says in words: its URL
// (a token in the query string) and its failed scrapes' errors.
func redactSeries(s *promscrape.Series, red *redactor) *promscrape.Series {
	s.URL = red.apply(s.URL)
	for i := range s.Samples {
		s.Samples[i].Err = red.apply(s.Samples[i].Err)
	}
	return s
}

// mergeSeries appends this run's scrapes to those of the run it resumed.
func mergeSeries(prev *promscrape.Series, cur promscrape.Series) *promscrape.Series {
	if prev == nil {
		return &cur
	}
	out := *prev
	out.Samples = append(slices.Clone(prev.Samples), cur.Samples...)
	out.Kinds = map[string]string{}
	for k, v := range prev.Kinds {
		out.Kinds[k] = v
	}
	for k, v := range cur.Kinds {
		out.Kinds[k] = v
	}
	if cur.URL != "" {
		out.URL = cur.URL
	}
	return &out
}

// meanTTFT is the mean TTFT of the successful requests, opening turns included.
func meanTTFT(recs []metrics.Record) time.Duration {
	var sum float64
	n := 0
	for i := range recs {
		if recs[i].OK() && recs[i].TTFT > 0 {
			sum += recs[i].TTFT
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return time.Duration(math.Round(sum / float64(n) * 1e9))
}
