//go:build !linux

package runtime

// selfStart is "" where the platform does not tell when a process started.
func selfStart() string { return "" }

// processStart is "" where the platform does not tell when a process started.
func processStart(int) string { return "" }

// bootID is "" where the platform does not name its boots.
func bootID() string { return "" }
