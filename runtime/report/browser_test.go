package report

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// requireBrowser, when "1", turns a missing Chromium from a skip into a
// failure; CI sets it.
const requireBrowserEnv = "MRQA_REQUIRE_BROWSER"

// screenshotEnv names a PNG file to write a screenshot of the top of a
// report to (for docs); unset, no screenshot is taken.
const screenshotEnv = "MRQA_REPORT_SCREENSHOT"

// screenshotOfEnv names the report to photograph (default: a fixture page),
// e.g. the quickstart's out/<scenario>/report.html.
const screenshotOfEnv = "MRQA_REPORT_SCREENSHOT_OF"

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatalf("Chromium not found and %s=1", requireBrowserEnv)
	}
	t.Skipf("Chromium not found (install the chromium package; %s=1 makes this a failure)", requireBrowserEnv)
	return ""
}

// closedAddr is a 127.0.0.1 address nothing listens on: a port the test
// opened and closed again.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// newBrowser starts headless Chromium with every route to the network shut.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// No network: nothing resolves and the proxy is a port this test
		// opened and closed again.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.ProxyServer("http://" + closedAddr(t)),
		chromedp.Flag("allow-file-access-from-files", false),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	// Start the browser now so its start-up is not charged to a page.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

// pageLog collects what the page did that it must not.
type pageLog struct {
	mu       sync.Mutex
	problems []string
}

func (l *pageLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

func (l *pageLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.problems)
}

// chartState is what the page reports about one chart container.
type chartState struct {
	ID      string  `json:"id"`
	Canvas  bool    `json:"canvas"`
	W       int     `json:"w"`
	H       int     `json:"h"`
	CSSW    float64 `json:"cssW"`
	Painted bool    `json:"painted"`
	BestC   string  `json:"bestC"` // the starred cell of a heatmap, if any
	BestS   string  `json:"bestS"`
	// HasData: some series has a value to draw; an ECharts canvas with
	// axes and no data is an empty chart.
	HasData bool `json:"hasData"`
	// Overlap: the legend's box and the plot's grid intersect.
	Overlap string `json:"overlap"`
}

type pageState struct {
	RenderMs float64      `json:"renderMs"`
	Charts   []chartState `json:"charts"`
	Answer   string       `json:"answer"`
	BestC    string       `json:"bestC"`
	BestS    string       `json:"bestS"`
	ScrollW  float64      `json:"scrollW"`
	InnerW   float64      `json:"innerW"`
}

const inspectJS = `(() => {
  const charts = Array.from(document.querySelectorAll('.chart')).map(el => {
    const c = el.querySelector('canvas');
    const st = {id: el.id, canvas: !!c, w: c ? c.width : 0, h: c ? c.height : 0,
      cssW: c ? c.getBoundingClientRect().width : 0, painted: false, bestC: '', bestS: ''};
    if (c && c.width && c.height) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 28) { if (d[i]) { st.painted = true; break; } }
    }
    const inst = echarts.getInstanceByDom(el);
    const o = inst && inst.getOption();
    // A heatmap cell ({value: [c, s, v]}) is drawn whatever its value.
    const val = x => x != null && typeof x === 'object' && !Array.isArray(x) ? (Array.isArray(x.value) ? 1 : x.value) : x;
    const some = x => Array.isArray(x) ? (x.length > 1 && typeof x[0] === 'number' ? some(x[x.length - 1]) : x.some(some)) : x != null && x !== 0 && x !== '-';
    st.hasData = !!o && o.series.some(s => (s.data || []).some(d => some(val(d))));
    st.overlap = '';
    const legend = o && o.legend && o.legend[0];
    if (legend && legend.show !== false) {
      const m = inst.getModel(), v = inst.getViewOfComponentModel(m.getComponent('legend'));
      const lr = v.group.getBoundingRect().clone();
      v.group.updateTransform();
      if (v.group.transform) lr.applyTransform(v.group.transform);
      const gr = m.getComponent('grid').coordinateSystem.getRect();
      if (lr.width > 0 && lr.intersect(gr)) st.overlap = 'legend ' + [lr.x, lr.y, lr.width, lr.height].map(Math.round) + ' grid ' + [gr.x, gr.y, gr.width, gr.height].map(Math.round);
    }
    if (o && o.series[0] && o.series[0].type === 'heatmap') {
      const b = o.series[0].data.find(x => x.lbl && x.lbl.indexOf('★') === 0);
      if (b) { st.bestC = o.xAxis[0].data[b.value[0]]; st.bestS = o.yAxis[0].data[b.value[1]]; }
    }
    return st;
  });
  const a = document.getElementById('mrqa-answer');
  return {renderMs: window.__mrqaRenderMs || 0, charts,
    answer: a ? a.textContent : '', bestC: a ? a.dataset.bestC : '', bestS: a ? a.dataset.bestS : '',
    scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth};
})()`

// interaction is what interactJS reports: the first row's ttft_p95 sort key
// after sorting up and down, the smallest and largest keys, and the text of
// the heatmap (with its tooltip) after hovering the best cell.
type interaction struct {
	Asc, Desc, Min, Max, Tip string
	// Edge is the colour [r, g, b, a] of the heatmap's canvas in the middle
	// of the first pass/fail boundary edge; Edges the number of edges.
	Edge  []int
	Edges int
}

// interactJS sorts the point table by ttft_p95 both ways and hovers the
// heatmap's starred cell.
const interactJS = `(() => {
  const heads = Array.from(document.querySelectorAll('#points thead th'));
  const i = heads.findIndex(h => h.textContent.indexOf('ttft_p95') === 0);
  const vals = Array.from(document.querySelectorAll('#points tbody tr'))
    .map(r => r.cells[i].getAttribute('data-v')).filter(v => v !== '-1');
  const nums = vals.map(Number);
  const first = () => document.querySelector('#points tbody tr').cells[i].getAttribute('data-v');
  heads[i].click(); const asc = first();
  heads[i].click(); const desc = first();
  const el = document.getElementById('mrqa-heatmap');
  const inst = echarts.getInstanceByDom(el);
  const bound = inst.getOption().series.find(s => s.type === 'custom');
  let edge = [], edges = 0;
  if (bound && bound.data.length) {
    edges = bound.data.length;
    const e = bound.data[0], to = v => inst.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, v);
    const c = to([e[0], e[1]]), d = to([1, 1]), o = to([0, 0]);
    const w = Math.abs(d[0] - o[0]), h = Math.abs(d[1] - o[1]);
    const x = e[2] === 0 ? c[0] + w / 2 : c[0], y = e[2] === 0 ? c[1] : c[1] - h / 2;
    const cv = el.querySelector('canvas'), r = cv.width / cv.getBoundingClientRect().width;
    edge = Array.from(cv.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data);
  }
  const k = inst.getOption().series[0].data.findIndex(x => x.lbl.indexOf('★') === 0);
  inst.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: k});
  return {Asc: asc, Desc: desc, Min: vals[nums.indexOf(Math.min(...nums))], Max: vals[nums.indexOf(Math.max(...nums))], Tip: el.textContent, Edge: edge, Edges: edges};
})()`

// openPage loads a page from disk in a new tab with the network emulated
// offline, waits for every chart to finish rendering and inspects it.
func openPage(t *testing.T, bctx context.Context, path string, width, height int64, extra ...chromedp.Action[chromedp.Void]) (pageState, []string) {
	t.Helper()
	tctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	pl := &pageLog{}
	if err := chromedp.Listen(tctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				pl.add("console.%s: %s", e.Type, strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			pl.add("exception: %s", msg)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				pl.add("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
			}
		case *network.EventLoadingFailed:
			pl.add("request failed: %s %s", e.Type, e.ErrorText)
		case *network.EventRequestWillBeSent:
			if u := e.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
				pl.add("request to the network: %s", u)
			}
		}
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}
	offline := network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}}
	if _, err := chromedp.Call(tctx, network.EmulateNetworkConditionsByRule, offline); err != nil {
		t.Fatalf("emulate offline: %v", err)
	}
	u := (&url.URL{Scheme: "file", Path: path}).String()
	ctx, cancelT := context.WithTimeout(tctx, 60*time.Second)
	defer cancelT()
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(width, height), chromedp.Navigate(u)}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[string](`document.documentElement.getAttribute('data-rendered')`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		t.Fatalf("%s: charts did not finish rendering: %v (page problems: %v)", filepath.Base(path), err, pl.list())
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](inspectJS))
	if err != nil {
		t.Fatalf("inspect %s: %v", path, err)
	}
	if len(extra) > 0 {
		if err := chromedp.Do(ctx, extra...); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return st, pl.list()
}

func writePage(t *testing.T, dir, name string, write func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkCharts(t *testing.T, name string, st pageState, want []string) {
	t.Helper()
	var ids []string
	for _, c := range st.Charts {
		ids = append(ids, c.ID)
		if !c.Canvas || c.W <= 0 || c.H <= 0 || c.CSSW <= 0 {
			t.Errorf("%s: chart %s has no rendered canvas (%+v)", name, c.ID, c)
		} else if !c.Painted {
			t.Errorf("%s: chart %s's canvas is blank", name, c.ID)
		}
		if !c.HasData {
			t.Errorf("%s: chart %s has no data to draw: an empty chart", name, c.ID)
		}
		if c.Overlap != "" {
			t.Errorf("%s: chart %s's legend covers the plot (%s)", name, c.ID, c.Overlap)
		}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("%s: chart containers %v, want %v", name, ids, want)
	}
	if st.RenderMs <= 0 {
		t.Errorf("%s: window.__mrqaRenderMs not set", name)
	}
}

// serverCharts are the server-metrics section's charts when the run has
// per-point summaries with queue shares and a scraped series.
var serverCharts = []string{"mrqa-server-split", "mrqa-server-ts-cache", "mrqa-server-ts-load", "mrqa-server-ts-latency", "mrqa-server-cache", "mrqa-server-queue"}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	bctx := newBrowser(t)
	dir := t.TempDir()
	vllm, lmc := vllmFixture(), lmcacheFixture()
	pages := []struct {
		name   string
		r      *results.Results
		rs     []*results.Results
		charts []string
	}{
		{name: "report.html", r: vllm, charts: []string{"mrqa-heatmap", "mrqa-working-set", "mrqa-turns", "mrqa-cdf", "mrqa-throughput", "mrqa-errors"}},
		{name: "report-server.html", r: lmc, charts: append([]string{"mrqa-heatmap", "mrqa-working-set", "mrqa-turns", "mrqa-cdf", "mrqa-throughput"}, serverCharts...)},
		{name: "compare.html", rs: []*results.Results{vllm, lmc}, charts: []string{"mrqa-heatmap-1", "mrqa-heatmap-2"}},
		{name: "sparse.html", r: sparseFixture(), charts: []string{"mrqa-heatmap"}},
		{name: "report-widest.html", r: widestFixture(), charts: append([]string{"mrqa-heatmap", "mrqa-working-set", "mrqa-turns", "mrqa-cdf", "mrqa-throughput", "mrqa-errors"}, serverCharts...)},
		{name: "report-no-preemptions.html", r: noPreemptionFixture(), charts: append([]string{"mrqa-heatmap", "mrqa-working-set", "mrqa-turns", "mrqa-cdf", "mrqa-throughput"}, serverCharts...)},
		{name: "report-nothing-served.html", r: nothingServedFixture(), charts: []string{"mrqa-heatmap", "mrqa-working-set", "mrqa-errors"}},
		{name: "empty.html", r: emptyFixture(), charts: nil},
	}
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			path := writePage(t, dir, pg.name, func(b *bytes.Buffer) error {
				if pg.r != nil {
					return Write(b, pg.r, Options{Secrets: []string{fakeSecret}})
				}
				return WriteCompare(b, pg.rs, Options{Secrets: []string{fakeSecret}})
			})
			var extra []chromedp.Action[chromedp.Void]
			var pdf []byte
			var act interaction
			if pg.name == "report.html" {
				// It must print (a PDF of the page after its charts drew),
				// sort its table and show the best cell's tooltip.
				extra = append(extra, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					var err error
					pdf, err = chromedp.PrintToPDF()(ctx, tg)
					if err != nil {
						return err
					}
					act, err = chromedp.Evaluate[interaction](interactJS)(ctx, tg)
					return err
				}))
			}
			st, problems := openPage(t, bctx, path, 1280, 900, extra...)
			for _, p := range problems {
				t.Errorf("%s: %s", pg.name, p)
			}
			checkCharts(t, pg.name, st, pg.charts)
			t.Logf("%s: charts rendered %.0f ms after navigation start", pg.name, st.RenderMs)
			if pg.name == "report.html" {
				if !bytes.HasPrefix(pdf, []byte("%PDF")) {
					t.Errorf("printing gave no PDF (%d bytes)", len(pdf))
				}
				if act.Asc != act.Min || act.Desc != act.Max || act.Min == act.Max {
					t.Errorf("sorting by ttft_p95: first row %s then %s, want %s then %s", act.Asc, act.Desc, act.Min, act.Max)
				}
				// The pass/fail boundary is drawn: every edge is in the
				// option and the first one's pixels are the boundary colour.
				cs, ss := axes(pg.r)
				ci, si := map[int]int{}, map[int]int{}
				for i, c := range cs {
					ci[c] = i
				}
				for i, s := range ss {
					si[s] = i
				}
				if want := len(sloEdges(pg.r, ci, si)); act.Edges != want || want == 0 {
					t.Errorf("heatmap draws %d boundary edges, want %d (> 0)", act.Edges, want)
				}
				if len(act.Edge) != 4 || act.Edge[0] != 0x6f || act.Edge[1] != 0x2d || act.Edge[2] != 0xa8 || act.Edge[3] != 255 {
					t.Errorf("boundary edge pixel is %v, want the boundary colour [111 45 168 255]", act.Edge)
				}
				b := pg.r.Best
				if want := fmt.Sprintf("C=%d, S=%d (%d sessions) ★ best", b.Concurrent, b.Sequential, b.Concurrent*b.Sequential); !strings.Contains(act.Tip, want) {
					t.Errorf("best cell's tooltip %q lacks %q", act.Tip, want)
				}
			}
			rs := pg.rs
			if pg.r != nil && pg.r.Best == nil {
				if !strings.HasPrefix(st.Answer, "No point") || st.BestC != "0" {
					t.Errorf("header says %q (C=%s) for results with no best point", st.Answer, st.BestC)
				}
				return
			}
			if pg.r != nil {
				rs = []*results.Results{pg.r}
				b := pg.r.Best
				want := fmt.Sprintf("Best: %d sessions (C=%d, S=%d)", b.Concurrent*b.Sequential, b.Concurrent, b.Sequential)
				if !strings.Contains(st.Answer, want) || st.BestC != strconv.Itoa(b.Concurrent) || st.BestS != strconv.Itoa(b.Sequential) {
					t.Errorf("header says %q (C=%s, S=%s), want %q", st.Answer, st.BestC, st.BestS, want)
				}
			}
			// Every heatmap stars its scenario's best point, agreeing with the header.
			heat := 0
			for _, c := range st.Charts {
				if !strings.HasPrefix(c.ID, "mrqa-heatmap") {
					continue
				}
				b := rs[heat].Best
				heat++
				if c.BestC != strconv.Itoa(b.Concurrent) || c.BestS != strconv.Itoa(b.Sequential) {
					t.Errorf("heatmap %s stars C=%s, S=%s, want C=%d, S=%d", c.ID, c.BestC, c.BestS, b.Concurrent, b.Sequential)
				}
			}
			if heat != len(rs) {
				t.Errorf("%d heatmaps, want %d", heat, len(rs))
			}
		})
	}

	for _, pg := range pages[:2] { // with and without the server-metrics section
		t.Run("phone width "+pg.name, func(t *testing.T) {
			path := filepath.Join(dir, pg.name)
			st, problems := openPage(t, bctx, path, 390, 844)
			for _, p := range problems {
				t.Error(p)
			}
			checkCharts(t, "phone", st, pg.charts)
			if st.ScrollW > st.InnerW+1 {
				t.Errorf("at %v px the page scrolls sideways to %v px", st.InnerW, st.ScrollW)
			}
			for _, c := range st.Charts {
				if c.CSSW > st.InnerW {
					t.Errorf("chart %s is %v px wide on a %v px screen", c.ID, c.CSSW, st.InnerW)
				}
			}
		})
	}

	// Every row's SLO verdict is on screen, uncovered, with every optional
	// column present; no table pushes the page past the viewport.
	// On a phone the table scrolls in its box, but the verdict comes right
	// after the point, so it starts in view.
	verdictPages := []struct {
		name          string
		width, height int64
	}{
		{"report-widest.html", 1280, 900}, {"report-server.html", 1280, 900}, {"report.html", 1280, 900},
		{"compare.html", 1280, 900}, {"report-widest.html", 390, 844},
	}
	for _, vp := range verdictPages {
		t.Run(fmt.Sprintf("verdicts visible at %d px %s", vp.width, vp.name), func(t *testing.T) {
			var got verdicts
			probe := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				var err error
				got, err = chromedp.Evaluate[verdicts](verdictJS)(ctx, tg)
				return err
			})
			openPage(t, bctx, filepath.Join(dir, vp.name), vp.width, vp.height, probe)
			checkVerdicts(t, vp.name, got, !strings.HasPrefix(vp.name, "compare"))
		})
	}

	t.Run("10x10 grid, 100000 requests", func(t *testing.T) {
		path := writePage(t, dir, "big.html", func(b *bytes.Buffer) error { return Write(b, bigFixture(100_000), Options{}) })
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() >= 5<<20 {
			t.Errorf("page is %d bytes, want < 5 MiB", fi.Size())
		}
		st, problems := openPage(t, bctx, path, 1280, 900)
		for _, p := range problems {
			t.Error(p)
		}
		checkCharts(t, "big", st, append([]string{"mrqa-heatmap", "mrqa-working-set", "mrqa-turns", "mrqa-cdf", "mrqa-throughput", "mrqa-errors"}, serverCharts...))
		if st.RenderMs >= 10_000 {
			t.Errorf("charts finished rendering %.0f ms after navigation start, want < 10 s", st.RenderMs)
		}
		t.Logf("10×10 page: %d bytes, charts rendered %.0f ms after navigation start", fi.Size(), st.RenderMs)
	})

	// Strings from results in go-echarts' function form stay data: the
	// page runs none of them, and the errors chart names the kinds verbatim.
	t.Run("data never becomes code", func(t *testing.T) {
		path := writePage(t, dir, "hostile.html", func(b *bytes.Buffer) error { return Write(b, hostileFixture(), Options{}) })
		var got struct {
			Pwned bool     `json:"pwned"`
			Title string   `json:"title"`
			Kinds []string `json:"kinds"`
		}
		probe := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var err error
			got, err = chromedp.Evaluate[struct {
				Pwned bool     `json:"pwned"`
				Title string   `json:"title"`
				Kinds []string `json:"kinds"`
			}](`({pwned: window.mrqaPwned === 1, title: document.title,
  kinds: echarts.getInstanceByDom(document.getElementById('mrqa-errors')).getOption().series.map(s => String(s.name))})`)(ctx, tg)
			return err
		})
		st, problems := openPage(t, bctx, path, 1280, 900, probe)
		for _, p := range problems {
			t.Error(p)
		}
		checkCharts(t, "hostile", st, []string{"mrqa-heatmap", "mrqa-working-set", "mrqa-turns", "mrqa-cdf", "mrqa-throughput", "mrqa-errors"})
		if got.Pwned || got.Title != "mrqa · "+vllmFixture().Scenario {
			t.Errorf("the page ran a payload from the results: mrqaPwned %v, title %q", got.Pwned, got.Title)
		}
		if !slices.Contains(got.Kinds, codePayload) || !slices.Contains(got.Kinds, danglingPayload) {
			t.Errorf("errors chart series %q, want the kinds %q and %q as names", got.Kinds, codePayload, danglingPayload)
		}
	})

	// The checks above must be able to fail: a page that reaches for the
	// network, logs an error and leaves a chart empty is caught.
	t.Run("detects a bad page", func(t *testing.T) {
		bad := `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="https://cdn.example.com/x.css"></head><body>
<div class="chart" id="empty" style="height:100px"></div>
<script src="http://cdn.example.com/echarts.min.js"></script>
<script>` + echartsJS + `</script>
<script>console.error("boom"); window.__mrqaRenderMs = performance.now(); document.documentElement.setAttribute("data-rendered", "0");</script>
</body></html>`
		path := filepath.Join(dir, "bad.html")
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		st, problems := openPage(t, bctx, path, 800, 600)
		joined := strings.Join(problems, "\n")
		for _, want := range []string{"console.error: \"boom\"", "request to the network: http://cdn.example.com/echarts.min.js", "request failed"} {
			if !strings.Contains(joined, want) {
				t.Errorf("problem %q not reported; got:\n%s", want, joined)
			}
		}
		if len(st.Charts) != 1 || st.Charts[0].Canvas {
			t.Errorf("empty chart container not seen as empty: %+v", st.Charts)
		}
	})

	if out := os.Getenv(screenshotEnv); out != "" {
		t.Run("screenshot", func(t *testing.T) {
			path := os.Getenv(screenshotOfEnv)
			if path == "" {
				path = writePage(t, dir, "shot.html", func(b *bytes.Buffer) error { return Write(b, lmcacheFixture(), Options{}) })
			} else if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			var png []byte
			shot := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				var err error
				png, err = chromedp.CaptureScreenshot()(ctx, tg)
				return err
			})
			openPage(t, bctx, path, 1100, 1400, shot)
			if !bytes.HasPrefix(png, []byte("\x89PNG")) {
				t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
			}
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// verdicts is what verdictJS finds: how many verdict cells there are, which
// ones are off screen, clipped or covered, and which tables' boxes reach
// past the viewport.
type verdicts struct {
	Cells   int      `json:"cells"`
	Hidden  []string `json:"hidden"`
	Tables  []string `json:"tables"`
	ScrollW float64  `json:"scrollW"`
	InnerW  float64  `json:"innerW"`
}

// verdictJS scrolls each verdict cell (td.slo) to the middle of the screen,
// vertically only, and checks that it lies inside the viewport and its
// table's scrolling box and that the element at its centre is the cell.
const verdictJS = `(() => {
  const W = window.innerWidth, H = window.innerHeight;
  const out = {cells: 0, hidden: [], tables: [], scrollW: document.documentElement.scrollWidth, innerW: W};
  const px = r => Math.round(r.left) + '..' + Math.round(r.right);
  for (const td of document.querySelectorAll('td.slo')) {
    out.cells++;
    window.scrollTo(window.scrollX, td.getBoundingClientRect().top + window.scrollY - H / 2);
    const r = td.getBoundingClientRect(), wrap = td.closest('.scroll');
    const box = wrap ? wrap.getBoundingClientRect() : {left: 0, right: W};
    const hit = document.elementFromPoint((Math.max(r.left, 0) + Math.min(r.right, W)) / 2, (r.top + r.bottom) / 2);
    if (r.left < 0 || r.right > W || r.left < box.left - 0.5 || r.right > box.right + 0.5 || !hit || !td.contains(hit)) {
      out.hidden.push(JSON.stringify(td.textContent) + ' at ' + px(r) + ' px (table box ' + px(box) + ', at its centre ' + (hit ? hit.tagName + '.' + hit.className : 'nothing') + ')');
    }
  }
  for (const el of document.querySelectorAll('.scroll')) {
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.right > W + 0.5) out.tables.push(el.parentElement.id + ' ' + px(r));
  }
  window.scrollTo(0, 0);
  return out;
})()`

func checkVerdicts(t *testing.T, name string, got verdicts, wantCells bool) {
	t.Helper()
	if wantCells && got.Cells == 0 {
		t.Errorf("%s: no verdict cell found", name)
	}
	for _, h := range got.Hidden {
		t.Errorf("%s at %v px: verdict not visible: %s", name, got.InnerW, h)
	}
	for _, b := range got.Tables {
		t.Errorf("%s at %v px: a table's box reaches past the viewport: %s", name, got.InnerW, b)
	}
	if got.ScrollW > got.InnerW+1 {
		t.Errorf("%s: at %v px the page scrolls sideways to %v px", name, got.InnerW, got.ScrollW)
	}
}
