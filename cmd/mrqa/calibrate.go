package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mrqa-dev/mrqa/internal/atomicfile"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
	rt "github.com/mrqa-dev/mrqa/runtime"
	"github.com/mrqa-dev/mrqa/runtime/calibrate"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

const calibrateUsage = `usage: mrqa calibrate FILE.hcl... | DIR [-scenario NAME] [-out FILE] [-var name=value]...
       mrqa calibrate -from DIR [DIR...] [-out FILE] [-base PROFILE]

Runs a short, bounded probe against the scenario's target (cold prefills at
several prompt lengths, cached follow-ups, concurrent decodes, the KV
capacity /metrics states or, when it states none, a ladder of sessions
that finds where the prefix cache stops holding them), fits the embedded simulator's cost model to it
and writes a profile file that a simulator block loads with
profile_file = "FILE". The plan and an upper bound on its duration are
printed before anything is sent; the fit, its residuals and what the probe
could not identify are printed after and kept in the file.

With -from it sends nothing: it fits the same model to the records of runs
already made (mrqa output folders, or folders of LMBenchmark run files),
using the requests the model can explain, and prints each point's
residuals.

examples:
  mrqa calibrate scenarios/novel-critic.hcl -out gpu1.json
  mrqa calibrate -from out/novel-critic -out gpu1.json
`

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("calibrate", calibrateUsage, stdout, stderr)
	fc := fileCommand{name: "calibrate"}
	fc.register(fs, true)
	out := fs.String("out", "", "profile file to write (default: SCENARIO-profile.json)")
	base := fs.String("base", calibrate.DefaultBase, "profile whose values stand for what the probe cannot identify")
	lengths := fs.String("lengths", "", "cold prompt lengths in tokens, comma-separated (default: "+joinInts(calibrate.DefaultLengths)+", up to half the context)")
	batches := fs.String("batches", "1,4,16", "concurrent streams of the decode probes, comma-separated")
	repeats := fs.Int("repeats", 2, "times each prompt length is probed")
	decodeTokens := fs.Int("decode-tokens", 32, "tokens each probe request streams")
	limit := fs.Duration("request-limit", 2*time.Minute, "bound on each probe request (the target's own timeouts apply too)")
	from := fs.Bool("from", false, "fit from the run folders named as arguments instead of probing")
	ladder := fs.String("kv-ladder", calibrate.LadderAuto, "measure the KV capacity with a ladder of sessions: auto (when /metrics states none, or an offload tier shows), always, off")
	ladderSession := fs.Int("kv-ladder-session", calibrate.DefaultLadderSession, "tokens per KV ladder session")
	ladderMax := fs.Int("kv-ladder-max", calibrate.DefaultLadderMax, "largest total in tokens the KV ladder tries")
	force := fs.Bool("force", false, "replace the profile file at -out if one is there (never any other file)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *from {
		return calibrateFromRuns(pos, *base, *out, *force, stdout, stderr)
	}
	opts := calibrate.Options{Base: *base, Repeats: *repeats, DecodeTokens: *decodeTokens, RequestLimit: *limit,
		KVLadder: *ladder, LadderSession: *ladderSession, LadderMax: *ladderMax, Progress: stderr, Tokenizers: tokenizer.NewCache()}
	if err = checkLadder(opts); err == nil {
		opts.Lengths, err = parseInts(*lengths)
	}
	if err == nil {
		opts.Batches, err = parseInts(*batches)
	}
	switch {
	case err != nil:
	case len(opts.Batches) == 0:
		err = fmt.Errorf("-batches %q: name at least one batch size", *batches)
	case *repeats < 1:
		err = fmt.Errorf("-repeats %d: want at least 1", *repeats)
	case *limit <= 0:
		err = fmt.Errorf("-request-limit %s: want a positive duration", *limit)
	case *decodeTokens < 1:
		err = fmt.Errorf("-decode-tokens %d: want a positive number", *decodeTokens)
	}
	if err == nil {
		err = opts.Check()
	}
	if err != nil {
		fmt.Fprintln(stderr, "mrqa calibrate:", err)
		return exitcode.Usage
	}
	file, selected, code := fc.load(pos, stderr)
	if code != exitcode.OK {
		return code
	}
	if len(selected) != 1 {
		fmt.Fprintf(stderr, "mrqa calibrate: the file has %d scenarios; name one with -scenario\n", len(selected))
		return exitcode.Usage
	}
	return calibrateScenario(ctx, selected[0], file.Secrets, opts, *out, *force, stdout, stderr)
}

func calibrateScenario(ctx context.Context, sc *spec.Scenario, secrets []string, opts calibrate.Options, out string, force bool, stdout, stderr io.Writer) int {
	if out == "" {
		out = sc.Name + "-profile.json"
	}
	if err := checkOut(out, force); err != nil {
		fmt.Fprintln(stderr, "mrqa calibrate:", err)
		return exitcode.Usage
	}
	res, err := calibrate.Run(ctx, sc, opts)
	if err != nil {
		fmt.Fprintln(stderr, "mrqa calibrate:", rt.Redact(err.Error(), secrets))
		if ctx.Err() != nil {
			return exitcode.Interrupted
		}
		return exitcode.Failure
	}
	return writeProfile(res, out, stdout, stderr)
}

// writeProfile writes the fitted profile to out and prints the fit: its
// parameters, their quality and, for a fit from runs, each point's
// residuals.
func writeProfile(res *calibrate.Result, out string, stdout, stderr io.Writer) int {
	data, err := res.Encode()
	if err == nil {
		err = atomicfile.WriteBytes(out, data, atomicfile.Options{Perm: 0o644})
	}
	if err != nil {
		fmt.Fprintln(stderr, "mrqa calibrate:", err)
		return exitcode.Failure
	}
	writeCalibration(stdout, res.Calibration)
	writeRunPoints(stdout, res.Calibration.Runs) // nothing for a probe
	fmt.Fprintf(stdout, "wrote %s: load it with simulator { profile_file = %q }\n", out, out)
	return exitcode.OK
}

// calibrateFromRuns fits the profile to the records of the run folders
// dirs and writes it to out (default: the first folder's name + -profile.json).
func calibrateFromRuns(dirs []string, base, out string, force bool, stdout, stderr io.Writer) int {
	if len(dirs) == 0 {
		fmt.Fprintln(stderr, "mrqa calibrate: -from needs at least one run folder")
		return exitcode.Usage
	}
	if out == "" {
		name := filepath.Clean(dirs[0])
		if abs, err := filepath.Abs(name); err == nil {
			name = abs // "." names the folder it is
		}
		out = filepath.Base(name) + "-profile.json"
	}
	if err := checkOut(out, force); err != nil {
		fmt.Fprintln(stderr, "mrqa calibrate:", err)
		return exitcode.Usage
	}
	res, err := calibrate.FromRuns(dirs, base)
	if err != nil {
		fmt.Fprintln(stderr, "mrqa calibrate:", err)
		return exitcode.Failure
	}
	return writeProfile(res, out, stdout, stderr)
}

// writeRunPoints prints, per point of the runs, the records each fit used,
// those left out and why, and the mean and RMS residuals.
func writeRunPoints(w io.Writer, runs *calibrate.Runs) {
	if runs == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "point\trecords\tttft used\tqueued\tttft mean\tttft rms\titl used\titl mean\titl rms\t")
	for _, p := range runs.Points {
		name := fmt.Sprintf("c%d_s%d", p.Concurrent, p.Sequential)
		if len(runs.Dirs) > 1 {
			name = p.Run + " " + name
		}
		if p.Why != "" {
			fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t\t%s\n", name, p.Why)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t\n", name, p.Records, p.TTFTRows, p.Queued,
			residualMS(p.TTFTMeanMS, p.TTFTRows), residualMS(p.TTFTRMSMS, p.TTFTRows),
			p.ITLRows, residualMS(p.ITLMeanMS, p.ITLRows), residualMS(p.ITLRMSMS, p.ITLRows))
	}
	_ = tw.Flush()
}

// residualMS is a residual in ms, or "-" where no record was fitted.
func residualMS(v float64, rows int) string {
	if rows == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", v)
}

// writeCalibration prints the fitted fields, what was not identified, the
// KV capacity and the fits' residuals.
func writeCalibration(w io.Writer, c calibrate.Calibration) {
	if c.Runs != nil {
		fmt.Fprintf(w, "calibrated from %s (model %s) against base profile %s\n", c.Source, c.Model, c.Base)
	} else {
		fmt.Fprintf(w, "calibrated %s (model %s) in %s against base profile %s\n", c.Target, c.Model,
			time.Duration(c.Seconds*float64(time.Second)).Round(time.Second/10), c.Base)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "field\tvalue\t± stderr\t")
	for _, p := range c.Params {
		switch {
		case p.Identified && p.Why != "":
			fmt.Fprintf(tw, "%s\t%.4g\t%.2g\t%s\n", p.Name, p.Value, p.StdErr, p.Why)
		case p.Identified:
			fmt.Fprintf(tw, "%s\t%.4g\t%.2g\t\n", p.Name, p.Value, p.StdErr)
		default:
			fmt.Fprintf(tw, "%s\t%.4g\t\tnot identified, base value kept: %s\n", p.Name, p.Value, p.Why)
		}
	}
	switch {
	case c.KV.Tokens > 0 && c.KV.Bracket[1] > 0:
		fmt.Fprintf(tw, "kv_cache_tokens\t%d\t\tfrom a %s: %d tokens stayed cached, %d did not\n", c.KV.Tokens, c.KV.Source, c.KV.Bracket[0], c.KV.Bracket[1])
	case c.KV.Tokens > 0:
		fmt.Fprintf(tw, "kv_cache_tokens\t%d\t\tfrom %s\n", c.KV.Tokens, c.KV.Source)
	default:
		fmt.Fprintf(tw, "kv_cache_tokens\t\t\tnot identified, base value kept: %s\n", c.KV.Why)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "overhead outside the server model: %.2f ms per request\n", c.OverheadMS)
	rows := "probes"
	if c.Runs != nil {
		rows = "records"
	}
	for _, q := range c.Quality {
		fmt.Fprintf(w, "%s fit: %d %s, rms residual %.2f ms, largest %.1f%% of the measured value\n", q.Fit, q.Rows, rows, q.RMSMS, 100*q.MaxFraction)
	}
	for _, u := range c.Unexplained {
		fmt.Fprintln(w, "not explained by the cost model:", u)
	}
	for _, n := range c.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// checkOut refuses to write the profile over a file that is there: over
// an earlier profile only with -force (runs that loaded it name it by path
// and digest), and over anything that is not a profile file never.
func checkOut(out string, force bool) error {
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("-out %s: %w", out, err)
	case st.IsDir():
		return fmt.Errorf("-out %s is a folder; name the profile file to write", out)
	}
	if _, err := profile.ReadFile(out); err != nil {
		return fmt.Errorf("-out %s exists and is not a profile file: calibrate never replaces anything else", out)
	}
	if !force {
		return fmt.Errorf("-out %s exists: runs that loaded it name it by path and digest; -force replaces it, or name another file", out)
	}
	return nil
}

func checkLadder(o calibrate.Options) error {
	switch {
	case o.KVLadder != calibrate.LadderAuto && o.KVLadder != calibrate.LadderAlways && o.KVLadder != calibrate.LadderOff:
		return fmt.Errorf("-kv-ladder %q: want auto, always or off", o.KVLadder)
	case o.LadderSession <= 0 || o.LadderMax <= 0:
		return fmt.Errorf("-kv-ladder-session and -kv-ladder-max must be positive")
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive whole numbers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
