// Package sysmem tells how much memory the machine has, where the platform
// says; validate uses it to warn about grids the client cannot hold.
package sysmem

// Total is the machine's physical memory in bytes, or 0 when unknown.
func Total() uint64 { return total() }
