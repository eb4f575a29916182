package metrics

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

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
