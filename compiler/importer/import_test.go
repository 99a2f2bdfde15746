package importer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/compiler/importer"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// TestImportGolden imports each testdata/import/*.txtar input.json (with the
// NAME=VALUE lines of its params section as JSONM params) and compares the
// policy (want.cue) and the warnings (want.warn), or every diagnostic when
// the config cannot be imported (want.err). Each policy must compile back
// to the config's route graph.
func TestImportGolden(t *testing.T) {
	golden.Run(t, "testdata/import", func(t *testing.T, a *golden.Archive) map[string][]byte {
		var params map[string]string
		if p, ok := a.Get("params"); ok {
			params = map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
				k, v, _ := strings.Cut(line, "=")
				params[k] = v
			}
		}
		o := roundTrip(t, "input.json", a.MustGet(t, "input.json"), params)
		if !o.loaded {
			t.Fatalf("input.json does not load:\n%s", text(o.load))
		}
		if o.err != nil {
			return map[string][]byte{"want.err": text(o.res.Diagnostics)}
		}
		out := map[string][]byte{"want.cue": o.res.CUE}
		if len(o.res.Diagnostics) > 0 {
			out["want.warn"] = text(o.res.Diagnostics)
		}
		return out
	})
}

func text(l diag.List) []byte {
	var b bytes.Buffer
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// TestDeterministic imports the same config twice: the same bytes.
func TestDeterministic(t *testing.T) {
	ar := mustArchive(t, "testdata/import/all_kinds.txtar")
	o1 := roundTrip(t, "input.json", ar.MustGet(t, "input.json"), nil)
	o2 := roundTrip(t, "input.json", ar.MustGet(t, "input.json"), nil)
	if o1.err != nil || !bytes.Equal(o1.res.CUE, o2.res.CUE) {
		t.Errorf("two imports differ (or failed: %v)", o1.err)
	}
}

func TestImportNil(t *testing.T) {
	if _, err := importer.Import(nil, importer.Options{}); err == nil {
		t.Error("Import(nil) succeeded")
	}
}

// TestOptions checks the package name and the header comment.
func TestOptions(t *testing.T) {
	cfg := &schema.Config{Route: &schema.NullRoute{}}
	if _, err := importer.Import(cfg, importer.Options{Package: "not-an-ident"}); err == nil {
		t.Error("an invalid package name was accepted")
	}
	res, err := importer.Import(cfg, importer.Options{Package: "mine", Source: "a\nb.json", Params: map[string]string{"B": "2", "A": "x\ny"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "// Imported by mcroute import from a b.json with --param A=x y --param B=2.\npackage mine\n\nroute: {type: \"NullRoute\"}\n"
	if string(res.CUE) != want {
		t.Errorf("got:\n%s\nwant:\n%s", res.CUE, want)
	}
}
