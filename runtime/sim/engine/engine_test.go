package engine

import (
	"errors"
	"math"
	"testing"
	"time"
)

func costConfig() Config {
	return Config{
		MaxModelLen: 100000, KVCacheTokens: 1 << 16, BlockSize: 16, MaxNumSeqs: 8, MaxBatchedTokens: 512,
		StepFixed: time.Millisecond, PrefillToken: 10e-6, PrefillAttention: 1e-9,
		DecodeSeq: 100e-6, DecodeContext: 2e-9,
	}
}

// Independent statement of the cost model for single-request steps.
func prefillStep(c Config, start, n int) time.Duration {
	s := c.StepFixed.Seconds() + float64(n)*c.PrefillToken + c.PrefillAttention*(float64(n)*float64(start)+float64(n)*float64(n-1)/2)
	return time.Duration(math.Round(s * 1e9))
}

func decodeStep(c Config, ctx int) time.Duration {
	s := c.StepFixed.Seconds() + c.DecodeSeq + c.DecodeContext*float64(ctx)
	return time.Duration(math.Round(s * 1e9))
}

// hashes gives a request a prompt+answer identity: seed picks the content.
func hashes(seed uint64, tokens, block int) []uint64 {
	ids := make([]int, tokens)
	for i := range ids {
		ids[i] = int(Mix(seed, uint64(i)) % 50000)
	}
	return HashTokens(0, ids, block)
}

// run steps until idle, returning the end time and the step durations.
func run(t *testing.T, e *Engine, now time.Duration) (time.Duration, []time.Duration) {
	t.Helper()
	var steps []time.Duration
	for !e.Idle() {
		d, _ := e.Step(now)
		now += d
		steps = append(steps, d)
		if len(steps) > 100000 {
			t.Fatal("engine does not finish")
		}
	}
	return now, steps
}

func TestSingleRequestMatchesCostModel(t *testing.T) {
	cfg := costConfig()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const prompt, answer = 1000, 3
	r := &Request{ID: "a", PromptTokens: prompt, MaxTokens: answer, Hashes: hashes(1, prompt+answer, 16)}
	if err := e.Submit(r, 0); err != nil {
		t.Fatal(err)
	}
	end, steps := run(t, e, 0)
	want := []time.Duration{
		prefillStep(cfg, 0, 512), prefillStep(cfg, 512, 488), // chunked prefill; first token at the end of the last chunk
		decodeStep(cfg, 1000), decodeStep(cfg, 1001),
	}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(steps), len(want))
	}
	var total time.Duration
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d: %v, want %v", i, steps[i], want[i])
		}
		total += want[i]
	}
	if r.FirstToken != want[0]+want[1] {
		t.Errorf("TTFT %v, want %v", r.FirstToken, want[0]+want[1])
	}
	if r.Finished != total || end != total || r.Generated != answer || !r.Done {
		t.Errorf("finished %v (end %v) with %d tokens, want %v with %d", r.Finished, end, r.Generated, total, answer)
	}
	if r.CachedTokens != 0 {
		t.Errorf("cold request reports %d cached tokens", r.CachedTokens)
	}

	// The same prompt again: a prefix hit on every full block but the one
	// holding the last token, which must be computed.
	r2 := &Request{ID: "b", PromptTokens: prompt, MaxTokens: 1, Hashes: r.Hashes}
	if err := e.Submit(r2, end); err != nil {
		t.Fatal(err)
	}
	run(t, e, end)
	hit := (prompt - 1) / 16 * 16
	if r2.CachedTokens != hit {
		t.Errorf("repeat hit %d tokens, want %d", r2.CachedTokens, hit)
	}
	if got, want := r2.FirstToken-r2.Arrival, prefillStep(cfg, hit, prompt-hit); got != want {
		t.Errorf("repeat TTFT %v, want the cached-prefix prediction %v", got, want)
	}
	st := e.Stats()
	if st.PrefixQueries != 2*prompt || st.PrefixHits != uint64(hit) || st.PromptTokens != 2*prompt || st.GenerationTokens != answer+1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHitLengthsAtBlockGranularity(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prompt    int
		shareFrom int // the second prompt's tokens equal the first's before this position
		want      int
	}{
		{"whole prompt, partial last block", 40, 40, 32},
		{"whole prompt, exact blocks: one block left to compute", 32, 32, 16},
		{"divergence inside block 1", 40, 20, 16},
		{"divergence in block 0", 40, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := New(costConfig())
			a := make([]int, tc.prompt+1)
			b := make([]int, tc.prompt+1)
			for i := range a {
				a[i], b[i] = i, i
				if i >= tc.shareFrom {
					b[i] = 90000 + i
				}
			}
			r1 := &Request{PromptTokens: tc.prompt, MaxTokens: 1, Hashes: HashTokens(0, a, 16)}
			_ = e.Submit(r1, 0)
			end, _ := run(t, e, 0)
			r2 := &Request{PromptTokens: tc.prompt, MaxTokens: 1, Hashes: HashTokens(0, b, 16)}
			_ = e.Submit(r2, end)
			run(t, e, end)
			if r2.CachedTokens != tc.want {
				t.Errorf("hit %d tokens, want %d", r2.CachedTokens, tc.want)
			}
		})
	}
}

func TestQueueingBehindMaxNumSeqs(t *testing.T) {
	cfg := costConfig()
	cfg.MaxNumSeqs = 1
	e, _ := New(cfg)
	a := &Request{PromptTokens: 100, MaxTokens: 2, Hashes: hashes(1, 102, 16)}
	b := &Request{PromptTokens: 200, MaxTokens: 1, Hashes: hashes(2, 201, 16)}
	_ = e.Submit(a, 0)
	_ = e.Submit(b, 0)
	run(t, e, 0)
	aEnd := prefillStep(cfg, 0, 100) + decodeStep(cfg, 100)
	if a.Finished != aEnd {
		t.Errorf("a finished at %v, want %v", a.Finished, aEnd)
	}
	if b.Scheduled != aEnd {
		t.Errorf("b scheduled at %v, want when a finished, %v", b.Scheduled, aEnd)
	}
	if want := aEnd + prefillStep(cfg, 0, 200); b.FirstToken != want {
		t.Errorf("b first token at %v, want %v", b.FirstToken, want)
	}
}

func TestBatchSharesStepCost(t *testing.T) {
	cfg := costConfig()
	e, _ := New(cfg)
	a := &Request{PromptTokens: 300, MaxTokens: 2}
	b := &Request{PromptTokens: 300, MaxTokens: 2}
	_ = e.Submit(a, 0)
	_ = e.Submit(b, 0)
	d1, _ := e.Step(0)
	// Both prefills fit one step's budget only partly: a takes 300, b 212.
	want := prefillStep(cfg, 0, 300) + prefillStep(cfg, 0, 212) - cfg.StepFixed
	if d1 != want {
		t.Errorf("first step %v, want %v", d1, want)
	}
	if a.Generated != 1 || b.Generated != 0 {
		t.Errorf("after step 1: a %d tokens, b %d, want 1 and 0", a.Generated, b.Generated)
	}
	d2, _ := e.Step(d1)
	// a decodes (context 300), b finishes its prefill (88 tokens from 212).
	want2 := decodeStep(cfg, 300) + prefillStep(cfg, 212, 88) - cfg.StepFixed
	if d2 != want2 || b.FirstToken != d1+d2 {
		t.Errorf("second step %v (b first token %v), want %v", d2, b.FirstToken, want2)
	}
}

func TestPreemptionAtPredictedStep(t *testing.T) {
	cfg := costConfig()
	cfg.KVCacheTokens = 8 * 16 // 8 blocks
	e, _ := New(cfg)
	a := &Request{ID: "a", PromptTokens: 60, MaxTokens: 40, Hashes: hashes(1, 100, 16)}
	b := &Request{ID: "b", PromptTokens: 40, MaxTokens: 40, Hashes: hashes(2, 80, 16)}
	_ = e.Submit(a, 0)
	_ = e.Submit(b, 0)
	// Blocks wanted at step j (1-based): both prefill at step 1; from step 2
	// each decodes one token, needing room for computed+1 tokens. The first
	// step where the sum exceeds 8 preempts b, the most recently admitted.
	blocks := func(tokens int) int { return (tokens + 15) / 16 }
	predicted := 0
	for j := 2; predicted == 0; j++ {
		if blocks(60+j-1)+blocks(40+j-1) > 8 {
			predicted = j
		}
	}
	var now time.Duration
	got := 0
	for j := 1; !e.Idle() && j < 10000; j++ {
		d, _ := e.Step(now)
		now += d
		if got == 0 && e.Stats().Preemptions > 0 {
			got = j
			if b.Preempted != 1 || a.Preempted != 0 {
				t.Errorf("preempted a %d times, b %d times; want b once", a.Preempted, b.Preempted)
			}
		}
	}
	if got != predicted {
		t.Errorf("preemption at step %d, want %d", got, predicted)
	}
	if !a.Done || !b.Done || a.Generated != 40 || b.Generated != 40 {
		t.Errorf("requests did not finish: a %d/%v b %d/%v", a.Generated, a.Done, b.Generated, b.Done)
	}
	if b.FirstToken != a.FirstToken {
		t.Errorf("b's first token moved to %v (a's %v): preemption must not change it", b.FirstToken, a.FirstToken)
	}
}

func TestOffloadLoadInsteadOfRecompute(t *testing.T) {
	cfg := costConfig()
	cfg.KVCacheTokens = 64 * 16
	cfg.OffloadTokens = 1 << 14
	cfg.OffloadLoadBytesPerS = 1e9
	cfg.KVBytesPerToken = 1e4 // 10 µs per token loaded
	e, _ := New(cfg)
	first := &Request{PromptTokens: 500, MaxTokens: 1, Hashes: hashes(1, 501, 16)}
	_ = e.Submit(first, 0)
	now, _ := run(t, e, 0)
	// Fill the GPU with other prompts so the first one's blocks are evicted.
	for i := 0; i < 3; i++ {
		r := &Request{PromptTokens: 500, MaxTokens: 1, Hashes: hashes(uint64(10+i), 501, 16)}
		_ = e.Submit(r, now)
		now, _ = run(t, e, now)
	}
	again := &Request{PromptTokens: 500, MaxTokens: 1, Hashes: first.Hashes}
	_ = e.Submit(again, now)
	run(t, e, now)
	hit := 499 / 16 * 16
	if again.CachedTokens != hit {
		t.Fatalf("hit %d tokens, want %d", again.CachedTokens, hit)
	}
	if again.LoadedTokens == 0 {
		t.Fatal("nothing came from the offload tier")
	}
	load := time.Duration(math.Round(float64(again.LoadedTokens) * 1e4 / 1e9 * 1e9))
	want := prefillStep(cfg, hit, 500-hit) + load
	if got := again.FirstToken - again.Arrival; got != want {
		t.Errorf("TTFT %v, want prefill of the rest plus load %v", got, want)
	}
	if st := e.Stats(); st.OffloadHits != uint64(again.LoadedTokens) {
		t.Errorf("offload hits %d, want %d", st.OffloadHits, again.LoadedTokens)
	}
}

func TestFrontendSerialises(t *testing.T) {
	cfg := costConfig()
	cfg.FrontendToken = 1e-6
	e, _ := New(cfg)
	a := &Request{PromptTokens: 1000, MaxTokens: 1}
	b := &Request{PromptTokens: 1000, MaxTokens: 1}
	_ = e.Submit(a, 0)
	_ = e.Submit(b, 0)
	if a.Ready != time.Millisecond || b.Ready != 2*time.Millisecond {
		t.Errorf("ready at %v and %v, want 1ms and 2ms", a.Ready, b.Ready)
	}
	d, prog := e.Step(0)
	if d != time.Millisecond || prog != nil {
		t.Errorf("idle wait %v, want 1ms", d)
	}
	run(t, e, d)
	if a.Scheduled != time.Millisecond {
		t.Errorf("a scheduled at %v", a.Scheduled)
	}
}

func TestSubmitRejects(t *testing.T) {
	cfg := costConfig()
	cfg.MaxModelLen = 1000
	cfg.KVCacheTokens = 512
	e, _ := New(cfg)
	var ce *ContextError
	if err := e.Submit(&Request{PromptTokens: 990, MaxTokens: 20}, 0); !errors.As(err, &ce) || ce.Limit != 1000 {
		t.Errorf("over max_model_len: %v", err)
	}
	if err := e.Submit(&Request{PromptTokens: 600, MaxTokens: 20}, 0); !errors.Is(err, ErrTooBig) {
		t.Errorf("over the KV cache: %v", err)
	}
	if !e.Idle() {
		t.Error("rejected requests were queued")
	}
}

func TestAbortFreesBlocks(t *testing.T) {
	e, _ := New(costConfig())
	r := &Request{PromptTokens: 1000, MaxTokens: 5}
	_ = e.Submit(r, 0)
	e.Step(0)
	if e.Cache().Used() == 0 {
		t.Fatal("no blocks in use after a prefill step")
	}
	e.Abort(r)
	if e.Cache().Used() != 0 || !e.Idle() {
		t.Errorf("after abort: %d blocks used, idle %v", e.Cache().Used(), e.Idle())
	}
}

func TestConfigValidate(t *testing.T) {
	c := costConfig()
	c.Faults.HTTP500.Rate = 2
	c.MaxBatchedTokens = -1
	c.Defaults()
	if err := c.Validate(); err == nil {
		t.Fatal("invalid config accepted")
	}
}

func TestFaultStrikes(t *testing.T) {
	every := Fault{Every: 3}
	n := 0
	for i := uint64(1); i <= 30; i++ {
		if every.Strikes(i, 1) {
			n++
			if i%3 != 0 {
				t.Errorf("every 3: struck request %d", i)
			}
		}
	}
	if n != 10 {
		t.Errorf("every 3 struck %d of 30", n)
	}
	rate := Fault{Rate: 0.25}
	n = 0
	for i := uint64(1); i <= 4000; i++ {
		struck := rate.Strikes(i, 7)
		if struck {
			n++
		}
		if again := (Fault{Rate: 0.25}).Strikes(i, 7); again != struck {
			t.Fatal("not deterministic")
		}
	}
	if n < 850 || n > 1150 {
		t.Errorf("rate 0.25 struck %d of 4000", n)
	}
}
