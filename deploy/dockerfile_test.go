package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // upper case: FROM, RUN, COPY, …
	args string
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	from   instruction
	image  string
	name   string // the AS name, "" when none
	instrs []instruction
}

// parseDockerfile reads the instructions of a Dockerfile by stage. It
// knows comments, blank lines and backslash continuations, which is all
// deploy/Dockerfile uses.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
	var cur *instruction
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if cur == nil && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		if cur == nil {
			cmd, args, _ := strings.Cut(text, " ")
			cur = &instruction{line: n, cmd: strings.ToUpper(cmd)}
			text = args
		}
		body, more := strings.CutSuffix(text, `\`)
		cur.args = strings.TrimSpace(cur.args + " " + strings.TrimSpace(body))
		if more {
			continue
		}
		stages = addInstruction(t, stages, *cur)
		cur = nil
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: the last instruction ends in a continuation", path, cur.line)
	}
	return stages
}

// addInstruction starts a stage at FROM and appends anything else to the
// current one.
func addInstruction(t *testing.T, stages []stage, in instruction) []stage {
	t.Helper()
	if in.cmd != "FROM" {
		if len(stages) == 0 {
			t.Fatalf("line %d: %s before any FROM", in.line, in.cmd)
		}
		s := &stages[len(stages)-1]
		s.instrs = append(s.instrs, in)
		return stages
	}
	var words []string
	for _, w := range strings.Fields(in.args) {
		if !strings.HasPrefix(w, "--") { // --platform=…
			words = append(words, w)
		}
	}
	st := stage{from: in, image: words[0]}
	if len(words) == 3 && strings.EqualFold(words[1], "AS") {
		st.name = words[2]
	}
	return append(stages, st)
}

// only returns the one instruction of a kind in s, failing unless there
// is exactly one.
func (s stage) only(t *testing.T, cmd string) instruction {
	t.Helper()
	var found []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			found = append(found, in)
		}
	}
	if len(found) != 1 {
		t.Fatalf("stage %s: %d %s instructions, want 1", s.image, len(found), cmd)
	}
	return found[0]
}

// goBuild returns the stage's RUN that runs go build.
func (s stage) goBuild(t *testing.T) instruction {
	t.Helper()
	for _, in := range s.instrs {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			return in
		}
	}
	t.Fatalf("stage %s runs no go build", s.image)
	return instruction{}
}

// outputPath is the -o argument of a go build command line.
func outputPath(t *testing.T, run string) string {
	t.Helper()
	m := regexp.MustCompile(`\s-o\s+(\S+)`).FindStringSubmatch(run)
	if m == nil {
		t.Fatalf("go build names no -o: %s", run)
	}
	return m[1]
}

// image is what the tests read of deploy/Dockerfile.
type image struct {
	build, final stage
	binary       string // where the builder writes the binary
	uid          int    // the final stage's USER
}

func readImage(t *testing.T) image {
	t.Helper()
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) != 2 {
		t.Fatalf("Dockerfile has %d stages, want 2: a Go builder and the image", len(stages))
	}
	img := image{build: stages[0], final: stages[1]}
	img.binary = outputPath(t, img.build.goBuild(t).args)
	user := img.final.only(t, "USER").args
	uid, _, _ := strings.Cut(user, ":")
	if _, err := json.Number(uid).Int64(); err != nil {
		t.Fatalf("USER %q: want a numeric uid, which runAsNonRoot can check", user)
	}
	n, _ := json.Number(uid).Int64()
	img.uid = int(n)
	return img
}

// TestDockerfile checks the image's shape: a Go builder whose Go version
// is go.mod's, a static build, a distroless non-root final stage holding
// only the binary, and mrqa as the entrypoint.
func TestDockerfile(t *testing.T) {
	img := readImage(t)
	t.Run("builder", func(t *testing.T) {
		repo, tag, _ := strings.Cut(img.build.image, ":")
		if repo != "golang" || img.build.name == "" {
			t.Fatalf("first stage %q AS %q: want a named golang stage", img.build.image, img.build.name)
		}
		if want := goModVersion(t); tag != want && !strings.HasPrefix(tag, want+".") && !strings.HasPrefix(tag, want+"-") {
			t.Errorf("builder image golang:%s, but go.mod says go %s", tag, want)
		}
		run := img.build.goBuild(t).args
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false", "-X main.linkedRevision=$MRQA_REVISION", "./cmd/mrqa"} {
			if !strings.Contains(run, want) {
				t.Errorf("the builder's go build lacks %q: %s", want, run)
			}
		}
		if !hasArg(img.build, "MRQA_REVISION") {
			t.Errorf("the builder declares no ARG MRQA_REVISION")
		}
	})
	t.Run("image", func(t *testing.T) {
		if img.final.image != "gcr.io/distroless/static-debian12:nonroot" {
			t.Errorf("final image %q, want gcr.io/distroless/static-debian12:nonroot", img.final.image)
		}
		cp := strings.Fields(img.final.only(t, "COPY").args)
		want := []string{"--from=" + img.build.name, img.binary, "/mrqa"}
		if strings.Join(cp, " ") != strings.Join(want, " ") {
			t.Errorf("final COPY %q, want %q", cp, want)
		}
		if img.uid == 0 {
			t.Errorf("USER is root")
		}
		var entry []string
		if err := json.Unmarshal([]byte(img.final.only(t, "ENTRYPOINT").args), &entry); err != nil || len(entry) != 1 || entry[0] != "/mrqa" {
			t.Errorf("ENTRYPOINT %s: want [\"/mrqa\"] in exec form (no shell in the image)", img.final.only(t, "ENTRYPOINT").args)
		}
	})
}

func hasArg(s stage, name string) bool {
	for _, in := range s.instrs {
		if in.cmd == "ARG" && (in.args == name || strings.HasPrefix(in.args, name+"=")) {
			return true
		}
	}
	return false
}

// goModVersion is go.mod's go version as major.minor, the golang image tags'.
func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}
