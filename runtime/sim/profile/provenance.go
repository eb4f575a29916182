package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

// Provenance is what a run records of the profile file it ran on: the
// file's digest and, when it has a calibration, what that measured and when.
type Provenance struct {
	SHA256     string
	Source     string // "probe of URL", "runs DIR, …"; "" without a calibration
	Calibrated string // RFC 3339; "" without a calibration
}

// ReadProvenance reads the profile file at path for its digest and its
// calibration's source and date.
func ReadProvenance(path string) (Provenance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Provenance{}, fmt.Errorf("profile file: %w", err)
	}
	sum := sha256.Sum256(data)
	var f struct {
		Calibration json.RawMessage `json:"calibration"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Provenance{SHA256: hex.EncodeToString(sum[:])}, fmt.Errorf("profile file %s: %w", path, err)
	}
	p, err := provenanceOf(f.Calibration)
	p.SHA256 = hex.EncodeToString(sum[:])
	if err != nil {
		return p, fmt.Errorf("profile file %s: %w", path, err)
	}
	return p, nil
}

// provenanceOf reads a profile file's calibration object for where and when
// the params were fitted; absent, it says nothing. The rest of the object
// (the fit and its quality) is the calibrator's and not read here.
func provenanceOf(raw json.RawMessage) (Provenance, error) {
	if len(raw) == 0 {
		return Provenance{}, nil
	}
	var c struct {
		Source  string `json:"source"`
		Started string `json:"started"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Provenance{}, fmt.Errorf("calibration: %w", err)
	}
	return Provenance{Source: c.Source, Calibrated: c.Started}, nil
}
