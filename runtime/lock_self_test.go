package runtime

import (
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
