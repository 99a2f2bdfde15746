package importer_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/importer"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
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
// out: unknown route and pool fields.
func ignored(cfg *schema.Config) {
	known := mcrouterjson.PoolFields()
	for _, p := range cfg.Pools {
		for k := range p.Extra {
			if !contains(known, k) {
				delete(p.Extra, k)
			}
		}
	}
	schema.WalkConfig(cfg, func(r schema.Route) bool {
		info, _ := schema.LookupKind(r.Kind())
		for k := range r.Meta().Extra {
			if !contains(info.Fields, k) {
				delete(r.Meta().Extra, k)
			}
		}
		return true
	})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
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

// corpusEntry is one row of testdata/mcrouter/MANIFEST.tsv.
type corpusEntry struct {
	Path, Kind, Params, Notes string
}

func readManifest(t *testing.T, dir string) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	s := bufio.NewScanner(f)
	s.Scan() // header
	for s.Scan() {
		c := strings.Split(s.Text(), "\t")
		if len(c) < 8 {
			t.Fatalf("bad manifest row %q", s.Text())
		}
		out = append(out, corpusEntry{Path: c[0], Kind: c[1], Params: c[5], Notes: c[7]})
	}
	return out
}

// corpusInput returns a corpus config's text and params, with the
// substitutions mcrouter's test harness makes.
func corpusInput(t *testing.T, dir string, e corpusEntry) ([]byte, map[string]string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(dir, e.Path))
	if err != nil {
		t.Fatal(err)
	}
	text = []byte(strings.ReplaceAll(string(text), "START_TIME", "1700000000"))
	text = []byte(strings.ReplaceAll(string(text), "localhost:PORT", "localhost:11211"))
	params := map[string]string{}
	for _, p := range strings.Split(e.Params, ",") {
		if p != "" {
			params[p] = "12345"
		}
	}
	if e.Params == "POOL,PORT" {
		params["POOL"] = "A"
	}
	if strings.HasSuffix(e.Path, "test_shadow_with_file.json") {
		// Used by the @import'ed fragment.
		params["PORT_SHADOW"] = "12346"
	}
	return text, params
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
	for _, e := range readManifest(t, dir) {
		if e.Kind != "router-config" {
			continue
		}
		text, params := corpusInput(t, dir, e)
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
