package mcrouterjson_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
)

// FuzzLoadBytes feeds arbitrary bytes to the mcrouter JSON reader (JSONC
// parse, JSONM expansion, decode). It must never panic; a config it
// accepts must be emitted by Marshal and read back without errors. Seeds:
// the 131 configs of mcrouter's test suite and the decode golden inputs.
//
// Run longer with: go test -fuzz=FuzzLoadBytes -fuzztime=10m ./compiler/mcrouterjson
func FuzzLoadBytes(f *testing.F) {
	corpus := filepath.Join("..", "..", "testdata", "mcrouter")
	err := filepath.WalkDir(corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	goldens, _ := filepath.Glob(filepath.Join("testdata", "decode", "*.txtar"))
	for _, g := range goldens {
		a, err := txtar.ParseFile(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			if strings.HasSuffix(file.Name, ".json") {
				f.Add(file.Data)
			}
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"pools": {}, "route": "PoolRoute|A"}`,
		`{"route": "AllSyncRoute|Pool|A", "pools": {"A": {"servers": ["[::1]:1:ascii:plain:compressed"]}}}`,
		`{"route": {"type": "HashRoute", "children": "Pool|A", "hash_func": "WeightedCh3"}, "pools": {"A": {"servers": ["h:1"], "weights": [1e308]}}}`,
		`{"named_handles": [{"type": "FailoverRoute", "name": "x", "children": ["x"]}], "route": "x"}`,
		`{"routes": [{"aliases": ["/a/b/"], "route": "NullRoute"}, {"aliases": ["/a/b/"], "route": "ErrorRoute"}]}`,
		`{"macros": {"m": {"type": "macroDef", "result": "@m"}}, "route": "@m"}`,
		`{"pools": "@import(../../etc/passwd)", "route": "@import(fuzz.json)"}`,
	} {
		f.Add([]byte(s))
	}
	// @import targets resolve in an empty directory.
	path := filepath.Join(f.TempDir(), "fuzz.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		l := mcrouterjson.LoadBytes(path, data, mcrouterjson.LoadOptions{Params: map[string]string{"PORT": "11211"}})
		if l.Config == nil {
			if !l.Diagnostics.HasErrors() {
				t.Fatal("no config and no error")
			}
			return
		}
		for _, d := range l.Diagnostics {
			if d.Message == "" {
				t.Fatalf("diagnostic without a message: %+v", d)
			}
		}
		if l.Diagnostics.HasErrors() {
			return
		}
		out, err := mcrouterjson.Marshal(l.Config)
		if err != nil {
			return // a graph mcrouter JSON cannot express
		}
		back := mcrouterjson.LoadBytes(path, out, mcrouterjson.LoadOptions{})
		if back.Diagnostics.HasErrors() {
			t.Fatalf("accepted config emits JSON that does not load:\n%s\n%s\ninput:\n%s", back.Diagnostics.Error(), out, data)
		}
	})
}
