package lint_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/internal/corpus"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
)

// invalidCorpus maps the corpus configs mcrouter rejects to the rule that
// must say why.
var invalidCorpus = map[string]string{
	"_historical/mcrouter/test/test_unknown_name_handle.json":           "unknown-named-handle",
	"mcrouter/test/cpp_unit_tests/files/libmcrouter_invalid_pools.json": "required-field",
	"mcrouter/test/invalid_config.json":                                 "unknown-pool",
	"mcrouter/test/test_dump_config_invalid.json":                       "unknown-route-type",
	// Its pools are under "regional_pools", which mcrouter ignores.
	"mcrouter/test/test_regional_replicated_pools.json": "unknown-pool",
	// Not marked in MANIFEST.tsv, but mcrouter refuses it: "maximum
	// number of retries is 10" (L1L2SizeSplitRoute factory).
	"mcrouter/test/test_basic_l1_l2_sizesplit_retry_invalid.json": "invalid-value",
}

// TestCorpus lints every router config of mcrouter's own test suite, with
// the params and placeholder substitutions its test harness uses. Configs
// mcrouter rejects must be rejected with the right rule; all others must
// produce no error finding. Files that are not router configs (JSONM test
// vectors, runtime-vars and pool-stats files, an @import fragment) are
// skipped: they are not configs mcrouter routes with. The table of results
// is kept in testdata/corpus/table.txtar (MCROUTE_UPDATE=1 rewrites it).
func TestCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "mcrouter")
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("file\terrors\twarnings\tinfos\trules\n")
	linted, rejected := 0, 0
	entries, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind != "router-config" {
			fmt.Fprintf(&table, "%s\t-\t-\t-\tskipped: %s\n", e.Path, e.Kind)
			continue
		}
		text, params, err := corpus.Input(dir, e)
		if err != nil {
			t.Fatal(err)
		}
		got := lintJSON(filepath.Join(abs, e.Path), text, params)
		got.Relative(abs)
		linted++
		var errs, warns, infos int
		var rules []string
		for _, d := range got {
			switch d.Severity {
			case diag.Error:
				errs++
			case diag.Warning:
				warns++
			default:
				infos++
			}
			rules = append(rules, d.Rule)
		}
		slices.Sort(rules)
		rules = slices.Compact(rules)
		fmt.Fprintf(&table, "%s\t%d\t%d\t%d\t%s\n", e.Path, errs, warns, infos, strings.Join(rules, ","))
		if want, invalid := invalidCorpus[e.Path]; invalid {
			rejected++
			if !slices.ContainsFunc(got, func(d diag.Diagnostic) bool { return d.Severity == diag.Error && d.Rule == want }) {
				t.Errorf("%s: want an error %s, got:\n%s", e.Path, want, diagText(got))
			}
			continue
		}
		if strings.Contains(e.Notes, "intentionally-invalid") {
			t.Errorf("%s is intentionally invalid but has no expected rule in invalidCorpus", e.Path)
		}
		if got.HasErrors() {
			t.Errorf("%s: valid corpus config has error findings:\n%s", e.Path, diagText(got))
		}
	}
	if linted < 120 || rejected != len(invalidCorpus) {
		t.Errorf("linted %d router configs (%d rejected); want all 125 and the %d invalid ones", linted, rejected, len(invalidCorpus))
	}
	path := filepath.Join("testdata", "corpus", "table.txtar")
	ar, err := txtar.ParseFile(path)
	if err != nil {
		if !golden.Update() {
			t.Fatal(err)
		}
		ar = &txtar.Archive{Comment: []byte("mcroute lint over mcrouter's test configs (TestCorpus): errors, warnings and infos per file, and the rules that fired.\n")}
	}
	golden.Check(t, &golden.Archive{Archive: ar, Path: path}, map[string][]byte{"want.tsv": []byte(table.String())})
}
