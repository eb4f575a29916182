package dsl

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// EnvPrefix starts the environment variables that set input variables.
const EnvPrefix = "MRQA_VAR_"

// Where a variable's value came from, as spec.Variable.Source records it.
const (
	sourceDefault  = "default"
	sourceEnv      = "env"
	sourceFile     = "file"
	sourceFlag     = "flag"
	sourceRecorded = "recorded"
)

// variable is a declared input variable.
type variable struct {
	name        string
	typ         cty.Type
	description string
	sensitive   bool
	def         hcl.Range
	value       cty.Value // unmarked; cty.NilVal until assigned
	source      string
	failed      bool // a value was given but was invalid (already reported)
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
}

// decodeVariableBlock decodes variable "NAME" { type, default, description, sensitive }.
func (l *loader) decodeVariableBlock(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b) {
		return
	}
	if prev, ok := l.vars[name]; ok {
		l.duplicate(b, prev.def)
		return
	}
	v := &variable{name: name, typ: cty.DynamicPseudoType, def: b.DefRange}
	l.vars[name] = v
	l.varOrder = append(l.varOrder, name)

	content, diags := b.Body.Content(variableSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	if a, ok := content.Attributes["type"]; ok {
		ty, diags := typeexpr.TypeConstraint(a.Expr)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			v.typ = ty
		}
	}
	if a, ok := content.Attributes["description"]; ok {
		val, diags := a.Expr.Value(nil)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			if val.Type() != cty.String || val.IsNull() {
				l.errorf(a.Expr.Range(), "Invalid description", "A variable's description must be a string literal.")
			} else {
				v.description = val.AsString()
			}
		}
	}
	if a, ok := content.Attributes["sensitive"]; ok {
		val, diags := a.Expr.Value(nil)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			if val.Type() != cty.Bool || val.IsNull() {
				l.errorf(a.Expr.Range(), "Invalid sensitive flag", "sensitive must be true or false, written literally.")
			} else {
				v.sensitive = val.True()
			}
		}
	}
	// A variable a secret-bearing expression refers to holds (part of) a secret.
	v.sensitive = v.sensitive || l.secretInputs.vars[name]
	if a, ok := content.Attributes["default"]; ok && !(l.opts.FromRecording && isPlaceholder(a.Expr)) {
		// Defaults are constants: functions yes, references no. A recorded
		// secret default is no default: the value must be given again.
		val, diags := a.Expr.Value(&hcl.EvalContext{Functions: l.functions(dirOf(a.Expr.Range()))})
		l.diags = append(l.diags, diags...)
		v.failed = v.failed || diags.HasErrors()
		if v.sensitive {
			l.sensitives = append(l.sensitives, a.Expr.Range())
		}
		if !diags.HasErrors() {
			// default = null makes the variable optional, as in Terraform:
			// an attribute set from it takes its own default.
			if val, ok := l.convertVar(v, val, a.Expr.Range()); ok {
				v.value, v.source = val, sourceDefault
			}
		}
	}
}

// convertVar converts val to v's type, reporting a mismatch at rng.
func (l *loader) convertVar(v *variable, val cty.Value, rng hcl.Range) (cty.Value, bool) {
	val, marked := unmarkSensitive(val)
	if marked {
		// A value computed with env() is a secret, so the variable is too.
		v.sensitive = true
		l.sensitive(rng, val)
	}
	out, err := convert.Convert(val, v.typ)
	if err != nil {
		v.failed = true
		l.errorf(rng, "Invalid value for variable",
			"The value for var.%s is not compatible with its type %s: %s.", v.name, typeexpr.TypeString(v.typ), err)
		return cty.NilVal, false
	}
	return out, true
}

// assignVariables applies, lowest precedence first, the environment, the
// recorded values (exec -from), the variable files found beside the
// configuration, the -var-file files and the -var flags, then checks every
// variable has a value.
func (l *loader) assignVariables() {
	l.applyEnv()
	l.applyRecorded()
	for _, s := range l.varSrcs {
		l.applyVarSource(s.Path, s.Text, filepath.Dir(s.Path))
	}
	for _, path := range l.opts.VarFiles {
		l.applyVarFile(path)
	}
	l.applyFlags()
	for _, name := range l.varOrder {
		v := l.vars[name]
		if v.value != cty.NilVal {
			l.addURLSecrets(v.value)
			if v.sensitive {
				l.addSecrets(v.value)
			}
			continue
		}
		if v.failed || l.varFileFailed {
			continue // the value may be in the file that failed: no cascade
		}
		l.errorf(v.def, "No value for required variable",
			"var.%s has no default and was not set. Set it with -var %s=VALUE, in a variable file (*.mrqavars.hcl or -var-file), or with the environment variable %s%s.",
			name, name, EnvPrefix, name)
	}
}

// applyEnv sets variables from MRQA_VAR_name environment variables.
func (l *loader) applyEnv() {
	envNames := make([]string, 0)
	for k := range l.env {
		if strings.HasPrefix(k, EnvPrefix) {
			envNames = append(envNames, k)
		}
	}
	sort.Strings(envNames)
	for _, k := range envNames {
		name := strings.TrimPrefix(k, EnvPrefix)
		v, ok := l.vars[name]
		if !ok {
			continue // the environment is shared; other configurations may use it
		}
		if val, ok := l.rawValue(v, l.env[k], "<environment variable "+k+">"); ok {
			v.value, v.source = val, sourceEnv
		}
	}
}

// applyRecorded sets variables from the values a recording holds. A name
// the configuration does not declare is ignored: the recording lists every
// variable its own text declares.
func (l *loader) applyRecorded() {
	for _, name := range slices.Sorted(maps.Keys(l.opts.Recorded)) {
		v, ok := l.vars[name]
		if !ok {
			continue
		}
		if val, ok := l.rawValue(v, l.opts.Recorded[name], "<recorded value of var."+name+">"); ok {
			v.value, v.source = val, sourceRecorded
		}
	}
}

// applyFlags sets variables from -var flags.
func (l *loader) applyFlags() {
	flagNames := make([]string, 0, len(l.opts.Vars))
	for k := range l.opts.Vars {
		flagNames = append(flagNames, k)
	}
	sort.Strings(flagNames)
	for _, name := range flagNames {
		v, ok := l.vars[name]
		if !ok {
			l.diags = append(l.diags, l.undeclaredFlag(name))
			continue
		}
		if val, ok := l.rawValue(v, l.opts.Vars[name], flagValueFile(name)); ok {
			v.value, v.source = val, sourceFlag
		}
	}
}

// flagValueFile names a -var value where diagnostics place it.
func flagValueFile(name string) string { return "<value for var." + name + ">" }

// undeclaredFlag is the error for a -var that names no variable of the
// configuration: placed on the flag's value like the other -var diagnostics, it
// lists the declared variables by name. It shows no value, neither the
// flag's (a mistyped sensitive variable's would be a secret) nor any
// variable's.
func (l *loader) undeclaredFlag(name string) *hcl.Diagnostic {
	detail := fmt.Sprintf("-var %s=... sets a variable that the configuration does not declare.", name)
	if s := suggest(name, l.varOrder); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	if len(l.varOrder) == 0 {
		detail += " It declares none."
	} else {
		detail += " It declares: " + strings.Join(l.varOrder, ", ") + "."
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Value for undeclared variable",
		Detail:   detail,
		Subject:  &hcl.Range{Filename: flagValueFile(name), Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// rawValue parses text given on the command line or in the environment:
// primitive types take the text as it is; others parse it as an HCL
// expression, as Terraform does.
func (l *loader) rawValue(v *variable, raw, filename string) (cty.Value, bool) {
	rng := hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: len(raw) + 1, Byte: len(raw)}}
	if v.typ.IsPrimitiveType() || v.typ == cty.DynamicPseudoType {
		return l.convertVar(v, cty.StringVal(raw), rng)
	}
	if v.sensitive {
		// Diagnostics about the text must not show it, nor quote it.
		l.secrets[raw] = true
	} else {
		l.extra[filename] = &hcl.File{Bytes: []byte(raw)}
	}
	diags := checkNesting([]byte(raw), filename, true)
	var expr hclsyntax.Expression
	if !diags.HasErrors() {
		expr, diags = hclsyntax.ParseExpression([]byte(raw), filename, hcl.InitialPos)
	}
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		v.failed = true
		return cty.NilVal, false
	}
	val, diags := expr.Value(&hcl.EvalContext{Functions: l.functions(l.baseDir)})
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		v.failed = true
		return cty.NilVal, false
	}
	return l.convertVar(v, val, expr.Range())
}

// parseVarFile parses a -var-file as JSON (by its extension) or HCL, once
// its nesting is known to be safe for the parser.
func (l *loader) parseVarFile(src []byte, path string) (*hcl.File, hcl.Diagnostics) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		if diags := checkJSONNesting(src, path); diags.HasErrors() {
			return nil, diags
		}
		return l.parser.ParseJSON(src, path)
	}
	if diags := checkNesting(src, path, false); diags.HasErrors() {
		return nil, diags
	}
	return l.parser.ParseHCL(src, path)
}

// applyVarFile reads NAME = VALUE lines from a -var-file; file() in its
// values reads from the configuration's directory.
func (l *loader) applyVarFile(path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		l.varFileFailed = true
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read -var-file",
			Detail:   err.Error() + ".",
		})
		return
	}
	l.applyVarSource(path, src, l.baseDir)
}

// applyVarSource applies the NAME = VALUE lines of a variable file, with
// file() reading relative paths from dir, and records the file. The values
// of sensitive and of undeclared names (perhaps a mistyped sensitive one)
// are redacted in the recorded text.
func (l *loader) applyVarSource(path string, src []byte, dir string) {
	l.srcs[path] = src
	l.recorded = append(l.recorded, Source{Path: path, Text: src})
	file, diags := l.parseVarFile(src, path)
	l.diags = append(l.diags, diags...)
	if file == nil || diags.HasErrors() {
		l.varFileFailed = true
		// The broken file may set a sensitive variable: show no lines of it.
		if l.anySensitive() {
			l.hidden[path] = true
		}
		return
	}
	attrs, diags := file.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l.applyVarAttr(path, attrs[name], dir)
	}
}

// applyVarAttr applies one NAME = VALUE line of the variable file at path.
func (l *loader) applyVarAttr(path string, a *hcl.Attribute, dir string) {
	v, ok := l.vars[a.Name]
	if !ok {
		l.sensitives = append(l.sensitives, a.Expr.Range())
		detail := fmt.Sprintf("%s sets %q, which the configuration does not declare; the value is ignored.", path, a.Name)
		if s := suggest(a.Name, l.varOrder); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		l.warnf(a.NameRange, "Value for undeclared variable", "%s", detail)
		return
	}
	if v.sensitive {
		// Its lines hold a secret: diagnostics name positions only.
		l.hidden[path] = true
		l.sensitives = append(l.sensitives, a.Expr.Range())
	}
	val, diags := a.Expr.Value(&hcl.EvalContext{Functions: l.functions(dir)})
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		v.failed = true
		return
	}
	if v.sensitive {
		val = val.Mark(sensitiveMark)
	}
	if val, ok := l.convertVar(v, val, a.Expr.Range()); ok && !val.IsNull() {
		v.value, v.source = val, sourceFile
	}
}

// anySensitive reports whether a declared variable is sensitive.
func (l *loader) anySensitive() bool {
	for _, v := range l.vars {
		if v.sensitive {
			return true
		}
	}
	return false
}

// varObject is the value of var in expressions; sensitive variables carry
// the sensitive mark so whatever they flow into is tracked.
func (l *loader) varObject() cty.Value {
	vals := map[string]cty.Value{}
	for name, v := range l.vars {
		val := v.value
		if val == cty.NilVal {
			val = cty.DynamicVal
		}
		if v.sensitive {
			val = val.Mark(sensitiveMark)
		}
		vals[name] = val
	}
	return cty.ObjectVal(vals)
}

// specVariables renders the variables' final values for results.json.
func (l *loader) specVariables() []spec.Variable {
	var out []spec.Variable
	secrets := l.secretList()
	for _, name := range l.varOrder {
		v := l.vars[name]
		out = append(out, spec.Variable{Name: name, Value: l.recordedValue(v, secrets), Sensitive: v.sensitive, Source: v.source})
	}
	return out
}
