//go:build !linux

package runtime

// pidNamespace is "" where the platform has no PID namespaces to tell.
func pidNamespace() string { return "" }
