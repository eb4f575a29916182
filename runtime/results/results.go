// Package results defines and writes what a sweep leaves on disk:
// out/<scenario>/results.json (the run's summary, schema version 1, documented
// in docs/results.md) and out/<scenario>/points/c<C>_s<S>.jsonl (one record
// per request). Every file is written atomically.
package results

import (
	"fmt"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
)

// SchemaVersion is the version of the results.json layout.
const SchemaVersion = 1

// Results is the content of results.json.
type Results struct {
	SchemaVersion int    `json:"schema_version"`
	Tool          string `json:"tool"`
	ToolVersion   string `json:"tool_version"`
	// RequiredVersion is the configuration's mrqa { required_version } as
	// written; empty without one.
	RequiredVersion string `json:"required_version,omitempty"`
	Scenario        string `json:"scenario"`
	Title           string `json:"title,omitempty"`
	// File identifies the configuration as a whole (compatible with results
	// written before configurations had several files).
	File File `json:"file"`
	// Files are each file of the configuration, variable files included, in
	// load order; absent from results written before they were recorded.
	Files     []File `json:"files,omitempty"`
	Variables []Var  `json:"variables,omitempty"`
	// From names the recorded run this one re-ran (exec -from); nil for
	// a run of a configuration's files.
	From *From `json:"from,omitempty"`
	// Identity lists, field by field, what a point's measurement depends on
	// (scenario, target, corpus, script, rounds, seed, assign), so a resume
	// can tell whether finished points are still valid and name what changed.
	Identity map[string]string `json:"identity,omitempty"`
	// IdentitySalt salts the digests of identity fields built from secrets,
	// so a changed secret is seen without the secret being written.
	IdentitySalt string `json:"identity_salt,omitempty"`
	Target       Target `json:"target"`
	Corpus       Corpus `json:"corpus"`
	Script       Script `json:"script"`
	Rounds       int    `json:"rounds"`
	Seed         int64  `json:"seed"`
	Assign       string `json:"assign"`
	Score        string `json:"score"`
	Grid         Grid   `json:"grid"`
	// Shard is the part of the sweep this folder runs (exec -shard I/N):
	// its points are the shard's. Nil for a whole sweep.
	Shard *Shard `json:"shard,omitempty"`
	// Scenarios are the names of the scenarios the command that wrote
	// this folder selected (this one among them), so that mrqa merge can
	// tell a scenario no shard folder holds; absent from older results.
	Scenarios []string `json:"scenarios,omitempty"`
	SLOs      []SLO    `json:"slos"`
	Expect    string   `json:"expect,omitempty"`
	Search    *Search  `json:"search,omitempty"`
	// RateSearch is an open-loop sweep's search; nil for a closed-loop one.
	RateSearch *RateSearch `json:"rate_search,omitempty"`
	Between    Between     `json:"between_points"`
	Started    time.Time   `json:"started"`
	Finished   time.Time   `json:"finished,omitzero"`
	// Complete is true once every planned point has run.
	Complete bool `json:"complete"`
	// Stopped says why the sweep ended early ("interrupted", "target down: …").
	Stopped string `json:"stopped,omitempty"`
	// Merged names the shard folders mrqa merge combined into this one;
	// nil for a sweep that ran in one folder.
	Merged *Merged `json:"merged,omitempty"`
	// Missing names the grid's points that no merged shard folder holds;
	// nil when none is missing.
	Missing *Missing `json:"missing,omitempty"`
	Points  []Point  `json:"points"`
	// Best is the best passing point by the scenario's score; nil when none passed.
	Best *Best `json:"best,omitempty"`
	// ServerSeries is every scrape of the target's /metrics during the run,
	// for the report's time series; nil when nothing was scraped. It can
	// run to megabytes, so it is kept in server_metrics.json beside
	// results.json, not inside it.
	ServerSeries  *promscrape.Series `json:"-"`
	Sweep         metrics.Sweep      `json:"sweep"`
	ExpectOutcome metrics.Outcome    `json:"expect_outcome,omitempty"`
}

// File identifies a scenario file as it was run. As results.json's file,
// it is the whole configuration: Path as given on the command line, SHA256
// one digest over its configuration files, Redacted only when there was one.
type File struct {
	Path     string `json:"path"`
	SHA256   string `json:"sha256"`
	Redacted string `json:"text,omitempty"` // sensitive values replaced by (sensitive)
	// Role is "configuration" or "variables" in files; empty in file.
	Role string `json:"role,omitempty"`
}

// From is the recorded run an exec -from re-ran: its folder, and what
// names the run in it (the scenario and its start).
type From struct {
	Dir         string    `json:"dir"` // as given to -from
	Scenario    string    `json:"scenario"`
	Started     time.Time `json:"started"`
	ToolVersion string    `json:"tool_version"` // the mrqa that made the recording
	// Overridden are the variables this run gave other values than the
	// recording's (-var, -var-file), sorted.
	Overridden []string `json:"overridden,omitempty"`
}

// Var is an input variable's value; sensitive ones read "(sensitive)".
type Var struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive,omitempty"`
	Source    string `json:"source,omitempty"`
}

// Target describes the server without secrets.
type Target struct {
	Name      string `json:"name"`
	BaseURL   string `json:"base_url"` // credentials removed
	Model     string `json:"model"`
	API       string `json:"api"`
	Simulator string `json:"simulator,omitempty"` // profile name
	Clock     string `json:"clock,omitempty"`
	// ProfileFile is the simulator's profile file, when it loaded one: a
	// run on a calibrated profile is a prediction, and says from what.
	ProfileFile *ProfileFile `json:"profile_file,omitempty"`
	// UsageSupported is false when the server rejected stream_options and
	// token counts came from the client's tokenizer.
	UsageSupported bool `json:"usage_supported"`
}

// ProfileFile identifies a simulator profile file and its calibration.
type ProfileFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Source and Calibrated are the calibration's source ("probe of URL",
	// "runs DIR, …") and date (RFC 3339); empty for a file without one.
	Source     string `json:"source,omitempty"`
	Calibrated string `json:"calibrated,omitempty"`
}

// Corpus describes the documents used.
type Corpus struct {
	Name      string     `json:"name"`
	Source    string     `json:"source"`
	Tokenizer string     `json:"tokenizer"`
	Tokens    int        `json:"tokens,omitempty"`
	Documents []Document `json:"documents"`
}

// Document is one document of the corpus.
type Document struct {
	ID     string `json:"id"`
	Title  string `json:"title,omitempty"`
	Tokens int    `json:"tokens"`
	SHA256 string `json:"sha256"`
}

// Script summarises what each session says.
type Script struct {
	Name        string  `json:"name"`
	Questions   int     `json:"questions"`
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`
}

// Grid is the declared grid.
type Grid struct {
	Concurrent []int `json:"concurrent"`
	Sequential []int `json:"sequential"`
}

// SLO is a named condition as written.
type SLO struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
}

// Between records what happened between points.
type Between struct {
	ResetPrefixCache bool    `json:"reset_prefix_cache"`
	Cooldown         float64 `json:"cooldown_s"`
}

// Point is one point's outcome: a closed-loop grid point (Concurrent ×
// Sequential) or an open-loop point at a rate of arrivals (Rate > 0,
// Concurrent and Sequential 0).
type Point struct {
	Concurrent int `json:"concurrent"`
	Sequential int `json:"sequential"`
	// Rate is an open-loop point's arrival rate, sessions per minute.
	Rate float64 `json:"rate,omitempty"`
	// Users counts an open-loop point's sessions; nil on a grid point.
	Users    *Users    `json:"users,omitempty"`
	Started  time.Time `json:"started"`
	Duration float64   `json:"duration_s"`
	// Reset is true when the prefix cache was reset before this point.
	Reset   bool              `json:"prefix_cache_reset"`
	Metrics metrics.Point     `json:"metrics"`
	SLOs    []SLOOutcome      `json:"slos"`
	Passed  bool              `json:"passed"`
	Errors  map[string]int    `json:"errors_by_kind,omitempty"`
	Turns   []TurnStats       `json:"turns"`
	CDF     []metrics.Seconds `json:"ttft_cdf"` // steady TTFT quantiles at 0%,1%,…,100%
	Server  *ServerSummary    `json:"server,omitempty"`
	// Load is what the point's sessions asked of the KV cache (working set,
	// follow-up prompt); nil in results written before it was recorded.
	Load *metrics.Load `json:"load,omitempty"`
	// Client is the client's check on itself; absent on the virtual clock.
	Client  *ClientCheck `json:"client,omitempty"`
	Records string       `json:"records"` // path of the jsonl, relative to results.json
	// TargetBaseURL is the target that measured the point (credentials
	// removed; a sensitive one as "(sensitive) secret:" and its salted
	// digest), set in a merged sweep whose shards named different ones.
	TargetBaseURL string            `json:"target_base_url,omitempty"`
	Sessions      []SessionDocument `json:"sessions"`
	// SharedDocuments maps each document that more than one session of the
	// point used to those sessions (only with assign = "random").
	SharedDocuments map[string][]string `json:"shared_documents,omitempty"`
}

// Name is how the terminal and the report name the point: "C=2 S=3", or
// "rate=30/min" for an open-loop point.
func (p *Point) Name() string {
	if p.Rate > 0 {
		return "rate=" + FormatRate(p.Rate) + "/min"
	}
	return fmt.Sprintf("C=%d S=%d", p.Concurrent, p.Sequential)
}

// Users counts an open-loop point's sessions (see metrics.CountSessions).
// The counts cover every session of the point; the active sessions are
// averaged over its measured window, from the end of the warm-up to the
// point's end.
type Users struct {
	Started  int `json:"started"`
	Finished int `json:"finished"`
	Dropped  int `json:"dropped"`
	// ActiveMean is the time-average of the sessions active at once,
	// ActiveMax the most at any instant.
	ActiveMean float64 `json:"active_mean"`
	ActiveMax  int     `json:"active_max"`
	// DurationMean is the mean time from a finished session's arrival to
	// its last answer's end, seconds.
	DurationMean float64 `json:"duration_mean_s"`
	// Timeline is the point over time, for the report; nil in results
	// written before it was recorded.
	Timeline *metrics.Timeline `json:"timeline,omitempty"`
}

// UsersOf converts metrics' session counts for results.json.
func UsersOf(s metrics.Sessions) *Users {
	return &Users{Started: s.Started, Finished: s.Finished, Dropped: s.Dropped,
		ActiveMean: s.ActiveMean, ActiveMax: s.ActiveMax, DurationMean: s.DurationMean.Seconds()}
}

// SLOOutcome is one SLO's result at a point.
type SLOOutcome struct {
	Name    string          `json:"name"`
	Outcome metrics.Outcome `json:"outcome"`
	// Reason says why an outcome is no_data (which metric, and why it had
	// none) or error (the expression's message).
	Reason string `json:"reason,omitempty"`
}

// ClientCheck is what the client saw of itself during a point (see package
// clientcheck): scheduling stalls, CPU use, and whether they may have
// distorted the point's timings.
type ClientCheck struct {
	LagMax      float64 `json:"lag_max"` // seconds: the longest stall
	LagP99      float64 `json:"lag_p99"` // seconds: an upper bound on the 99th percentile stall
	Stalls      int     `json:"stalls"`  // stalls of 10 ms or more
	CPUSeconds  float64 `json:"cpu_seconds,omitempty"`
	Utilization float64 `json:"utilization,omitempty"` // CPU time / (wall × cores)
	Cores       int     `json:"cores"`
	Limited     bool    `json:"client_limited"`
	Why         string  `json:"why,omitempty"`
}

// JudgePoint decides a point's SLO outcomes and whether it passed: every
// condition (named by names) must pass. A point whose steady turns all
// failed cannot pass, whatever its conditions read (a server that answers
// every request with an instant 429 has a fine requests_per_s): nothing it
// measured was served. Nor can an open-loop point that dropped sessions:
// the rate's arrivals were not all taken.
func JudgePoint(p *Point, names []string, conds []*metrics.Condition) {
	p.SLOs, p.Passed = p.SLOs[:0], true
	nothingServed := p.Metrics.Samples > 0 && p.Metrics.NoData.Reason("ttft_ok_p95") == metrics.WhyNoSuccessfulSteady
	dropped := 0
	if p.Users != nil {
		dropped = p.Users.Dropped
	}
	for i, c := range conds {
		v := c.Evaluate(&p.Metrics)
		switch {
		case v.Outcome != metrics.Pass:
		case nothingServed:
			v = metrics.Verdict{Outcome: metrics.Fail, Reason: "every steady turn failed: a point where nothing was served cannot pass"}
		case dropped > 0:
			// Dropped arrivals lighten the load on the sessions served:
			// conditions on successful turns alone would read them fast.
			v = metrics.Verdict{Outcome: metrics.Fail, Reason: fmt.Sprintf("%d sessions were dropped at max_active: a rate whose arrivals were not all taken cannot pass", dropped)}
		}
		p.SLOs = append(p.SLOs, SLOOutcome{Name: names[i], Outcome: v.Outcome, Reason: v.Reason})
		p.Passed = p.Passed && v.Outcome.Passed()
	}
}

// Undecided reports whether the point failed only for want of data: no SLO
// failed on a measurement, but at least one had no data or could not be
// evaluated. Such a point counts as failing; it is not evidence of a limit.
func (p *Point) Undecided() bool {
	if p.Passed {
		return false
	}
	for _, o := range p.SLOs {
		if o.Outcome == metrics.Fail {
			return false
		}
	}
	return len(p.SLOs) > 0
}

// FirstReason is the reason of the point's first SLO that was neither
// passed nor failed, prefixed with the SLO's name; empty when none.
func (p *Point) FirstReason() string {
	for _, o := range p.SLOs {
		if !o.Outcome.Decided() {
			return fmt.Sprintf("slo %q: %s", o.Name, o.Reason)
		}
	}
	return ""
}

// TurnStats summarises one turn index across a point's sessions.
type TurnStats struct {
	Turn    int             `json:"turn"`
	Samples int             `json:"samples"`
	Errors  int             `json:"errors"`
	TTFTP50 metrics.Seconds `json:"ttft_p50"`
	TTFTP95 metrics.Seconds `json:"ttft_p95"`
	// Cached is cached/prompt tokens for this turn's successful requests.
	Cached float64 `json:"cached_tokens_ratio"`
}

// SessionDocument records which document a session used. Which sessions
// shared a document is in Point.SharedDocuments, once per document: a list
// per session would grow with the square of the sessions.
type SessionDocument struct {
	Session  string `json:"session"`
	Document string `json:"document"`
}

// ServerSummary is what the target's /metrics said during the point.
type ServerSummary struct {
	KVCacheUsageMax *float64 `json:"kv_cache_usage_max,omitempty"`
	// KVCapacityTokens is the GPU KV cache's size in tokens as the server
	// states it (vLLM's cache_config_info, SGLang's max_total_num_tokens).
	KVCapacityTokens *float64 `json:"kv_capacity_tokens,omitempty"`
	// RequestsRunningMax, RequestsWaitingMax and RequestsWaitingMean are the
	// server's running and waiting requests while the point's were in flight.
	RequestsRunningMax  *float64 `json:"requests_running_max,omitempty"`
	RequestsWaitingMax  *float64 `json:"requests_waiting_max,omitempty"`
	RequestsWaitingMean *float64 `json:"requests_waiting_mean,omitempty"`
	// OffloadHitRate is the share of the tokens looked up in an offload tier
	// (LMCache, the simulator's) that were found there and loaded.
	OffloadHitRate     *float64 `json:"offload_hit_rate,omitempty"`
	KVCacheUsageMean   *float64 `json:"kv_cache_usage_mean,omitempty"`
	PrefixCacheHitRate *float64 `json:"prefix_cache_hit_rate,omitempty"`
	Preemptions        *float64 `json:"preemptions,omitempty"`
	QueueTimeP95       *float64 `json:"queue_time_p95,omitempty"`
	// QueueTimeP95Bounds and ServerTTFTP95Bounds are the histogram buckets
	// the two p95s lie in: the p95s are interpolated inside them, and the
	// bounds are all the data says.
	QueueTimeP95Bounds  *metrics.Bounds `json:"queue_time_p95_bounds,omitempty"`
	ServerTTFTP95Bounds *metrics.Bounds `json:"server_ttft_p95_bounds,omitempty"`
	QueueTimeMean       *float64        `json:"queue_time_mean,omitempty"`
	ServerTTFTP95       *float64        `json:"server_ttft_p95,omitempty"`
	// QueueShare is the share of the client's mean TTFT (all successful
	// turns, as the server's histogram counts them) that the server's
	// queue-time histogram attributes to waiting in its queue.
	QueueShare   *float64           `json:"queue_share,omitempty"`
	ScrapeErrors int                `json:"scrape_errors,omitempty"`
	Extra        map[string]float64 `json:"extra,omitempty"`
}

// Best names the best passing point.
type Best struct {
	Concurrent int `json:"concurrent"`
	Sequential int `json:"sequential"`
	Sessions   int `json:"sessions"`
	// Rate is an open-loop sweep's best: the highest passing rate below
	// every failing one, sessions per minute (Score is the same figure).
	Rate  float64 `json:"rate,omitempty"`
	Score float64 `json:"score"`
}

// RateSearch records an open-loop sweep's search on the arrival rate.
type RateSearch struct {
	// Pass is the highest passing rate below every failing one, Fail the
	// lowest failing rate; each absent when there is none.
	Pass *float64 `json:"pass,omitempty"`
	Fail *float64 `json:"fail,omitempty"`
	// Settled: Pass and Fail are within the search's precision (5 %).
	Settled bool      `json:"settled"`
	Order   []float64 `json:"order"` // the rates in the order they ran
}

// Search records a frontier search's decisions.
type Search struct {
	Kind         string         `json:"kind"`
	InGridBest   *Best          `json:"in_grid_best,omitempty"`
	ExtendedBest *Best          `json:"extended_best,omitempty"`
	Implied      []ImpliedPoint `json:"implied,omitempty"`
	NonMonotone  [][2]int       `json:"non_monotone,omitempty"`
	// Concurrent and Sequential are the axes as the search grew them (the
	// declared grid plus any extension).
	Concurrent []int `json:"concurrent"`
	Sequential []int `json:"sequential"`
	// Settled: the best point within the grid is known; Bracketed: an
	// extension found a failing point past the best on every grown axis.
	Settled   bool     `json:"settled"`
	Bracketed bool     `json:"bracketed"`
	Order     [][2]int `json:"order"`
}

// ImpliedPoint is a point whose outcome was implied, not measured.
type ImpliedPoint struct {
	Concurrent int  `json:"concurrent"`
	Sequential int  `json:"sequential"`
	Passed     bool `json:"passed"`
}
