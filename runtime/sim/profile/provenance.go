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
	p := Provenance{SHA256: hex.EncodeToString(sum[:])}
	var f struct {
		Calibration struct {
			Source  string `json:"source"`
			Started string `json:"started"`
		} `json:"calibration"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Provenance{}, fmt.Errorf("profile file %s: %w", path, err)
	}
	p.Source, p.Calibrated = f.Calibration.Source, f.Calibration.Started
	return p, nil
}
