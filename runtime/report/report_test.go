package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* from the current output")

// libPlaceholder replaces the 1 MB library in golden files.
const libPlaceholder = "/* echarts.min.js " + EChartsVersion + " (embedded; left out of golden files) */"

func renderScenario(t *testing.T, r *results.Results, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.String()
}

func renderCompare(t *testing.T, rs []*results.Results, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCompare(&buf, rs, opts); err != nil {
		t.Fatalf("WriteCompare: %v", err)
	}
	return buf.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %.300s\nwant: %.300s\n(run go test -update if the change is intended)", name, i+1, g, w)
			}
		}
	}
}

func stripLib(t *testing.T, page string) string {
	t.Helper()
	if strings.Count(page, echartsJS) != 1 {
		t.Fatalf("page embeds the echarts library %d times, want once", strings.Count(page, echartsJS))
	}
	return strings.Replace(page, echartsJS, libPlaceholder, 1)
}

var fixedOpts = Options{Now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Secrets: []string{fakeSecret}}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		render func(t *testing.T) string
	}{
		{"seed-vllm.golden.html", func(t *testing.T) string { return renderScenario(t, vllmFixture(), fixedOpts) }},
		{"seed-lmcache.golden.html", func(t *testing.T) string { return renderScenario(t, lmcacheFixture(), fixedOpts) }},
		{"compare.golden.html", func(t *testing.T) string {
			return renderCompare(t, []*results.Results{vllmFixture(), lmcacheFixture()}, fixedOpts)
		}},
		{"terminal-vllm.golden.txt", func(t *testing.T) string {
			var b bytes.Buffer
			Terminal(&b, vllmFixture())
			return b.String()
		}},
		{"terminal-lmcache.golden.txt", func(t *testing.T) string {
			var b bytes.Buffer
			Terminal(&b, lmcacheFixture())
			return b.String()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got := tt.render(t)
			if strings.HasSuffix(tt.golden, ".html") {
				got = stripLib(t, got)
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

// TestDeterministic renders twice: map iteration and chart ids must not leak
// into the output.
func TestDeterministic(t *testing.T) {
	a := renderScenario(t, lmcacheFixture(), fixedOpts)
	for range 3 {
		if b := renderScenario(t, lmcacheFixture(), fixedOpts); a != b {
			t.Fatal("two renderings of the same results differ")
		}
	}
}

var remoteRef = regexp.MustCompile(`(?i)<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?\s*(https?:)?//`)

func TestOffline(t *testing.T) {
	pages := map[string]string{
		"scenario": renderScenario(t, vllmFixture(), Options{}),
		"server":   renderScenario(t, lmcacheFixture(), Options{}),
		"compare":  renderCompare(t, []*results.Results{vllmFixture(), lmcacheFixture()}, Options{}),
	}
	for name, page := range pages {
		if m := remoteRef.FindString(page); m != "" {
			t.Errorf("%s page references a remote resource: %s", name, m)
		}
		if strings.Contains(page, "@import") || regexp.MustCompile(`url\(\s*['"]?https?:`).MatchString(page) {
			t.Errorf("%s page's CSS loads a remote resource", name)
		}
		// The only scripts are inline ones; the library is among them.
		if n := strings.Count(page, "<script"); n != 3 || strings.Contains(page, "<script src") {
			t.Errorf("%s page has %d script tags, want 3 inline ones", name, n)
		}
		if !strings.Contains(page, echartsJS) {
			t.Errorf("%s page does not embed echarts", name)
		}
	}
}

func TestNoSecrets(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		page func(opts Options) string
	}{
		{"scenario", fixedOpts, func(o Options) string { return renderScenario(t, vllmFixture(), o) }},
		{"compare", fixedOpts, func(o Options) string {
			return renderCompare(t, []*results.Results{vllmFixture(), lmcacheFixture()}, o)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := tt.page(tt.opts)
			if strings.Contains(page, fakeSecret) {
				t.Fatalf("page contains the planted secret")
			}
			if tt.name == "scenario" && !strings.Contains(page, "# a leak the renderer must catch: "+Redacted) {
				t.Errorf("the leaked secret in the scenario text was not replaced by %s", Redacted)
			}
		})
	}
	// Without Options.Secrets, what results mark sensitive and URL
	// credentials still never show; only the free text needs the list.
	r := vllmFixture()
	r.File.Redacted = strings.ReplaceAll(r.File.Redacted, fakeSecret, "")
	page := renderScenario(t, r, Options{})
	if strings.Contains(page, fakeSecret) {
		t.Fatal("a sensitive variable or URL credential reached the page")
	}
	// Escaped forms are scrubbed too.
	tricky := "p&ss<word>'\"-0123"
	r.File.Redacted = "api_key = \"" + tricky + "\""
	page = renderScenario(t, r, Options{Secrets: []string{tricky}})
	for _, form := range []string{tricky, "p&amp;ss&lt;word&gt;", "p\\u0026ss"} {
		if strings.Contains(page, form) {
			t.Errorf("page contains the secret as %q", form)
		}
	}
}

func TestScrubKeepsLibrary(t *testing.T) {
	// A secret that also occurs in the library must not corrupt it.
	page := renderScenario(t, vllmFixture(), Options{Secrets: []string{"function"}})
	if !strings.Contains(page, echartsJS) {
		t.Fatal("scrubbing altered the embedded library")
	}
	if strings.Count(page, "function") != strings.Count(echartsJS, "function") {
		t.Fatal("the secret survived outside the library")
	}
}

// TestPageContent checks what each section promises, against the fixture.
func TestPageContent(t *testing.T) {
	vllm := renderScenario(t, vllmFixture(), Options{})
	lmc := renderScenario(t, lmcacheFixture(), Options{})
	cmp := renderCompare(t, []*results.Results{vllmFixture(), lmcacheFixture()}, Options{})
	none := vllmFixture()
	for i := range none.Points {
		none.Points[i].Passed = false
	}
	none.Best = nil
	nonePage := renderScenario(t, none, Options{})
	sparsePage := renderScenario(t, sparseFixture(), Options{})
	emptyPage := renderScenario(t, emptyFixture(), Options{})
	multi := vllmFixture()
	multi.File = results.File{Path: "shared/", SHA256: strings.Repeat("ab", 32)}
	multi.Files = []results.File{
		{Path: "shared/target.hcl", SHA256: strings.Repeat("cd", 32), Redacted: "# the serving team's target\n", Role: "configuration"},
		{Path: "shared/workload.hcl", SHA256: strings.Repeat("ef", 32), Redacted: "# the platform team's workload\n", Role: "configuration"},
		{Path: "shared/team.mrqavars.hcl", SHA256: strings.Repeat("01", 32), Redacted: "max_tokens = 7\n", Role: "variables"},
	}
	multiPage := renderScenario(t, multi, Options{})
	tests := []struct {
		name, page string
		want       []string
		not        []string
	}{
		{"answer", vllm, []string{`data-best-c="4" data-best-s="3"`, "Best: 12 sessions (C=4, S=3)", "expect max_sessions &gt;= 12: held ✓"}, nil},
		{"cache reset", vllm, []string{"Prefix cache reset before every point, cooldown 2.00 s between points."}, nil},
		{"cache carried over", lmc, []string{"Prefix cache not reset between points"}, nil},
		{"infinite p95", vllm, []string{`data-v="1e308">∞</td>`}, nil},
		{"errors by kind", vllm, []string{`id="mrqa-errors"`, "<th scope=\"col\">timeout_<wbr>first_<wbr>token</th>"}, []string{"mrqa-no-errors"}},
		{"no errors", lmc, []string{`id="mrqa-no-errors"`}, []string{`id="mrqa-errors"`}},
		{"server metrics only when scraped", lmc, []string{`id="server"`, `id="mrqa-server-cache"`, "vllm:num_<wbr>requests_<wbr>waiting_<wbr>max"}, nil},
		{"no server section", vllm, nil, []string{`id="server"`, "mrqa-server-cache"}},
		{"implied rows", lmc, []string{`<tr class="implied">`, "implied ✓ (not measured)", `"lbl":"implied ✓"`}, nil},
		{"best starred", lmc, []string{`"lbl":"★ 1.25 s ✓"`, `<tr class="pass best">`}, nil},
		{"one file, as older results record it", vllm, []string{"Scenario file as run: scenarios/seed.hcl", "sha256 of the file as run"}, []string{"<h3>scenarios/seed.hcl"}},
		{"several files", multiPage, []string{"Configuration as run: shared/", "sha256 of the configuration files as run: <code>" + strings.Repeat("ab", 32),
			"<h3>shared/target.hcl</h3>", "# the serving team&#39;s target", "<h3>shared/workload.hcl</h3>",
			"<h3>shared/team.mrqavars.hcl (variables)</h3>", "<code>" + strings.Repeat("01", 32), "max_tokens = 7"}, []string{"(not recorded)"}},
		{"scenario text escaped", vllm, []string{"&lt;/pre&gt;&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script>alert(1)"}},
		{"no point passed", nonePage, []string{`class="answer fail"`, "No point passed the SLOs"}, nil},
		{"sparse results", sparsePage, []string{"Best: 2 sessions (C=2, S=1)", `id="mrqa-heatmap"`, `id="mrqa-throughput-none"`}, []string{`id="mrqa-turns"`, `id="mrqa-cdf"`}},
		{"no point yet", emptyPage, []string{"No point has run yet.", "No point has run.", "The sweep stopped early (interrupted)"}, []string{`class="chart"`}},
		{"compare ratio", cmp, []string{"seed-lmcache allows 1.33× the sessions of seed-vllm", `id="mrqa-heatmap-1"`, `id="mrqa-heatmap-2"`, "Δ seed-lmcache"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !strings.Contains(tt.page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(tt.page, n) {
					t.Errorf("page contains %q", n)
				}
			}
		})
	}
}

// TestCompareSharedScale: both heatmaps use the same colour range, spanning
// both scenarios' finite ttft_p95 values.
func TestCompareSharedScale(t *testing.T) {
	page := renderCompare(t, []*results.Results{vllmFixture(), lmcacheFixture()}, Options{})
	re := regexp.MustCompile(`"max":([-0-9.e]+),"min":([-0-9.e]+)`)
	ms := re.FindAllStringSubmatch(page, -1)
	if len(ms) != 2 {
		t.Fatalf("found %d visualMap ranges, want 2", len(ms))
	}
	if ms[0][0] != ms[1][0] {
		t.Fatalf("heatmaps use different colour scales: %s vs %s", ms[0][0], ms[1][0])
	}
	want := heatScaleOf(vllmFixture(), lmcacheFixture())
	own := heatScaleOf(lmcacheFixture())
	if want == own {
		t.Fatal("fixture cannot tell a shared scale from a per-scenario one")
	}
	hi, err1 := strconv.ParseFloat(ms[0][1], 64)
	lo, err2 := strconv.ParseFloat(ms[0][2], 64)
	if err1 != nil || err2 != nil || lo != want.Lo || hi != want.Hi {
		t.Fatalf("heatmaps span %s..%s (log10 s), want the shared %v..%v", ms[0][2], ms[0][1], want.Lo, want.Hi)
	}
}

func TestPageSize(t *testing.T) {
	page := renderScenario(t, bigFixture(100_000), Options{})
	const limit = 5 << 20
	if len(page) >= limit {
		t.Fatalf("10×10 page is %d bytes, want < %d", len(page), limit)
	}
	t.Logf("10×10 page: %d bytes (%d without the library)", len(page), len(page)-len(echartsJS))
}

func TestCompareEdgeCases(t *testing.T) {
	none := vllmFixture()
	none.Best = nil
	tests := []struct {
		name string
		rs   []*results.Results
		want string
	}{
		{"one scenario", []*results.Results{lmcacheFixture()}, "seed-lmcache: best 16 sessions (C=4, S=4)."},
		{"baseline failed", []*results.Results{none, lmcacheFixture()}, "seed-lmcache reaches 16 sessions (C=4, S=4); seed-vllm passed at no point."},
		{"other failed", []*results.Results{lmcacheFixture(), none}, "seed-vllm passed at no point; seed-lmcache reaches 16 sessions (C=4, S=4)."},
		{"same name", []*results.Results{vllmFixture(), vllmFixture()}, "seed-vllm (seed-vllm) #2 allows 1.00× the sessions of seed-vllm (seed-vllm)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if page := renderCompare(t, tt.rs, Options{}); !strings.Contains(page, tt.want) {
				t.Errorf("page lacks %q", tt.want)
			}
		})
	}
	if err := WriteCompare(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("WriteCompare accepted no results")
	}
	if err := Write(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("Write accepted nil results")
	}
}

func TestTerminalNoneAndExtended(t *testing.T) {
	none := vllmFixture()
	none.Best = nil
	var b bytes.Buffer
	Terminal(&b, none)
	if !strings.Contains(b.String(), "Max (C x S) where ttft_p95 <= 2s && error_rate <= 0.05: 0  => no point passed the SLOs") {
		t.Errorf("no-pass summary missing:\n%s", b.String())
	}
	ext := lmcacheFixture()
	ext.Search.ExtendedBest = &results.Best{Concurrent: 6, Sequential: 4, Sessions: 24}
	b.Reset()
	Terminal(&b, ext)
	if !strings.Contains(b.String(), "within the declared grid: 16 sessions (C=4, S=4); extended past it: 24 sessions (C=6, S=4)") {
		t.Errorf("extended best missing:\n%s", b.String())
	}
}

func TestFmtSec(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.0004, "400 µs"}, {0.00512, "5.12 ms"}, {0.0456, "45.6 ms"}, {0.412, "412 ms"},
		{1.5, "1.50 s"}, {33.56, "33.6 s"}, {420, "420 s"},
	}
	for _, tt := range tests {
		if got := fmtSec(tt.in); got != tt.want {
			t.Errorf("fmtSec(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// BenchmarkWrite renders the 10×10, 100,000-request page.
func BenchmarkWrite(b *testing.B) {
	r := bigFixture(100_000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkTerminal prints the 10×10 summary.
func BenchmarkTerminal(b *testing.B) {
	r := bigFixture(100_000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		Terminal(&buf, r)
	}
}
