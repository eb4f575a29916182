package metrics

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
	Msg    string
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
		// "2sec", "2S" or "0.o1" confuse expr's lexer into naming only a
		// part of the token; say what is wrong with the whole of it.
		if ce := badNumber(text); ce != nil {
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

// numberRE matches the number literals expr accepts.
var numberRE = regexp.MustCompile(`^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)`)

// badNumber finds, outside string literals, the first token that starts
// like a number but runs on into letters without being a duration literal.
func badNumber(text string) *CompileError {
	for i := 0; i < len(text); {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			i = skipString(text, i)
			continue
		}
		if !isDigit(ch) || i > 0 && (isIdent(text[i-1]) || text[i-1] == '.') {
			i++
			continue
		}
		end := i + len(numberRE.FindString(text[i:]))
		if n := durationLen(text[i:]); n > 0 {
			end = i + n
		} else if end < len(text) && isIdent(text[end]) && !isDigit(text[end]) {
			for end < len(text) && (isIdent(text[end]) || text[end] == '.') {
				end++
			}
			return &CompileError{Offset: i, Msg: fmt.Sprintf(
				"%q is neither a number nor a duration: a duration is a number with one of the units ns, us, ms, s, m, h, as in 2s, 500ms or 1m30s", text[i:end])}
		}
		i = max(end, i+1)
	}
	return nil
}

// skipString returns the offset just past the string literal starting at i.
func skipString(text string, i int) int {
	quote := text[i]
	j := i + 1
	for j < len(text) && text[j] != quote {
		if text[j] == '\\' && quote != '`' {
			j++
		}
		j++
	}
	return min(j+1, len(text))
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

// reads lists the metric names the tree reads, sorted.
func reads(root ast.Node, scope Scope) []string {
	known := map[string]bool{}
	for _, name := range Names(scope) {
		known[name] = true
	}
	seen := map[string]bool{}
	walk(root, func(n ast.Node, parent ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok && known[id.Value] {
			if c, ok := parent.(*ast.CallNode); ok && c.Callee == n {
				return
			}
			seen[id.Value] = true
		}
	})
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// arithmeticReads lists the duration metrics that appear under an
// arithmetic operator.
func arithmeticReads(root ast.Node, scope Scope) []string {
	dur := map[string]bool{}
	for _, f := range fields(scope) {
		dur[f.name] = f.typ == condDurationType
	}
	parents := map[ast.Node]ast.Node{}
	ast.Walk(&root, &recorder{parents})
	seen := map[string]bool{}
	var visit func(n ast.Node)
	visit = func(n ast.Node) {
		if n == nil {
			return
		}
		if id, ok := n.(*ast.IdentifierNode); ok && dur[id.Value] {
			for p := parents[n]; p != nil; p = parents[p] {
				if isArithmetic(p) {
					seen[id.Value] = true
					break
				}
			}
		}
		for _, c := range children(n) {
			visit(c)
		}
	}
	visit(root)
	return slices.Sorted(maps.Keys(seen))
}

func isArithmetic(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "+", "-", "*", "/", "%", "**", "^":
			return true
		}
	case *ast.UnaryNode:
		return n.Operator == "-"
	}
	return false
}

// probe evaluates the condition once on a point whose every metric is 1
// (or one second), to find errors that do not depend on the data.
func (c *Condition) probe() error {
	if c.scope != ScopePoint {
		return nil
	}
	var p Point
	v := reflect.ValueOf(&p).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); {
		case f.Type() == condDurationType:
			f.SetInt(int64(time.Second))
		case f.Kind() == reflect.Int:
			f.SetInt(1)
		case f.Kind() == reflect.Float64:
			f.SetFloat(1)
		}
	}
	if _, err := expr.Run(c.prog, &p); err != nil {
		return fmt.Errorf("the condition cannot be evaluated: %v", err)
	}
	return nil
}

// walk visits every node with its parent, children before parents.
func walk(root ast.Node, fn func(n, parent ast.Node)) {
	v := &parentVisitor{fn: fn, parents: map[ast.Node]ast.Node{}}
	// A first pass records parents; the second calls fn with them.
	ast.Walk(&root, &recorder{v.parents})
	ast.Walk(&root, v)
}

type recorder struct{ parents map[ast.Node]ast.Node }

func (r *recorder) Visit(node *ast.Node) {
	for _, c := range children(*node) {
		if c != nil {
			r.parents[c] = *node
		}
	}
}

type parentVisitor struct {
	fn      func(n, parent ast.Node)
	parents map[ast.Node]ast.Node
}

func (p *parentVisitor) Visit(node *ast.Node) { p.fn(*node, p.parents[*node]) }

// children lists the direct children of the nodes that matter for names.
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		return []ast.Node{n.Node, n.From, n.To}
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return n.Arguments
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		return n.Pairs
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}

// Verdict is a condition's outcome and, unless it is a plain pass or fail,
// the reason: which metric had no data and why, or why the expression could
// not be evaluated.
type Verdict struct {
	Outcome Outcome
	Reason  string
}

// Evaluate evaluates the condition on a point (*Point or Point) or a sweep.
//
// On a point, a read metric without data makes the outcome NoData, whatever
// the expression. A read metric known only within bounds (a quantile from a
// histogram's buckets) is tried at both bounds: the verdict holds when they
// agree, and is NoData when they do not, since the data cannot tell. An
// expression that fails at run time (an integer division by zero) has the
// outcome Error with expr's message.
func (c *Condition) Evaluate(env any) Verdict {
	var p *Point
	switch e := env.(type) {
	case *Point:
		if e == nil {
			return Verdict{NoData, "no point"}
		}
		p = e
	case Point:
		p = &e
	case *Sweep:
		if e == nil {
			return Verdict{NoData, "no sweep"}
		}
		return c.run(e)
	default:
		return c.run(env)
	}
	for _, name := range c.Reads {
		if p.NoData.Has(name) {
			return Verdict{NoData, name + ": " + p.NoData.Reason(name)}
		}
	}
	var bounded []string
	for _, name := range c.Reads {
		if _, ok := p.Bounds[name]; ok {
			bounded = append(bounded, name)
		}
	}
	if len(bounded) == 0 {
		return c.run(p)
	}
	// The value lies in (Lo, Hi]: the lower end is just above Lo.
	lo, hi := *p, *p
	for _, name := range bounded {
		b := p.Bounds[name]
		setDuration(&lo, name, b.Lo.Duration()+time.Nanosecond)
		setDuration(&hi, name, b.Hi.Duration())
	}
	vlo, vhi := c.run(&lo), c.run(&hi)
	if vlo.Outcome != vhi.Outcome {
		b := p.Bounds[bounded[0]]
		return Verdict{NoData, fmt.Sprintf("%s lies in a histogram bucket between %s and %s; the condition holds at one end and not at the other, so the data cannot decide",
			bounded[0], b.Lo.Duration(), b.Hi.Duration())}
	}
	return vhi
}

// run evaluates the compiled program on env. On a point, +Inf in a metric
// the expression does arithmetic on fails the condition: the stored +Inf
// would wrap around, and no finite result describes failed turns.
func (c *Condition) run(env any) Verdict {
	if p, ok := env.(*Point); ok {
		for _, name := range c.arith {
			if getDuration(p, name) == Inf {
				return Verdict{Fail, name + " is +Inf (failed turns count as +Inf), and arithmetic on it has no finite result"}
			}
		}
	}
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return Verdict{Error, "cannot be evaluated: " + err.Error()}
	}
	if b, ok := out.(bool); ok && b {
		return Verdict{Outcome: Pass}
	}
	return Verdict{Outcome: Fail}
}

// Eval is Evaluate's outcome alone.
func (c *Condition) Eval(env any) Outcome { return c.Evaluate(env).Outcome }

// getDuration reads the duration metric named name (its expr tag) in p.
func getDuration(p *Point, name string) time.Duration {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("expr") == name && t.Field(i).Type == condDurationType {
			return time.Duration(v.Field(i).Int())
		}
	}
	return 0
}

// setDuration sets the duration metric named name (its expr tag) in p.
func setDuration(p *Point, name string, d time.Duration) {
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("expr") == name && t.Field(i).Type == condDurationType {
			v.Field(i).SetInt(int64(d))
			return
		}
	}
}

// loadPrefixes name the metrics that can only get worse as C or S grows.
var loadPrefixes = []string{"ttft_", "ttfc_", "latency_", "itl_", "queue_time_", "opening_ttft_"}

// WorsensWithLoad reports whether metric can only grow as C or S grows, so
// an upper bound on it suits the frontier search.
func WorsensWithLoad(metric string) bool {
	switch metric {
	case "error_rate", "errors", NamePreemptions:
		return true
	}
	for _, p := range loadPrefixes {
		if strings.HasPrefix(metric, p) {
			return true
		}
	}
	return false
}

// UpperBoundOnLoadMetrics reports, as an error naming the offending part,
// whether the condition is anything other than a conjunction of upper bounds
// (<, <=) on metrics that worsen with load. The frontier search relies on
// that shape: a point that fails implies every larger point fails.
func (c *Condition) UpperBoundOnLoadMetrics() error {
	tree, err := parser.Parse(c.rewritten)
	if err != nil {
		return fmt.Errorf("condition %q: %w", c.Text, err)
	}
	return upperBounds(tree.Node)
}

func upperBounds(n ast.Node) error {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return fmt.Errorf("%s is not a comparison", describe(n))
	}
	switch b.Operator {
	case "&&", "and":
		if err := upperBounds(b.Left); err != nil {
			return err
		}
		return upperBounds(b.Right)
	case "<", "<=", ">", ">=":
	default:
		return fmt.Errorf("operator %q is neither && nor an upper bound (<, <=)", b.Operator)
	}
	metric, bound := b.Left, b.Right
	upper := b.Operator == "<" || b.Operator == "<="
	if _, ok := metric.(*ast.IdentifierNode); !ok {
		// "2s >= ttft_p95" reads the same as "ttft_p95 <= 2s".
		metric, bound, upper = b.Right, b.Left, !upper
	}
	id, ok := metric.(*ast.IdentifierNode)
	if !ok {
		return fmt.Errorf("comparison %q does not bound a metric", b.Operator)
	}
	if !constant(bound) {
		return fmt.Errorf("the bound on %s is not a constant", id.Value)
	}
	if !WorsensWithLoad(id.Value) {
		return fmt.Errorf("%s does not worsen with load (only ttft, ttfc, latency, itl, error_rate, errors, queue_time and preemptions do)", id.Value)
	}
	if !upper {
		return fmt.Errorf("%s has a lower bound; only upper bounds (<, <=) keep the frontier monotone", id.Value)
	}
	return nil
}

func constant(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		return true
	case *ast.UnaryNode:
		return n.Operator == "-" && constant(n.Node)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != "duration" || len(n.Arguments) != 1 {
			return false
		}
		_, ok = n.Arguments[0].(*ast.StringNode)
		return ok
	case *ast.BuiltinNode:
		if n.Name != "duration" || len(n.Arguments) != 1 {
			return false
		}
		_, ok := n.Arguments[0].(*ast.StringNode)
		return ok
	}
	return false
}

func describe(n ast.Node) string {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value
	case *ast.UnaryNode:
		return fmt.Sprintf("the %q expression", n.Operator)
	case *ast.BinaryNode:
		return fmt.Sprintf("the %q expression", n.Operator)
	}
	return "the expression"
}

// Suggest returns the candidate closest to name when it is close enough to
// be a likely typo, or "".
func Suggest(name string, candidates []string) string {
	best, bestD := "", 3
	if len(name) < 4 {
		bestD = 2
	}
	for _, c := range candidates {
		if d := levenshtein(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" || len(name) < 3 {
		return best
	}
	// A truncated name ("base" for "base_url") is a likely slip too, when
	// only one candidate starts with it.
	for _, c := range candidates {
		if strings.HasPrefix(c, name) {
			if best != "" {
				return ""
			}
			best = c
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// runeToByte converts expr's rune offset into a byte offset of s.
func runeToByte(s string, runes int) int {
	i := 0
	for n := 0; n < runes && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// durationUnits in the order they must be tried (longest first).
var durationUnits = []string{"ns", "us", "µs", "ms", "h", "m", "s"}

// rewriteDurations replaces duration literals (2s, 500ms, 1m30s, 250us)
// outside string literals with duration("…") calls and returns a function
// mapping a byte offset in the rewritten text back to the original.
func rewriteDurations(text string) (string, func(int) int) {
	type edit struct{ origStart, origEnd, newStart, newEnd int }
	var b strings.Builder
	var edits []edit
	for i := 0; i < len(text); {
		ch := text[i]
		if ch == '"' || ch == '\'' || ch == '`' {
			j := skipString(text, i)
			b.WriteString(text[i:j])
			i = j
			continue
		}
		if isDigit(ch) && (i == 0 || !isIdent(text[i-1]) && text[i-1] != '.') {
			if n := durationLen(text[i:]); n > 0 {
				start := b.Len()
				b.WriteString(`duration("` + text[i:i+n] + `")`)
				edits = append(edits, edit{i, i + n, start, b.Len()})
				i += n
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
			shift += (e.newEnd - e.newStart) - (e.origEnd - e.origStart)
		}
		return max(0, min(off-shift, len(text)))
	}
}

// durationLen returns the length of the duration literal at the start of s,
// or 0 when s does not start with one.
func durationLen(s string) int {
	i, units := 0, 0
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			break
		}
		if j < len(s) && s[j] == '.' {
			k := j + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k == j+1 {
				break
			}
			j = k
		}
		unit := ""
		for _, u := range durationUnits {
			if strings.HasPrefix(s[j:], u) {
				unit = u
				break
			}
		}
		if unit == "" {
			break
		}
		end := j + len(unit)
		if end < len(s) && isIdent(s[end]) && !isDigit(s[end]) {
			break // 2min, 3sessions: not a duration
		}
		i, units = end, units+1
		if end >= len(s) || !isDigit(s[end]) {
			break
		}
	}
	if units == 0 {
		return 0
	}
	if _, err := time.ParseDuration(s[:i]); err != nil {
		return 0
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c >= 0x80
}
