package compiler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
)

// FuzzCompile compiles arbitrary CUE source as a policy: it must never
// panic, every diagnostic must have a message, and a policy that compiles
// must marshal to mcrouter JSON. The seeds are the inputs of the compile
// golden tests and the examples, so they also run in normal go test.
func FuzzCompile(f *testing.F) {
	archives, _ := filepath.Glob("testdata/compile/*.txtar")
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".cue") {
				f.Add(string(file.Data))
			}
		}
	}
	examples, _ := filepath.Glob("../examples/*/policy.cue")
	for _, e := range examples {
		b, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, src string) {
		p := filepath.Join(t.TempDir(), "policy.cue")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := compiler.Load(context.Background(), p, compiler.Options{})
		if res == nil {
			if err == nil {
				t.Fatal("Load returned neither a result nor an error")
			}
			return
		}
		for _, d := range res.Diagnostics {
			if d.Message == "" {
				t.Errorf("diagnostic without a message: %+v", d)
			}
			if d.Rule == compiler.RuleInternal {
				t.Errorf("internal error: %s", d.Message)
			}
		}
		if err == nil {
			if res.Config == nil {
				t.Fatal("no error and no config")
			}
			if _, err := mcrouterjson.Marshal(res.Config); err != nil {
				t.Errorf("Marshal: %v", err)
			}
		}
	})
}
