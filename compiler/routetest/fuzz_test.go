package routetest

import (
	"errors"
	"testing"

	"cuelang.org/go/cue/parser"

	"github.com/mcroute/mcroute/internal/diag"
)

// FuzzParse: any test file source either parses into cases or fails with
// positioned diagnostics, without panicking; the cases of a file that
// parses can be rewritten by --update into a file that still parses.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`config: "prod.json"
cases: a: {op: "get", key: "k", want: {destinations: ["A[0]"], reply: "found"}}`,
		`cases: {
	b: {
		op:   "set"
		key:  "user:42"
		down: ["A[0]"]
		want: {
			reply: "stored"
		}
	}
	c: {op: "get", key: "x"}
}
cases: d: op: "get"
cases: d: key: "y"`,
		`cases: a: {op: "gte", key: "k"}`,
		`cases: a: {op: "get", key: 42}`,
		`cases: a: {op: "get", key: "k", want: destinations: ["A 0"]}`,
		`for k in ["x"] { cases: "gen_\(k)": {op: "get", key: k} }`,
		`cases: a: {op: "get", key: "k", want: {}}`,
		`cases: {`,
		`package p
config: "c.cue"
params: {a: "b"}
route_prefix: "/a/b/"
host_id: 3
cases: {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("fuzz_test.cue", src)
		if err != nil {
			var l diag.List
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("Parse: %v is not a diagnostic list", err)
			}
			return
		}
		var us []caseUpdate
		for _, c := range file.Cases {
			us = append(us, caseUpdate{name: c.Name, pos: c.Pos, fields: FieldDestinations | FieldReply | FieldPath,
				destinations: []string{"A[0] h:1", "B[1] h:2 (background)"}, reply: "found", path: []string{"RootRoute /././"}})
		}
		out, _ := file.update(us)
		if _, err := parser.ParseFile("fuzz_test.cue", out, parser.ParseComments); err != nil {
			t.Fatalf("updated file does not parse: %v\n%s", err, out)
		}
	})
}
