package jsonm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutsideDir is wrapped by the errors of an ImportFromDir callback when
// an import path resolves outside the allowed directory.
var ErrOutsideDir = errors.New("import path resolves outside the config directory")

// ImportFromDir returns an Options.Import callback that reads @import targets
// from the file system like mcrouter: a path of the form "file:/abs/path" or
// "/abs/path" is used as is, any other path is relative to dir (the directory
// of the main config file; "" means the current directory).
//
// Unless allowOutside is true, a path that resolves outside dir, after
// cleaning ".." elements and following symbolic links, is refused with an
// error wrapping ErrOutsideDir.
//
// The returned file name (used in positions) is the cleaned path. Expand
// detects @import cycles by path and by this name, so a file importing
// itself, directly or through other files, is an error rather than a hang
// (a cycle through differently named symbolic links still ends at the
// nesting limit).
func ImportFromDir(dir string, allowOutside bool) func(path string) ([]byte, string, error) {
	if dir == "" {
		dir = "."
	}
	return func(path string) ([]byte, string, error) {
		p := strings.TrimPrefix(path, "file:")
		if p == "" {
			return nil, "", errors.New("empty import path")
		}
		if strings.IndexByte(p, 0) >= 0 {
			return nil, "", errors.New("import path contains a NUL byte")
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		p = filepath.Clean(p)
		if !allowOutside {
			if err := checkInside(dir, p); err != nil {
				return nil, "", err
			}
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, "", err
		}
		return data, p, nil
	}
}

// checkInside reports an error if p is not inside dir once both are made
// absolute and their symbolic links resolved.
func checkInside(dir, p string) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		// The target does not exist (or is unreadable): judge by its
		// resolved directory, then let the read report the error.
		real = abs
		if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			real = filepath.Join(d, filepath.Base(abs))
		}
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%q: %w (%s)", p, ErrOutsideDir, root)
	}
	return nil
}
