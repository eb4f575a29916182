// Command writemodel writes the real-engine tests' random-weight model
// into a folder (default: the current one) and prints its path:
//
//	go run ./internal/realengine/writemodel /tmp/engine
package main

import (
	"fmt"
	"os"

	"github.com/mrqa-dev/mrqa/internal/realengine"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	path, err := realengine.DefaultModel().EnsureFile(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writemodel:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}
