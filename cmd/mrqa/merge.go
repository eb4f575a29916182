package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mrqa-dev/mrqa/internal/exitcode"
	rt "github.com/mrqa-dev/mrqa/runtime"
	"github.com/mrqa-dev/mrqa/runtime/results"
)

const mergeUsage = `usage: mrqa merge [-out DIR] [-force] SHARD_DIR...

Combines the shards of one sweep, each run by mrqa exec -shard I/N, into
one result: DIR/<scenario>/results.json, points/ and report.html as exec
writes them (and DIR/compare.html for several scenarios). Each SHARD_DIR
is what one shard's exec was given as -out (or one scenario folder in it).
The best point, the sweep's figures, expect and the report are computed
again from the merged points.

The shards must be parts of one sweep: the same scenario file and
variables, the same shard count, and the same measurement, grid, SLOs,
score and expect; only the base URL may differ (each shard may name its
own replica, and each point records the one that measured it). Anything
else is refused with exit 2, naming each difference and the folders that
hold each value, as are a folder given twice, two folders of one shard,
and points that overlap. Points that no folder holds (a shard not given,
or one that stopped early) are named, and the merged result is marked
incomplete (exit 1), as is a scenario the shards selected that no folder
holds. With points missing, expect is not judged and no limit is stated
that those points could change.

-out must be new or empty; -force replaces the runs in it.

example:
  mrqa exec -shard 0/3 -out out-0 scenarios/novel-critic.hcl   # and 1/3, 2/3, anywhere
  mrqa merge -out out out-0 out-1 out-2

exit codes: 0 merged, 1 points or scenarios missing (expect not judged),
or an unreadable or unwritable folder, 2 shards that are not parts of one sweep (or a usage error), 99 an
expect not met.
`

func runMerge(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("merge", mergeUsage, stdout, stderr)
	out := fs.String("out", "out", "where to write the merged results: a new or empty folder")
	force := fs.Bool("force", false, "replace the runs in -out (once the merged ones are written)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "mrqa merge: want the shards' folders (see mrqa merge -h)")
		return exitcode.Usage
	}
	res, err := rt.Merge(pos, *out, rt.MergeOptions{Force: *force})
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "mrqa merge: warning:", w)
	}
	if err != nil {
		fmt.Fprintln(stderr, "mrqa merge:", err)
		if errors.Is(err, rt.ErrMerge) || errors.Is(err, rt.ErrOutputInUse) {
			return exitcode.Usage
		}
		return exitcode.Failure
	}
	code := exitcode.OK
	var ran []*results.Results
	for _, name := range res.Missing {
		fmt.Fprintf(stderr, "%s: incomplete: no shard folder holds scenario %q, so all its points are missing; run or resume its shards (mrqa exec -shard I/N) and merge again\n", name, name)
		code = worse(code, exitcode.Failure)
	}
	for _, m := range res.Scenarios {
		code = worse(code, showRun("merge", m.Dir, m.Results, nil, stdout, stderr))
		ran = append(ran, m.Results)
		if m.Results.Missing != nil {
			fmt.Fprintln(stderr, missingText(m.Results))
			code = worse(code, exitcode.Failure)
		}
		code = worse(code, expectCode(m.Results, stderr))
	}
	if len(ran) > 1 {
		code = worse(code, showCompare("merge", *out, ran, nil, stdout, stderr))
	}
	return code
}

// missingText says which points a merged result lacks and what to do.
func missingText(r *results.Results) string {
	var pts []string
	shards := map[int]bool{}
	for _, p := range r.Missing.Points {
		pts = append(pts, fmt.Sprintf("C=%d S=%d", p.Concurrent, p.Sequential))
		shards[p.Shard] = true
	}
	var which []string
	for i := range r.Merged.Count {
		if shards[i] {
			which = append(which, fmt.Sprintf("%d/%d", i, r.Merged.Count))
		}
	}
	return fmt.Sprintf("%s: incomplete: %d of the grid's %d points are missing (%s); run or resume shard %s (mrqa exec -shard I/N, with -resume for a shard that stopped) and merge again",
		r.Scenario, len(pts), len(pts)+len(r.Points), strings.Join(pts, ", "), strings.Join(which, ", "))
}
