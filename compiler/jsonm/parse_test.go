package jsonm

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, src string) *Value {
	t.Helper()
	v, err := Parse("test.json", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return v
}

func TestParseJSONC(t *testing.T) {
	tests := []struct {
		name, src string
		want      any
	}{
		{"line comment", "// c\n{\"a\": 1} // end", map[string]any{"a": int64(1)}},
		{"line comment at EOF without newline", "[1] //", []any{int64(1)}},
		{"block comments", "/* x */[/**/1/* , */,/*\n*/2]", []any{int64(1), int64(2)}},
		{"comment markers in strings", `{"a": "// not /* a */ comment", "b": "\/*"}`,
			map[string]any{"a": "// not /* a */ comment", "b": "/*"}},
		{"unterminated block comment ends input", "[1] /* {}{", []any{int64(1)}},
		{"comment between key and colon", `{"a" /*x*/ : //y` + "\n 2}", map[string]any{"a": int64(2)}},
		{"trailing comma array", "[1, 2, ]", []any{int64(1), int64(2)}},
		{"trailing comma object", `{"a": 1, "b": [true,], }`, map[string]any{"a": int64(1), "b": []any{true}}},
		{"empty containers", `[{}, [], {"": ""}]`, []any{map[string]any{}, []any{}, map[string]any{"": ""}}},
		{"literals", `[true, false, null]`, []any{true, false, nil}},
		{"escapes", `"\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00\u0000"`, "\"\\/\b\f\n\r\tAé😀\x00"},
		{"raw control characters in strings", "\"a\tb\nc\"", "a\tb\nc"},
		{"invalid utf-8 kept", "\"\xff\xfe\"", "\xff\xfe"},
		{"numbers", `[0, -0, 12, -7, 1.5, 1e3, 2E-2, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1e999]`,
			[]any{int64(0), int64(0), int64(12), int64(-7), 1.5, 1000.0, 0.02, int64(math.MaxInt64), int64(math.MinInt64),
				9223372036854775808.0, math.Inf(1)}},
		{"whitespace", " \t\r\n 1 \r\n", int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustParse(t, tt.src)
			if diff := cmp.Diff(tt.want, v.ToAny()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNumberLiterals(t *testing.T) {
	v := mustParse(t, `[1.50, 1e3, -0, 12345678901234567890]`)
	want := []struct {
		kind Kind
		lit  string
	}{{Float, "1.50"}, {Float, "1e3"}, {Int, "-0"}, {Float, "12345678901234567890"}}
	for i, w := range want {
		if e := v.Arr[i]; e.Kind != w.kind || e.Lit != w.lit {
			t.Errorf("element %d: kind %v lit %q, want %v %q", i, e.Kind, e.Lit, w.kind, w.lit)
		}
	}
}

func TestParsePositions(t *testing.T) {
	src := "// header\n" + // line 1
		"{\n" + // line 2
		"  \"pools\": {\n" + // line 3
		"\t\"A\": { \"servers\": [ \"h:1\", /* c */ 2 ] },\n" + // line 4
		"    \"é\": null\n" + // line 5
		"  }\n" + // line 6
		"}\n"
	v := mustParse(t, src)
	if got, want := v.Pos, (Pos{File: "test.json", Offset: 10, Line: 2, Col: 1}); got != want {
		t.Errorf("root pos %+v, want %+v", got, want)
	}
	pools := v.Member("pools")
	checkPos(t, "pools key", pools.KeyPos, 3, 3)
	checkPos(t, "pools value", pools.Value.Pos, 3, 12)
	a := pools.Value.Member("A")
	checkPos(t, "A key", a.KeyPos, 4, 2) // a tab is one byte
	servers := a.Value.Member("servers")
	checkPos(t, "servers key", servers.KeyPos, 4, 9)
	checkPos(t, "servers[0]", servers.Value.Arr[0].Pos, 4, 22)
	checkPos(t, "servers[1]", servers.Value.Arr[1].Pos, 4, 37)
	e := pools.Value.Member("é")
	checkPos(t, "é key", e.KeyPos, 5, 5)
	checkPos(t, "é value", e.Value.Pos, 5, 11) // columns count bytes: é is 2
	if got := servers.Value.Arr[1].Pos.Offset; src[got] != '2' {
		t.Errorf("offset %d points at %q", got, src[got])
	}
	if s := servers.Value.Arr[0].Pos.String(); s != "test.json:4:22" {
		t.Errorf("Pos.String() = %q", s)
	}
}

func checkPos(t *testing.T, what string, p Pos, line, col int) {
	t.Helper()
	if p.Line != line || p.Col != col {
		t.Errorf("%s at %d:%d, want %d:%d", what, p.Line, p.Col, line, col)
	}
}

func TestParseMultilineStringPositions(t *testing.T) {
	v := mustParse(t, "[\"a\nb\", /*\n\n*/ 7]")
	checkPos(t, "after multi-line string and comment", v.Arr[1].Pos, 4, 4)
}

func TestParseDuplicateKeys(t *testing.T) {
	v := mustParse(t, `{"a": 1, "b": 2, "a": 3}`)
	if got := v.String(); got != `{"a":3,"b":2}` {
		t.Errorf("got %s, want last value in first place", got)
	}
	if len(v.Duplicates) != 1 || v.Duplicates[0].Value.Int != 1 || v.Duplicates[0].KeyPos.Col != 2 {
		t.Errorf("Duplicates = %+v", v.Duplicates)
	}
	if m := v.Member("a"); m.KeyPos.Col != 18 {
		t.Errorf("kept member's key at col %d, want 18 (the last one)", m.KeyPos.Col)
	}
	// Many keys use the index.
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 20; i++ {
		b.WriteString(`"k` + itoa(i%15) + `": ` + itoa(i) + ",")
	}
	b.WriteString("}")
	v = mustParse(t, b.String())
	if len(v.Obj) != 15 || len(v.Duplicates) != 5 || v.Get("k0").Int != 15 {
		t.Errorf("got %s with %d duplicates", v, len(v.Duplicates))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"", "1:1: unexpected end of input, expected a value"},
		{"  // only a comment", "1:20: unexpected end of input"},
		{"{", "1:2: unexpected end of input in object starting at 1:1"},
		{"[1,", "1:4: unexpected end of input in array"},
		{"[1 2]", "1:4: unexpected '2', expected ',' or ']' in array"},
		{"{\"a\" 1}", "1:6: unexpected '1', expected ':' after object key"},
		{"{a: 1}", "1:2: unexpected 'a', expected a string object key or '}'"},
		{"{1: 1}", "1:2: unexpected '1', expected a string object key"},
		{"{\"a\": 1 \"b\": 2}", "1:9: unexpected '\"', expected ',' or '}' in object"},
		{"[,]", "1:2: unexpected ',', expected a value"},
		{"[1,,]", "1:4: unexpected ','"},
		{"{,}", "1:2: unexpected ','"},
		{"}", "1:1: unexpected '}', expected a value"},
		{"[1]]", "1:4: unexpected ']' after top-level value"},
		{"1 2", "1:3: unexpected '2' after top-level value"},
		{"\n  \"abc", "2:3: unterminated string"},
		{`"a\x"`, `1:3: invalid escape '\x' in string`},
		{`"\u12"`, `1:2: invalid \u escape`},
		{`"\ud800"`, `1:2: unpaired surrogate`},
		{`"\ud800\u0041"`, `1:8: invalid low surrogate`},
		{`"\udc00"`, `1:2: unpaired low surrogate`},
		{"\"a\x00\"", "1:3: NUL byte in string"},
		{"01", "1:1: invalid number: leading zeros are not allowed"},
		{"-", "1:1: invalid number: expected a digit after '-'"},
		{"1.", "1:1: invalid number: expected a digit after '.'"},
		{"1e+", "1:1: invalid number: expected a digit in the exponent"},
		{"1.5.3", "1:1: invalid number \"1.5.\""},
		{"12abc", "1:1: invalid number"},
		{".5", "1:1: unexpected '.', expected a value"},
		{"+1", "1:1: unexpected '+'"},
		{"tru", `1:1: unexpected "tru", expected a value`},
		{"nulll", `1:1: unexpected "nulll"`},
		{"True", "1:1: unexpected 'T'"},
		{"NaN", "1:1: unexpected 'N'"},
		{"[1] / 2", "1:5: unexpected '/' after top-level value"},
		{"\xef\xbb\xbf{}", "1:1: unexpected byte order mark"},
		{"[\x01]", "1:2: unexpected byte 0x01, expected a value"},
	}
	for _, tt := range tests {
		_, err := Parse("f.json", []byte(tt.src))
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", tt.src, tt.want)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): error %T, want *SyntaxError", tt.src, err)
			continue
		}
		if got := err.Error(); !strings.HasPrefix(got, "f.json:") || !strings.Contains(got, tt.want) {
			t.Errorf("Parse(%q):\n got  %q\n want %q", tt.src, got, "f.json:"+tt.want)
		}
	}
}

func TestParseDepthLimit(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("[", n) + strings.Repeat("]", n)
	}
	if _, err := Parse("", []byte(nest(MaxParseDepth))); err != nil {
		t.Errorf("depth %d: %v", MaxParseDepth, err)
	}
	_, err := Parse("", []byte(nest(MaxParseDepth+1)))
	if err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Errorf("depth %d: err = %v", MaxParseDepth+1, err)
	}
	// Hostile input: far deeper than any stack would allow to recurse.
	deep := strings.Repeat(`{"a":`, 1_000_000)
	if _, err := Parse("", []byte(deep)); err == nil || !strings.Contains(err.Error(), "1:5001:") {
		t.Errorf("hostile depth: err = %v", err)
	}
}

func TestValueMethods(t *testing.T) {
	v := mustParse(t, `{"s": "a\"\n\u0001é", "n": [1, 2.5, 1e300, -0.0, 3.0], "o": {"x": null, "y": false}}`)
	want := `{"s":"a\"\n\u0001é","n":[1,2.5,1e+300,-0.0,3.0],"o":{"x":null,"y":false}}`
	if got := v.String(); got != want {
		t.Errorf("String() = %s\nwant       %s", got, want)
	}
	back := mustParse(t, v.String())
	if !back.Equal(v) || back.String() != v.String() {
		t.Errorf("round trip changed the value: %s", back)
	}
	if back.Arr != nil || back.Get("n").Arr[4].Kind != Float {
		t.Errorf("round trip changed kinds")
	}
	if v.Get("missing") != nil || v.Get("n").Get("x") != nil {
		t.Errorf("Get on missing key / non-object must be nil")
	}
	c := v.Clone()
	c.Get("o").Set("x", Pos{}, NewInt(1, Pos{}))
	c.Get("o").Set("z", Pos{}, NewInt(2, Pos{}))
	if v.Get("o").Get("x").Kind != Null || v.Get("o").Get("z") != nil {
		t.Errorf("Clone shares structure with the original")
	}
	if c.Get("o").String() != `{"x":1,"y":false,"z":2}` {
		t.Errorf("Set: %s", c.Get("o"))
	}
}

func TestValueEqual(t *testing.T) {
	eq := []struct{ a, b string }{
		{`1`, `1.0`},
		{`{"a": 1, "b": [2]}`, `{"b": [2.0], "a": 1}`},
		{`null`, `null`},
		{`[]`, `[]`},
	}
	for _, tt := range eq {
		if !mustParse(t, tt.a).Equal(mustParse(t, tt.b)) {
			t.Errorf("%s != %s, want equal", tt.a, tt.b)
		}
	}
	ne := []struct{ a, b string }{
		{`1`, `"1"`},
		{`1`, `true`},
		{`{"a": 1}`, `{"a": 1, "b": 1}`},
		{`{"a": 1}`, `{"b": 1}`},
		{`[1, 2]`, `[2, 1]`},
		{`9007199254740993`, `9007199254740992.0`},
	}
	for _, tt := range ne {
		if mustParse(t, tt.a).Equal(mustParse(t, tt.b)) {
			t.Errorf("%s == %s, want different", tt.a, tt.b)
		}
	}
}

func TestFromAny(t *testing.T) {
	pos := Pos{File: "params", Line: 1, Col: 1}
	in := map[string]any{
		"b": true, "i": 3, "u": uint64(math.MaxUint64), "f": 1.5, "s": "x",
		"a": []any{nil, int8(-1)}, "v": NewInt(7, Pos{}), "st": struct{ X int }{4},
	}
	v := FromAny(in, pos)
	want := `{"a":[null,-1],"b":true,"f":1.5,"i":3,"s":"x","st":{"X":4},"u":1.8446744073709552e+19,"v":7}`
	if got := v.String(); got != want {
		t.Errorf("FromAny = %s\nwant      %s", got, want)
	}
	if v.Get("st").Get("X").Pos != pos || v.Member("a").KeyPos != pos {
		t.Errorf("positions not set")
	}
	if diff := cmp.Diff(map[string]any{"x": []any{int64(1)}}, FromAny(map[string]any{"x": []any{1}}, pos).ToAny()); diff != "" {
		t.Error(diff)
	}
}
