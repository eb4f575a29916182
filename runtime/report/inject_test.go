package report

import (
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// codePayload is a data string in go-echarts' function form: if the option
// encoder treated it as a function, the page would run it.
const codePayload = "__f__" + payloadCode + "__f__"

// payloadCode sets a global and the title; it holds no character HTML or JSON
// escaping would change, so any copy of it in a page is easy to find.
const payloadCode = "(window.mrqaPwned=1,document.title=0)"

// danglingPayload ends in the marker: stripping it would swallow the string's
// closing quote and turn what follows into code.
const danglingPayload = "kind__f__"

// hostileFixture carries the payloads in every data string that reaches a
// chart option: error kinds (series names) and SLO names (tooltips).
func hostileFixture() *results.Results {
	r := vllmFixture()
	for i := range r.Points {
		p := &r.Points[i]
		p.Errors = map[string]int{codePayload: 1, danglingPayload: 2, "http_500": 1}
		for j := range p.SLOs {
			p.SLOs[j].Name = codePayload
		}
	}
	return r
}

// No string from results becomes code: the go-echarts function marker in
// data stays text, whole and in place.
func TestDataNeverBecomesCode(t *testing.T) {
	r := hostileFixture()
	pages := map[string]string{
		"scenario": renderScenario(t, r, Options{}),
		"compare":  renderCompare(t, []*results.Results{r, lmcacheFixture()}, Options{}),
	}
	for name, page := range pages {
		if n, marked := strings.Count(page, payloadCode), strings.Count(page, codePayload); n != marked || n == 0 {
			t.Errorf("%s: the payload's code appears %d times, only %d of them inside its markers", name, n, marked)
		}
		if name == "scenario" && !strings.Contains(page, `"name":"`+codePayload+`"`) {
			t.Errorf("%s: the error kind is not a string in the errors chart", name)
		}
		if name == "scenario" && !strings.Contains(page, `"name":"`+danglingPayload+`"`) {
			t.Errorf("%s: the error kind %q lost its marker or its quote", name, danglingPayload)
		}
	}
}

// mrqa's own functions still become code, exactly as before.
func TestOwnFunctionsBecomeCode(t *testing.T) {
	page := renderScenario(t, vllmFixture(), Options{})
	for _, fn := range []string{`"formatter":function(v){return mrqaDur(Math.pow(10,v));}`, `"renderItem":mrqaEdge`, durAxisLabel} {
		if !strings.Contains(page, fn) {
			t.Errorf("page lacks the function %s", fn)
		}
	}
	for name, page := range map[string]string{"scenario": page, "server metrics": renderScenario(t, lmcacheFixture(), Options{})} {
		if strings.Contains(page, funcMarker) {
			t.Errorf("%s: a function marker survived in a page built from ordinary data", name)
		}
	}
}

// inlineFuncs unquotes whole string values equal to a known function only.
func TestInlineFuncs(t *testing.T) {
	fn := string(jsFunc(durAxisLabel))
	fns := map[string]bool{fn: true}
	for _, tc := range []struct{ name, in, want string }{
		{"known function", `{"f":"` + fn + `"}`, `{"f":` + durAxisLabel + `}`},
		{"unknown function form", `{"f":"__f__alert(1)__f__"}`, `{"f":"__f__alert(1)__f__"}`},
		{"known function after an escaped quote", `{"f":"x\"` + fn + `"}`, `{"f":"x\"` + fn + `"}`},
		{"known function as a key", `{"` + fn + `":1}`, `{"` + fn + `":1}`},
		{"marker at a string's end", `{"a":"k__f__","b":"(alert(1))"}`, `{"a":"k__f__","b":"(alert(1))"}`},
		{"escaped backslash before the quote", `["\\","` + fn + `"]`, `["\\",` + durAxisLabel + `]`},
		{"in an array", `["` + fn + `","` + fn + `"]`, `[` + durAxisLabel + `,` + durAxisLabel + `]`},
	} {
		if got := inlineFuncs(tc.in, fns); got != tc.want {
			t.Errorf("%s: inlineFuncs(%s) = %s, want %s", tc.name, tc.in, got, tc.want)
		}
	}
}
