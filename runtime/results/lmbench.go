package results

import (
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// LMBench is one run file of the source benchmark (LMBenchmark's
// real-multi-round-qa), the format its plot script reads.
type LMBench struct {
	Params  LMBenchParams   `json:"params"`
	Results []LMBenchResult `json:"results"`
	Src     []string        `json:"src"`
}

// LMBenchParams are the run's parameters. The source's later versions name C
// and S "concurrent" and "session_depth"; both spellings are read.
type LMBenchParams struct {
	NumUsersConcurrent int    `json:"num_users_concurrent"`
	NumUsersSequential int    `json:"num_users_sequential"`
	NumRounds          int    `json:"num_rounds"`
	Model              string `json:"model"`
	BaseURL            string `json:"base_url"`
	SrcDir             string `json:"src_dir"`
	AnswerLen          int    `json:"answer_len"`
	Output             string `json:"output"`
	Concurrent         int    `json:"concurrent,omitempty"`
	SessionDepth       int    `json:"session_depth,omitempty"`
}

// LMBenchResult is one request. TTFT is time to first content, null when the
// request failed.
type LMBenchResult struct {
	SessionID        string   `json:"session_id"`
	Turn             int      `json:"turn"`
	Latency          float64  `json:"latency"`
	TTFT             *float64 `json:"ttft"`
	GenerationTime   float64  `json:"generation_time"`
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	Status           string   `json:"status"`
}

// LMBenchName is a point's file name in the lmbench directory.
func LMBenchName(c, s int) string { return fmt.Sprintf("bench_c%d_s%d.json", c, s) }

// The two run-file formats mrqa writes: the seed's (C and S named
// num_users_concurrent and num_users_sequential) and the later one's
// (concurrent and session_depth). Everything else is the same.
const (
	LMBenchSeed  = "seed"
	LMBenchLater = "later"
)

// seedParams and laterParams are the params objects of the two formats, in
// the order the source writes their keys.
type seedParams struct {
	NumUsersConcurrent int    `json:"num_users_concurrent"`
	NumUsersSequential int    `json:"num_users_sequential"`
	NumRounds          int    `json:"num_rounds"`
	Model              string `json:"model"`
	BaseURL            string `json:"base_url"`
	SrcDir             string `json:"src_dir"`
	AnswerLen          int    `json:"answer_len"`
	Output             string `json:"output"`
}

type laterParams struct {
	Concurrent   int    `json:"concurrent"`
	SessionDepth int    `json:"session_depth"`
	Model        string `json:"model"`
	BaseURL      string `json:"base_url"`
	NumRounds    int    `json:"num_rounds"`
	SrcDir       string `json:"src_dir"`
	AnswerLen    int    `json:"answer_len"`
	Output       string `json:"output"`
}

// WriteLMBench writes one point in the seed's format under dir.
func WriteLMBench(dir string, r *Results, pt *Point, recs []metrics.Record) error {
	return WriteLMBenchFormat(dir, LMBenchSeed, r, pt, recs)
}

// WriteLMBenchFormat writes one point under dir in format (LMBenchSeed or
// LMBenchLater).
func WriteLMBenchFormat(dir, format string, r *Results, pt *Point, recs []metrics.Record) error {
	path := filepath.Join(dir, LMBenchName(pt.Concurrent, pt.Sequential))
	seed := seedParams{
		NumUsersConcurrent: pt.Concurrent,
		NumUsersSequential: pt.Sequential,
		NumRounds:          r.Rounds,
		Model:              r.Target.Model,
		BaseURL:            StripUserinfo(r.Target.BaseURL),
		SrcDir:             r.Corpus.Name,
		AnswerLen:          r.Script.MaxTokens,
		Output:             filepath.ToSlash(path),
	}
	var params any
	switch format {
	case LMBenchSeed:
		params = seed
	case LMBenchLater:
		params = laterParams{Concurrent: seed.NumUsersConcurrent, SessionDepth: seed.NumUsersSequential,
			Model: seed.Model, BaseURL: seed.BaseURL, NumRounds: seed.NumRounds, SrcDir: seed.SrcDir,
			AnswerLen: seed.AnswerLen, Output: seed.Output}
	default:
		return fmt.Errorf("lmbench: unknown format %q (want %q or %q)", format, LMBenchSeed, LMBenchLater)
	}
	out := struct {
		Params  any             `json:"params"`
		Results []LMBenchResult `json:"results"`
		Src     []string        `json:"src"`
	}{params, lmResultsOf(recs), pointDocuments(pt)}
	return WriteJSON(path, out)
}

// pointDocuments lists the documents of a point's sessions, each once, as
// the run file's src.
func pointDocuments(pt *Point) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range pt.Sessions {
		if !seen[s.Document] {
			seen[s.Document] = true
			out = append(out, s.Document)
		}
	}
	return out
}

// lmResultsOf translates records: ttft is time to first content (the
// source's definition), null with the error kind as status for a failed
// request.
func lmResultsOf(recs []metrics.Record) []LMBenchResult {
	out := make([]LMBenchResult, 0, len(recs))
	for i := range recs {
		rec := &recs[i]
		res := LMBenchResult{
			SessionID:        rec.Session,
			Turn:             rec.Turn,
			Latency:          rec.Duration,
			PromptTokens:     rec.PromptTokens,
			CompletionTokens: rec.CompletionTokens,
			Status:           "success",
		}
		if !rec.OK() {
			res.Status = rec.Error
		} else if rec.TTFC > 0 {
			ttfc := rec.TTFC
			res.TTFT = &ttfc
			res.GenerationTime = rec.Duration - ttfc
		}
		out = append(out, res)
	}
	return out
}

// ExportLMBench writes every point of an mrqa run (results r, loaded from
// srcDir, whose per-request records lie beside it) as run files in format
// under dest.
func ExportLMBench(srcDir string, r *Results, dest, format string) error {
	for i := range r.Points {
		pt := &r.Points[i]
		rel := pt.Records
		if rel == "" {
			rel = RecordsPath(pt.Concurrent, pt.Sequential)
		}
		recs, err := ReadRecords(filepath.Join(srcDir, filepath.FromSlash(rel)))
		if err != nil {
			return fmt.Errorf("lmbench: C=%d S=%d: %w", pt.Concurrent, pt.Sequential, err)
		}
		if err := WriteLMBenchFormat(dest, format, r, pt, recs); err != nil {
			return err
		}
	}
	return nil
}

// StripUserinfo removes credentials from a URL; other strings are returned
// as they are. Every URL written to results passes through it.
func StripUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// LMBenchSLO is the source plot script's rule in mrqa's terms.
const LMBenchSLO = "ttft_ok_p95 <= 2s"
