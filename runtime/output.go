package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// ErrOutputInUse: the output folder holds a run this one may not continue
// or replace as asked (a usage error: exit 2).
var ErrOutputInUse = errors.New("output folder in use")

// output is a run's folder and what the run may do with what it holds.
// Finished results are never overwritten or mixed: a folder that holds a
// run is continued only with -resume and only when the finished points
// were measured the same way (see identity), and replaced only with
// -force, and then only once the new run has a point of its own to save.
type output struct {
	dir      string
	replace  bool // -force over an existing run: clear it at the first save
	resumed  bool // finished points were adopted
	replaced bool
	lockFile *os.File // the lock this run wrote, held open (and flocked) until close
	ok       bool     // opened for the run (else released on the way out)
	aside    string   // where a replaced run waits until the first save is done
}

// lockName marks a folder a run is writing to: its content names the
// writing process (see holder).
const lockName = ".mrqa.lock"

// lock claims the folder for this run. A lock left by a process that no
// longer runs (killed) is taken over; one held by a live process, or by a
// process on another host, is refused.
func (o *output) lock() error {
	path := filepath.Join(o.dir, lockName)
	self := thisProcess()
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprint(f, self)
			holdLock(f)
			o.lockFile = f
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("output folder %s: %w", o.dir, err)
		}
		b, _ := os.ReadFile(path)
		h := parseHolder(b)
		if held, elsewhere := h.heldBy(self, path); held {
			return h.refusal(o.dir, path, elsewhere)
		}
		_ = os.Remove(path) // a killed run's lock
	}
	return fmt.Errorf("%w: could not claim %s", ErrOutputInUse, o.dir)
}

// close releases the folder.
func (o *output) close() {
	if o.lockFile != nil {
		_ = os.Remove(filepath.Join(o.dir, lockName))
		o.lockFile.Close()
		o.lockFile = nil
	}
}

// openOutput checks dir before the first point: that it is writable, that
// no other run is writing to it, what it holds, and whether this run may
// continue or replace it. Temporary files a killed run left behind are
// removed. It sets r's identity (from ident, given the folder's salt) and
// fills r with the adopted points when resuming. The caller must release
// the folder (o.close) when the run ends.
func openOutput(dir string, opts Options, r *results.Results, ident func(salt string) map[string]string, prog *progress) (*output, error) {
	if opts.Resume && opts.Force {
		return nil, fmt.Errorf("%w: -resume and -force contradict each other: continue the run in %s, or replace it", ErrOutputInUse, dir)
	}
	o := &output{dir: dir}
	if err := checkWritable(dir); err != nil {
		return nil, err
	}
	if err := o.lock(); err != nil {
		return nil, err
	}
	removeTemps(dir)
	o.ok = true
	prev, err := results.Load(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if opts.Resume {
			prog.line("resume: nothing to resume in %s; starting from the first point", dir)
		}
		r.IdentitySalt = saltFor(r)
		r.Identity = ident(r.IdentitySalt)
		return o, nil
	case err != nil:
		o.close()
		return nil, fmt.Errorf("%w: %s holds a results.json that cannot be read (%v); use -force to replace it or -out for another folder", ErrOutputInUse, dir, err)
	}
	r.IdentitySalt = prev.IdentitySalt
	if r.IdentitySalt == "" || opts.Force {
		r.IdentitySalt = saltFor(r)
	}
	r.Identity = ident(r.IdentitySalt)
	o.ok = false
	defer func() {
		if !o.ok {
			o.close()
		}
	}()
	if was, is := shardText(prev.Shard), shardText(r.Shard); opts.Resume && was != is {
		return nil, fmt.Errorf("%w: cannot resume %s: it holds %s, and this run is %s. Resume it with the -shard it ran with, or use -out for another folder",
			ErrOutputInUse, dir, was, is)
	}
	diff := identityDiff(prev.Identity, r.Identity)
	if len(prev.Identity) == 0 {
		diff = []string{"the measurement's identity (not recorded: an older mrqa wrote it)"}
	}
	switch {
	case opts.Force:
		o.replace, o.ok = true, true
		prog.line("-force: %s holds %s; it is replaced once this run has a point to save", dir, describeRun(prev))
		return o, nil
	case opts.Resume && len(diff) == 0:
		o.resumed, o.ok = true, true
		adopt(r, prev, prog)
		return o, nil
	case opts.Resume:
		return nil, fmt.Errorf("%w: cannot resume %s: its finished points were measured with a different %s%s. Use -force to replace them, or -out for another folder",
			ErrOutputInUse, dir, strings.Join(diff, ", "), filesNote(prev.Files, r.Files))
	}
	msg := fmt.Sprintf("%s already holds %s. Use -resume to continue it, -force to replace it, or -out for another folder", dir, describeRun(prev))
	if len(diff) > 0 {
		msg += "; this run differs in " + strings.Join(diff, ", ")
	}
	return nil, fmt.Errorf("%w: %s", ErrOutputInUse, msg)
}

// filesNote names the configuration's files that differ from the previous
// run's, "" when it recorded none or none differ: "; files changed since
// that run: cluster.hcl (edited)".
func filesNote(prev, cur []results.File) string {
	if len(prev) == 0 {
		return ""
	}
	before := map[string]string{}
	for _, f := range prev {
		before[f.Path] = f.SHA256
	}
	var out []string
	for _, f := range cur {
		sum, ok := before[f.Path]
		switch {
		case !ok:
			out = append(out, f.Path+" (new)")
		case sum != f.SHA256:
			out = append(out, f.Path+" (edited)")
		}
		delete(before, f.Path)
	}
	for _, path := range slices.Sorted(maps.Keys(before)) {
		out = append(out, path+" (gone)")
	}
	if len(out) == 0 {
		return ""
	}
	return "; files changed since that run: " + strings.Join(out, ", ")
}

func describeRun(r *results.Results) string {
	return fmt.Sprintf("a run of scenario %q from %s (%d point%s, started %s)",
		r.Scenario, r.File.Path, len(r.Points), plural(len(r.Points)), r.Started.Format("2006-01-02 15:04 MST"))
}

// adopt takes the previous run's finished points, except those whose
// failures the target being down explains: they measured an absent
// server, not a loaded one, and run again.
func adopt(r, prev *results.Results, prog *progress) {
	wasDown := strings.HasPrefix(prev.Stopped, ErrTargetDown.Error())
	for _, p := range prev.Points {
		if wasDown && hasConnectErrors(p) {
			prog.line("resume: point C=%d S=%d failed to connect while the target was down; it runs again", p.Concurrent, p.Sequential)
			continue
		}
		r.Points = append(r.Points, p)
	}
	r.Started = prev.Started
	r.ServerSeries = prev.ServerSeries
}

func hasConnectErrors(p results.Point) bool {
	return p.Errors[metrics.ErrConnect]+p.Errors[metrics.ErrTimeoutConnect] > 0
}

// beforeSave moves a replaced run's files aside once, just before the new
// run's first point is written; afterSave deletes them once it is. A kill
// in between leaves the old run in .replaced-*, never lost.
func (o *output) beforeSave() error {
	if !o.replace || o.replaced {
		return nil
	}
	aside := filepath.Join(o.dir, ".replaced-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Mkdir(aside, 0o755); err != nil {
		return fmt.Errorf("replace %s: %w", o.dir, err)
	}
	for _, name := range replacedNames {
		err := os.Rename(filepath.Join(o.dir, name), filepath.Join(aside, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replace %s: %w", o.dir, err)
		}
	}
	o.aside, o.replaced = aside, true
	return nil
}

// afterSave deletes the replaced run's files once the new run's first
// point is on disk.
func (o *output) afterSave() {
	if o.aside != "" {
		_ = os.RemoveAll(o.aside)
		o.aside = ""
	}
}

// replacedNames are a run's outputs in its folder.
var replacedNames = []string{"points", "lmbench", "results.json", results.SeriesFile, "report.html"}

// checkWritable creates dir and a file in it, so an unwritable folder (or
// a file named as the folder) fails before the first point, not after it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".mrqa-write-check*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// removeTemps deletes the temporary files of atomic writes that a killed
// run left in dir and its points and lmbench folders.
func removeTemps(dir string) {
	for _, sub := range []string{".", "points", "lmbench"} {
		matches, _ := filepath.Glob(filepath.Join(dir, sub, ".*.tmp*"))
		for _, m := range matches {
			_ = os.Remove(m)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// CheckDirs refuses scenarios whose output folders, resolved with the run's
// output root, are one folder or one inside the other: one run would
// overwrite, mix with or (with -force) delete another's results.
func CheckDirs(scs []*spec.Scenario, outRoot string) error {
	type folder struct{ name, abs string }
	var seen []folder
	for _, sc := range scs {
		abs, err := results.ResolvedDir(Dir(sc, outRoot))
		if err != nil {
			return fmt.Errorf("output folder of scenario %q: %w", sc.Name, err)
		}
		for _, f := range seen {
			if inside(abs, f.abs) || inside(f.abs, abs) {
				return fmt.Errorf("%w: Two scenarios write to one folder: scenario %q to %s and scenario %q to %s, one the same as or inside the other. Give each its own report { dir }",
					ErrOutputInUse, f.name, f.abs, sc.Name, abs)
			}
		}
		seen = append(seen, folder{sc.Name, abs})
	}
	return nil
}

// inside reports whether path is dir or lies under it.
func inside(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}
