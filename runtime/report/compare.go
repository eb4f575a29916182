package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

type compareView struct {
	Rows      []string // scenario names, as shown
	Sentences []sentence
	// Reruns say which result re-ran which recorded run (exec -from).
	Reruns   []string
	Summary  table
	Heatmaps []*chartView
	Baseline string
	Deltas   table
}

type sentence struct{ Text, Class string }

func buildCompare(rs []*results.Results, labels []string) (*compareView, []chartView, error) {
	names := displayNames(rs, labels)
	v := &compareView{Rows: names, Baseline: names[0]}
	v.Sentences = compareSentences(rs, names)
	v.Reruns = rerunSentences(rs, names)
	v.Summary = compareSummary(rs, names)
	scale := heatScaleOf(rs...)
	all := make([]chartView, 0, len(rs))
	for i, r := range rs {
		build := func() (template.JS, error) { return heatmapOption(r, scale) }
		if isOpen(r) {
			// An open-loop sweep has no grid to map: its rate chart.
			build = func() (template.JS, error) { return rateOption(r, sortedPoints(r)) }
		}
		js, err := build()
		if err != nil {
			return nil, nil, fmt.Errorf("heatmap of %s: %w", names[i], err)
		}
		all = append(all, chartView{
			ID:     "mrqa-heatmap-" + strconv.Itoa(i+1),
			Title:  names[i] + ": " + bestText(r.Best),
			Height: heatHeight(r),
			Option: js,
		})
	}
	for i := range all {
		v.Heatmaps = append(v.Heatmaps, &all[i])
	}
	v.Deltas = deltaTable(rs, names)
	return v, all, nil
}

// displayNames are the scenario names, made unique where two results
// share one: by their labels (the folders they were read from) when there
// are labels, else with the target's name; then by a number.
func displayNames(rs []*results.Results, labels []string) []string {
	names := make([]string, len(rs))
	count := map[string]int{}
	for i, r := range rs {
		names[i] = r.Scenario
		count[r.Scenario]++
	}
	seen := map[string]int{}
	for i, r := range rs {
		switch {
		case count[r.Scenario] > 1 && len(labels) == len(rs):
			names[i] = labels[i]
		case count[r.Scenario] > 1:
			names[i] = r.Scenario + " (" + r.Target.Name + ")"
		}
		seen[names[i]]++
		if seen[names[i]] > 1 {
			names[i] += " #" + strconv.Itoa(seen[names[i]])
		}
	}
	return names
}

// ratio writes a/b as the source writes "1.3× more sessions".
func ratio(a, b float64) string {
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

// bestSize is what a best point is compared by: its sessions (C×S), or an
// open-loop sweep's arrival rate.
func bestSize(b *results.Best) float64 {
	if b.Rate > 0 {
		return b.Rate
	}
	return float64(b.Concurrent * b.Sequential)
}

// comparable reports whether two bests measure the same thing: sessions
// kept active by a closed loop, or a rate of arriving sessions.
func comparable(a, b *results.Best) bool { return (a.Rate > 0) == (b.Rate > 0) }

// sizeWord names what bestSize counts.
func sizeWord(b *results.Best) string {
	if b.Rate > 0 {
		return "the arrival rate"
	}
	return "the sessions"
}

func compareSentences(rs []*results.Results, names []string) []sentence {
	base, bn := rs[0], names[0]
	if len(rs) == 1 {
		if base.Best == nil {
			return []sentence{{bn + ": no point passed the SLOs.", "fail"}}
		}
		return []sentence{{bn + ": best " + bestText(base.Best) + ".", "pass"}}
	}
	var out []sentence
	for i := 1; i < len(rs); i++ {
		r, n := rs[i], names[i]
		switch {
		case r.Best != nil && base.Best != nil && !comparable(r.Best, base.Best):
			out = append(out, sentence{fmt.Sprintf("%s reaches %s and %s %s: one is an open-loop sweep, the other a grid, so they are not compared.",
				n, bestText(r.Best), bn, bestText(base.Best)), "pass"})
		case r.Best != nil && base.Best != nil:
			out = append(out, sentence{fmt.Sprintf("%s allows %s %s of %s (%s vs %s).",
				n, ratio(bestSize(r.Best), bestSize(base.Best)), sizeWord(r.Best), bn, bestText(r.Best), bestText(base.Best)), "pass"})
		case r.Best != nil:
			out = append(out, sentence{fmt.Sprintf("%s reaches %s; %s passed at no point.", n, bestText(r.Best), bn), "pass"})
		case base.Best != nil:
			out = append(out, sentence{fmt.Sprintf("%s passed at no point; %s reaches %s.", n, bn, bestText(base.Best)), "fail"})
		default:
			out = append(out, sentence{fmt.Sprintf("Neither %s nor %s passed at any point.", n, bn), "fail"})
		}
	}
	return out
}

func compareSummary(rs []*results.Results, names []string) table {
	t := table{Head: []string{"scenario", "target", "model", "best C×S", "C", "S", "passed / run", "vs " + names[0], "SLOs", "prefix cache"}}
	base := rs[0].Best
	for i, r := range rs {
		passed := 0
		for _, p := range r.Points {
			if p.Passed {
				passed++
			}
		}
		cache, _ := cacheLine(r)
		cells := []cell{
			{Text: names[i], Class: "name"},
			{Text: r.Target.Name, Class: "name"},
			{Text: r.Target.Model, Class: "name"},
		}
		if b := r.Best; b != nil && b.Rate > 0 {
			cells = append(cells, cell{Text: rateText(b.Rate), Sort: sortKey(b.Rate)}, cell{Text: "—", Sort: "0"}, cell{Text: "—", Sort: "0"})
		} else if b != nil {
			n := b.Concurrent * b.Sequential
			cells = append(cells,
				cell{Text: strconv.Itoa(n), Sort: strconv.Itoa(n)},
				cell{Text: strconv.Itoa(b.Concurrent), Sort: strconv.Itoa(b.Concurrent)},
				cell{Text: strconv.Itoa(b.Sequential), Sort: strconv.Itoa(b.Sequential)})
		} else {
			cells = append(cells, cell{Text: "none", Sort: "0"}, cell{Text: "—", Sort: "0"}, cell{Text: "—", Sort: "0"})
		}
		cells = append(cells, cell{Text: fmt.Sprintf("%d / %d", passed, len(r.Points)), Sort: strconv.Itoa(passed)})
		if r.Best != nil && base != nil && comparable(r.Best, base) {
			a, b := bestSize(r.Best), bestSize(base)
			cells = append(cells, cell{Text: ratio(a, b), Sort: sortKey(a / b)})
		} else {
			cells = append(cells, cell{Text: "—", Sort: "-1"})
		}
		cells = append(cells, cell{Text: sloText(r), Class: "name"}, cell{Text: cache, Class: "name"})
		class := "fail"
		if r.Best != nil {
			class = "pass"
		}
		t.Rows = append(t.Rows, row{Class: class, Cells: cells})
	}
	return t
}

// deltaTable lists ttft_p95 at every point any scenario measured, with each
// scenario's difference from the first. An open-loop point is keyed by its
// rate, shown in the sessions column with C and S left empty.
func deltaTable(rs []*results.Results, names []string) table {
	type key struct {
		c, s int
		rate float64
	}
	var keys []key
	at := make([]map[key]*results.Point, len(rs))
	for i, r := range rs {
		at[i] = map[key]*results.Point{}
		for j := range r.Points {
			p := &r.Points[j]
			k := key{p.Concurrent, p.Sequential, p.Rate}
			at[i][k] = p
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.c, b.c), cmp.Compare(a.s, b.s), cmp.Compare(a.rate, b.rate))
	})
	keys = slices.Compact(keys)
	t := table{Head: append([]string{"C", "S", "sessions"}, names...), Units: clockUnits(rs, names)}
	for _, n := range names[1:] {
		t.Head = append(t.Head, "Δ "+n)
	}
	for _, k := range keys {
		cells := []cell{
			{Text: strconv.Itoa(k.c), Sort: strconv.Itoa(k.c)},
			{Text: strconv.Itoa(k.s), Sort: strconv.Itoa(k.s)},
			{Text: strconv.Itoa(k.c * k.s), Sort: strconv.Itoa(k.c * k.s)},
		}
		if k.rate > 0 {
			cells = []cell{{Text: "—", Sort: "0"}, {Text: "—", Sort: "0"}, {Text: rateText(k.rate), Sort: sortKey(k.rate)}}
		}
		for i := range rs {
			p := at[i][k]
			if p == nil {
				cells = append(cells, cell{Text: "—", Sort: "-1"})
				continue
			}
			c := cell{Text: fmtDur(p.Metrics.TTFTP95) + " " + passMark(p.Passed), Sort: sortKey(secKey(p.Metrics.TTFTP95))}
			if isBestPoint(rs[i], p) {
				c.Text = "★ " + c.Text
			}
			cells = append(cells, c)
		}
		base := at[0][k]
		for i := 1; i < len(rs); i++ {
			cells = append(cells, deltaCell(base, at[i][k]))
		}
		t.Rows = append(t.Rows, row{Cells: cells})
	}
	return t
}

// clockUnits marks the delta table's columns of virtual-clock results as
// simulated, and a difference between a simulated and a real time as
// between mixed clocks.
func clockUnits(rs []*results.Results, names []string) map[string]string {
	units := map[string]string{}
	for i, r := range rs {
		if simulated(r) {
			units[names[i]] = simulatedUnit
		}
		switch {
		case i == 0:
		case simulated(r) && simulated(rs[0]):
			units["Δ "+names[i]] = simulatedUnit
		case simulated(r) || simulated(rs[0]):
			units["Δ "+names[i]] = "mixed clocks"
		}
	}
	return units
}

func deltaCell(base, p *results.Point) cell {
	if base == nil || p == nil {
		return cell{Text: "—", Sort: "0"}
	}
	a, b := secKey(p.Metrics.TTFTP95), secKey(base.Metrics.TTFTP95)
	switch {
	case math.IsInf(a, 1) && math.IsInf(b, 1):
		return cell{Text: "both ∞", Sort: "0"}
	case math.IsInf(a, 1):
		return cell{Text: "+∞", Sort: "1e308", Class: "worse"}
	case math.IsInf(b, 1):
		return cell{Text: "−∞", Sort: "-1e308", Class: "better"}
	}
	d := a - b
	text := fmtSec(math.Abs(d))
	class := ""
	switch {
	case d > 0:
		text, class = "+"+text, "worse"
	case d < 0:
		text, class = "−"+text, "better"
	}
	if b > 0 {
		text += " (×" + strconv.FormatFloat(a/b, 'f', 2, 64) + ")"
	}
	return cell{Text: text, Sort: sortKey(d), Class: class}
}

// rerunSentences say, for each result that re-ran a recorded run (exec
// -from), which one, and the variables it gave other values, with both
// values where the page holds the recording.
func rerunSentences(rs []*results.Results, names []string) []string {
	var out []string
	for i, r := range rs {
		from := r.From
		if from == nil {
			continue
		}
		j := slices.IndexFunc(rs, func(o *results.Results) bool {
			return o.Scenario == from.Scenario && o.Started.Equal(from.Started)
		})
		if j < 0 {
			out = append(out, fmt.Sprintf("%s re-ran the run recorded in %s (scenario %s, started %s)%s.",
				names[i], from.Dir, from.Scenario, from.Started.UTC().Format("2006-01-02 15:04:05 UTC"), overrides(r, nil)))
			continue
		}
		out = append(out, fmt.Sprintf("%s re-ran %s from its results.json%s.", names[i], names[j], overrides(r, rs[j])))
	}
	return out
}

// overrides describes the variables a re-run overrode: ", overriding
// var.a (1 → 2)" (the recorded value when orig is known, else "now 2"),
// or ", with every variable as recorded".
func overrides(rerun, orig *results.Results) string {
	if len(rerun.From.Overridden) == 0 {
		return ", with every variable as recorded"
	}
	value := func(r *results.Results, name string) string {
		if r != nil {
			for _, v := range r.Variables {
				if v.Name == name {
					return v.Value
				}
			}
		}
		return "?"
	}
	parts := make([]string, len(rerun.From.Overridden))
	for i, n := range rerun.From.Overridden {
		parts[i] = "var." + n + " (now " + value(rerun, n) + ")"
		if orig != nil {
			parts[i] = "var." + n + " (" + value(orig, n) + " → " + value(rerun, n) + ")"
		}
	}
	return ", overriding " + strings.Join(parts, ", ")
}
