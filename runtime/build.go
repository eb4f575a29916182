package runtime

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/clientcheck"
	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// allFailed says why a point counts as one where every request failed, or
// "" when some request succeeded.
func allFailed(pt *results.Point) string {
	m := &pt.Metrics
	if m.Requests == 0 || m.Errors < m.Requests {
		return ""
	}
	return fmt.Sprintf("every request of point %s failed", pt.Name())
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
	load := metrics.MeasureLoad(recs)
	pt.Load = &load
	pt.Errors = errorsByKind(recs)
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
		if !r.OK() {
			out[r.Turn].Errors++
		} else {
			// Only turns whose usage reported cached tokens say anything
			// about the cache.
			if !r.ClientCounted && !r.CachedUnknown {
				prompt[r.Turn] += r.PromptTokens
				cached[r.Turn] += r.CachedTokens
			}
		}
		vals[r.Turn] = append(vals[r.Turn], r.TTFTOrInf())
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

// newResults fills the parts of results.json known before any point runs.
func newResults(file *spec.File, sc *spec.Scenario, docs []corpus.Document, version string, red *redactor) *results.Results {
	r := &results.Results{
		SchemaVersion:   results.SchemaVersion,
		Tool:            "mrqa",
		ToolVersion:     version,
		Scenario:        sc.Name,
		Title:           sc.Report.Title,
		File:            results.File{Path: file.Path, SHA256: file.SHA256, Redacted: red.apply(file.Redacted)},
		RequiredVersion: file.RequiredVersion,
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
		r.Target.ProfileFile = profileFileOf(sim.ProfileFile)
	}
	for _, f := range file.Files {
		r.Files = append(r.Files, results.File{Path: f.Path, SHA256: f.SHA256, Redacted: red.apply(f.Redacted), Role: f.Role})
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

// profileFileOf describes the simulator's profile file for results.json;
// nil for none. A file that cannot be read again (it loaded a moment ago)
// is still named, without a digest.
func profileFileOf(path string) *results.ProfileFile {
	if path == "" {
		return nil
	}
	p, _ := profile.ReadProvenance(path) // the digest is set whenever the file could be read
	return &results.ProfileFile{Path: path, SHA256: p.SHA256, Source: p.Source, Calibrated: p.Calibrated}
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
	promscrape.KVCapacityTokens: true, promscrape.RequestsRunning: true, promscrape.RequestsWaiting: true,
}

func serverSummary(s promscrape.Summary, steadyMean time.Duration) *results.ServerSummary {
	out := &results.ServerSummary{ScrapeErrors: s.Errors}
	set := func(name string, v float64) *float64 {
		if !s.Has[name] {
			return nil
		}
		return &v
	}
	out.KVCacheUsageMax = set(metrics.NameKVCacheUsageMax, s.KVCacheUsageMax)
	out.KVCacheUsageMean = set(metrics.NameKVCacheUsageMax, s.KVCacheUsageMean)
	out.PrefixCacheHitRate = set(metrics.NamePrefixCacheHitRate, s.PrefixCacheHitRate)
	out.Preemptions = set(metrics.NamePreemptions, s.Preemptions)
	out.QueueTimeP95 = set(metrics.NameQueueTimeP95, s.QueueTimeP95.Seconds())
	out.QueueTimeMean = set(metrics.NameQueueTimeP95, s.QueueTimeMean.Seconds())
	out.ServerTTFTP95 = set(promscrape.HasServerTTFT, s.ServerTTFTP95.Seconds())
	out.KVCapacityTokens = set(promscrape.HasKVCapacity, s.KVCapacityTokens)
	out.RequestsRunningMax = set(promscrape.HasRequestsRunning, s.RequestsRunningMax)
	out.RequestsWaitingMax = set(promscrape.HasRequestsWaiting, s.RequestsWaitingMax)
	out.RequestsWaitingMean = set(promscrape.HasRequestsWaiting, s.RequestsWaitingMean)
	out.OffloadHitRate = set(promscrape.HasOffloadHitRate, s.OffloadHitRate)
	if s.Has[metrics.NameQueueTimeP95] {
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
	return metrics.Duration(sum / float64(n))
}
