package importer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/importer"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/corpus"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// graphOpts compare route graphs built from different sources: positions,
// and how a value was spelled, do not matter.
var graphOpts = cmp.Options{
	cmpopts.IgnoreTypes(schema.Pos{}),
	// Inline pools are written under pools.
	cmpopts.IgnoreFields(schema.Pool{}, "Inline"),
	// "ErrorRoute|msg" and {"type": "ErrorRoute", "response": "msg"}.
	cmpopts.IgnoreFields(schema.ErrorRoute{}, "Short"),
	// PrefixPolicyRoute is the old name of OperationSelectorRoute.
	cmpopts.IgnoreFields(schema.OperationSelectorRoute{}, "Alias"),
	cmpopts.EquateEmpty(),
}

// ignored removes from cfg the options mcrouter ignores, which Import leaves
// out: unknown route, pool and shadow fields.
func ignored(cfg *schema.Config) {
	known := mcrouterjson.PoolFields()
	for _, p := range cfg.Pools {
		for k := range p.Extra {
			if !slices.Contains(known, k) {
				delete(p.Extra, k)
			}
		}
	}
	shadows := func(ss []schema.Shadow) {
		for i := range ss {
			for k := range ss[i].Extra {
				if !slices.Contains(mcrouterjson.ShadowFields(), k) {
					delete(ss[i].Extra, k)
				}
			}
		}
	}
	schema.WalkConfig(cfg, func(r schema.Route) bool {
		switch n := r.(type) {
		case *schema.PoolRoute:
			shadows(n.Shadows)
		case *schema.ShadowRoute:
			shadows(n.Shadows)
		}
		info, _ := schema.LookupKind(r.Kind())
		for k := range r.Meta().Extra {
			if !slices.Contains(info.Fields, k) {
				delete(r.Meta().Extra, k)
			}
		}
		return true
	})
}

// outcome is what became of one config.
type outcome struct {
	// loaded is false when the config itself has errors.
	loaded bool
	res    *importer.Result
	err    error
	// load holds the config's own diagnostics.
	load diag.List
}

// roundTrip imports the config at path (text, loaded with params), compiles
// the policy and requires the same route graph. It returns what happened;
// a policy that does not compile, or compiles to another graph, fails t.
func roundTrip(t *testing.T, path string, text []byte, params map[string]string) outcome {
	t.Helper()
	l := mcrouterjson.LoadBytes(path, text, mcrouterjson.LoadOptions{Params: params})
	if l.Config == nil || l.Diagnostics.HasErrors() {
		return outcome{load: l.Diagnostics}
	}
	res, err := importer.Import(l.Config, importer.Options{Source: filepath.Base(path), Params: params})
	o := outcome{loaded: true, res: res, err: err, load: l.Diagnostics}
	if err != nil {
		if len(diag.AsList(err)) == 0 {
			t.Fatalf("%s: Import: %v", path, err)
		}
		return o
	}
	want := l.Config
	ignored(want)
	got := compileCUE(t, res.CUE)
	if d := cmp.Diff(want, got, graphOpts); d != "" {
		t.Errorf("%s: the imported policy compiles to another graph (-config +policy):\n%s\npolicy:\n%s", path, d, res.CUE)
	}
	return o
}

// compileCUE compiles policy text and fails t on any error.
func compileCUE(t *testing.T, src []byte) *schema.Config {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "policy.cue")
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Load(context.Background(), p, compiler.Options{})
	if err != nil {
		var ds diag.List
		if res != nil {
			ds = res.Diagnostics
		}
		t.Fatalf("the imported policy does not compile: %v\n%s\npolicy:\n%s", err, ds, src)
	}
	return res.Config
}

// reason summarises why a config was not imported: its first error and how
// many more there are.
func reason(l diag.List, dir string) string {
	var errs diag.List
	for _, d := range l {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		}
	}
	errs.Relative(dir)
	if len(errs) == 0 {
		return ""
	}
	s := errs[0].String()
	if len(errs) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(errs)-1)
	}
	return s
}

// TestCorpusRoundTrip imports every router config of mcrouter's test suite
// that loads without errors (with the params its harness uses), compiles
// the policy and requires the config's route graph back, less the options
// mcrouter ignores. Configs the language cannot express must say why. The
// table of results is kept in testdata/corpus.txtar (MCROUTE_UPDATE=1
// rewrites it).
func TestCorpusRoundTrip(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "mcrouter"))
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("file\tresult\treason\n")
	var imported, unsupported, invalid, dropped int
	entries, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind != "router-config" {
			continue
		}
		text, params, err := corpus.Input(dir, e)
		if err != nil {
			t.Fatal(err)
		}
		o := roundTrip(t, filepath.Join(dir, e.Path), text, params)
		switch {
		case !o.loaded:
			invalid++
			fmt.Fprintf(&table, "%s\tinvalid\t%s\n", e.Path, reason(o.load, dir))
		case o.err != nil:
			unsupported++
			fmt.Fprintf(&table, "%s\tnot importable\t%s\n", e.Path, reason(o.res.Diagnostics, dir))
		default:
			imported++
			n := 0
			for _, d := range o.res.Diagnostics {
				if d.Rule == importer.RuleDropped {
					n++
				}
			}
			note := ""
			if n > 0 {
				dropped++
				note = fmt.Sprintf("%d option(s) mcrouter ignores left out", n)
			}
			fmt.Fprintf(&table, "%s\timported\t%s\n", e.Path, note)
		}
	}
	fmt.Fprintf(&table, "# %d imported and equal (%d with ignored options left out), %d not importable, %d invalid configs\n", imported, dropped, unsupported, invalid)
	t.Logf("%d imported and equal (%d with ignored options left out), %d not importable, %d invalid", imported, dropped, unsupported, invalid)
	if imported < 90 {
		t.Errorf("only %d corpus configs imported", imported)
	}
	path := filepath.Join("testdata", "corpus.txtar")
	ar, err := txtar.ParseFile(path)
	if err != nil {
		if !golden.Update() {
			t.Fatal(err)
		}
		ar = &txtar.Archive{Comment: []byte("mcroute import over mcrouter's test configs (TestCorpusRoundTrip): each config that loads is imported,\ncompiled back and compared with the original route graph; the others say why not.\n")}
	}
	golden.Check(t, &golden.Archive{Archive: ar, Path: path}, map[string][]byte{"want.tsv": []byte(table.String())})
}

// TestExamplesRoundTrip imports the mcrouter.json of every example: each
// must import, and compile back to the same graph.
func TestExamplesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "mcrouter.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v (%d found)", err, len(files))
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o := roundTrip(t, f, text, nil)
		if !o.loaded || o.err != nil {
			t.Errorf("%s: not imported: %v %v", f, o.err, o.load)
		}
	}
}

func mustArchive(t testing.TB, path string) *golden.Archive {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &golden.Archive{Archive: ar, Path: path}
}
