package metrics

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Scope says which names a condition may read.
type Scope int

// Condition scopes.
const (
	ScopePoint Scope = iota // an slo: the names of Point
	ScopeSweep              // expect: the names of Sweep
)

// Outcome is the result of evaluating a condition.
type Outcome string

// Outcomes. NoData counts as failing.
const (
	Pass   Outcome = "pass"
	Fail   Outcome = "fail"
	NoData Outcome = "no_data"
)

// Passed reports whether the outcome is a pass.
func (o Outcome) Passed() bool { return o == Pass }

// Condition is a compiled SLO or expect expression.
type Condition struct {
	Text  string   // as written
	Reads []string // metric names the expression reads, sorted
	scope Scope
	prog  *vm.Program
}

// CompileError locates a problem in a condition's text.
type CompileError struct {
	Offset int // byte offset into the condition's text
	Msg    string
}

func (e *CompileError) Error() string { return e.Msg }

// durationLit matches Go-style duration literals such as 2s, 500ms, 1m30s, 250us.
var durationLit = regexp.MustCompile(`\b[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h)(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))*\b`)

// Compile parses and type-checks text against the names of scope. Duration
// literals outside string literals are rewritten to duration("…") first.
func Compile(text string, scope Scope) (*Condition, error) {
	rewritten, mapOffset := rewriteDurations(text)
	var env any = Point{}
	if scope == ScopeSweep {
		env = Sweep{}
	}
	reads := map[string]bool{}
	prog, err := expr.Compile(rewritten, expr.Env(env), expr.AsBool(), expr.Patch(&readRecorder{reads: reads}))
	if err != nil {
		off := 0
		msg := err.Error()
		if fe, ok := err.(interface{ Bytes() []byte }); ok {
			_ = fe
		}
		if pe, ok := asFileError(err); ok {
			off = mapOffset(pe.offset)
			msg = pe.msg
		}
		return nil, &CompileError{Offset: off, Msg: msg}
	}
	c := &Condition{Text: text, scope: scope, prog: prog}
	for name := range reads {
		c.Reads = append(c.Reads, name)
	}
	sort.Strings(c.Reads)
	return c, nil
}

// Eval evaluates the condition. For a point, any read metric without data
// makes the outcome NoData, whatever the expression.
func (c *Condition) Eval(env any) Outcome {
	if p, ok := env.(*Point); ok {
		for _, name := range c.Reads {
			if p.NoData[name] {
				return NoData
			}
		}
		env = *p
	}
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return Fail
	}
	if b, ok := out.(bool); ok && b {
		return Pass
	}
	return Fail
}

type readRecorder struct{ reads map[string]bool }

func (r *readRecorder) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok {
		r.reads[id.Value] = true
	}
}

type fileError struct {
	offset int
	msg    string
}

// asFileError extracts the position of an expr compile error.
func asFileError(err error) (fileError, bool) {
	type located interface{ error }
	var fe interface {
		error
	}
	fe = err
	// expr's *file.Error carries Line/Column (1-based line, 0-based column) and Message.
	if e, ok := fe.(interface{ Unwrap() error }); ok && e.Unwrap() != nil {
		_ = e
	}
	s := err.Error()
	first := strings.SplitN(s, "\n", 2)[0]
	var col int
	msg := first
	if i := strings.LastIndex(first, "(1:"); i >= 0 {
		if _, scanErr := fmt.Sscanf(first[i:], "(1:%d)", &col); scanErr == nil {
			msg = strings.TrimSpace(first[:i])
			return fileError{offset: col - 1, msg: msg}, true
		}
	}
	return fileError{msg: msg}, true
}

// rewriteDurations replaces duration literals outside string literals with
// duration("…") calls and returns a function mapping an offset in the
// rewritten text back to the original.
func rewriteDurations(text string) (string, func(int) int) {
	type edit struct{ origStart, origEnd, newStart, newEnd int }
	var b strings.Builder
	var edits []edit
	i := 0
	for i < len(text) {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			j := i + 1
			for j < len(text) && text[j] != ch {
				if text[j] == '\\' && ch != '`' {
					j++
				}
				j++
			}
			if j < len(text) {
				j++
			}
			b.WriteString(text[i:j])
			i = j
			continue
		}
		if ch >= '0' && ch <= '9' && (i == 0 || !isIdent(text[i-1])) {
			if loc := durationLit.FindStringIndex(text[i:]); loc != nil && loc[0] == 0 {
				lit := text[i : i+loc[1]]
				start := b.Len()
				b.WriteString(`duration("` + lit + `")`)
				edits = append(edits, edit{i, i + loc[1], start, b.Len()})
				i += loc[1]
				continue
			}
		}
		b.WriteByte(ch)
		i++
	}
	return b.String(), func(off int) int {
		shift := 0
		for _, e := range edits {
			if off < e.newStart {
				break
			}
			if off < e.newEnd {
				return e.origStart
			}
			shift = (e.newEnd - e.newStart) - (e.origEnd - e.origStart)
			_ = shift
		}
		// Accumulate shifts of every edit before off.
		total := 0
		for _, e := range edits {
			if e.newEnd <= off {
				total += (e.newEnd - e.newStart) - (e.origEnd - e.origStart)
			}
		}
		return off - total
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
