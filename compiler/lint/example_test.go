package lint_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/lint"
	"github.com/mcroute/mcroute/internal/diag"
)

// lintCUE compiles a CUE policy and lints it as `mcroute lint` does.
func lintCUE(t *testing.T, path string) diag.List {
	t.Helper()
	res, err := compiler.Load(context.Background(), path, compiler.Options{})
	var found diag.List
	if err != nil && !errors.As(err, &found) {
		t.Fatal(err)
	}
	if res == nil {
		return found
	}
	return lint.Combine(res.Diagnostics, lint.Lint(res.Config, nil, lint.Options{Prior: res.Diagnostics}))
}

// TestExampleReplicated lints examples/replicated/policy.cue, the
// production config of the issue in CUE: the capacity, stale-delete and
// replica-order findings must point into the .cue file.
func TestExampleReplicated(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "replicated", "policy.cue")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no examples/replicated/policy.cue")
	}
	got := lintCUE(t, path)
	for _, rule := range []string{"write-fanout-capacity", "stale-delete", "divergent-arithmetic", "replica-order-mismatch"} {
		if !slices.ContainsFunc(got, func(d diag.Diagnostic) bool {
			return d.Rule == rule && strings.HasSuffix(d.Pos.File, "policy.cue") && d.Pos.Line > 0
		}) {
			t.Errorf("no %s finding in policy.cue:\n%s", rule, diagText(got))
		}
	}
	// One finding per route, naming every operation it concerns, as for
	// the JSON form (where the short form is one memoised route).
	for _, want := range []string{
		"every set, add, replace, append and prepend goes to all 2 servers of pool A (AllFastestRoute|Pool|A)",
		"incr and decr requests through AllFastestRoute|Pool|A",
	} {
		if n := countFunc(got, func(d diag.Diagnostic) bool { return strings.Contains(d.Message, want) }); n != 1 {
			t.Errorf("%d findings containing %q, want 1:\n%s", n, want, diagText(got))
		}
	}
}

func countFunc(l diag.List, f func(diag.Diagnostic) bool) int {
	n := 0
	for _, d := range l {
		if f(d) {
			n++
		}
	}
	return n
}

// findingKeys returns rule, severity and message of each finding, without
// positions, sorted.
func findingKeys(l diag.List) []string {
	var out []string
	for _, d := range l {
		out = append(out, d.Rule+"/"+d.Severity.String()+": "+d.Message)
	}
	slices.Sort(out)
	return out
}

// TestExamplesBothFrontEnds lints every examples/*/policy.cue and the
// mcrouter.json compiled from it: the rules apply to the route graph, so
// both must give the same findings (rule, severity and message: grouped the
// same way), each with a position in its own file.
func TestExamplesBothFrontEnds(t *testing.T) {
	policies, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "policy.cue"))
	if len(policies) == 0 {
		t.Skip("no examples")
	}
	for _, p := range policies {
		jsonPath := filepath.Join(filepath.Dir(p), "mcrouter.json")
		text, err := os.ReadFile(jsonPath)
		if err != nil {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(p)), func(t *testing.T) {
			fromCUE := lintCUE(t, p)
			fromJSON := lintJSON(jsonPath, text, nil)
			if a, b := findingKeys(fromCUE), findingKeys(fromJSON); !slices.Equal(a, b) {
				t.Errorf("CUE and JSON findings differ:\n%s\n--- vs ---\n%s", diagText(fromCUE), diagText(fromJSON))
			}
			for _, d := range append(fromCUE, fromJSON...) {
				if !d.Pos.IsValid() {
					t.Errorf("finding without a position: %s", d)
				}
			}
		})
	}
}
