package dsl

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/openai/prompt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Defaults the runtime does not define in spec.
const (
	defaultConnectTimeout    = 10 * time.Second
	defaultFirstTokenTimeout = 5 * time.Minute
	defaultIdleTimeout       = 60 * time.Second
	defaultTotalTimeout      = 30 * time.Minute
	defaultMetricsInterval   = time.Second
	defaultTokenizer         = "cl100k_base"
	defaultDirPattern        = "*.txt"
	defaultSyntheticSeed     = 1
	defaultRounds            = 3
	defaultClock             = spec.ClockReal
)

var targetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "base_url"},
		{Name: "model"},
		{Name: "api"},
		{Name: "api_key"},
		{Name: "headers"},
		{Name: "extra_body"},
		{Name: "down_after"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "timeouts"},
		{Type: "tls"},
		{Type: "metrics"},
		{Type: "between_points"},
		{Type: "simulator"},
	},
}

// singleBlocks returns the blocks of content by type, reporting repeats of
// types that may appear once.
func (l *loader) singleBlocks(content *hcl.BodyContent, types ...string) map[string]*hcl.Block {
	out := map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		if !contains(types, b.Type) {
			continue
		}
		if prev, ok := out[b.Type]; ok {
			l.errorf(b.DefRange, "Duplicate "+b.Type+" block",
				"Only one %s block is allowed here; the first is at %s.", b.Type, prev.DefRange)
			continue
		}
		out[b.Type] = b
	}
	return out
}

// decodeTargetBlock decodes target "NAME" { ... }.
func (l *loader) decodeTargetBlock(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b) {
		return
	}
	if prev, ok := l.targets[name]; ok {
		l.duplicate(b, prev.def)
		return
	}
	t := &spec.Target{
		Name:      name,
		API:       spec.DefaultAPI,
		DownAfter: spec.DefaultDownAfter,
		Timeouts: spec.Timeouts{
			Connect:    defaultConnectTimeout,
			FirstToken: defaultFirstTokenTimeout,
			Idle:       defaultIdleTimeout,
			Total:      defaultTotalTimeout,
		},
	}
	l.targets[name] = &declared[*spec.Target]{t, b.DefRange}

	content, diags := b.Body.Content(targetSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	attrs := content.Attributes
	blocks := l.singleBlocks(content, "timeouts", "tls", "metrics", "between_points", "simulator")

	t.Model = l.stringAttr(attrs["model"], "")
	t.API = l.oneOf(attrs["api"], spec.DefaultAPI, spec.APIChat, spec.APICompletions)
	t.DownAfter = l.intAttr(attrs["down_after"], spec.DefaultDownAfter, 1)
	if a := attrs["api_key"]; a != nil {
		t.APIKey = l.stringAttr(a, "")
		l.sensitive(a.Expr.Range(), cty.StringVal(t.APIKey))
	}
	if a := attrs["headers"]; a != nil {
		t.Headers = l.stringMap(a)
		l.sensitiveHeaders(a, t.Headers)
	}
	t.ExtraBody = l.jsonObject(attrs["extra_body"])

	if sb := blocks["simulator"]; sb != nil {
		t.Simulator = l.decodeSimulatorBlock(sb)
		if a := attrs["base_url"]; a != nil {
			l.errorf(a.NameRange, "Conflicting target settings",
				"target %q has a simulator block, which serves it on an address chosen at run time; remove base_url.", name)
		}
	} else if a := attrs["base_url"]; a != nil {
		t.BaseURL = l.urlAttr(a)
	} else {
		l.errorf(content.MissingItemRange, "Missing base_url",
			"target %q needs base_url (the server's OpenAI-compatible root, e.g. \"http://127.0.0.1:8000/v1\") or a simulator block.", name)
	}
	if tb := blocks["timeouts"]; tb != nil {
		l.decodeTimeoutsBlock(tb, &t.Timeouts)
	}
	if tb := blocks["tls"]; tb != nil {
		t.TLS = l.decodeTLSBlock(tb)
		if t.Simulator != nil {
			l.errorf(tb.DefRange, "Conflicting target settings",
				"target %q has a simulator block, which serves plain HTTP on 127.0.0.1; remove the tls block.", name)
		}
	}
	if mb := blocks["metrics"]; mb != nil {
		t.Metrics = l.decodeMetricsBlock(mb, t)
	}
	if bb := blocks["between_points"]; bb != nil {
		t.Between = l.decodeBetweenPointsBlock(bb)
	}
}

// sensitiveHeaders treats every header value as a secret, redacting only
// the values when the headers are written out as an object.
func (l *loader) sensitiveHeaders(a *hcl.Attribute, headers map[string]string) {
	for _, v := range headers {
		l.secrets[v] = true
	}
	if oc, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			l.sensitives = append(l.sensitives, item.ValueExpr.Range())
		}
		return
	}
	if a.Expr.Range().Filename == l.path {
		l.sensitives = append(l.sensitives, a.Expr.Range())
	}
}

// urlAttr reads an http(s) URL; credentials in it become secrets.
func (l *loader) urlAttr(a *hcl.Attribute) string {
	val, present, _ := l.typed(a, cty.String)
	if !present {
		return ""
	}
	s := val.AsString()
	u, err := url.Parse(s)
	shown := l.shown(s)
	if err == nil && u.User != nil {
		l.secrets[u.User.String()] = true
		if p, ok := u.User.Password(); ok && p != "" {
			l.secrets[p] = true
		}
		shown = fmt.Sprintf("%q", u.Redacted())
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if err != nil {
			shown = "a malformed URL" // url.Parse failed: it may hold anything
		}
		l.errorf(a.Expr.Range(), "Invalid URL",
			"%s must be an http:// or https:// URL with a host, such as \"http://127.0.0.1:8000/v1\", not %s.", a.Name, shown)
	}
	return s
}

var timeoutsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "connect"}, {Name: "first_token"}, {Name: "idle"}, {Name: "total"},
}}

func (l *loader) decodeTimeoutsBlock(b *hcl.Block, t *spec.Timeouts) {
	content, diags := b.Body.Content(timeoutsSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	t.Connect = l.durationAttr(content.Attributes["connect"], t.Connect)
	t.FirstToken = l.durationAttr(content.Attributes["first_token"], t.FirstToken)
	t.Idle = l.durationAttr(content.Attributes["idle"], t.Idle)
	t.Total = l.durationAttr(content.Attributes["total"], t.Total)
}

var tlsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "ca_file"}, {Name: "insecure_skip_verify"}, {Name: "server_name"}, {Name: "cert_file"}, {Name: "key_file"},
}}

// decodeTLSBlock decodes tls { ca_file, insecure_skip_verify, server_name,
// cert_file, key_file }; file paths are relative to the scenario file.
func (l *loader) decodeTLSBlock(b *hcl.Block) *spec.TLS {
	content, diags := b.Body.Content(tlsSchema)
	l.diags = append(l.diags, diags...)
	t := &spec.TLS{}
	if content == nil {
		return t
	}
	attrs := content.Attributes
	t.CAFile = l.pathAttr(attrs["ca_file"])
	t.CertFile = l.pathAttr(attrs["cert_file"])
	t.KeyFile = l.pathAttr(attrs["key_file"])
	t.ServerName = l.stringAttr(attrs["server_name"], "")
	t.InsecureSkipVerify = l.boolAttr(attrs["insecure_skip_verify"], false)
	if (t.CertFile == "") != (t.KeyFile == "") {
		rng := b.DefRange
		for _, a := range []*hcl.Attribute{attrs["cert_file"], attrs["key_file"]} {
			if a != nil {
				rng = a.Range
			}
		}
		l.errorf(rng, "Incomplete client certificate",
			"cert_file (the client certificate) and key_file (its private key) go together: set both, as PEM files, or neither.")
	}
	return t
}

// sameOrigin reports whether two URLs have the same scheme and host.
func sameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && ua.Host != "" && ua.Scheme == ub.Scheme && ua.Host == ub.Host
}

// pathAttr reads a file path, resolved against the scenario file's
// directory; a missing file is a warning, as for other paths.
func (l *loader) pathAttr(a *hcl.Attribute) string {
	p := l.stringAttr(a, "")
	if a == nil || p == "" {
		return ""
	}
	l.warnMissing(a.Expr.Range(), a.Name, p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	return p
}

var metricsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true}, {Name: "interval"}, {Name: "include"}, {Name: "headers"}, {Name: "bearer_token"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "tls"}},
}

// decodeMetricsBlock decodes metrics { url, interval, include, headers,
// bearer_token, tls }; what it leaves out is the target's (tls; headers and
// api_key as the bearer token only when the url is on the target's host).
func (l *loader) decodeMetricsBlock(b *hcl.Block, t *spec.Target) *spec.Metrics {
	content, diags := b.Body.Content(metricsSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return nil
	}
	m := &spec.Metrics{Interval: defaultMetricsInterval, TLS: t.TLS}
	if tb := l.singleBlocks(content, "tls")["tls"]; tb != nil {
		m.TLS = l.decodeTLSBlock(tb)
	}
	if a := content.Attributes["headers"]; a != nil {
		m.Headers = l.stringMap(a)
		l.sensitiveHeaders(a, m.Headers)
	}
	if a := content.Attributes["bearer_token"]; a != nil {
		m.BearerToken = l.stringAttr(a, "")
		l.sensitive(a.Expr.Range(), cty.StringVal(m.BearerToken))
	}
	if a := content.Attributes["url"]; a != nil {
		m.URL = l.urlAttr(a)
	}
	// The target's credentials go only where the target is: another host
	// gets none unless the block names its own.
	if sameOrigin(m.URL, t.BaseURL) {
		if content.Attributes["headers"] == nil {
			m.Headers = t.Headers
		}
		if content.Attributes["bearer_token"] == nil {
			m.BearerToken = t.APIKey
		}
	} else if content.Attributes["headers"] == nil && content.Attributes["bearer_token"] == nil && (t.APIKey != "" || len(t.Headers) > 0) {
		l.warnf(content.Attributes["url"].Expr.Range(), "Metrics on another host",
			"metrics.url is not on target.%s's host, so the target's api_key and headers are not sent with the scrape. If /metrics needs them, set bearer_token or headers in the metrics block.", t.Name)
	}
	if a := content.Attributes["interval"]; a != nil {
		m.Interval = l.durationAttr(a, defaultMetricsInterval)
		if m.Interval == 0 {
			l.errorf(a.Expr.Range(), "Invalid duration", "interval must be longer than zero.")
			m.Interval = defaultMetricsInterval
		}
	}
	m.Include = l.stringList(content.Attributes["include"])
	return m
}

var betweenPointsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "reset_prefix_cache"}, {Name: "cooldown"},
}}

func (l *loader) decodeBetweenPointsBlock(b *hcl.Block) spec.BetweenPoints {
	content, diags := b.Body.Content(betweenPointsSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return spec.BetweenPoints{}
	}
	return spec.BetweenPoints{
		ResetPrefixCache: l.boolAttr(content.Attributes["reset_prefix_cache"], false),
		Cooldown:         l.durationAttr(content.Attributes["cooldown"], 0),
	}
}

var simulatorSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "profile"}, {Name: "clock"},
}}

// decodeSimulatorBlock decodes simulator { profile, clock, ... }: the
// further fields are the ones runtime/sim's schema lists.
func (l *loader) decodeSimulatorBlock(b *hcl.Block) *spec.Simulator {
	before := len(l.diags.Errs())
	content, rest, diags := b.Body.PartialContent(simulatorSchema)
	l.diags = append(l.diags, diags...)
	s := &spec.Simulator{Profile: profile.Default, Clock: defaultClock, Params: map[string]any{}}
	if content == nil {
		return s
	}
	s.Profile = l.oneOf(content.Attributes["profile"], profile.Default, profile.Names()...)
	s.Clock = l.oneOf(content.Attributes["clock"], defaultClock, spec.ClockReal, spec.ClockVirtual)

	attrs, diags := rest.JustAttributes()
	l.diags = append(l.diags, diags...)
	schema := map[string]profile.Param{}
	var names []string
	for _, p := range profile.Schema() {
		schema[p.Name] = p
		names = append(names, p.Name)
	}
	ok := !diags.HasErrors()
	for _, a := range sortedAttrs(attrs) {
		name := a.Name
		p, known := schema[name]
		if !known {
			detail := fmt.Sprintf("The simulator has no field named %q; it takes profile, clock and the fields docs/language.md lists.", name)
			if s := suggest(name, append(names, "profile", "clock")); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			l.errorf(a.NameRange, "Unsupported argument", "%s", detail)
			ok = false
			continue
		}
		var v any
		switch p.Kind {
		case profile.KindNumber:
			val, present, good := l.typed(a, cty.Number)
			if !present {
				ok = ok && good
				continue
			}
			v, _ = val.AsBigFloat().Float64()
		case profile.KindString:
			val, present, good := l.typed(a, cty.String)
			if !present {
				ok = ok && good
				continue
			}
			v = val.AsString()
		case profile.KindBool:
			val, present, good := l.typed(a, cty.Bool)
			if !present {
				ok = ok && good
				continue
			}
			v = val.True()
		case profile.KindDuration:
			val, present, good := l.typed(a, cty.String)
			if !present {
				ok = ok && good
				continue
			}
			d, good := l.parseDuration(val.AsString(), a.Expr.Range(), name)
			if !good {
				ok = false
				continue
			}
			v = d
		}
		s.Params[name] = v
	}
	if ok && len(l.diags.Errs()) == before {
		l.checkSimulator(s, b, attrs)
	}
	return s
}

// checkSimulator lets runtime/sim check ranges and the combination of
// fields, pointing at the field at fault when one alone is.
func (l *loader) checkSimulator(s *spec.Simulator, b *hcl.Block, attrs hcl.Attributes) {
	_, err := profile.Build(s)
	if err == nil {
		return
	}
	blamed := false
	for _, a := range sortedAttrs(attrs) {
		one := &spec.Simulator{Profile: s.Profile, Clock: s.Clock, Params: map[string]any{a.Name: s.Params[a.Name]}}
		if _, err := profile.Build(one); err != nil {
			l.errorf(a.Expr.Range(), "Invalid simulator configuration", "%s.", err)
			blamed = true
		}
	}
	if !blamed {
		l.errorf(b.DefRange, "Invalid simulator configuration", "%s.", err)
	}
}

var corpusSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "tokenizer"},
		{Name: "tokens"},
		{Name: "buckets"},
		{Name: "min_documents"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "source", LabelNames: []string{"kind"}}},
}

// decodeCorpusBlock decodes corpus "NAME" { source "KIND" { ... } ... }.
func (l *loader) decodeCorpusBlock(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b) {
		return
	}
	if prev, ok := l.corpora[name]; ok {
		l.duplicate(b, prev.def)
		return
	}
	c := &spec.Corpus{Name: name, Tokenizer: defaultTokenizer, BaseDir: l.dir}
	l.corpora[name] = &declared[*spec.Corpus]{c, b.DefRange}
	before := len(l.diags.Errs())
	defer func() { l.broken[c] = len(l.diags.Errs()) > before }()

	content, diags := b.Body.Content(corpusSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	attrs := content.Attributes
	c.Tokenizer = l.tokenizerAttr(attrs["tokenizer"])
	c.Tokens = l.intAttr(attrs["tokens"], 0, 0)
	c.Buckets = l.boolAttr(attrs["buckets"], false)
	c.MinDocuments = l.intAttr(attrs["min_documents"], 0, 0)
	if c.Buckets && c.Tokens > 0 {
		l.errorf(attrs["buckets"].Range, "Conflicting corpus settings",
			"tokens cuts every document to one length and buckets cuts each to a power of two; set one of them.")
	}

	var sources []*hcl.Block
	for _, sb := range content.Blocks {
		sources = append(sources, sb)
	}
	switch len(sources) {
	case 0:
		l.errorf(content.MissingItemRange, "Missing source",
			`corpus %q needs one source block: source "gutenberg" { ids = [...] }, source "dir" { path = "..." } or source "synthetic" { documents = N }.`, name)
		return
	case 1:
	default:
		l.errorf(sources[1].DefRange, "Duplicate source block",
			"A corpus takes exactly one source; the first is at %s.", sources[0].DefRange)
	}
	c.Source = l.decodeSourceBlock(sources[0])
	if n := knownDocuments(c); n >= 0 && c.MinDocuments > n {
		l.errorf(attrs["min_documents"].Range, "Too few documents",
			"min_documents = %d, but the source provides %d documents.", c.MinDocuments, n)
	}
}

// warnMissing warns when path, relative to the scenario file's directory,
// does not exist. It is no error: validate may run where the data is not.
func (l *loader) warnMissing(rng hcl.Range, what, path string) {
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	if _, err := os.Stat(p); err != nil {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		l.warnf(rng, "Path not found",
			"%s %q: %s does not exist (a relative path starts at the scenario file's directory). exec and prepare will need it.", what, path, p)
	}
}

// tokenizerAttr reads cl100k_base | o200k_base | hf:PATH | server.
func (l *loader) tokenizerAttr(a *hcl.Attribute) string {
	s := l.stringAttr(a, defaultTokenizer)
	if a == nil {
		return s
	}
	switch {
	case s == "cl100k_base", s == "o200k_base", s == "server":
		return s
	case strings.HasPrefix(s, "hf:") && len(s) > 3:
		l.warnMissing(a.Expr.Range(), "tokenizer", strings.TrimPrefix(s, "hf:"))
		return s
	}
	detail := fmt.Sprintf("tokenizer must be \"cl100k_base\", \"o200k_base\", \"hf:PATH\" (a tokenizer.json) or \"server\", not %s.", l.shown(s))
	if g := suggest(s, []string{"cl100k_base", "o200k_base", "server"}); g != "" {
		detail += fmt.Sprintf(" Did you mean %q?", g)
	}
	l.errorf(a.Expr.Range(), "Invalid tokenizer", "%s", detail)
	return defaultTokenizer
}

var sourceSchemas = map[string]*hcl.BodySchema{
	spec.SourceGutenberg: {Attributes: []hcl.AttributeSchema{
		{Name: "ids", Required: true}, {Name: "mirror"}, {Name: "cache_dir"}, {Name: "strip_boilerplate"},
	}},
	spec.SourceDir: {Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true}, {Name: "pattern"},
	}},
	spec.SourceSynthetic: {Attributes: []hcl.AttributeSchema{
		{Name: "documents", Required: true}, {Name: "seed"},
	}},
}

// decodeSourceBlock decodes source "gutenberg" | "dir" | "synthetic" { ... }.
func (l *loader) decodeSourceBlock(b *hcl.Block) spec.Source {
	kind := b.Labels[0]
	src := spec.Source{Kind: kind}
	schema, ok := sourceSchemas[kind]
	if !ok {
		kinds := []string{spec.SourceGutenberg, spec.SourceDir, spec.SourceSynthetic}
		detail := fmt.Sprintf("A source is %s, not %q.", quoteList(kinds), kind)
		if s := suggest(kind, kinds); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		l.errorf(b.LabelRanges[0], "Unknown source kind", "%s", detail)
		return src
	}
	content, diags := b.Body.Content(schema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return src
	}
	attrs := content.Attributes
	switch kind {
	case spec.SourceGutenberg:
		ids, _ := l.intList(attrs["ids"], 1)
		if attrs["ids"] != nil && ids != nil && len(ids) == 0 {
			l.errorf(attrs["ids"].Expr.Range(), "Empty list", "ids must list at least one Project Gutenberg ebook number.")
		}
		src.IDs = ids
		if a := attrs["mirror"]; a != nil {
			src.Mirror = l.urlAttr(a)
		}
		src.CacheDir = l.stringAttr(attrs["cache_dir"], "")
		src.StripBoilerplate = l.boolAttr(attrs["strip_boilerplate"], true)
	case spec.SourceDir:
		src.Path = l.stringAttr(attrs["path"], "")
		src.Pattern = l.stringAttr(attrs["pattern"], defaultDirPattern)
		if _, err := filepath.Match(src.Pattern, ""); err != nil {
			l.errorf(attrs["pattern"].Expr.Range(), "Invalid pattern", "pattern %q is not a valid file name pattern: %s.", src.Pattern, err)
		}
		if a := attrs["path"]; a != nil && src.Path == "" {
			l.errorf(a.Expr.Range(), "Invalid value", "path must name a directory.")
		} else if a != nil {
			l.warnMissing(a.Expr.Range(), "path", src.Path)
		}
	case spec.SourceSynthetic:
		src.Documents = l.intAttr(attrs["documents"], 0, 1)
		src.Seed = int64(l.intAttr(attrs["seed"], defaultSyntheticSeed, -maxInt))
	}
	return src
}

// knownDocuments is how many documents a corpus provides, when the file
// says (-1 for a directory, known only when it is read).
func knownDocuments(c *spec.Corpus) int {
	switch c.Source.Kind {
	case spec.SourceGutenberg:
		return len(c.Source.IDs)
	case spec.SourceSynthetic:
		return c.Source.Documents
	}
	return -1
}

var scriptSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "opening", Required: true},
	{Name: "questions", Required: true},
	{Name: "system"},
	{Name: "max_tokens"},
	{Name: "temperature"},
	{Name: "completions_template"},
}}

// decodeScriptBlock decodes script "NAME" { opening, questions, ... }.
func (l *loader) decodeScriptBlock(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b) {
		return
	}
	if prev, ok := l.scripts[name]; ok {
		l.duplicate(b, prev.def)
		return
	}
	s := &spec.Script{Name: name, MaxTokens: spec.DefaultMaxTokens}
	l.scripts[name] = &declared[*spec.Script]{s, b.DefRange}
	before := len(l.diags.Errs())
	defer func() { l.broken[s] = len(l.diags.Errs()) > before }()

	content, diags := b.Body.Content(scriptSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	attrs := content.Attributes
	if a := attrs["opening"]; a != nil {
		s.Opening, _ = l.template(a.Expr, "opening")
		if !hasPart(s.Opening, spec.PartDocument) && !l.diags.HasErrors() {
			l.warnf(a.Expr.Range(), "Opening without ${document}",
				"The opening message never includes the session's document, so sessions share no long prefix worth caching. Write ${document} where the text goes.")
		}
	}
	if a := attrs["system"]; a != nil {
		s.System, _ = l.template(a.Expr, "system")
	}
	if a := attrs["questions"]; a != nil {
		s.Questions, _ = l.templateList(a)
	}
	s.MaxTokens = l.intAttr(attrs["max_tokens"], spec.DefaultMaxTokens, 1)
	s.Temperature = l.floatAttr(attrs["temperature"], 0)
	if a := attrs["temperature"]; a != nil && (s.Temperature < 0 || s.Temperature > 2) {
		l.errorf(a.Expr.Range(), "Invalid value", "temperature must be between 0 and 2, not %g.", s.Temperature)
	}
	s.CompletionsTemplate = l.stringAttr(attrs["completions_template"], "")
	if a := attrs["completions_template"]; a != nil && s.CompletionsTemplate != "" {
		if _, err := prompt.Parse(s.CompletionsTemplate); err != nil {
			l.errorf(a.Expr.Range(), "Invalid completions_template", "%s.", err)
		}
	}
}

func hasPart(t spec.Template, k spec.PartKind) bool {
	for _, p := range t {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// sortedAttrs orders attributes as written, so diagnostics come in order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}
