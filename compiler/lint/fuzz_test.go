package lint_test

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler/lint"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
)

// FuzzLint loads arbitrary text as an mcrouter config and lints it: neither
// may panic, whatever the input, and every format must render the
// findings. Seeds are the JSON inputs of the golden tests.
func FuzzLint(f *testing.F) {
	for _, pattern := range []string{"testdata/*.txtar", "testdata/cases/*.txtar"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			a, err := txtar.ParseFile(file)
			if err != nil {
				f.Fatal(err)
			}
			for _, s := range a.Files {
				if strings.HasSuffix(s.Name, ".json") {
					f.Add(s.Data)
				}
			}
		}
	}
	// @import is resolved next to the config: an empty directory.
	path := filepath.Join(f.TempDir(), "fuzz.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		l := mcrouterjson.LoadBytes(path, data, mcrouterjson.LoadOptions{})
		found := lint.Lint(l.Config, l.Expanded, lint.Options{Prior: l.Diagnostics})
		for _, d := range found {
			if d.Rule == "" || d.Message == "" {
				t.Errorf("finding without rule or message: %+v", d)
			}
		}
		for _, format := range lint.Formats() {
			if err := lint.Format(io.Discard, format, append(l.Diagnostics, found...), lint.FormatOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
