// Package report renders a sweep's results: a self-contained HTML page per
// scenario (out/<scenario>/report.html), a comparison page for several
// scenarios (out/compare.html) and the terminal summary printed after a run.
//
// Pages embed the pinned echarts library (assets/, see assets/VERSIONS) and
// every chart option inline, so they open with no network. Chart options are
// built with go-echarts' types; the page itself is this package's template,
// because go-echarts' own page templates load echarts from a remote host.
// Output is a pure function of the results and Options, so it can be tested
// against golden files.
package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// Options controls rendering details that do not come from the results.
type Options struct {
	// Now, when non-zero, is printed as the time the page was rendered. Leave
	// it zero for reproducible output; the run's own start time is always shown.
	Now time.Time
	// Version overrides the tool version printed on the page (default: the
	// version recorded in the results).
	Version string
	// Secrets are values that must never appear in a page (sensitive
	// variables, api keys, header values). Results should not contain them;
	// they are scrubbed from the rendered page anyway, as a last line of
	// defence. Values shorter than MinSecretLen are ignored: replacing them
	// would mangle the markup, and such short values are not credentials.
	Secrets []string
	// Measured, when set, is a measured run of the same scenario, shown
	// point by point beside this (predicted) run's.
	Measured *results.Results
	// Labels name the comparison page's results, one each (the folders
	// they were read from); a label stands for a result whose scenario
	// name another result shares. Nil names such results by their target.
	Labels []string
}

// MinSecretLen is the shortest secret Options.Secrets scrubs.
const MinSecretLen = 4

// Redacted is what a scrubbed secret reads as, as in results.json.
const Redacted = "(sensitive)"

//go:embed assets/echarts.min.js
var echartsJS string

//go:embed page.tmpl
var pageTmpl string

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

// libMarker stands in for the echarts library while the page is scrubbed of
// secrets, so the scrub can never alter the library itself.
const libMarker = "/*@mrqa:echarts.min.js@*/"

// EChartsVersion is the version of the embedded echarts library.
const EChartsVersion = "5.6.0"

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"join": strings.Join,
	"wbr":  wbr,
}).Parse(pageTmpl))

// page is what the template renders; both page kinds use it.
type page struct {
	Kind     string // "scenario" or "compare"
	Title    string
	CSS      template.CSS
	Lib      template.JS
	JS       template.JS
	Scenario *scenarioView
	Compare  *compareView
	Charts   []chartView
	Footer   string
}

// chartView is one chart container and the option that fills it.
type chartView struct {
	ID     string
	Title  string
	Note   string
	Height int // px
	Option template.JS
	Class  string
	// Empty, when set, replaces the chart: one sentence saying why there
	// is nothing to draw. Such a chart is never handed to the library.
	Empty string
}

// Write renders the report page of one scenario's results.
func Write(w io.Writer, r *results.Results, opts Options) error {
	if r == nil {
		return fmt.Errorf("report: no results")
	}
	sv, charts, err := buildScenario(r)
	if err != nil {
		return fmt.Errorf("report %s: %w", r.Scenario, err)
	}
	if opts.Measured != nil {
		sv.Versus = buildVersus(r, opts.Measured)
	}
	p := &page{
		Kind:     "scenario",
		Title:    "mrqa · " + r.Scenario,
		Scenario: sv,
		Charts:   charts,
		Footer:   footer(r.ToolVersion, opts),
	}
	return render(w, p, opts)
}

// WriteCompare renders the comparison page of several scenarios' results.
// The first results are the baseline the others' ratios are given against.
func WriteCompare(w io.Writer, rs []*results.Results, opts Options) error {
	if len(rs) == 0 {
		return fmt.Errorf("report: compare: no results")
	}
	for i, r := range rs {
		if r == nil {
			return fmt.Errorf("report: compare: results %d missing", i+1)
		}
	}
	cv, charts, err := buildCompare(rs, opts.Labels)
	if err != nil {
		return fmt.Errorf("report: compare: %w", err)
	}
	p := &page{
		Kind:    "compare",
		Title:   "mrqa · comparison",
		Compare: cv,
		Charts:  charts,
		Footer:  footer(rs[0].ToolVersion, opts),
	}
	return render(w, p, opts)
}

func footer(recorded string, opts Options) string {
	v := opts.Version
	if v == "" {
		v = recorded
	}
	if v == "" {
		v = "(unknown version)"
	}
	s := "mrqa " + v + " · echarts " + EChartsVersion + " embedded"
	if !opts.Now.IsZero() {
		s += " · rendered " + opts.Now.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return s
}

func render(w io.Writer, p *page, opts Options) error {
	p.Charts = drawn(p.Charts)
	p.CSS = template.CSS(pageCSS)
	p.JS = template.JS(pageJS)
	p.Lib = template.JS(libMarker)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	out := scrub(buf.String(), opts.Secrets)
	out = strings.Replace(out, libMarker, echartsJS, 1)
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// drawn are the charts with something to draw.
func drawn(cs []chartView) []chartView {
	var out []chartView
	for _, c := range cs {
		if c.Empty == "" {
			out = append(out, c)
		}
	}
	return out
}

// scrub replaces every secret, and the forms HTML and JS escaping give it,
// with Redacted. A "secret" that is a number or a JavaScript literal (a
// header such as x-cache: true) is skipped: the page's own code and data
// hold such words, and replacing them would break the charts. The data
// itself reaches the page already redacted; this scrub is the last line of
// defence for real secrets, which are never bare numbers or literals.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) < MinSecretLen || codeWord(sec) {
			continue
		}
		forms := []string{sec, html.EscapeString(sec), template.HTMLEscapeString(sec),
			template.JSEscapeString(sec), url.QueryEscape(sec), url.PathEscape(sec)}
		// As it appears inside chart options (JSON, HTML left unescaped).
		var jb bytes.Buffer
		enc := json.NewEncoder(&jb)
		enc.SetEscapeHTML(false)
		if enc.Encode(sec) == nil {
			forms = append(forms, strings.TrimSuffix(strings.TrimSpace(jb.String()), `"`)[1:])
		}
		slices.Sort(forms)
		forms = slices.Compact(forms)
		// Longest first so a form containing another is replaced whole.
		slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
		for _, f := range forms {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}

// codeWord reports whether s is a number or a JavaScript literal.
func codeWord(s string) bool {
	switch s {
	case "true", "false", "null", "undefined", "NaN", "Infinity":
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// safeURL drops any credentials from a URL, in case results carried one.
func safeURL(s string) string {
	if strings.HasPrefix(s, "(sensitive)") {
		return s // a sensitive URL's digest: nothing of the URL to remove
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	return u.String()
}
