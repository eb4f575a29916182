// Package dsl reads mrqa scenario files (HCL) and turns them into the plain
// specs of runtime/spec: it parses, evaluates variables, locals and
// functions, resolves references between blocks, compiles message templates
// and SLO conditions, and reports every problem as a diagnostic with a
// source range. It also renders those diagnostics, formats files (fmt) and
// summarises a loaded file as a plan (validate). Nothing here runs a sweep;
// runtime never imports this package.
package dsl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Options are the values given from outside the file.
type Options struct {
	// Vars are -var name=value flags: raw text, parsed per the variable's
	// type (strings as they are, numbers and bools converted, other types as
	// HCL expressions).
	Vars map[string]string
	// VarFiles are -var-file paths, applied in order (later files win).
	VarFiles []string
	// Env is the process environment (os.Environ()): MRQA_VAR_name values
	// and what env() reads.
	Env []string
	// Shard is the part of the sweep this run executes (exec -shard I/N);
	// the zero value is the whole sweep. Expressions read it as shard.index
	// and shard.count, so each shard can name its own replica.
	Shard Shard
}

// Shard is one of Count disjoint parts of a sweep, numbered from 0.
// Count 0 means unsharded and reads as index 0 of 1.
type Shard struct {
	Index, Count int
}

// value is the shard object expressions read.
func (s Shard) value() cty.Value {
	count := s.Count
	if count == 0 {
		count = 1
	}
	return cty.ObjectVal(map[string]cty.Value{
		"index": cty.NumberIntVal(int64(s.Index)),
		"count": cty.NumberIntVal(int64(count)),
	})
}

// Loaded is the outcome of Load: the spec when there were no errors, every
// diagnostic, and the source files the diagnostics point into.
type Loaded struct {
	File  *spec.File // nil when Diags has errors
	Diags hcl.Diagnostics
	// Files maps file names to parsed files, for WriteDiagnostics' snippets.
	Files map[string]*hcl.File

	hidden hidden // what Loaded.WriteDiagnostics keeps out of snippets
}

// WriteDiagnostics prints the diagnostics, without colour, with
// file:line:column and a source snippet for each (see the package-level
// WriteDiagnostics, which can colour them).
func (l *Loaded) WriteDiagnostics(w io.Writer) error {
	return writeDiagnostics(w, l.Files, l.Diags, false, l.hidden)
}

// Load reads, evaluates and checks the scenario file at path.
func Load(path string, opts Options) *Loaded {
	src, err := os.ReadFile(path)
	if err != nil {
		return &Loaded{Diags: hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read scenario file",
			Detail:   err.Error(),
		}}, Files: map[string]*hcl.File{}}
	}
	return LoadSource(path, src, opts)
}

// LoadSource is Load for a file already in memory; path names it in
// diagnostics and anchors relative paths (file(), corpus directories).
func LoadSource(path string, src []byte, opts Options) *Loaded {
	l := newLoader(path, opts)
	f := l.load(src)
	files := l.parser.Files()
	for name, file := range l.extra {
		files[name] = file
	}
	for name := range l.hidden {
		delete(files, name)
	}
	secrets := l.secretList()
	// Messages may quote a value: a function's argument, a condition's text.
	for _, d := range l.diags {
		d.Summary = scrub(d.Summary, secrets)
		d.Detail = scrub(d.Detail, secrets)
	}
	ranges := append([]hcl.Range(nil), l.sensitives...)
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].Start.Byte < ranges[j].Start.Byte })
	out := &Loaded{Diags: l.diags, Files: files, hidden: hidden{secrets, ranges}}
	if !l.diags.HasErrors() {
		out.File = f
	}
	return out
}

// loader holds the state of one Load.
type loader struct {
	path   string
	dir    string // the scenario file's directory
	opts   Options
	env    map[string]string
	parser *hclparse.Parser
	extra  map[string]*hcl.File // -var values parsed as expressions
	hidden map[string]bool      // files whose lines may hold secrets: no snippets
	src    []byte
	diags  hcl.Diagnostics

	vars      map[string]*variable
	varOrder  []string
	localDefs map[string]*hcl.Attribute
	values    map[string]cty.Value // evaluated locals
	ctx       *hcl.EvalContext

	targets   map[string]*declared[*spec.Target]
	corpora   map[string]*declared[*spec.Corpus]
	scripts   map[string]*declared[*spec.Script]
	scenarios map[string]hcl.Range

	// broken holds blocks whose decoding failed, so checks that use them
	// stay quiet instead of repeating the error.
	broken map[any]bool

	varFileFailed bool // a -var-file could not be read or parsed

	secrets    map[string]bool
	sensitives []hcl.Range // ranges in the scenario file to redact
}

// declared is a decoded block with where it was declared, for references.
type declared[T any] struct {
	val T
	def hcl.Range
}

func newLoader(path string, opts Options) *loader {
	env := map[string]string{}
	for _, kv := range opts.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return &loader{
		path:      path,
		dir:       filepath.Dir(path),
		opts:      opts,
		env:       env,
		parser:    hclparse.NewParser(),
		extra:     map[string]*hcl.File{},
		hidden:    map[string]bool{},
		vars:      map[string]*variable{},
		localDefs: map[string]*hcl.Attribute{},
		values:    map[string]cty.Value{},
		targets:   map[string]*declared[*spec.Target]{},
		corpora:   map[string]*declared[*spec.Corpus]{},
		scripts:   map[string]*declared[*spec.Script]{},
		scenarios: map[string]hcl.Range{},
		secrets:   map[string]bool{},
		broken:    map[any]bool{},
	}
}

// fileSchema is the top level of a scenario file.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "target", LabelNames: []string{"name"}},
		{Type: "corpus", LabelNames: []string{"name"}},
		{Type: "script", LabelNames: []string{"name"}},
		{Type: "scenario", LabelNames: []string{"name"}},
	},
}

func (l *loader) load(src []byte) *spec.File {
	l.src = src
	sum := sha256.Sum256(src)
	f := &spec.File{Path: l.path, SHA256: hex.EncodeToString(sum[:])}

	if diags := checkNesting(src, l.path, false); diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return f
	}
	file, diags := l.parser.ParseHCL(src, l.path)
	l.diags = append(l.diags, diags...)
	if file == nil || file.Body == nil || diags.HasErrors() {
		// Decoding a partial parse only adds noise to the syntax errors.
		return f
	}
	if _, ok := file.Body.(*hclsyntax.Body); !ok {
		return f
	}
	content, diags := file.Body.Content(fileSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() && content == nil {
		return f
	}

	// Variables and locals first: every other block may use them.
	var localsBlocks []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			l.decodeVariableBlock(b)
		case "locals":
			localsBlocks = append(localsBlocks, b)
		}
	}
	l.assignVariables()
	l.ctx = l.evalContext()
	l.decodeLocals(localsBlocks)

	// Targets, corpora and scripts before scenarios, which refer to them.
	for _, b := range content.Blocks {
		switch b.Type {
		case "target":
			l.decodeTargetBlock(b)
		case "corpus":
			l.decodeCorpusBlock(b)
		case "script":
			l.decodeScriptBlock(b)
		}
	}
	for _, b := range content.Blocks {
		if b.Type == "scenario" {
			if sc := l.decodeScenarioBlock(b); sc != nil {
				f.Scenarios = append(f.Scenarios, sc)
			}
		}
	}
	l.checkOutputDirs(f.Scenarios)
	if len(f.Scenarios) == 0 && !l.diags.HasErrors() {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No scenario",
			Detail:   `A scenario file needs at least one scenario "NAME" { ... } block.`,
			Subject:  rangeOf(file.Body.MissingItemRange()),
		})
	}

	f.Variables = l.specVariables()
	f.Secrets = l.secretList()
	f.Redacted = redact(src, l.sensitives, f.Secrets)
	return f
}

// secretList returns the secrets found so far, sorted.
func (l *loader) secretList() []string {
	var out []string
	for s := range l.secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// rangeOf returns a pointer to a copy of r, for Diagnostic.Subject.
func rangeOf(r hcl.Range) *hcl.Range { return &r }

func (l *loader) errorf(subject hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rangeOf(subject),
	})
}

func (l *loader) warnf(subject hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rangeOf(subject),
	})
}

// checkName reports a block label that cannot be used in a reference.
func (l *loader) checkName(b *hcl.Block) bool {
	name := b.Labels[0]
	if !hclsyntax.ValidIdentifier(name) {
		l.errorf(b.LabelRanges[0], "Invalid name",
			"%q is not a valid %s name: use letters, digits, underscores and dashes, starting with a letter or underscore.", name, b.Type)
		return false
	}
	return true
}

// duplicate reports a second declaration of a name.
func (l *loader) duplicate(b *hcl.Block, first hcl.Range) {
	article, scope := "A", "a file"
	if b.Type == "slo" {
		// SLO names are per scenario: two scenarios may each have slo "ttft".
		article, scope = "An", "a scenario"
	}
	l.errorf(b.LabelRanges[0], fmt.Sprintf("Duplicate %s %q", b.Type, b.Labels[0]),
		"%s %s named %q was already declared at %s. Names must be unique within %s.", article, b.Type, b.Labels[0], first, scope)
}
