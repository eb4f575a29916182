package runtime

import (
	"os"
	"strconv"
	"strings"
)

// selfStart is this process's start time (see statStart). It reads
// /proc/self, which names this process even where /proc belongs to
// another PID namespace than the process's own.
func selfStart() string { return statStart("/proc/self/stat") }

// processStart is the start time of process pid as this namespace's /proc
// tells it.
func processStart(pid int) string { return statStart("/proc/" + strconv.Itoa(pid) + "/stat") }

// statStart reads field 22 of a /proc stat file: the process's start in
// clock ticks since boot; "" when it cannot be read. The second field (the
// command) is in parentheses and may hold spaces, so fields are counted
// after its closing parenthesis, where field 3 begins.
func statStart(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 22-2 {
		return ""
	}
	return fields[22-3]
}

// bootID names this boot of the machine, so that a start time of an
// earlier boot is not compared with one of this.
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}
