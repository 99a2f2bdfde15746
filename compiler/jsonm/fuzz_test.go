package jsonm

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
)

// fuzzSeeds returns the texts of the spec files, each spec case as a small
// config, and some hostile configs.
func fuzzSeeds(f *testing.F) []string {
	f.Helper()
	var seeds []string
	for _, path := range []string{specFile, specComments, specErrors} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(data))
	}
	spec := mustParseFile(f, specFile)
	for _, group := range spec.Obj {
		for _, c := range group.Value.Get("cases").Obj {
			seeds = append(seeds, specConfig(group.Value.Get("macros"), c.Value.Get("orig")).String())
		}
	}
	for _, c := range mustParseFile(f, specErrors).Obj {
		seeds = append(seeds, c.Value.String())
	}
	seeds = append(seeds,
		`{"r": "@range(@int(0), @int(1000000000))"}`,
		`{"r": "@range(@int(-9223372036854775808), @int(9223372036854775807))"}`,
		`{"s": "@slice(abc, @int(-9223372036854775808), @int(9223372036854775807))", "d": "@div(@int(-9223372036854775808), @int(-1))"}`,
		`{"vars": {"a": "%b%", "b": "%a%"}, "v": "%a%"}`,
		`{"macros": {"f": {"type": "macroDef", "params": ["x"], "result": {"type": "merge", "params": ["@f(%x%)", "@f(%x%)"]}}}, "v": "@f(1)"}`,
		`{"vars": {"a": "xx", "b": "%a%%a%", "c": "%b%%b%", "d": "%c%%c%"}, "v": "%d%"}`,
		`{"v": {"type": "process", "dictionary": "@range(@int(0), @int(100))", "initialValue": [], "transform": ["%value%", "%value%"]}}`,
		`{"v": "@import(a)", "w": "@import(self, dflt)", "h": "@hash(@int(1))", "s": "@shuffle(@range(@int(0), @int(9)))"}`,
		`{"v": "@a(@b(1,2) x)", "w": "@(", "x": "@)", "y": "\\", "z": "%", "k": {"@": 1}}`,
		"// c\n{\"a\": [1, 2,], /* x */ \"b\": {\"c\": \"\\u00e9\\ud83d\\ude00\"},}",
		`{"a": 1e999, "b": -0, "c": 12345678901234567890, "d": "\u0000"}`,
	)
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Add([]byte("[\"a\nb\", /* unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse("fuzz.json", data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Pos.Line < 1 || se.Pos.Col < 1 || se.Pos.Offset < 0 || se.Pos.Offset > len(data) {
				t.Fatalf("bad error position %+v for %d bytes", se.Pos, len(data))
			}
			return
		}
		checkPositions(t, v, len(data))
		s := v.String()
		w, err := Parse("", []byte(s))
		if err != nil {
			t.Fatalf("String() output %q does not parse: %v", s, err)
		}
		if w.String() != s || !w.Equal(v) {
			t.Fatalf("round trip changed %q into %q", s, w.String())
		}
		_ = v.ToAny()
	})
}

func checkPositions(t *testing.T, v *Value, n int) {
	if v.Pos.Line < 1 || v.Pos.Col < 1 || v.Pos.Offset < 0 || v.Pos.Offset >= n {
		t.Fatalf("bad position %+v for %d bytes", v.Pos, n)
	}
	for _, e := range v.Arr {
		checkPositions(t, e, n)
	}
	for _, m := range v.Obj {
		if m.KeyPos.Line < 1 || m.KeyPos.Offset >= n {
			t.Fatalf("bad key position %+v", m.KeyPos)
		}
		checkPositions(t, m.Value, n)
	}
}

// fuzzOptions are small limits so that each input runs in well under a
// second, plus an in-memory import resolver with a cycle.
func fuzzOptions() Options {
	files := map[string]string{
		"a":     `{"x": "@import(b)"}`,
		"b":     `["@import(a)"]`,
		"self":  `"@import(self, d)"`,
		"test":  `"mock_test"`,
		"templ": `{ "type": "macroDef", "result": "imported_macro" }`,
		"bad":   `{`,
	}
	return Options{
		Params: map[string]*Value{
			"testGlobal":  NewString("test", Pos{}),
			"templGlobal": NewString("templ", Pos{}),
		},
		Import: func(path string) ([]byte, string, error) {
			if s, ok := files[path]; ok {
				return []byte(s), path + ".json", nil
			}
			return nil, "", fmt.Errorf("no file %q", path)
		},
		Hash64:      testHash64,
		ShuffleSeed: func() uint32 { return 1 },
		LocalAddrs: func() ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
		},
		MaxNodes: 1 << 16,
		MaxSteps: 1 << 18,
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		out, err := Expand(root, fuzzOptions())
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if e == nil || e.Msg == "" {
					t.Fatalf("empty error in %v", list)
				}
				_ = e.Error()
			}
			return
		}
		if out == nil || out.Kind != Object {
			t.Fatalf("result %v is not an object", out)
		}
		_ = out.String()
	})
}
