package runtime

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/search"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// questionTokens is a rough size of a follow-up question for estimates.
const questionTokens = 20

// EstimatePromptTokens estimates the prompt tokens a point sends: every
// session resends its document plus the growing history each turn. It is an
// upper-bound style estimate (answers at max_tokens, template overhead left
// out); 0 when the corpus does not fix a document size.
func EstimatePromptTokens(sc *spec.Scenario, c, s int) int64 {
	doc := int64(sc.Corpus.Tokens)
	if doc == 0 {
		return 0
	}
	per := int64(0)
	for t := 0; t <= sc.Rounds; t++ {
		per += doc + int64(t)*int64(questionTokens+sc.Script.MaxTokens) + questionTokens
	}
	return per * int64(c*s)
}

// DryRun prints what exec would do for a scenario (or the shard of its
// grid that shard names), sending nothing. secrets are the configuration's,
// kept out of the target's URL a shard prints.
func DryRun(w io.Writer, sc *spec.Scenario, shard spec.Shard, secrets []string) error {
	if err := spec.CheckShard(sc, shard); err != nil {
		return err
	}
	if sc.Users != nil {
		return dryRunOpen(w, sc)
	}
	fmt.Fprintf(w, "scenario %q: target %q, corpus %q, script %q, %d rounds, assign %s, score %s\n",
		sc.Name, sc.Target.Name, sc.Corpus.Name, sc.Script.Name, sc.Rounds, sc.Assign, sc.Score)
	for _, slo := range sc.SLOs {
		fmt.Fprintf(w, "  slo %q: %s\n", slo.Name, slo.Condition.Text)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "order\tC\tS\tsessions\trequests\test. prompt tokens\t")
	var points [][2]int
	if sc.Search != nil {
		// The search picks its next point from results; shown here is the
		// order it would try if every point passed, then if every point failed.
		fmt.Fprintf(w, "  frontier search: the order depends on results; if every point passed:\n")
		points = search.Plan(searchConfig(sc), func(int, int) bool { return true }).Run
	} else {
		points = shard.Points(sc.Grid)
		if shard.Sharded() {
			fmt.Fprintf(w, "  shard %s: %s\n", shard, shareText(points, sc.Grid.Points()))
			if u := sc.Target.BaseURL; u != "" {
				// Each shard may name its own replica (shard.index): say which.
				fmt.Fprintf(w, "  shard %s sends to %s\n", shard, Redact(results.StripUserinfo(u), secrets))
			}
		}
	}
	var reqs, toks int64
	for i, p := range points {
		c, s := p[0], p[1]
		n := int64(c * s * (sc.Rounds + 1))
		est := EstimatePromptTokens(sc, c, s)
		reqs += n
		toks += est
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t\n", i+1, c, s, c*s, n, tokensText(est))
	}
	fmt.Fprintf(tw, "total\t\t\t\t%d\t%s\t\n", reqs, tokensText(toks))
	return tw.Flush()
}

func tokensText(n int64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// shareText says how much of the grid a shard's points are: "5 of the
// grid's 16 points, 33 of its 100 sessions (C×S, the work they are
// balanced by)".
func shareText(part, all [][2]int) string {
	cost := func(ps [][2]int) int {
		n := 0
		for _, p := range ps {
			n += spec.PointCost(p)
		}
		return n
	}
	return fmt.Sprintf("%d of the grid's %d points, %d of its %d sessions (C×S, the work shards are balanced by)",
		len(part), len(all), cost(part), cost(all))
}
