package jsonm

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes (not runes) from the start of the line, so a tab or a multi-byte
// UTF-8 character advances it by its byte length. Offset is the 0-based byte
// offset from the start of the file. The zero Pos means "unknown".
type Pos struct {
	File   string // file name as given to Parse (or by Options.Import)
	Offset int    // byte offset, 0-based
	Line   int    // line, 1-based
	Col    int    // column in bytes, 1-based
}

// IsValid reports whether p refers to a real location (Line > 0).
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats p as "file:line:col", "line:col" when File is empty, or
// "-" when p is not valid.
func (p Pos) String() string {
	if !p.IsValid() {
		if p.File != "" {
			return p.File
		}
		return "-"
	}
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// shift returns the position n bytes further on the same line.
func (p Pos) shift(n int) Pos {
	if !p.IsValid() {
		return p
	}
	p.Offset += n
	p.Col += n
	return p
}

// Kind is the JSON type of a Value.
type Kind uint8

// The kinds of JSON values. Int holds integers that fit in an int64; every
// other number is a Float.
const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	Array
	Object
)

var kindNames = [...]string{"null", "bool", "int", "double", "string", "array", "object"}

// String returns the name of the kind as used in error messages ("null",
// "bool", "int", "double", "string", "array", "object").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a JSON value with the source position of its first character.
// Only the field matching Kind is meaningful. Parse returns a tree; the
// result of Expand may share nodes (a substituted scalar, for instance)
// between several places and with Expand's input. This package never
// modifies a Value it returned: treat them as read-only, and Clone a tree
// before modifying it.
type Value struct {
	Kind Kind // the JSON type; selects the meaningful field below
	Bool bool // Kind == Bool
	// verb describes how byte i of Str maps back to the source when the
	// string was copied verbatim (no escapes, no line breaks):
	// 0: unknown; 1: Pos is the opening quote, byte i is at Pos+1+i;
	// 2: byte i is at Pos+i.
	verb  uint8
	Pos   Pos     // position of the value's first character
	Int   int64   // Kind == Int
	Float float64 // Kind == Float
	Str   string  // Kind == String
	// Lit is the source text of a number literal as written (for example
	// "1.50" or "1e3"); it is empty for values that were not parsed from text.
	Lit string
	Arr []*Value // Kind == Array
	// Obj holds the members of an object in source order. Keys are unique:
	// when a key is repeated the last value wins (as in folly) and takes the
	// place of the first occurrence.
	Obj []*Member
	// Duplicates lists the members of an object that were overridden by a
	// later member with the same key, so that a linter can report them. It is
	// not part of the value: ToAny, String and Equal ignore it.
	Duplicates []*Member
}

// Member is one key/value pair of an object, with the position of the key's
// opening quote.
type Member struct {
	Key    string // the key, unescaped
	KeyPos Pos    // position of the key's opening quote
	Value  *Value // the member's value
	verb   uint8  // as Value.verb, for Key
}

// NewNull returns a null Value at pos.
func NewNull(pos Pos) *Value { return &Value{Kind: Null, Pos: pos} }

// NewBool returns a boolean Value at pos.
func NewBool(b bool, pos Pos) *Value { return &Value{Kind: Bool, Bool: b, Pos: pos} }

// NewInt returns an integer Value at pos.
func NewInt(i int64, pos Pos) *Value { return &Value{Kind: Int, Int: i, Pos: pos} }

// NewFloat returns a floating-point Value at pos.
func NewFloat(f float64, pos Pos) *Value { return &Value{Kind: Float, Float: f, Pos: pos} }

// NewString returns a string Value at pos.
func NewString(s string, pos Pos) *Value { return &Value{Kind: String, Str: s, Pos: pos} }

// NewArray returns an array Value at pos holding elems (not copied).
func NewArray(elems []*Value, pos Pos) *Value {
	return &Value{Kind: Array, Arr: elems, Pos: pos}
}

// NewObject returns an object Value at pos holding members (not copied).
// Keys should be unique; use Set to add members with override semantics.
func NewObject(members []*Member, pos Pos) *Value {
	return &Value{Kind: Object, Obj: members, Pos: pos}
}

// Get returns the value of the object member named key, or nil if v is not an
// object or has no such member.
func (v *Value) Get(key string) *Value {
	if m := v.Member(key); m != nil {
		return m.Value
	}
	return nil
}

// Member returns the object member named key, or nil.
func (v *Value) Member(key string) *Member {
	if v == nil || v.Kind != Object {
		return nil
	}
	for _, m := range v.Obj {
		if m.Key == key {
			return m
		}
	}
	return nil
}

// Set sets the member key of object v to val: an existing member keeps its
// place and gets the new value and key position, otherwise a member is
// appended. Set panics if v is not an object.
func (v *Value) Set(key string, keyPos Pos, val *Value) {
	if v.Kind != Object {
		panic("jsonm: Set on " + v.Kind.String())
	}
	for _, m := range v.Obj {
		if m.Key == key {
			m.Value = val
			m.KeyPos = keyPos
			return
		}
	}
	v.Obj = append(v.Obj, &Member{Key: key, KeyPos: keyPos, Value: val})
}

// Len returns the number of elements of an array, members of an object or
// bytes of a string, and 0 for other kinds.
func (v *Value) Len() int {
	switch v.Kind {
	case Array:
		return len(v.Arr)
	case Object:
		return len(v.Obj)
	case String:
		return len(v.Str)
	}
	return 0
}

// Clone returns a deep copy of v (positions included, Duplicates shared).
func (v *Value) Clone() *Value {
	if v == nil {
		return nil
	}
	c := *v
	if v.Arr != nil {
		c.Arr = make([]*Value, len(v.Arr))
		for i, e := range v.Arr {
			c.Arr[i] = e.Clone()
		}
	}
	if v.Obj != nil {
		c.Obj = make([]*Member, len(v.Obj))
		for i, m := range v.Obj {
			mc := *m
			mc.Value = m.Value.Clone()
			c.Obj[i] = &mc
		}
	}
	return &c
}

// ToAny converts v to plain Go values: nil, bool, int64, float64, string,
// []any and map[string]any.
func (v *Value) ToAny() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case Bool:
		return v.Bool
	case Int:
		return v.Int
	case Float:
		return v.Float
	case String:
		return v.Str
	case Array:
		a := make([]any, len(v.Arr))
		for i, e := range v.Arr {
			a[i] = e.ToAny()
		}
		return a
	case Object:
		m := make(map[string]any, len(v.Obj))
		for _, mem := range v.Obj {
			m[mem.Key] = mem.Value.ToAny()
		}
		return m
	}
	return nil
}

// FromAny converts a Go value to a Value whose nodes all carry pos. It
// accepts nil, bool, all integer and float types, string, json.Number,
// []any, map[string]any (keys sorted), *Value and Value (deep-copied), and
// falls back to encoding/json for anything else; values that cannot be
// encoded become their fmt.Sprint string. x must not contain cycles.
func FromAny(x any, pos Pos) *Value {
	switch t := x.(type) {
	case nil:
		return NewNull(pos)
	case *Value:
		if t == nil {
			return NewNull(pos)
		}
		return t.Clone()
	case Value:
		return t.Clone()
	case bool:
		return NewBool(t, pos)
	case string:
		return NewString(t, pos)
	case int:
		return NewInt(int64(t), pos)
	case int8:
		return NewInt(int64(t), pos)
	case int16:
		return NewInt(int64(t), pos)
	case int32:
		return NewInt(int64(t), pos)
	case int64:
		return NewInt(t, pos)
	case uint:
		return fromUint(uint64(t), pos)
	case uint8:
		return NewInt(int64(t), pos)
	case uint16:
		return NewInt(int64(t), pos)
	case uint32:
		return NewInt(int64(t), pos)
	case uint64:
		return fromUint(t, pos)
	case float32:
		return NewFloat(float64(t), pos)
	case float64:
		return NewFloat(t, pos)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return &Value{Kind: Int, Int: i, Lit: string(t), Pos: pos}
		}
		if f, err := t.Float64(); err == nil {
			return &Value{Kind: Float, Float: f, Lit: string(t), Pos: pos}
		}
		return NewString(string(t), pos)
	case []any:
		a := make([]*Value, len(t))
		for i, e := range t {
			a[i] = FromAny(e, pos)
		}
		return NewArray(a, pos)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := NewObject(make([]*Member, 0, len(keys)), pos)
		for _, k := range keys {
			o.Obj = append(o.Obj, &Member{Key: k, KeyPos: pos, Value: FromAny(t[k], pos)})
		}
		return o
	}
	rv := reflect.ValueOf(x)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return NewNull(pos)
	}
	data, err := json.Marshal(x)
	if err == nil {
		if v, err := Parse("", data); err == nil {
			setPos(v, pos)
			return v
		}
	}
	return NewString(fmt.Sprint(x), pos)
}

func fromUint(u uint64, pos Pos) *Value {
	if u <= math.MaxInt64 {
		return NewInt(int64(u), pos)
	}
	return NewFloat(float64(u), pos)
}

func setPos(v *Value, pos Pos) {
	v.Pos = pos
	v.verb = 0
	for _, e := range v.Arr {
		setPos(e, pos)
	}
	for _, m := range v.Obj {
		m.KeyPos = pos
		m.verb = 0
		setPos(m.Value, pos)
	}
}

// Equal reports whether v and w are equal JSON values, with folly::dynamic
// semantics: an Int and a Float are equal when they have the same numeric
// value, arrays are equal element-wise and objects are equal when they have
// the same keys with equal values, in any order. Positions are ignored.
func (v *Value) Equal(w *Value) bool {
	if v == nil || w == nil {
		return v == w
	}
	if v.Kind != w.Kind {
		if isNumber(v) && isNumber(w) {
			return compareNumbers(v, w) == 0
		}
		return false
	}
	switch v.Kind {
	case Null:
		return true
	case Bool:
		return v.Bool == w.Bool
	case Int:
		return v.Int == w.Int
	case Float:
		return v.Float == w.Float
	case String:
		return v.Str == w.Str
	case Array:
		if len(v.Arr) != len(w.Arr) {
			return false
		}
		for i := range v.Arr {
			if !v.Arr[i].Equal(w.Arr[i]) {
				return false
			}
		}
		return true
	case Object:
		if len(v.Obj) != len(w.Obj) {
			return false
		}
		if len(v.Obj) > 16 {
			idx := make(map[string]*Value, len(w.Obj))
			for _, m := range w.Obj {
				idx[m.Key] = m.Value
			}
			for _, m := range v.Obj {
				o, ok := idx[m.Key]
				if !ok || !m.Value.Equal(o) {
					return false
				}
			}
			return true
		}
		for _, m := range v.Obj {
			o := w.Get(m.Key)
			if o == nil || !m.Value.Equal(o) {
				return false
			}
		}
		return true
	}
	return false
}

// String returns v as compact JSON with object members in their stored
// order. Floats always contain a '.', an exponent or are written as
// 1e999/-1e999 (infinities) or null (NaN), so that parsing the text back
// yields the same kinds.
func (v *Value) String() string {
	var b strings.Builder
	v.appendJSON(&b)
	return b.String()
}

func (v *Value) appendJSON(b *strings.Builder) {
	if v == nil {
		b.WriteString("null")
		return
	}
	switch v.Kind {
	case Null:
		b.WriteString("null")
	case Bool:
		if v.Bool {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Int:
		b.WriteString(strconv.FormatInt(v.Int, 10))
	case Float:
		b.WriteString(formatJSONFloat(v.Float))
	case String:
		quoteJSON(b, v.Str)
	case Array:
		b.WriteByte('[')
		for i, e := range v.Arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.appendJSON(b)
		}
		b.WriteByte(']')
	case Object:
		b.WriteByte('{')
		for i, m := range v.Obj {
			if i > 0 {
				b.WriteByte(',')
			}
			quoteJSON(b, m.Key)
			b.WriteByte(':')
			m.Value.appendJSON(b)
		}
		b.WriteByte('}')
	default:
		b.WriteString("null")
	}
}

func formatJSONFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "null"
	case math.IsInf(f, 1):
		return "1e999"
	case math.IsInf(f, -1):
		return "-1e999"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

const hexDigits = "0123456789abcdef"

// quoteJSON writes s as a JSON string. Bytes that are not valid UTF-8 are
// copied unchanged (Parse accepts them back), so the text round-trips.
func quoteJSON(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
