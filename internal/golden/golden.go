// Package golden runs txtar golden tests: each testdata/*.txtar archive holds
// input sections and expected output sections; a test function turns the
// inputs into actual outputs, which are compared with the expected ones or,
// with MCROUTE_UPDATE=1, written back into the archive.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// Update reports whether golden files should be rewritten: true when the
// environment variable MCROUTE_UPDATE is non-empty and not "0". It is a
// function, not a variable, so the environment is read while a test runs.
func Update() bool {
	v := os.Getenv("MCROUTE_UPDATE")
	return v != "" && v != "0"
}

// Archive is a parsed txtar file with its path.
type Archive struct {
	*txtar.Archive
	Path string
}

// Get returns the content of the named section and whether it exists.
func (a *Archive) Get(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// MustGet returns the named section or fails the test.
func (a *Archive) MustGet(t testing.TB, name string) []byte {
	t.Helper()
	b, ok := a.Get(name)
	if !ok {
		t.Fatalf("%s: no section %q", a.Path, name)
	}
	return b
}

// WriteTo writes every section whose name does not start with "want" into
// dir, creating subdirectories, and returns dir.
func (a *Archive) WriteTo(t testing.TB, dir string) string {
	t.Helper()
	for _, f := range a.Files {
		if strings.HasPrefix(f.Name, "want") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Run runs fn for each dir/*.txtar archive as a subtest named after the file.
// fn returns the actual outputs keyed by section name; each must equal the
// archive's section of that name. Sections named "want*" that fn did not
// return must not exist. With Update(), differing or missing sections are
// rewritten in place, stale want sections are dropped, and input sections
// and the archive comment are kept.
func Run(t *testing.T, dir string, fn func(t *testing.T, a *Archive) map[string][]byte) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.txtar files in %s", dir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := &Archive{Archive: ar, Path: file}
			got := fn(t, a)
			Check(t, a, got)
		})
	}
}

// Check compares got with a's sections as Run does, rewriting a's file when
// Update() is true.
func Check(t *testing.T, a *Archive, got map[string][]byte) {
	t.Helper()
	if t.Failed() {
		return
	}
	changed := false
	names := make([]string, 0, len(got))
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		g := got[name]
		if len(g) > 0 && g[len(g)-1] != '\n' {
			g = append(g[:len(g):len(g)], '\n')
		}
		want, ok := a.Get(name)
		if ok && bytes.Equal(want, g) {
			continue
		}
		if Update() {
			setSection(a.Archive, name, g)
			changed = true
			continue
		}
		if !ok {
			t.Errorf("%s: missing section %q; got:\n%s\n(run with MCROUTE_UPDATE=1 to write it)", a.Path, name, g)
			continue
		}
		t.Errorf("%s: section %q differs (-want +got):\n%s\n(run with MCROUTE_UPDATE=1 to accept)", a.Path, name, cmp.Diff(string(want), string(g)))
	}
	// Stale expectations: want sections the test did not produce.
	kept := a.Files[:0]
	for _, f := range a.Files {
		if strings.HasPrefix(f.Name, "want") {
			if _, ok := got[f.Name]; !ok {
				if Update() {
					changed = true
					continue
				}
				t.Errorf("%s: section %q was expected but the test produced none", a.Path, f.Name)
			}
		}
		kept = append(kept, f)
	}
	a.Files = kept
	if changed {
		if err := os.WriteFile(a.Path, txtar.Format(a.Archive), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func setSection(a *txtar.Archive, name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: data})
}
