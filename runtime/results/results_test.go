package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/internal/msgcheck"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
)

var update = flag.Bool("update", false, "rewrite the LMBenchmark fixture files under testdata")

// filler sets every field of a value to a distinct non-zero value, so a
// "fully populated" Results stays fully populated when fields are added.
// Values are chosen to survive a JSON round trip exactly: durations are whole
// milliseconds, floats are multiples of 1/8, times are UTC without a
// monotonic reading.
type filler struct{ n int }

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	outcomeType  = reflect.TypeFor[metrics.Outcome]()
)

func (f *filler) fill(v reflect.Value, name string) {
	f.n++
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, f.n*1000, time.UTC)))
		return
	case v.Type() == durationType:
		v.SetInt(int64(time.Duration(f.n) * time.Millisecond))
		return
	case v.Type() == outcomeType:
		v.SetString(string([]metrics.Outcome{metrics.Pass, metrics.Fail, metrics.NoData}[f.n%3]))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), v.Type().Field(i).Name)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), name)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		f.fill(v.Index(0), name)
		f.fill(v.Index(1), name)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			f.fill(v.Index(i), name)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k := reflect.New(v.Type().Key()).Elem()
		f.fill(k, name)
		e := reflect.New(v.Type().Elem()).Elem()
		f.fill(e, name)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", strings.ToLower(name), f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(f.n))
	case reflect.Float64:
		v.SetFloat(float64(f.n) / 8)
	default:
		panic(fmt.Sprintf("filler: unhandled kind %s of %s", v.Kind(), name))
	}
}

// fullResults is a Results with every field, at every depth, set.
func fullResults(t *testing.T) *Results {
	t.Helper()
	var r Results
	(&filler{}).fill(reflect.ValueOf(&r).Elem(), "results")
	r.SchemaVersion = SchemaVersion // Load refuses any other
	// Values the schema constrains to a set.
	r.File.Role = "configuration"
	for i := range r.Files {
		r.Files[i].Role = "variables"
	}
	for i := range r.ServerSeries.Kinds {
		r.ServerSeries.Kinds[i] = promscrape.KindHistogram
	}
	// +Inf, as a failed steady turn makes ttft percentiles.
	for i := range r.Points {
		m := &r.Points[i].Metrics
		m.TTFTP99, m.TTFTMax, m.TTFCMax = metrics.Inf, metrics.Inf, metrics.Inf
		r.Points[i].CDF[1] = metrics.Seconds(math.Inf(1))
		r.Points[i].Turns[0].TTFTP95 = metrics.Seconds(math.Inf(1))
	}
	return &r
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := fullResults(t)
	if err := Save(dir, r); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Points[0].Metrics.TTFTMax; got != metrics.Inf {
		t.Errorf("ttft_max after load = %v, want Inf", got)
	}
	if got := back.Points[1].CDF[1]; !math.IsInf(float64(got), 1) {
		t.Errorf("ttft_cdf[1] after load = %v, want +Inf", got)
	}
	if !bytes.Contains(first, []byte(`"ttft_max": "+Inf"`)) {
		t.Errorf(`results.json has no "ttft_max": "+Inf"`)
	}
	dir2 := t.TempDir()
	if err := Save(dir2, back); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(filepath.Join(dir2, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("marshal → load → marshal changed the bytes:\n%s", firstDiff(first, second))
	}
	if !bytes.HasSuffix(first, []byte("}\n")) {
		t.Errorf("results.json does not end in a newline")
	}
}

func firstDiff(a, b []byte) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			lo := max(0, i-80)
			return fmt.Sprintf("at byte %d:\n  first:  %q\n  second: %q", i, a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"other schema version", `{"schema_version": 2}`, "schema version 2"},
		{"not json", `{"schema_version": `, "results.json"},
		{"bad seconds", `{"schema_version": 1, "points": [{"metrics": {"ttft_p95": "-Inf"}}]}`, `field ttft_p95: "-Inf" is not a number of seconds`},
		{"text for seconds", `{"schema_version": 1, "points": [{"metrics": {"ttft_p95": "abc"}}]}`, `field ttft_p95: "abc" is not a number of seconds`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error mentioning %q", err, tc.want)
			}
			if r := msgcheck.Repeated(err.Error()); r != "" {
				t.Errorf("%q repeats itself: %s", r, err)
			}
		})
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of an empty directory = %v, want ErrNotExist", err)
	}
}

// listDir names every entry of dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileAtomic(t *testing.T) {
	t.Run("new file in a new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		path := filepath.Join(dir, "results.json")
		if err := WriteFile(path, []byte("one\n")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != "one\n" {
			t.Errorf("content %q", b)
		}
		if got := listDir(t, dir); !slices.Equal(got, []string{"results.json"}) {
			t.Errorf("directory holds %v, want only results.json (no temporary files)", got)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, %v; want 0644", fi.Mode().Perm(), err)
		}
	})
	t.Run("existing file replaced whole", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.json")
		long := bytes.Repeat([]byte("x"), 1<<16)
		for _, content := range [][]byte{long, []byte("short"), {}, []byte("final")} {
			if err := WriteFile(path, content); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, content) {
				t.Fatalf("after writing %d bytes the file holds %d", len(content), len(b))
			}
		}
		if got := listDir(t, dir); !slices.Equal(got, []string{"f.json"}) {
			t.Errorf("directory holds %v", got)
		}
	})
	t.Run("readers see one version or the other", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f")
		a, b := bytes.Repeat([]byte("a"), 1<<18), bytes.Repeat([]byte("b"), 1<<17)
		if err := WriteFile(path, a); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		var bad []string
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					bad = append(bad, fmt.Sprintf("read %d bytes, err %v", len(got), err))
					return
				}
			}
		}()
		for i := 0; i < 40; i++ {
			if err := WriteFile(path, [][]byte{a, b}[i%2]); err != nil {
				t.Error(err)
				break
			}
		}
		close(done)
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("a reader saw a partial file: %v", bad)
		}
	})
	t.Run("unwritable directory keeps the old file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "results.json")
		if err := WriteFile(path, []byte("old")); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		// Root ignores directory permissions: find out for real.
		if f, err := os.CreateTemp(dir, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Skipf("permissions do not bite here (euid %d): cannot test an unwritable directory", os.Geteuid())
		}
		err := WriteFile(path, []byte("new"))
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("WriteFile into an unwritable directory = %v, want an error naming %s", err, path)
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Errorf("old file now holds %q", b)
		}
		if got := listDir(t, dir); !slices.Equal(got, []string{"results.json"}) {
			t.Errorf("directory holds %v", got)
		}
	})
	t.Run("failed rename leaves no temporary file", func(t *testing.T) {
		// A directory where the file should go: the rename fails after the
		// temporary file was written, and it must be cleaned up.
		dir := t.TempDir()
		path := filepath.Join(dir, "results.json")
		if err := os.MkdirAll(filepath.Join(path, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, []byte("data")); err == nil {
			t.Fatal("WriteFile over a non-empty directory succeeded")
		}
		if got := listDir(t, dir); !slices.Equal(got, []string{"results.json"}) {
			t.Errorf("directory holds %v, want only the directory in the way", got)
		}
	})
}

func TestRecordsRoundTrip(t *testing.T) {
	recs := []metrics.Record{
		{ID: "mrqa-1-c1s1-0", Worker: 0, Slot: 0, Session: "c1s1", Document: "2701", Turn: 0,
			Start: 0.001, Connect: 0.0005, Write: 0.002, TTFT: 0.25, TTFC: 0.375, End: 1.5, Duration: 1.625,
			PromptTokens: 131072, CompletionTokens: 512, CachedTokens: 0, ClientCounted: true, Chunks: 500, MaxChunkGap: 0.0625},
		{ID: "mrqa-1-c1s1-1", Session: "c1s1", Document: "2701", Turn: 1, Start: 1.7, Duration: 300,
			Error: metrics.ErrTimeoutFirstToken, Message: "no first token in 5m0s"},
		{ID: "mrqa-1-c2s1-0", Worker: 1, Session: "c2s1", Document: "1342", Start: 0.002, Duration: 0.01,
			Error: "http_503", Message: `{"error": "overloaded \"now\"\n"}`},
	}
	path := filepath.Join(t.TempDir(), RecordsPath(2, 1))
	if err := WriteRecords(path, recs); err != nil {
		t.Fatal(err)
	}
	if filepath.ToSlash(RecordsPath(2, 1)) != "points/c2_s1.jsonl" {
		t.Errorf("RecordsPath(2, 1) = %s", RecordsPath(2, 1))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte("\n")); n != len(recs) {
		t.Errorf("%d lines for %d records", n, len(recs))
	}
	got, err := ReadRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Errorf("round trip changed the records:\n got %+v\nwant %+v", got, recs)
	}

	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := WriteRecords(empty, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRecords(empty); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v, %v", got, err)
	}
	broken := filepath.Join(t.TempDir(), "broken.jsonl")
	os.WriteFile(broken, append(raw, []byte("{\"id\": 3,\n")...), 0o644)
	if _, err := ReadRecords(broken); err == nil || !strings.Contains(err.Error(), "record 4") {
		t.Errorf("ReadRecords of a broken 4th line = %v, want an error naming record 4", err)
	}
}

// --- schema -----------------------------------------------------------------

// schemaChecker validates a decoded JSON value against the subset of JSON
// Schema that docs/results.schema.json uses: $ref into $defs, type, const,
// enum, anyOf, properties, required, additionalProperties, items, minItems,
// maxItems. Annotations (description, format, minimum) are not checked.
type schemaChecker struct {
	root map[string]any
	errs []string
	// seen records, per object schema location, the properties that
	// occurred, to find declared properties the code never writes.
	seen map[string]map[string]bool
}

func (c *schemaChecker) errorf(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

func (c *schemaChecker) resolve(s map[string]any, loc string) (map[string]any, string) {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s, loc
		}
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		def, found := c.root["$defs"].(map[string]any)[name].(map[string]any)
		if !ok || !found {
			c.errorf(loc, "unresolvable $ref %q", ref)
			return map[string]any{}, loc
		}
		s, loc = def, ref
	}
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func typeOK(want any, got string) bool {
	var names []string
	switch w := want.(type) {
	case string:
		names = []string{w}
	case []any:
		for _, n := range w {
			names = append(names, n.(string))
		}
	}
	for _, n := range names {
		if n == got || n == "number" && got == "integer" {
			return true
		}
	}
	return false
}

func (c *schemaChecker) check(s map[string]any, loc string, v any, path string) {
	s, loc = c.resolve(s, loc)
	if want, ok := s["type"]; ok && !typeOK(want, jsonType(v)) {
		c.errorf(path, "type %s, schema (%s) wants %v", jsonType(v), loc, want)
		return
	}
	if want, ok := s["const"]; ok && fmt.Sprint(want) != fmt.Sprint(v) {
		c.errorf(path, "%v is not the const %v", v, want)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		c.errorf(path, "%v is not one of %v", v, enum)
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		matched := false
		for i, alt := range anyOf {
			sub := &schemaChecker{root: c.root, seen: c.seen}
			sub.check(alt.(map[string]any), fmt.Sprintf("%s/anyOf/%d", loc, i), v, path)
			if len(sub.errs) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			c.errorf(path, "%v matches no alternative of %s", v, loc)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if props != nil && c.seen[loc] == nil {
			c.seen[loc] = map[string]bool{}
		}
		for _, req := range asStrings(s["required"]) {
			if _, ok := v[req]; !ok {
				c.errorf(path, "required key %q missing (%s)", req, loc)
			}
		}
		for k, sub := range v {
			if ps, ok := props[k].(map[string]any); ok {
				c.seen[loc][k] = true
				c.check(ps, loc+"/properties/"+k, sub, path+"."+k)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					c.errorf(path, "key %q is not declared in %s", k, loc)
				}
			case map[string]any:
				c.check(ap, loc+"/additionalProperties", sub, path+"."+k)
			}
		}
	case []any:
		if n, ok := s["minItems"].(json.Number); ok && jsonInt(n) > len(v) {
			c.errorf(path, "%d items, minItems %s", len(v), n)
		}
		if n, ok := s["maxItems"].(json.Number); ok && jsonInt(n) < len(v) {
			c.errorf(path, "%d items, maxItems %s", len(v), n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range v {
				c.check(items, loc+"/items", e, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
}

func jsonInt(n json.Number) int { i, _ := strconv.Atoi(string(n)); return i }

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			out = append(out, e.(string))
		}
	}
	return out
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "results.schema.json"))
	if err != nil {
		t.Fatalf("the JSON Schema must live in docs/: %v", err)
	}
	s, ok := decodeJSON(t, b).(map[string]any)
	if !ok || s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("docs/results.schema.json is not a draft 2020-12 schema")
	}
	return s
}

// allObjectSchemas lists the location of every schema with properties, so
// the test can demand that each is exercised.
func allObjectSchemas(root map[string]any) map[string][]string {
	out := map[string][]string{}
	var walk func(s map[string]any, loc string)
	walk = func(s map[string]any, loc string) {
		if props, ok := s["properties"].(map[string]any); ok {
			for k, p := range props {
				out[loc] = append(out[loc], k)
				walk(p.(map[string]any), loc+"/properties/"+k)
			}
		}
		for _, key := range []string{"items", "additionalProperties"} {
			if sub, ok := s[key].(map[string]any); ok {
				walk(sub, loc+"/"+key)
			}
		}
	}
	walk(root, "#")
	for name, d := range root["$defs"].(map[string]any) {
		walk(d.(map[string]any), "#/$defs/"+name)
	}
	return out
}

func TestSchemaMatchesResults(t *testing.T) {
	schema := loadSchema(t)
	var buf bytes.Buffer
	dir := t.TempDir()
	if err := Save(dir, fullResults(t)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(b)
	c := &schemaChecker{root: schema, seen: map[string]map[string]bool{}}
	c.check(schema, "#", decodeJSON(t, buf.Bytes()), "$")
	// The scrape series lives beside results.json; its schema is a $def.
	series, err := os.ReadFile(filepath.Join(dir, SeriesFile))
	if err != nil {
		t.Fatal(err)
	}
	defs, _ := schema["$defs"].(map[string]any)
	seriesSchema, _ := defs["server_series"].(map[string]any)
	if seriesSchema == nil {
		t.Fatal("schema has no $defs/server_series for " + SeriesFile)
	}
	c.check(seriesSchema, "#/$defs/server_series", decodeJSON(t, series), "$"+SeriesFile)
	for _, e := range c.errs {
		t.Error(e)
	}
	// Every property the schema declares must appear in a fully populated
	// Results: otherwise the schema documents a key the code never writes.
	for loc, props := range allObjectSchemas(schema) {
		sort.Strings(props)
		for _, p := range props {
			if !c.seen[loc][p] {
				t.Errorf("schema %s declares %q, which a fully populated results.json does not contain", loc, p)
			}
		}
	}
}

// TestSchemaAcceptsSparseResults checks the schema against what mrqa writes
// for thin results: nothing optional set, and what ReadLMBench builds (no
// sessions, no CDF, no file).
func TestSchemaAcceptsSparseResults(t *testing.T) {
	schema := loadSchema(t)
	lm, err := ReadLMBench(filepath.Join("testdata", "lmbench-later"))
	if err != nil {
		t.Fatal(err)
	}
	sparse := &Results{SchemaVersion: SchemaVersion, Tool: "mrqa", Points: []Point{}, SLOs: []SLO{{Name: "ttft", Condition: "ttft_p95 <= 2s"}}}
	for name, r := range map[string]*Results{"sparse": sparse, "lmbench": lm} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			c := &schemaChecker{root: schema, seen: map[string]map[string]bool{}}
			c.check(schema, "#", decodeJSON(t, b), "$")
			for _, e := range c.errs {
				t.Error(e)
			}
		})
	}
	// The checker itself must reject what the schema forbids.
	bad := map[string]string{
		"unknown key":      `{"schema_version":1,"bogus":1}`,
		"wrong type":       `{"schema_version":1,"rounds":"3"}`,
		"negative seconds": `{"schema_version":1,"points":[{"metrics":{"ttft_p95":"-Inf"}}]}`,
		"other version":    `{"schema_version":2}`,
	}
	for name, doc := range bad {
		c := &schemaChecker{root: schema, seen: map[string]map[string]bool{}}
		c.check(schema, "#", decodeJSON(t, []byte(doc)), "$")
		// Missing required keys are expected in these snippets; look for
		// the specific complaint beyond those.
		other := 0
		for _, e := range c.errs {
			if !strings.Contains(e, "required key") {
				other++
			}
		}
		if other == 0 {
			t.Errorf("%s: the schema accepted %s", name, doc)
		}
	}
}

// --- LMBenchmark ------------------------------------------------------------

func f64(v float64) *float64 { return &v }

// lmPoint is a point of two sessions, rounds = 2, whose records hold every
// case WriteLMBench must translate.
func lmRecords() []metrics.Record {
	return []metrics.Record{
		// c1s1: the opening turn, then a reasoning answer (first token before
		// first content), then a timeout.
		{Session: "c1s1", Document: "d1", Turn: 0, TTFT: 3.0, TTFC: 3.0, End: 4, Duration: 4.5, PromptTokens: 1000, CompletionTokens: 10},
		{Session: "c1s1", Document: "d1", Turn: 1, TTFT: 0.1, TTFC: 0.4, End: 1, Duration: 1.25, PromptTokens: 1020, CompletionTokens: 8, CachedTokens: 1000},
		{Session: "c1s1", Document: "d1", Turn: 2, Duration: 300, Error: metrics.ErrTimeoutFirstToken},
		// c1s2
		{Session: "c1s2", Document: "d2", Turn: 0, TTFT: 2.5, TTFC: 2.5, End: 3, Duration: 3.5, PromptTokens: 900, CompletionTokens: 10},
		{Session: "c1s2", Document: "d2", Turn: 1, TTFT: 0.2, TTFC: 0.2, End: 0.5, Duration: 0.75, PromptTokens: 920, CompletionTokens: 4},
		{Session: "c1s2", Document: "d2", Turn: 2, TTFT: 0.3, TTFC: 0.3, End: 0.5, Duration: 0.625, PromptTokens: 940, CompletionTokens: 4},
	}
}

func lmResults() *Results {
	return &Results{
		Rounds: 2,
		Target: Target{Model: "m", BaseURL: "http://127.0.0.1:8000/v1"},
		Corpus: Corpus{Name: "novels"},
		Script: Script{MaxTokens: 512},
	}
}

func TestWriteLMBenchFormat(t *testing.T) {
	dir := t.TempDir()
	pt := &Point{Concurrent: 1, Sequential: 2, Sessions: []SessionDocument{{Session: "c1s1", Document: "d1"}, {Session: "c1s2", Document: "d2"}}}
	if err := WriteLMBench(dir, lmResults(), pt, lmRecords()); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"bench_c1_s2.json"}) {
		t.Fatalf("lmbench dir holds %v", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "bench_c1_s2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Params  map[string]any   `json:"params"`
		Results []map[string]any `json:"results"`
		Src     []string         `json:"src"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	wantParams := []string{"answer_len", "base_url", "model", "num_rounds", "num_users_concurrent", "num_users_sequential", "output", "src_dir"}
	if got := sortedKeys(raw.Params); !slices.Equal(got, wantParams) {
		t.Errorf("params keys %v, want the seed's %v", got, wantParams)
	}
	for k, want := range map[string]any{"num_users_concurrent": 1.0, "num_users_sequential": 2.0, "num_rounds": 2.0, "model": "m",
		"base_url": "http://127.0.0.1:8000/v1", "src_dir": "novels", "answer_len": 512.0} {
		if raw.Params[k] != want {
			t.Errorf("params.%s = %v, want %v", k, raw.Params[k], want)
		}
	}
	if out, _ := raw.Params["output"].(string); !strings.HasSuffix(out, "/bench_c1_s2.json") {
		t.Errorf("params.output = %q", out)
	}
	if !slices.Equal(raw.Src, []string{"d1", "d2"}) {
		t.Errorf("src = %v", raw.Src)
	}
	wantKeys := []string{"completion_tokens", "generation_time", "latency", "prompt_tokens", "session_id", "status", "ttft", "turn"}
	if len(raw.Results) != 6 {
		t.Fatalf("%d results, want 6", len(raw.Results))
	}
	// Expected per request: ttft = time to first CONTENT; generation_time =
	// latency − ttft; null ttft and the error kind for the failed request.
	want := []struct {
		ttft, gen, lat any
		status         string
	}{
		{3.0, 1.5, 4.5, "success"},
		{0.4, 0.85, 1.25, "success"}, // content at 0.4 s, not the reasoning token at 0.1 s
		{nil, 0.0, 300.0, metrics.ErrTimeoutFirstToken},
		{2.5, 1.0, 3.5, "success"},
		{0.2, 0.55, 0.75, "success"},
		{0.3, 0.325, 0.625, "success"},
	}
	for i, res := range raw.Results {
		if got := sortedKeys(res); !slices.Equal(got, wantKeys) {
			t.Errorf("result %d keys %v, want %v", i, got, wantKeys)
		}
		w := want[i]
		if !approx(res["ttft"], w.ttft) || !approx(res["generation_time"], w.gen) || !approx(res["latency"], w.lat) || res["status"] != w.status {
			t.Errorf("result %d = ttft %v gen %v latency %v status %v; want %v %v %v %v", i,
				res["ttft"], res["generation_time"], res["latency"], res["status"], w.ttft, w.gen, w.lat, w.status)
		}
	}
	if raw.Results[1]["session_id"] != "c1s1" || raw.Results[1]["turn"] != 1.0 || raw.Results[1]["prompt_tokens"] != 1020.0 || raw.Results[1]["completion_tokens"] != 8.0 {
		t.Errorf("result 1 = %v", raw.Results[1])
	}
}

func approx(got, want any) bool {
	if want == nil || got == nil {
		return want == got
	}
	g, ok1 := got.(float64)
	w, ok2 := want.(float64)
	return ok1 && ok2 && math.Abs(g-w) < 1e-9
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestLMBenchRoundTrip writes two points the way exec -lmbench does and reads
// the directory back as mrqa report does.
func TestLMBenchRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := lmResults()
	slow := lmRecords()
	for i := range slow {
		if slow[i].OK() && slow[i].Turn > 0 {
			slow[i].TTFC += 3 // pushes the steady p95 past 2 s
			slow[i].TTFT += 3
		}
	}
	points := map[[2]int][]metrics.Record{{1, 2}: lmRecords(), {2, 1}: slow}
	for cs, recs := range points {
		pt := &Point{Concurrent: cs[0], Sequential: cs[1]}
		if err := WriteLMBench(dir, r, pt, recs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadLMBench(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !IsLMBenchDir(dir) {
		t.Error("IsLMBenchDir = false for a directory WriteLMBench wrote")
	}
	if len(got.Points) != 2 {
		t.Fatalf("%d points read back, want 2", len(got.Points))
	}
	for _, p := range got.Points {
		recs := points[[2]int{p.Concurrent, p.Sequential}]
		// The source's ttft is time to first content: compare against the
		// records' TTFC, failed requests left out (nulls skipped).
		var steady []time.Duration
		for _, rec := range recs {
			if rec.Turn > 0 && rec.OK() {
				steady = append(steady, time.Duration(math.Round(rec.TTFC*1e9)))
			}
		}
		want, _ := metrics.Summarize(steady)
		for name, pair := range map[string][2]time.Duration{
			"p50": {p.Metrics.TTFTOKP50, want.P50}, "p95": {p.Metrics.TTFTOKP95, want.P95},
			"min": {p.Metrics.TTFTOKMin, want.Min}, "max": {p.Metrics.TTFTOKMax, want.Max},
		} {
			if d := math.Abs(pair[0].Seconds() - pair[1].Seconds()); d > 1e-9 {
				t.Errorf("C=%d S=%d ttft_ok_%s = %v, written %v", p.Concurrent, p.Sequential, name, pair[0], pair[1])
			}
		}
		if p.Metrics.Errors != 1 || p.Metrics.Requests != 6 {
			t.Errorf("C=%d S=%d: %d errors in %d requests, want 1 in 6", p.Concurrent, p.Sequential, p.Metrics.Errors, p.Metrics.Requests)
		}
	}
	// By hand, C=1 S=2: steady content TTFTs 0.4, 0.2, 0.3 (the timeout
	// skipped) → sorted 0.2 0.3 0.4, pos 0.95×2 = 1.9 → 0.3 + 0.9×0.1 = 0.39 s.
	if p95 := got.Points[0].Metrics.TTFTOKP95.Seconds(); math.Abs(p95-0.39) > 1e-9 {
		t.Errorf("C=1 S=2 ttft_ok_p95 = %v, want 0.39 by hand", p95)
	}
	// C=2 S=1: 3.2 3.3 3.4 → 3.39 s > 2 s: fails. Best is C=1 S=2.
	if got.Points[1].Passed || !got.Points[0].Passed {
		t.Errorf("passed = %v, %v; want true, false", got.Points[0].Passed, got.Points[1].Passed)
	}
	if got.Best == nil || got.Best.Concurrent != 1 || got.Best.Sequential != 2 || got.Best.Sessions != 2 {
		t.Errorf("best = %+v, want C=1 S=2", got.Best)
	}
	if got.Target.Model != "m" || got.Rounds != 2 || got.Script.MaxTokens != 512 {
		t.Errorf("params not carried: %+v rounds %d", got.Target, got.Rounds)
	}
}

// TestReadLMBenchLaterFormats reads the source's later layouts: C and S
// named concurrent and session_depth, base_url without /v1, uuid session
// ids, no null ttfts, and keys this reader does not know. Each directory is
// one run: its files share every fixed parameter.
func TestReadLMBenchLaterFormats(t *testing.T) {
	cases := []struct {
		dir     string
		baseURL string
		// per (C, S): the steady ttft p95, computed by hand below
		p95  map[[2]int]float64
		best [2]int
	}{
		{"lmbench-later", "http://localhost:8000/v1",
			// c1_s1: 0.5 0.7 → pos .95 → .5+.95×.2 = .69
			// c1_s2: 1.0 1.2 2.0 2.8 → pos 2.85 → 2.0+.85×.8 = 2.68 (fails)
			// c2_s1: 0.4 0.5 0.6 0.9 → pos 2.85 → .6+.85×.3 = .855
			map[[2]int]float64{{1, 1}: 0.69, {1, 2}: 2.68, {2, 1}: 0.855}, [2]int{2, 1}},
		{"lmbench-later-nov1", "http://localhost:8000",
			// c1_s1: 0.3 alone
			// c2_s2: 1.5 1.9 1.1 1.6 → sorted 1.1 1.5 1.6 1.9, pos 2.85 → 1.6+.85×.3 = 1.855
			map[[2]int]float64{{1, 1}: 0.3, {2, 2}: 1.855}, [2]int{2, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", tc.dir)
			if !IsLMBenchDir(dir) {
				t.Fatal("IsLMBenchDir = false")
			}
			r, err := ReadLMBench(dir)
			if err != nil {
				t.Fatal(err)
			}
			if r.Target.BaseURL != tc.baseURL {
				t.Errorf("base_url %q, want %q", r.Target.BaseURL, tc.baseURL)
			}
			if len(r.Points) != len(tc.p95) {
				t.Fatalf("%d points, want %d", len(r.Points), len(tc.p95))
			}
			for _, p := range r.Points {
				want, ok := tc.p95[[2]int{p.Concurrent, p.Sequential}]
				if !ok {
					t.Errorf("unexpected point C=%d S=%d", p.Concurrent, p.Sequential)
					continue
				}
				if got := p.Metrics.TTFTOKP95.Seconds(); math.Abs(got-want) > 1e-9 {
					t.Errorf("C=%d S=%d ttft p95 = %.9f, want %.9f", p.Concurrent, p.Sequential, got, want)
				}
			}
			if r.Best == nil || r.Best.Concurrent != tc.best[0] || r.Best.Sequential != tc.best[1] {
				t.Errorf("best = %+v, want C=%d S=%d", r.Best, tc.best[0], tc.best[1])
			}
		})
	}
	if _, err := ReadLMBench(t.TempDir()); err == nil {
		t.Error("ReadLMBench of an empty directory succeeded")
	}
}

// The seed README's published ttft_95 tables (plot.py output), by (C, S).
var (
	seedVLLM = map[[2]int]float64{
		{4, 2}: 0.498404, {4, 4}: 33.565437, {4, 3}: 0.794144, {1, 4}: 0.311046,
		{2, 2}: 0.406148, {2, 4}: 0.459704, {2, 3}: 0.326396, {1, 2}: 0.411317,
		{3, 3}: 0.378674, {2, 1}: 0.445499, {3, 4}: 42.531053, {1, 3}: 0.455651,
		{4, 1}: 0.504505, {3, 2}: 0.393902, {3, 1}: 0.364927, {1, 1}: 0.379049,
	}
	seedLMCache = map[[2]int]float64{
		{1, 1}: 0.524989, {3, 2}: 0.592148, {4, 4}: 1.202544, {3, 4}: 1.286755,
		{2, 1}: 0.477370, {3, 3}: 0.586793, {2, 3}: 0.627655, {4, 1}: 0.575724,
		{4, 3}: 1.251918, {2, 4}: 0.446477, {1, 4}: 0.460711, {3, 1}: 0.495073,
		{1, 3}: 0.329389, {4, 2}: 0.586223, {1, 2}: 0.477946, {2, 2}: 0.457463,
	}
)

// seedRun builds one run file, in the seed's format, whose pooled turn ≥ 1
// ttft p95 is exactly v. One session of num_rounds = 3 gives three steady
// ttfts; numpy's linear p95 of three sorted values x0 ≤ x1 ≤ x2 sits at
// position 0.95 × 2 = 1.9, i.e. x1 + 0.9 × (x2 − x1). With x1 = v − 0.09 and
// x2 = v + 0.01 that is v − 0.09 + 0.9 × 0.1 = v exactly; x0 = x1 / 2. The
// opening turn's ttft (60 s) would dominate the p95 if it were not dropped.
// E.g. C=4 S=3, v = 0.794144: 0.352072 0.704144 0.804144 → 0.794144.
func seedRun(c, s int, v float64) LMBench {
	x1, x2 := v-0.09, v+0.01
	ttfts := []float64{60, x2, x1 / 2, x1} // turns 0..3, unsorted on purpose
	run := LMBench{
		Params: LMBenchParams{NumUsersConcurrent: c, NumUsersSequential: s, NumRounds: 3,
			Model: "Qwen/Qwen2.5-7B-Instruct-1M", BaseURL: "http://localhost:8000/v1", SrcDir: "./data/128k",
			AnswerLen: 512, Output: fmt.Sprintf("bench_dir/bench_c%d_s%d_1717000000.json", c, s)},
		Src: []string{"2701.txt", "1342.txt"},
	}
	for turn, x := range ttfts {
		x = math.Round(x*1e6) / 1e6 // the table's microsecond precision, as written
		run.Results = append(run.Results, LMBenchResult{
			SessionID: "6f1c2d7e-0b1a-4c55-9d0e-3a8f5e1b2c4d", Turn: turn, Latency: x + 5, TTFT: f64(x),
			GenerationTime: 5, PromptTokens: 131072 + 600*turn, CompletionTokens: 512, Status: "success",
		})
	}
	return run
}

func TestSeedTables(t *testing.T) {
	cases := []struct {
		dir    string
		table  map[[2]int]float64
		best   [2]int
		passed int
	}{
		// vLLM: C=4 S=4 (33.6 s) and C=3 S=4 (42.5 s) fail; of the rest the
		// largest C×S is 12 (C=4 S=3 and C=3 S=4, the latter failing).
		{"lmbench-seed-vllm", seedVLLM, [2]int{4, 3}, 14},
		// LMCache: every point is under 2 s; the largest is C=4 S=4 = 16.
		{"lmbench-seed-lmcache", seedLMCache, [2]int{4, 4}, 16},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", tc.dir)
			for cs, v := range tc.table {
				b, err := json.MarshalIndent(seedRun(cs[0], cs[1], v), "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				b = append(b, '\n')
				path := filepath.Join(dir, fmt.Sprintf("bench_c%d_s%d_1717000000.json", cs[0], cs[1]))
				if *update {
					if err := WriteFile(path, b); err != nil {
						t.Fatal(err)
					}
				}
				if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, b) {
					t.Errorf("%s is stale or missing (%v); rerun with -update", path, err)
				}
			}
			r, err := ReadLMBench(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Points) != 16 {
				t.Fatalf("%d points, want 16", len(r.Points))
			}
			for _, p := range r.Points {
				want := tc.table[[2]int{p.Concurrent, p.Sequential}]
				if got := p.Metrics.TTFTOKP95.Seconds(); math.Abs(got-want) > 1e-9 {
					t.Errorf("C=%d S=%d ttft_95 = %.9f, the seed's table says %.6f", p.Concurrent, p.Sequential, got, want)
				}
				if p.Passed != (want <= 2) {
					t.Errorf("C=%d S=%d passed = %v at %.6f s", p.Concurrent, p.Sequential, p.Passed, want)
				}
			}
			if r.Best == nil || r.Best.Concurrent != tc.best[0] || r.Best.Sequential != tc.best[1] || r.Best.Sessions != tc.best[0]*tc.best[1] {
				t.Errorf("best = %+v, want C=%d S=%d", r.Best, tc.best[0], tc.best[1])
			}
			if r.Sweep.MaxSessions != tc.best[0]*tc.best[1] || r.Sweep.PointsPassed != tc.passed || r.Sweep.PointsRun != 16 {
				t.Errorf("sweep = %+v", r.Sweep)
			}
			if r.SLOs[0].Condition != LMBenchSLO {
				t.Errorf("SLO %q", r.SLOs[0].Condition)
			}
		})
	}
}
