package jsonm

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Conversions with folly::dynamic's asInt/asDouble/asString/asBool
// semantics (folly::to<T>), and folly's ordering of dynamic values.

func isNumber(v *Value) bool { return v.Kind == Int || v.Kind == Float }

// asInt converts like folly::dynamic::asInt.
func asInt(v *Value) (int64, error) {
	switch v.Kind {
	case Int:
		return v.Int, nil
	case Float:
		return floatToInt(v.Float)
	case Bool:
		if v.Bool {
			return 1, nil
		}
		return 0, nil
	case String:
		return parseFollyInt(v.Str)
	}
	return 0, errors.New("TypeError: expected int/double/bool/string, got " + v.Kind.String())
}

// twoTo63 is 2^63 as a float64.
const twoTo63 = 9223372036854775808.0

func floatToInt(f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f >= twoTo63 || f < -twoTo63 || f != math.Trunc(f) {
		return 0, errors.New("loss of precision converting " + formatFollyDouble(f) + " to int")
	}
	return int64(f), nil
}

// parseFollyInt parses a decimal integer with optional sign, surrounded by
// optional whitespace (folly::to<int64_t>(StringPiece)).
func parseFollyInt(s string) (int64, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		return 0, errors.New("empty input string")
	}
	i := 0
	if t[0] == '-' || t[0] == '+' {
		i = 1
	}
	j := i
	for j < len(t) && isDigit(t[j]) {
		j++
	}
	if j == i {
		return 0, errors.New("non-digit character found in \"" + truncate(s, 50) + "\"")
	}
	if strings.TrimRight(t[j:], " \t\n\v\f\r") != "" {
		return 0, errors.New("non-whitespace character found after end of conversion in \"" + truncate(s, 50) + "\"")
	}
	num := t[:j]
	if num[0] == '+' {
		num = num[1:]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, errors.New("overflow converting \"" + truncate(s, 50) + "\" to int")
	}
	return n, nil
}

// asDouble converts like folly::dynamic::asDouble.
func asDouble(v *Value) (float64, error) {
	switch v.Kind {
	case Float:
		return v.Float, nil
	case Int:
		f := float64(v.Int)
		if f >= twoTo63 || int64(f) != v.Int {
			return 0, errors.New("loss of precision converting " + strconv.FormatInt(v.Int, 10) + " to double")
		}
		return f, nil
	case Bool:
		if v.Bool {
			return 1, nil
		}
		return 0, nil
	case String:
		return parseFollyDouble(v.Str)
	}
	return 0, errors.New("TypeError: expected int/double/bool/string, got " + v.Kind.String())
}

// parseFollyDouble parses like folly::to<double>(StringPiece): decimal
// floating point with optional sign and exponent, or inf/infinity/nan in any
// case, surrounded by optional whitespace.
func parseFollyDouble(s string) (float64, error) {
	t := strings.Trim(s, " \t\n\v\f\r")
	if t == "" {
		return 0, errors.New("empty input string")
	}
	body := t
	neg := false
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	i := 0
	digits := 0
	for i < len(body) && isDigit(body[i]) {
		i++
		digits++
	}
	if i < len(body) && body[i] == '.' {
		i++
		for i < len(body) && isDigit(body[i]) {
			i++
			digits++
		}
	}
	if digits > 0 && i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		j := i + 1
		if j < len(body) && (body[j] == '+' || body[j] == '-') {
			j++
		}
		if j < len(body) && isDigit(body[j]) {
			for j < len(body) && isDigit(body[j]) {
				j++
			}
			i = j
		}
	}
	if digits == 0 || i != len(body) {
		return 0, errors.New("unable to convert \"" + truncate(s, 50) + "\" to double")
	}
	num := body
	if strings.HasSuffix(num, ".") {
		num += "0"
	}
	if strings.HasPrefix(num, ".") {
		num = "0" + num
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errors.New("unable to convert \"" + truncate(s, 50) + "\" to double")
	}
	if neg {
		f = -f
	}
	return f, nil
}

// asString converts like folly::dynamic::asString.
func asString(v *Value) (string, error) {
	switch v.Kind {
	case String:
		return v.Str, nil
	case Int:
		return strconv.FormatInt(v.Int, 10), nil
	case Float:
		return formatFollyDouble(v.Float), nil
	case Bool:
		// folly::to<std::string>(bool) goes through the integer path.
		if v.Bool {
			return "1", nil
		}
		return "0", nil
	}
	return "", errors.New("TypeError: expected int/double/bool/string, got " + v.Kind.String())
}

// formatFollyDouble formats like folly::to<std::string>(double): the
// shortest representation, in decimal notation when the decimal exponent is
// in [-6, 21) and as "1.5E-7"/"1E21" otherwise; "Infinity", "-Infinity",
// "NaN".
func formatFollyDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	k := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[k+1:])
	if exp >= -6 && exp < 21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	mant := e[:k]
	return mant + "E" + strconv.Itoa(exp)
}

// asBool converts like folly::dynamic::asBool.
func asBool(v *Value) (bool, error) {
	switch v.Kind {
	case Bool:
		return v.Bool, nil
	case Int:
		return v.Int != 0, nil
	case Float:
		return v.Float != 0, nil
	case String:
		return parseFollyBool(v.Str)
	}
	return false, errors.New("TypeError: expected int/double/bool/string, got " + v.Kind.String())
}

// parseFollyBool parses like folly::to<bool>(StringPiece): a run of 0/1
// digits (at most one 1, which must be last), or y/yes/n/no/t/true/f/false/
// on/off in any case, surrounded by optional whitespace.
func parseFollyBool(s string) (bool, error) {
	t := strings.Trim(s, " \t\n\v\f\r")
	bad := errors.New("invalid value for bool: \"" + truncate(s, 50) + "\"")
	if t == "" {
		return false, errors.New("empty input string")
	}
	if t[0] == '0' || t[0] == '1' {
		res := false
		for i := 0; i < len(t); i++ {
			c := t[i]
			if !isDigit(c) {
				return false, bad
			}
			if res || (c != '0' && c != '1') {
				return false, errors.New("integer overflow when parsing bool (must be 0 or 1): \"" + truncate(s, 50) + "\"")
			}
			res = c == '1'
		}
		return res, nil
	}
	switch strings.ToLower(t) {
	case "y", "yes", "t", "true", "on":
		return true, nil
	case "n", "no", "f", "false", "off":
		return false, nil
	}
	return false, bad
}

// compareNumbers compares two numbers (Int or Float) by value. NaN compares
// equal to everything (neither is less).
func compareNumbers(a, b *Value) int {
	if a.Kind == Int && b.Kind == Int {
		return cmpOrdered(a.Int, b.Int)
	}
	if a.Kind == Float && b.Kind == Float {
		return cmpFloat(a.Float, b.Float)
	}
	if a.Kind == Int {
		return cmpIntFloat(a.Int, b.Float)
	}
	return -cmpIntFloat(b.Int, a.Float)
}

func cmpOrdered[T int64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares an int64 with a float64 exactly.
func cmpIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= twoTo63:
		return -1
	case f < -twoTo63:
		return 1
	}
	t := math.Trunc(f)
	ti := int64(t)
	if i != ti {
		return cmpOrdered(i, ti)
	}
	// i == trunc(f): the fractional part decides.
	return cmpFloat(0, f-t)
}

// typeRank is the order of folly::dynamic::Type, used to order values of
// different types.
func typeRank(k Kind) int {
	switch k {
	case Null:
		return 0
	case Array:
		return 1
	case Bool:
		return 2
	case Float:
		return 3
	case Int:
		return 4
	case Object:
		return 5
	}
	return 6 // String
}

// compare orders a and b like folly::dynamic's operator<: numbers by value,
// other values of different types by type (null < array < bool < number <
// string), arrays lexicographically, strings bytewise. Objects cannot be
// compared. It returns -1, 0 or 1.
func (e *expander) compare(a, b *Value, pos Pos) (int, error) {
	if err := e.step(pos, 1); err != nil {
		return 0, err
	}
	if a.Kind == Object || b.Kind == Object {
		return 0, errorf(pos, "Can not compare objects")
	}
	if a.Kind != b.Kind {
		if isNumber(a) && isNumber(b) {
			return compareNumbers(a, b), nil
		}
		return cmpOrdered(int64(typeRank(a.Kind)), int64(typeRank(b.Kind))), nil
	}
	switch a.Kind {
	case Bool:
		return cmpOrdered(b2i(a.Bool), b2i(b.Bool)), nil
	case Int, Float:
		return compareNumbers(a, b), nil
	case String:
		return strings.Compare(a.Str, b.Str), nil
	case Array:
		for i := 0; i < len(a.Arr) && i < len(b.Arr); i++ {
			r, err := e.compare(a.Arr[i], b.Arr[i], pos)
			if err != nil || r != 0 {
				return r, err
			}
		}
		return cmpOrdered(int64(len(a.Arr)), int64(len(b.Arr))), nil
	}
	return 0, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
