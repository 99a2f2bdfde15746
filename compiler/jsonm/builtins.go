package jsonm

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// call is the invocation of a built-in macro: its scope holds the arguments.
type call struct {
	e    *expander
	sc   *scope
	pos  Pos
	name string
}

// arg returns the expanded argument name, or nil if it was not given.
func (c *call) arg(name string) *Value {
	if b := c.sc.local(name); b != nil && b.state == bExpanded {
		return b.val
	}
	return nil
}

// lazy expands the unexpanded argument name in the caller's scope. ok is
// false if the argument was not given.
func (c *call) lazy(name string) (v *Value, ok bool, err error) {
	b := c.sc.local(name)
	if b == nil {
		return nil, false, nil
	}
	if b.state != bRaw {
		return b.val, true, nil
	}
	v, err = c.e.expand(b.val, c.sc.outer)
	if err != nil {
		return nil, true, err
	}
	b.val, b.state = v, bExpanded
	return v, true, nil
}

func (c *call) errorf(format string, args ...any) error { return errorf(c.pos, format, args...) }

func (c *call) newInt(i int64) *Value   { return NewInt(i, c.pos) }
func (c *call) newBool(b bool) *Value   { return NewBool(b, c.pos) }
func (c *call) newStr(s string) *Value  { return NewString(s, c.pos) }
func (c *call) charge(n int) error      { return c.e.charge(c.pos, n) }
func (c *call) chargeBytes(n int) error { return c.e.chargeBytes(c.pos, n) }

func (e *expander) registerBuiltins() {
	opt := func(name string) *Value {
		return NewObject([]*Member{
			{Key: "name", Value: NewString(name, Pos{})},
			{Key: "optional", Value: NewBool(true, Pos{})},
		}, Pos{})
	}
	add := func(name string, lazy bool, fn func(*call) (*Value, error), params ...any) {
		ps := make([]*Value, len(params))
		for i, p := range params {
			switch p := p.(type) {
			case string:
				ps[i] = NewString(p, Pos{})
			case *Value:
				ps[i] = p
			}
		}
		m, err := newMacro(name, ps)
		if err != nil {
			panic(err) // programming error in the table below
		}
		m.fn, m.lazy = fn, lazy
		e.macros[name] = m
	}
	add("import", true, biImport, "path", opt("default"))
	add("hash", false, biHash, "value")
	add("weightedHash", false, biWeightedHash, "dictionary", "key")
	add("int", false, biInt, "value")
	add("double", false, biDouble, "value")
	add("str", false, biStr, "value")
	add("bool", false, biBool, "value")
	add("keys", false, biKeys, "dictionary")
	add("values", false, biValues, "dictionary")
	add("merge", false, biMerge, "params")
	add("select", true, biSelect, "dictionary", "key", opt("default"))
	add("shuffle", true, biShuffle, "dictionary", opt("seed"))
	add("slice", false, biSlice, "dictionary", "from", "to")
	add("split", false, biSplit, "dictionary", "delim")
	add("range", false, biRange, "from", "to")
	add("contains", false, biContains, "dictionary", "key")
	add("empty", false, biEmpty, "dictionary")
	add("equals", false, biEquals, "A", "B")
	add("isArray", false, isKind(Array), "value")
	add("isBool", false, isKind(Bool), "value")
	add("isInt", false, isKind(Int), "value")
	add("isDouble", false, isKind(Float), "value")
	add("isObject", false, isKind(Object), "value")
	add("isString", false, isKind(String), "value")
	add("less", false, biLess, "A", "B")
	add("bitwiseAnd", false, intOp("bitwiseAnd", func(a, b int64) (int64, string) { return a & b, "" }), "A", "B")
	add("bitwiseOr", false, intOp("bitwiseOr", func(a, b int64) (int64, string) { return a | b, "" }), "A", "B")
	add("bitwiseXor", false, intOp("bitwiseXor", func(a, b int64) (int64, string) { return a ^ b, "" }), "A", "B")
	add("bitwiseLeftShift", false, intOp("bitwiseLeftShift", func(a, b int64) (int64, string) {
		if b < 0 || b > 63 {
			return 0, "B must be in [0, 63]"
		}
		return int64(uint64(a) << uint(b)), ""
	}), "A", "B")
	add("bitwiseRightShift", false, intOp("bitwiseRightShift", func(a, b int64) (int64, string) {
		if b < 0 || b > 63 {
			return 0, "B must be in [0, 63]"
		}
		return int64(uint64(a) >> uint(b)), ""
	}), "A", "B")
	add("bitwiseNot", false, biBitwiseNot, "A")
	add("and", true, biAnd, "A", "B")
	add("or", true, biOr, "A", "B")
	add("not", false, biNot, "A")
	add("size", false, biSize, "dictionary")
	add("add", false, intOp("add", func(a, b int64) (int64, string) { return a + b, "" }), "A", "B")
	add("sub", false, intOp("sub", func(a, b int64) (int64, string) { return a - b, "" }), "A", "B")
	add("mul", false, intOp("mul", func(a, b int64) (int64, string) { return a * b, "" }), "A", "B")
	add("div", false, intOp("div", func(a, b int64) (int64, string) {
		if b == 0 {
			return 0, "B == 0"
		}
		return a / b, ""
	}), "A", "B")
	add("mod", false, intOp("mod", func(a, b int64) (int64, string) {
		if b == 0 {
			return 0, "B == 0"
		}
		return a % b, ""
	}), "A", "B")
	add("fail", false, biFail, "msg")
	add("sort", false, biSort, "dictionary")
	add("set", false, biSet, "dictionary", "key", "value")
	add("if", true, biIf, "condition", "is_true", "is_false")
	add("define", false, biDefine, "result")
	add("defined", false, biDefined, "name")
	add("isLocalIp", false, biIsLocalIP, "ip")

	e.objBuiltins = map[string]objBuiltin{
		"macroDef":  biNoop,
		"constDef":  biNoop,
		"transform": biTransform,
		"process":   biProcess,
		"foreach":   biForeach,
	}
}

// biImport: @import(path, default?) loads, parses and expands a JSONC file.
// Results are cached per path; if the import fails and a default is given,
// the default is expanded, cached and returned.
func biImport(c *call) (*Value, error) {
	e := c.e
	pv, _, err := c.lazy("path")
	if err != nil {
		return nil, err
	}
	if pv.Kind != String {
		return nil, c.errorf("import path is %s, string expected", pv.Kind)
	}
	path := pv.Str
	if v, ok := e.importCache[path]; ok {
		return e.clone(v, c.pos)
	}
	res, ierr := e.doImport(path, c.pos)
	if ierr != nil {
		if isLimit(ierr) {
			return nil, ierr
		}
		def, ok, err := c.lazy("default")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ierr
		}
		e.importCache[path] = def
		return def, nil
	}
	e.importCache[path] = res
	return res, nil
}

func (e *expander) doImport(path string, pos Pos) (*Value, error) {
	if e.opts.Import == nil {
		return nil, errorf(pos, "Import '%s': imports are not enabled", path)
	}
	key := "path:" + path
	if slices.Contains(e.importing, key) {
		return nil, errorf(pos, "Import '%s': import cycle", path)
	}
	data, name, err := e.opts.Import(path)
	if err != nil {
		return nil, wrapErr(pos, err, "Import '%s'", path)
	}
	if name == "" {
		name = path
	}
	nameKey := "file:" + name
	if slices.Contains(e.importing, nameKey) {
		return nil, errorf(pos, "Import '%s': import cycle through %s", path, name)
	}
	if err := e.chargeBytes(pos, len(data)); err != nil {
		return nil, err
	}
	root, err := Parse(name, data)
	if err != nil {
		se := err.(*SyntaxError)
		return nil, &Error{Pos: se.Pos, Msg: "syntax error: " + se.Msg, Err: se,
			Stack: []Frame{{Pos: pos, What: "in @import '" + path + "'"}}}
	}
	e.importing = append(e.importing, key, nameKey)
	res, err := e.expand(root, &scope{base: true})
	e.importing = e.importing[:len(e.importing)-2]
	if err != nil {
		return nil, addFrame(err, pos, "in @import '%s'", path)
	}
	return res, nil
}

func (c *call) hashString(s string) (uint64, error) {
	if c.e.opts.Hash64 == nil {
		return 0, c.errorf("%s: hashing strings needs Options.Hash64 (SpookyHashV2 Hash64, seed 0)", c.name)
	}
	return c.e.opts.Hash64([]byte(s)), nil
}

// biHash: @hash(value) is folly::Hash of an int (twang_mix64) or a string
// (SpookyHashV2 Hash64 seed 0), as a signed 64-bit integer.
func biHash(c *call) (*Value, error) {
	v := c.arg("value")
	switch v.Kind {
	case Int:
		return c.newInt(int64(twangMix64(uint64(v.Int)))), nil
	case String:
		h, err := c.hashString(v.Str)
		if err != nil {
			return nil, err
		}
		return c.newInt(int64(h)), nil
	}
	return nil, c.errorf("Hash: can not cast %s to int or string", v.Kind)
}

// biWeightedHash: rendezvous hashing of key over {name: weight}.
func biWeightedHash(c *call) (*Value, error) {
	dict, key := c.arg("dictionary"), c.arg("key")
	if dict.Kind != Object {
		return nil, c.errorf("WeightedHash: dictionary is %s, expected object", dict.Kind)
	}
	names := make([]string, 0, len(dict.Obj))
	weights := make([]float64, 0, len(dict.Obj))
	for _, m := range dict.Obj {
		if !isNumber(m.Value) {
			return nil, c.errorf("WeightedHash: %s weight is %s, expected number", m.Key, m.Value.Kind)
		}
		w, _ := asDouble(m.Value)
		if !(w >= -0.01) {
			return nil, c.errorf("WeightedHash: %s weight %s is negative", m.Key, formatFollyDouble(w))
		}
		names = append(names, m.Key)
		weights = append(weights, max(w, 0))
	}
	if len(names) == 0 {
		return nil, c.errorf("WeightedHash: dictionary is empty")
	}
	var keyHash uint64
	switch key.Kind {
	case Int:
		keyHash = uint64(key.Int)
	case String:
		h, err := c.hashString(key.Str)
		if err != nil {
			return nil, err
		}
		keyHash = h
	default:
		return nil, c.errorf("WeightedHash: key is %s, expected string or int", key.Kind)
	}
	id, msg := rendezvous(names, weights, keyHash)
	if msg != "" {
		return nil, c.errorf("WeightedHash: failed to compute hash: %s", msg)
	}
	return c.newStr(names[id]), nil
}

func biInt(c *call) (*Value, error) {
	v := c.arg("value")
	i, err := asInt(v)
	if err != nil {
		return nil, c.errorf("Can not cast %s to int: %v", v.Kind, err)
	}
	return c.newInt(i), nil
}

func biDouble(c *call) (*Value, error) {
	v := c.arg("value")
	f, err := asDouble(v)
	if err != nil {
		return nil, c.errorf("Can not cast %s to double: %v", v.Kind, err)
	}
	return NewFloat(f, c.pos), nil
}

func biStr(c *call) (*Value, error) {
	v := c.arg("value")
	if v.Kind == String {
		return v, nil
	}
	s, err := asString(v)
	if err != nil {
		return nil, c.errorf("Can not cast %s to string: %v", v.Kind, err)
	}
	return c.newStr(s), nil
}

func biBool(c *call) (*Value, error) {
	v := c.arg("value")
	b, err := asBool(v)
	if err != nil {
		return nil, c.errorf("Can not cast %s to boolean: %v", v.Kind, err)
	}
	return c.newBool(b), nil
}

func biKeys(c *call) (*Value, error) {
	d := c.arg("dictionary")
	if d.Kind != Object {
		return nil, c.errorf("Keys: dictionary is not object")
	}
	if err := c.charge(1 + len(d.Obj)); err != nil {
		return nil, err
	}
	out := make([]*Value, len(d.Obj))
	for i, m := range d.Obj {
		out[i] = &Value{Kind: String, Str: m.Key, Pos: m.KeyPos, verb: m.verb}
	}
	return NewArray(out, c.pos), nil
}

func biValues(c *call) (*Value, error) {
	d := c.arg("dictionary")
	if d.Kind != Object {
		return nil, c.errorf("Values: dictionary is not object")
	}
	if err := c.charge(1 + len(d.Obj)); err != nil {
		return nil, err
	}
	out := make([]*Value, len(d.Obj))
	for i, m := range d.Obj {
		out[i] = m.Value
	}
	return NewArray(out, c.pos), nil
}

// biMerge concatenates arrays or strings, or merges objects (later members
// override earlier ones).
func biMerge(c *call) (*Value, error) {
	ps := c.arg("params")
	if ps.Kind != Array {
		return nil, c.errorf("Merge: 'params' is not array")
	}
	if len(ps.Arr) == 0 {
		return nil, c.errorf("Merge: empty params")
	}
	first := ps.Arr[0]
	switch first.Kind {
	case Array:
		n := 0
		for i, p := range ps.Arr {
			if p.Kind != Array {
				return nil, c.errorf("Merge: param %d is not an array", i)
			}
			n += len(p.Arr)
		}
		if err := c.charge(1 + n); err != nil {
			return nil, err
		}
		out := make([]*Value, 0, n)
		for _, p := range ps.Arr {
			out = append(out, p.Arr...)
		}
		return NewArray(out, c.pos), nil
	case Object:
		n := 0
		for i, p := range ps.Arr {
			if p.Kind != Object {
				return nil, c.errorf("Merge: param %d is not an object", i)
			}
			n += len(p.Obj)
		}
		if err := c.charge(1 + n); err != nil {
			return nil, err
		}
		ob := newObjBuilder(c.pos, len(first.Obj))
		for _, p := range ps.Arr {
			for _, m := range p.Obj {
				ob.set(m.Key, m.KeyPos, m.Value)
			}
		}
		ob.v.Duplicates = nil
		return ob.v, nil
	case String:
		n := 0
		for i, p := range ps.Arr {
			if p.Kind != String {
				return nil, c.errorf("Merge: param %d is not a string", i)
			}
			n += len(p.Str)
		}
		if err := c.chargeBytes(n); err != nil {
			return nil, err
		}
		var b strings.Builder
		b.Grow(n)
		for _, p := range ps.Arr {
			b.WriteString(p.Str)
		}
		return c.newStr(b.String()), nil
	}
	return nil, c.errorf("Merge: first param is not array/object/string")
}

// biSelect: @select(dictionary, key, default?): an object member or array
// element (negative indexes count from the end); default is expanded only
// when the key is missing.
func biSelect(c *call) (*Value, error) {
	dict, _, err := c.lazy("dictionary")
	if err != nil {
		return nil, err
	}
	key, _, err := c.lazy("key")
	if err != nil {
		return nil, err
	}
	switch dict.Kind {
	case Object:
		if key.Kind != String {
			return nil, c.errorf("Select: dictionary is an object, key is not a string")
		}
		if v := dict.Get(key.Str); v != nil {
			return v, nil
		}
		def, ok, err := c.lazy("default")
		if err != nil || ok {
			return def, err
		}
		return nil, c.errorf("Select: '%s' not found, default not specified", key.Str)
	case Array:
		if key.Kind != Int {
			return nil, c.errorf("Select: dictionary is an array, key is not an integer")
		}
		id := key.Int
		if id < 0 {
			id += int64(len(dict.Arr))
		}
		if id >= 0 && id < int64(len(dict.Arr)) {
			return dict.Arr[id], nil
		}
		def, ok, err := c.lazy("default")
		if err != nil || ok {
			return def, err
		}
		return nil, c.errorf("Select: index %d is out of range [0, %d)", id, len(dict.Arr))
	}
	return nil, c.errorf("Select: dictionary is %s, expected array/object", dict.Kind)
}

// biShuffle: @shuffle(list, seed?) permutes like libstdc++'s std::shuffle
// with std::minstd_rand seeded with seed.
func biShuffle(c *call) (*Value, error) {
	arr, _, err := c.lazy("dictionary")
	if err != nil {
		return nil, err
	}
	if arr.Kind != Array {
		return nil, c.errorf("Shuffle: argument must be an array")
	}
	var seed uint32
	sv, ok, err := c.lazy("seed")
	if err != nil {
		return nil, err
	}
	switch {
	case ok:
		if sv.Kind != Int || sv.Int < 0 {
			return nil, c.errorf("Shuffle: seed must be a non-negative integer")
		}
		seed = uint32(sv.Int)
	case c.e.opts.ShuffleSeed != nil:
		seed = c.e.opts.ShuffleSeed()
	default:
		seed = rand.Uint32()
	}
	if err := c.charge(1 + len(arr.Arr)); err != nil {
		return nil, err
	}
	out := slices.Clone(arr.Arr)
	stdShuffle(out, seed)
	return NewArray(out, c.pos), nil
}

// biSlice: inclusive range of an array, string (bytes) or object (keys
// between from and to).
func biSlice(c *call) (*Value, error) {
	from, to, dict := c.arg("from"), c.arg("to"), c.arg("dictionary")
	switch dict.Kind {
	case Object:
		if from.Kind != String {
			return nil, c.errorf("Slice: from is not a string")
		}
		if to.Kind != String {
			return nil, c.errorf("Slice: to is not a string")
		}
		if err := c.charge(1 + len(dict.Obj)); err != nil {
			return nil, err
		}
		out := NewObject(nil, c.pos)
		for _, m := range dict.Obj {
			if from.Str <= m.Key && m.Key <= to.Str {
				out.Obj = append(out.Obj, m)
			}
		}
		if out.Obj == nil {
			out.Obj = []*Member{}
		}
		return out, nil
	case Array, String:
		if from.Kind != Int || to.Kind != Int {
			return nil, c.errorf("Slice: from/to is not an int")
		}
		n := int64(dict.Len())
		lo := max(0, from.Int)
		hi := n
		if to.Int < n-1 {
			hi = to.Int + 1
		}
		if lo > hi {
			lo = hi
		}
		if hi < 0 {
			lo, hi = 0, 0
		}
		if dict.Kind == String {
			if err := c.chargeBytes(int(hi - lo)); err != nil {
				return nil, err
			}
			return c.newStr(dict.Str[lo:hi]), nil
		}
		if err := c.charge(1 + int(hi-lo)); err != nil {
			return nil, err
		}
		return NewArray(slices.Clone(dict.Arr[lo:hi]), c.pos), nil
	}
	return nil, c.errorf("Slice: dictionary is not array/object/string")
}

// biSplit splits a string on a delimiter like folly::split: an empty
// delimiter, or one longer than the string, yields the whole string.
func biSplit(c *call) (*Value, error) {
	dict, delim := c.arg("dictionary"), c.arg("delim")
	if dict.Kind != String {
		return nil, c.errorf("Split: dictionary is %s, string expected", dict.Kind)
	}
	if delim.Kind != String {
		return nil, c.errorf("Split: delim is %s, string expected", delim.Kind)
	}
	var parts []string
	if delim.Str == "" || len(delim.Str) > len(dict.Str) {
		parts = []string{dict.Str}
	} else {
		parts = strings.Split(dict.Str, delim.Str)
	}
	if err := c.charge(1 + len(parts) + len(dict.Str)/32); err != nil {
		return nil, err
	}
	out := make([]*Value, len(parts))
	for i, p := range parts {
		out[i] = c.newStr(p)
	}
	return NewArray(out, c.pos), nil
}

// biSet returns dictionary with key set to value.
func biSet(c *call) (*Value, error) {
	key, val, dict := c.arg("key"), c.arg("value"), c.arg("dictionary")
	switch dict.Kind {
	case Object:
		if key.Kind != String {
			return nil, c.errorf("Set: key is not a string")
		}
		if err := c.charge(2 + len(dict.Obj)); err != nil {
			return nil, err
		}
		out := NewObject(slices.Clone(dict.Obj), dict.Pos)
		for i, m := range out.Obj {
			if m.Key == key.Str {
				mc := *m
				mc.Value = val
				out.Obj[i] = &mc
				return out, nil
			}
		}
		out.Obj = append(out.Obj, &Member{Key: key.Str, KeyPos: key.Pos, Value: val})
		return out, nil
	case Array:
		if key.Kind != Int {
			return nil, c.errorf("Set: key is not an int")
		}
		if key.Int < 0 || key.Int >= int64(len(dict.Arr)) {
			return nil, c.errorf("Set: key '%d' is out of range [0..%d)", key.Int, len(dict.Arr))
		}
		if err := c.charge(1 + len(dict.Arr)); err != nil {
			return nil, err
		}
		out := NewArray(slices.Clone(dict.Arr), dict.Pos)
		out.Arr[key.Int] = val
		return out, nil
	}
	return nil, c.errorf("Set: dictionary is not array/object")
}

// biRange: [from, from+1, ..., to].
func biRange(c *call) (*Value, error) {
	from, to := c.arg("from"), c.arg("to")
	if from.Kind != Int {
		return nil, c.errorf("Range: from is not an integer")
	}
	if to.Kind != Int {
		return nil, c.errorf("Range: to is not an integer")
	}
	var out []*Value
	if from.Int <= to.Int {
		diff := uint64(to.Int) - uint64(from.Int) // no overflow: to >= from
		if diff >= uint64(c.e.maxNodes) {
			return nil, c.e.limitErr(c.pos, "values", c.e.maxNodes)
		}
		n := diff + 1
		if err := c.charge(1 + int(n)); err != nil {
			return nil, err
		}
		out = make([]*Value, 0, n)
		for i := from.Int; ; i++ {
			out = append(out, c.newInt(i))
			if i == to.Int {
				break
			}
		}
	}
	if out == nil {
		out = []*Value{}
	}
	return NewArray(out, c.pos), nil
}

func biContains(c *call) (*Value, error) {
	dict, key := c.arg("dictionary"), c.arg("key")
	switch dict.Kind {
	case Object:
		if key.Kind != String {
			return nil, c.errorf("Contains: dictionary is an object, key is not a string")
		}
		return c.newBool(dict.Get(key.Str) != nil), nil
	case Array:
		for _, x := range dict.Arr {
			if x.Equal(key) {
				return c.newBool(true), nil
			}
		}
		return c.newBool(false), nil
	case String:
		if key.Kind != String {
			return nil, c.errorf("Contains: dictionary is a string, key is not a string")
		}
		return c.newBool(strings.Contains(dict.Str, key.Str)), nil
	}
	return nil, c.errorf("Contains: dictionary is %s, expected object/array/string", dict.Kind)
}

func biEmpty(c *call) (*Value, error) {
	d := c.arg("dictionary")
	switch d.Kind {
	case Object, Array, String:
		return c.newBool(d.Len() == 0), nil
	}
	return nil, c.errorf("empty: dictionary is not object/array/string")
}

func biSize(c *call) (*Value, error) {
	d := c.arg("dictionary")
	switch d.Kind {
	case Object, Array, String:
		return c.newInt(int64(d.Len())), nil
	}
	return nil, c.errorf("size: dictionary is not object/array/string")
}

func biEquals(c *call) (*Value, error) {
	return c.newBool(c.arg("A").Equal(c.arg("B"))), nil
}

func isKind(k Kind) func(*call) (*Value, error) {
	return func(c *call) (*Value, error) { return c.newBool(c.arg("value").Kind == k), nil }
}

func biLess(c *call) (*Value, error) {
	a, b := c.arg("A"), c.arg("B")
	if a.Kind == Object || b.Kind == Object {
		return nil, c.errorf("Can not compare objects")
	}
	r, err := c.e.compare(a, b, c.pos)
	if err != nil {
		return nil, err
	}
	return c.newBool(r < 0), nil
}

// intOp makes a built-in of two integers A and B; op returns a non-empty
// message on failure.
func intOp(name string, op func(a, b int64) (int64, string)) func(*call) (*Value, error) {
	return func(c *call) (*Value, error) {
		a, b := c.arg("A"), c.arg("B")
		if a.Kind != Int {
			return nil, c.errorf("%s: A is not an integer", name)
		}
		if b.Kind != Int {
			return nil, c.errorf("%s: B is not an integer", name)
		}
		r, msg := op(a.Int, b.Int)
		if msg != "" {
			return nil, c.errorf("%s: %s", name, msg)
		}
		return c.newInt(r), nil
	}
}

func biBitwiseNot(c *call) (*Value, error) {
	a := c.arg("A")
	if a.Kind != Int {
		return nil, c.errorf("bitwiseNot: A is not an integer")
	}
	return c.newInt(^a.Int), nil
}

// biAnd evaluates B only if A is true.
func biAnd(c *call) (*Value, error) {
	a, _, err := c.lazy("A")
	if err != nil {
		return nil, err
	}
	if a.Kind != Bool {
		return nil, c.errorf("and: A is %s, expected bool", a.Kind)
	}
	if !a.Bool {
		return c.newBool(false), nil
	}
	b, _, err := c.lazy("B")
	if err != nil {
		return nil, err
	}
	if b.Kind != Bool {
		return nil, c.errorf("and: B is %s, expected bool", b.Kind)
	}
	return c.newBool(b.Bool), nil
}

// biOr evaluates B only if A is false.
func biOr(c *call) (*Value, error) {
	a, _, err := c.lazy("A")
	if err != nil {
		return nil, err
	}
	if a.Kind != Bool {
		return nil, c.errorf("or: A is %s, expected bool", a.Kind)
	}
	if a.Bool {
		return c.newBool(true), nil
	}
	b, _, err := c.lazy("B")
	if err != nil {
		return nil, err
	}
	if b.Kind != Bool {
		return nil, c.errorf("or: B is %s, expected bool", b.Kind)
	}
	return c.newBool(b.Bool), nil
}

func biNot(c *call) (*Value, error) {
	a := c.arg("A")
	if a.Kind != Bool {
		return nil, c.errorf("not: A is not bool")
	}
	return c.newBool(!a.Bool), nil
}

func biFail(c *call) (*Value, error) {
	msg := c.arg("msg")
	if msg.Kind == String {
		if msg.Str == "" {
			return nil, c.errorf("@fail with an empty message")
		}
		return nil, c.errorf("%s", msg.Str)
	}
	return nil, c.errorf("%s", truncate(msg.String(), 1000))
}

// biSort sorts an array with folly's ordering (numbers before strings, ...).
func biSort(c *call) (*Value, error) {
	d := c.arg("dictionary")
	if d.Kind != Array {
		return nil, c.errorf("sort: dictionary is not an array")
	}
	if err := c.charge(1 + len(d.Arr)); err != nil {
		return nil, err
	}
	out := slices.Clone(d.Arr)
	var cmpErr error
	slices.SortStableFunc(out, func(a, b *Value) int {
		if cmpErr != nil {
			return 0
		}
		r, err := c.e.compare(a, b, c.pos)
		if err != nil {
			cmpErr = err
		}
		return r
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	return NewArray(out, c.pos), nil
}

// biIf expands only the selected branch.
func biIf(c *call) (*Value, error) {
	cond, _, err := c.lazy("condition")
	if err != nil {
		return nil, err
	}
	if cond.Kind != Bool {
		return nil, c.errorf("If: condition is not bool")
	}
	branch := "is_false"
	if cond.Bool {
		branch = "is_true"
	}
	v, _, err := c.lazy(branch)
	if err != nil {
		return nil, addFrame(err, c.pos, "in If '%s'", branch)
	}
	return v, nil
}

func biDefine(c *call) (*Value, error) { return c.arg("result"), nil }

// biDefined reports whether name is bound in the caller's scope or is a
// const or global param.
func biDefined(c *call) (*Value, error) {
	n := c.arg("name")
	if n.Kind != String {
		return nil, c.errorf("Defined: name is %s, string expected", n.Kind)
	}
	_, isConst := c.e.consts[n.Str]
	return c.newBool(isConst || c.sc.outer.contains(n.Str)), nil
}

// biIsLocalIP reports whether ip is an address of this host; anything that
// is not an IP address gives false.
func biIsLocalIP(c *call) (*Value, error) {
	v := c.arg("ip")
	if v.Kind != String {
		return nil, c.errorf("isLocalIp: ip is %s, string expected", v.Kind)
	}
	s := v.Str
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return c.newBool(false), nil
	}
	addrs, err := c.e.getLocalAddrs()
	if err != nil {
		return nil, c.errorf("Can not enumerate local ips: %v", err)
	}
	ip = ip.WithZone("").Unmap()
	for _, a := range addrs {
		if a.WithZone("").Unmap() == ip {
			return c.newBool(true), nil
		}
	}
	return c.newBool(false), nil
}

func (e *expander) getLocalAddrs() ([]netip.Addr, error) {
	if e.localAddrsSet {
		return e.localAddrs, e.localAddrsErr
	}
	e.localAddrsSet = true
	if e.opts.LocalAddrs != nil {
		e.localAddrs, e.localAddrsErr = e.opts.LocalAddrs()
		return e.localAddrs, e.localAddrsErr
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		e.localAddrsErr = err
		return nil, err
	}
	for _, a := range ifAddrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if addr, ok := netip.AddrFromSlice(ip); ok {
			e.localAddrs = append(e.localAddrs, addr)
		}
	}
	return e.localAddrs, nil
}

// biNoop returns macroDef and constDef objects unexpanded.
func biNoop(_ *expander, o *objCall, _ *scope) (*Value, error) {
	return NewObject(o.members, o.pos), nil
}

// stringMember returns the raw string member name of o, or def.
func stringMember(o *objCall, name, def, what string) (string, error) {
	v := o.get(name)
	if v == nil {
		return def, nil
	}
	if v.Kind != String {
		return "", errorf(v.Pos, "%s: %s is %s, string expected", what, name, v.Kind)
	}
	return v.Str, nil
}

func requiredMember(o *objCall, name, what string) (*Value, error) {
	v := o.get(name)
	if v == nil {
		return nil, errorf(o.pos, "%s: '%s' not found", what, name)
	}
	return v, nil
}

// keyValueOf returns the key of member m as a string Value.
func keyValueOf(m *Member) *Value {
	return &Value{Kind: String, Str: m.Key, Pos: m.KeyPos, verb: m.verb}
}

// biTransform maps the items (and keys) of an array or object.
func biTransform(e *expander, o *objCall, sc *scope) (*Value, error) {
	dv, err := requiredMember(o, "dictionary", "Transform")
	if err != nil {
		return nil, err
	}
	dict, err := e.expand(dv, sc)
	if err != nil {
		return nil, err
	}
	if dict.Kind != Object && dict.Kind != Array {
		return nil, errorf(o.pos, "Transform: dictionary is not array/object")
	}
	if dict.Len() == 0 {
		return dict, nil
	}
	itemTransform := o.get("itemTransform")
	itemName, err := stringMember(o, "itemName", "item", "Transform")
	if err != nil {
		return nil, err
	}
	keyName, err := stringMember(o, "keyName", "key", "Transform")
	if err != nil {
		return nil, err
	}
	ext := newScope(sc, false, 3)
	keyB, err := ext.bind(keyName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}
	itemB, err := ext.bind(itemName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}
	if dict.Kind == Array {
		if itemTransform == nil {
			return nil, errorf(o.pos, "Transform: itemTransform is required for array")
		}
		if err := e.charge(o.pos, 1+len(dict.Arr)); err != nil {
			return nil, err
		}
		out := make([]*Value, len(dict.Arr))
		for i, item := range dict.Arr {
			keyB.val = NewInt(int64(i), item.Pos)
			itemB.val = item
			x, err := e.expand(itemTransform, ext)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return NewArray(out, dict.Pos), nil
	}
	keyTransform := o.get("keyTransform")
	if err := e.charge(o.pos, 1+len(dict.Obj)); err != nil {
		return nil, err
	}
	ob := newObjBuilder(dict.Pos, len(dict.Obj))
	for _, m := range dict.Obj {
		keyB.val = keyValueOf(m)
		itemB.val = m.Value
		nKey := keyB.val
		if keyTransform != nil {
			if nKey, err = e.expand(keyTransform, ext); err != nil {
				return nil, err
			}
		}
		if nKey.Kind != String && nKey.Kind != Array {
			return nil, errorf(nKey.Pos, "Transformed key is not array/string")
		}
		if nKey.Kind == Array && len(nKey.Arr) == 0 {
			continue
		}
		nItem := m.Value
		if itemTransform != nil {
			if nItem, err = e.expand(itemTransform, ext); err != nil {
				return nil, err
			}
		}
		if nKey.Kind == String {
			ob.set(nKey.Str, nKey.Pos, nItem)
			continue
		}
		for i, k := range nKey.Arr {
			if k.Kind != String {
				return nil, errorf(k.Pos, "Transformed key list item is not a string")
			}
			item := nItem
			if i > 0 {
				if item, err = e.clone(nItem, o.pos); err != nil {
					return nil, err
				}
			}
			ob.set(k.Str, k.Pos, item)
		}
	}
	ob.v.Duplicates = nil
	return ob.v, nil
}

// biProcess folds a transform over the items of an array or object.
func biProcess(e *expander, o *objCall, sc *scope) (*Value, error) {
	dv, err := requiredMember(o, "dictionary", "Process")
	if err != nil {
		return nil, err
	}
	dict, err := e.expand(dv, sc)
	if err != nil {
		return nil, err
	}
	iv, err := requiredMember(o, "initialValue", "Process")
	if err != nil {
		return nil, err
	}
	value, err := e.expand(iv, sc)
	if err != nil {
		return nil, err
	}
	transform, err := requiredMember(o, "transform", "Process")
	if err != nil {
		return nil, err
	}
	if dict.Kind != Object && dict.Kind != Array {
		return nil, errorf(o.pos, "Process: dictionary is not array/object")
	}
	itemName, err := stringMember(o, "itemName", "item", "Process")
	if err != nil {
		return nil, err
	}
	keyName, err := stringMember(o, "keyName", "key", "Process")
	if err != nil {
		return nil, err
	}
	valueName, err := stringMember(o, "valueName", "value", "Process")
	if err != nil {
		return nil, err
	}
	ext := newScope(sc, false, 3)
	keyB, err := ext.bind(keyName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}
	itemB, err := ext.bind(itemName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}
	valueB, err := ext.bind(valueName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}
	step := func(key, item *Value) error {
		keyB.val, itemB.val, valueB.val = key, item, value
		v, err := e.expand(transform, ext)
		if err != nil {
			return err
		}
		value = v
		return nil
	}
	if dict.Kind == Object {
		for _, m := range dict.Obj {
			if err := step(keyValueOf(m), m.Value); err != nil {
				return nil, err
			}
		}
	} else {
		for i, item := range dict.Arr {
			if err := step(NewInt(int64(i), item.Pos), item); err != nil {
				return nil, err
			}
		}
	}
	return value, nil
}

// biForeach: from/where/use/top/noMatchResult, see the package doc.
func biForeach(e *expander, o *objCall, sc *scope) (*Value, error) {
	fv, err := requiredMember(o, "from", "Foreach")
	if err != nil {
		return nil, err
	}
	from, err := e.expand(fv, sc)
	if err != nil {
		return nil, err
	}
	if from.Kind != Object && from.Kind != Array {
		return nil, errorf(o.pos, "Foreach: from is not object/array")
	}
	itemName, err := stringMember(o, "item", "item", "Foreach")
	if err != nil {
		return nil, err
	}
	keyName, err := stringMember(o, "key", "key", "Foreach")
	if err != nil {
		return nil, err
	}
	top := int64(from.Len())
	if tv := o.get("top"); tv != nil {
		t, err := e.expand(tv, sc)
		if err != nil {
			return nil, err
		}
		if t.Kind != Int || t.Int < 0 {
			return nil, errorf(tv.Pos, "Foreach: top should be a non-negative integer")
		}
		top = t.Int
	}
	use, where := o.get("use"), o.get("where")

	ext := newScope(sc, false, 3)
	keyB, err := ext.bind(keyName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}
	itemB, err := ext.bind(itemName, bExpanded, nil, o.pos)
	if err != nil {
		return nil, err
	}

	var result *Value // nil until the first match
	var ob *objBuilder
	var arr []*Value
	appendTo := func(v *Value) error {
		if err := e.charge(o.pos, 1+v.Len()); err != nil {
			return err
		}
		if result == nil {
			if v.Kind != Object && v.Kind != Array {
				return errorf(v.Pos, "Foreach: expanded item is not object/array")
			}
			result = v
			if v.Kind == Object {
				ob = newObjBuilder(v.Pos, len(v.Obj))
			}
		} else if v.Kind != result.Kind {
			return errorf(v.Pos, "Foreach: expanded item is not an %s", result.Kind)
		}
		if v.Kind == Object {
			for _, m := range v.Obj {
				ob.set(m.Key, m.KeyPos, m.Value)
			}
		} else {
			arr = append(arr, v.Arr...)
		}
		return nil
	}
	visit := func(key, item *Value, asArray bool) error {
		keyB.val, itemB.val = key, item
		if where != nil {
			w, err := e.expand(where, ext)
			if err != nil {
				return err
			}
			if w.Kind != Bool {
				return errorf(w.Pos, "Foreach: expanded 'where' is not boolean")
			}
			if !w.Bool {
				return nil
			}
		}
		top--
		if use != nil {
			u, err := e.expand(use, ext)
			if err != nil {
				return err
			}
			return appendTo(u)
		}
		if asArray {
			return appendTo(NewArray([]*Value{item}, item.Pos))
		}
		return appendTo(NewObject([]*Member{{Key: key.Str, KeyPos: key.Pos, Value: item, verb: key.verb}}, key.Pos))
	}
	if from.Kind == Array {
		for i, item := range from.Arr {
			if top <= 0 {
				break
			}
			if err := visit(NewInt(int64(i), item.Pos), item, true); err != nil {
				return nil, err
			}
		}
	} else {
		for _, m := range from.Obj {
			if top <= 0 {
				break
			}
			if err := visit(keyValueOf(m), m.Value, false); err != nil {
				return nil, err
			}
		}
	}
	if result == nil {
		if nm := o.get("noMatchResult"); nm != nil {
			return e.expand(nm, sc)
		}
		if from.Kind == Object {
			return NewObject([]*Member{}, o.pos), nil
		}
		return NewArray([]*Value{}, o.pos), nil
	}
	if result.Kind == Object {
		ob.v.Pos = o.pos
		ob.v.Duplicates = nil
		return ob.v, nil
	}
	if arr == nil {
		arr = []*Value{}
	}
	return NewArray(arr, o.pos), nil
}
