// Package atomicfile replaces a file whole or not at all: the contents go to
// a temporary file in the same directory, which is then renamed over the
// path, so a reader (or a crash) never sees a half-written file.
package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Options say how the temporary file is made and finished.
type Options struct {
	// Pattern names the temporary file, as os.CreateTemp takes it; callers
	// that sweep leftovers of killed processes match on it.
	Pattern string
	// Perm is the file's mode; 0 keeps os.CreateTemp's 0600.
	Perm fs.FileMode
	// Sync flushes the file to disk before the rename, so a crash cannot
	// leave a renamed but empty file.
	Sync bool
}

// Write replaces path with what fill writes. On any error the temporary
// file is removed and path is untouched; the error is returned as is, for
// the caller to wrap.
func Write(path string, o Options, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), o.Pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil && o.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && o.Perm != 0 {
		err = os.Chmod(tmp, o.Perm)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp) // best effort: the error that matters is err
	}
	return err
}

// WriteBytes replaces path with data.
func WriteBytes(path string, data []byte, o Options) error {
	return Write(path, o, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
