//go:build !unix

package clientcheck

import "time"

// processCPU is not measured on this platform; utilization is then unknown
// and only stalls decide.
func processCPU() (time.Duration, bool) { return 0, false }
