package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mrqa-dev/mrqa/internal/atomicfile"
	"github.com/mrqa-dev/mrqa/runtime/metrics"
	"github.com/mrqa-dev/mrqa/runtime/promscrape"
)

// WriteFile writes data to path atomically: a temporary file in the same
// directory, synced, then renamed over path, so a reader (or a crash) never
// sees a half-written file.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: create %s: %w", dir, err)
	}
	o := atomicfile.Options{Pattern: "." + filepath.Base(path) + ".tmp*", Perm: 0o644, Sync: true}
	if err := atomicfile.WriteBytes(path, data, o); err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encode %s: %w", path, err)
	}
	return WriteFile(path, append(b, '\n'))
}

// SeriesFile holds a run's scrapes of the target's /metrics, beside results.json.
const SeriesFile = "server_metrics.json"

// Save writes results.json under dir, and server_metrics.json when the run
// scraped the target.
func Save(dir string, r *Results) error {
	if r.ServerSeries != nil {
		b, err := json.Marshal(r.ServerSeries)
		if err != nil {
			return fmt.Errorf("results: encode %s: %w", SeriesFile, err)
		}
		if err := WriteFile(filepath.Join(dir, SeriesFile), append(b, '\n')); err != nil {
			return err
		}
	}
	return WriteJSON(filepath.Join(dir, "results.json"), r)
}

// Load reads dir/results.json.
func Load(dir string) (*Results, error) {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("results: %s: %w", filepath.Join(dir, "results.json"), err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("results: %s: schema version %d, this mrqa reads %d", dir, r.SchemaVersion, SchemaVersion)
	}
	if b, err := os.ReadFile(filepath.Join(dir, SeriesFile)); err == nil {
		var ser promscrape.Series
		if err := json.Unmarshal(b, &ser); err != nil {
			return nil, fmt.Errorf("results: %s: %w", filepath.Join(dir, SeriesFile), err)
		}
		r.ServerSeries = &ser
	}
	return &r, nil
}

// ResolvedDir is a run folder's identity: its absolute path with symbolic
// links resolved, so that "out/run", "out/run/" and a link to it are one
// folder. A path that does not exist yet is resolved through its nearest
// existing ancestor, so that a new folder under a link to a run (link/new)
// is seen inside that run.
func ResolvedDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("folder %s: %w", dir, err)
	}
	rest := ""
	for d := abs; ; d = filepath.Dir(d) {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			return filepath.Join(real, rest), nil
		}
		if filepath.Dir(d) == d {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(d), rest)
	}
}

// RecordsPath is the per-request file of a point, relative to the scenario's directory.
func RecordsPath(c, s int) string {
	return filepath.Join("points", fmt.Sprintf("c%d_s%d.jsonl", c, s))
}

// RateRecordsPath is the per-request file of an open-loop point at rate
// (sessions per minute), relative to the scenario's directory.
func RateRecordsPath(rate float64) string {
	return filepath.Join("points", "rate_"+FormatRate(rate)+".jsonl")
}

// FormatRate writes a rate as short as it can be read back exactly.
func FormatRate(rate float64) string {
	return strconv.FormatFloat(rate, 'g', -1, 64)
}

// WriteRecords writes one JSON object per line, atomically.
func WriteRecords(path string, recs []metrics.Record) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return fmt.Errorf("results: encode record %s: %w", recs[i].ID, err)
		}
	}
	return WriteFile(path, buf.Bytes())
}

// ReadRecords reads a file written by WriteRecords.
func ReadRecords(path string) ([]metrics.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	var out []metrics.Record
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	for {
		var r metrics.Record
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("results: %s record %d: %w", path, len(out)+1, err)
		}
		out = append(out, r)
	}
}
