package schema_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// TestCUE checks what the policy language accepts and rejects: each
// testdata/*.txtar holds a policy (input.cue) and the diagnostics compiling
// it gives (want.err, empty when it is accepted).
func TestCUE(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) map[string][]byte {
		dir, err := filepath.EvalSymlinks(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		a.WriteTo(t, dir)
		res, err := compiler.Load(context.Background(), filepath.Join(dir, "input.cue"), compiler.Options{})
		if res == nil {
			t.Fatalf("Load: %v", err)
		}
		l := res.Diagnostics
		l.Relative(dir)
		l.Sort()
		var b bytes.Buffer
		for _, d := range l {
			b.WriteString(d.String())
			b.WriteByte('\n')
		}
		return map[string][]byte{"want.err": b.Bytes()}
	})
}

// TestCUEFiles checks the embedded files: each starts with the package
// clause the compiler rewrites.
func TestCUEFiles(t *testing.T) {
	files := schema.CUEFiles()
	if len(files) == 0 {
		t.Fatal("no embedded CUE files")
	}
	for _, f := range files {
		if !bytes.Contains(f.Source, []byte("\npackage "+schema.CUEPackage+"\n")) && !bytes.HasPrefix(f.Source, []byte("package "+schema.CUEPackage+"\n")) {
			t.Errorf("%s: no line %q", f.Name, "package "+schema.CUEPackage)
		}
	}
}
