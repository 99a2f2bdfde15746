package jsonm

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The spec files are mcrouter's own tests of ConfigPreprocessor, copied into
// testdata (see testdata/PROVENANCE.md). mcrouter's harness
// (config_preprocessor_test.cpp) expands, for every case of every group, the
// config {"consts": [], "macros": <group macros>, "orig": <case orig>} with
// the global params below and a mock import resolver, and compares the
// expanded "orig" with "expand".

const (
	specFile     = "testdata/config_preprocessor_test_file.json"
	specComments = "testdata/config_preprocessor_test_comments.json"
	specErrors   = "testdata/config_preprocessor_test_errors.json"
)

// specOptions mirrors mcrouter's test harness: global params testGlobal and
// templGlobal, and imports served from testdata/import (see PROVENANCE.md).
func specOptions() Options {
	return Options{
		Params: map[string]*Value{
			"testGlobal":  NewString("test", Pos{}),
			"templGlobal": NewString("templ", Pos{}),
		},
		Import: ImportFromDir("testdata/import", false),
		Hash64: testHash64,
		LocalAddrs: func() ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"),
				netip.MustParseAddr("192.0.2.2")}, nil
		},
	}
}

func mustParseFile(t testing.TB, path string) *Value {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Parse(filepath.Base(path), data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return v
}

// specConfig builds mcrouter's per-case test config.
func specConfig(macros, orig *Value) *Value {
	return NewObject([]*Member{
		{Key: "consts", Value: NewArray([]*Value{}, Pos{})},
		{Key: "macros", Value: macros},
		{Key: "orig", Value: orig},
	}, orig.Pos)
}

func TestPreprocessorSpec(t *testing.T) {
	root := mustParseFile(t, specFile)
	ncases := 0
	for _, group := range root.Obj {
		macros := group.Value.Get("macros")
		cases := group.Value.Get("cases")
		if macros == nil || cases == nil || cases.Kind != Object {
			t.Fatalf("group %s: malformed (needs macros and cases)", group.Key)
		}
		t.Run(group.Key, func(t *testing.T) {
			for _, c := range cases.Obj {
				ncases++
				t.Run(c.Key, func(t *testing.T) {
					orig, want := c.Value.Get("orig"), c.Value.Get("expand")
					if orig == nil || want == nil {
						t.Fatalf("case without orig/expand")
					}
					out, err := Expand(specConfig(macros, orig), specOptions())
					if err != nil {
						t.Fatalf("Expand: %v", err)
					}
					got := out.Get("orig")
					if got == nil {
						t.Fatalf("no orig in result %s", out)
					}
					if diff := cmp.Diff(want.ToAny(), got.ToAny()); diff != "" {
						t.Errorf("%s: expansion mismatch (-want +got):\n%s", c.KeyPos, diff)
					}
				})
			}
		})
	}
	if ncases < 150 {
		t.Errorf("ran only %d cases", ncases)
	}
}

func TestPreprocessorSpecComments(t *testing.T) {
	root := mustParseFile(t, specComments)
	out, err := Expand(root, specOptions())
	if err != nil {
		t.Fatal(err)
	}
	orig, want := out.Get("orig"), out.Get("expand")
	if orig == nil || want == nil {
		t.Fatalf("missing orig/expand in %s", out)
	}
	if diff := cmp.Diff(want.ToAny(), orig.ToAny()); diff != "" {
		t.Errorf("mismatch (-expand +orig):\n%s", diff)
	}
	if s := orig.Get("str"); s == nil || s.Str != `//"` {
		t.Errorf(`orig.str = %v, want "//\""`, s)
	}
}

func TestPreprocessorSpecErrors(t *testing.T) {
	root := mustParseFile(t, specErrors)
	if len(root.Obj) < 25 {
		t.Fatalf("only %d error cases", len(root.Obj))
	}
	for _, c := range root.Obj {
		t.Run(c.Key, func(t *testing.T) {
			out, err := Expand(c.Value, specOptions())
			if err == nil {
				t.Fatalf("%s: no error; result %s", c.KeyPos, out)
			}
			if _, ok := err.(ErrorList); !ok {
				t.Errorf("error is %T, want ErrorList", err)
			}
			t.Logf("%s: %v", c.Key, err)
		})
	}
}

// TestSpookyVectors checks the SpookyHash test helper against folly's
// values (testdata/spooky32.tsv).
func TestSpookyVectors(t *testing.T) {
	f, err := os.Open("testdata/spooky32.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 || fields[1] == "seed" {
			continue
		}
		seed, err1 := strconv.ParseUint(fields[1], 10, 32)
		want, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		if got := spookyHash32([]byte(fields[0]), uint32(seed)); got != uint32(want) {
			t.Errorf("spooky32(%q, %d) = %d, want %d", fields[0], seed, got, want)
		}
		n++
	}
	if n < 400 {
		t.Errorf("only %d vectors", n)
	}
}
