package runtime

import "os"

// pidNamespace names this process's PID namespace ("pid:[4026531836]").
func pidNamespace() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}
