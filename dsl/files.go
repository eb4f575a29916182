package dsl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// VarFileSuffix ends the names of variable files: every such file in a
// configuration's directory (or beside the files given) is loaded as a
// -var-file, before the ones named on the command line.
const VarFileSuffix = ".mrqavars.hcl"

// Source is one file of a configuration, already in memory. A Path ending
// in VarFileSuffix is a variable file; any other is a configuration file.
type Source struct {
	Path string
	Text []byte
}

// isVarFile reports whether path names a variable file.
func isVarFile(path string) bool { return strings.HasSuffix(filepath.Base(path), VarFileSuffix) }

// readConfiguration reads what paths name: one directory (every .hcl file
// directly in it, in name order, variable files apart), or one or more
// files (with the variable files in their directories). It returns the
// configuration files in order, then the variable files.
func readConfiguration(paths []string) ([]Source, hcl.Diagnostics) {
	if len(paths) == 0 {
		return nil, hcl.Diagnostics{loadError("No configuration", "Name a scenario file, several, or a directory of them.")}
	}
	names, diags := configurationNames(paths)
	if diags.HasErrors() {
		return nil, diags
	}
	var srcs []Source
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, loadError("Cannot read scenario file", err.Error()))
			continue
		}
		srcs = append(srcs, Source{Path: name, Text: b})
	}
	return srcs, diags
}

// configurationNames lists the files of the configuration paths name.
func configurationNames(paths []string) ([]string, hcl.Diagnostics) {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			continue
		}
		if len(paths) > 1 {
			return nil, hcl.Diagnostics{loadError("A directory among other paths",
				fmt.Sprintf("%s is a directory: mrqa loads one directory (every .hcl file directly in it) or one or more files, not both. Name the directory alone, or its files.", p))}
		}
		return directoryNames(p)
	}
	var configs, dirs []string
	for _, p := range paths {
		if !isVarFile(p) {
			configs = append(configs, p)
		}
		if d := filepath.Dir(p); !slices.ContainsFunc(dirs, func(seen string) bool { return samePath(seen, d) }) {
			dirs = append(dirs, d)
		}
	}
	if len(configs) == 0 {
		return nil, hcl.Diagnostics{loadError("No configuration files",
			fmt.Sprintf("%s names only variable files (*%s); name a scenario file too.", strings.Join(paths, " "), VarFileSuffix))}
	}
	var vars []string
	for _, d := range dirs {
		_, found, err := FolderFiles(d)
		if err != nil {
			return nil, hcl.Diagnostics{loadError("Cannot list variable files", err.Error())}
		}
		vars = append(vars, found...)
	}
	return append(configs, vars...), nil
}

// directoryNames lists dir's configuration files, then its variable files
// (see FolderFiles); a folder without a configuration file is an error.
func directoryNames(dir string) ([]string, hcl.Diagnostics) {
	configs, vars, err := FolderFiles(dir)
	if err != nil {
		return nil, hcl.Diagnostics{loadError("Cannot read scenario directory", err.Error())}
	}
	if len(configs) == 0 {
		return nil, hcl.Diagnostics{loadError("No configuration files",
			fmt.Sprintf("%s holds no .hcl scenario file (variable files, *%s, aside).", dir, VarFileSuffix))}
	}
	return append(configs, vars...), nil
}

// FolderFiles is the one rule for which files a configuration folder
// holds: the .hcl files directly in dir, not in sub-folders, in name
// order, split into configuration files and variable files. Hidden files
// (a leading dot, as editors' lock files have) are skipped.
func FolderFiles(dir string) (configs, vars []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".hcl") || strings.HasPrefix(name, ".") {
			continue
		}
		if isVarFile(name) {
			vars = append(vars, filepath.Join(dir, name))
		} else {
			configs = append(configs, filepath.Join(dir, name))
		}
	}
	return configs, vars, nil
}

// sortVarFiles puts variable files in the order they apply, the later
// winning: by file name, then by full path. The order never depends on
// the order the configuration's files were named in.
func sortVarFiles(srcs []Source) {
	slices.SortStableFunc(srcs, func(a, b Source) int {
		if c := strings.Compare(filepath.Base(a.Path), filepath.Base(b.Path)); c != 0 {
			return c
		}
		return strings.Compare(absPath(a.Path), absPath(b.Path))
	})
}

// absPath is path cleaned and made absolute; path cleaned when it cannot be.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// samePath reports whether a and b name one file or folder: the same
// cleaned absolute path, or, for files that exist, the same file
// (os.SameFile: a link, a hard link, another spelling).
func samePath(a, b string) bool {
	if absPath(a) == absPath(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// checkSources refuses an empty configuration and a file given twice,
// under whatever spelling.
func checkSources(srcs []Source) hcl.Diagnostics {
	var diags hcl.Diagnostics
	configs := 0
	for i, s := range srcs {
		if slices.ContainsFunc(srcs[:i], func(o Source) bool { return samePath(o.Path, s.Path) }) {
			diags = append(diags, loadError("File given twice", s.Path+" is part of the configuration twice; name each file once."))
		}
		if !isVarFile(s.Path) {
			configs++
		}
	}
	if configs == 0 && !diags.HasErrors() {
		diags = append(diags, loadError("No configuration files", "The configuration has no scenario file, only variable files."))
	}
	return diags
}

// loadError is a diagnostic about the configuration as a whole.
func loadError(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
}

// sha256Hex is the hex sha256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// configurationDigest identifies the configuration files together: a single
// file's own sha256, else the sha256 over, for each file in order, its base
// name, a newline, its length in bytes in decimal, a newline and its bytes.
func configurationDigest(srcs []Source) string {
	if len(srcs) == 1 {
		return sha256Hex(srcs[0].Text)
	}
	h := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(h, "%s\n%s\n", filepath.Base(s.Path), strconv.Itoa(len(s.Text)))
		h.Write(s.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// where is a range's start as file:line:column, as diagnostics print it.
func where(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
