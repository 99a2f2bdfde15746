package jsonm

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxParseDepth is the deepest nesting of arrays and objects Parse accepts.
const MaxParseDepth = 1000

// SyntaxError is the error returned by Parse for malformed input.
type SyntaxError struct {
	Pos Pos    // position of the offending input
	Msg string // the message, without position
}

// Error returns "file:line:col: msg".
func (e *SyntaxError) Error() string { return e.Pos.String() + ": " + e.Msg }

// Parse parses data as a JSONC document the way mcrouter reads configs:
// JSON (RFC 8259 strings, escapes and numbers) plus "//" line comments and
// "/* */" block comments outside strings, and trailing commas in arrays and
// objects. file is only used in positions.
//
// Differences from strict JSON, all following folly's parser and
// folly::json::stripComments: a block comment left open at the end of the
// input simply ends the input; raw control characters other than NUL are
// accepted inside strings; a repeated object key overrides the earlier one
// (see Value.Obj and Value.Duplicates). Integer literals that do not fit in
// an int64 become Floats (folly rejects them). One difference the other way:
// folly deletes comments before parsing, so "1/**/2" reads as 12 there and is
// a syntax error here; comments always separate tokens.
//
// Nesting deeper than MaxParseDepth is an error. The error is a *SyntaxError.
func Parse(file string, data []byte) (*Value, error) {
	p := &parser{file: file, data: data, line: 1}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return nil, p.errAt(p.pos(), "unexpected byte order mark (mcrouter does not accept it)")
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.skipSpace(); err != nil {
		return nil, err
	}
	if p.off < len(p.data) {
		return nil, p.errAt(p.pos(), "unexpected %s after top-level value", p.describe())
	}
	return v, nil
}

type parser struct {
	file      string
	data      []byte
	off       int
	line      int
	lineStart int
}

func (p *parser) pos() Pos {
	return Pos{File: p.file, Offset: p.off, Line: p.line, Col: p.off - p.lineStart + 1}
}

func (p *parser) errAt(pos Pos, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// describe names the byte at the current offset for error messages.
func (p *parser) describe() string {
	if p.off >= len(p.data) {
		return "end of input"
	}
	c := p.data[p.off]
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) newline() {
	p.line++
	p.lineStart = p.off
}

// skipSpace skips whitespace and comments.
func (p *parser) skipSpace() error {
	for p.off < len(p.data) {
		switch c := p.data[p.off]; c {
		case ' ', '\t', '\r':
			p.off++
		case '\n':
			p.off++
			p.newline()
		case '/':
			if p.off+1 >= len(p.data) {
				return nil
			}
			switch p.data[p.off+1] {
			case '/':
				p.off += 2
				for p.off < len(p.data) && p.data[p.off] != '\n' {
					p.off++
				}
			case '*':
				p.off += 2
				for p.off < len(p.data) {
					if p.data[p.off] == '*' && p.off+1 < len(p.data) && p.data[p.off+1] == '/' {
						p.off += 2
						break
					}
					p.off++
					if p.data[p.off-1] == '\n' {
						p.newline()
					}
				}
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return nil
}

func (p *parser) value(depth int) (*Value, error) {
	if p.off >= len(p.data) {
		return nil, p.errAt(p.pos(), "unexpected end of input, expected a value")
	}
	switch c := p.data[p.off]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		pos := p.pos()
		s, verb, err := p.str()
		if err != nil {
			return nil, err
		}
		v := &Value{Kind: String, Str: s, Pos: pos}
		if verb {
			v.verb = 1
		}
		return v, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c >= 'a' && c <= 'z':
		pos := p.pos()
		start := p.off
		for p.off < len(p.data) && isIdentByte(p.data[p.off]) {
			p.off++
		}
		switch word := string(p.data[start:p.off]); word {
		case "true":
			return NewBool(true, pos), nil
		case "false":
			return NewBool(false, pos), nil
		case "null":
			return NewNull(pos), nil
		default:
			return nil, p.errAt(pos, "unexpected %q, expected a value", truncate(word, 20))
		}
	default:
		return nil, p.errAt(p.pos(), "unexpected %s, expected a value", p.describe())
	}
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (p *parser) object(depth int) (*Value, error) {
	pos := p.pos()
	if depth > MaxParseDepth {
		return nil, p.errAt(pos, "nesting too deep (more than %d levels)", MaxParseDepth)
	}
	p.off++ // '{'
	obj := &Value{Kind: Object, Pos: pos, Obj: []*Member{}}
	var index map[string]int
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.off >= len(p.data) {
			return nil, p.errAt(p.pos(), "unexpected end of input in object starting at %d:%d", pos.Line, pos.Col)
		}
		c := p.data[p.off]
		if c == '}' {
			p.off++
			return obj, nil
		}
		if c != '"' {
			return nil, p.errAt(p.pos(), "unexpected %s, expected a string object key or '}'", p.describe())
		}
		keyPos := p.pos()
		key, verb, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.off >= len(p.data) || p.data[p.off] != ':' {
			return nil, p.errAt(p.pos(), "unexpected %s, expected ':' after object key", p.describe())
		}
		p.off++
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		m := &Member{Key: key, KeyPos: keyPos, Value: val}
		if verb {
			m.verb = 1
		}
		// Last key wins, in the place of the first occurrence.
		if index == nil && len(obj.Obj) >= 8 {
			index = make(map[string]int, 16)
			for i, om := range obj.Obj {
				index[om.Key] = i
			}
		}
		dup := -1
		if index != nil {
			if i, ok := index[key]; ok {
				dup = i
			}
		} else {
			for i, om := range obj.Obj {
				if om.Key == key {
					dup = i
					break
				}
			}
		}
		if dup >= 0 {
			obj.Duplicates = append(obj.Duplicates, obj.Obj[dup])
			obj.Obj[dup] = m
		} else {
			if index != nil {
				index[key] = len(obj.Obj)
			}
			obj.Obj = append(obj.Obj, m)
		}
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.off >= len(p.data) {
			return nil, p.errAt(p.pos(), "unexpected end of input in object starting at %d:%d", pos.Line, pos.Col)
		}
		switch p.data[p.off] {
		case ',':
			p.off++
		case '}':
			p.off++
			return obj, nil
		default:
			return nil, p.errAt(p.pos(), "unexpected %s, expected ',' or '}' in object", p.describe())
		}
	}
}

func (p *parser) array(depth int) (*Value, error) {
	pos := p.pos()
	if depth > MaxParseDepth {
		return nil, p.errAt(pos, "nesting too deep (more than %d levels)", MaxParseDepth)
	}
	p.off++ // '['
	arr := &Value{Kind: Array, Pos: pos, Arr: []*Value{}}
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.off >= len(p.data) {
			return nil, p.errAt(p.pos(), "unexpected end of input in array starting at %d:%d", pos.Line, pos.Col)
		}
		if p.data[p.off] == ']' {
			p.off++
			return arr, nil
		}
		val, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		arr.Arr = append(arr.Arr, val)
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.off >= len(p.data) {
			return nil, p.errAt(p.pos(), "unexpected end of input in array starting at %d:%d", pos.Line, pos.Col)
		}
		switch p.data[p.off] {
		case ',':
			p.off++
		case ']':
			p.off++
			return arr, nil
		default:
			return nil, p.errAt(p.pos(), "unexpected %s, expected ',' or ']' in array", p.describe())
		}
	}
}

// str parses a string literal at p.off (which is '"'). verbatim reports
// whether the decoded string equals the source bytes between the quotes and
// contains no line break.
func (p *parser) str() (s string, verbatim bool, err error) {
	start := p.pos()
	p.off++
	begin := p.off
	// Fast path: no escapes.
	for p.off < len(p.data) {
		c := p.data[p.off]
		if c == '"' {
			s = string(p.data[begin:p.off])
			p.off++
			return s, true, nil
		}
		if c == '\\' || c == '\n' || c == 0 {
			break
		}
		p.off++
	}
	var b strings.Builder
	b.Write(p.data[begin:p.off])
	for {
		if p.off >= len(p.data) {
			return "", false, p.errAt(start, "unterminated string")
		}
		c := p.data[p.off]
		switch c {
		case '"':
			p.off++
			return b.String(), false, nil
		case 0:
			return "", false, p.errAt(p.pos(), "NUL byte in string")
		case '\n':
			b.WriteByte(c)
			p.off++
			p.newline()
		case '\\':
			escPos := p.pos()
			p.off++
			if p.off >= len(p.data) {
				return "", false, p.errAt(start, "unterminated string")
			}
			e := p.data[p.off]
			p.off++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, err := p.hex4(escPos)
				if err != nil {
					return "", false, err
				}
				switch {
				case r >= 0xD800 && r <= 0xDBFF:
					if p.off+1 >= len(p.data) || p.data[p.off] != '\\' || p.data[p.off+1] != 'u' {
						return "", false, p.errAt(escPos, "unpaired surrogate \\u%04X: expected a second \\u escape", r)
					}
					lowPos := p.pos()
					p.off += 2
					r2, err := p.hex4(lowPos)
					if err != nil {
						return "", false, err
					}
					if r2 < 0xDC00 || r2 > 0xDFFF {
						return "", false, p.errAt(lowPos, "invalid low surrogate \\u%04X after \\u%04X", r2, r)
					}
					b.WriteRune(utf16.DecodeRune(r, r2))
				case r >= 0xDC00 && r <= 0xDFFF:
					return "", false, p.errAt(escPos, "unpaired low surrogate \\u%04X", r)
				default:
					var buf [utf8.UTFMax]byte
					n := utf8.EncodeRune(buf[:], r)
					b.Write(buf[:n])
				}
			default:
				if e >= 0x20 && e < 0x7f {
					return "", false, p.errAt(escPos, "invalid escape '\\%c' in string", e)
				}
				return "", false, p.errAt(escPos, "invalid escape '\\' followed by byte 0x%02x in string", e)
			}
		default:
			b.WriteByte(c)
			p.off++
		}
	}
}

func (p *parser) hex4(escPos Pos) (rune, error) {
	if p.off+4 > len(p.data) {
		return 0, p.errAt(escPos, "invalid \\u escape: expected 4 hex digits")
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := p.data[p.off+i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, p.errAt(escPos, "invalid \\u escape: expected 4 hex digits")
		}
		r = r<<4 | rune(d)
	}
	p.off += 4
	return r, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) number() (*Value, error) {
	pos := p.pos()
	start := p.off
	d := p.data
	i := p.off
	if d[i] == '-' {
		i++
	}
	if i >= len(d) || !isDigit(d[i]) {
		p.off = i
		return nil, p.errAt(pos, "invalid number: expected a digit after '-'")
	}
	if d[i] == '0' {
		i++
		if i < len(d) && isDigit(d[i]) {
			return nil, p.errAt(pos, "invalid number: leading zeros are not allowed")
		}
	} else {
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	isFloat := false
	if i < len(d) && d[i] == '.' {
		isFloat = true
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return nil, p.errAt(pos, "invalid number: expected a digit after '.'")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		isFloat = true
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return nil, p.errAt(pos, "invalid number: expected a digit in the exponent")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (isIdentByte(d[i]) || d[i] == '.') {
		return nil, p.errAt(pos, "invalid number %q", truncate(string(d[start:i+1]), 30))
	}
	p.off = i
	lit := string(d[start:i])
	if !isFloat {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return &Value{Kind: Int, Int: n, Lit: lit, Pos: pos}, nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, p.errAt(pos, "invalid number %q", truncate(lit, 30))
	}
	return &Value{Kind: Float, Float: f, Lit: lit, Pos: pos}, nil
}
