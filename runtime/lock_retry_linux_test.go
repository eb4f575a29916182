package runtime

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestLockOfRetriedContainerReusingNamespaceNumber is
// TestLockOfDeadContainerTakenOver with the pause a Job's backoff puts
// between a killed pod and its retry (10 s and more; a moment is enough
// here). By then the dead container's PID namespace is gone and its number
// is free, and the kernel gives the retry the lowest free one: often the
// very number in the lock. The retried container (pid 1, same host name
// in an Indexed Job) then reads the lock as its own live process and is
// refused with exit 2, which the sweep Job's podFailurePolicy turns into a
// failed index: the shard's remaining points are lost.
func TestLockOfRetriedContainerReusingNamespaceNumber(t *testing.T) {
	for try := range 8 {
		dir := t.TempDir()
		if out, err := lockHelper(t, "claim-and-die", dir); err != nil {
			t.Fatalf("first container: %v\n%s", err, out)
		}
		lock, _ := os.ReadFile(dir + "/" + lockName)
		time.Sleep(200 * time.Millisecond) // the namespace is released
		out, err := lockHelper(t, "claim", dir)
		if err != nil || !strings.Contains(out, "claimed") {
			t.Fatalf("try %d: the retried container could not claim the folder its killed predecessor left (lock %q): %v\n%s", try, lock, err, out)
		}
	}
}
