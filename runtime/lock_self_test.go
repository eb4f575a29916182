package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLockNamingThisProcessTakenOver: a lock whose holder is this
// very process (its pid, host and PID namespace) cannot belong to a run
// still writing: this process has not claimed the folder yet. It is what
// the pod retrying an Indexed Job's index finds when its PID namespace got
// the number its killed predecessor's had (the kernel hands out the lowest
// free namespace number, and the retried pod has the same host name,
// mrqa-sweep-I, and pid 1). lock() refused it as "another mrqa run (process
// 1)", exec exited 2, the Job's podFailurePolicy failed the index for good,
// and the user lost the shard's remaining points (docs/kubernetes.md
// promises the retried pod takes the lock over).
func TestLockNamingThisProcessTakenOver(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, lockName), []byte(thisProcess().String()), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &output{dir: dir}
	if err := o.lock(); err != nil {
		t.Fatalf("a lock naming this process itself (a dead predecessor whose PID namespace number was reused) is refused: %v", err)
	}
	o.close()
}

// TestLockOfAnotherRunOfThisProcessRefused: two runs of one process (a
// library user, or tests) into one folder. The lock names this process,
// as a dead predecessor's would, but the first run holds it (its flock):
// the second is refused until the first releases the folder.
func TestLockOfAnotherRunOfThisProcessRefused(t *testing.T) {
	dir := t.TempDir()
	first, second := &output{dir: dir}, &output{dir: dir}
	if err := first.lock(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if err := second.lock(); !errors.Is(err, ErrOutputInUse) {
		second.close()
		t.Fatalf("a second run of this process while the first holds the folder: %v, want ErrOutputInUse", err)
	}
	first.close()
	if err := second.lock(); err != nil {
		t.Fatalf("the second run, once the first released the folder: %v", err)
	}
	second.close()
}
