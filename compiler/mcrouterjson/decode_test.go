package mcrouterjson_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/corpus"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// TestDecodeGolden decodes each testdata/decode/*.txtar input.json and
// compares the re-emitted JSON (want.json, empty when the input has errors)
// and the diagnostics (want.diag).
func TestDecodeGolden(t *testing.T) {
	golden.Run(t, "testdata/decode", func(t *testing.T, a *golden.Archive) map[string][]byte {
		l := mcrouterjson.LoadBytes("input.json", a.MustGet(t, "input.json"), mcrouterjson.LoadOptions{})
		out := map[string][]byte{"want.diag": []byte(diagText(l.Diagnostics))}
		if l.Config != nil && !l.Diagnostics.HasErrors() {
			b, err := mcrouterjson.Marshal(l.Config)
			if err != nil {
				t.Fatal(err)
			}
			out["want.json"] = b
			checkRoundTrip(t, l.Config, b)
		} else {
			out["want.json"] = nil
		}
		return out
	})
}

func diagText(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// graphOpts compares route graphs regardless of where they were written.
var graphOpts = cmp.Options{
	cmpopts.IgnoreTypes(schema.Pos{}),
	// Inline pools are written back under "pools".
	cmpopts.IgnoreFields(schema.Pool{}, "Inline"),
	cmpopts.EquateEmpty(),
}

// checkRoundTrip decodes emitted JSON again and requires the same graph and
// the same bytes on a second emission.
func checkRoundTrip(t *testing.T, cfg *schema.Config, emitted []byte) {
	t.Helper()
	l := mcrouterjson.LoadBytes("emitted.json", emitted, mcrouterjson.LoadOptions{})
	if l.Diagnostics.HasErrors() {
		t.Fatalf("emitted JSON does not load:\n%s\n%s", diagText(l.Diagnostics), emitted)
	}
	if d := cmp.Diff(cfg, l.Config, graphOpts); d != "" {
		t.Errorf("graph changed through Marshal and Decode (-before +after):\n%s", d)
	}
	again, err := mcrouterjson.Marshal(l.Config)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(emitted) {
		t.Errorf("Marshal is not stable:\n%s", cmp.Diff(string(emitted), string(again)))
	}
}

// TestCorpusRoundTrip loads every router config of mcrouter's own test
// suite that is valid, writes it back with Marshal, and requires the same
// route graph from the output.
func TestCorpusRoundTrip(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "mcrouter")
	n := 0
	entries, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind != "router-config" || strings.Contains(e.Notes, "intentionally-invalid") {
			continue
		}
		if strings.Contains(e.Notes, "nonstandard-key-regional_pools") {
			// Its pools are under "regional_pools", which mcrouter
			// ignores: it cannot load (lint reports why).
			continue
		}
		if strings.HasSuffix(e.Path, "test_basic_l1_l2_sizesplit_retry_invalid.json") {
			// Not marked in MANIFEST.tsv, but mcrouter refuses it:
			// "maximum number of retries is 10".
			continue
		}
		t.Run(e.Path, func(t *testing.T) {
			text, params, err := corpus.Input(dir, e)
			if err != nil {
				t.Fatal(err)
			}
			l := mcrouterjson.LoadBytes(filepath.Join(dir, e.Path), text, mcrouterjson.LoadOptions{Params: params})
			if l.Diagnostics.HasErrors() {
				t.Fatalf("valid corpus config has errors:\n%s", diagText(l.Diagnostics))
			}
			b, err := mcrouterjson.Marshal(l.Config)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, l.Config, b)
			n++
		})
	}
	if n < 100 {
		t.Errorf("only %d corpus configs round-tripped; expected over 100", n)
	}
}
