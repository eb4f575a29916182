//go:build unix

package runtime

import (
	"errors"
	"os"
	"syscall"
)

// holdLock takes an exclusive flock on a lock file this run wrote; it is
// released when the file is closed, or the process ends however it ends.
func holdLock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// lockHeldHere says whether a run holds the lock file at path through
// holdLock: the way to tell a run of this very process still writing from a
// dead predecessor whose pid, host and namespace match this process's.
func lockHeldHere(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
