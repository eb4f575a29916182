package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// The build info of each way to get a binary, as Go 1.26 stamps it (the
// text "go version -m" prints, less the dependencies and the go line, which
// debug.ParseBuildInfo does not read).
const (
	// go build in a git clone: a pseudo-version from the commit, and the
	// VCS settings.
	infoBuild = "path\tgithub.com/mrqa-dev/mrqa/cmd/mrqa\nmod\tgithub.com/mrqa-dev/mrqa\tv0.0.0-20261201020625-b77fb9548178\t\n" +
		"build\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tvcs=git\nbuild\tvcs.revision=b77fb95481783e4fc8c2492045aba6487fd825af\n" +
		"build\tvcs.time=2026-12-01T02:06:25Z\nbuild\tvcs.modified=false\n"
	// the same with uncommitted changes: Go appends +dirty.
	infoDirty = "path\tgithub.com/mrqa-dev/mrqa/cmd/mrqa\nmod\tgithub.com/mrqa-dev/mrqa\tv0.0.0-20261201020625-b77fb9548178+dirty\t\n" +
		"build\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tvcs=git\nbuild\tvcs.revision=b77fb95481783e4fc8c2492045aba6487fd825af\n" +
		"build\tvcs.time=2026-12-01T02:06:25Z\nbuild\tvcs.modified=true\n"
	// go install module@version: the module's version, no VCS settings.
	infoInstall = "path\tgithub.com/mrqa-dev/mrqa/cmd/mrqa\nmod\tgithub.com/mrqa-dev/mrqa\tv0.3.0\th1:AAAA\n" +
		"build\tGOARCH=arm64\nbuild\tGOOS=darwin\n"
	// go run, go test, a git worktree or -buildvcs=false: nothing.
	infoRun = "path\tgithub.com/mrqa-dev/mrqa/cmd/mrqa\nmod\tgithub.com/mrqa-dev/mrqa\t(devel)\t\n" +
		"build\tGOARCH=amd64\nbuild\tGOOS=linux\n"
	// VCS settings without a module version (older Go, or -buildvcs with a
	// version Go could not derive).
	infoRevOnly = "path\tgithub.com/mrqa-dev/mrqa/cmd/mrqa\nmod\tgithub.com/mrqa-dev/mrqa\t(devel)\t\n" +
		"build\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tvcs=git\nbuild\tvcs.revision=b77fb95481783e4fc8c2492045aba6487fd825af\n" +
		"build\tvcs.time=2026-12-01T02:06:25Z\nbuild\tvcs.modified=true\n"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name  string
		info  string
		short string // results.json's tool_version and the first line
		lines string // what mrqa version prints
	}{
		{"go build", infoBuild, "v0.0.0-20261201020625-b77fb9548178",
			"mrqa v0.0.0-20261201020625-b77fb9548178\n" +
				"revision b77fb95481783e4fc8c2492045aba6487fd825af (committed 2026-12-01T02:06:25Z)\n" +
				"go1.26.8 linux/amd64\n"},
		{"go build, uncommitted changes", infoDirty, "v0.0.0-20261201020625-b77fb9548178+dirty",
			"mrqa v0.0.0-20261201020625-b77fb9548178+dirty\n" +
				"revision b77fb95481783e4fc8c2492045aba6487fd825af (committed 2026-12-01T02:06:25Z), modified: built with uncommitted changes\n" +
				"go1.26.8 linux/amd64\n"},
		{"go install module@version", infoInstall, "v0.3.0",
			"mrqa v0.3.0\n" +
				"revision not stamped (built from the module, not a checkout): the version names the commit\n" +
				"go1.26.8 darwin/arm64\n"},
		{"go run", infoRun, "devel",
			"mrqa devel\n" +
				"revision unknown: this build has no VCS stamp (go run, go test, a git worktree and -buildvcs=false give none); build with go build -o mrqa ./cmd/mrqa in a git clone, or ask git rev-parse HEAD\n" +
				"go1.26.8 linux/amd64\n"},
		{"revision without module version", infoRevOnly, "devel-b77fb9548178-dirty",
			"mrqa devel-b77fb9548178-dirty\n" +
				"revision b77fb95481783e4fc8c2492045aba6487fd825af (committed 2026-12-01T02:06:25Z), modified: built with uncommitted changes\n" +
				"go1.26.8 linux/amd64\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi, err := debug.ParseBuildInfo(tt.info)
			if err != nil {
				t.Fatal(err)
			}
			bi.GoVersion = "go1.26.8"
			b := parseBuild(bi)
			if got := b.short(); got != tt.short {
				t.Errorf("short() = %q, want %q", got, tt.short)
			}
			var out strings.Builder
			b.write(&out)
			if out.String() != tt.lines {
				t.Errorf("mrqa version printed\n%s\nwant\n%s", out.String(), tt.lines)
			}
		})
	}
}

// TestVersionOfThisBinary checks the running binary's own build info is
// read: the Go version and platform it names are the ones running it.
func TestVersionOfThisBinary(t *testing.T) {
	b := readBuild()
	if b.goVersion != runtime.Version() || b.platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("readBuild() = %+v: want %s %s/%s", b, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
}

// TestVersionLinkedRevision checks the revision a build gives the linker
// (the container image's MRQA_REVISION) is shown, marked as given rather
// than stamped, and never replaces Go's own stamp.
func TestVersionLinkedRevision(t *testing.T) {
	const rev = "b77fb95481783e4fc8c2492045aba6487fd825af"
	tests := []struct {
		name   string
		info   string
		linked string
		short  string
		line   string // the revision line
	}{
		{"nothing given", infoRun, "", "devel",
			"revision unknown: this build has no VCS stamp (go run, go test, a git worktree and -buildvcs=false give none); build with go build -o mrqa ./cmd/mrqa in a git clone, or ask git rev-parse HEAD"},
		{"a clean tree's revision", infoRun, rev, "devel-b77fb9548178",
			"revision " + rev + " (given to the build, not stamped by Go)"},
		{"uncommitted changes", infoRun, rev + "-dirty", "devel-b77fb9548178-dirty",
			"revision " + rev + ", modified: built with uncommitted changes (given to the build, not stamped by Go)"},
		{"abbreviated", infoRun, "b77fb95", "devel-b77fb95",
			"revision b77fb95 (given to the build, not stamped by Go)"},
		{"not a revision", infoRun, "main\x1b[31m", "devel",
			`revision unknown: the build was given "main\x1b[31m", which is not a git revision (pass git rev-parse HEAD)`},
		{"Go's stamp wins", infoBuild, "0123456789abcdef0123456789abcdef01234567", "v0.0.0-20261201020625-b77fb9548178",
			"revision " + rev + " (committed 2026-12-01T02:06:25Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi, err := debug.ParseBuildInfo(tt.info)
			if err != nil {
				t.Fatal(err)
			}
			b := parseBuild(bi).withLinked(tt.linked)
			if got := b.short(); got != tt.short {
				t.Errorf("short() = %q, want %q", got, tt.short)
			}
			if got := b.revisionLine(); got != tt.line {
				t.Errorf("revision line\n%s\nwant\n%s", got, tt.line)
			}
		})
	}
}

// TestCheckedVersion: MRQA_TEST_VERSION stands in for the version only in
// a build without a release version; a release build checks its own.
func TestCheckedVersion(t *testing.T) {
	tests := []struct {
		name, build, env, want string
	}{
		{"devel build takes the test version", "(devel)", "v0.5.0", "v0.5.0"},
		{"untagged pseudo-version takes the test version", "v0.0.0-20260101000000-0123456789ab", "v0.5.0", "v0.5.0"},
		{"release build ignores it", "v1.2.0", "v0.5.0", "v1.2.0"},
		{"release after a tag ignores it", "v1.2.1-0.20260101000000-0123456789ab+dirty", "v0.5.0", "v1.2.1-0.20260101000000-0123456789ab+dirty"},
		{"unset", "(devel)", "", "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkedVersionOf(tt.build, tt.env); got != tt.want {
				t.Errorf("checkedVersionOf(%q, %q) = %q, want %q", tt.build, tt.env, got, tt.want)
			}
		})
	}
}
