package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/clientcheck"
	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
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
	// TerminalWidth is the terminal's width in columns, asked at every
	// redraw so a resized window is followed; nil, or a result of 0, means
	// 80. The redrawn line is cut to fit: a line that wrapped could not be
	// redrawn in place.
	TerminalWidth func() int
	// Version is the tool version recorded in results.
	Version string
	// Tokenizers is shared by every scenario of the run.
	Tokenizers *tokenizer.Cache
	// Corpus overrides corpus loading options (tests point it at mirrors).
	Corpus corpus.Options
	// Clock is the client's self-check clock (nil: time.Now); tests move it
	// to make a stall.
	Clock func() time.Time
	// Shard is the part of the grid this run executes (exec -shard I/N);
	// the zero value runs the whole sweep.
	Shard spec.Shard
	// Reproduce, when set, is the recorded run this one re-runs (exec
	// -from): its inputs are checked against it before the target starts,
	// and results.json names it.
	Reproduce *Reproduction
	// Scenarios are the names of the scenarios the command selected, all
	// of them: results.json records them so that mrqa merge can name a
	// scenario that no shard's folder holds.
	Scenarios []string
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
	s := newSweep(ctx, file, sc, opts)
	defer s.prog.stopRedraw()
	// Until the first point runs, a failure returns no results: nothing
	// was measured, and a resumed run's old points are not shown again.
	err := s.prepare()
	defer s.close()
	if err != nil {
		return nil, err // the caller names the scenario, as progress lines do
	}
	return s.finish(s.runPoints())
}

// sweep is one scenario's run. Its methods are the steps of a sweep, in
// order: prepare (corpus, target, plan check, output folder), runPoints
// (for each point: between points, execute, measure, keep), finish.
type sweep struct {
	ctx  context.Context
	file *spec.File
	sc   *spec.Scenario
	opts Options
	dir  string
	red  *redactor
	prog *progress

	docs  []corpus.Document
	r     *results.Results
	tgt   *target
	out   *output
	order *pointOrder
	// prevSeries is what a resumed run's scrapes were, before this run's.
	prevSeries   *promscrape.Series
	scrapeWarned bool
}

func newSweep(ctx context.Context, file *spec.File, sc *spec.Scenario, opts Options) *sweep {
	if opts.Tokenizers == nil {
		opts.Tokenizers = tokenizer.NewCache()
	}
	prog := newProgress(opts.Progress, opts.Terminal, sc.Name, nil)
	prog.width = opts.TerminalWidth
	return &sweep{ctx: ctx, file: file, sc: sc, opts: opts, dir: Dir(sc, opts.OutDir),
		red: newRedactor(file.Secrets), prog: prog}
}

// prepare does everything before the first point: the corpus, the target
// and its preflight, the plan-time rules, and the output folder (claimed
// once the model is known: it is part of what finished points measured).
func (s *sweep) prepare() error {
	if err := spec.CheckShard(s.sc, s.opts.Shard); err != nil {
		return fmt.Errorf("%w: %v", ErrPlan, err)
	}
	if err := s.loadCorpus(); err != nil {
		return err
	}
	if err := s.checkReproduced(); err != nil {
		return err
	}
	s.r = newResults(s.file, s.sc, s.docs, s.opts.Version, s.red)
	s.r.Scenarios = s.opts.Scenarios
	if sh := s.opts.Shard; sh.Sharded() {
		s.r.Shard = &results.Shard{Index: sh.Index, Count: sh.Count}
	}
	if rep := s.opts.Reproduce; rep != nil {
		s.r.From = &rep.From
	}
	tgt, err := startTarget(s.ctx, s.sc, s.opts, s.prog)
	if err != nil {
		return fmt.Errorf("target %q: %w", s.sc.Target.Name, err)
	}
	s.tgt = tgt
	for _, n := range tgt.notes {
		s.prog.line("preflight: %s", s.red.apply(n))
	}
	if err := s.checkReproducedModel(tgt.model); err != nil {
		return err
	}
	if err := checkPlan(s.sc, s.docs, spec.Facts{MaxModelLen: tgt.maxModelLen, KVTokens: tgt.kvTokens}); err != nil {
		return err
	}
	s.r.Target.Model, s.r.Target.UsageSupported = tgt.model, tgt.usage
	if tgt.baseURL != "" {
		s.r.Target.BaseURL = s.red.apply(results.StripUserinfo(tgt.baseURL))
	}
	s.out, err = openOutput(s.dir, s.opts, s.r, func(salt string) map[string]string {
		return identity(s.sc, s.docs, tgt.model, s.red, salt)
	}, s.prog)
	if err != nil {
		return err
	}
	// Adopted points are judged again: the SLOs are not part of the
	// identity, so the current ones decide.
	for i := range s.r.Points {
		evalSLOs(s.sc, &s.r.Points[i])
	}
	s.prevSeries = s.r.ServerSeries
	s.order = newPointOrder(s.sc, s.opts.Shard)
	for i := range s.r.Points {
		s.order.recordPoint(&s.r.Points[i])
	}
	return nil
}

func (s *sweep) loadCorpus() error {
	copts := s.opts.Corpus
	if copts.Tokenizers == nil {
		copts.Tokenizers = s.opts.Tokenizers
	}
	var err error
	if copts.Tokenizer, err = TokenizerOptions(copts.Tokenizer, s.sc.Target); err != nil {
		return err
	}
	s.prog.line("loading corpus %q", s.sc.Corpus.Name)
	docs, warns, err := corpus.Load(s.ctx, s.sc.Corpus, copts)
	for _, w := range warns {
		s.prog.line("warning: corpus %q: %s: %s", s.sc.Corpus.Name, w.DocumentID, w.Msg)
	}
	s.docs = docs
	return err
}

// close releases the target and the output folder.
func (s *sweep) close() {
	if s.tgt != nil {
		s.tgt.close()
	}
	if s.out != nil {
		s.out.close()
	}
}

// noPoint is no point of a grid: nothing is in flight.
var noPoint = [2]int{}

// errStop ends the point loop without an error: the sweep stopped early
// for a reason already recorded in Results.Stopped.
var errStop = errors.New("stopped")

// runPoints runs the points the grid or the search asks for, until none is
// left, one stops the sweep, or an error does.
func (s *sweep) runPoints() error {
	_, simulated := s.tgt.exec.(*virtualExecutor)
	s.prog.start(len(s.r.Points), s.sc.Target.Between.Cooldown, simulated)
	for first := len(s.r.Points) == 0; ; first = false {
		var err error
		if s.sc.Users != nil {
			rate, ok := s.order.nextRate()
			if !ok {
				return nil
			}
			err = s.runRatePoint(rate, first)
		} else {
			c, n, ok := s.order.next()
			if !ok {
				return nil
			}
			err = s.runPoint(c, n, first)
		}
		if err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
}

// runPoint runs one grid point.
func (s *sweep) runPoint(c, n int, first bool) error {
	return s.runOne(first, func() (pointRun, error) {
		plan, err := PlanPoint(s.sc, s.docs, c, n)
		if err != nil {
			return pointRun{}, err
		}
		return pointRun{
			label: fmt.Sprintf("c%d_s%d", c, n),
			start: func() { s.prog.point(c, n, plan.Requests(), s.pending([2]int{c, n})) },
			exec:  func() (Execution, error) { return s.tgt.exec.RunPoint(s.ctx, plan, s.prog.record) },
			build: func(run Execution) results.Point {
				return buildPoint(s.sc, plan, run.Records, run.Epoch, run.Span)
			},
		}, nil
	})
}

// pointRun is what runOne needs of one kind of point (a grid point, an
// open-loop rate): its name for a partial records file, how to announce it
// to progress, run it, and aggregate its records.
type pointRun struct {
	label string
	start func()
	exec  func() (Execution, error)
	build func(Execution) results.Point
}

// runOne runs one point of any kind: what happens between points, the
// plan (prepare), the execution, the measurement, and keeping it.
func (s *sweep) runOne(first bool, prepare func() (pointRun, error)) error {
	if s.ctx.Err() != nil {
		return ErrInterrupted
	}
	resetOK, err := s.betweenPoints(first)
	if err != nil {
		return err
	}
	pr, err := prepare()
	if err != nil {
		return err
	}
	pr.start()
	run, self, window, perr := s.execute(pr.exec)
	if perr != nil && !errors.Is(perr, ErrTargetDown) {
		if s.ctx.Err() != nil {
			return ErrInterrupted
		}
		return perr
	}
	pt := s.measure(pr.build(run), run, self, window)
	pt.Reset = resetOK || run.Simulated
	if perr == nil && allFailed(&pt) != "" {
		perr = s.tgt.downAfterPoint(s.ctx)
	}
	if errors.Is(perr, ErrTargetDown) {
		s.keepPartial(pr.label, run.Records, perr)
		return perr
	}
	return s.keep(&pt, run.Records)
}

// pending is what may still run besides the point in flight.
func (s *sweep) pending(inFlight [2]int) pending {
	if s.order.rate != nil {
		return s.order.ratePending()
	}
	return s.order.pending(s.sc.Rounds, inFlight)
}

// betweenPoints resets the prefix cache before every point when asked (the
// first included; a point claims a clean start only when the reset really
// happened) and cools down between points.
func (s *sweep) betweenPoints(first bool) (resetOK bool, err error) {
	bp := s.sc.Target.Between
	if bp.ResetPrefixCache {
		if err := s.tgt.reset(s.ctx); err != nil {
			if s.ctx.Err() != nil {
				return false, ErrInterrupted
			}
			s.prog.line("reset prefix cache: %v (this point starts with what the last one left cached)", err)
		} else {
			resetOK = true
		}
	}
	if !first && bp.Cooldown > 0 {
		select {
		case <-s.ctx.Done():
			return false, ErrInterrupted
		case <-time.After(bp.Cooldown):
		}
	}
	return resetOK, nil
}

// execute runs the point with the client watching itself. On the real
// clock the server-metrics window opens before a scrape on the point's
// first boundary and closes after one on its last, so counter deltas are
// exact; on the virtual clock it is the point's span on the simulated
// timeline.
func (s *sweep) execute(runPoint func() (Execution, error)) (Execution, *clientcheck.Report, promscrape.Window, error) {
	var w promscrape.Window
	live := s.tgt.scraper != nil && !s.tgt.fresh
	w.From = time.Now()
	if live {
		_ = s.tgt.scraper.ScrapeNow(s.ctx)
	}
	var mon *clientcheck.Monitor
	if !s.tgt.fresh {
		mon = clientcheck.Start(s.opts.Clock)
	}
	run, err := runPoint()
	var self *clientcheck.Report
	if mon != nil {
		rep := mon.Stop()
		self = &rep
	}
	if live {
		_ = s.tgt.scraper.ScrapeNow(s.ctx)
	}
	w.To = time.Now()
	if run.Simulated {
		w.From, w.To = run.Epoch, run.Epoch.Add(run.Span)
	}
	w.BusyFrom, w.BusyTo = run.Epoch, run.Epoch.Add(run.Span)
	return run, self, w, err
}

// measure completes the point built from its records with the server's
// metrics over its window and the client's check on itself, and judges it.
func (s *sweep) measure(pt results.Point, run Execution, self *clientcheck.Report, w promscrape.Window) results.Point {
	if s.tgt.scraper != nil {
		sum := s.tgt.scraper.Summary(w)
		sum.Apply(&pt.Metrics)
		if err := s.tgt.scraper.FirstError(); err != nil && !s.scrapeWarned {
			s.scrapeWarned = true
			s.prog.line("warning: scraping the target's /metrics failed: %s (server metrics of the points it affects have no data; later failures are counted, not repeated)", s.red.apply(err.Error()))
		}
		// The server's queue-time histogram counts every request, so the
		// decomposition compares it with the client's mean over all turns.
		pt.Server = serverSummary(sum, meanTTFT(run.Records))
	} else {
		for _, n := range metrics.ServerNames {
			pt.Metrics.NoData[n] = metrics.WhyNoMetricsSource
		}
	}
	if self != nil {
		pt.Client = clientSummary(*self, pt.Metrics.TTFTOKP95)
	}
	// SLOs are decided once every metric, the server's included, is in.
	evalSLOs(s.sc, &pt)
	return pt
}

// keepPartial keeps the records of the point the target went down in, for
// inspection; the point is not a result (nor may it replace another run).
// name is the records file's name without its extension.
func (s *sweep) keepPartial(name string, recs []metrics.Record, why error) {
	s.r.Stopped = why.Error()
	if !s.out.replace || s.out.replaced {
		_ = results.WriteRecords(filepath.Join(s.dir, "points", name+".partial.jsonl"), redactRecords(recs, s.red))
	}
}

// keep writes a finished point (records, LMBenchmark file, results.json)
// and records it for the search; a point where everything failed stops the
// sweep when the scenario asks.
func (s *sweep) keep(pt *results.Point, recs []metrics.Record) error {
	if err := s.out.beforeSave(); err != nil {
		return err
	}
	if err := results.WriteRecords(filepath.Join(s.dir, pt.Records), redactRecords(recs, s.red)); err != nil {
		return err
	}
	// LMBenchmark's format has workers and sessions, not arrival rates.
	if (s.opts.LMBench || s.sc.Report.LMBench) && pt.Rate == 0 {
		if err := results.WriteLMBench(filepath.Join(s.dir, "lmbench"), s.r, pt, recs); err != nil {
			return err
		}
	}
	s.r.Points = append(s.r.Points, *pt)
	s.order.recordPoint(pt)
	if why := allFailed(pt); why != "" && s.sc.AbortOnAllFailed {
		s.r.Stopped = why
		s.prog.done(pt, pending{})
		s.prog.line("stopping: %s (abort_on_all_failed; set it to false to run the remaining points)", why)
		return errStop
	}
	finalize(s.sc, s.r, s.order)
	if err := s.save(); err != nil {
		return err
	}
	s.prog.done(pt, s.pending(noPoint))
	return nil
}

// save writes results.json and the scrapes so far (so a killed run keeps
// them for the points it finished).
func (s *sweep) save() error {
	if err := s.out.beforeSave(); err != nil {
		return err
	}
	if s.tgt.scraper != nil {
		s.r.ServerSeries = redactSeries(mergeSeries(s.prevSeries, s.tgt.scraper.Series()), s.red)
	}
	if err := saveResults(s.dir, s.r); err != nil {
		return err
	}
	s.out.afterSave()
	return nil
}

// finish records how the sweep ended and writes the final results. A run
// with no point of its own to show writes nothing: it never replaces or
// touches what the folder held.
func (s *sweep) finish(runErr error) (*results.Results, error) {
	r := s.r
	if errors.Is(runErr, ErrInterrupted) {
		r.Stopped = "interrupted"
	}
	r.Complete = runErr == nil && r.Stopped == ""
	r.Finished = time.Now().UTC()
	finalize(s.sc, r, s.order)
	if len(r.Points) > 0 && (s.out.resumed || !s.out.replace || s.out.replaced) {
		if err := s.save(); err != nil {
			return r, err
		}
	}
	s.prog.finish()
	if runErr != nil {
		return r, runErr
	}
	if !anyAnswered(r) {
		return r, ErrNoAnswer
	}
	return r, nil
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
