package deploy

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// revision is the MRQA_REVISION the test builds with.
const revision = "0123456789abcdef0123456789abcdef01234567"

// TestImageBinary runs the builder stage's RUN instructions, as the
// Dockerfile writes them, in a copy of the build context (the repository
// less what .dockerignore leaves out), with the build arguments BuildKit
// would pass for a linux image of this machine's architecture. The binary
// must be statically linked (no interpreter, no shared library: the
// distroless static image has no libc) and, run, know the revision it was
// given.
func TestImageBinary(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("the Dockerfile's RUN instructions need a POSIX shell")
	}
	img := readImage(t)
	src := copyContext(t)
	bin := filepath.Join(t.TempDir(), "mrqa")
	env := buildEnv(img.build)
	for _, in := range img.build.instrs {
		if in.cmd != "RUN" {
			continue
		}
		line := in.args
		if strings.Contains(line, "go build") {
			if !strings.Contains(line, " -o "+img.binary+" ") {
				t.Fatalf("Dockerfile:%d: cannot redirect go build's -o %s: %s", in.line, img.binary, line)
			}
			line = strings.Replace(line, " -o "+img.binary+" ", " -o "+bin+" ", 1)
		}
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir, cmd.Env = src, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("Dockerfile:%d: RUN %s: %v\n%s", in.line, line, err, out)
		}
	}
	checkStatic(t, bin)
	checkBuildSettings(t, bin)
	if runtime.GOOS != "linux" {
		return // a linux binary; the checks above are all this machine can make
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("mrqa version: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) < 2 || lines[0] != "mrqa devel-"+revision[:12] ||
		lines[1] != "revision "+revision+" (given to the build, not stamped by Go)" {
		t.Errorf("the image's mrqa version printed\n%s\nwant its first lines to name revision %s as given to the build", out, revision)
	}
}

// buildEnv is the environment of the builder's RUN instructions: this
// process's, less GOFLAGS (the golang image sets none), with the stage's
// ARGs as BuildKit sets them for a linux image of this architecture.
func buildEnv(build stage) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOFLAGS=") {
			env = append(env, kv)
		}
	}
	args := map[string]string{"TARGETOS": "linux", "TARGETARCH": runtime.GOARCH, "MRQA_REVISION": revision}
	for _, in := range build.instrs {
		if in.cmd != "ARG" {
			continue
		}
		name, def, _ := strings.Cut(in.args, "=")
		if v, ok := args[name]; ok {
			def = v
		}
		env = append(env, name+"="+strings.Trim(def, `"`))
	}
	return env
}

// checkStatic fails unless the ELF file at path is statically linked.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("the builder's binary is not ELF: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary names a dynamic loader (PT_INTERP): it would not start on distroless/static")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (DT_NEEDED)", libs)
	}
}

// checkBuildSettings checks what Go recorded of the build (no cgo, trimmed
// paths, linux, no VCS stamp) and that the binary holds the revision
// passed to the linker.
func checkBuildSettings(t *testing.T, path string) {
	t.Helper()
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range bi.Settings {
		got[s.Key] = s.Value
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux", "GOARCH": runtime.GOARCH} {
		if got[k] != want {
			t.Errorf("build setting %s = %q, want %q", k, got[k], want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(revision)) {
		t.Errorf("the binary does not hold the revision %s given to the linker (Go records no -ldflags with -trimpath)", revision)
	}
	if got["vcs.revision"] != "" {
		t.Errorf("Go stamped vcs.revision %q: the image's build context has no .git", got["vcs.revision"])
	}
}

// copyContext copies the repository, less what .dockerignore leaves out,
// into a temporary folder: the files docker build sends.
func copyContext(t *testing.T) string {
	t.Helper()
	patterns := dockerignore(t)
	dst := filepath.Join(t.TempDir(), "src")
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel("..", p)
		if err != nil || rel == "." {
			return err
		}
		if ignored(patterns, filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// dockerignore reads the repository's .dockerignore. It allows the two
// forms the file uses, and fails on any other, so that this test's
// matching stays Docker's: a name at the context's root ("out", "*.test")
// and a name at any depth ("**/node_modules").
func dockerignore(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var patterns []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		name := strings.TrimPrefix(p, "**/")
		if strings.ContainsAny(name, "/!") || strings.Contains(name, "**") {
			t.Fatalf(".dockerignore: pattern %q is of a form this test does not match as Docker does", p)
		}
		patterns = append(patterns, p)
	}
	return patterns
}

// ignored reports whether .dockerignore leaves rel (a slash path from the
// context's root) out.
func ignored(patterns []string, rel string) bool {
	for _, p := range patterns {
		name, anyDepth := strings.CutPrefix(p, "**/")
		if !anyDepth && strings.Contains(rel, "/") {
			continue
		}
		if ok, _ := path.Match(name, path.Base(rel)); ok {
			return true
		}
	}
	return false
}
