package metrics

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
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

// Outcomes. NoData and Error count as failing.
const (
	Pass   Outcome = "pass"
	Fail   Outcome = "fail"
	NoData Outcome = "no_data"
	// Error: the expression failed at run time (an integer division by
	// zero, say); the verdict's reason has the message.
	Error Outcome = "error"
	// NotJudged: a sweep's expect, when points of its grid did not run
	// (a merge missing shards, a sweep that stopped early): a condition on
	// the sweep read on part of its grid says nothing of the sweep.
	NotJudged Outcome = "not_judged"
)

// Decided reports whether the outcome is a pass or fail the data supports,
// not a lack of data or an expression that could not be evaluated.
func (o Outcome) Decided() bool { return o == Pass || o == Fail }

// Passed reports whether the outcome is a pass.
func (o Outcome) Passed() bool { return o == Pass }

// Condition is a compiled SLO or expect expression.
type Condition struct {
	Text  string   // as written
	Reads []string // metric names the expression reads, sorted
	// arith are the duration metrics read inside arithmetic (+ - * / % **,
	// unary minus): +Inf stored as the largest duration would wrap there.
	arith []string
	scope Scope
	// rewritten is Text with duration literals turned into duration("…")
	// calls; kept so the load analysis can re-parse an unoptimised tree.
	rewritten string
	prog      *vm.Program
}

// CompileError locates a problem in a condition's text.
type CompileError struct {
	Offset int // byte offset into the condition's text
	// Len is the length in bytes of the text at fault ("2 seconds"); 0
	// when it is the word or the character at Offset.
	Len int
	Msg string
}

func (e *CompileError) Error() string { return e.Msg }

// Names returns the metric names a condition of scope may read, in the
// order of the struct that defines them.
func Names(scope Scope) []string {
	var out []string
	for _, f := range fields(scope) {
		out = append(out, f.name)
	}
	return out
}

type field struct {
	name string
	typ  reflect.Type
}

func fields(scope Scope) []field {
	t := reflect.TypeFor[Point]()
	if scope == ScopeSweep {
		t = reflect.TypeFor[Sweep]()
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("expr")
		if tag == "" || tag == "-" {
			continue
		}
		out = append(out, field{tag, t.Field(i).Type})
	}
	return out
}

var condDurationType = reflect.TypeFor[time.Duration]()

// Compile parses and type-checks text against the names of scope. Duration
// literals outside string literals are rewritten to duration("…") first;
// errors carry the byte offset into the original text.
func Compile(text string, scope Scope) (*Condition, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &CompileError{Msg: "empty condition"}
	}
	rewritten, toOrig := rewriteDurations(text)
	at := func(loc file.Location) int { return toOrig(runeToByte(rewritten, loc.From)) }

	tree, err := parser.Parse(rewritten)
	if err != nil {
		// "2sec", "2 seconds" or "=" get a message that names the slip
		// and its fix, rather than the token expr's lexer stumbled on.
		if ce := parseHint(text); ce != nil {
			return nil, ce
		}
		return nil, compileError(err, at)
	}
	if ce := checkNames(tree.Node, scope, at); ce != nil {
		return nil, ce
	}
	if ce := checkDurationCalls(tree.Node, at); ce != nil {
		return nil, ce
	}
	if ce := checkClockCalls(tree.Node, at); ce != nil {
		return nil, ce
	}
	var env any = Point{}
	if scope == ScopeSweep {
		env = Sweep{}
	}
	opts := []expr.Option{expr.Env(env), expr.AsBool()}
	for _, name := range clockFunctions {
		opts = append(opts, expr.DisableBuiltin(name)) // in case a call escaped the walk
	}
	prog, err := expr.Compile(rewritten, opts...)
	if err != nil {
		return nil, compileError(err, at)
	}
	c := &Condition{Text: text, scope: scope, rewritten: rewritten, prog: prog}
	c.Reads = reads(tree.Node, scope)
	c.arith = arithmeticReads(tree.Node, scope)
	// A condition that cannot be evaluated on an ordinary point (a type
	// mismatch expr only finds when it runs, such as a duration times a
	// float) is an error now, not at every point of a sweep.
	if err := c.probe(); err != nil {
		return nil, &CompileError{Msg: err.Error()}
	}
	return c, nil
}

// compileError turns an expr error into a CompileError at the original text.
func compileError(err error, at func(file.Location) int) *CompileError {
	var fe *file.Error
	if errors.As(err, &fe) {
		return &CompileError{Offset: at(fe.Location), Msg: fe.Message}
	}
	// expr reports a non-boolean result without a location.
	msg := err.Error()
	if strings.HasPrefix(msg, "expected bool") {
		kind := "a number"
		if strings.HasSuffix(msg, "time.Duration") {
			kind = "a duration"
		} else if strings.HasSuffix(msg, "string") {
			kind = "a string"
		}
		msg = fmt.Sprintf("a condition must be true or false, not %s: compare with a bound, as in \"ttft_p95 <= 2s\" or \"error_rate <= 0.01\"", kind)
	}
	return &CompileError{Msg: msg}
}

// checkNames finds unknown names and unitless numbers compared with
// durations, which expr would report in less helpful words.
func checkNames(root ast.Node, scope Scope, at func(file.Location) int) *CompileError {
	known := map[string]reflect.Type{}
	for _, f := range fields(scope) {
		known[f.name] = f.typ
	}
	other := map[string]bool{}
	for _, f := range fields(1 - scope) {
		other[f.name] = true
	}
	var first *CompileError
	set := func(ce *CompileError) {
		if first == nil || ce.Offset < first.Offset {
			first = ce
		}
	}
	walk(root, func(n ast.Node, parent ast.Node) {
		switch n := n.(type) {
		case *ast.IdentifierNode:
			if c, ok := parent.(*ast.CallNode); ok && c.Callee == n {
				return // a function name; expr checks those
			}
			if _, ok := known[n.Value]; ok {
				return
			}
			msg := fmt.Sprintf("unknown metric %q", n.Value)
			switch {
			case other[n.Value] && scope == ScopeSweep:
				msg = fmt.Sprintf("%s is a grid-point metric; expect sees only the sweep-level names (%s)", n.Value, strings.Join(Names(ScopeSweep), ", "))
			case other[n.Value]:
				msg = fmt.Sprintf("%s is a sweep-level name, only for expect; an slo sees the metrics of one grid point", n.Value)
			default:
				if s := Suggest(n.Value, Names(scope)); s != "" {
					msg += fmt.Sprintf("; did you mean %s?", s)
				}
			}
			set(&CompileError{Offset: at(n.Location()), Msg: msg})
		case *ast.BinaryNode:
			switch n.Operator {
			case "<", "<=", ">", ">=", "==", "!=":
			default:
				return // arithmetic: expr's own message is clear enough
			}
			for _, pair := range [][2]ast.Node{{n.Left, n.Right}, {n.Right, n.Left}} {
				id, ok := pair[0].(*ast.IdentifierNode)
				if !ok || known[id.Value] != condDurationType {
					continue
				}
				if num, ok := plainNumber(pair[1]); ok {
					set(&CompileError{
						Offset: at(pair[1].Location()),
						Msg:    fmt.Sprintf("%s is a duration: a number needs a unit, e.g. %ss or %sms", id.Value, num, num),
					})
				}
			}
		}
	})
	return first
}

// checkDurationCalls reports duration("…") calls whose literal argument is
// not a duration, which expr would only find when the condition runs.
func checkDurationCalls(root ast.Node, at func(file.Location) int) *CompileError {
	var first *CompileError
	walk(root, func(n ast.Node, _ ast.Node) {
		var args []ast.Node
		switch n := n.(type) {
		case *ast.BuiltinNode:
			if n.Name == "duration" {
				args = n.Arguments
			}
		case *ast.CallNode:
			if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "duration" {
				args = n.Arguments
			}
		}
		if len(args) != 1 {
			return
		}
		s, ok := args[0].(*ast.StringNode)
		if !ok {
			return
		}
		if _, err := time.ParseDuration(s.Value); err != nil && first == nil {
			first = &CompileError{Offset: at(s.Location()), Msg: fmt.Sprintf(
				"duration(%q) is not a duration: write a number with one of the units ns, us, ms, s, m, h, as in 2s, 500ms or 1m30s", s.Value)}
		}
	})
	return first
}

// clockFunctions are expr's builtins whose value depends on when or where
// a condition is evaluated: now() reads the clock, and date() and
// timezone() exist to be compared with it (and read the host's zone
// database). expr has no source of randomness; these are the rest.
var clockFunctions = [...]string{"now", "date", "timezone"}

// checkClockCalls refuses the first call of a clockFunctions builtin: the
// same results must always be judged the same way.
func checkClockCalls(root ast.Node, at func(file.Location) int) *CompileError {
	var first *CompileError
	walk(root, func(n ast.Node, _ ast.Node) {
		name := ""
		switch n := n.(type) {
		case *ast.BuiltinNode:
			name = n.Name
		case *ast.CallNode:
			if id, ok := n.Callee.(*ast.IdentifierNode); ok {
				name = id.Value
			}
		}
		if !slices.Contains(clockFunctions[:], name) {
			return
		}
		if off := at(n.Location()); first == nil || off < first.Offset {
			first = &CompileError{Offset: off, Msg: fmt.Sprintf(
				"%s() reads the clock or the calendar, so the same results could pass at one time and fail at another; a condition compares metrics with fixed bounds", name)}
		}
	})
	return first
}

// plainNumber reports whether n is a numeric literal, possibly negated.
func plainNumber(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return fmt.Sprint(n.Value), true
	case *ast.FloatNode:
		return fmt.Sprint(n.Value), true
	case *ast.UnaryNode:
		if n.Operator == "-" {
			s, ok := plainNumber(n.Node)
			return "-" + s, ok
		}
	}
	return "", false
}
