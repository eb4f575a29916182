package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestLockOfDeadContainerTakenOver runs two processes, one after the other,
// each as process 1 of its own PID namespace, as a container's entrypoint
// is: the first claims a folder and dies without releasing it (a pod
// killed for memory, or lost with its node), the second claims the same
// folder (the pod that retries it). The second must take the lock over:
// the pid in it names the dead process in a namespace that is gone, not
// the second process, which happens to have the same pid.
func TestLockOfDeadContainerTakenOver(t *testing.T) {
	dir := t.TempDir()
	if out, err := lockHelper(t, "claim-and-die", dir); err != nil {
		t.Fatalf("first container: %v\n%s", err, out)
	}
	b, err := os.ReadFile(dir + "/" + lockName)
	if err != nil {
		t.Fatalf("the first container left no lock: %v", err)
	}
	if !strings.HasPrefix(string(b), "1\n") {
		t.Fatalf("lock %q: want the pid 1 of the first container's namespace", b)
	}
	out, err := lockHelper(t, "claim", dir)
	if err != nil {
		t.Fatalf("a retried container could not claim the folder its killed predecessor left: %v\n%s", err, out)
	}
	if !strings.Contains(out, "claimed") {
		t.Fatalf("the helper did not claim the folder:\n%s", out)
	}
}

// TestLockHelperProcess is not a test: it is the container of
// TestLockOfDeadContainerTakenOver, run as process 1 of a new PID namespace.
func TestLockHelperProcess(t *testing.T) {
	mode, dir, ok := strings.Cut(os.Getenv("MRQA_LOCK_HELPER"), ":")
	if !ok {
		t.Skip("the helper process of TestLockOfDeadContainerTakenOver")
	}
	o := &output{dir: dir}
	if err := o.lock(); err != nil {
		fmt.Println("refused:", err)
		os.Exit(3)
	}
	fmt.Println("claimed as pid", os.Getpid())
	if mode == "claim" {
		o.close()
	}
	os.Exit(0) // claim-and-die leaves the lock behind, as a killed process does
}

// lockHelper runs TestLockHelperProcess as process 1 of a new PID
// namespace (and a user namespace when not root), skipping the test where
// the system allows neither.
func lockHelper(t *testing.T, mode, dir string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "MRQA_LOCK_HELPER="+mode+":"+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if uid, gid := os.Getuid(), os.Getgid(); uid != 0 {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Skipf("cannot start a process in a new PID namespace here: %v", err)
	}
	return string(out), err
}

// TestStatStart checks field 22 is read after the command, whose
// parentheses may hold spaces and parentheses of their own.
func TestStatStart(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 19 20\n"
	tests := []struct{ name, stat, want string }{
		{"plain", "12 (mrqa)" + tail, "424242"},
		{"a command with spaces and parentheses", "12 (my (odd) cmd)" + tail, "424242"},
		{"cut short", "12 (mrqa) S 1 2", ""},
		{"not a stat file", "busy", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/stat"
			if err := os.WriteFile(path, []byte(tc.stat), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := statStart(path); got != tc.want {
				t.Errorf("statStart(%q) = %q, want %q", tc.stat, got, tc.want)
			}
		})
	}
	if selfStart() == "" || selfStart() != processStart(os.Getpid()) {
		t.Errorf("selfStart() = %q, processStart(own pid) = %q: want one non-empty value", selfStart(), processStart(os.Getpid()))
	}
}
