package sim_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/sim"
	"github.com/mcroute/mcroute/schema"
)

// TestGolden runs testdata/*.txtar. The archive comment holds the
// parameters on a line starting with "simulate:", as key=value words:
// config (default: config.json or policy.cue), compare, down (repeatable),
// down_result, op, keys, pattern, keys_from, seed. The outputs are want.txt
// (the text report) and want.json, or want.err when Run fails.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) map[string][]byte {
		dir := a.WriteTo(t, t.TempDir())
		opts, err := archiveOptions(t, a, dir)
		if err != nil {
			return map[string][]byte{"want.err": []byte(err.Error() + "\n")}
		}
		res, err := sim.Run(context.Background(), opts)
		if err != nil {
			return map[string][]byte{"want.err": []byte(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "") + "\n")}
		}
		// The result must not depend on how the keys are split among
		// workers.
		for _, workers := range []int{1, 3} {
			o := opts
			o.Workers = workers
			if o.KeysFrom != nil {
				f, err := os.Open(filepath.Join(dir, archive{a}.params(t)["keys_from"][0]))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				o.KeysFrom = f
			}
			again, err := sim.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jsonOf(t, res), jsonOf(t, again)); diff != "" {
				t.Errorf("result with %d workers differs (-default +%d):\n%s", workers, workers, diff)
			}
		}
		var txt bytes.Buffer
		if err := sim.WriteText(&txt, res); err != nil {
			t.Fatal(err)
		}
		return map[string][]byte{"want.txt": txt.Bytes(), "want.json": []byte(jsonOf(t, res))}
	})
}

func jsonOf(t *testing.T, r *sim.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := sim.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type archive struct{ *golden.Archive }

func (a archive) params(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range strings.Split(string(a.Comment), "\n") {
		rest, ok := strings.CutPrefix(line, "simulate:")
		if !ok {
			continue
		}
		for _, w := range strings.Fields(rest) {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				t.Fatalf("%s: parameter %q is not key=value", a.Path, w)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

func load(t *testing.T, path string) (*schema.Config, error) {
	t.Helper()
	res, err := compiler.Load(context.Background(), path, compiler.Options{})
	if err != nil {
		return nil, err
	}
	return res.Config, nil
}

// archiveOptions turns the archive's parameters into Options.
func archiveOptions(t *testing.T, a *golden.Archive, dir string) (sim.Options, error) {
	p := archive{a}.params(t)
	one := func(k string) string {
		if v := p[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	cfgName := one("config")
	if cfgName == "" {
		cfgName = "config.json"
		if _, ok := a.Get("policy.cue"); ok {
			cfgName = "policy.cue"
		}
	}
	cfg, err := load(t, filepath.Join(dir, cfgName))
	if err != nil {
		t.Fatalf("load %s: %v", cfgName, err)
	}
	o := sim.Options{Config: cfg, Name: cfgName, Down: p["down"], Pattern: one("pattern"), Keys: 10000}
	if c := one("compare"); c != "" {
		if o.Compare, err = load(t, filepath.Join(dir, c)); err != nil {
			t.Fatalf("load %s: %v", c, err)
		}
		o.CompareName = c
	}
	if v := one("keys"); v != "" {
		if o.Keys, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	if v := one("seed"); v != "" {
		if o.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	if v := one("op"); v != "" {
		op, ok := mc.ParseOp(v)
		if !ok {
			t.Fatalf("unknown op %q", v)
		}
		o.Op = op
	}
	if v := one("down_result"); v != "" {
		r, ok := mc.ParseResult(v)
		if !ok {
			t.Fatalf("unknown result %q", v)
		}
		o.DownResult = r
	}
	if v := one("keys_from"); v != "" {
		f, err := os.Open(filepath.Join(dir, v))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		o.KeysFrom, o.KeysFromName = f, v
	}
	return o, nil
}
