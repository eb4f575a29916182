//go:build !unix

package runtime

import "os"

// processAlive reports whether a process with this id runs, as far as the
// platform tells: finding it is enough on Windows.
func processAlive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}
