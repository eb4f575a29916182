//go:build !unix

package main

import "io"

// terminalWidth is unknown off Unix: progress then assumes 80 columns.
func terminalWidth(io.Writer) func() int { return nil }
