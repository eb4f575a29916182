package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// holder is the process a .mrqa.lock names: its id, the host it ran on, its
// PID namespace, when it started and since which boot (where the platform
// tells). A process id means something only in its own namespace on its own
// host, and only for one process at a time: the entrypoint of every
// container is process 1, and the kernel hands a freed namespace number to
// the next namespace, so a retried container can find its own id, host and
// namespace in the lock its killed predecessor left. The start time and the
// boot tell those apart.
type holder struct {
	pid   int
	host  string // "" in a lock an older mrqa wrote
	pidNS string // "" where the platform does not tell, or an older mrqa wrote the lock
	start string // the process's start, in clock ticks since boot; "" where unknown
	boot  string // the boot the start counts from; "" where unknown
}

// thisProcess is the holder this process writes into a lock.
func thisProcess() holder {
	host, _ := os.Hostname()
	return holder{pid: os.Getpid(), host: host, pidNS: pidNamespace(), start: selfStart(), boot: bootID()}
}

// String is the lock file's content: the id on the first line, as older
// versions wrote it, then the other fields as key=value lines.
func (h holder) String() string {
	return fmt.Sprintf("%d\nhost=%s\npidns=%s\nstart=%s\nboot=%s\n", h.pid, h.host, h.pidNS, h.start, h.boot)
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
		case "start":
			h.start = v
		case "boot":
			h.boot = v
		}
	}
	return h
}

// probe says whether a process with this id runs here and, where the
// platform tells, when it started ("" otherwise).
type probe func(pid int) (alive bool, start string)

// liveProcess is the probe of this machine.
func liveProcess(pid int) (bool, string) {
	if !processAlive(pid) {
		return false, ""
	}
	return true, processStart(pid)
}

// heldBy says whether the lock at path, whose holder is h, may still be
// written to, seen from self, and whether its holder runs elsewhere (on
// another host, where nothing here can see its processes, so it is
// assumed alive).
func (h holder) heldBy(self holder, path string) (held, elsewhere bool) {
	return h.heldSeen(self, liveProcess, func() bool { return lockHeldHere(path) })
}

// heldSeen is heldBy with the process table read through alive. A holder
// in another PID namespace of this host is dead: a container runs one
// entrypoint, and the one that retries a folder (a restarted container, the
// next pod of a Kubernetes Job's index, started only once the last has
// ended) has a namespace of its own, or one whose number was freed by the
// dead. A lock naming this very process was not written by this run, which
// has not claimed the folder yet: its writer is dead, unless another run of
// this process holds it (ownHeld: its flock, which a dead process's
// releases). Otherwise a process
// with the id must run, and where both are known it must have started when
// the holder did, in the same boot.
func (h holder) heldSeen(self holder, alive probe, ownHeld func() bool) (held, elsewhere bool) {
	switch {
	case h.pid <= 0:
		return false, false
	case h.host != "" && self.host != "" && h.host != self.host:
		return true, true
	case h.pidNS != "" && self.pidNS != "" && h.pidNS != self.pidNS:
		return false, false
	case h.isSelf(self):
		return ownHeld(), false
	case h.boot != "" && self.boot != "" && h.boot != self.boot:
		return false, false
	}
	running, start := alive(h.pid)
	if running && h.start != "" && start != "" {
		return start == h.start, false
	}
	return running, false
}

// isSelf says whether h names self: the same id, host and namespace, each
// recorded.
func (h holder) isSelf(self holder) bool {
	return h.pid == self.pid && h.host != "" && h.host == self.host && h.pidNS == self.pidNS
}

// refusal says who holds the lock at path and what to do.
func (h holder) refusal(dir, path string, elsewhere bool) error {
	if elsewhere {
		return fmt.Errorf("%w: another mrqa run (process %d on host %s) is writing to %s; wait for it, or use -out for another folder (if that run has ended, delete %s)",
			ErrOutputInUse, h.pid, h.host, dir, path)
	}
	return fmt.Errorf("%w: another mrqa run (process %d) is writing to %s; wait for it, or use -out for another folder", ErrOutputInUse, h.pid, dir)
}
