package jsonm

import (
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// expandSrc parses src (file "cfg.json") and expands it.
func expandSrc(t testing.TB, src string, opts Options) (*Value, error) {
	t.Helper()
	root, err := Parse("cfg.json", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return Expand(root, opts)
}

func mustExpand(t testing.TB, src string, opts Options) *Value {
	t.Helper()
	v, err := expandSrc(t, src, opts)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return v
}

// posOf returns the position of the n-th (0-based) occurrence of sub in src.
func posOf(t testing.TB, src, sub string, n int) Pos {
	t.Helper()
	off := -1
	for i := 0; i <= n; i++ {
		j := strings.Index(src[off+1:], sub)
		if j < 0 {
			t.Fatalf("%q not found %d times", sub, n+1)
		}
		off += 1 + j
	}
	line := 1 + strings.Count(src[:off], "\n")
	col := off - (strings.LastIndex(src[:off], "\n") + 1) + 1
	return Pos{File: "cfg.json", Offset: off, Line: line, Col: col}
}

func TestExpandPositions(t *testing.T) {
	src := `{
  "macros": {
    "pool": {"type": "macroDef", "params": ["name", {"name": "label", "default": "d"}],
             "result": {"servers": "%name%", "timeout": "@int(10)", "label": "p-%label%"}},
    "hosts": {"type": "constDef", "result": ["h1:1", "h2:2"]}
  },
  "vars": {"port": 11211, "n": "x"},
  "pools": {"A": "@pool(%hosts%)", "B": {"port": "%port%", "label": "@pool(%n%, %n%)"}},
  "lit": 5
}`
	out := mustExpand(t, src, Options{})
	pools := out.Get("pools")
	a := pools.Member("A")
	if a.KeyPos != posOf(t, src, `"A"`, 0) {
		t.Errorf("key A at %v", a.KeyPos)
	}
	// A macro result is its body.
	if want := posOf(t, src, `{"servers"`, 0); a.Value.Pos != want {
		t.Errorf("macro result at %v, want %v (the body)", a.Value.Pos, want)
	}
	// A whole substitution keeps the position of the substituted value.
	servers := a.Value.Get("servers")
	if want := posOf(t, src, `["h1:1"`, 0); servers.Pos != want || servers.Arr[1].Pos != posOf(t, src, `"h2:2"`, 0) {
		t.Errorf("substituted const at %v, want %v", servers.Pos, want)
	}
	// A built-in result points at the call.
	if tm := a.Value.Get("timeout"); tm.Int != 10 || tm.Pos != posOf(t, src, `"@int(10)"`, 0) {
		t.Errorf("timeout %v at %v", tm, tm.Pos)
	}
	// vars keep the position of their definition.
	if p := pools.Get("B").Get("port"); p.Int != 11211 || p.Pos != posOf(t, src, `11211`, 0) {
		t.Errorf("port %v at %v", p, p.Pos)
	}
	// Embedded substitution: the template string.
	if l := pools.Get("B").Get("label").Get("label"); l.Str != "p-x" || l.Pos != posOf(t, src, `"p-%label%"`, 0) {
		t.Errorf("label %v at %v", l, l.Pos)
	}
	if l := out.Get("lit"); l.Pos != posOf(t, src, "5\n", 0) {
		t.Errorf("literal at %v", l.Pos)
	}
	if out.Get("vars") != nil || out.Get("macros") != nil {
		t.Errorf("vars/macros left in output: %s", out)
	}
}

func TestExpandErrorPositions(t *testing.T) {
	tests := []struct {
		name, src, at, msg string
	}{
		{"nested call argument", `{"x": "@add(@int(1), @int(abc))"}`, `@int(abc)`, "Can not cast string to int"},
		{"missing param", `{"y": "a-%missing%"}`, `%missing%`, "'missing' not found"},
		{"odd percent", `{"y": "a-%b"}`, `%b`, "Odd number of percent signs"},
		{"key not a string", `{"vars": {"k": 1}, "%k%": 1}`, `"%k%"`, "Expanded key is not a string"},
		{"embedded non-string", `{"vars": {"k": 1}, "v": "a%k%"}`, `%k%"`, "'k' is int, expected string"},
		{"unknown macro", "{\n \"z\": [\"@nope(1)\"]}", `"@nope`, "Macro 'nope' not found"},
		{"escaped string no verbatim position", `{"w": "\t@x"}`, `"\t@x"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expandSrc(t, tt.src, Options{})
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("err = %v, want one error", err)
			}
			if want := posOf(t, tt.src, tt.at, 0); list[0].Pos != want {
				t.Errorf("error at %v, want %v: %v", list[0].Pos, want, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestExpandErrorStack(t *testing.T) {
	src := `{
  "macros": {
    "inner": {"type": "macroDef", "params": ["v"], "result": "@div(%v%, @int(0))"},
    "outer": {"type": "macroDef", "params": ["v"], "result": {"k": "@inner(%v%)"}}
  },
  "route": "@outer(@int(3))"
}`
	_, err := expandSrc(t, src, Options{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if e.Pos != posOf(t, src, `"@div`, 0) {
		t.Errorf("error at %v, want the @div call", e.Pos)
	}
	want := []Pos{posOf(t, src, `"@inner(%v%)"`, 0), posOf(t, src, `"@outer`, 0)}
	var got []Pos
	for _, f := range e.Stack {
		got = append(got, f.Pos)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stack (-want +got):\n%s\n%v", diff, err)
	}
	if !strings.Contains(err.Error(), "cfg.json:6:12: in macro 'outer'") {
		t.Errorf("message:\n%v", err)
	}
}

func TestExpandCollectsErrors(t *testing.T) {
	src := `{"a": "@fail(one)", "b": {"c": "@fail(two)", "ok": 1}, "d": [1, "@fail(three)"], "e": "ok"}`
	out, err := expandSrc(t, src, Options{})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v", err)
	}
	var msgs []string
	for _, e := range list {
		msgs = append(msgs, e.Msg)
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, msgs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if got := out.String(); got != `{"b":{"ok":1},"d":[1],"e":"ok"}` {
		t.Errorf("partial result %s", got)
	}
}

func TestExpandSemantics(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"key expansion", `{"vars": {"k": "x"}, "%k%": 1, "\\@k": 2, "@str(@int(3))": 3}`, `{"x":1,"@k":2,"3":3}`},
		{"whole reference any type", `{"vars": {"a": [1, {"b": null}]}, "v": "%a%"}`, `{"v":[1,{"b":null}]}`},
		{"empty reference prefix quirk", `{"vars": {"e": "", "n": 7}, "v": "%e%%n%"}`, `{"v":7}`},
		{"trailing backslash dropped", `{"v": "abc\\"}`, `{"v":"abc"}`},
		{"escape", `{"v": "\\@a\\%b\\\\"}`, `{"v":"@a%b\\"}`},
		{"string not starting with @", `{"v": " @int(1)"}`, `{"v":" @int(1)"}`},
		{"type not a macro", `{"type": "PoolRoute", "pool": "A"}`, `{"type":"PoolRoute","pool":"A"}`},
		{"type via param", `{"vars": {"t": "int"}, "r": {"type": "%t%", "value": "5"}}`, `{"r":5}`},
		{"macro overrides built-in", `{"macros": {"int": {"type": "macroDef", "result": "mine"}}, "v": "@int"}`, `{"v":"mine"}`},
		{"define", `{"v": {"type": "define", "vars": {"a": "%b%", "b": 2}, "result": "@add(%a%, %b%)"}}`, `{"v":4}`},
		{"merge objects override", `{"v": {"type": "merge", "params": [{"a": 1, "b": 2}, {"a": 3}]}}`, `{"v":{"a":3,"b":2}}`},
		{"merge strings", `{"v": {"type": "merge", "params": ["a", "b", ""]}}`, `{"v":"ab"}`},
		{"str conversions", `{"v": ["@str(@bool(true))", "@str(@double(1e21))", "@str(@double(0.0000001))", "@str(@double(100))"]}`,
			`{"v":["1","1E21","1E-7","100"]}`},
		{"int conversions", `{"v": ["@int(+7)", "@int(@double(2))", "@int(@bool(true))"]}`, `{"v":[7,2,1]}`},
		{"bool conversions", `{"v": ["@bool(yes)", "@bool(OFF)", "@bool(@double(0.5))", "@bool(001)"]}`, `{"v":[true,false,true,true]}`},
		{"double conversions", `{"v": ["@double(1.)", "@double(.5)", "@double(-2e3)", "@double(@int(3))"]}`, `{"v":[1.0,0.5,-2000.0,3.0]}`},
		{"folly ordering", `{"v": {"type": "sort", "dictionary": ["a", 2.5, 1, true, [1], [0, 5], null]}}`,
			`{"v":[null,[0,5],[1],true,1,2.5,"a"]}`},
		{"less mixed numbers", `{"v": ["@less(@int(1), @double(1.5))", "@less(@double(2.5), @int(2))"]}`, `{"v":[true,false]}`},
		{"equals int double", `{"v": "@equals(@int(2), @double(2))"}`, `{"v":true}`},
		{"contains", `{"v": {"type": "contains", "dictionary": [1, [2]], "key": [2.0]}}`, `{"v":true}`},
		{"size and empty", `{"v": ["@size(abc)", "@empty()", "@size(@range(@int(1), @int(0)))"]}`, `{"v":[3,true,0]}`},
		{"slice object", `{"v": {"type": "slice", "dictionary": {"a": 1, "b": 2, "c": 3}, "from": "b", "to": "z"}}`, `{"v":{"b":2,"c":3}}`},
		{"slice array bounds", `{"v": "@slice(@range(@int(0), @int(5)), @int(4), @int(99))"}`, `{"v":[4,5]}`},
		{"keys values", `{"v": {"type": "keys", "dictionary": {"b": 1, "a": 2}}, "w": {"type": "values", "dictionary": {"b": 1, "a": 2}}}`,
			`{"v":["b","a"],"w":[1,2]}`},
		{"set", `{"v": {"type": "set", "dictionary": {"a": 1}, "key": "a", "value": [2]}}`, `{"v":{"a":[2]}}`},
		{"select array key default", `{"v": "@select(@range(@int(0), @int(2)), @int(-4), none)"}`, `{"v":"none"}`},
		{"bitwise", `{"v": ["@bitwiseLeftShift(@int(1), @int(62))", "@bitwiseRightShift(@int(-1), @int(60))", "@bitwiseNot(@int(0))"]}`,
			`{"v":[4611686018427387904,15,-1]}`},
		{"arith wraps", `{"v": ["@add(@int(9223372036854775807), @int(1))", "@div(@int(-9223372036854775808), @int(-1))", "@mod(@int(-7), @int(3))"]}`,
			`{"v":[-9223372036854775808,-9223372036854775808,-1]}`},
		{"is*", `{"v": ["@isInt(@int(1))", "@isDouble(@int(1))", "@isString(x)", "@isArray(@range(@int(0),@int(0)))", "@isBool(@bool(1))", "@isObject(x)"]}`,
			`{"v":[true,false,true,true,true,false]}`},
		{"hash int", `{"v": "@hash(@int(0))"}`, `{"v":` + itoa(int(int64(twangMix64(0)))) + `}`},
		{"transform key list", `{"v": {"type": "transform", "dictionary": {"a": [1]}, "keyTransform": ["x", "y"], "itemTransform": "%item%"}}`,
			`{"v":{"x":[1],"y":[1]}}`},
		{"transform empty key list drops", `{"v": {"type": "transform", "dictionary": {"a": 1, "b": 2}, "keyTransform": {"type": "if", "condition": "@equals(%key%, a)", "is_true": [], "is_false": "%key%"}}}`,
			`{"v":{"b":2}}`},
		{"process", `{"v": {"type": "process", "dictionary": [1, 2, 3], "initialValue": "@int(0)", "transform": "@add(%value%, %item%)"}}`, `{"v":6}`},
		{"foreach object to list", `{"v": {"type": "foreach", "from": {"a": 1, "b": 2}, "use": ["%key%"], "noMatchResult": []}}`, `{"v":["a","b"]}`},
		{"nested vars shadow", `{"vars": {"a": 1}, "x": {"vars": {"a": 2}, "v": "%a%"}, "y": "%a%"}`, `{"x":{"v":2},"y":1}`},
		{"macro does not see caller vars", `{"macros": {"m": {"type": "macroDef", "result": "@defined(a)"}}, "vars": {"a": 1}, "v": "@m"}`, `{"v":false}`},
		{"macroDef in output stays raw", `{"v": {"type": "macroDef", "result": "@int(1)"}}`, `{"v":{"type":"macroDef","result":"@int(1)"}}`},
		{"null default is no default", `{"macros": {"m": {"type": "macroDef", "params": [{"name": "a", "default": null}], "result": "@defined(a)"}}, "v": "@m"}`, `{"v":false}`},
		{"object call ignores unknown keys", `{"macros": {"m": {"type": "macroDef", "params": ["a"], "result": "%a%"}}, "v": {"type": "m", "a": 1, "zzz": 2}}`, `{"v":1}`},
		{"split", `{"v": ["@split(a.b, .)", "@split(ab, abc)"]}`, `{"v":[["a","b"],["ab"]]}`},
		{"fail message object", `{"v": "@if(@bool(false), @fail(x), ok)"}`, `{"v":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustExpand(t, tt.src, Options{Hash64: testHash64})
			if got := out.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestExpandFailures(t *testing.T) {
	tests := []struct{ name, src, msg string }{
		{"root not object", `[1]`, "config is array, expected an object"},
		{"macros not container", `{"macros": 5}`, "config macros is int"},
		{"vars not object", `{"vars": 1}`, "vars is int, expected object"},
		{"var cycle", `{"vars": {"a": "%b%", "b": "x%a%"}, "v": 1}`, "refers to itself"},
		{"const cycle", `{"macros": {"a": {"type": "constDef", "result": "%b%"}, "b": {"type": "constDef", "result": "%a%"}}, "v": "%a%"}`,
			"const 'a' refers to itself"},
		{"recursion", `{"macros": {"r": {"type": "macroDef", "result": {"x": "@r"}}}, "v": "@r"}`, "Too many nested macros"},
		{"hash without hasher", `{"v": "@hash(abc)"}`, "Options.Hash64"},
		{"shift out of range", `{"v": "@bitwiseLeftShift(@int(1), @int(64))"}`, "B must be in [0, 63]"},
		{"shift negative", `{"v": "@bitwiseRightShift(@int(1), @int(-1))"}`, "B must be in [0, 63]"},
		{"import disabled", `{"v": "@import(x.json)"}`, "imports are not enabled"},
		{"brackets", `{"v": "@add(@int(1, 2)"}`, "Brackets do not match"},
		{"text after bracket", `{"v": "@add(@int(1)x, 2)"}`, "No closing bracket"},
		{"junk after bracket", `{"v": "@add(@int(1) x, @int(2))"}`, "No closing bracket"},
		{"no comma after bracket", `{"v": "@a(@b(1,2) x)"}`, "No comma after closing bracket"},
		{"int overflow string", `{"v": "@int(99999999999999999999)"}`, "overflow"},
		{"int from fraction", `{"v": "@int(@double(1.5))"}`, "loss of precision"},
		{"double from big int", `{"v": "@double(@int(9223372036854775807))"}`, "loss of precision"},
		{"bool bad", `{"v": "@bool(10)"}`, "Can not cast string to boolean"},
		{"str of array", `{"v": "@str(@range(@int(0), @int(1)))"}`, "Can not cast array to string"},
		{"sort objects", `{"v": {"type": "sort", "dictionary": [[{}], [{}]]}}`, "Can not compare objects"},
		{"weighted negative", `{"v": {"type": "weightedHash", "dictionary": {"a": -1}, "key": 1}}`, "is negative"},
		{"weighted zero sum", `{"v": {"type": "weightedHash", "dictionary": {"a": 0}, "key": 1}}`, "Sum of weights is 0"},
		{"foreach mixed use", `{"v": {"type": "foreach", "from": [1, 2], "use": "@if(@equals(%item%, @int(1)), @range(@int(0), @int(0)), x)"}}`, "not an array"},
		{"transform same names", `{"v": {"type": "transform", "dictionary": [1], "itemName": "k", "keyName": "k", "itemTransform": 1}}`, "already exists"},
		{"shuffle seed", `{"v": {"type": "shuffle", "dictionary": [1], "seed": -1}}`, "non-negative"},
		{"optional not bool", `{"macros": {"m": {"type": "macroDef", "params": [{"name": "a", "optional": 1}], "result": 1}}}`, "to be boolean"},
		{"unknown definition type", `{"macros": {"m": {"type": "other"}}}`, "Unknown macro definition type: other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expandSrc(t, tt.src, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want %q", err, tt.msg)
			}
			var list ErrorList
			if err != nil && (!errors.As(err, &list) || len(list) == 0 || !list[0].Pos.IsValid()) {
				t.Errorf("error without position: %#v", err)
			}
		})
	}
	if _, err := Expand(nil, Options{}); err == nil {
		t.Error("Expand(nil): no error")
	}
}

func TestExpandLimits(t *testing.T) {
	doubling := func(n int, tmpl string) string {
		var b strings.Builder
		b.WriteString(`{"vars": {"v0": "x"`)
		for i := 1; i <= n; i++ {
			b.WriteString(`, "v` + itoa(i) + `": ` + strings.ReplaceAll(tmpl, "P", "%v"+itoa(i-1)+"%"))
		}
		b.WriteString(`}, "out": "%v` + itoa(n) + `%"}`)
		return b.String()
	}
	tests := []struct {
		name, src string
		opts      Options
		isLimit   int // 1: wraps ErrLimit, 0: does not, -1: either
	}{
		{"huge range", `{"r": "@range(@int(0), @int(1000000000))"}`, Options{}, 1},
		{"full int64 range", `{"r": "@range(@int(-9223372036854775808), @int(9223372036854775807))"}`, Options{}, 1},
		{"huge range in small budget", `{"r": "@range(@int(0), @int(100000))"}`, Options{MaxNodes: 50000}, 1},
		{"doubling arrays", doubling(60, `["P", "P"]`), Options{MaxNodes: 1 << 18}, 1},
		{"doubling strings", doubling(60, `"PP"`), Options{MaxNodes: 1 << 18}, 1},
		{"doubling merges", doubling(60, `{"type": "merge", "params": ["P", "P"]}`), Options{MaxNodes: 1 << 20}, 1},
		{"exponential calls", `{"macros": {"f": {"type": "macroDef", "params": ["n"], "result": {"type": "if",
			"condition": "@less(@int(0), %n%)", "is_true": ["@f(@sub(%n%, @int(1)))", "@f(@sub(%n%, @int(1)))"], "is_false": 0}}},
			"v": "@f(@int(60))"}`, Options{MaxSteps: 1 << 18}, 1},
		{"deep values", `{"v": {"type": "process", "dictionary": "@range(@int(0), @int(20000))", "initialValue": [],
			"transform": ["%value%"]}}`, Options{MaxNodes: 1 << 20}, -1},
		{"deep values depth", `{"v": {"type": "process", "dictionary": "@range(@int(0), @int(200))", "initialValue": [],
			"transform": ["%value%"]}}`, Options{MaxNodes: 1 << 30, MaxSteps: 1 << 30}, 0},
		{"nesting", `{"macros": {"a": {"type": "macroDef", "result": "@b"}, "b": {"type": "macroDef", "result": "@a"}}, "v": "@a"}`,
			Options{}, 0},
		{"small depth", `{"v": [[[[1]]]]}`, Options{MaxDepth: 4}, 0},
	}
	defer func(d int) { maxValueDepth = d }(maxValueDepth)
	maxValueDepth = 100
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := expandSrc(t, tt.src, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrLimit); tt.isLimit >= 0 && got != (tt.isLimit == 1) {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v: %v", got, tt.isLimit, firstLine(err))
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			t.Log(firstLine(err))
		})
	}
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func TestExpandDoesNotModifyInput(t *testing.T) {
	data, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	root := mustParse(t, string(data))
	before := root.String()
	for _, group := range root.Obj {
		for _, c := range group.Value.Get("cases").Obj {
			Expand(specConfig(group.Value.Get("macros"), c.Value.Get("orig")), specOptions())
		}
	}
	if after := root.String(); after != before {
		t.Error("Expand modified its input")
	}
}

func TestExpandParams(t *testing.T) {
	src := `{
  "macros": {"p2": {"type": "constDef", "result": "const wins"}},
  "a": "%p1%", "b": "%p2%", "c": "@defined(p1)", "d": "@defined(nope)", "e": "%lazy%"
}`
	out := mustExpand(t, src, Options{Params: map[string]*Value{
		"p1":   NewInt(5, Pos{File: "--config-params"}),
		"p2":   NewString("param", Pos{}),
		"lazy": NewString("@int(7)", Pos{}),
	}})
	if got, want := out.String(), `{"a":5,"b":"const wins","c":true,"d":false,"e":7}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if out.Get("a").Pos.File != "--config-params" {
		t.Errorf("param position lost: %v", out.Get("a").Pos)
	}
}

func TestShuffle(t *testing.T) {
	for n := 0; n < 40; n++ {
		for seed := uint32(0); seed < 5; seed++ {
			a := make([]int, n)
			for i := range a {
				a[i] = i
			}
			stdShuffle(a, seed)
			seen := make([]bool, n)
			for _, x := range a {
				if seen[x] {
					t.Fatalf("n=%d seed=%d: not a permutation: %v", n, seed, a)
				}
				seen[x] = true
			}
			b := make([]int, n)
			for i := range b {
				b[i] = i
			}
			stdShuffle(b, seed)
			if !slices.Equal(a, b) {
				t.Fatalf("not deterministic")
			}
		}
	}
	// Large arrays use one draw per element.
	big := make([]int, 50000)
	for i := range big {
		big[i] = i
	}
	stdShuffle(big, 7)
	sum := 0
	for _, x := range big {
		sum += x
	}
	if sum != 50000*49999/2 || big[0] == 0 && big[1] == 1 && big[2] == 2 {
		t.Errorf("large shuffle broken")
	}
	// minstd_rand: the 10000th value from seed 1 is 399268537 (C++11 §26.5.5).
	g := newMinstd(1)
	var x uint64
	for i := 0; i < 10000; i++ {
		x = g.next()
	}
	if x != 399268537 {
		t.Errorf("minstd_rand 10000th = %d, want 399268537", x)
	}
	// ShuffleSeed is used for calls without a seed.
	opts := Options{ShuffleSeed: func() uint32 { return 123 }}
	out := mustExpand(t, `{"v": "@shuffle(@range(@int(1), @int(2)))"}`, opts)
	if got := out.Get("v").String(); got != "[2,1]" {
		t.Errorf("shuffle with ShuffleSeed 123 = %s, want [2,1]", got)
	}
	out = mustExpand(t, `{"v": "@size(@shuffle(@range(@int(1), @int(9))))"}`, Options{})
	if out.Get("v").Int != 9 {
		t.Errorf("random shuffle lost elements")
	}
}

func TestHashHelpers(t *testing.T) {
	// folly::hash::fnv64_buf sign-extends bytes >= 0x80.
	if got := fnv64(""); got != 14695981039346656037 {
		t.Errorf("fnv64(\"\") = %d", got)
	}
	if got := fnv64("a"); got != 0xaf63bd4c8601b7be {
		t.Errorf("fnv64(a) = %#x", got)
	}
	if fnv64("\x80") == fnvUnsigned("\x80") {
		t.Errorf("fnv64 must sign-extend high bytes")
	}
	if fnv64("abc") != fnvUnsigned("abc") {
		t.Errorf("fnv64 of ASCII must be plain FNV-1")
	}
	// folly's twang_mix64(0) and the spec's @hash(@int(2313)).
	if got := int64(twangMix64(2313)); got != -4996987850411076878 {
		t.Errorf("twang_mix64(2313) = %d", got)
	}
	// Rendezvous: weights 0 never win, a single positive weight always does.
	for k := uint64(0); k < 100; k++ {
		if id, _ := rendezvous([]string{"a", "b", "c"}, []float64{0, 1, 0}, k); id != 1 {
			t.Fatalf("key %d -> %d", k, id)
		}
	}
}

func fnvUnsigned(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h *= 1099511628211
		h ^= uint64(s[i])
	}
	return h
}

func TestFollyFormatDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{5.5, "5.5"}, {1, "1"}, {math.Copysign(0, -1), "-0"}, {0, "0"}, {1e20, "100000000000000000000"}, {1e21, "1E21"},
		{1.5e21, "1.5E21"}, {1e-6, "0.000001"}, {1.25e-7, "1.25E-7"}, {0.1, "0.1"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"}, {123456.789, "123456.789"},
	}
	for _, tt := range tests {
		if got := formatFollyDouble(tt.f); got != tt.want {
			t.Errorf("formatFollyDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestFollyParse(t *testing.T) {
	ints := map[string]int64{" 5 ": 5, "+3": 3, "-9223372036854775808": math.MinInt64, "007": 7}
	for s, want := range ints {
		if got, err := parseFollyInt(s); err != nil || got != want {
			t.Errorf("parseFollyInt(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", " ", "- 1", "1 2", "0x10", "1.0", "9223372036854775808", "a"} {
		if _, err := parseFollyInt(s); err == nil {
			t.Errorf("parseFollyInt(%q): no error", s)
		}
	}
	doubles := map[string]float64{"1": 1, " -1.5e2 ": -150, "1.": 1, ".5": 0.5, "+2": 2, "1e400": math.Inf(1)}
	for s, want := range doubles {
		if got, err := parseFollyDouble(s); err != nil || got != want {
			t.Errorf("parseFollyDouble(%q) = %v, %v", s, got, err)
		}
	}
	if f, err := parseFollyDouble("-Infinity"); err != nil || !math.IsInf(f, -1) {
		t.Errorf("-Infinity: %v %v", f, err)
	}
	if f, err := parseFollyDouble("nan"); err != nil || !math.IsNaN(f) {
		t.Errorf("nan: %v %v", f, err)
	}
	for _, s := range []string{"", "1.a", "e5", ".", "1e", "0x1p3", "1_0", "--1"} {
		if _, err := parseFollyDouble(s); err == nil {
			t.Errorf("parseFollyDouble(%q): no error", s)
		}
	}
	bools := map[string]bool{"1": true, "0": false, "01": true, "000": false, "True": true, "n": false, " on ": true, "OFF": false}
	for s, want := range bools {
		if got, err := parseFollyBool(s); err != nil || got != want {
			t.Errorf("parseFollyBool(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2", "10", "11", "yess", "o"} {
		if _, err := parseFollyBool(s); err == nil {
			t.Errorf("parseFollyBool(%q): no error", s)
		}
	}
}

func TestCallParams(t *testing.T) {
	tests := []struct {
		args string
		want []string
	}{
		{"", []string{""}},
		{" ", []string{""}},
		{"a", []string{"a"}},
		{"a,", []string{"a", ""}},
		{" a , b ", []string{"a", "b"}},
		{`a\,b,c`, []string{`a\,b`, "c"}},
		{"@f(1,2), @g(3)", []string{"@f(1,2)", "@g(3)"}},
		{"@f((1),(2,3)),x", []string{"@f((1),(2,3))", "x"}},
		{`@f(\(),x`, []string{`@f(\()`, "x"}},
		{"x(,)", []string{"x(,)"}},
		{`a\ ,\ b\ `, []string{`a\ `, `\ b\ `}},
		{`a\\ , b`, []string{`a\\`, "b"}},
		{"\ta\n,\tb", []string{"a", "b"}},
	}
	for _, tt := range tests {
		s := "(" + tt.args + ")"
		spans, msg := callParams(s, 1, len(s)-1)
		if msg != "" {
			t.Errorf("callParams(%q): %s", tt.args, msg)
			continue
		}
		var got []string
		for _, sp := range spans {
			got = append(got, s[sp.lo:sp.hi])
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("callParams(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestIsLocalIPDefault(t *testing.T) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	hasLoopback := false
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			hasLoopback = true
		}
	}
	if !hasLoopback {
		t.Skip("no 127.0.0.1 on this host")
	}
	out := mustExpand(t, `{"v": ["@isLocalIp(127.0.0.1)", "@isLocalIp([::ffff:127.0.0.1])", "@isLocalIp(192.0.2.255)", "@isLocalIp(x)"]}`, Options{})
	if got := out.Get("v").String(); got != "[true,true,false,false]" {
		t.Errorf("got %s", got)
	}
}

func TestImport(t *testing.T) {
	t.Run("cycle", func(t *testing.T) {
		_, err := expandSrc(t, `{"x": "@import(a.json)"}`, Options{Import: ImportFromDir("testdata/import_cycle", false)})
		if err == nil || !strings.Contains(err.Error(), "import cycle") {
			t.Fatalf("err = %v", err)
		}
		t.Log(err)
	})
	t.Run("cycle with default", func(t *testing.T) {
		out := mustExpand(t, `{"x": "@import(self.json)"}`, Options{Import: ImportFromDir("testdata/import_cycle", false)})
		if got := out.String(); got != `{"x":["fallback"]}` {
			t.Errorf("got %s", got)
		}
		if p := out.Get("x").Pos; !strings.HasSuffix(p.File, "self.json") || p.Line != 1 {
			t.Errorf("imported value at %v", p)
		}
	})
	t.Run("cached", func(t *testing.T) {
		calls := 0
		opts := Options{Import: func(path string) ([]byte, string, error) {
			calls++
			return []byte(`{"n": "@int(` + itoa(calls) + `)"}`), path, nil
		}}
		out := mustExpand(t, `{"a": "@import(p)", "b": "@import(p)", "c": "@import(q)"}`, opts)
		if got := out.String(); got != `{"a":{"n":1},"b":{"n":1},"c":{"n":2}}` || calls != 2 {
			t.Errorf("got %s after %d calls", got, calls)
		}
	})
	t.Run("syntax error", func(t *testing.T) {
		opts := Options{Import: func(string) ([]byte, string, error) { return []byte("{\n  \"a\": ]"), "bad.json", nil }}
		_, err := expandSrc(t, `{"x": "@import(bad)"}`, opts)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Pos.File != "bad.json" || se.Pos.Line != 2 {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "bad.json:2:8: syntax error") || !strings.Contains(err.Error(), "cfg.json:1:7: in @import 'bad'") {
			t.Errorf("message:\n%v", err)
		}
	})
	t.Run("read error wrapped", func(t *testing.T) {
		_, err := expandSrc(t, `{"x": "@import(missing.json)"}`, Options{Import: ImportFromDir("testdata", false)})
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want os.ErrNotExist", err)
		}
	})
	t.Run("corpus shadow config", func(t *testing.T) {
		root := mustParseFile(t, "testdata/shadow/test_shadow_with_file.json")
		params := map[string]*Value{}
		for k, v := range map[string]string{"PORT_1": "11001", "PORT_2": "11002", "PORT_SHADOW": "11003"} {
			params[k] = NewString(v, Pos{File: "--config-params"})
		}
		out, err := Expand(root, Options{Params: params, Import: ImportFromDir("testdata/shadow", false)})
		if err != nil {
			t.Fatal(err)
		}
		route := out.Get("route")
		if route.Get("type").Str != "PoolRoute" || route.Get("pool").Str != "foo" {
			t.Fatalf("route = %s", route)
		}
		target := route.Get("shadows").Arr[0].Get("target").Get("pool")
		if got := target.Get("servers").String(); got != `["127.0.0.1:11003"]` {
			t.Errorf("shadow servers %s", got)
		}
		if p := route.Pos; !strings.HasSuffix(p.File, "test_shadow_with_file_config.json") || p.Line != 2 {
			t.Errorf("route from import at %v", p)
		}
		if got := out.Get("pools").Get("foo").Get("servers").String(); got != `["127.0.0.1:11001","127.0.0.1:11002"]` {
			t.Errorf("servers %s", got)
		}
	})
}

func TestImportFromDir(t *testing.T) {
	inside, err := filepath.Abs("testdata/outside/dir/inside.json")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := filepath.Abs("testdata/outside/secret.json")
	imp := ImportFromDir("testdata/outside/dir", false)
	for _, p := range []string{"inside.json", "./inside.json", "file:inside.json", "file:" + inside, inside, "sub/../inside.json"} {
		data, name, err := imp(p)
		if err != nil || !strings.Contains(string(data), "@int(5)") {
			t.Errorf("import %q: %v", p, err)
		}
		if name != filepath.Clean("testdata/outside/dir/inside.json") && name != inside {
			t.Errorf("import %q: name %q", p, name)
		}
	}
	for _, p := range []string{"../secret.json", "file:../secret.json", secret, "file:" + secret, "../../outside/secret.json"} {
		if _, _, err := imp(p); !errors.Is(err, ErrOutsideDir) {
			t.Errorf("import %q: err = %v, want ErrOutsideDir", p, err)
		}
	}
	if _, _, err := ImportFromDir("testdata/outside/dir", true)("../secret.json"); err != nil {
		t.Errorf("allowOutside: %v", err)
	}
	for _, p := range []string{"", "file:", "a\x00b"} {
		if _, _, err := imp(p); err == nil {
			t.Errorf("import %q: no error", p)
		}
	}

	// A symbolic link inside the directory that points outside it.
	dir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(dir, "link.json")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.json"), []byte(`"ok"`), 0o644); err != nil {
		t.Fatal(err)
	}
	imp = ImportFromDir(dir, false)
	if _, _, err := imp("link.json"); !errors.Is(err, ErrOutsideDir) {
		t.Errorf("symlink: err = %v, want ErrOutsideDir", err)
	}
	// The directory itself may be reached through a symbolic link.
	linkDir := filepath.Join(t.TempDir(), "cfg")
	if err := os.Symlink(dir, linkDir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ImportFromDir(linkDir, false)("ok.json"); err != nil {
		t.Errorf("dir via symlink: %v", err)
	}
	if _, _, err := ImportFromDir(linkDir, false)("missing.json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file via symlinked dir: %v", err)
	}

	// Through Expand: a refused import falls back to its default.
	out := mustExpand(t, `{"a": "@import(inside.json)", "b": "@import(../secret.json, refused)"}`,
		Options{Import: ImportFromDir("testdata/outside/dir", false)})
	if got := out.String(); got != `{"a":[5],"b":"refused"}` {
		t.Errorf("got %s", got)
	}
}
