package compiler_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// target returns what to compile in an archive written to dir: its only
// .cue or .json file, or dir itself when it holds several .cue files.
func target(t *testing.T, a *golden.Archive, dir string) string {
	t.Helper()
	var cue, js []string
	for _, f := range a.Files {
		switch {
		case strings.HasPrefix(f.Name, "want"):
		case strings.HasSuffix(f.Name, ".cue"):
			cue = append(cue, f.Name)
		case strings.HasSuffix(f.Name, ".json"):
			js = append(js, f.Name)
		}
	}
	switch {
	case len(cue) == 1 && !strings.Contains(cue[0], "/"):
		return filepath.Join(dir, cue[0])
	case len(cue) > 0:
		return filepath.Join(dir, filepath.Dir(filepath.FromSlash(cue[0])))
	case len(js) == 1:
		return filepath.Join(dir, js[0])
	}
	t.Fatalf("%s: nothing to compile", a.Path)
	return ""
}

// diagText renders diagnostics one per line with file names relative to
// dir.
func diagText(l diag.List, dir string) []byte {
	l = append(diag.List(nil), l...)
	l.Relative(dir)
	l.Sort()
	var b bytes.Buffer
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// graphOpts compare route graphs built from different sources: positions,
// and how a value was spelled, do not matter.
var graphOpts = cmp.Options{
	cmpopts.IgnoreTypes(schema.Pos{}),
	cmpopts.IgnoreFields(schema.ErrorRoute{}, "Short"),
	// Inherited fields are resolved: the emitted pool has them itself.
	cmpopts.IgnoreFields(schema.Pool{}, "Discovery", "Inherit"),
	cmpopts.EquateEmpty(),
}

// compile loads a policy and renders the outcome as golden sections:
// want.json (the compiled config) and want.warn (warnings), or want.err
// (every diagnostic) when the policy has errors.
func compile(t *testing.T, path, dir string) (map[string][]byte, *compiler.Result) {
	t.Helper()
	res, err := compiler.Load(context.Background(), path, compiler.Options{})
	if err != nil && res == nil {
		t.Fatalf("Load: %v", err)
	}
	out := map[string][]byte{}
	if err != nil {
		out["want.err"] = diagText(res.Diagnostics, dir)
		return out, res
	}
	b, merr := mcrouterjson.Marshal(res.Config)
	if merr != nil {
		t.Fatalf("Marshal: %v", merr)
	}
	out["want.json"] = b
	if len(res.Diagnostics) > 0 {
		out["want.warn"] = diagText(res.Diagnostics, dir)
	}
	return out, res
}

func TestCompile(t *testing.T) {
	golden.Run(t, "testdata/compile", func(t *testing.T, a *golden.Archive) map[string][]byte {
		dir := tempDir(t)
		a.WriteTo(t, dir)
		path := target(t, a, dir)
		out, res := compile(t, path, dir)

		// Determinism: a second compilation gives the same bytes.
		again, _ := compile(t, path, dir)
		for k, v := range out {
			if !bytes.Equal(v, again[k]) {
				t.Errorf("%s differs between two compilations:\n%s", k, cmp.Diff(string(v), string(again[k])))
			}
		}

		// Cross-back-end invariant: the emitted mcrouter JSON, read back
		// as mcrouter reads it, is the same route graph.
		if js, ok := out["want.json"]; ok {
			root, err := jsonm.Parse("emitted.json", js)
			if err != nil {
				t.Fatalf("emitted JSON does not parse: %v", err)
			}
			back, ds := mcrouterjson.Decode(root, mcrouterjson.DecodeOptions{Dialect: mcrouterjson.MCRouter})
			if ds.HasErrors() {
				t.Errorf("emitted JSON has errors:\n%s", ds)
			}
			if diff := cmp.Diff(res.Config, back, graphOpts); diff != "" {
				t.Errorf("emitted JSON decodes to another graph (-compiled +decoded):\n%s", diff)
			}
		}
		return out
	})
}

// tempDir returns a temporary directory with symbolic links resolved, so
// that file names in diagnostics can be made relative to it.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
