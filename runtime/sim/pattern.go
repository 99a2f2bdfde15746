package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxKeyLen is the longest key memcached's text protocol accepts, and
// therefore the longest key a simulation may use (mcrouter's
// MC_KEY_MAX_LEN_ASCII).
const MaxKeyLen = 250

// DefaultPattern is the key pattern used when none is given: "key:" followed
// by the key number, unpadded ("key:0", "key:1", ...).
const DefaultPattern = "key:{n}"

// ErrKey is wrapped by the errors about invalid keys and key patterns.
var ErrKey = errors.New("sim: invalid key")

// Pattern generates keys from a template. The template is literal text with
// fields in braces:
//
//   - {n}: the key number, 0, 1, 2, ... in decimal;
//   - {n:W}: the key number zero-padded to at least W digits (1 ≤ W ≤ 20);
//   - {rand}: 16 lowercase hexadecimal digits, a hash of the key number and
//     the seed, so keys look random but are reproducible;
//   - {{ and }}: a literal brace.
//
// A Pattern is immutable and safe for concurrent use.
type Pattern struct {
	src   string
	parts []patternPart
}

type fieldKind uint8

const (
	fieldLiteral fieldKind = iota
	fieldN
	fieldRand
)

type patternPart struct {
	kind  fieldKind
	lit   string
	width int // zero padding of {n:W}
}

// ParsePattern parses a key pattern. The pattern must contain {n} or {rand}
// (otherwise every key would be the same), and its literal text may not
// contain spaces or control characters, which memcached keys cannot hold.
func ParsePattern(s string) (*Pattern, error) {
	p := &Pattern{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, patternPart{kind: fieldLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	varying := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%w pattern %q: unclosed {", ErrKey, s)
			}
			field := s[i+1 : i+end]
			part, err := parseField(field)
			if err != nil {
				return nil, fmt.Errorf("%w pattern %q: %v", ErrKey, s, err)
			}
			flush()
			p.parts = append(p.parts, part)
			varying = true
			i += end
		case c == '}':
			return nil, fmt.Errorf("%w pattern %q: } without { (write }} for a literal brace)", ErrKey, s)
		case c <= ' ' || c == 0x7f:
			return nil, fmt.Errorf("%w pattern %q: keys cannot contain spaces or control characters", ErrKey, s)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if !varying {
		return nil, fmt.Errorf("%w pattern %q: no {n} or {rand}: every key would be the same", ErrKey, s)
	}
	return p, nil
}

func parseField(f string) (patternPart, error) {
	switch {
	case f == "n":
		return patternPart{kind: fieldN}, nil
	case f == "rand":
		return patternPart{kind: fieldRand}, nil
	case strings.HasPrefix(f, "n:"):
		w, err := strconv.Atoi(f[2:])
		if err != nil || w < 1 || w > 20 {
			return patternPart{}, fmt.Errorf("{%s}: the width of {n:W} must be 1 to 20", f)
		}
		return patternPart{kind: fieldN, width: w}, nil
	}
	return patternPart{}, fmt.Errorf("unknown field {%s} (fields: {n}, {n:W}, {rand})", f)
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.src }

// Append appends key number n, generated with seed, to dst and returns the
// extended slice.
func (p *Pattern) Append(dst []byte, n, seed uint64) []byte {
	for i := range p.parts {
		pt := &p.parts[i]
		switch pt.kind {
		case fieldLiteral:
			dst = append(dst, pt.lit...)
		case fieldN:
			var b [20]byte
			i := len(b)
			for v := n; ; {
				i--
				b[i] = byte('0' + v%10)
				v /= 10
				if v == 0 {
					break
				}
			}
			for ; len(b)-i < pt.width; i-- {
				b[i-1] = '0'
			}
			dst = append(dst, b[i:]...)
		case fieldRand:
			dst = appendHex16(dst, mix64(n^mix64(seed+0x5851f42d4c957f2d)))
		}
	}
	return dst
}

// MaxLen returns the length of the longest key the pattern makes for key
// numbers up to maxN.
func (p *Pattern) MaxLen(maxN uint64) int {
	l := 0
	for _, pt := range p.parts {
		switch pt.kind {
		case fieldLiteral:
			l += len(pt.lit)
		case fieldN:
			l += max(pt.width, digits(maxN))
		case fieldRand:
			l += 16
		}
	}
	return l
}

func digits(n uint64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

const hexDigits = "0123456789abcdef"

func appendHex16(dst []byte, v uint64) []byte {
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = hexDigits[v&15]
		v >>= 4
	}
	return append(dst, b[:]...)
}

// mix64 is the splitmix64 finaliser: a cheap, well-mixed bijection of
// uint64, used for {rand} and for RandomRoute's choices.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// checkKey reports what is wrong with a key read from a file, or "".
func checkKey(k []byte) string {
	if len(k) > MaxKeyLen {
		return "key of " + strconv.Itoa(len(k)) + " bytes: memcached keys are limited to " + strconv.Itoa(MaxKeyLen)
	}
	for _, c := range k {
		if c <= ' ' || c == 0x7f {
			return "key contains a space or control character"
		}
	}
	return ""
}
