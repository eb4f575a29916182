package doccheck

import (
	"regexp"
	"strings"
	"testing"
)

// TestReadmeGetsABinary fails when the README stops telling a reader how to
// get an mrqa binary (go install with go.mod's module path, go build from a
// checkout), when a set-up command is not what CI runs, or when the exit
// codes are documented without saying that go run hides them.
func TestReadmeGetsABinary(t *testing.T) {
	module := regexp.MustCompile(`(?m)^module (\S+)$`).FindStringSubmatch(readFile(t, "go.mod"))
	if module == nil {
		t.Fatal("go.mod names no module")
	}
	readme := readFile(t, "README.md")
	for _, cmd := range []string{"go install " + module[1] + "/cmd/mrqa@latest", "go build -o mrqa ./cmd/mrqa"} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README.md does not say %q", cmd)
		}
	}
	ci := readFile(t, ".ci/run")
	cmds := setupCommands(section(t, "README.md", "## Set-up: two commands"))
	if len(cmds) != 2 {
		t.Errorf("README.md's set-up shows %d commands, want 2: %q", len(cmds), cmds)
	}
	for _, cmd := range cmds {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(cmd) + `$`).MatchString(ci) {
			t.Errorf(".ci/run does not run the README's set-up command %q as it is written", cmd)
		}
	}
	for file, heading := range map[string]string{"README.md": "## Commands", "docs/architecture.md": "## Exit codes"} {
		if !strings.Contains(section(t, file, heading), "go run") {
			t.Errorf("%s's %q section gives exit codes without saying that `go run` reports each non-zero one as 1", file, heading)
		}
	}
}

// setupCommands are the lines of the section's first indented code block,
// comments removed.
func setupCommands(text string) []string {
	var cmds []string
	started := false
	for _, ln := range strings.Split(text, "\n") {
		if !strings.HasPrefix(ln, "    ") {
			if started && strings.TrimSpace(ln) != "" {
				break
			}
			continue
		}
		started = true
		cmd, _, _ := strings.Cut(ln, "#")
		if cmd = strings.TrimSpace(cmd); cmd != "" {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}
