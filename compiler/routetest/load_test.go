package routetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

func TestParse(t *testing.T) {
	src := `package policy

// The policy next door.
config: "mcrouter.json"
params: region: "east"
route_prefix: "/us-east/prod/"
host_id: 7

cases: {
	b_first: {
		op:   "set"
		key:  "user:42"
		down: ["A[0]", "10.0.0.2:11211"]
		miss: ["B[1]"]
		want: {
			destinations: ["A[0] 10.0.0.1:11211", "A[1]", "W[0] 10.0.0.9:11211 add (background)"]
			reply: "stored"
			path: ["RootRoute /././"]
		}
	}
	"a second": {op: "lease-get", key: "k", want: destinations: []}
}
cases: c_third: {op: "get", key: "k"}
`
	f, err := Parse("dir/policy_test.cue", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Path:        "dir/policy_test.cue",
		Config:      filepath.Join("dir", "mcrouter.json"),
		ConfigPos:   schema.Pos{File: "dir/policy_test.cue", Line: 4, Col: 1},
		Params:      map[string]string{"region": "east"},
		RoutePrefix: "/us-east/prod/",
		HostID:      7,
		Cases: []*Case{
			{
				Name: "b_first", Pos: schema.Pos{File: "dir/policy_test.cue", Line: 10, Col: 2},
				Op: mc.OpSet, Key: "user:42", Down: []string{"A[0]", "10.0.0.2:11211"}, Miss: []string{"B[1]"},
				Want: Want{
					Fields:       FieldDestinations | FieldReply | FieldPath,
					Destinations: []string{"A[0] 10.0.0.1:11211", "A[1]", "W[0] 10.0.0.9:11211 add (background)"},
					Reply:        "stored",
					Path:         []string{"RootRoute /././"},
				},
			},
			{
				Name: "a second", Pos: schema.Pos{File: "dir/policy_test.cue", Line: 21, Col: 2},
				Op: mc.OpLeaseGet, Key: "k",
				Want: Want{Fields: FieldDestinations, Destinations: []string{}},
			},
			{Name: "c_third", Pos: schema.Pos{File: "dir/policy_test.cue", Line: 23, Col: 8}, Op: mc.OpGet, Key: "k"},
		},
	}
	opts := cmp.Options{cmp.AllowUnexported(File{}), cmpopts.IgnoreFields(File{}, "src", "syntax"), cmpopts.IgnoreFields(Case{}, "downPos", "missPos")}
	if diff := cmp.Diff(want, f, opts); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]schema.Pos{{File: "dir/policy_test.cue", Line: 13, Col: 10}, {File: "dir/policy_test.cue", Line: 13, Col: 18}}, f.Cases[0].downPos); diff != "" {
		t.Errorf("down positions (-want +got):\n%s", diff)
	}
}

func TestParseDefaults(t *testing.T) {
	f, err := Parse(filepath.Join("examples", "x", "policy_test.cue"), []byte(`cases: {}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Config != filepath.Join("examples", "x") || f.HostID != 0 || f.RoutePrefix != "" || len(f.Cases) != 0 {
		t.Errorf("defaults: config %q, host id %d, route prefix %q, %d cases", f.Config, f.HostID, f.RoutePrefix, len(f.Cases))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // diagnostics
	}{
		{
			name: "syntax",
			src:  "cases: {\n\ta: {op: \"get\"\n",
			want: []string{"t_test.cue:2:16: error: expected '}', found 'EOF' [test-syntax]"},
		},
		{
			name: "typo in a case",
			src:  "cases: a: {\n\top: \"get\"\n\tkey: \"k\"\n\twnat: reply: \"found\"\n}\n",
			want: []string{"t_test.cue:4:2: error: cases.a.wnat: field not allowed [test-schema]"},
		},
		{
			name: "typo at the top",
			src:  "confg: \"x.json\"\ncases: {}\n",
			want: []string{"t_test.cue:1:1: error: confg: field not allowed [test-schema]"},
		},
		{
			name: "cases missing",
			src:  "config: \"x.json\"\n",
			want: []string{"t_test.cue:1:1: error: cases: field is required but not present [test-schema]"},
		},
		{
			name: "required fields, per case",
			src:  "cases: {\n\ta: {op: \"get\"}\n\tb: {key: \"k\"}\n\tc: {op: \"get\", key: 1}\n}\n",
			want: []string{
				"t_test.cue:2:2: error: cases.a.key: field is required but not present [test-schema]",
				"t_test.cue:3:2: error: cases.b.op: field is required but not present [test-schema]",
				"t_test.cue:4:22: error: cases.c.key: conflicting values 1 and string (mismatched types int and string) [test-schema]",
			},
		},
		{
			name: "unknown op",
			src:  "cases: a: {op: \"gte\", key: \"k\"}\n",
			want: []string{`t_test.cue:1:12: error: cases.a.op: unknown operation "gte"; valid operations: get, gets, set, add, replace, append, prepend, cas, delete, incr, decr, touch, gat, gats, metaget, lease-get, lease-set, flushall, flushre [test-invalid]`},
		},
		{
			name: "unknown reply",
			src:  "cases: a: {op: \"get\", key: \"k\", want: reply: \"mc_res_found\"}\n",
			want: []string{`t_test.cue:1:39: error: cases.a.want.reply: unknown reply "mc_res_found"; valid replies: ` + strings.Join(resultNames(), ", ") + ` [test-invalid]`},
		},
		{
			name: "bad destination",
			src:  "cases: a: {op: \"get\", key: \"k\", want: destinations: [\"A[0]\", \"A[0]  h:1\", \"A[0] h:1 (bg)\"]}\n",
			want: []string{
				`t_test.cue:1:62: error: cases.a.want.destinations.1: destination "A[0]  h:1": want "pool[index] host:port" or "pool[index]", then the operation if it is not the request's and "(background)" for background sends [test-invalid]`,
				`t_test.cue:1:75: error: cases.a.want.destinations.2: destination "A[0] h:1 (bg)": want "pool[index] host:port" or "pool[index]", then the operation if it is not the request's and "(background)" for background sends [test-invalid]`,
			},
		},
		{
			name: "bad route prefix and host id",
			src:  "route_prefix: \"/a/\"\nhost_id: 0\ncases: {}\n",
			want: []string{
				`t_test.cue:1:15: error: route_prefix: invalid value "/a/" (out of bound =~"^/[^/]+/[^/]+/$") [test-schema]`,
				`t_test.cue:2:10: error: host_id: invalid value 0 (out of bound >=1) [test-schema]`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t_test.cue", []byte(tc.src))
			var l diag.List
			if !errors.As(err, &l) {
				t.Fatalf("err = %v, want a diag.List", err)
			}
			var got []string
			for _, d := range l {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckDestination(t *testing.T) {
	for _, s := range []string{
		"A[0]", "A[12] host:11211", "my pool[1] 10.0.0.1:11211", "A[0] h:1 add", "A[0] h:1 (background)",
		"A[0] h:1 lease-set (background)", "A[0] add", "A[0] (background)", "A[0] unix:/tmp/s",
	} {
		if err := checkDestination(s); err != nil {
			t.Errorf("checkDestination(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "A", "A[x]", "A[0] ", "A[0]  h:1", "A[0] h:1 nope", "A[0] (background) h:1", "A[0] h:1 h:2"} {
		if err := checkDestination(s); err == nil {
			t.Errorf("checkDestination(%q) succeeded", s)
		}
	}
}

// A test file next to a CUE policy, in the policy's package, does not
// change the policy: CUE's loader leaves *_test.cue files out of the
// package. (Its fields would otherwise be rejected by #Policy.)
func TestPolicyIgnoresTestFile(t *testing.T) {
	dir := t.TempDir()
	policy := `package replicated

pools: {
	A: servers: ["mamcached-server-1:11211", "mamcached-server-2:11211"]
	B: servers: ["mamcached-server-2:11211", "mamcached-server-1:11211"]
}
route: #ReplicatedPool & {#pools: ["A", "B"]}
`
	write(t, filepath.Join(dir, "policy.cue"), policy)
	load := func(path string) []byte {
		t.Helper()
		res, err := compiler.Load(context.Background(), path, compiler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := mcrouterjson.Marshal(res.Config)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	without := load(dir)
	for _, clause := range []string{"package replicated\n\n", ""} {
		write(t, filepath.Join(dir, "policy_test.cue"), clause+"cases: a: {op: \"get\", key: \"k\", want: reply: \"found\"}\n")
		if diff := cmp.Diff(string(without), string(load(dir))); diff != "" {
			t.Errorf("with a test file (%q), the policy changed (-without +with):\n%s", clause, diff)
		}
		if diff := cmp.Diff(string(without), string(load(filepath.Join(dir, "policy.cue")))); diff != "" {
			t.Errorf("policy.cue changed:\n%s", diff)
		}
		rep, err := Run(context.Background(), []string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s := rep.Summary; s.Passed != 1 || !s.OK() {
			t.Errorf("summary = %+v, want 1 passed", s)
		}
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
