// Package dsl reads mrqa scenario files (HCL) and turns them into the plain
// specs of runtime/spec: it parses, evaluates variables, locals and
// functions, resolves references between blocks, compiles message templates
// and SLO conditions, and reports every problem as a diagnostic with a
// source range. It also renders those diagnostics, formats files (fmt) and
// summarises a loaded file as a plan (validate). Nothing here runs a sweep;
// runtime never imports this package.
package dsl

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Options are the values given from outside the configuration.
type Options struct {
	// Vars are -var name=value flags: raw text, parsed per the variable's
	// type (strings as they are, numbers and bools converted, other types as
	// HCL expressions).
	Vars map[string]string
	// VarFiles are -var-file paths, applied in order (later files win),
	// after the variable files found beside the configuration.
	VarFiles []string
	// Env is the process environment (os.Environ()): MRQA_VAR_name values
	// and what env() reads.
	Env []string
	// Version is the running mrqa's version as `mrqa version` prints it,
	// checked against an mrqa block's required_version. A build without a
	// release version ("devel", "", a pseudo-version no tag precedes)
	// checks nothing and warns.
	Version string
	// Shard is the part of the sweep this run executes (exec -shard I/N);
	// the zero value is the whole sweep. Expressions read it as shard.index
	// and shard.count, so each shard can name its own replica.
	Shard Shard

	// Recorded are variable values a recording holds (exec -from), raw
	// text as for Vars. They apply after the environment and before the
	// variable files and Vars, with the source "recorded".
	Recorded map[string]string
	// FromRecording says the sources are texts a recording holds, in which
	// secrets read (sensitive): a variable's default so replaced counts as
	// absent (the value must be given), and any other place so replaced,
	// outside comments, is an error there, since the secret cannot be
	// restored. file() refuses a recorded text so replaced too.
	FromRecording bool
	// ReadFile, when set, is what file() reads instead of the disk (exec
	// -from reads the recording's copies); nil reads the disk.
	ReadFile func(path string) ([]byte, error)
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

// Loaded is the outcome of a load: the spec when there were no errors,
// every diagnostic, and the source files the diagnostics point into.
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

// Load reads, evaluates and checks the configuration at path: a scenario
// file, or a directory (see LoadFiles).
func Load(path string, opts Options) *Loaded {
	return LoadFiles([]string{path}, opts)
}

// LoadSource is Load for one file already in memory; path names it in
// diagnostics and anchors relative paths (file(), corpus directories).
func LoadSource(path string, src []byte, opts Options) *Loaded {
	return LoadSources([]Source{{Path: path, Text: src}}, opts)
}

// LoadFiles reads one configuration: one directory (every .hcl file
// directly in it, in name order) or one or more files. Variable files
// (*.mrqavars.hcl) in the directory, or beside the files, are applied as
// -var-files before opts.VarFiles. spec.File.Path is the paths joined by
// spaces.
func LoadFiles(paths []string, opts Options) *Loaded {
	srcs, diags := readConfiguration(paths)
	if !diags.HasErrors() {
		diags = checkSources(srcs)
	}
	if diags.HasErrors() {
		return &Loaded{Diags: diags, Files: map[string]*hcl.File{}}
	}
	return loadSources(strings.Join(paths, " "), srcs, opts)
}

// LoadSources loads a configuration already in memory, as LoadFiles would
// the same files: a Source whose path ends in .mrqavars.hcl is a variable
// file, any other a configuration file, each in the order given; paths name
// the files in diagnostics and anchor their relative paths. spec.File.Path
// is the configuration files' paths joined by spaces.
func LoadSources(srcs []Source, opts Options) *Loaded {
	if diags := checkSources(srcs); diags.HasErrors() {
		return &Loaded{Diags: diags, Files: map[string]*hcl.File{}}
	}
	var names []string
	for _, s := range srcs {
		if !isVarFile(s.Path) {
			names = append(names, s.Path)
		}
	}
	return loadSources(strings.Join(names, " "), srcs, opts)
}

// loadSources loads the sources as one configuration labelled label.
func loadSources(label string, srcs []Source, opts Options) *Loaded {
	l := newLoader(label, srcs, opts)
	f := l.load()
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

// loader holds the state of one load.
type loader struct {
	label    string
	configs  []Source          // the configuration files, in order
	varSrcs  []Source          // the variable files found beside them, in order
	srcs     map[string][]byte // every file read, by path
	recorded []Source          // the variable files applied, in order, for spec.File.Files
	inputs   []Source          // the files file() read, in order, for spec.File.Files
	baseDir  string            // the first configuration file's directory: -var and -var-file values start there
	opts     Options
	env      map[string]string
	parser   *hclparse.Parser
	extra    map[string]*hcl.File // -var values parsed as expressions
	hidden   map[string]bool      // files whose lines may hold secrets: no snippets
	diags    hcl.Diagnostics

	vars      map[string]*variable
	varOrder  []string
	localDefs map[string]*hcl.Attribute
	values    map[string]cty.Value // evaluated locals
	ctx       *hcl.EvalContext
	dirCtx    map[string]*hcl.EvalContext // ctx with file() relative to another directory

	targets   map[string]*declared[*spec.Target]
	corpora   map[string]*declared[*spec.Corpus]
	scripts   map[string]*declared[*spec.Script]
	scenarios map[string]hcl.Range

	// broken holds blocks whose decoding failed, so checks that use them
	// stay quiet instead of repeating the error.
	broken map[any]bool

	varFileFailed bool // a variable file could not be read or parsed

	secrets    map[string]bool
	sensitives []hcl.Range // ranges in the configuration's files to redact
	// sensitiveExprs are the expressions at some of those ranges, which
	// the recording may keep as written (see recordable).
	sensitiveExprs map[hcl.Range]hcl.Expression
	// secretInputs are the variables and locals secret-bearing expressions
	// refer to: sensitive whether declared so or not.
	secretInputs secretInputs
}

// declared is a decoded block with where it was declared, for references.
type declared[T any] struct {
	val T
	def hcl.Range
}

func newLoader(label string, srcs []Source, opts Options) *loader {
	env := map[string]string{}
	for _, kv := range opts.Env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	l := &loader{
		label:     label,
		srcs:      map[string][]byte{},
		opts:      opts,
		env:       env,
		parser:    hclparse.NewParser(),
		extra:     map[string]*hcl.File{},
		hidden:    map[string]bool{},
		vars:      map[string]*variable{},
		localDefs: map[string]*hcl.Attribute{},
		values:    map[string]cty.Value{},
		dirCtx:    map[string]*hcl.EvalContext{},
		targets:   map[string]*declared[*spec.Target]{},
		corpora:   map[string]*declared[*spec.Corpus]{},
		scripts:   map[string]*declared[*spec.Script]{},
		scenarios: map[string]hcl.Range{},
		secrets:   map[string]bool{},
		broken:    map[any]bool{},

		sensitiveExprs: map[hcl.Range]hcl.Expression{},
	}
	for _, s := range srcs {
		l.srcs[s.Path] = s.Text
		if isVarFile(s.Path) {
			l.varSrcs = append(l.varSrcs, s)
		} else {
			l.configs = append(l.configs, s)
		}
	}
	sortVarFiles(l.varSrcs)
	l.baseDir = filepath.Dir(l.configs[0].Path)
	return l
}

// fileSchema is the top level of a scenario file.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "mrqa"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "target", LabelNames: []string{"name"}},
		{Type: "corpus", LabelNames: []string{"name"}},
		{Type: "script", LabelNames: []string{"name"}},
		{Type: "scenario", LabelNames: []string{"name"}},
	},
}

// load parses every configuration file, checks the mrqa version first,
// then decodes the blocks of all files as one configuration.
func (l *loader) load() *spec.File {
	f := &spec.File{Path: l.label, SHA256: configurationDigest(l.configs)}
	files, parseDiags := l.parseConfigs()
	vc := findVersionCheck(files)
	if d, refused := vc.judge(l.opts.Version); refused {
		// A configuration for another mrqa may fail here in any way: its
		// requirement is the one thing worth saying.
		l.diags = hcl.Diagnostics{d}
		return f
	} else if d != nil {
		l.diags = append(l.diags, d)
	}
	l.diags = append(l.diags, parseDiags...)
	l.diags = append(l.diags, vc.diags...)
	f.RequiredVersion = vc.text
	if parseDiags.HasErrors() {
		// Decoding a partial parse only adds noise to the syntax errors.
		return f
	}
	if l.opts.FromRecording {
		// Decoding a text with secrets missing only adds noise to where they are.
		if diags := l.unrestorable(files); diags.HasErrors() {
			l.diags = append(l.diags, diags...)
			return f
		}
	}
	blocks, ok := l.topLevelBlocks(files)
	if !ok {
		return f
	}
	f.Scenarios = l.decodeBlocks(blocks)
	if len(f.Scenarios) == 0 && !l.diags.HasErrors() {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No scenario",
			Detail:   `A configuration needs at least one scenario "NAME" { ... } block.`,
			Subject:  rangeOf(files[len(files)-1].Body.MissingItemRange()),
		})
	}
	f.Variables = l.specVariables()
	f.Secrets = l.secretList()
	l.record(f)
	return f
}

// parseConfigs parses each configuration file, once its nesting is known to
// be safe for the parser; a file that cannot be parsed is nil.
func (l *loader) parseConfigs() ([]*hcl.File, hcl.Diagnostics) {
	files := make([]*hcl.File, len(l.configs))
	var all hcl.Diagnostics
	for i, s := range l.configs {
		if diags := checkNesting(s.Text, s.Path, false); diags.HasErrors() {
			all = append(all, diags...)
			continue
		}
		file, diags := l.parser.ParseHCL(s.Text, s.Path)
		all = append(all, diags...)
		files[i] = file
	}
	return files, all
}

// topLevelBlocks returns the blocks of every file, file by file, checked
// against the top-level schema.
func (l *loader) topLevelBlocks(files []*hcl.File) (hcl.Blocks, bool) {
	var blocks hcl.Blocks
	ok := true
	for _, file := range files {
		if _, isSyntax := file.Body.(*hclsyntax.Body); !isSyntax {
			ok = false
			continue
		}
		content, diags := file.Body.Content(fileSchema)
		l.diags = append(l.diags, withoutMrqaLabel(diags)...)
		if content == nil {
			ok = false
			continue
		}
		blocks = append(blocks, content.Blocks...)
	}
	return blocks, ok
}

// withoutMrqaLabel drops the schema's diagnostic for a labelled mrqa
// block: the version check reports that mistake once already, saying how
// to write the block.
func withoutMrqaLabel(diags hcl.Diagnostics) hcl.Diagnostics {
	out := diags[:0:0]
	for _, d := range diags {
		if d.Summary != mrqaLabelSummary {
			out = append(out, d)
		}
	}
	return out
}

// decodeBlocks decodes the configuration's blocks in dependency order and
// returns its scenarios in file order.
func (l *loader) decodeBlocks(blocks hcl.Blocks) []*spec.Scenario {
	// Variables and locals first: every other block may use them.
	l.secretInputs = findSecretInputs(blocks)
	var localsBlocks []*hcl.Block
	for _, b := range blocks {
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
	for _, b := range blocks {
		switch b.Type {
		case "target":
			l.decodeTargetBlock(b)
		case "corpus":
			l.decodeCorpusBlock(b)
		case "script":
			l.decodeScriptBlock(b)
		}
	}
	var scenarios []*spec.Scenario
	for _, b := range blocks {
		if b.Type == "scenario" {
			if sc := l.decodeScenarioBlock(b); sc != nil {
				scenarios = append(scenarios, sc)
			}
		}
	}
	l.checkOutputDirs(scenarios)
	return scenarios
}

// record lists every file of the configuration in f, each redacted: the
// configuration files, then the variable files applied, then the files
// file() read (whose text a secret may appear in, never an expression). With one
// configuration file, f.Redacted is its text.
func (l *loader) record(f *spec.File) {
	add := func(s Source, role string) {
		f.Files = append(f.Files, spec.SourceFile{
			Path:     s.Path,
			SHA256:   sha256Hex(s.Text),
			Redacted: redact(s.Text, l.redactedRanges(s.Path), f.Secrets),
			Role:     role,
		})
	}
	for _, s := range l.configs {
		add(s, spec.RoleConfiguration)
	}
	for _, s := range l.recorded {
		add(s, spec.RoleVariables)
	}
	for _, s := range l.inputs {
		add(s, spec.RoleInput)
	}
	if len(l.configs) == 1 {
		f.Redacted = f.Files[0].Redacted
	}
}

// rangesIn returns the ranges that lie in the file named path.
func rangesIn(ranges []hcl.Range, path string) []hcl.Range {
	var out []hcl.Range
	for _, r := range ranges {
		if r.Filename == path {
			out = append(out, r)
		}
	}
	return out
}

// dirOf is the directory relative paths written in the file of rng start
// from.
func dirOf(rng hcl.Range) string { return filepath.Dir(rng.Filename) }

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
	article, scope := "A", "a configuration"
	if b.Type == "slo" {
		// SLO names are per scenario: two scenarios may each have slo "ttft".
		article, scope = "An", "a scenario"
	}
	l.errorf(b.LabelRanges[0], fmt.Sprintf("Duplicate %s %q", b.Type, b.Labels[0]),
		"%s %s named %q was already declared at %s. Names must be unique within %s.", article, b.Type, b.Labels[0], where(first), scope)
}
