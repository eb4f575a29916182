// Package metrics defines mrqa's metric vocabulary: the per-request Record, the
// per-point Point whose fields are the names SLO conditions may use, the
// sweep-level Sweep names for expect, percentiles, and aggregation. The names
// are listed in docs/language.md ("Metric names"); which requests each one
// covers is in docs/results.md ("The windows").
package metrics

import (
	"math"
	"time"
)

// Inf is how an infinite duration is stored: a failed turn never delivered a
// first token, so it counts as +∞ in ttft percentiles.
const Inf = time.Duration(math.MaxInt64)

// Error kinds recorded per request.
const (
	ErrConnect           = "connect"
	ErrTimeoutConnect    = "timeout_connect"
	ErrTimeoutFirstToken = "timeout_first_token"
	ErrTimeoutIdle       = "timeout_idle"
	ErrTimeoutTotal      = "timeout_total"
	ErrStreamCut         = "stream_cut"
	ErrMalformed         = "malformed"
	ErrServer            = "server_error"
	ErrCanceled          = "canceled"
	// ErrOpeningFailed marks a follow-up turn that was never sent: the
	// session's opening had not succeeded, so the slot re-sent the opening
	// instead (see package closedloop). It counts as a failed turn.
	ErrOpeningFailed = "opening_failed"
	// ErrDropped marks a turn of an open-loop session that arrived while
	// the scenario's max_active sessions were already active: the session
	// never started, and each of its turns counts as failed, never sent.
	ErrDropped = "dropped"
	// HTTP errors are "http_<status>", e.g. "http_500".
)

// Unanswered reports whether an error kind means the server gave the
// request no answer at all: it could not be reached, sent no first token in
// time, or the request was never sent.
func Unanswered(kind string) bool {
	switch kind {
	case ErrConnect, ErrTimeoutConnect, ErrTimeoutFirstToken, ErrCanceled, ErrOpeningFailed, ErrDropped:
		return true
	}
	return false
}

// CountsTowardDown reports whether a failure counts toward the target being
// down: the request could not connect, or the server took it and never
// finished answering (first-token, idle and total timeouts). Unlike
// Unanswered it leaves out what says nothing about the server (canceled,
// opening_failed) and counts a stream that stalled part way.
func CountsTowardDown(kind string) bool {
	switch kind {
	case ErrConnect, ErrTimeoutConnect, ErrTimeoutFirstToken, ErrTimeoutIdle, ErrTimeoutTotal:
		return true
	}
	return false
}

// Record is one request as the client saw it. Times are seconds: Start from the
// point's clock start, the others from the request's own start. A zero TTFT,
// TTFC or End means that moment never came.
type Record struct {
	ID       string `json:"id"` // sent as X-Request-Id
	Worker   int    `json:"worker"`
	Slot     int    `json:"slot"`    // the session's position in its worker, 0-based
	Session  string `json:"session"` // c<worker+1>s<slot+1>
	Document string `json:"document"`
	Turn     int    `json:"turn"` // 0 is the opening turn
	// Attempt numbers the sends of an opening turn: 2 and up are resends
	// after a failed opening (see package closedloop); 0 elsewhere.
	Attempt int `json:"attempt,omitempty"`

	Start   float64 `json:"start"`
	Connect float64 `json:"connect,omitempty"` // time spent opening a connection (0 when reused)
	Write   float64 `json:"write,omitempty"`   // request fully written
	TTFT    float64 `json:"ttft,omitempty"`    // first generated text on any channel
	TTFC    float64 `json:"ttfc,omitempty"`    // first content text
	End     float64 `json:"end,omitempty"`     // last generated token
	// Duration is the whole exchange, success or not: its end marks the
	// point's span for throughput.
	Duration float64 `json:"duration"`

	PromptTokens     int  `json:"prompt_tokens"`
	CompletionTokens int  `json:"completion_tokens"`
	CachedTokens     int  `json:"cached_tokens"`
	ClientCounted    bool `json:"client_counted,omitempty"` // tokens counted by the client: the server sent no usage
	// CachedUnknown: the server's usage did not report cached tokens (vLLM
	// without --enable-prompt-tokens-details, or no usage at all), so
	// CachedTokens is not a measurement.
	CachedUnknown bool `json:"cached_unknown,omitempty"`
	// UsageInvalid says why the server's usage cannot be true (a negative
	// count, more cached than prompt tokens, …). The counts stay as sent,
	// but no token throughput, ITL or cached_tokens_ratio uses them.
	UsageInvalid string `json:"usage_invalid,omitempty"`

	Chunks      int     `json:"chunks,omitempty"`        // events carrying generated text
	MaxChunkGap float64 `json:"max_chunk_gap,omitempty"` // longest gap between two such events

	Error   string `json:"error,omitempty"`   // error kind; empty on success
	Message string `json:"message,omitempty"` // error detail, truncated

	// Warmup marks a turn of an open-loop point that started before the
	// users block's warm-up ended: it loaded the server, and is kept in
	// the records file, but no figure of the point counts it.
	Warmup bool `json:"warmup,omitempty"`
}

// MarkWarmup flags the records that start before warmup (seconds on the
// point's clock) and returns the others, the ones a point's figures
// count, in their order; recs itself keeps every record.
func MarkWarmup(recs []Record, warmup float64) []Record {
	measured := make([]Record, 0, len(recs))
	for i := range recs {
		recs[i].Warmup = recs[i].Start < warmup
		if !recs[i].Warmup {
			measured = append(measured, recs[i])
		}
	}
	return measured
}

// OK reports whether the request succeeded.
func (r *Record) OK() bool { return r.Error == "" }

// Sent reports whether the record stands for a request that reached the
// network: a turn skipped for lack of an opening, or of a session dropped
// at arrival, never did. (A canceled record may or may not have.)
func (r *Record) Sent() bool { return r.Error != ErrOpeningFailed && r.Error != ErrDropped }

// TTFTOrInf is the record's TTFT as a duration, the one rule for what a turn
// contributes to a TTFT distribution: a failed turn, or one that never
// delivered a first token, counts as Inf.
func (r *Record) TTFTOrInf() time.Duration {
	if r.OK() && r.TTFT > 0 {
		return Duration(r.TTFT)
	}
	return Inf
}

// Duration converts a record's seconds to a duration, rounded to the
// nanosecond.
func Duration(secs float64) time.Duration { return time.Duration(math.Round(secs * 1e9)) }

// Stats is one distribution's summary.
type Stats struct {
	Min, Mean, P50, P90, P95, P99, Max time.Duration
}

// Point holds every metric of one grid point. The expr tags are the names SLO
// conditions use. Durations are time.Duration so conditions must state units.
type Point struct {
	Concurrent int `expr:"concurrent" json:"concurrent"`
	Sequential int `expr:"sequential" json:"sequential"`
	Sessions   int `expr:"sessions" json:"sessions"`

	TTFTMin  time.Duration `expr:"ttft_min" json:"ttft_min"`
	TTFTMean time.Duration `expr:"ttft_mean" json:"ttft_mean"`
	TTFTP50  time.Duration `expr:"ttft_p50" json:"ttft_p50"`
	TTFTP90  time.Duration `expr:"ttft_p90" json:"ttft_p90"`
	TTFTP95  time.Duration `expr:"ttft_p95" json:"ttft_p95"`
	TTFTP99  time.Duration `expr:"ttft_p99" json:"ttft_p99"`
	TTFTMax  time.Duration `expr:"ttft_max" json:"ttft_max"`

	TTFTOKMin  time.Duration `expr:"ttft_ok_min" json:"ttft_ok_min"`
	TTFTOKMean time.Duration `expr:"ttft_ok_mean" json:"ttft_ok_mean"`
	TTFTOKP50  time.Duration `expr:"ttft_ok_p50" json:"ttft_ok_p50"`
	TTFTOKP90  time.Duration `expr:"ttft_ok_p90" json:"ttft_ok_p90"`
	TTFTOKP95  time.Duration `expr:"ttft_ok_p95" json:"ttft_ok_p95"`
	TTFTOKP99  time.Duration `expr:"ttft_ok_p99" json:"ttft_ok_p99"`
	TTFTOKMax  time.Duration `expr:"ttft_ok_max" json:"ttft_ok_max"`

	TTFCMin  time.Duration `expr:"ttfc_min" json:"ttfc_min"`
	TTFCMean time.Duration `expr:"ttfc_mean" json:"ttfc_mean"`
	TTFCP50  time.Duration `expr:"ttfc_p50" json:"ttfc_p50"`
	TTFCP90  time.Duration `expr:"ttfc_p90" json:"ttfc_p90"`
	TTFCP95  time.Duration `expr:"ttfc_p95" json:"ttfc_p95"`
	TTFCP99  time.Duration `expr:"ttfc_p99" json:"ttfc_p99"`
	TTFCMax  time.Duration `expr:"ttfc_max" json:"ttfc_max"`

	LatencyMin  time.Duration `expr:"latency_min" json:"latency_min"`
	LatencyMean time.Duration `expr:"latency_mean" json:"latency_mean"`
	LatencyP50  time.Duration `expr:"latency_p50" json:"latency_p50"`
	LatencyP90  time.Duration `expr:"latency_p90" json:"latency_p90"`
	LatencyP95  time.Duration `expr:"latency_p95" json:"latency_p95"`
	LatencyP99  time.Duration `expr:"latency_p99" json:"latency_p99"`
	LatencyMax  time.Duration `expr:"latency_max" json:"latency_max"`

	ITLMin  time.Duration `expr:"itl_min" json:"itl_min"`
	ITLMean time.Duration `expr:"itl_mean" json:"itl_mean"`
	ITLP50  time.Duration `expr:"itl_p50" json:"itl_p50"`
	ITLP90  time.Duration `expr:"itl_p90" json:"itl_p90"`
	ITLP95  time.Duration `expr:"itl_p95" json:"itl_p95"`
	ITLP99  time.Duration `expr:"itl_p99" json:"itl_p99"`
	ITLMax  time.Duration `expr:"itl_max" json:"itl_max"`

	OpeningTTFTMin  time.Duration `expr:"opening_ttft_min" json:"opening_ttft_min"`
	OpeningTTFTMean time.Duration `expr:"opening_ttft_mean" json:"opening_ttft_mean"`
	OpeningTTFTP50  time.Duration `expr:"opening_ttft_p50" json:"opening_ttft_p50"`
	OpeningTTFTP90  time.Duration `expr:"opening_ttft_p90" json:"opening_ttft_p90"`
	OpeningTTFTP95  time.Duration `expr:"opening_ttft_p95" json:"opening_ttft_p95"`
	OpeningTTFTP99  time.Duration `expr:"opening_ttft_p99" json:"opening_ttft_p99"`
	OpeningTTFTMax  time.Duration `expr:"opening_ttft_max" json:"opening_ttft_max"`

	Samples        int `expr:"samples" json:"samples"`                 // steady turns counted
	OpeningSamples int `expr:"opening_samples" json:"opening_samples"` // opening turns counted

	Requests  int     `expr:"requests" json:"requests"`
	Errors    int     `expr:"errors" json:"errors"`
	ErrorRate float64 `expr:"error_rate" json:"error_rate"`

	InputTokensPerS  float64 `expr:"input_tokens_per_s" json:"input_tokens_per_s"`
	OutputTokensPerS float64 `expr:"output_tokens_per_s" json:"output_tokens_per_s"`
	RequestsPerS     float64 `expr:"requests_per_s" json:"requests_per_s"`

	CachedTokensRatio float64 `expr:"cached_tokens_ratio" json:"cached_tokens_ratio"`

	// From the target's scraped /metrics.
	KVCacheUsageMax    float64       `expr:"kv_cache_usage_max" json:"kv_cache_usage_max"`
	PrefixCacheHitRate float64       `expr:"prefix_cache_hit_rate" json:"prefix_cache_hit_rate"`
	Preemptions        float64       `expr:"preemptions" json:"preemptions"`
	QueueTimeP95       time.Duration `expr:"queue_time_p95" json:"queue_time_p95"`

	// Bounds holds, for metrics estimated from a histogram's buckets
	// (queue_time_p95), the bucket the true value lies in. The field itself
	// holds the interpolated estimate; conditions are judged at both bounds.
	Bounds map[string]Bounds `expr:"-" json:"bounds,omitempty"`

	// NoData names the metrics above that had nothing to measure at this
	// point (no samples, no scrape), each with the reason. A condition
	// reading one of them has the outcome no_data.
	NoData NoDataSet `expr:"-" json:"no_data,omitempty"`
}

// Bounds are the lower and upper bound of a value known only to lie in an
// interval (a histogram bucket): Lo < value <= Hi.
type Bounds struct {
	Lo Seconds `json:"lo"`
	Hi Seconds `json:"hi"`
}

// Sweep holds the sweep-level names that expect conditions may use.
type Sweep struct {
	MaxSessions    int `expr:"max_sessions" json:"max_sessions"` // 0 when no point passed
	BestConcurrent int `expr:"best_concurrent" json:"best_concurrent"`
	BestSequential int `expr:"best_sequential" json:"best_sequential"`
	PointsPassed   int `expr:"points_passed" json:"points_passed"`
	PointsRun      int `expr:"points_run" json:"points_run"`
	// BestRate is an open-loop sweep's highest passing rate (sessions per
	// minute); 0 when none passed, or for a closed-loop sweep.
	BestRate float64 `expr:"best_rate" json:"best_rate,omitempty"`
}
