package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockHolder(t *testing.T) {
	self := holder{pid: os.Getpid(), host: "mrqa-sweep-2", pidNS: "pid:[4026532451]", start: "900", boot: "b1"}
	own := strconv.Itoa(self.pid)
	// Process 77 runs here, started at tick 5000, and so does this one.
	alive := func(pid int) (bool, string) { return pid == 77 || pid == self.pid, map[int]string{77: "5000"}[pid] }
	here := "\nhost=mrqa-sweep-2\npidns=pid:[4026532451]\n"
	tests := []struct {
		name            string
		lock            string
		held, elsewhere bool
	}{
		{"a live process here, as an older mrqa wrote it", "77\n", true, false},
		{"a live process here", "77" + here + "start=5000\nboot=b1\n", true, false},
		{"a live process here, no start recorded: the pid tells", "77" + here, true, false},
		{"a dead process here", "78" + here + "start=5000\nboot=b1\n", false, false},
		{"the pid now names a process started later", "77" + here + "start=4000\nboot=b1\n", false, false},
		{"a process of an earlier boot", "77" + here + "start=5000\nboot=b0\n", false, false},
		{"this very process: a dead predecessor with its pid, host and reused namespace number", own + here, false, false},
		{"this very process, with its start", own + here + "start=900\nboot=b1\n", false, false},
		{"this pid, no namespace recorded: the pid tells", own + "\nhost=mrqa-sweep-2\n", true, false},
		{"a process on another host", "7\nhost=laptop\npidns=pid:[4026531836]\n", true, true},
		{"the same pid in another namespace: a container since ended", "77\nhost=mrqa-sweep-2\npidns=pid:[4026532999]\n", false, false},
		{"not a lock mrqa wrote", "busy", false, false},
		{"empty", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			held, elsewhere := parseHolder([]byte(tc.lock)).heldSeen(self, alive, func() bool { return false })
			if held != tc.held || elsewhere != tc.elsewhere {
				t.Errorf("lock %q: held %v, elsewhere %v; want %v, %v", tc.lock, held, elsewhere, tc.held, tc.elsewhere)
			}
		})
	}
	if got := parseHolder([]byte(self.String())); got != self {
		t.Errorf("parseHolder(%q) = %+v, want %+v", self.String(), got, self)
	}
}

// TestLockOfLiveProcessRefused checks a lock naming a running process of
// this host, as that process wrote it, is refused: the parent of this test
// process stands for another mrqa run.
func TestLockOfLiveProcessRefused(t *testing.T) {
	parent := thisProcess()
	parent.pid = os.Getppid()
	parent.start = processStart(parent.pid)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, lockName), []byte(parent.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &output{dir: dir}
	if err := o.lock(); !errors.Is(err, ErrOutputInUse) {
		o.close()
		t.Fatalf("lock() over a live process's lock = %v, want ErrOutputInUse", err)
	}
}

// TestLockFromAnotherHost checks a lock written on another host is refused,
// and that the refusal names the host and the file to delete once that run
// has ended: nothing here can tell whether it has.
func TestLockFromAnotherHost(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, lockName)
	if err := os.WriteFile(path, []byte("4242\nhost=elsewhere.example\npidns=pid:[1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &output{dir: dir}
	err := o.lock()
	if !errors.Is(err, ErrOutputInUse) {
		t.Fatalf("lock() = %v, want ErrOutputInUse", err)
	}
	for _, want := range []string{"process 4242 on host elsewhere.example", "delete " + path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
}
