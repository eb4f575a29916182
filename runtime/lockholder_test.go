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
	self := holder{pid: os.Getpid(), host: "mrqa-sweep-2", pidNS: "pid:[4026532451]"}
	own := strconv.Itoa(self.pid)
	tests := []struct {
		name            string
		lock            string
		held, elsewhere bool
	}{
		{"a live process here, as an older mrqa wrote it", own + "\n", true, false},
		{"a live process here", own + "\nhost=mrqa-sweep-2\npidns=pid:[4026532451]\n", true, false},
		{"a process on another host", "7\nhost=laptop\npidns=pid:[4026531836]\n", true, true},
		{"the same pid in another namespace: a container since ended", own + "\nhost=mrqa-sweep-2\npidns=pid:[4026532999]\n", false, false},
		{"no namespace recorded: the pid tells", own + "\nhost=mrqa-sweep-2\n", true, false},
		{"not a lock mrqa wrote", "busy", false, false},
		{"empty", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			held, elsewhere := parseHolder([]byte(tc.lock)).heldBy(self)
			if held != tc.held || elsewhere != tc.elsewhere {
				t.Errorf("lock %q: held %v, elsewhere %v; want %v, %v", tc.lock, held, elsewhere, tc.held, tc.elsewhere)
			}
		})
	}
	if got := parseHolder([]byte(self.String())); got != self {
		t.Errorf("parseHolder(%q) = %+v, want %+v", self.String(), got, self)
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
