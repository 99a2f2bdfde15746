package importer

import (
	"math"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
)

// The CUE text is built as a small tree of values and laid out by render:
// a struct or list goes on one line when it fits, else one field or element
// per line. cue/format then normalises the result (indentation, alignment
// of field values).

// value is one of lit, *obj, list or *conj.
type value any

// lit is CUE expression text that fits on one line: a quoted string, a
// number, a bool, a reference.
type lit string

// list is a CUE list.
type list []value

// obj is a CUE struct.
type obj struct {
	fields []field
	// multi forces one field per line.
	multi bool
	// fold writes a struct of one field as a chain of labels
	// (A: servers: [...]) rather than in braces.
	fold bool
}

type field struct {
	label string // formatted label
	v     value
}

// conj is a template unified with a struct: #ReplicatedPool & {...}.
type conj struct {
	def string
	o   *obj
}

func (o *obj) add(name string, v value) {
	o.fields = append(o.fields, field{label: label(name), v: v})
}

// addDef adds a field whose label is a definition (#pools), written as is.
func (o *obj) addDef(name string, v value) {
	o.fields = append(o.fields, field{label: name, v: v})
}

// maxWidth is the line length up to which a value stays on one line (tabs
// count as tabWidth columns).
const (
	maxWidth = 100
	tabWidth = 4
)

// str quotes s as a CUE string.
func str(s string) lit { return lit(literal.String.Quote(s)) }

// label formats a field label: an identifier where one is valid and binds
// no name references depend on, else a quoted string.
func label(name string) string {
	if ast.StringLabelNeedsQuoting(name) || keywords[name] || name == handlesField {
		return literal.String.Quote(name)
	}
	return name
}

// keywords are identifiers that are better quoted as labels and cannot be
// used as selectors.
var keywords = map[string]bool{
	"true": true, "false": true, "null": true, "if": true, "for": true, "in": true,
	"let": true, "import": true, "package": true, "div": true, "mod": true, "quo": true, "rem": true,
}

// selector returns the reference to a field of the struct ref.
func selector(ref, name string) lit {
	if ast.StringLabelNeedsQuoting(name) || keywords[name] {
		return lit(ref + "[" + literal.String.Quote(name) + "]")
	}
	return lit(ref + "." + name)
}

func boolean(b bool) lit { return lit(strconv.FormatBool(b)) }

func integer(n int64) lit { return lit(strconv.FormatInt(n, 10)) }

func number(f float64) lit {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return lit(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return lit(strconv.FormatFloat(f, 'g', -1, 64))
}

func numbers(fs []float64) list {
	out := make(list, len(fs))
	for i, f := range fs {
		out[i] = number(f)
	}
	return out
}

func strs(ss []string) list {
	out := make(list, len(ss))
	for i, s := range ss {
		out[i] = str(s)
	}
	return out
}

// anyValue converts a decoded JSON value (map[string]any, []any, string,
// bool, float64, int64, nil) to CUE.
func anyValue(v any) value {
	switch x := v.(type) {
	case map[string]any:
		o := &obj{}
		for _, k := range sortedKeys(x) {
			o.add(k, anyValue(x[k]))
		}
		return o
	case []any:
		out := make(list, len(x))
		for i, e := range x {
			out[i] = anyValue(e)
		}
		return out
	case string:
		return str(x)
	case bool:
		return boolean(x)
	case float64:
		return number(x)
	case int64:
		return integer(x)
	case int:
		return integer(int64(x))
	}
	return lit("null")
}

// flat renders v on one line.
func flat(v value) string {
	var b strings.Builder
	writeFlat(&b, v)
	return b.String()
}

func writeFlat(b *strings.Builder, v value) {
	switch x := v.(type) {
	case lit:
		b.WriteString(string(x))
	case list:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeFlat(b, e)
		}
		b.WriteByte(']')
	case *obj:
		if x.fold && len(x.fields) == 1 {
			b.WriteString(x.fields[0].label)
			b.WriteString(": ")
			writeFlat(b, x.fields[0].v)
			return
		}
		b.WriteByte('{')
		for i, f := range x.fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.label)
			b.WriteString(": ")
			writeFlat(b, f.v)
		}
		b.WriteByte('}')
	case *conj:
		b.WriteString(x.def)
		if len(x.o.fields) > 0 {
			b.WriteString(" & ")
			writeFlat(b, x.o)
		}
	}
}

// multiline reports whether v must be written on several lines.
func multiline(v value) bool {
	switch x := v.(type) {
	case *obj:
		if x.multi && !(x.fold && len(x.fields) == 1) {
			return true
		}
		for _, f := range x.fields {
			if multiline(f.v) {
				return true
			}
		}
	case list:
		for _, e := range x {
			if multiline(e) {
				return true
			}
		}
	case *conj:
		return multiline(x.o)
	}
	return false
}

// render writes v starting at column col of a line indented depth tabs.
func render(b *strings.Builder, v value, depth, col int) {
	if !multiline(v) {
		if s := flat(v); col+len(s) <= maxWidth {
			b.WriteString(s)
			return
		}
	}
	switch x := v.(type) {
	case lit:
		b.WriteString(string(x))
	case list:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for _, e := range x {
			indent(b, depth+1)
			render(b, e, depth+1, (depth+1)*tabWidth)
			b.WriteString(",\n")
		}
		indent(b, depth)
		b.WriteByte(']')
	case *obj:
		if x.fold && len(x.fields) == 1 {
			f := x.fields[0]
			b.WriteString(f.label)
			b.WriteString(": ")
			render(b, f.v, depth, col+len(f.label)+2)
			return
		}
		if len(x.fields) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		writeFields(b, x.fields, depth+1)
		indent(b, depth)
		b.WriteByte('}')
	case *conj:
		b.WriteString(x.def)
		if len(x.o.fields) > 0 {
			b.WriteString(" & ")
			o := *x.o
			o.multi = true
			render(b, &o, depth, col+len(x.def)+3)
		}
	}
}

// writeFields writes struct fields one per line at the given depth.
func writeFields(b *strings.Builder, fs []field, depth int) {
	for _, f := range fs {
		indent(b, depth)
		b.WriteString(f.label)
		b.WriteString(": ")
		render(b, f.v, depth, depth*tabWidth+len(f.label)+2)
		b.WriteByte('\n')
	}
}

func indent(b *strings.Builder, depth int) {
	for i := 0; i < depth; i++ {
		b.WriteByte('\t')
	}
}
