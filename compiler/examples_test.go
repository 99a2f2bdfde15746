package compiler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/golden"
)

// TestExamples compiles every examples/*/policy.cue and compares the result
// with the committed examples/*/mcrouter.json, byte for byte
// (MCROUTE_UPDATE=1 rewrites them).
func TestExamples(t *testing.T) {
	policies, err := filepath.Glob("../examples/*/policy.cue")
	if err != nil {
		t.Fatal(err)
	}
	if len(policies) < 5 {
		t.Fatalf("found %d example policies, want at least 5", len(policies))
	}
	for _, p := range policies {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			res, err := compiler.Load(context.Background(), p, compiler.Options{})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if len(res.Diagnostics) > 0 {
				t.Errorf("diagnostics:\n%s", res.Diagnostics)
			}
			got, err := mcrouterjson.Marshal(res.Config)
			if err != nil {
				t.Fatal(err)
			}
			wantPath := filepath.Join(dir, "mcrouter.json")
			want, err := os.ReadFile(wantPath)
			if golden.Update() && !bytes.Equal(want, got) {
				if err := os.WriteFile(wantPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s differs (-want +got):\n%s\n(run with MCROUTE_UPDATE=1 to accept)", wantPath, cmp.Diff(string(want), string(got)))
			}
			if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
				t.Errorf("example has no README.md: %v", err)
			}
		})
	}
}

// TestReplicatedExample checks that the replicated example's policy
// compiles to the production config it reproduces: the same route graph,
// and the same JSON value (only key order and spacing differ).
func TestReplicatedExample(t *testing.T) {
	res, err := compiler.Load(context.Background(), "../examples/replicated/policy.cue", compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := mcrouterjson.Load("../examples/replicated/original.json", mcrouterjson.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(orig.Diagnostics) > 0 {
		t.Fatalf("original.json: %s", orig.Diagnostics)
	}
	if diff := cmp.Diff(orig.Config, res.Config, graphOpts); diff != "" {
		t.Errorf("route graphs differ (-original +compiled):\n%s", diff)
	}
	compiled, err := mcrouterjson.Marshal(res.Config)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(orig.Text, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(compiled, &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("JSON values differ (-original +compiled):\n%s", diff)
	}
}
