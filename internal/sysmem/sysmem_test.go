package sysmem

import (
	"runtime"
	"testing"
)

func TestTotal(t *testing.T) {
	got := Total()
	if runtime.GOOS == "linux" && got < 1<<28 {
		t.Fatalf("Total() = %d bytes on linux; want the machine's memory (at least 256 MiB)", got)
	}
}
