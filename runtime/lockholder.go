package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// holder is the process a .mrqa.lock names: its id, the host it ran on and
// its PID namespace (where the platform tells). A process id means
// something only in its own namespace on its own host: the entrypoint of
// every container is process 1, so a retried container finds its own id in
// the lock its killed predecessor left.
type holder struct {
	pid   int
	host  string // "" in a lock an older mrqa wrote
	pidNS string // "" where the platform does not tell, or an older mrqa wrote the lock
}

// thisProcess is the holder this process writes into a lock.
func thisProcess() holder {
	host, _ := os.Hostname()
	return holder{pid: os.Getpid(), host: host, pidNS: pidNamespace()}
}

// String is the lock file's content: the id on the first line, as older
// versions wrote it, then the host and the namespace.
func (h holder) String() string {
	return fmt.Sprintf("%d\nhost=%s\npidns=%s\n", h.pid, h.host, h.pidNS)
}

// parseHolder reads a lock file's content; what it cannot read stays zero.
func parseHolder(b []byte) holder {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var h holder
	h.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		switch k {
		case "host":
			h.host = v
		case "pidns":
			h.pidNS = v
		}
	}
	return h
}

// heldBy says whether the lock's holder h may still be writing, seen from
// self, and whether it runs elsewhere (on another host, where nothing here
// can see its processes, so it is assumed alive). A holder in another PID
// namespace of this host is dead: a container runs one entrypoint, and the
// one that retries a folder (a restarted container, the next pod of a
// Kubernetes Job's index, started only once the last has ended) has a
// namespace of its own. Otherwise the process id tells, as it always has.
func (h holder) heldBy(self holder) (held, elsewhere bool) {
	switch {
	case h.pid <= 0:
		return false, false
	case h.host != "" && self.host != "" && h.host != self.host:
		return true, true
	case h.pidNS != "" && self.pidNS != "" && h.pidNS != self.pidNS:
		return false, false
	}
	return processAlive(h.pid), false
}

// refusal says who holds the lock at path and what to do.
func (h holder) refusal(dir, path string, elsewhere bool) error {
	if elsewhere {
		return fmt.Errorf("%w: another mrqa run (process %d on host %s) is writing to %s; wait for it, or use -out for another folder (if that run has ended, delete %s)",
			ErrOutputInUse, h.pid, h.host, dir, path)
	}
	return fmt.Errorf("%w: another mrqa run (process %d) is writing to %s; wait for it, or use -out for another folder", ErrOutputInUse, h.pid, dir)
}
