package compiler

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/suggest"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Rule identifiers of the diagnostics the compiler reports itself; the
// others are those of mcrouterjson.Decode (unknown-field, unknown-pool,
// unknown-route-type, ...).
const (
	// RuleSyntax tags CUE syntax errors.
	RuleSyntax = "cue-syntax"
	// RuleLoad tags problems loading a policy package (no .cue files,
	// several packages, unresolved imports).
	RuleLoad = "cue-load"
	// RuleIncomplete tags values that are not concrete (a type where a
	// value is needed).
	RuleIncomplete = "incomplete-value"
	// RuleUndefinedReference tags references to fields that do not exist.
	RuleUndefinedReference = "undefined-reference"
	// RuleStructuralCycle tags values that contain themselves.
	RuleStructuralCycle = "structural-cycle"
	// RuleRedefinition tags a policy defining a name of the policy
	// language (#Route, #Pool, ...).
	RuleRedefinition = "schema-redefinition"
	// RuleDiscovery tags pools whose servers are found through DNS, which
	// mcrouter JSON cannot express.
	RuleDiscovery = "discovery-not-in-mcrouter-json"
	// RuleInternal tags failures of the CUE evaluator itself.
	RuleInternal = "internal-error"
)

// cueError is one CUE error with its path converted to a config path.
type cueError struct {
	segs []seg
	path string
	// tail is the first definition or hidden label below path ("#pools"),
	// when the error is inside one; full is the whole path, tail and what
	// follows it included ("route.#read_ops[1]").
	tail   string
	full   string
	format string
	args   []any
	msg    string
	pos    []token.Pos
}

// splitCUEPathFull converts a CUE error path ("#Policy", "routes",
// "\"/a/b/\"", "children", "0", "#pools") into config path steps and the
// definition or hidden label the path goes into, if any, and returns the
// whole path in config path syntax, definitions included. It returns false
// for paths inside the schema's own definitions.
func splitCUEPathFull(p []string) (segs []seg, tail, full string, ok bool) {
	for i, s := range p {
		if strings.HasPrefix(s, "#") || strings.HasPrefix(s, "_") {
			if i == 0 && s != "#Policy" {
				return nil, "", "", false
			}
			if i > 0 {
				segs, tail, ok = splitCUEPathOnly(p)
				full = formatPath(segs)
				for _, r := range p[i:] {
					if n, err := strconv.Atoi(r); err == nil && r[0] >= '0' && r[0] <= '9' {
						full = joinIndex(full, n)
					} else if full == "" {
						full = r
					} else {
						full += "." + strings.Trim(r, `"`)
					}
				}
				return segs, tail, full, ok
			}
		}
	}
	segs, tail, ok = splitCUEPathOnly(p)
	return segs, tail, formatPath(segs), ok
}

func splitCUEPathOnly(p []string) (segs []seg, tail string, ok bool) {
	for i, s := range p {
		switch {
		case i == 0 && s == "#Policy":
			continue
		case strings.HasPrefix(s, `"`):
			name, err := strconv.Unquote(s)
			if err != nil {
				name = strings.Trim(s, `"`)
			}
			segs = append(segs, seg{name: name})
		case s != "" && s[0] >= '0' && s[0] <= '9':
			n, err := strconv.Atoi(s)
			if err != nil {
				segs = append(segs, seg{name: s})
				continue
			}
			segs = append(segs, seg{index: n, isIdx: true})
		case strings.HasPrefix(s, "#") || strings.HasPrefix(s, "_"):
			if i == 0 {
				return nil, "", false
			}
			return segs, s, true
		default:
			segs = append(segs, seg{name: s})
		}
	}
	return segs, "", true
}

// translator turns CUE errors into diagnostics about the policy.
type translator struct {
	ix   *posIndex
	info *schemaInfo
	// pol is the policy unified with #Policy.
	pol cue.Value
}

func (t *translator) collect(err error) []cueError {
	var out []cueError
	for _, e := range cueerrors.Errors(err) {
		segs, tail, full, ok := splitCUEPathFull(e.Path())
		if !ok {
			continue
		}
		f, a := e.Msg()
		out = append(out, cueError{
			segs: segs, path: formatPath(segs), tail: tail, full: full,
			format: f, args: a, msg: fmt.Sprintf(f, a...),
			pos: cueerrors.Positions(e),
		})
	}
	return out
}

// userPos returns the first position of e in the policy's files, or the
// position of path.
func (t *translator) userPos(e cueError, path string) schema.Pos {
	for _, p := range e.pos {
		if sp := toPos(p); t.ix.isUserPos(sp) {
			return sp
		}
	}
	return t.ix.PosOf(path)
}

func (t *translator) diag(pos schema.Pos, rule, path, format string, args ...any) diag.Diagnostic {
	return diag.Diagnostic{Pos: pos, Severity: diag.Error, Rule: rule, Path: path, Message: fmt.Sprintf(format, args...)}
}

// translation is the result of translating CUE errors.
type translation struct {
	diags diag.List
	// cycles is set when CUE found a structural cycle.
	cycles bool
	// params are the paths of templates missing a parameter.
	params []string
}

// add appends another translation.
func (tr *translation) add(o translation) {
	tr.diags = append(tr.diags, o.diags...)
	tr.cycles = tr.cycles || o.cycles
	tr.params = append(tr.params, o.params...)
}

// dropUnderParams removes the reports about values computed from missing
// template parameters: the missing parameter is the one to report.
func (tr *translation) dropUnderParams() {
	if len(tr.params) == 0 {
		return
	}
	kept := tr.diags[:0]
	for _, d := range tr.diags {
		drop := false
		for _, p := range tr.params {
			if isUnder(d.Path, p) && !(d.Path == p && strings.HasPrefix(d.Message, "missing template parameter")) {
				drop = true
				break
			}
		}
		if !drop {
			kept = append(kept, d)
		}
	}
	tr.diags = kept
}

// translate converts the errors of a failed validation into diagnostics.
func (t *translator) translate(err error) translation {
	var tr translation
	errs := t.collect(err)

	// Template parameters that are missing make everything computed from
	// them incomplete: report the parameter only.
	var params []string
	for _, e := range errs {
		if isParamMissing(e) {
			params = append(params, e.path)
		}
	}
	tr.params = params
	underParam := func(e cueError) bool {
		for _, p := range params {
			if isUnder(e.path, p) && !isParamMissing(e) {
				return true
			}
		}
		return false
	}

	// Disjunction failures come as "N errors in empty disjunction" and one
	// "conflicting values" error per alternative, all at one path.
	disj := map[string]bool{}
	for _, e := range errs {
		if strings.HasSuffix(e.format, "errors in empty disjunction:") {
			disj[e.full] = true
		}
	}
	// Of nested disjunctions, report the innermost.
	for p := range disj {
		for q := range disj {
			if q != p && isUnder(q, p) {
				disj[p] = false
			}
		}
	}
	doneDisj := map[string]bool{}

	for _, e := range errs {
		if underParam(e) {
			continue
		}
		if d, ok := t.specialKey(e); ok {
			tr.diags = append(tr.diags, d)
			continue
		}
		if e.format == "structural cycle" {
			tr.cycles = true
			tr.diags = append(tr.diags, t.diag(t.userPos(e, e.path), RuleStructuralCycle, e.path,
				"%s contains itself (structural cycle)", displayPath(e.path)))
			continue
		}
		if on, isDisj := disj[e.full]; isDisj {
			if on && !doneDisj[e.full] {
				doneDisj[e.full] = true
				tr.diags = append(tr.diags, t.disjunction(e, errs))
			}
			continue
		}
		tr.diags = append(tr.diags, t.one(e))
	}
	return tr
}

// isParamMissing reports whether e says that a template parameter (a
// definition such as #pools) was not given.
func isParamMissing(e cueError) bool {
	switch e.format {
	case "field is required but not present":
		return strings.HasPrefix(e.tail, "#")
	case "required field missing: %s":
		return strings.HasPrefix(fmt.Sprint(e.args...), "#")
	}
	return false
}

func displayPath(p string) string {
	if p == "" {
		return "the policy"
	}
	return p
}

// specialKey reports errors below a key that is itself wrong: an unknown
// operation in operation_policies, an unknown routing group, a malformed
// routing prefix in a routes table, a pool name with "|". Every error below
// such a key becomes one diagnostic about the key.
func (t *translator) specialKey(e cueError) (diag.Diagnostic, bool) {
	for i := 1; i < len(e.segs); i++ {
		k := e.segs[i]
		if k.isIdx || e.segs[i-1].isIdx {
			continue
		}
		parent := e.segs[i-1].name
		p := formatPath(e.segs[:i+1])
		pos := t.ix.PosOf(p)
		switch {
		case parent == "operation_policies" && i >= 2:
			if _, ok := mc.ParseOp(k.name); !ok {
				return t.diag(pos, mcrouterjson.RuleUnknownOperation, p,
					"unknown operation %q in operation_policies%s", k.name, suggest.Hint(k.name, opNames())), true
			}
		case parent == "routing_group_policies" && i >= 2:
			if !contains(mc.GroupNames[1:], k.name) {
				return t.diag(pos, mcrouterjson.RuleUnknownOperation, p,
					"unknown routing group %q%s (want get_like, update_like, delete_like or arithmetic_like)",
					k.name, suggest.Hint(k.name, mc.GroupNames[1:])), true
			}
		case parent == "routes" && i == 1:
			if !mcrouterjson.ValidRoutingPrefix(k.name) {
				return t.diag(pos, mcrouterjson.RuleInvalidPrefix, p,
					"routing prefix %q must have the form /region/cluster/", k.name), true
			}
		case parent == "pools" && i == 1:
			if strings.Contains(k.name, "|") {
				return t.diag(pos, mcrouterjson.RuleInvalidValue, p,
					"pool name %q cannot contain \"|\"", k.name), true
			}
		}
	}
	return diag.Diagnostic{}, false
}

// kindAt returns the route type of the object at path in the policy, if it
// is a known one.
func (t *translator) kindAt(segs []seg) (string, bool) {
	typ, ok := t.ix.stringAt(append(segs[:len(segs):len(segs)], seg{name: "type"}))
	if !ok {
		return "", false
	}
	_, known := t.info.topKinds[typ]
	return typ, known
}

// one translates a single error.
func (t *translator) one(e cueError) diag.Diagnostic {
	p := e.path
	last := ""
	if n := len(e.segs); n > 0 && !e.segs[n-1].isIdx {
		last = e.segs[n-1].name
	}
	parent := e.segs
	if len(parent) > 0 {
		parent = parent[:len(parent)-1]
	}

	switch e.format {
	case "undefined field: %s":
		label := strings.Trim(fmt.Sprint(e.args...), "\"")
		if e.tail == "" {
			if typ, ok := t.ix.stringAt(append(e.segs[:len(e.segs):len(e.segs)], seg{name: "type"})); ok && typ == label {
				return t.unknownType(e, typ)
			}
			if len(e.segs) == 3 && e.segs[0].name == "pools" && last == label {
				return t.diag(t.ix.PosOf(p), mcrouterjson.RuleUnknownField, p,
					"unknown pool field %q%s", label, suggest.Hint(label, t.info.poolFields))
			}
		}
		pos := t.userPos(e, p)
		if name, ok := t.ix.refs[pos]; ok && name == label {
			return t.diag(pos, mcrouterjson.RuleUnknownHandle, p,
				"unknown named handle %q%s", label, suggest.Hint(label, t.ix.handleNames()))
		}
		return t.diag(pos, RuleUndefinedReference, p, "%s: reference to undefined field %q", displayPath(p), label)

	case "field not allowed":
		// A field inside a route whose type is unknown: report the type.
		if len(parent) > 0 {
			if typ, ok := t.ix.stringAt(append(parent[:len(parent):len(parent)], seg{name: "type"})); ok {
				if _, known := t.info.topKinds[typ]; !known {
					return t.unknownType(cueError{segs: parent, path: formatPath(parent)}, typ)
				}
			}
		}
		// A field inside an unknown top-level key: report the key.
		if len(e.segs) > 1 && !e.segs[0].isIdx && !contains(t.info.policyFields, e.segs[0].name) {
			k := e.segs[0].name
			return t.diag(t.ix.PosOf(k), mcrouterjson.RuleUnknownTopLevel, k,
				"unknown top-level key %q%s", k, suggest.Hint(k, t.info.policyFields))
		}
		if len(e.segs) == 1 {
			return t.diag(t.userPos(e, p), mcrouterjson.RuleUnknownTopLevel, p,
				"unknown top-level key %q%s", last, suggest.Hint(last, t.info.policyFields))
		}
		if typ, ok := t.kindAt(parent); ok {
			fields := t.info.topKinds[typ]
			if info, known := schema.LookupKind(typ); known && contains(info.Fields, last) {
				return t.diag(t.userPos(e, p), mcrouterjson.RuleUnknownField, p,
					"field %q of %s is not supported in mcroute policies", last, typ)
			}
			return t.diag(t.userPos(e, p), mcrouterjson.RuleUnknownField, p,
				"unknown field %q for %s%s", last, typ, suggest.Hint(last, fields))
		}
		return t.diag(t.userPos(e, p), mcrouterjson.RuleUnknownField, p,
			"unknown field %q%s", last, suggest.Hint(last, t.allowedFields(parent, last)))

	case "field is required but not present":
		if strings.HasPrefix(e.tail, "#") {
			return t.diag(t.ix.PosOf(p), mcrouterjson.RuleRequiredField, p,
				"missing template parameter %s", e.tail)
		}
		return t.required(parent, last)

	case "required field missing: %s":
		label := fmt.Sprint(e.args...)
		if strings.HasPrefix(label, "#") {
			return t.diag(t.ix.PosOf(p), mcrouterjson.RuleRequiredField, p,
				"missing template parameter %s", label)
		}
		return t.required(e.segs, label)

	case "incomplete value %v", "non-concrete value '%v'", "non-concrete value %s (type %s)":
		return t.diag(t.ix.PosOf(p), RuleIncomplete, p, "%s is not concrete: give it a value", displayPath(p))

	case "invalid value %v (out of bound %s)":
		return t.outOfBound(e)

	case "incompatible list lengths (%d and %d)":
		if v := t.ix.value(e.segs); v.Exists() {
			if n, err := v.Len().Int64(); err == nil && n == 0 {
				return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "%s must not be empty", p)
			}
		}
		return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "%s: wrong number of elements (%s)", p,
			strings.TrimPrefix(e.msg, "incompatible list lengths "))

	case "conflicting values %s and %s (mismatched types %s and %s)", "conflicting values %s and %s":
		user := t.userText(e.segs)
		a, b := fmt.Sprint(e.args[0]), fmt.Sprint(e.args[1])
		switch user {
		case a:
			return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "%s: invalid value %s (want %s)", p, a, b)
		case b:
			return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "%s: invalid value %s (want %s)", p, b, a)
		}
	}
	if strings.HasPrefix(e.tail, "_") {
		// A check of the schema written as error("...").
		return t.diag(t.ix.PosOf(p), mcrouterjson.RuleInvalidValue, p, "%s: %s", displayPath(p), e.msg)
	}
	return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "%s: %s", displayPath(e.full), e.msg)
}

// unknownType reports a route whose type is not a key of #Kinds.
func (t *translator) unknownType(e cueError, typ string) diag.Diagnostic {
	p := e.path
	pos := t.ix.PosOf(joinKey(p, "type"))
	if _, top := t.info.topKinds[typ]; top {
		return t.diag(pos, mcrouterjson.RulePrefixSelectorNotOn, p,
			"%s is only valid as the whole value of route or of a routes entry (mcrouter: Unknown RouteHandle)", typ)
	}
	if info, ok := schema.LookupKind(typ); ok {
		what := "mcroute does not execute it"
		if info.Removed {
			what = "current mcrouter no longer accepts it"
		} else if info.Internal {
			what = "it is Facebook-internal"
		}
		return t.diag(pos, mcrouterjson.RuleUnknownType, p,
			"route type %q is not available in mcroute policies: %s (%s)", typ, what, info.Doc)
	}
	return t.diag(pos, mcrouterjson.RuleUnknownType, p, "unknown route type %q%s", typ, suggest.Hint(typ, t.info.kindNames))
}

// required reports a required field missing from the object at segs.
func (t *translator) required(segs []seg, field string) diag.Diagnostic {
	p := formatPath(segs)
	pos := t.ix.PosOf(p)
	if field == "type" {
		return t.diag(pos, mcrouterjson.RuleRequiredField, p, "route object needs a \"type\"")
	}
	if typ, ok := t.kindAt(segs); ok {
		return t.diag(pos, mcrouterjson.RuleRequiredField, p, "%s needs %q", typ, field)
	}
	if len(segs) == 2 && segs[0].name == "routes" {
		return t.diag(pos, mcrouterjson.RuleRequiredField, p, "routes entry needs %q", field)
	}
	return t.diag(pos, mcrouterjson.RuleRequiredField, p, "%s needs %q", displayPath(p), field)
}

// allowedFields lists the fields the schema allows at segs, except bad.
func (t *translator) allowedFields(segs []seg, bad string) []string {
	v := t.pol.LookupPath(cuePath(segs))
	if !v.Exists() {
		return nil
	}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var out []string
	for it.Next() {
		if n := selName(it.Selector()); n != bad {
			out = append(out, n)
		}
	}
	return out
}

// userText returns the policy's own value at segs as CUE text, or "".
func (t *translator) userText(segs []seg) string {
	v := t.ix.value(segs)
	if !v.Exists() || !v.IsConcrete() || v.Err() != nil {
		return ""
	}
	switch v.Kind() {
	case cue.StructKind, cue.ListKind:
		return ""
	}
	return fmt.Sprint(v)
}

var (
	rangeRE   = regexp.MustCompile(`^(int|number|float) & >=(-?[0-9.]+) & <=(-?[0-9.]+)$`)
	atLeastRE = regexp.MustCompile(`^(int|number|float) & >=(-?[0-9.]+)$`)
)

// outOfBound reports a value outside its bounds.
func (t *translator) outOfBound(e cueError) diag.Diagnostic {
	p := e.path
	val := fmt.Sprint(e.args[0])
	bound := fmt.Sprint(e.args[1])
	str, isStr := strconv.Unquote(val)
	n := len(e.segs)
	switch {
	case isStr == nil && n == 4 && e.segs[0].name == "pools" && e.segs[2].name == "servers" && e.segs[3].isIdx:
		msg := fmt.Sprintf("invalid server %q: want host:port, [ipv6]:port or unix:PATH, optionally followed by :protocol", str)
		if _, err := schema.ParseAddr(str); err != nil {
			msg = err.Error()
		}
		return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidServer, p, "%s", msg)
	case isStr == nil && strings.HasPrefix(bound, `=~"^/[^/]+/[^/]+/$"`):
		return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidPrefix, p,
			"routing prefix %q must have the form /region/cluster/", str)
	case isStr == nil && strings.HasPrefix(bound, `=~"^[^|]+$"`):
		return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "pool name %q cannot contain \"|\"", str)
	}
	want := "out of bound " + bound
	if c := t.declared(e); c != "" {
		switch {
		case rangeRE.MatchString(c):
			m := rangeRE.FindStringSubmatch(c)
			want = fmt.Sprintf("want %s from %s to %s", numWord(m[1]), m[2], m[3])
		case atLeastRE.MatchString(c):
			m := atLeastRE.FindStringSubmatch(c)
			want = fmt.Sprintf("want %s >= %s", numWord(m[1]), m[2])
		}
	}
	return t.diag(t.userPos(e, p), mcrouterjson.RuleInvalidValue, p, "%s: invalid value %s (%s)", p, val, want)
}

func numWord(kind string) string {
	if kind == "int" {
		return "an integer"
	}
	return "a number"
}

var declRE = regexp.MustCompile(`^\s*"?([A-Za-z0-9_]+)"?[?!]?:\s*(.*?)\s*$`)

// declared returns the schema's declaration of the field an error is about
// ("int & >=1 & <=1000000"), read from the schema line the error points
// at, or "".
func (t *translator) declared(e cueError) string {
	last := ""
	for i := len(e.segs) - 1; i >= 0; i-- {
		if !e.segs[i].isIdx {
			last = e.segs[i].name
			break
		}
	}
	for _, p := range e.pos {
		sp := toPos(p)
		if !t.ix.isSchema(sp.File) {
			continue
		}
		line, ok := t.info.line(sp)
		if !ok {
			continue
		}
		if m := declRE.FindStringSubmatch(line); m != nil && m[1] == last {
			c := m[2]
			c = strings.TrimPrefix(c, "[...")
			c = strings.TrimSuffix(c, "]")
			return c
		}
	}
	return ""
}

// disjunction reports a value that matches none of the alternatives of a
// disjunction (typically an enum of strings).
func (t *translator) disjunction(de cueError, errs []cueError) diag.Diagnostic {
	var first *cueError
	path := de.path
	user := ""
	if de.tail == "" {
		user = t.userText(de.segs)
	}
	var alts []string
	seen := map[string]bool{}
	for i := range errs {
		e := &errs[i]
		if e.full != de.full {
			continue
		}
		if user == "" && e.tail != "" && strings.HasPrefix(e.format, "conflicting values") && len(e.args) == 2 {
			// In a definition the policy's own value is not at hand:
			// it is the side that is the same in every conflict.
			user = commonSide(de.full, errs)
		}
		if first == nil && len(e.pos) > 0 {
			first = e
		}
		if !strings.HasPrefix(e.format, "conflicting values") || len(e.args) < 2 {
			continue
		}
		a, b := fmt.Sprint(e.args[0]), fmt.Sprint(e.args[1])
		alt := a
		if a == user {
			alt = b
		}
		if !seen[alt] {
			seen[alt] = true
			alts = append(alts, alt)
		}
	}
	pos := t.ix.PosOf(path)
	if first != nil {
		pos = t.userPos(*first, path)
	}
	if user == "" || len(alts) == 0 {
		return t.diag(pos, mcrouterjson.RuleInvalidValue, path, "%s: invalid value (it matches none of the allowed forms)", displayPath(de.full))
	}
	sort.Strings(alts)
	var names []string
	allStrings := true
	for _, a := range alts {
		s, err := strconv.Unquote(a)
		if err != nil {
			allStrings = false
			break
		}
		names = append(names, s)
	}
	hint := ""
	if s, err := strconv.Unquote(user); err == nil && allStrings {
		hint = suggest.Hint(s, names)
	}
	return t.diag(pos, mcrouterjson.RuleInvalidValue, path, "%s: invalid value %s%s (want one of %s)",
		displayPath(de.full), user, hint, strings.Join(alts, ", "))
}

// commonSide returns the value that appears in every "conflicting values"
// error at full: the one the policy gave.
func commonSide(full string, errs []cueError) string {
	count := map[string]int{}
	n := 0
	for _, e := range errs {
		if e.full != full || !strings.HasPrefix(e.format, "conflicting values") || len(e.args) < 2 {
			continue
		}
		n++
		a, b := fmt.Sprint(e.args[0]), fmt.Sprint(e.args[1])
		count[a]++
		if b != a {
			count[b]++
		}
	}
	for v, c := range count {
		if c == n && n > 1 {
			return v
		}
	}
	return ""
}

func opNames() []string {
	out := make([]string, 0, len(mc.RoutableOps))
	for _, o := range mc.RoutableOps {
		out = append(out, o.String())
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
