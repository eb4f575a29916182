package dsl

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/mrqa-dev/mrqa/internal/atomicfile"
	"github.com/mrqa-dev/mrqa/internal/exitcode"
)

// Exit codes of the commands implemented here, under the names their
// meaning has here; the numbers are package exitcode's.
const (
	ExitOK      = exitcode.OK
	ExitChanged = exitcode.Failure // fmt -check: a file would change
	ExitInvalid = exitcode.Usage   // usage error or invalid scenario
)

// Fmt is `mrqa fmt [-check] [-w] PATH...`. Directories stand for the .hcl
// files directly in them. Without flags the formatted text goes to stdout;
// -w rewrites files that change and lists them; -check lists files that
// would change and exits 1 (with -w it also rewrites them). Syntax errors
// are printed and exit 2.
func Fmt(paths []string, check, write bool, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "mrqa fmt: name at least one file or directory")
		return ExitInvalid
	}
	files, code := expandPaths(paths, stderr)
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "mrqa fmt: %v\n", err)
			code = ExitInvalid
			continue
		}
		out, diags := Format(src, path)
		if diags.HasErrors() {
			_ = WriteDiagnostics(stderr, map[string]*hcl.File{path: {Bytes: src}}, diags, false)
			code = ExitInvalid
			continue
		}
		changed := !bytes.Equal(src, out)
		switch {
		case check || write:
			if !changed {
				continue
			}
			fmt.Fprintln(stdout, path)
			if write {
				if err := writeFileKeepMode(path, out); err != nil {
					fmt.Fprintf(stderr, "mrqa fmt: %v\n", err)
					code = ExitInvalid
					continue
				}
			}
			if check && code == ExitOK {
				code = ExitChanged
			}
		default:
			if _, err := stdout.Write(out); err != nil {
				fmt.Fprintf(stderr, "mrqa fmt: %v\n", err)
				return ExitInvalid
			}
		}
	}
	return code
}

// expandPaths replaces directories by the .hcl files directly in them.
func expandPaths(paths []string, stderr io.Writer) ([]string, int) {
	var out []string
	code := ExitOK
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(stderr, "mrqa fmt: %v\n", err)
			code = ExitInvalid
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		configs, vars, err := FolderFiles(p)
		if err != nil {
			fmt.Fprintf(stderr, "mrqa fmt: %v\n", err)
			code = ExitInvalid
			continue
		}
		names := append(configs, vars...)
		sort.Strings(names)
		out = append(out, names...)
	}
	return out, code
}

// writeFileKeepMode replaces path's contents atomically, keeping its mode.
// A symbolic link stays one: the file it leads to is replaced, by a
// temporary file in that file's own folder.
func writeFileKeepMode(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", path, err)
	}
	st, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	o := atomicfile.Options{Pattern: "." + filepath.Base(target) + ".*", Perm: st.Mode().Perm()}
	if err := atomicfile.WriteBytes(target, data, o); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
