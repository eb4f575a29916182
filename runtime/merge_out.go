package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/results"
)

// checkMergeOut refuses an output root that is, holds or lies inside a
// shard folder, as given (roots) or a scenario's inside it (writing there
// could replace a shard's run, or be read as one by a later merge), and one
// that holds anything at all unless force allows replacing the runs in it.
func checkMergeOut(outRoot string, roots []string, folders []shardFolder, force bool) error {
	out, err := results.ResolvedDir(outRoot)
	if err != nil {
		return err
	}
	dirs := slices.Clone(roots)
	for _, f := range folders {
		dirs = append(dirs, f.dir)
	}
	for _, dir := range dirs {
		in, err := results.ResolvedDir(dir)
		if err != nil {
			return err
		}
		if inside(out, in) || inside(in, out) {
			return fmt.Errorf("%w: -out %s and the shard folder %s are one folder or one inside the other; merge into a folder of its own", ErrOutputInUse, outRoot, dir)
		}
	}
	entries, err := os.ReadDir(outRoot)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("output folder %s: %w", outRoot, err)
	case len(entries) > 0 && !force:
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return fmt.Errorf("%w: -out %s is not empty (it holds %s): merge into a new or empty folder, or use -force to replace the runs in it",
			ErrOutputInUse, outRoot, strings.Join(names, ", "))
	}
	return nil
}

// writeMerged writes one merged scenario into dir: the points' records as
// the shards wrote them, the LMBenchmark files when a shard wrote them,
// then results.json (and server_metrics.json). A run already in dir (only
// with -force) is moved aside first and deleted once the new one is
// written, as exec -force does.
func writeMerged(dir string, p *mergePlan) error {
	if err := checkWritable(dir); err != nil {
		return err
	}
	o := &output{dir: dir}
	if err := o.lock(); err != nil {
		return err
	}
	defer o.close()
	removeTemps(dir)
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		o.replace = true
	}
	if err := o.beforeSave(); err != nil {
		return err
	}
	for i := range p.r.Points {
		if err := copyRecords(dir, p, &p.r.Points[i]); err != nil {
			return err
		}
	}
	if p.lmbench {
		if err := writeMergedLMBench(dir, p.r); err != nil {
			return err
		}
	}
	if err := results.Save(dir, p.r); err != nil {
		return err
	}
	o.afterSave()
	return nil
}

// copyRecords copies a point's records file from its shard folder.
func copyRecords(dir string, p *mergePlan, pt *results.Point) error {
	f := p.from[[2]int{pt.Concurrent, pt.Sequential}]
	rel := filepath.FromSlash(pt.Records)
	b, err := os.ReadFile(filepath.Join(f.dir, rel))
	if err != nil {
		return fmt.Errorf("shard folder %s: point %s: %w", f.dir, pt.Name(), err)
	}
	return results.WriteFile(filepath.Join(dir, rel), b)
}

// writeMergedLMBench writes every point in LMBenchmark's format, as exec
// -lmbench does, each naming the base URL that measured it.
func writeMergedLMBench(dir string, r *results.Results) error {
	for i := range r.Points {
		pt := &r.Points[i]
		recs, err := results.ReadRecords(filepath.Join(dir, filepath.FromSlash(pt.Records)))
		if err != nil {
			return err
		}
		rr := *r
		if pt.TargetBaseURL != "" {
			rr.Target.BaseURL = pt.TargetBaseURL
		}
		if err := results.WriteLMBench(filepath.Join(dir, "lmbench"), &rr, pt, recs); err != nil {
			return err
		}
	}
	return nil
}
