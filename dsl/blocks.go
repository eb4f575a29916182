package dsl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/openai/prompt"

	"github.com/hashicorp/hcl/v2"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Defaults the runtime does not define in spec.
const (
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
	c := &spec.Corpus{Name: name, Tokenizer: defaultTokenizer, BaseDir: dirOf(b.DefRange)}
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
	sourceBefore := len(l.diags.Errs())
	c.Source = l.decodeSourceBlock(sources[0])
	if len(l.diags.Errs()) > sourceBefore {
		return // the count of documents is not known, so not judged
	}
	if n := knownDocuments(c); n >= 0 && c.MinDocuments > n {
		l.errorf(attrs["min_documents"].Range, "Too few documents",
			"min_documents = %d, but the source provides %d documents.", c.MinDocuments, n)
	}
}

// warnMissing warns when path, relative to the directory of the file that
// names it (at rng), does not exist. It is no error: validate may run where
// the data is not.
func (l *loader) warnMissing(rng hcl.Range, what, path string) {
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(dirOf(rng), p)
	}
	if _, err := os.Stat(p); err != nil {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		l.warnf(rng, "Path not found",
			"%s %q: %s does not exist (a relative path starts at the directory of the file that names it). exec and prepare will need it.", what, path, p)
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
