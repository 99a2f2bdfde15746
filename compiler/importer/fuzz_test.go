package importer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mcroute/mcroute/compiler/importer"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
)

// FuzzImport reads arbitrary bytes as an mcrouter JSON config. Import must
// never panic, and must either report what it cannot express as
// diagnostics or write CUE that parses (Import formats it with cue/format,
// which fails on anything else). The seeds, run by every go test, are the
// examples and the golden inputs; that imported policies compile back to
// the same graph is checked by the golden, corpus and examples tests (CUE
// evaluation is too slow to run for each fuzz input).
func FuzzImport(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "mcrouter.json"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	archives, _ := filepath.Glob(filepath.Join("testdata", "import", "*.txtar"))
	for _, p := range archives {
		if b, ok := mustArchive(f, p).Get("input.json"); ok {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"pools": {"A": {"servers": ["h:1"]}}, "named_handles": {"x": "PoolRoute|A"}, "route": ["x", "PoolRoute|A"]}`))
	f.Add([]byte(`{"route": "NullRoute"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := mcrouterjson.LoadBytes("fuzz.json", b, mcrouterjson.LoadOptions{})
		if l.Config == nil || l.Diagnostics.HasErrors() {
			return
		}
		res, err := importer.Import(l.Config, importer.Options{Source: "fuzz.json"})
		if err != nil {
			if len(diag.AsList(err)) == 0 {
				t.Fatalf("Import: %v", err)
			}
			return
		}
		if len(res.CUE) == 0 {
			t.Fatal("Import wrote nothing")
		}
	})
}
