package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
)

func testConfig() engine.Config {
	return engine.Config{
		Model: "m", MaxModelLen: 4096, KVCacheTokens: 8192, BlockSize: 16,
		MaxBatchedTokens: 512, StepFixed: time.Millisecond, PrefillToken: 10e-6,
	}
}

// One server (and one tokenizer load) per configuration per test.
func start(t *testing.T, cfg engine.Config) *Server {
	t.Helper()
	s, err := Start(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type reply struct {
	status  int
	header  http.Header
	body    string   // non-stream body
	events  []string // data payloads, [DONE] excluded
	done    bool
	readErr error
}

func post(t *testing.T, url string, body any) reply {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return reply{readErr: err}
	}
	defer resp.Body.Close()
	out := reply{status: resp.StatusCode, header: resp.Header}
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		raw, err := io.ReadAll(resp.Body)
		out.body, out.readErr = string(raw), err
		return out
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			out.done = true
			continue
		}
		out.events = append(out.events, data)
	}
	out.readErr = sc.Err()
	return out
}

func chatBody(text string, maxTokens int, usage bool) map[string]any {
	b := map[string]any{
		"model": "m", "stream": true, "max_tokens": maxTokens,
		"messages": []map[string]any{{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}},
	}
	if usage {
		b["stream_options"] = map[string]any{"include_usage": true}
	}
	return b
}

type chunk struct {
	Choices []struct {
		Delta struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int `json:"prompt_tokens"`
		CompletionTokens    int `json:"completion_tokens"`
		TotalTokens         int `json:"total_tokens"`
		PromptTokensDetails struct {
			CachedTokens int `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func decode(t *testing.T, events []string) []chunk {
	t.Helper()
	out := make([]chunk, len(events))
	for i, e := range events {
		if err := json.Unmarshal([]byte(e), &out[i]); err != nil {
			t.Fatalf("event %d %q: %v", i, e, err)
		}
	}
	return out
}

func TestChatStreamShapeAndUsage(t *testing.T) {
	s := start(t, testConfig())
	text := strings.Repeat("Call me Ishmael. Some years ago, never mind how long precisely. ", 40)
	r := post(t, s.BaseURL()+"/chat/completions", chatBody(text, 7, true))
	if r.status != 200 || !r.done {
		t.Fatalf("status %d, done %v, err %v", r.status, r.done, r.readErr)
	}
	cs := decode(t, r.events)
	// role chunk, 7 token chunks, usage chunk
	if len(cs) != 9 {
		t.Fatalf("%d events, want 9: %v", len(cs), r.events)
	}
	if c := cs[0].Choices[0].Delta; c.Role == nil || *c.Role != "assistant" || c.Content == nil || *c.Content != "" {
		t.Errorf("first event is not the role chunk: %s", r.events[0])
	}
	var answer string
	for i, c := range cs[1:8] {
		d := c.Choices[0]
		if d.Delta.Content == nil || *d.Delta.Content == "" {
			t.Errorf("token event %d has no content", i)
			continue
		}
		answer += *d.Delta.Content
		last := i == 6
		if last != (d.FinishReason != nil && *d.FinishReason == "length") {
			t.Errorf("token event %d: finish_reason %v", i, d.FinishReason)
		}
	}
	u := cs[8].Usage
	if u == nil || len(cs[8].Choices) != 0 {
		t.Fatalf("last event is not a usage chunk: %s", r.events[8])
	}
	tok := s.tok
	want := 0
	for _, m := range []struct{ role, text string }{{"system", "Be brief."}, {"user", text}} {
		want += 1 + len(tok.enc.Encode(m.role+"\n")) + len(tok.enc.Encode(m.text)) + 1 + 1
	}
	want += 1 + len(tok.enc.Encode("assistant\n"))
	if u.PromptTokens != want || u.CompletionTokens != 7 || u.TotalTokens != want+7 || u.PromptTokensDetails.CachedTokens != 0 {
		t.Errorf("usage %+v, want prompt %d, completion 7, cached 0", *u, want)
	}
	if n := len(tok.enc.Encode(answer)); n != 7 {
		t.Errorf("answer %q is %d tokens, want 7", answer, n)
	}

	// The same conversation again: same answer, prefix hit; without
	// include_usage there is no usage chunk.
	r2 := post(t, s.BaseURL()+"/chat/completions", chatBody(text, 7, false))
	cs2 := decode(t, r2.events)
	if len(cs2) != 8 || cs2[7].Usage != nil {
		t.Errorf("without include_usage: %d events, last %s", len(cs2), r2.events[len(r2.events)-1])
	}
	var again string
	for _, c := range cs2[1:] {
		again += *c.Choices[0].Delta.Content
	}
	if again != answer {
		t.Errorf("answers differ: %q vs %q", again, answer)
	}

	// A follow-up carrying the answer hits the cache through the answer.
	follow := chatBody(text, 3, true)
	follow["messages"] = append(follow["messages"].([]map[string]any),
		map[string]any{"role": "assistant", "content": answer}, map[string]any{"role": "user", "content": "And then?"})
	r3 := post(t, s.BaseURL()+"/chat/completions", follow)
	cs3 := decode(t, r3.events)
	u3 := cs3[len(cs3)-1].Usage
	if u3 == nil {
		t.Fatal("no usage on the follow-up")
	}
	if u3.PromptTokens-u3.PromptTokensDetails.CachedTokens > 16+8 {
		t.Errorf("follow-up: %d of %d prompt tokens cached, want all but the last block or so", u3.PromptTokensDetails.CachedTokens, u3.PromptTokens)
	}
}

func TestCompletionsAndNonStream(t *testing.T) {
	s := start(t, testConfig())
	r := post(t, s.BaseURL()+"/completions", map[string]any{"model": "m", "prompt": "Once upon a time", "max_tokens": 4, "stream": true})
	cs := decode(t, r.events)
	if len(cs) != 4 || !r.done {
		t.Fatalf("%d events, done %v", len(cs), r.done)
	}
	for _, c := range cs {
		if c.Choices[0].Text == nil || *c.Choices[0].Text == "" {
			t.Errorf("completion event without text: %+v", c)
		}
	}
	w := post(t, s.BaseURL()+"/chat/completions", map[string]any{"messages": []map[string]any{{"role": "user", "content": []map[string]any{{"type": "text", "text": "hi"}}}}, "max_tokens": 3})
	var body struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(w.body), &body); err != nil || w.status != 200 {
		t.Fatalf("non-stream: %d %q: %v", w.status, w.body, err)
	}
	if body.Object != "chat.completion" || body.Usage.CompletionTokens != 3 || len(s.tok.enc.Encode(body.Choices[0].Message.Content)) != 3 {
		t.Errorf("non-stream body %s", w.body)
	}
}

func TestErrors(t *testing.T) {
	s := start(t, testConfig())
	long := strings.Repeat("word ", 5000)
	r := post(t, s.BaseURL()+"/chat/completions", chatBody(long, 10, true))
	var e struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.status != 400 || e.Error.Code != 400 || e.Error.Type != "BadRequestError" ||
		!strings.Contains(e.Error.Message, "maximum context length is 4096 tokens") {
		t.Errorf("over max_model_len: %d %s", r.status, r.body)
	}
	r = post(t, s.BaseURL()+"/chat/completions", map[string]any{"model": "other", "messages": []map[string]any{{"role": "user", "content": "x"}}})
	if r.status != 404 {
		t.Errorf("unknown model: %d %s", r.status, r.body)
	}
	resp, err := http.Get(s.BaseURL() + "/models")
	if err != nil {
		t.Fatal(err)
	}
	var models struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&models)
	resp.Body.Close()
	if len(models.Data) != 1 || models.Data[0].ID != "m" || models.Data[0].MaxModelLen != 4096 {
		t.Errorf("models %+v", models)
	}
}

func TestMetricsAndReset(t *testing.T) {
	s := start(t, testConfig())
	text := strings.Repeat("It was the best of times. ", 50)
	post(t, s.BaseURL()+"/chat/completions", chatBody(text, 2, true))
	post(t, s.BaseURL()+"/chat/completions", chatBody(text, 2, true))
	root := strings.TrimSuffix(s.BaseURL(), "/v1")
	get := func() string {
		resp, err := http.Get(root + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	m := get()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(m))
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text: %v", err)
	}
	if f := fams["vllm:time_to_first_token_seconds"]; f == nil || f.GetType().String() != "HISTOGRAM" || f.Metric[0].GetHistogram().GetSampleCount() != 2 {
		t.Errorf("ttft histogram: %v", f)
	}
	if f := fams["vllm:prefix_cache_hits_total"]; f == nil || f.GetType().String() != "COUNTER" || f.Metric[0].GetCounter().GetValue() == 0 {
		t.Errorf("prefix cache hits: %v", f)
	}
	for _, name := range []string{
		"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
		"vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:num_preemptions_total",
		"vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:time_to_first_token_seconds_bucket",
		"vllm:request_queue_time_seconds_count", "sim:offload_hits_total",
	} {
		if !strings.Contains(m, "\n"+name+"{") {
			t.Errorf("metric %s missing", name)
		}
	}
	if !strings.Contains(m, `vllm:generation_tokens_total{model_name="m"} 4`) || !strings.Contains(m, `vllm:time_to_first_token_seconds_count{model_name="m"} 2`) {
		t.Errorf("counters wrong:\n%s", m)
	}
	resp, err := http.Post(root+"/reset_prefix_cache", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reset: %v %v", err, resp)
	}
	resp.Body.Close()
	r := post(t, s.BaseURL()+"/chat/completions", chatBody(text, 2, true))
	cs := decode(t, r.events)
	if u := cs[len(cs)-1].Usage; u == nil || u.PromptTokensDetails.CachedTokens != 0 {
		t.Errorf("after reset the prompt still hit the cache: %s", r.events[len(r.events)-1])
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		check func(t *testing.T, r reply)
	}{
		{engine.FaultHTTP500, func(t *testing.T, r reply) {
			if r.status != 500 {
				t.Errorf("status %d", r.status)
			}
		}},
		{engine.FaultHTTP429, func(t *testing.T, r reply) {
			if r.status != 429 || r.header.Get("Retry-After") != "2" {
				t.Errorf("status %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
			}
		}},
		{engine.FaultReset, func(t *testing.T, r reply) {
			if r.readErr == nil || r.status != 0 {
				t.Errorf("no connection error: status %d", r.status)
			}
		}},
		{engine.FaultCut, func(t *testing.T, r reply) {
			if r.done || r.readErr == nil || len(r.events) != 3 { // role + 2 tokens, then the cut
				t.Errorf("not cut after 2 tokens: %d events, done %v, err %v", len(r.events), r.done, r.readErr)
			}
		}},
		{engine.FaultMalformed, func(t *testing.T, r reply) {
			bad := 0
			for _, e := range r.events {
				if !json.Valid([]byte(e)) {
					bad++
				}
			}
			if bad != 1 || !r.done {
				t.Errorf("%d malformed events, done %v", bad, r.done)
			}
		}},
		{engine.FaultStreamError, func(t *testing.T, r reply) {
			last := r.events[len(r.events)-1]
			if !strings.Contains(last, `"error"`) || len(r.events) != 4 || !r.done {
				t.Errorf("in-stream error missing: %v", r.events)
			}
		}},
		{engine.FaultStall, func(t *testing.T, r reply) {
			if len(r.events) != 6 || !r.done {
				t.Errorf("stalled stream did not complete: %d events", len(r.events))
			}
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			cfg := testConfig()
			cfg.Faults.AfterTokens = 2
			cfg.Faults.RetryAfter = 1500 * time.Millisecond
			cfg.Faults.StallFor = 300 * time.Millisecond
			for _, k := range cfg.Faults.Kinds() {
				if k.Name == tc.kind {
					k.Fault.Every = 2
				}
			}
			s := start(t, cfg)
			body := chatBody("Tell me a story.", 5, false)
			first := post(t, s.BaseURL()+"/chat/completions", body)
			if first.status != 200 || !first.done || len(first.events) != 6 {
				t.Fatalf("request 1 should be clean: %d, %d events", first.status, len(first.events))
			}
			t0 := time.Now()
			tc.check(t, post(t, s.BaseURL()+"/chat/completions", body))
			if tc.kind == engine.FaultStall && time.Since(t0) < 300*time.Millisecond {
				t.Errorf("stall lasted %v, want ≥ 300ms", time.Since(t0))
			}
		})
	}
}

// TestRealClockTTFT: the loop sleeps each step, so a client sees the cost
// model's TTFT. Loose bounds: predicted ≥ 500 ms, tolerance max(10%, 50 ms).
func TestRealClockTTFT(t *testing.T) {
	cfg := testConfig()
	cfg.StepFixed = 100 * time.Millisecond
	cfg.PrefillToken = 1e-3 // 1 ms per token
	s := start(t, cfg)
	text := strings.Repeat("The sea was calm. ", 100)
	var ttft [2]time.Duration
	var cached [2]int
	for i := range ttft {
		b, _ := json.Marshal(chatBody(text, 2, true))
		t0 := time.Now()
		resp, err := http.Post(s.BaseURL()+"/chat/completions", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			if strings.Contains(line, `"content":" `) && ttft[i] == 0 {
				ttft[i] = time.Since(t0)
			}
			if strings.Contains(line, "cached_tokens") {
				var c chunk
				_ = json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "data: ")), &c)
				cached[i] = c.Usage.PromptTokensDetails.CachedTokens
				prompt := c.Usage.PromptTokens
				if i == 0 {
					// prompt tokens in chunks of 512 steps
					var want time.Duration
					for left := prompt; left > 0; left -= 512 {
						want += cfg.StepFixed + time.Duration(min(left, 512))*time.Millisecond
					}
					check(t, "cold", ttft[i], want)
				} else {
					// The warm prediction is a few steps' worth, below what
					// a wall-clock test can pin down; it must be far below cold.
					if cached[i] < prompt-16 || ttft[i] > ttft[0]/2 {
						t.Errorf("warm TTFT %v (cached %d of %d), cold %v", ttft[i], cached[i], prompt, ttft[0])
					}
				}
			}
		}
		resp.Body.Close()
	}
}

func check(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if want < 500*time.Millisecond {
		t.Fatalf("%s: prediction %v is below the 500ms these tests need", what, want)
	}
	tol := max(want/10, 50*time.Millisecond)
	if got < want-tol || got > want+tol {
		t.Errorf("%s TTFT %v, want %v ± %v", what, got, want, tol)
	} else {
		t.Logf("%s TTFT %v, predicted %v", what, got, want)
	}
}

func TestConcurrentStreams(t *testing.T) {
	s := start(t, testConfig())
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := post(t, s.BaseURL()+"/chat/completions", chatBody(strings.Repeat("x y z ", i+1), 8, true))
			if !r.done || len(r.events) != 10 {
				errs <- r.body
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("stream failed: %q", e)
	}
	if st := s.Stats(); st.Running != 0 || st.Waiting != 0 || st.KVUsage != 0 {
		t.Errorf("engine not drained: %+v", st)
	}
}
