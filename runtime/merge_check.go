package runtime

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// checkSweep refuses folders that are not parts of one sweep: another
// file, other variables or another shard count. It names every
// difference, the scenario when that differs too (folders of another file
// often run another scenario), and those within each scenario's shards.
func checkSweep(folders []shardFolder) error {
	diffs := differences(folders, sweepFields(folders))
	if len(diffs) == 0 {
		return nil
	}
	scenario := mergeField{"scenario", func(r *results.Results) any { return r.Scenario }}
	diffs = append(differences(folders, []mergeField{scenario}), diffs...)
	for _, group := range byScenario(folders) {
		diffs = append(diffs, differences(group, scenarioFields(group))...)
	}
	return differentErr(diffs)
}

// mergeField is a value every shard folder must share to be merged.
type mergeField struct {
	name string
	get  func(*results.Results) any
}

// sweepFields are what every folder of every scenario shares: one file,
// the same variables, one shard count.
func sweepFields(folders []shardFolder) []mergeField {
	fields := []mergeField{
		{"the scenario file's sha256", func(r *results.Results) any { return r.File.SHA256 }},
		{"the shard count", func(r *results.Results) any { return r.Shard.Count }},
	}
	var names []string
	for _, f := range folders {
		for _, v := range f.r.Variables {
			if !slices.Contains(names, v.Name) {
				names = append(names, v.Name)
			}
		}
	}
	for _, name := range names {
		fields = append(fields, mergeField{"variable " + name, func(r *results.Results) any {
			for _, v := range r.Variables {
				if v.Name == name {
					return v.Value
				}
			}
			return "(not set)"
		}})
	}
	return fields
}

// scenarioFields are what the shards of one scenario share besides the
// sweep's: everything a point's measurement depends on (the identity, but
// for the base URL, which names each shard's replica), and everything that
// judges the points and chooses the best.
func scenarioFields(group []shardFolder) []mergeField {
	fields := []mergeField{
		{"grid", func(r *results.Results) any { return r.Grid }},
		{"slos", func(r *results.Results) any { return r.SLOs }},
		{"score", func(r *results.Results) any { return r.Score }},
		{"expect", func(r *results.Results) any { return r.Expect }},
		{"rounds", func(r *results.Results) any { return r.Rounds }},
		{"seed", func(r *results.Results) any { return r.Seed }},
		{"assign", func(r *results.Results) any { return r.Assign }},
		{"title", func(r *results.Results) any { return r.Title }},
		{"target (but its base URL)", func(r *results.Results) any { t := r.Target; t.BaseURL = ""; return t }},
		{"corpus", func(r *results.Results) any { return r.Corpus }},
		{"script", func(r *results.Results) any { return r.Script }},
		{"between_points", func(r *results.Results) any { return r.Between }},
	}
	var keys []string
	for _, f := range group {
		keys = append(keys, slices.Collect(maps.Keys(f.r.Identity))...)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if k == "target.base_url" {
			continue
		}
		fields = append(fields, mergeField{"identity " + k, func(r *results.Results) any { return r.Identity[k] }})
	}
	return fields
}

// differences names each field whose value is not the same in every
// folder, with each value and the folders that hold it.
func differences(folders []shardFolder, fields []mergeField) []string {
	var out []string
	for _, fl := range fields {
		var values []string
		where := map[string][]string{}
		for _, f := range folders {
			v := valueText(fl.get(f.r))
			if _, ok := where[v]; !ok {
				values = append(values, v)
			}
			where[v] = append(where[v], f.dir)
		}
		if len(values) < 2 {
			continue
		}
		parts := make([]string, len(values))
		for i, v := range values {
			parts[i] = v + " in " + strings.Join(where[v], ", ")
		}
		out = append(out, fl.name+": "+strings.Join(parts, "; "))
	}
	return out
}

// valueText writes a field's value for a message: strings quoted, other
// values as JSON, long ones cut.
func valueText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return s
}

func differentErr(diffs []string) error {
	return fmt.Errorf("%w: the shard folders come from different configurations, so their points cannot be judged as one sweep:\n  %s",
		ErrMerge, strings.Join(diffs, "\n  "))
}
