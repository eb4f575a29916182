package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"mrqa":        func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
		"echoserver":  func() { os.Exit(echoServer()) },
		"modelserver": func() { os.Exit(modelServer()) },
	})
}

// TestScripts runs the CLI sessions under testdata/script: each reads like
// a user's terminal session.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			port, err := freePort()
			if err != nil {
				return err
			}
			env.Setenv("FREEPORT", strconv.Itoa(port))
			env.Setenv("GOOSARCH", runtime.GOOS+"/"+runtime.GOARCH) // what mrqa version names
			env.Setenv("HOME", env.WorkDir)                         // keep caches inside the test's directory
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"cmpjson":     cmdCmpJSON,
			"lines":       cmdLines,
			"sameresults": cmdSameResults,
			"samereport":  cmdSameReport,
			"nosecret":    cmdNoSecret,
			"waitlisten":  cmdWaitListen,
			"waitfile":    cmdWaitFile,
			// exits N CMD ARGS... runs a command and checks its exact exit code.
			"exits": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exits: bad code %q", args[0])
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					got = -1
					ts.Logf("exits: %v", err)
				}
				if got != want {
					ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
				}
			},
		},
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lines FILE N checks that FILE has exactly N lines.
func cmdLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: lines FILE N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	got := strings.Count(ts.ReadFile(args[0]), "\n")
	if (got == want) == neg {
		ts.Fatalf("%s has %d lines, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// nosecret [-pieces] DIR|stdout|stderr SECRET... fails if any file under
// DIR (or the last command's stdout or stderr) contains a secret; with
// -pieces, any 6-byte piece of one.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	pieces := len(args) > 0 && args[0] == "-pieces"
	if pieces {
		args = args[1:]
	}
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret [-pieces] DIR|stdout|stderr SECRET...")
	}
	var find []string
	for _, s := range args[1:] {
		if !pieces || len(s) <= secretPiece {
			find = append(find, s)
			continue
		}
		for i := 0; i+secretPiece <= len(s); i++ {
			find = append(find, s[i:i+secretPiece])
		}
	}
	check := func(name, text string) {
		for _, s := range find {
			if strings.Contains(text, s) {
				ts.Fatalf("%s contains %q of a secret", name, s)
			}
		}
	}
	if args[0] == "stdout" || args[0] == "stderr" {
		check(args[0], ts.ReadFile(args[0]))
		return
	}
	files := 0
	err := filepath.WalkDir(ts.MkAbs(args[0]), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		check(path, string(b))
		return nil
	})
	ts.Check(err)
	if files == 0 {
		ts.Fatalf("nosecret: no files under %s", args[0])
	}
}

// secretPiece is the length of the pieces nosecret -pieces looks for.
const secretPiece = 6

// waitlisten ADDR waits (up to 20s) until something accepts connections on ADDR.
func cmdWaitListen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitlisten ADDR")
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("nothing listens on %s", args[0])
}

// waitfile FILE waits (up to 60s) until FILE exists.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not appear", args[0])
}
