package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// FileFormat is the format tag a profile file carries.
const FileFormat = "mrqa-profile/1"

// File is a profile file (JSON): a base profile, the fields that replace its
// values, and what produced them. `mrqa calibrate` writes one; a simulator
// block loads one with profile_file. Params hold JSON values: numbers for
// number fields, Go duration strings ("15ms") for duration fields.
type File struct {
	Format string         `json:"format"`
	Base   string         `json:"base"`
	Params map[string]any `json:"params"`
	// Calibration is how the params were obtained (the calibrator's fit and
	// its quality); loading ignores it.
	Calibration json.RawMessage `json:"calibration,omitempty"`
}

// Loaded is a profile file read and checked: the base profile's name and
// the params in Build's value types (float64, string, bool, time.Duration).
type Loaded struct {
	Base   string
	Params map[string]any
}

// ReadFile reads and checks the profile file at path: its format, its base
// profile and every param against the schema, and that the whole builds.
// Errors name the path and, for a JSON syntax error, the line and column.
func ReadFile(path string) (Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Loaded{}, fmt.Errorf("profile file: %w", err)
	}
	l, err := Decode(data)
	var pe *PosError
	if errors.As(err, &pe) {
		return Loaded{}, fmt.Errorf("profile file %s:%d:%d: %w", path, pe.Line, pe.Column, pe.Err)
	}
	if err != nil {
		return Loaded{}, fmt.Errorf("profile file %s: %w", path, err)
	}
	return l, nil
}

// Decode parses a profile file's bytes (see ReadFile).
func Decode(data []byte) (Loaded, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Loaded{}, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Loaded{}, fmt.Errorf("the file goes on after its JSON object ends (at byte %d): one profile per file", dec.InputOffset())
	}
	if _, err := provenanceOf(f.Calibration); err != nil {
		return Loaded{}, err
	}
	if f.Format != FileFormat {
		return Loaded{}, fmt.Errorf("format %q: want %q", f.Format, FileFormat)
	}
	if _, err := Config(f.Base); err != nil {
		return Loaded{}, fmt.Errorf("base: %w", err)
	}
	params, err := typedParams(f.Params)
	if err != nil {
		return Loaded{}, err
	}
	if _, err := Build(&spec.Simulator{Profile: f.Base, Params: params}); err != nil {
		return Loaded{}, err
	}
	return Loaded{Base: f.Base, Params: params}, nil
}

// PosError is an error at a line and column (from 1) of a profile file.
type PosError struct {
	Line, Column int
	Err          error
}

func (e *PosError) Error() string {
	return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
}
func (e *PosError) Unwrap() error { return e.Err }

// jsonError adds the line and column of a syntax or type error.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset - 1 // the offending byte's offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return fmt.Errorf("not a profile file: %w", err)
	}
	line, col := 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &PosError{Line: line, Column: col, Err: err}
}

// typedParams converts JSON values to Build's types, by the schema's kinds.
func typedParams(raw map[string]any) (map[string]any, error) {
	kinds := map[string]string{}
	for _, p := range Schema() {
		kinds[p.Name] = p.Kind
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(raw))
	var errs []error
	for _, k := range keys {
		v := raw[k]
		if kinds[k] == KindDuration {
			d, err := durationValue(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("params.%s: %w", k, err))
				continue
			}
			v = d
		}
		out[k] = v
	}
	return out, errors.Join(errs...)
}

func durationValue(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("want a duration string such as \"15ms\", got %v", v)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d, nil
}

// FileParam is a param as a profile file writes it: durations as strings,
// everything else as is.
func FileParam(v any) any {
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}
