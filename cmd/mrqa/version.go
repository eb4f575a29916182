package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/mrqa-dev/mrqa/dsl"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
)

const versionUsage = `usage: mrqa version   (or mrqa --version, mrqa -version)

Prints three lines: mrqa's version (the first line, as results.json's
tool_version records it), the VCS revision it was built from with the
commit time and a mark when the tree had uncommitted changes, and the Go
version and platform.

The revision is what Go stamped into the binary: go build and go install in
a git clone stamp it; go install github.com/mrqa-dev/mrqa/cmd/mrqa@VERSION
stamps the module version, which names the commit; go run, go test, a git
worktree and -buildvcs=false stamp nothing, and the version reads "devel".
A build without Go's stamp may be given the revision on the linker's
command line, as the container image's build is (deploy/Dockerfile, its
MRQA_REVISION build argument); the second line then says so.
`

// linkedRevision is the git revision a build was given on the linker's
// command line (-ldflags "-X main.linkedRevision=REV", REV ending in
// "-dirty" when the tree had uncommitted changes); "" when none was. Only
// the linker sets it; nothing writes it at run time. Go's own stamp, when
// there is one, wins.
var linkedRevision string

// revisionRE is what a git revision looks like: SHA-1 or SHA-256 hex,
// abbreviated to no fewer than 7 digits.
var revisionRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", versionUsage, stdout, stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintln(stderr, "mrqa version: takes no arguments")
		return exitcode.Usage
	}
	readBuild().write(stdout)
	return exitcode.OK
}

// version is mrqa's version as results.json records it.
func version() string { return readBuild().short() }

// testVersionEnv, for tests only, replaces the version a configuration's
// required_version is checked against, so a test can be any version; what
// results.json records stays the build's own. Only a build without a
// release version (go test, go run, an untagged commit) honours it, so it
// cannot lift a released mrqa's check.
const testVersionEnv = "MRQA_TEST_VERSION"

// checkedVersion is the version required_version is checked against.
func checkedVersion() string {
	return checkedVersionOf(version(), os.Getenv(testVersionEnv))
}

// checkedVersionOf is build, or test when it is set and build has no
// release version.
func checkedVersionOf(build, test string) string {
	if test != "" && !dsl.IsReleaseVersion(build) {
		return test
	}
	return build
}

// build is what the binary knows of how it was built.
type build struct {
	module    string // module version: a tag, a pseudo-version (+dirty when modified), or "(devel)"
	revision  string // VCS revision; "" when the build stamped none
	time      string // commit time of the revision
	modified  bool   // the tree had uncommitted changes
	goVersion string
	platform  string // GOOS/GOARCH
	linked    bool   // the revision was given to the linker, not stamped by Go
	badLinked string // a value given to the linker that is not a revision
}

// readBuild reads the running binary's build information.
func readBuild() build {
	b := build{goVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = parseBuild(bi)
	}
	b.platform = runtime.GOOS + "/" + runtime.GOARCH
	return b.withLinked(linkedRevision)
}

// withLinked takes the revision given to the linker when Go stamped none.
// A value that is not a revision is kept only to be reported.
func (b build) withLinked(rev string) build {
	if rev == "" || b.revision != "" {
		return b
	}
	hex, dirty := strings.CutSuffix(rev, "-dirty")
	if !revisionRE.MatchString(hex) {
		b.badLinked = rev
		return b
	}
	b.revision, b.modified, b.linked = hex, dirty, true
	return b
}

// parseBuild takes the module version, VCS settings, Go version and
// platform from build information.
func parseBuild(bi *debug.BuildInfo) build {
	b := build{module: bi.Main.Version, goVersion: bi.GoVersion}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		b.platform = goos + "/" + goarch
	}
	return b
}

// released reports whether Go stamped a module version: a tag, or a
// pseudo-version it derived from the commit.
func (b build) released() bool { return b.module != "" && b.module != "(devel)" }

// short is the one-word version: the module version when there is one,
// else "devel" with the revision's first 12 digits (and "-dirty") when
// known.
func (b build) short() string {
	switch {
	case b.released():
		return b.module
	case b.revision == "":
		return "devel"
	}
	v := "devel-" + b.revision[:min(12, len(b.revision))]
	if b.modified {
		v += "-dirty"
	}
	return v
}

// write prints mrqa version's three lines.
func (b build) write(w io.Writer) {
	fmt.Fprintf(w, "mrqa %s\n", b.short())
	fmt.Fprintln(w, b.revisionLine())
	fmt.Fprintf(w, "%s %s\n", b.goVersion, b.platform)
}

// revisionLine names the revision, or says why it is unknown and how to
// learn it; it never guesses.
func (b build) revisionLine() string {
	switch {
	case b.revision != "":
		line := "revision " + b.revision
		if b.time != "" {
			line += " (committed " + b.time + ")"
		}
		if b.modified {
			line += ", modified: built with uncommitted changes"
		}
		if b.linked {
			line += " (given to the build, not stamped by Go)"
		}
		return line
	case b.released():
		return "revision not stamped (built from the module, not a checkout): the version names the commit"
	case b.badLinked != "":
		return fmt.Sprintf("revision unknown: the build was given %q, which is not a git revision (pass git rev-parse HEAD)", b.badLinked)
	}
	return "revision unknown: this build has no VCS stamp (go run, go test, a git worktree and -buildvcs=false give none); " +
		"build with go build -o mrqa ./cmd/mrqa in a git clone, or ask git rev-parse HEAD"
}
