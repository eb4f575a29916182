package calibrate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// pointSpacing lays the points of the runs apart on one timeline, far
// enough that records of different points never overlap.
const pointSpacing = 1e6 * time.Second

// runSource is everything read from the run folders.
type runSource struct {
	recs          []runRec
	points        []PointFit
	model, target string
	kvs           map[int][]string // stated KV capacity → the folders that stated it
	kvWhy         string
	kv            KV // settled from kvs
	notes         []string
}

// readRuns reads each folder: an mrqa output folder (results.json and its
// points' records) or a folder of LMBenchmark run files.
func readRuns(dirs []string) (runSource, error) {
	src := runSource{kvs: map[int][]string{}}
	if len(dirs) == 0 {
		return src, fmt.Errorf("calibrate: -from needs at least one run folder")
	}
	seen := map[string]string{}
	for _, dir := range dirs {
		key, err := results.ResolvedDir(dir)
		if err != nil {
			return src, fmt.Errorf("calibrate: %w", err)
		}
		if first, ok := seen[key]; ok {
			return src, fmt.Errorf("calibrate: %s and %s are the same folder: a run named twice is no new evidence, and would make the fit look surer than it is", first, dir)
		}
		seen[key] = dir
		switch {
		case exists(filepath.Join(dir, "results.json")):
			err = src.addMRQA(dir)
		case results.IsLMBenchDir(dir):
			err = src.addLMBench(dir)
		default:
			err = fmt.Errorf("calibrate: %s holds neither an mrqa results.json nor LMBenchmark run files", dir)
		}
		if err != nil {
			return src, err
		}
	}
	src.kv = src.settleKV()
	return src, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sameModel refuses runs of different models: one profile describes one.
func (s *runSource) sameModel(dir, model, target string) error {
	if s.model != "" && model != "" && model != s.model {
		return fmt.Errorf("calibrate: %s ran model %q, an earlier folder %q: fit one model at a time", dir, model, s.model)
	}
	if s.model == "" {
		s.model, s.target = model, target
	}
	return nil
}

// addMRQA adds every successful record of every point of an mrqa run.
func (s *runSource) addMRQA(dir string) error {
	r, err := results.Load(dir)
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if err := s.sameModel(dir, r.Target.Model, r.Target.BaseURL); err != nil {
		return err
	}
	if r.Target.Clock == spec.ClockVirtual {
		return fmt.Errorf("calibrate: %s ran on the simulator's virtual clock: its timings are the simulator's own, and fitting them would calibrate the simulator to itself", dir)
	}
	if r.Target.ProfileFile != nil {
		return fmt.Errorf("calibrate: %s ran on the calibrated profile %s: it is a prediction, not a measurement", dir, r.Target.ProfileFile.Path)
	}
	for _, pt := range r.Points {
		path := pt.Records
		if path == "" {
			path = results.RecordsPath(pt.Concurrent, pt.Sequential)
		}
		recs, err := results.ReadRecords(filepath.Join(dir, path))
		if err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
		s.addPoint(PointFit{Run: dir, Concurrent: pt.Concurrent, Sequential: pt.Sequential}, recs)
		if pt.Server != nil && pt.Server.KVCapacityTokens != nil && *pt.Server.KVCapacityTokens > 0 {
			n := int(*pt.Server.KVCapacityTokens)
			if !containsString(s.kvs[n], dir) {
				s.kvs[n] = append(s.kvs[n], dir)
			}
		}
	}
	return nil
}

// addPoint adds a point's successful records with valid usage.
func (s *runSource) addPoint(pf PointFit, recs []metrics.Record) {
	origin := time.Unix(0, 0).Add(time.Duration(len(s.points)) * pointSpacing)
	for _, rec := range recs {
		if !rec.OK() || rec.UsageInvalid != "" || rec.TTFT <= 0 || rec.End < rec.TTFT {
			continue
		}
		kind := "opening"
		if rec.Turn > 0 {
			kind = "follow-up"
		}
		o := Obs{Probe: fmt.Sprintf("c%d_s%d %s", pf.Concurrent, pf.Sequential, kind), PromptTokens: rec.PromptTokens,
			CachedTokens: rec.CachedTokens, CompletionTokens: rec.CompletionTokens,
			Start: origin.Add(seconds(rec.Start)), TTFT: seconds(rec.TTFT), End: seconds(rec.End)}
		s.recs = append(s.recs, runRec{o: o, point: len(s.points), cachedKnown: !rec.CachedUnknown})
		pf.Records++
	}
	s.points = append(s.points, pf)
}

func seconds(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

// addLMBench adds the run files of an LMBenchmark folder. They carry no
// start times, so only C = 1 points (one request at a time, laid end to
// end) are used, and no cached tokens, so openings are taken as cold and
// follow-ups are left out of the TTFT fit.
func (s *runSource) addLMBench(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		var run results.LMBench
		b, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(b, &run)
		}
		if err != nil {
			return fmt.Errorf("calibrate: %s: %w", f, err)
		}
		c, sq := run.Params.NumUsersConcurrent, run.Params.NumUsersSequential
		if c == 0 {
			c, sq = run.Params.Concurrent, run.Params.SessionDepth
		}
		if c == 0 {
			continue
		}
		if err := s.sameModel(dir, run.Params.Model, results.StripUserinfo(run.Params.BaseURL)); err != nil {
			return err
		}
		pf := PointFit{Run: f, Concurrent: c, Sequential: sq}
		if c != 1 {
			pf.Why = "LMBenchmark files carry no start times: at C > 1 what ran beside each request is unknown"
			s.points = append(s.points, pf)
			continue
		}
		s.addPoint(pf, lmbenchRecords(run.Results))
	}
	s.kvWhy = "LMBenchmark run files carry no server metrics"
	s.notes = append(s.notes, dir+": LMBenchmark run files carry no cached-token counts: openings are taken as cold "+
		"(a document an earlier run left cached would make prefill look cheap), follow-ups are left out of the TTFT fit, "+
		"and the front end cannot be told from prefill")
	return nil
}

// lmbenchRecords lays a C = 1 run's requests end to end, in file order.
func lmbenchRecords(rs []results.LMBenchResult) []metrics.Record {
	var out []metrics.Record
	var at float64
	for _, r := range rs {
		rec := metrics.Record{Turn: r.Turn, Start: at, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
			CachedUnknown: r.Turn > 0}
		at += r.Latency
		if (r.Status != "" && r.Status != "success") || r.TTFT == nil {
			continue
		}
		rec.TTFT, rec.End = *r.TTFT, r.Latency
		if r.GenerationTime > 0 {
			rec.End = *r.TTFT + r.GenerationTime
		}
		out = append(out, rec)
	}
	return out
}

// settleKV settles the KV capacity: the one every run's server summaries stated,
// or the largest with a note when they differ.
func (s *runSource) settleKV() KV {
	if len(s.kvs) == 0 {
		why := s.kvWhy
		if why == "" {
			why = "the runs' server summaries state no KV capacity (no metrics scraped, or the server does not state vllm:cache_config_info)"
		}
		return KV{Why: why}
	}
	var caps []int
	for n := range s.kvs {
		caps = append(caps, n)
	}
	sort.Ints(caps)
	best := caps[len(caps)-1]
	if len(caps) > 1 {
		s.notes = append(s.notes, fmt.Sprintf("the runs state different KV capacities %v: the largest is kept", caps))
	}
	return KV{Tokens: best, Source: "server summaries in " + strings.Join(s.kvs[best], ", ")}
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
