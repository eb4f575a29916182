// Package promscrape scrapes a target's Prometheus /metrics endpoint in the
// background while a sweep runs, and summarises the samples per grid point:
// KV-cache usage, prefix-cache hit rate, preemptions and server-side queue
// time (the four metrics.ServerNames that SLO conditions may read), plus any
// families the scenario includes raw.
//
// Scraping never disturbs the measurement: the scraper has its own HTTP
// transport and a single connection of its own, every scrape has a deadline
// shorter than the interval, and a failed, slow or garbled scrape is recorded
// as an error sample and never stops anything.
//
// Known families from vLLM, SGLang, LMCache and the embedded simulator are
// stored under stable names (KVCacheUsage, PrefixCacheHits, ...); counters
// become per-point deltas and rates, gauges per-point max and mean, and
// histograms per-point quantiles computed from bucket deltas.
package promscrape

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tlsconf"

	"github.com/mrqa-dev/mrqa/internal/redirect"
)

// DefaultInterval is used when Start gets a non-positive interval.
const DefaultInterval = time.Second

// maxBody bounds what one scrape reads: a vLLM endpoint with many histograms
// is a few hundred kB.
const maxBody = 32 << 20

// acceptHeader asks for the classic text format, the one every server listed
// in this package speaks.
const acceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// Bucket is one cumulative histogram bucket: observations ≤ Le.
type Bucket struct {
	Le    float64 `json:"le"`
	Count float64 `json:"count"`
}

// Histogram is a cumulative histogram as scraped, summed over label sets.
// Buckets are sorted by Le; the +Inf bucket is implicit and equals Count.
type Histogram struct {
	Count   float64  `json:"count"`
	Sum     float64  `json:"sum"`
	Buckets []Bucket `json:"buckets,omitempty"`
}

// Sample is one scrape. T is when the request was sent. A failed scrape has
// Err set and no values.
type Sample struct {
	T          time.Time            `json:"t"`
	Took       time.Duration        `json:"took_ns"`
	Err        string               `json:"error,omitempty"`
	Values     map[string]float64   `json:"values,omitempty"`     // counters (cumulative) and gauges
	Histograms map[string]Histogram `json:"histograms,omitempty"` // cumulative
}

// Series is every sample of a run, in time order, with each stored name's
// kind (KindCounter, KindGauge or KindHistogram).
type Series struct {
	URL     string            `json:"url,omitempty"`
	Samples []Sample          `json:"samples"`
	Kinds   map[string]string `json:"kinds"`
}

// Scraper collects samples, from its own background loop (Start) or from
// the caller (NewRecorder and Ingest). Its methods are safe for concurrent
// use.
type Scraper struct {
	url      string
	name     string // url without credentials, for messages
	interval time.Duration
	timeout  time.Duration
	include  []string
	client   *http.Client
	tr       *http.Transport
	header   http.Header // Access.Header: never written anywhere
	now      func() time.Time

	mu       sync.Mutex
	samples  []Sample
	kinds    map[string]string
	firstErr string // the first failed scrape's message
	failures int    // failed scrapes so far

	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// Access is how the scraper reaches a protected endpoint.
type Access struct {
	TLS    *tls.Config // nil: Go's defaults
	Header http.Header // sent with every scrape, e.g. Authorization
}

// AccessOf is how a scraper reaches a metrics block's /metrics: its bearer
// token, headers and tls settings (which the scenario language defaults to
// the target's api_key, headers and tls). A nil block needs nothing.
func AccessOf(m *spec.Metrics) (Access, error) {
	if m == nil {
		return Access{}, nil
	}
	cfg, err := tlsconf.Load(m.TLS)
	if err != nil {
		return Access{}, fmt.Errorf("metrics: %w", err)
	}
	h := http.Header{}
	if m.BearerToken != "" {
		h.Set("Authorization", "Bearer "+m.BearerToken)
	}
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	return Access{TLS: cfg, Header: h}, nil
}

// Start scrapes endpoint now and then every interval until ctx ends or Stop is
// called. include names extra families to keep raw (a trailing "*" matches a
// prefix); the simulator's mrqa_sim_ families are always kept.
func Start(ctx context.Context, endpoint string, interval time.Duration, include []string, access Access) *Scraper {
	s := newScraper(endpoint, interval, include, time.Now)
	s.tr.TLSClientConfig = access.TLS
	s.header = access.Header.Clone()
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go s.loop(ctx)
	return s
}

// NewRecorder returns a Scraper with no loop and no endpoint, fed by Ingest:
// for the simulator on the virtual clock, whose metrics text is read at
// simulated times.
func NewRecorder(include []string) *Scraper {
	return newScraper("", DefaultInterval, include, time.Now)
}

func newScraper(endpoint string, interval time.Duration, include []string, now func() time.Time) *Scraper {
	if interval <= 0 {
		interval = DefaultInterval
	}
	// A scrape must end before the next is due, so slow endpoints never pile
	// up requests; 10 s is plenty for any real endpoint.
	timeout := min(interval*3/4, 10*time.Second)
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		MaxIdleConns:          1,
		MaxIdleConnsPerHost:   1,
		MaxConnsPerHost:       1,
		IdleConnTimeout:       2*interval + 30*time.Second,
		ResponseHeaderTimeout: timeout,
		TLSHandshakeTimeout:   timeout,
	}
	return &Scraper{
		url:      endpoint,
		name:     redact(endpoint),
		interval: interval,
		timeout:  timeout,
		include:  slices.Clone(include),
		tr:       tr,
		client:   &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: redirect.SameHost},
		now:      now,
		kinds:    map[string]string{},
		cancel:   func() {},
		done:     closed(),
	}
}

// closed is the done channel of a scraper without a loop.
func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (s *Scraper) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		_ = s.ScrapeNow(ctx) // recorded in the sample; nothing to do here
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A scrape slower than the interval makes the ticker drop
			// ticks rather than queue them.
		}
	}
}

// ScrapeNow scrapes once, synchronously, within the scrape timeout, and
// records the sample (an error sample on failure). Calling it just before a
// point's clock starts and just after its last request ends makes that
// point's counter deltas exact instead of interval-aligned.
func (s *Scraper) ScrapeNow(ctx context.Context) error {
	if s.url == "" {
		return errors.New("promscrape: no endpoint to scrape")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	start := s.now()
	err := s.fetch(ctx, start)
	// A scrape cut short by the caller (Stop, the run ending) says nothing
	// about the endpoint, so it is not recorded.
	if err != nil && ctx.Err() == nil {
		s.failed(Sample{T: start, Took: s.now().Sub(start)}, err)
	}
	return err
}

func (s *Scraper) fetch(ctx context.Context, start time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("scrape %s: %w", s.name, err)
	}
	if s.header != nil {
		req.Header = s.header.Clone()
	}
	req.Header.Set("Accept", acceptHeader)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("scrape %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("scrape %s: HTTP %d", s.name, resp.StatusCode)
	}
	return s.ingest(start, io.LimitReader(resp.Body, maxBody), s.now)
}

// Ingest parses Prometheus text read from r as a sample taken at t. A parse
// error is recorded as an error sample and returned.
func (s *Scraper) Ingest(t time.Time, r io.Reader) error {
	err := s.ingest(t, r, func() time.Time { return t })
	if err != nil {
		s.failed(Sample{T: t}, err)
	}
	return err
}

// failed records a failed scrape as an error sample, and the run's first
// failure with how the tls settings could fix it.
func (s *Scraper) failed(smp Sample, err error) {
	smp.Err = err.Error()
	s.add(smp)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures++
	if s.firstErr == "" {
		s.firstErr = smp.Err + tlsconf.Hint(err)
	}
}

func (s *Scraper) ingest(t time.Time, r io.Reader, now func() time.Time) error {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		return fmt.Errorf("parse metrics: %w", err)
	}
	s.mu.Lock()
	vals, hists := extract(mfs, s.include, s.kinds)
	s.mu.Unlock()
	s.add(Sample{T: t, Took: now().Sub(t), Values: vals, Histograms: hists})
	return nil
}

// add keeps samples in time order: a boundary ScrapeNow may finish before a
// loop scrape that started earlier.
func (s *Scraper) add(smp Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.samples)
	for i > 0 && s.samples[i-1].T.After(smp.T) {
		i--
	}
	s.samples = slices.Insert(s.samples, i, smp)
}

// Stop ends the background loop, waits for it (a scrape in flight is
// cancelled, so this is prompt whatever the endpoint does), and returns every
// sample. It may be called more than once.
func (s *Scraper) Stop() Series {
	s.stopOnce.Do(func() {
		s.cancel()
		<-s.done
		s.tr.CloseIdleConnections()
	})
	return s.Series()
}

// Series returns a copy of the samples so far.
func (s *Scraper) Series() Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	kinds := make(map[string]string, len(s.kinds))
	for k, v := range s.kinds {
		kinds[k] = v
	}
	return Series{URL: s.name, Samples: slices.Clone(s.samples), Kinds: kinds}
}

// redact drops credentials from a URL before it is written anywhere.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// FirstError is the first scrape that failed, nil while none has: a caller
// warns once per run with it instead of once per scrape. Every failure stays
// in the series as an error sample.
func (s *Scraper) FirstError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstErr == "" {
		return nil
	}
	return errors.New(s.firstErr)
}

// Errors is how many scrapes have failed so far.
func (s *Scraper) Errors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}

// Interval is the scrape interval in use.
func (s *Scraper) Interval() time.Duration { return s.interval }

// Timeline returns one stored name over time, for charts: a gauge's values;
// a counter's per-second rate between consecutive scrapes (a reset counts
// from zero); a histogram's mean observation between consecutive scrapes,
// leaving out intervals with no new observations. Failed scrapes and scrapes
// without the name are skipped.
func (ser Series) Timeline(name string) (ts []time.Time, vs []float64) {
	kind := ser.Kinds[name]
	var prev *Sample
	for i := range ser.Samples {
		smp := &ser.Samples[i]
		if smp.Err != "" {
			continue
		}
		switch kind {
		case KindGauge:
			if v, ok := smp.Values[name]; ok {
				ts, vs = append(ts, smp.T), append(vs, v)
			}
		case KindCounter:
			v, ok := smp.Values[name]
			if !ok {
				continue
			}
			if prev != nil {
				p := prev.Values[name]
				d := v - p
				if v < p {
					d = v
				}
				if dt := smp.T.Sub(prev.T).Seconds(); dt > 0 {
					ts, vs = append(ts, smp.T), append(vs, d/dt)
				}
			}
			prev = smp
		case KindHistogram:
			h, ok := smp.Histograms[name]
			if !ok {
				continue
			}
			if prev != nil {
				if d := histDelta(prev.Histograms[name], h); d.Count > 0 {
					ts, vs = append(ts, smp.T), append(vs, d.Sum/d.Count)
				}
			}
			prev = smp
		}
	}
	return ts, vs
}
