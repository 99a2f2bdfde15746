package jsonm

import (
	"net/netip"
	"strings"
)

// Defaults for the limits in Options.
const (
	// DefaultMaxDepth is mcrouter's nesting limit: expansion fails with
	// "Too many nested macros. Check for cycles." when this many expansions
	// are nested (every value, string and macro call being expanded counts).
	DefaultMaxDepth = 250
	// DefaultMaxNodes bounds the values an expansion may create (under 1 GB
	// of memory in the worst case; real configs stay far below).
	DefaultMaxNodes = 1 << 22
	// DefaultMaxSteps bounds the work of an expansion (some seconds of CPU).
	DefaultMaxSteps = 1 << 24
	// maxErrors is the most errors one Expand reports.
	maxErrors = 100
)

// maxValueDepth is the deepest value expansion may build by substitution
// (for example by a "process" macro that wraps its value once per item). A
// variable so that tests can lower it.
var maxValueDepth = 10000

// Options configures Expand. The zero value is usable: no global params,
// imports disabled, @hash of strings disabled, default limits.
type Options struct {
	// Params are the global params, visible to %name% and @defined after the
	// local scope and the consts of "macros" (a constDef with the same name
	// overrides a param). mcrouter passes default-route, default-region,
	// default-cluster, hostid, router-name, service-name, num-proxies, ...
	// and every --config-params pair. Like consts, params are expanded
	// lazily on first use.
	Params map[string]*Value

	// Import reads the target of @import(path): path is the argument as
	// written (relative to the main config's directory, or "file:/abs"). It
	// returns the JSONC text and the file name to use in positions and for
	// import-cycle detection. Nil means every @import fails (and its default
	// is used, if any). See ImportFromDir.
	Import func(path string) (data []byte, name string, err error)

	// Hash64 hashes the bytes of a string for @hash and @weightedHash; it
	// must be folly's default string hash, SpookyHashV2 Hash64 with seed 0,
	// to match mcrouter. Nil makes @hash and @weightedHash of strings fail.
	// Integers are hashed with twang_mix64, built in.
	Hash64 func([]byte) uint64

	// ShuffleSeed provides the seed of @shuffle calls without a seed
	// argument. Nil means a random seed for each call (as mcrouter does).
	ShuffleSeed func() uint32

	// LocalAddrs lists the addresses @isLocalIp compares against. Nil means
	// the addresses of the host's network interfaces (net.InterfaceAddrs).
	LocalAddrs func() ([]netip.Addr, error)

	// MaxDepth is the nesting limit; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxNodes bounds the number of values created, counting one per 32 bytes
	// of string built; 0 means DefaultMaxNodes.
	MaxNodes int
	// MaxSteps bounds the number of expansion steps and value comparisons;
	// 0 means DefaultMaxSteps.
	MaxSteps int
}

// Expand expands the JSONM macros of a parsed mcrouter config the way
// mcrouter's ConfigPreprocessor does (see the package documentation): the
// top-level "macros" member is parsed into macro and const definitions and
// removed, then the rest of the tree is expanded. root must be an object.
// Expand does not modify root; the result may share nodes with it, so treat
// both as read-only (or Clone).
//
// Each value of the result keeps the position of the text that produced it:
// literals keep their own position; a %param% substituted whole keeps the
// position of the value it was bound to (the argument, var, const or param
// definition); a user macro's result is its expanded body, so its values
// point into the macroDef; values computed by built-in macros (@int, @merge,
// @range, ...) and strings built by substitution carry the position of the
// call or template string.
//
// On failure the error is an ErrorList. Expansion continues after an error
// in a plain (non-macro) object member or array element, so several errors
// may be reported; the returned Value is then the partial result with the
// failing members left out (nil if "macros" or the root itself failed).
// Members of expanded objects whose keys expanded to the same string are
// listed in Duplicates, like repeated keys in Parse.
func Expand(root *Value, opts Options) (*Value, error) {
	if root == nil {
		return nil, ErrorList{errorf(Pos{}, "config is empty")}
	}
	if root.Kind != Object {
		return nil, ErrorList{errorf(root.Pos, "config is %s, expected an object", root.Kind)}
	}
	e := newExpander(opts)
	members := root.Obj
	if mm := root.Member("macros"); mm != nil {
		if err := e.parseMacroDefs(mm.Value); err != nil {
			return nil, ErrorList{asError(err)}
		}
		members = without(members, "macros")
	}
	body := &Value{Kind: Object, Pos: root.Pos, Obj: members}
	out, err := e.expandV(body, &scope{base: true}, true)
	if err != nil {
		e.errs = append(e.errs, asError(err))
	}
	if len(e.errs) > 0 {
		return out, e.errs
	}
	return out, nil
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Msg: err.Error(), Err: err}
}

func without(members []*Member, key string) []*Member {
	out := make([]*Member, 0, len(members))
	for _, m := range members {
		if m.Key != key {
			out = append(out, m)
		}
	}
	return out
}

func findMember(members []*Member, key string) *Member {
	for _, m := range members {
		if m.Key == key {
			return m
		}
	}
	return nil
}

type expander struct {
	opts        Options
	macros      map[string]*macro
	objBuiltins map[string]objBuiltin
	consts      map[string]*constEntry
	importCache map[string]*Value
	importing   []string

	depth, maxDepth int
	nodes, maxNodes int
	steps, maxSteps int
	errs            ErrorList

	localAddrs    []netip.Addr
	localAddrsErr error
	localAddrsSet bool
}

type objBuiltin func(e *expander, o *objCall, sc *scope) (*Value, error)

// objCall is an object-form call of a built-in: the members of the object
// without "vars".
type objCall struct {
	members []*Member
	pos     Pos
}

func (o *objCall) get(key string) *Value {
	if m := findMember(o.members, key); m != nil {
		return m.Value
	}
	return nil
}

type param struct {
	name     string
	def      *Value // default value; nil or null means none
	required bool
}

type macro struct {
	name     string
	pos      Pos // definition position; zero for built-ins
	params   []param
	min, max int
	lazy     bool // arguments are bound unexpanded (mcrouter's autoExpand=false)
	body     *Value
	fn       func(c *call) (*Value, error)
}

type constEntry struct {
	name  string
	pos   Pos
	raw   *Value
	val   *Value
	state uint8 // 0 raw, 1 expanding, 2 expanded
}

type bstate uint8

const (
	bExpanded bstate = iota
	bRaw             // unexpanded argument of a lazy built-in, expanded in the caller's scope
	bLazy            // "vars" entry, expanded in its own scope on first use
	bBusy            // "vars" entry being expanded
)

type binding struct {
	name  string
	state bstate
	val   *Value
	pos   Pos // where the name was bound (var key); for messages
}

// scope is mcrouter's Context: local names, then (unless base) the outer
// scope; lookups that fail everywhere fall back to consts and params.
type scope struct {
	outer *scope
	base  bool
	vars  []*binding
	index map[string]*binding
	arena []binding // preallocated bindings (never grown, so pointers stay valid)
}

// newScope returns a scope with room for n bindings.
func newScope(outer *scope, base bool, n int) *scope {
	s := &scope{outer: outer, base: base}
	if n > 0 {
		s.arena = make([]binding, 0, n)
		s.vars = make([]*binding, 0, n)
	}
	return s
}

func (s *scope) local(name string) *binding {
	if s.index != nil {
		return s.index[name]
	}
	for _, b := range s.vars {
		if b.name == name {
			return b
		}
	}
	return nil
}

func (s *scope) bind(name string, st bstate, v *Value, pos Pos) (*binding, error) {
	if s.local(name) != nil {
		return nil, errorf(pos, "'%s' already exists in local scope", name)
	}
	var b *binding
	if len(s.arena) < cap(s.arena) {
		s.arena = append(s.arena, binding{name: name, state: st, val: v, pos: pos})
		b = &s.arena[len(s.arena)-1]
	} else {
		b = &binding{name: name, state: st, val: v, pos: pos}
	}
	s.vars = append(s.vars, b)
	if s.index != nil {
		s.index[name] = b
	} else if len(s.vars) > 16 {
		s.index = make(map[string]*binding, 2*len(s.vars))
		for _, x := range s.vars {
			s.index[x.name] = x
		}
	}
	return b, nil
}

// contains reports whether name is bound in s or the scopes it can see.
func (s *scope) contains(name string) bool {
	for ; s != nil; s = s.outer {
		if s.local(name) != nil {
			return true
		}
		if s.base {
			break
		}
	}
	return false
}

func newExpander(opts Options) *expander {
	e := &expander{
		opts:        opts,
		macros:      make(map[string]*macro),
		consts:      make(map[string]*constEntry),
		importCache: make(map[string]*Value),
		maxDepth:    opts.MaxDepth,
		maxNodes:    opts.MaxNodes,
		maxSteps:    opts.MaxSteps,
	}
	if e.maxDepth <= 0 {
		e.maxDepth = DefaultMaxDepth
	}
	if e.maxNodes <= 0 {
		e.maxNodes = DefaultMaxNodes
	}
	if e.maxSteps <= 0 {
		e.maxSteps = DefaultMaxSteps
	}
	for name, v := range opts.Params {
		if v == nil {
			v = NewNull(Pos{})
		}
		e.consts[name] = &constEntry{name: name, raw: v}
	}
	e.registerBuiltins()
	return e
}

// enter accounts for one nested expansion at pos.
func (e *expander) enter(pos Pos) error {
	e.depth++
	if e.depth >= e.maxDepth {
		e.depth--
		return errorf(pos, "Too many nested macros. Check for cycles.")
	}
	e.steps++
	if e.steps > e.maxSteps {
		e.depth--
		return e.limitErr(pos, "steps", e.maxSteps)
	}
	return nil
}

func (e *expander) leave() { e.depth-- }

func (e *expander) limitErr(pos Pos, what string, max int) error {
	return &Error{Pos: pos, Msg: "expansion exceeds the limit of " + itoa(max) + " " + what +
		" (cycle or runaway macro?)", Err: ErrLimit}
}

// charge accounts for n new values.
func (e *expander) charge(pos Pos, n int) error {
	e.nodes += n
	if e.nodes > e.maxNodes || e.nodes < 0 {
		return e.limitErr(pos, "values", e.maxNodes)
	}
	return nil
}

// chargeBytes accounts for a string of n bytes.
func (e *expander) chargeBytes(pos Pos, n int) error { return e.charge(pos, 1+n/32) }

// step accounts for n units of work that creates no values.
func (e *expander) step(pos Pos, n int) error {
	e.steps += n
	if e.steps > e.maxSteps || e.steps < 0 {
		return e.limitErr(pos, "steps", e.maxSteps)
	}
	return nil
}

// report records err, found while collecting errors, and reports whether
// expansion may go on.
func (e *expander) report(err error) bool {
	if isLimit(err) || len(e.errs) >= maxErrors {
		return false
	}
	e.errs = append(e.errs, asError(err))
	return true
}

// clone copies v for a new place in the output: containers are deep-copied
// (and charged), scalars are shared.
func (e *expander) clone(v *Value, pos Pos) (*Value, error) {
	if v == nil {
		return NewNull(pos), nil
	}
	if v.Kind != Array && v.Kind != Object {
		return v, nil
	}
	return e.cloneDeep(v, pos, 0)
}

func (e *expander) cloneDeep(v *Value, pos Pos, depth int) (*Value, error) {
	if v == nil {
		return NewNull(pos), nil
	}
	if v.Kind != Array && v.Kind != Object {
		return v, nil
	}
	if depth > maxValueDepth {
		return nil, errorf(pos, "value nested more than %d levels deep", maxValueDepth)
	}
	if err := e.charge(pos, 1+len(v.Arr)+len(v.Obj)); err != nil {
		return nil, err
	}
	c := *v
	if v.Kind == Array {
		c.Arr = make([]*Value, len(v.Arr))
		for i, x := range v.Arr {
			y, err := e.cloneDeep(x, pos, depth+1)
			if err != nil {
				return nil, err
			}
			c.Arr[i] = y
		}
	} else {
		c.Obj = make([]*Member, len(v.Obj))
		for i, m := range v.Obj {
			y, err := e.cloneDeep(m.Value, pos, depth+1)
			if err != nil {
				return nil, err
			}
			mc := *m
			mc.Value = y
			c.Obj[i] = &mc
		}
	}
	return &c, nil
}

// expand expands v in scope sc.
func (e *expander) expand(v *Value, sc *scope) (*Value, error) {
	return e.expandV(v, sc, false)
}

// expandV expands v in scope sc. With collect set, errors in members of
// plain objects and arrays are recorded and expansion goes on without them.
func (e *expander) expandV(v *Value, sc *scope, collect bool) (*Value, error) {
	if v == nil {
		return NewNull(Pos{}), nil
	}
	if err := e.enter(v.Pos); err != nil {
		return nil, err
	}
	defer e.leave()
	switch v.Kind {
	case String:
		return e.expandString(v, sc)
	case Object:
		return e.expandObject(v, sc, collect)
	case Array:
		if err := e.charge(v.Pos, 1+len(v.Arr)); err != nil {
			return nil, err
		}
		out := make([]*Value, 0, len(v.Arr))
		for _, el := range v.Arr {
			x, err := e.expandV(el, sc, collect)
			if err != nil {
				if collect && e.report(err) {
					continue
				}
				return nil, err
			}
			out = append(out, x)
		}
		return &Value{Kind: Array, Arr: out, Pos: v.Pos}, nil
	}
	return v, nil
}

func (e *expander) expandObject(v *Value, sc *scope, collect bool) (*Value, error) {
	members := v.Obj
	local := sc
	if vm := findMember(members, "vars"); vm != nil {
		vars := vm.Value
		if vars.Kind != Object {
			return nil, errorf(vars.Pos, "vars is %s, expected object", vars.Kind)
		}
		local = newScope(sc, false, len(vars.Obj))
		for _, m := range vars.Obj {
			if _, err := local.bind(m.Key, bLazy, m.Value, m.KeyPos); err != nil {
				return nil, err
			}
		}
		// Vars may refer to each other: all are bound first, then expanded.
		for _, m := range vars.Obj {
			if _, err := e.force(local.local(m.Key), local); err != nil {
				return nil, err
			}
		}
		members = without(members, "vars")
	}

	// Built-in calls and long-form macro calls.
	if tm := findMember(members, "type"); tm != nil {
		t, err := e.expand(tm.Value, local)
		if err != nil {
			return nil, err
		}
		if t.Kind == String {
			if fn := e.objBuiltins[t.Str]; fn != nil {
				res, err := fn(e, &objCall{members: members, pos: v.Pos}, local)
				if err != nil {
					return nil, addFrame(err, v.Pos, "in built-in '%s'", t.Str)
				}
				return res, nil
			}
			if m := e.macros[t.Str]; m != nil {
				res, err := e.callObject(m, members, v.Pos, local)
				if err != nil {
					return nil, addFrame(err, v.Pos, "in macro '%s'", t.Str)
				}
				return res, nil
			}
		}
	}

	// Plain object.
	if err := e.charge(v.Pos, 1+len(members)); err != nil {
		return nil, err
	}
	ob := newObjBuilder(v.Pos, len(members))
	for _, m := range members {
		key := m.Key
		if needsExpand(key) {
			kv, err := e.expandString(keyValue(m), local)
			if err == nil && kv.Kind != String {
				err = errorf(m.KeyPos, "Expanded key is not a string (it is %s)", kv.Kind)
			}
			if err != nil {
				if collect && e.report(err) {
					continue
				}
				return nil, err
			}
			key = kv.Str
		}
		val, err := e.expandV(m.Value, local, collect)
		if err != nil {
			if collect && e.report(err) {
				continue
			}
			return nil, err
		}
		ob.set(key, m.KeyPos, val)
	}
	// Keys the parser already found repeated stay reported.
	if len(v.Duplicates) > 0 {
		ob.v.Duplicates = append(append([]*Member(nil), v.Duplicates...), ob.v.Duplicates...)
	}
	return ob.v, nil
}

// needsExpand reports whether the string s may change when expanded.
func needsExpand(s string) bool {
	return s != "" && (s[0] == '@' || strings.ContainsAny(s, "%\\"))
}

// keyValue returns the key of m as a string Value (for expansion).
func keyValue(m *Member) *Value {
	return &Value{Kind: String, Str: m.Key, Pos: m.KeyPos, verb: m.verb}
}

// objBuilder builds an object with last-wins keys.
type objBuilder struct {
	v     *Value
	index map[string]int
}

func newObjBuilder(pos Pos, n int) *objBuilder {
	return &objBuilder{v: &Value{Kind: Object, Pos: pos, Obj: make([]*Member, 0, n)}}
}

func (b *objBuilder) set(key string, keyPos Pos, val *Value) {
	obj := b.v
	if b.index == nil && len(obj.Obj) >= 8 {
		b.index = make(map[string]int, 2*len(obj.Obj))
		for i, m := range obj.Obj {
			b.index[m.Key] = i
		}
	}
	i := -1
	if b.index != nil {
		if j, ok := b.index[key]; ok {
			i = j
		}
	} else {
		for j, m := range obj.Obj {
			if m.Key == key {
				i = j
				break
			}
		}
	}
	m := &Member{Key: key, KeyPos: keyPos, Value: val}
	if i >= 0 {
		obj.Duplicates = append(obj.Duplicates, obj.Obj[i])
		obj.Obj[i] = m
		return
	}
	if b.index != nil {
		b.index[key] = len(obj.Obj)
	}
	obj.Obj = append(obj.Obj, m)
}

// force returns the value of binding b of scope s, expanding a lazy var.
func (e *expander) force(b *binding, s *scope) (*Value, error) {
	switch b.state {
	case bLazy:
		b.state = bBusy
		v, err := e.expand(b.val, s)
		if err != nil {
			b.state = bLazy
			return nil, addFrame(err, b.pos, "in variable '%s'", b.name)
		}
		b.val, b.state = v, bExpanded
		return v, nil
	case bBusy:
		return nil, errorf(b.pos, "variable '%s' refers to itself (cycle)", b.name)
	}
	return b.val, nil
}

// lookup finds the value of %name% referenced at pos.
func (e *expander) lookup(name string, sc *scope, pos Pos) (*Value, error) {
	for s := sc; s != nil; s = s.outer {
		if b := s.local(name); b != nil {
			v, err := e.force(b, s)
			if err != nil {
				return nil, addFrame(err, pos, "referenced here")
			}
			return v, nil
		}
		if s.base {
			break
		}
	}
	c := e.consts[name]
	if c == nil {
		return nil, errorf(pos, "Param in string: '%s' not found", name)
	}
	return e.constValue(c, pos)
}

func (e *expander) constValue(c *constEntry, pos Pos) (*Value, error) {
	switch c.state {
	case 2:
		return c.val, nil
	case 1:
		return nil, errorf(pos, "const '%s' refers to itself (cycle)", c.name)
	}
	c.state = 1
	v, err := e.expand(c.raw, &scope{base: true})
	if err != nil {
		c.state = 0
		return nil, addFrame(err, pos, "in const '%s'", c.name)
	}
	c.val, c.state = v, 2
	return v, nil
}

// subPos returns the position of byte off of string v's content.
func subPos(v *Value, off int) Pos {
	switch v.verb {
	case 1:
		return v.Pos.shift(1 + off)
	case 2:
		return v.Pos.shift(off)
	}
	return v.Pos
}

// substr returns v.Str[lo:hi] as a string Value positioned in the source.
func substr(v *Value, lo, hi int) *Value {
	s := &Value{Kind: String, Str: v.Str[lo:hi], Pos: subPos(v, lo)}
	if v.verb != 0 {
		s.verb = 2
	}
	return s
}

// expandString expands a string: a call if it starts with '@', otherwise
// %param% substitution and unescaping.
func (e *expander) expandString(v *Value, sc *scope) (*Value, error) {
	if err := e.enter(v.Pos); err != nil {
		return nil, err
	}
	defer e.leave()
	s := v.Str
	if s == "" {
		return v, nil
	}
	if s[0] != '@' {
		return e.substitute(v, sc)
	}
	var args []*Value
	nameEnd := len(s)
	if open := findUnescaped(s, 0, '('); open >= 0 {
		if s[len(s)-1] != ')' {
			return nil, errorf(v.Pos, "No closing bracket for call '%s'", truncate(s, 200))
		}
		nameEnd = open
		spans, msg := callParams(s, open+1, len(s)-1)
		if msg != "" {
			return nil, errorf(v.Pos, "%s", msg)
		}
		if err := e.charge(v.Pos, len(spans)); err != nil {
			return nil, err
		}
		args = make([]*Value, len(spans))
		vals := make([]Value, len(spans))
		for i, sp := range spans {
			vals[i] = Value{Kind: String, Str: s[sp.lo:sp.hi], Pos: subPos(v, sp.lo)}
			if v.verb != 0 {
				vals[i].verb = 2
			}
			args[i] = &vals[i]
		}
	}
	nv, err := e.substitute(substr(v, 1, nameEnd), sc)
	if err != nil {
		return nil, err
	}
	if nv.Kind != String {
		return nil, errorf(v.Pos, "Macro name is %s, string expected", nv.Kind)
	}
	m := e.macros[nv.Str]
	if m == nil {
		return nil, errorf(v.Pos, "Macro '%s' not found", nv.Str)
	}
	res, err := e.callString(m, args, v.Pos, sc)
	if err != nil {
		return nil, addFrame(err, v.Pos, "in macro '%s'", m.name)
	}
	return res, nil
}

// substitute replaces %name% references and removes escaping backslashes.
// A string that is exactly one reference (after any references that
// expanded to "") becomes the referenced value, whatever its type.
func (e *expander) substitute(v *Value, sc *scope) (*Value, error) {
	s := v.Str
	if !strings.ContainsAny(s, "%\\") {
		return v, nil
	}
	var buf []byte
	var name []byte
	i := 0
	for i < len(s) {
		var j int
		buf, j = unescapeUntil(s, i, buf, '%')
		if j < 0 {
			break
		}
		name = name[:0]
		var k int
		name, k = unescapeUntil(s, j+1, name, '%')
		refPos := subPos(v, j)
		if k < 0 {
			return nil, errorf(refPos, "Odd number of percent signs in string around '%s'", truncate(s[j+1:], 100))
		}
		val, err := e.lookup(string(name), sc, refPos)
		if err != nil {
			return nil, err
		}
		if len(buf) == 0 && k == len(s)-1 {
			return e.clone(val, refPos)
		}
		if val.Kind != String {
			return nil, errorf(refPos, "Param in string '%s' is %s, expected string", name, val.Kind)
		}
		if err := e.chargeBytes(refPos, len(buf)+len(val.Str)); err != nil {
			return nil, err
		}
		buf = append(buf, val.Str...)
		i = k + 1
	}
	if err := e.chargeBytes(v.Pos, len(buf)); err != nil {
		return nil, err
	}
	return &Value{Kind: String, Str: string(buf), Pos: v.Pos}, nil
}

// unescapeUntil appends s[i:] to buf, unescaping backslashes, up to the first
// unescaped c, and returns the index of that c in s, or -1 (also when s ends
// with a lone backslash).
func unescapeUntil(s string, i int, buf []byte, c byte) ([]byte, int) {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			if i >= len(s) {
				return buf, -1
			}
			buf = append(buf, s[i])
		case c:
			return buf, i
		default:
			buf = append(buf, s[i])
		}
	}
	return buf, -1
}

// findUnescaped returns the index of the first c in s[from:] not preceded
// by an escaping backslash, or -1.
func findUnescaped(s string, from int, c byte) int {
	for i := from; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			return i
		}
	}
	return -1
}

// matchingBracket returns the index of the ')' matching the '(' at s[i], or
// -1, skipping escaped characters.
func matchingBracket(s string, i, end int) int {
	depth := 0
	for ; i < end; i++ {
		switch s[i] {
		case '\\':
			i++
			continue
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			return i
		}
	}
	return -1
}

type span struct{ lo, hi int }

// callParams splits the arguments s[lo:hi] of a string call into spans, as
// mcrouter's getCallParams does: on unescaped commas, keeping nested calls
// with parentheses together, each argument trimmed of unescaped whitespace.
// An empty argument list is one empty argument. A non-empty msg describes
// malformed arguments.
func callParams(s string, lo, hi int) (spans []span, msg string) {
	var res []span
	for {
		if lo == hi {
			res = append(res, span{lo, lo})
			return res, ""
		}
		comma := findUnescaped(s[:hi], lo, ',')
		if comma < 0 {
			res = append(res, trimSpan(s, lo, hi))
			return res, ""
		}
		if open := findUnescaped(s[:comma], lo, '('); open >= 0 {
			closing := matchingBracket(s, open, hi)
			if closing < 0 {
				return nil, "Brackets do not match: " + truncate(s[lo:hi], 200)
			}
			if closing == hi-1 {
				res = append(res, trimSpan(s, lo, hi))
				return res, ""
			}
			comma = closing + 1
			for comma < hi && s[comma] != ',' {
				comma++
			}
			if comma == hi {
				return nil, "No comma after closing bracket in '" + truncate(s[lo:hi], 200) + "'"
			}
		}
		res = append(res, trimSpan(s, lo, comma))
		lo = comma + 1
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// trimSpan trims leading whitespace (folly::ltrimWhitespace: space, tab,
// CR, LF) and trailing unescaped whitespace (isspace).
func trimSpan(s string, lo, hi int) span {
	for lo < hi && (s[lo] == ' ' || s[lo] == '\t' || s[lo] == '\n' || s[lo] == '\r') {
		lo++
	}
	for hi > lo && isSpace(s[hi-1]) {
		n := 0
		for j := hi - 2; j >= lo && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			break // escaped whitespace
		}
		hi--
	}
	return span{lo, hi}
}

// callString calls m with the string arguments args (unexpanded).
func (e *expander) callString(m *macro, args []*Value, pos Pos, sc *scope) (*Value, error) {
	if len(args) < m.min {
		return nil, errorf(pos, "Too few arguments for macro %s. Expected at least %d got %d", m.name, m.min, len(args))
	}
	if len(args) > m.max {
		return nil, errorf(pos, "Too many arguments for macro %s. Expected at most %d got %d", m.name, m.max, len(args))
	}
	ms := newScope(sc, true, len(m.params))
	for i, a := range args {
		p := m.params[i]
		st, val := bRaw, a
		if !m.lazy {
			x, err := e.expandString(a, sc)
			if err != nil {
				return nil, err
			}
			st, val = bExpanded, x
		}
		if _, err := ms.bind(p.name, st, val, a.Pos); err != nil {
			return nil, err
		}
	}
	for _, p := range m.params[len(args):] {
		if p.def != nil && p.def.Kind != Null {
			if _, err := ms.bind(p.name, bExpanded, p.def, pos); err != nil {
				return nil, err
			}
		}
	}
	return e.invoke(m, ms, pos)
}

// callObject calls m with the arguments given as members of an object.
func (e *expander) callObject(m *macro, members []*Member, pos Pos, sc *scope) (*Value, error) {
	ms := newScope(sc, true, len(m.params))
	for _, p := range m.params {
		mm := findMember(members, p.name)
		if mm == nil {
			if p.required {
				return nil, errorf(pos, "Macro call %s: '%s' parameter not found", m.name, p.name)
			}
			if p.def != nil && p.def.Kind != Null {
				if _, err := ms.bind(p.name, bExpanded, p.def, pos); err != nil {
					return nil, err
				}
			}
			continue
		}
		st, val := bRaw, mm.Value
		if !m.lazy {
			x, err := e.expand(mm.Value, sc)
			if err != nil {
				return nil, err
			}
			st, val = bExpanded, x
		}
		if _, err := ms.bind(p.name, st, val, mm.KeyPos); err != nil {
			return nil, err
		}
	}
	return e.invoke(m, ms, pos)
}

func (e *expander) invoke(m *macro, ms *scope, pos Pos) (*Value, error) {
	if m.fn != nil {
		return m.fn(&call{e: e, sc: ms, pos: pos, name: m.name})
	}
	return e.expand(m.body, ms)
}

// parseMacroDefs parses the "macros" member: an object of definitions or an
// array of such objects (or arrays), expanded first.
func (e *expander) parseMacroDefs(v *Value) error {
	mv, err := e.expand(v, &scope{base: true})
	if err != nil {
		return err
	}
	switch mv.Kind {
	case Object:
		for _, m := range mv.Obj {
			if err := e.parseMacroDef(m); err != nil {
				return err
			}
		}
		return nil
	case Array:
		for _, x := range mv.Arr {
			if err := e.parseMacroDefs(x); err != nil {
				return err
			}
		}
		return nil
	}
	return errorf(mv.Pos, "config macros is %s, expected array/object", mv.Kind)
}

func (e *expander) parseMacroDef(m *Member) error {
	key, def := m.Key, m.Value
	if def.Kind != Object {
		return errorf(def.Pos, "'%s' macro definition is %s, expected object", key, def.Kind)
	}
	t := def.Get("type")
	if t == nil {
		return errorf(def.Pos, "macro definition '%s': 'type' not found", key)
	}
	if t.Kind != String {
		return errorf(t.Pos, "macro definition '%s': type is %s, string expected", key, t.Kind)
	}
	switch t.Str {
	case "macroDef":
		res := def.Get("result")
		if res == nil {
			return errorf(def.Pos, "macroDef '%s': 'result' not found", key)
		}
		var params []*Value
		if pv := def.Get("params"); pv != nil {
			if pv.Kind != Array {
				return errorf(pv.Pos, "'%s' macroDef params is %s, expected array", key, pv.Kind)
			}
			params = pv.Arr
		}
		mac, err := newMacro(key, params)
		if err != nil {
			return err
		}
		mac.pos = m.KeyPos
		mac.body = res
		e.macros[key] = mac
	case "constDef":
		res := def.Get("result")
		if res == nil {
			return errorf(def.Pos, "constDef '%s': 'result' not found", key)
		}
		e.consts[key] = &constEntry{name: key, pos: m.KeyPos, raw: res}
	default:
		return errorf(t.Pos, "Unknown macro definition type: %s", t.Str)
	}
	return nil
}

// newMacro validates a parameter list, given as in a macroDef.
func newMacro(name string, params []*Value) (*macro, error) {
	m := &macro{name: name, min: len(params), max: len(params)}
	needOptional := false
	for _, p := range params {
		hasOptional := false
		switch p.Kind {
		case String:
			m.params = append(m.params, param{name: p.Str, required: true})
		case Object:
			nv := p.Get("name")
			if nv == nil {
				return nil, errorf(p.Pos, "Macro param object: 'name' not found")
			}
			if nv.Kind != String {
				return nil, errorf(nv.Pos, "Macro param object name is %s, string expected", nv.Kind)
			}
			opt := p.Get("optional")
			if opt != nil && opt.Kind != Bool {
				return nil, errorf(opt.Pos, "Incorrect definition for parameter '%s' in macro '%s'. "+
					"Expected optional parameter 'optional' to be boolean, but got %s!", nv.Str, name, opt.Kind)
			}
			if def := p.Get("default"); def != nil {
				if opt != nil && !opt.Bool {
					return nil, errorf(p.Pos, "Conflicting options provided for parameter '%s' in macro '%s'. "+
						"Default was set, but the parameter is also explicitly marked as not optional.", nv.Str, name)
				}
				hasOptional = true
				m.min--
				m.params = append(m.params, param{name: nv.Str, def: def})
			} else if opt != nil && opt.Bool {
				hasOptional = true
				m.min--
				m.params = append(m.params, param{name: nv.Str})
			} else {
				m.params = append(m.params, param{name: nv.Str, required: true})
			}
		default:
			return nil, errorf(p.Pos, "Macro param is %s, expected string/object", p.Kind)
		}
		if needOptional && !hasOptional {
			return nil, errorf(p.Pos, "Incorrect defaults/optionals in macro %s. All params after "+
				"optional/default one should also be optional or have default value", name)
		}
		needOptional = needOptional || hasOptional
	}
	return m, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [24]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
