package lint_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler/lint"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// lintJSON loads an mcrouter config as `mcroute lint` does and returns the
// loader's findings and the linter's, sorted.
func lintJSON(name string, text []byte, params map[string]string) diag.List {
	l := mcrouterjson.LoadBytes(name, text, mcrouterjson.LoadOptions{Params: params})
	return lint.Combine(l.Diagnostics, lint.Lint(l.Config, l.Expanded, lint.Options{Prior: l.Diagnostics}))
}

func diagText(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func hasRule(l diag.List, rule string) bool {
	return slices.ContainsFunc(l, func(d diag.Diagnostic) bool { return d.Rule == rule })
}

// TestRules runs testdata/<rule>.txtar for every rule, the loader's
// included: fires.json must produce at least one finding of the rule and
// clean.json none (fires.cue and clean.cue, or the package directories
// fires/ and clean/, for the CUE compiler's rules); want.txt holds every finding of both files. (TestRuleTable
// checks that every rule has one.)
func TestRules(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) map[string][]byte {
		rule := strings.TrimSuffix(filepath.Base(a.Path), ".txtar")
		if _, ok := lint.Lookup(rule); !ok {
			t.Fatalf("%s does not name a rule", a.Path)
		}
		var out strings.Builder
		names := []string{"fires.json", "clean.json"}
		cueDir := ""
		if slices.ContainsFunc(a.Files, func(f txtar.File) bool {
			return strings.HasPrefix(f.Name, "fires.cue") || strings.HasPrefix(f.Name, "fires/")
		}) {
			// CUE policies are compiled from disk: fires.cue and
			// clean.cue, or package directories fires/ and clean/.
			cueDir = a.WriteTo(t, t.TempDir())
			names = []string{"fires", "clean"}
		}
		for _, name := range names {
			var got diag.List
			if cueDir != "" {
				path := filepath.Join(cueDir, name)
				if _, err := os.Stat(path + ".cue"); err == nil {
					path += ".cue"
					name += ".cue"
				} else {
					name += "/"
				}
				got = lintCUE(t, path)
				got.Relative(cueDir)
				for i := range got {
					// Messages that name the input: the same on every machine.
					got[i].Message = strings.ReplaceAll(got[i].Message, cueDir+string(filepath.Separator), "")
				}
				got.Sort()
			} else {
				got = lintJSON(name, a.MustGet(t, name), nil)
			}
			out.WriteString("# " + name + "\n")
			out.WriteString(diagText(got))
			switch fired := hasRule(got, rule); {
			case strings.HasPrefix(name, "fires.") && !fired:
				t.Errorf("%s: %s does not fire on %s:\n%s", a.Path, rule, name, diagText(got))
			case strings.HasPrefix(name, "clean.") && fired:
				t.Errorf("%s: %s fires on %s:\n%s", a.Path, rule, name, diagText(got))
			}
		}
		return map[string][]byte{"want.txt": []byte(out.String())}
	})
}

// TestCases lints testdata/cases/*.txtar input.json into want.txt.
func TestCases(t *testing.T) {
	golden.Run(t, "testdata/cases", func(t *testing.T, a *golden.Archive) map[string][]byte {
		return map[string][]byte{"want.txt": []byte(diagText(lintJSON("input.json", a.MustGet(t, "input.json"), nil)))}
	})
}

// TestProductionExample checks the findings the issue asks for on the
// production config, beyond its golden file.
func TestProductionExample(t *testing.T) {
	a, err := txtar.ParseFile("testdata/cases/production_replicated.txtar")
	if err != nil {
		t.Fatal(err)
	}
	got := lintJSON("prod.json", a.Files[0].Data, nil)
	// "AllFastestRoute|Pool|A" is one route (mcrouter memoises short
	// forms), so each rule reports it once, naming the operations, at the
	// policy through which the first of them arrives.
	for _, want := range []struct {
		rule, substr string
		line, col    int
	}{
		{"write-fanout-capacity", "every set, add, replace, append and prepend goes to all 2 servers of pool A (AllFastestRoute|Pool|A): A stores each key on every server, so its capacity is one server's memory, not 2×", 5, 13},
		{"stale-delete", "deletes through AllFastestRoute|Pool|A are answered as soon as one of its 2 destinations succeeds", 6, 16},
		{"divergent-arithmetic", "incr and decr requests through AllFastestRoute|Pool|A", 5, 83},
		{"replica-order-mismatch", "pools A and B list the same 2 servers in a different order", 2, 17},
	} {
		n := 0
		for _, d := range got {
			if d.Rule != want.rule || !strings.Contains(d.Message, want.substr) {
				continue
			}
			n++
			if d.Pos.Line != want.line || d.Pos.Col != want.col {
				t.Errorf("%s finding at %d:%d, want %d:%d: %s", want.rule, d.Pos.Line, d.Pos.Col, want.line, want.col, d)
			}
		}
		if n != 1 {
			t.Errorf("%d %s findings containing %q, want 1, in:\n%s", n, want.rule, want.substr, diagText(got))
		}
	}
	if got.HasErrors() {
		t.Errorf("the production example has error findings:\n%s", diagText(got))
	}
}

// noGolden lists the rules that no input file can fire, with the reason;
// every other rule has a golden test in testdata/<rule>.txtar.
var noGolden = map[string]string{
	"io":             "an unreadable file is an I/O error of the command (exit 2), not a finding; failed @imports are jsonm findings",
	"internal-error": "reports a failure of the CUE evaluator itself, which no valid or invalid policy is meant to cause",
	"invalid-config": "the JSONM preprocessor rejects a root that is not an object first (a jsonm finding); kept for callers of mcrouterjson.Decode",
}

// TestRuleTable checks the rule table: unique IDs, a summary and a doc
// paragraph for each, a golden archive for each lint rule, and docs for
// every rule ID mcrouterjson reports.
func TestRuleTable(t *testing.T) {
	rules := lint.Rules()
	seen := map[string]bool{}
	nLint := 0
	for _, r := range rules {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if !regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(r.ID) {
			t.Errorf("rule ID %q is not lower-case-with-dashes", r.ID)
		}
		if r.Summary == "" || strings.HasSuffix(r.Summary, ".") {
			t.Errorf("%s: summary %q must be one line without a final period", r.ID, r.Summary)
		}
		if !strings.HasSuffix(r.Doc, ".") || strings.Contains(r.Doc, "\n") || len(r.Doc) < 60 {
			t.Errorf("%s: doc must be one paragraph of sentences: %q", r.ID, r.Doc)
		}
		if r.Run != nil {
			nLint++
		}
		_, err := os.Stat(filepath.Join("testdata", r.ID+".txtar"))
		if why, ok := noGolden[r.ID]; ok {
			if err == nil {
				t.Errorf("rule %s has testdata/%s.txtar but is listed in noGolden (%s)", r.ID, r.ID, why)
			}
		} else if err != nil {
			t.Errorf("rule %s has no testdata/%s.txtar (a config that fires it and one that does not)", r.ID, r.ID)
		}
		if got, ok := lint.Lookup(r.ID); !ok || got.ID != r.ID {
			t.Errorf("Lookup(%q) failed", r.ID)
		}
	}
	if nLint < 21 {
		t.Errorf("%d lint rules; want at least 20 semantic rules besides the schema pass", nLint)
	}
	// Every rule ID constant of mcrouterjson and of the CUE compiler is
	// documented.
	re := regexp.MustCompile(`(?m)^\s*Rule\w+\s*=\s*"([a-z-]+)"`)
	for _, f := range []string{"mcrouterjson/decode.go", "mcrouterjson/load.go", "errors.go"} {
		src, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if !seen[m[1]] {
				t.Errorf("%s reports rule %q but lint does not document it", f, m[1])
			}
		}
	}
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, f := range files {
		if id := strings.TrimSuffix(filepath.Base(f), ".txtar"); !seen[id] {
			t.Errorf("%s does not name a rule", f)
		}
	}
}

// TestSchemaCoversKinds checks that the JSON Schema has an if/then branch
// for every route type mcrouter knows, allowing every option schema.Kinds
// lists for it.
func TestSchemaCoversKinds(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Properties           map[string]any `json:"properties"`
			AdditionalProperties *bool          `json:"additionalProperties"`
			AllOf                []struct {
				If struct {
					Properties struct {
						Type struct {
							Const string `json:"const"`
						} `json:"type"`
					} `json:"properties"`
				} `json:"if"`
				Then struct {
					Ref string `json:"$ref"`
				} `json:"then"`
			} `json:"allOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schema.MCRouterJSONSchema(), &s); err != nil {
		t.Fatal(err)
	}
	branches := map[string]string{}
	for _, b := range s.Defs["route"].AllOf {
		branches[b.If.Properties.Type.Const] = strings.TrimPrefix(b.Then.Ref, "#/$defs/")
	}
	pool := s.Defs["pool"].Properties
	for _, f := range mcrouterjson.PoolFields() {
		if _, ok := pool[f]; !ok {
			t.Errorf("schema $defs/pool does not allow pool field %q", f)
		}
	}
	for _, k := range schema.Kinds() {
		def, ok := branches[k.Name]
		if !ok {
			t.Errorf("schema has no if/then branch for route type %s", k.Name)
			continue
		}
		props := s.Defs[def].Properties
		for _, f := range k.Fields {
			if _, ok := props[f]; !ok && k.Name != "Pool" {
				t.Errorf("schema %s does not allow %s option %q", def, k.Name, f)
			}
		}
	}
	if len(branches) != len(schema.Kinds()) {
		t.Errorf("schema has %d route type branches, schema.Kinds has %d", len(branches), len(schema.Kinds()))
	}
}

// TestDisable checks Options.Disable.
func TestDisable(t *testing.T) {
	l := mcrouterjson.LoadBytes("x.json", []byte(`{"pools": {"A": {"servers": ["h:1"]}, "B": {"servers": ["h:2"]}}, "route": "PoolRoute|A"}`), mcrouterjson.LoadOptions{})
	if got := lint.Lint(l.Config, l.Expanded, lint.Options{}); !hasRule(got, "unused-pool") {
		t.Fatalf("unused-pool did not fire:\n%s", diagText(got))
	}
	if got := lint.Lint(l.Config, l.Expanded, lint.Options{Disable: []string{"unused-pool"}}); hasRule(got, "unused-pool") {
		t.Errorf("disabled rule fired:\n%s", diagText(got))
	}
}

// TestNilConfig: a config that could not be decoded gets the schema pass
// only.
func TestNilConfig(t *testing.T) {
	l := mcrouterjson.LoadBytes("x.json", []byte(`[1, 2]`), mcrouterjson.LoadOptions{})
	got := lint.Lint(l.Config, l.Expanded, lint.Options{Prior: l.Diagnostics})
	for _, d := range got {
		if d.Rule != lint.RuleSchema {
			t.Errorf("unexpected finding %s", d)
		}
	}
	if got := lint.Lint(nil, nil, lint.Options{}); len(got) != 0 {
		t.Errorf("Lint(nil, nil) = %v", got)
	}
}

// TestCombine: the loader's findings and the linter's are merged and
// sorted, and a finding repeated at another position of the same file is
// kept once, at the earlier position.
func TestCombine(t *testing.T) {
	at := func(file string, line, col int) schema.Pos { return schema.Pos{File: file, Line: line, Col: col} }
	dup := diag.Diagnostic{Pos: at("a.json", 9, 20), Severity: diag.Warning, Rule: "unknown-field", Path: "route.x", Message: "unknown field"}
	first := dup
	first.Pos = at("a.json", 9, 5)
	other := dup
	other.Pos = at("b.json", 1, 1)
	noPath := diag.Diagnostic{Pos: at("a.json", 1, 1), Severity: diag.Error, Rule: "jsonm", Message: "m"}
	noPath2 := noPath
	noPath2.Pos = at("a.json", 2, 1)
	got := lint.Combine(diag.List{dup, noPath2, first}, diag.List{other, noPath})
	want := diag.List{noPath, noPath2, first, other}
	if !slices.Equal(got, want) {
		t.Errorf("Combine =\n%s\nwant\n%s", diagText(got), diagText(want))
	}
}
