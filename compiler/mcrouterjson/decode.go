// Package mcrouterjson converts between mcrouter's JSON config format and the
// route graph (schema.Config): Decode reads a parsed, macro-expanded config
// exactly as mcrouter's route-handle factory does (short forms, named
// handles, `routes` tables, inline pools), and Marshal writes a Config back
// as deterministic mcrouter JSON. Load wraps the whole pipeline for files:
// JSONC parsing, the JSONM preprocessor, and Decode.
package mcrouterjson

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/suggest"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Dialect selects the input language Decode reads.
type Dialect uint8

const (
	// MCRouter is mcrouter's own JSON: unknown fields are warnings (mcrouter
	// ignores them), short forms and bare handle names are accepted.
	MCRouter Dialect = iota
	// Policy is the JSON exported from a CUE policy: the same shapes, plus
	// mcroute's extensions ({"type":"Pool","pool":"A"}, pool discovery), and
	// unknown fields are errors.
	Policy
)

// DecodeOptions configures Decode. The zero value reads mcrouter JSON and
// takes positions from the JSON values.
type DecodeOptions struct {
	Dialect Dialect
	// PosOf, if set, maps a config path ("pools.A.servers[1]",
	// "route.children[0]") to a source position, overriding the JSON
	// values' own positions. The CUE compiler uses it to point at the
	// user's .cue files.
	PosOf func(path string) schema.Pos
	// RoutePrefix is the default routing prefix the config will be used
	// with (mcrouter's -R). When empty, a `routes` table without
	// "/././" is only a warning, since mcrouter may be run with -R.
	RoutePrefix string
}

// Rule identifiers reported by Decode.
const (
	RuleInvalidConfig       = "invalid-config"
	RuleMissingRoute        = "missing-route"
	RuleRoutesDefault       = "routes-missing-default-prefix"
	RuleInvalidPrefix       = "invalid-routing-prefix"
	RuleUnknownTopLevel     = "unknown-top-level-key"
	RuleUnknownPool         = "unknown-pool"
	RuleUnknownType         = "unknown-route-type"
	RuleUnknownHandle       = "unknown-named-handle"
	RuleMissingPoolPrefix   = "missing-pool-prefix"
	RuleUnknownField        = "unknown-field"
	RuleInvalidValue        = "invalid-value"
	RuleRequiredField       = "required-field"
	RuleInvalidServer       = "invalid-server"
	RuleShortForm           = "short-form-unsupported"
	RuleHandleCycle         = "named-handle-cycle"
	RuleInheritCycle        = "pool-inherit-cycle"
	RuleUnknownOperation    = "unknown-operation"
	RulePrefixSelectorNotOn = "prefix-selector-not-top"
	RuleInternalType        = "internal-route-type"
	RuleRemovedType         = "removed-route-type"
	RuleDuplicateHandle     = "duplicate-named-handle"
	RuleDuplicatePool       = "duplicate-pool"
	RuleIgnoredPoolField    = "pool-field-ignored"
	RulePoolListOne         = "pool-list-not-single"
	RuleDuplicateKey        = "duplicate-key"
)

// Decode builds the route graph of a macro-expanded mcrouter config (or of
// a CUE policy's JSON export, with Dialect Policy). It returns the Config
// (nil if the root is not an object) and every problem found, positioned:
// errors are what mcrouter would reject, warnings what it silently ignores.
func Decode(root *jsonm.Value, opts DecodeOptions) (*schema.Config, diag.List) {
	d := &decoder{
		opts:      opts,
		cfg:       &schema.Config{Pools: map[string]*schema.Pool{}, NamedHandles: map[string]schema.Route{}},
		known:     map[string]bool{},
		poolJSON:  map[string]*jsonm.Value{},
		poolState: map[string]uint8{},
		handleSrc: map[string]*jsonm.Value{},
		memo:      map[string]schema.Route{},
	}
	d.decodeRoot(root)
	if d.cfg == nil {
		return nil, d.diags
	}
	d.checkCycles()
	d.diags.Sort()
	return d.cfg, d.diags
}

type decoder struct {
	root  *jsonm.Value
	opts  DecodeOptions
	cfg   *schema.Config
	diags diag.List
	// known holds every named handle name: registered in named_handles or
	// defined by an earlier object with a "name".
	known map[string]bool
	// poolJSON holds the raw pool objects by name, for inherit and for
	// PoolRoute references.
	poolJSON  map[string]*jsonm.Value
	poolState map[string]uint8 // 0 undecoded, 1 decoding, 2 done
	// handleJSON holds object-form named_handles entries not yet built.
	handleJSON map[string]*jsonm.Value
	handlePath map[string]string
	// handleSrc is the JSON of each handle defined by an object with a
	// name, to tell a repeated definition from a conflicting one.
	handleSrc map[string]*jsonm.Value
	// memo holds the route each string decoded to.
	memo map[string]schema.Route
}

func (d *decoder) pos(path string, v *jsonm.Value) schema.Pos {
	if d.opts.PosOf != nil {
		if p := d.opts.PosOf(path); p.IsValid() {
			return p
		}
	}
	if v == nil {
		return schema.Pos{}
	}
	return schema.Pos{File: v.Pos.File, Line: v.Pos.Line, Col: v.Pos.Col}
}

func (d *decoder) keyPos(path string, m *jsonm.Member) schema.Pos {
	if d.opts.PosOf != nil {
		if p := d.opts.PosOf(path); p.IsValid() {
			return p
		}
	}
	return schema.Pos{File: m.KeyPos.File, Line: m.KeyPos.Line, Col: m.KeyPos.Col}
}

func (d *decoder) errorf(path string, v *jsonm.Value, rule, format string, args ...any) {
	d.diags = append(d.diags, diag.Diagnostic{Pos: d.pos(path, v), Severity: diag.Error, Rule: rule, Message: fmt.Sprintf(format, args...), Path: path})
}

func (d *decoder) warnf(path string, v *jsonm.Value, rule, format string, args ...any) {
	d.diags = append(d.diags, diag.Diagnostic{Pos: d.pos(path, v), Severity: diag.Warning, Rule: rule, Message: fmt.Sprintf(format, args...), Path: path})
}

func join(path, key string) string { return JoinPath(path, key) }

func index(path string, i int) string { return IndexPath(path, i) }

// JoinPath appends key to a config path the way Decode writes the paths of
// its diagnostics and of schema.Pos: keys joined with ".", and keys that
// are not identifiers quoted in brackets (routes["/a/b/"]).
func JoinPath(path, key string) string {
	if path == "" {
		return key
	}
	if needsQuote(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	return path + "." + key
}

// IndexPath appends a list index to a config path (pools.A.servers[1]).
func IndexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// needsQuote reports whether JoinPath writes key in brackets.
func needsQuote(key string) bool {
	if key == "" {
		return true
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return true
		}
	}
	return false
}

var topLevelKeys = []string{"pools", "named_handles", "route", "routes", "routing_options"}

func (d *decoder) decodeRoot(root *jsonm.Value) {
	if root == nil || root.Kind != jsonm.Object {
		d.errorf("", root, RuleInvalidConfig, "config root must be a JSON object")
		d.cfg = nil
		return
	}
	d.root = root
	d.cfg.Pos = d.pos("", root)
	d.duplicates("", root)
	for _, m := range root.Obj {
		switch m.Key {
		case "pools", "named_handles", "route", "routes", "routing_options":
		case "macros":
			if d.opts.Dialect == Policy {
				d.errorf(m.Key, m.Value, RuleUnknownTopLevel, "unknown top-level key %q", m.Key)
			}
		default:
			if d.opts.Dialect == Policy {
				d.errorf(m.Key, m.Value, RuleUnknownTopLevel, "unknown top-level key %q%s", m.Key, suggest.Hint(m.Key, topLevelKeys))
			} else {
				d.warnf(m.Key, m.Value, RuleUnknownTopLevel, "unknown top-level key %q is ignored by mcrouter%s", m.Key, suggest.Hint(m.Key, topLevelKeys))
			}
		}
	}
	if p := root.Get("pools"); p != nil {
		if p.Kind != jsonm.Object {
			d.errorf("pools", p, RuleInvalidValue, "pools must be an object of pool name to pool, not %s", p.Kind)
		} else {
			d.duplicates("pools", p)
			for _, m := range p.Obj {
				d.poolJSON[m.Key] = m.Value
			}
			for _, m := range p.Obj {
				d.decodePool(m.Key)
			}
		}
	}
	if o := root.Get("routing_options"); o != nil {
		if o.Kind != jsonm.Object {
			d.errorf("routing_options", o, RuleInvalidValue, "routing_options must be an object, not %s", o.Kind)
		} else if a, ok := o.ToAny().(map[string]any); ok {
			d.cfg.RoutingOptions = a
		}
	}
	if nh := root.Get("named_handles"); nh != nil {
		d.decodeNamedHandles(nh)
	}
	route, routes := root.Get("route"), root.Get("routes")
	switch {
	case route != nil && routes != nil:
		d.errorf("routes", routes, RuleMissingRoute, "both 'route' and 'routes' are specified; use one")
	case route != nil:
		d.cfg.Route = d.topRoute("route", route)
	case routes != nil:
		d.decodeRoutes(routes)
	default:
		d.errorf("", root, RuleMissingRoute, "no route or routes in config")
	}
	// Object-form named handles that nothing referenced are still
	// decoded, so that their problems are reported and they survive a
	// round trip.
	for _, name := range sortedNames(d.handleJSON) {
		d.buildHandle(name)
	}
}

func (d *decoder) duplicates(path string, v *jsonm.Value) {
	for _, m := range v.Duplicates {
		d.diags = append(d.diags, diag.Diagnostic{Pos: d.keyPos(join(path, m.Key), m), Severity: diag.Warning, Rule: RuleDuplicateKey,
			Message: fmt.Sprintf("key %q appears more than once; the last one wins", m.Key), Path: join(path, m.Key)})
	}
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ValidRoutingPrefix reports whether p has the form /region/cluster/ with
// non-empty parts (a "*" part is a pattern, valid in keys but not here).
func ValidRoutingPrefix(p string) bool {
	if len(p) < 5 || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	parts := strings.Split(p[1:len(p)-1], "/")
	return len(parts) == 2 && parts[0] != "" && parts[1] != ""
}

func (d *decoder) decodeRoutes(v *jsonm.Value) {
	seen := map[string]bool{}
	addAlias := func(path string, av *jsonm.Value, alias string, e *schema.RouteEntry) {
		if !ValidRoutingPrefix(alias) {
			d.errorf(path, av, RuleInvalidPrefix, "routing prefix %q must have the form /region/cluster/", alias)
		}
		if seen[alias] {
			d.errorf(path, av, RuleInvalidPrefix, "routing prefix %q is given more than once", alias)
		}
		seen[alias] = true
		e.Aliases = append(e.Aliases, alias)
	}
	switch v.Kind {
	case jsonm.Array:
		for i, ev := range v.Arr {
			p := index("routes", i)
			if ev.Kind != jsonm.Object {
				d.errorf(p, ev, RuleInvalidValue, "routes entries must be objects {\"aliases\": [...], \"route\": ...}, not %s", ev.Kind)
				continue
			}
			e := &schema.RouteEntry{Pos: d.pos(p, ev)}
			al, rt := ev.Get("aliases"), ev.Get("route")
			for _, m := range ev.Obj {
				if m.Key != "aliases" && m.Key != "route" {
					d.warnf(join(p, m.Key), m.Value, RuleUnknownField, "unknown field %q in routes entry (want aliases, route)", m.Key)
				}
			}
			if al == nil {
				d.errorf(p, ev, RuleRequiredField, "routes entry needs \"aliases\"")
			} else if al.Kind != jsonm.Array {
				d.errorf(join(p, "aliases"), al, RuleInvalidValue, "aliases must be a list of routing prefixes")
			} else {
				for j, a := range al.Arr {
					ap := index(join(p, "aliases"), j)
					if a.Kind != jsonm.String {
						d.errorf(ap, a, RuleInvalidValue, "alias must be a string, not %s", a.Kind)
						continue
					}
					addAlias(ap, a, a.Str, e)
				}
			}
			if rt == nil {
				d.errorf(p, ev, RuleRequiredField, "routes entry needs \"route\"")
			} else {
				e.Route = d.topRoute(join(p, "route"), rt)
			}
			d.cfg.Routes = append(d.cfg.Routes, e)
		}
	case jsonm.Object:
		d.duplicates("routes", v)
		for _, m := range v.Obj {
			p := join("routes", m.Key)
			e := &schema.RouteEntry{Pos: d.keyPos(p, m)}
			addAlias(p, m.Value, m.Key, e)
			e.Route = d.topRoute(p, m.Value)
			d.cfg.Routes = append(d.cfg.Routes, e)
		}
	default:
		d.errorf("routes", v, RuleInvalidValue, "routes must be a list of {aliases, route} or an object of prefix to route, not %s", v.Kind)
		return
	}
	def := d.opts.RoutePrefix
	if len(d.cfg.Routes) > 0 && !seen[def] && def == "" && !seen[schema.DefaultRoutePrefix] {
		var aliases []string
		for _, e := range d.cfg.Routes {
			aliases = append(aliases, e.Aliases...)
		}
		d.warnf("routes", v, RuleRoutesDefault, "routes has no entry for the default routing prefix %q: mcrouter refuses this config (invalid default route) unless it runs with -R set to one of %s", schema.DefaultRoutePrefix, strings.Join(aliases, ", "))
	} else if len(d.cfg.Routes) > 0 && def != "" && !seen[def] {
		d.errorf("routes", v, RuleRoutesDefault, "routes has no entry for the routing prefix %q this config is used with (mcrouter: invalid default route)", def)
	}
}

// topRoute decodes the value of `route` or a `routes` entry, where (and only
// where) PrefixSelectorRoute is allowed.
func (d *decoder) topRoute(path string, v *jsonm.Value) schema.Route {
	if v.Kind == jsonm.Object && v.Get("name") == nil {
		if t := v.Get("type"); t != nil && t.Kind == jsonm.String && t.Str == "PrefixSelectorRoute" {
			return d.prefixSelector(path, v)
		}
	}
	return d.one(path, v)
}

func (d *decoder) decodeNamedHandles(v *jsonm.Value) {
	switch v.Kind {
	case jsonm.Array:
		// Built eagerly, in order, as mcrouter does.
		for i, ev := range v.Arr {
			p := index("named_handles", i)
			if ev.Kind == jsonm.Object {
				if n := ev.Get("name"); n == nil || n.Kind != jsonm.String {
					d.warnf(p, ev, RuleRequiredField, "named_handles entry without a \"name\" can never be referenced")
				}
			}
			d.list(p, ev)
		}
	case jsonm.Object:
		d.duplicates("named_handles", v)
		d.handleJSON = map[string]*jsonm.Value{}
		d.handlePath = map[string]string{}
		for _, m := range v.Obj {
			p := join("named_handles", m.Key)
			if m.Value.Kind == jsonm.Object {
				if n := m.Value.Get("name"); n != nil && (n.Kind != jsonm.String || n.Str != m.Key) {
					d.errorf(join(p, "name"), n, RuleInvalidValue, "named handle %q has a different name %s (mcrouter: Ambiguous RouteHandle name)", m.Key, n.String())
				}
			}
			d.known[m.Key] = true
			d.handleJSON[m.Key] = m.Value
			d.handlePath[m.Key] = p
		}
	default:
		d.errorf("named_handles", v, RuleInvalidValue, "named_handles must be a list of named routes or an object of name to route, not %s", v.Kind)
	}
}

// buildHandle decodes an object-form named handle on first use.
func (d *decoder) buildHandle(name string) {
	v, ok := d.handleJSON[name]
	if !ok {
		return
	}
	delete(d.handleJSON, name)
	p := d.handlePath[name]
	d.handleSrc[name] = v
	var r schema.Route
	if v.Kind == jsonm.Object {
		r = d.object(p, v, name)
	} else {
		// A named handle stands for a list, like any route string: "Pool|A"
		// is all of A's servers.
		rs := d.list(p, v)
		switch len(rs) {
		case 0:
			return
		case 1:
			r = rs[0]
		default:
			d.errorf(p, v, RuleInvalidValue, "named handle %q is a list of %d routes; mcroute supports named handles of one route (or one Pool)", name, len(rs))
			return
		}
	}
	if r == nil {
		return
	}
	if ref, isRef := r.(*schema.Ref); isRef {
		// "x": "other": x's definition points at other.
		if ref.Target == name {
			d.errorf(p, v, RuleHandleCycle, "named handle %q refers to itself", name)
			return
		}
		d.cfg.NamedHandles[name] = r
		return
	}
	if d.memoised(r) {
		// "x": "PoolRoute|A": the route of a string is shared by every
		// use of the string, unnamed (or named otherwise): x gets its
		// own copy, so that naming it does not name those uses.
		r = cloneRoute(r)
	}
	r.Meta().Name = name
	d.cfg.NamedHandles[name] = r
}

// memoised reports whether r is the route of a string, shared by its uses.
func (d *decoder) memoised(r schema.Route) bool {
	for _, m := range d.memo {
		if m == r {
			return true
		}
	}
	return false
}

// cloneRoute returns a shallow copy of r.
func cloneRoute(r schema.Route) schema.Route {
	v := reflect.ValueOf(r).Elem()
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	return c.Interface().(schema.Route)
}

// list decodes any route-handle JSON into the list of routes it stands for
// (mcrouter's createList). A Pool node stands for all of its servers.
func (d *decoder) list(path string, v *jsonm.Value) []schema.Route {
	switch v.Kind {
	case jsonm.Array:
		var out []schema.Route
		for i, e := range v.Arr {
			out = append(out, d.list(index(path, i), e)...)
		}
		return out
	case jsonm.Object:
		if r := d.objectOrRef(path, v); r != nil {
			return []schema.Route{r}
		}
		return nil
	case jsonm.String:
		if v.Str == "" {
			return nil
		}
		if r := d.str(path, v); r != nil {
			return []schema.Route{r}
		}
		return nil
	}
	d.errorf(path, v, RuleInvalidValue, "a route must be a string, an object or a list, not %s", v.Kind)
	return nil
}

// one decodes route-handle JSON where exactly one route is required
// (mcrouter's create).
func (d *decoder) one(path string, v *jsonm.Value) schema.Route {
	rs := d.list(path, v)
	if len(rs) != 1 {
		if len(rs) == 0 && !d.hasErrorAt(path) {
			d.errorf(path, v, RuleInvalidValue, "a single route is required here, but this is empty")
		} else if len(rs) > 1 {
			d.errorf(path, v, RuleInvalidValue, "a single route is required here, but this is a list of %d", len(rs))
		}
		if len(rs) == 0 {
			return nil
		}
	}
	if pl, ok := rs[0].(*schema.PoolList); ok {
		if p := d.cfg.Pools[pl.Pool]; p != nil && len(p.Servers) != 1 {
			d.errorf(path, v, RulePoolListOne, "Pool|%s stands for the %d servers of pool %s, but a single route is required here; use PoolRoute|%s to hash over them", pl.Pool, len(p.Servers), pl.Pool, pl.Pool)
		}
	}
	return rs[0]
}

func (d *decoder) hasErrorAt(path string) bool {
	for _, x := range d.diags {
		if x.Severity == diag.Error && strings.HasPrefix(x.Path, path) {
			return true
		}
	}
	return false
}

// objectOrRef handles the named-handle rule for objects: an object with a
// string "name" is defined once and referenced afterwards.
func (d *decoder) objectOrRef(path string, v *jsonm.Value) schema.Route {
	nv := v.Get("name")
	if nv == nil || nv.Kind != jsonm.String {
		return d.object(path, v, "")
	}
	name := nv.Str
	if _, pending := d.handleJSON[name]; pending {
		d.buildHandle(name)
	}
	if d.known[name] || d.cfg.NamedHandles[name] != nil {
		if first, ok := d.handleSrc[name]; ok && !first.Equal(v) {
			d.warnf(path, v, RuleDuplicateHandle, "a different route named %q is already defined at %s; mcrouter reuses that one and ignores this definition", name, d.cfg.NamedHandles[name].Position())
		}
		return &schema.Ref{Base: schema.Base{Pos: d.pos(path, v)}, Target: name}
	}
	d.known[name] = true
	d.handleSrc[name] = v
	r := d.object(path, v, name)
	if r == nil {
		delete(d.known, name)
		return nil
	}
	r.Meta().Name = name
	d.cfg.NamedHandles[name] = r
	return &schema.Ref{Base: schema.Base{Pos: d.pos(path, v)}, Target: name}
}

// str decodes a string route: a named handle, "Type|rest", or a bare type.
func (d *decoder) str(path string, v *jsonm.Value) schema.Route {
	s := v.Str
	if _, pending := d.handleJSON[s]; pending {
		d.buildHandle(s)
	}
	if d.known[s] || d.cfg.NamedHandles[s] != nil {
		return &schema.Ref{Base: schema.Base{Pos: d.pos(path, v)}, Target: s}
	}
	// mcrouter memoises every parsed string: "PoolRoute|A" written twice
	// is one handle (which matters for broadcast de-duplication).
	if r, ok := d.memo[s]; ok {
		return r
	}
	var r schema.Route
	if i := strings.IndexByte(s, '|'); i >= 0 {
		typ, rest := s[:i], s[i+1:]
		restV := &jsonm.Value{Kind: jsonm.String, Str: rest, Pos: v.Pos}
		r = d.create(path, v, typ, restV, true, false)
	} else {
		r = d.create(path, v, s, nil, true, false)
	}
	if r != nil {
		d.memo[s] = r
	}
	return r
}

// object decodes a route object (its "type" selects the kind).
func (d *decoder) object(path string, v *jsonm.Value, name string) schema.Route {
	t := v.Get("type")
	if t == nil {
		d.errorf(path, v, RuleRequiredField, "route object needs a \"type\"")
		return nil
	}
	if t.Kind != jsonm.String {
		d.errorf(join(path, "type"), t, RuleInvalidValue, "type must be a string, not %s", t.Kind)
		return nil
	}
	d.duplicates(path, v)
	r := d.create(path, v, t.Str, v, false, name != "")
	if r != nil && name != "" {
		r.Meta().Name = name
	}
	return r
}

// create builds a route of type typ from cfg: an object (full form), a
// string (the rest of a short form), or nil (a bare type name). src is the
// JSON value the route was written as, for positions.
func (d *decoder) create(path string, src *jsonm.Value, typ string, cfg *jsonm.Value, fromString, named bool) schema.Route {
	info, ok := schema.LookupKind(typ)
	if !ok {
		d.unknownType(path, src, typ, fromString)
		return nil
	}
	if info.Removed {
		d.warnf(path, src, RuleRemovedType, "%s is obsolete: current open-source mcrouter rejects it (%s)", typ, info.Doc)
		return d.generic(path, src, info, cfg)
	}
	if info.Internal {
		d.warnf(path, src, RuleInternalType, "%s is Facebook-internal or unusable in open-source mcrouter builds (%s)", typ, info.Doc)
	}
	if typ == "PrefixSelectorRoute" {
		d.errorf(path, src, RulePrefixSelectorNotOn, "PrefixSelectorRoute is only valid as the whole value of route or of a routes entry (mcrouter: Unknown RouteHandle)")
		if cfg != nil && cfg.Kind == jsonm.Object {
			return d.prefixSelector(path, cfg)
		}
		return nil
	}
	if cfg != nil && cfg.Kind == jsonm.String && !info.ShortForm {
		d.errorf(path, src, RuleShortForm, "%s cannot be written in the short form %q; write an object {\"type\": %q, ...}", typ, typ+"|"+cfg.Str, typ)
		return nil
	}
	pos := d.pos(path, src)
	if cfg == nil {
		switch typ {
		case "NullRoute":
			return &schema.NullRoute{Base: schema.Base{Pos: pos}}
		case "DevNullRoute":
			return &schema.DevNullRoute{Base: schema.Base{Pos: pos}}
		case "ErrorRoute":
			return &schema.ErrorRoute{Base: schema.Base{Pos: pos}, Short: true}
		}
		d.errorf(path, src, RuleRequiredField, "%s needs options: write %s|... or an object", typ, typ)
		return nil
	}
	if cfg.Kind != jsonm.Object && cfg.Kind != jsonm.String {
		d.errorf(path, src, RuleInvalidValue, "%s options must be an object, not %s", typ, cfg.Kind)
		return nil
	}
	k := &kindDecoder{d: d, path: path, v: cfg, typ: typ, info: info, pos: pos, named: named}
	if cfg.Kind == jsonm.String {
		k.short = true
	}
	r := k.decode()
	if r == nil {
		return nil
	}
	if !k.short {
		k.finish(r.Meta())
	}
	return r
}

func (d *decoder) unknownType(path string, src *jsonm.Value, typ string, fromString bool) {
	if fromString && !strings.Contains(src.Str, "|") {
		// A bare string that is neither a handle nor a type.
		if _, isPool := d.poolJSON[typ]; isPool {
			d.errorf(path, src, RuleMissingPoolPrefix, "%q is a pool, not a route: write \"PoolRoute|%s\" (hash over it) or \"Pool|%s\" (all of its servers); a name without Pool| is looked up as a named handle (mcrouter: Unknown type or Missing Name Handle)", typ, typ, typ)
			return
		}
		hint := suggest.Hint(typ, append(schema.KindNames(), sortedNames(d.known)...))
		d.errorf(path, src, RuleUnknownHandle, "unknown route type or named handle %q%s (mcrouter: Unknown type or Missing Name Handle)", typ, hint)
		return
	}
	d.errorf(path, src, RuleUnknownType, "unknown route type %q%s", typ, suggest.Hint(typ, schema.KindNames()))
}

func (d *decoder) prefixSelector(path string, v *jsonm.Value) schema.Route {
	info, _ := schema.LookupKind("PrefixSelectorRoute")
	k := &kindDecoder{d: d, path: path, v: v, typ: "PrefixSelectorRoute", info: info, pos: d.pos(path, v)}
	r := &schema.PrefixSelectorRoute{Base: schema.Base{Pos: k.pos}}
	k.use("type")
	r.Policies = k.routeMap("policies", false)
	if r.Policies == nil {
		r.Policies = map[string]schema.Route{}
	}
	r.Wildcard = k.routeOpt("wildcard")
	k.finish(&r.Base)
	return r
}

// checkCycles reports named handles that reach themselves through
// references.
func (d *decoder) checkCycles() {
	state := map[string]uint8{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		switch state[name] {
		case 1:
			i := 0
			for stack[i] != name {
				i++
			}
			cyc := append(append([]string{}, stack[i:]...), name)
			r := d.cfg.NamedHandles[name]
			d.diags = append(d.diags, diag.Diagnostic{Pos: r.Position(), Severity: diag.Error, Rule: RuleHandleCycle,
				Message: "named handles form a cycle: " + strings.Join(cyc, " -> ")})
			return
		case 2:
			return
		}
		r := d.cfg.NamedHandles[name]
		if r == nil {
			return
		}
		state[name] = 1
		stack = append(stack, name)
		schema.Walk(r, func(n schema.Route) bool {
			if ref, ok := n.(*schema.Ref); ok {
				visit(ref.Target)
			}
			return true
		})
		stack = stack[:len(stack)-1]
		state[name] = 2
	}
	for _, name := range d.cfg.HandleNames() {
		visit(name)
	}
}

// strayPool explains an unknown pool that is defined under a top-level key
// mcrouter ignores (such as "regional_pools").
func (d *decoder) strayPool(name string) string {
	for _, m := range d.root.Obj {
		if contains(topLevelKeys, m.Key) || m.Value.Kind != jsonm.Object {
			continue
		}
		if m.Value.Get(name) != nil {
			return fmt.Sprintf(" (it is defined under the top-level key %q, which mcrouter ignores: pools must be under \"pools\")", m.Key)
		}
	}
	return ""
}

// --- pools ---

var poolFields = []string{"servers", "protocol", "server_timeout", "connect_timeout", "region", "cluster",
	"keep_routing_prefix", "weights", "tags", "error_on_empty", "inherit", "name", "qos", "enable_compression",
	"security_mech", "use_ssl", "security_mech_within_dc", "security_mech_cross_dc", "port_override",
	"port_override_within_dc", "port_override_cross_dc", "service_id_override", "disable_request_deadline_check",
	"tko_tracker", "hostnames", "failure_domains", "additional_fanout", "services"}

// policyPoolFields are mcroute's extensions, accepted in the Policy dialect.
var policyPoolFields = []string{"discovery"}

// PoolFields returns the pool option names mcrouter reads.
func PoolFields() []string { return append([]string(nil), poolFields...) }

// resolveInherit returns the pool object with inherited fields merged in.
func (d *decoder) resolveInherit(name string, v *jsonm.Value, seen []string) *jsonm.Value {
	inh := v.Get("inherit")
	if inh == nil || inh.Kind != jsonm.String {
		return v
	}
	for _, s := range seen {
		if s == inh.Str {
			d.errorf(join(join("pools", name), "inherit"), inh, RuleInheritCycle, "pools inherit in a cycle: %s -> %s", strings.Join(seen, " -> "), inh.Str)
			return v
		}
	}
	parent, ok := d.poolJSON[inh.Str]
	if !ok {
		d.errorf(join(join("pools", name), "inherit"), inh, RuleUnknownPool, "pool %q inherits from unknown pool %q%s", name, inh.Str, suggest.Hint(inh.Str, sortedNames(d.poolJSON)))
		return v
	}
	if parent.Kind != jsonm.Object {
		return v
	}
	parent = d.resolveInherit(inh.Str, parent, append(seen, inh.Str))
	merged := v.Clone()
	for _, m := range parent.Obj {
		if m.Key == "inherit" || m.Key == "name" {
			continue
		}
		if merged.Get(m.Key) == nil {
			merged.Obj = append(merged.Obj, m)
		}
	}
	return merged
}

func (d *decoder) decodePool(name string) *schema.Pool {
	if p := d.cfg.Pools[name]; p != nil {
		return p
	}
	v := d.poolJSON[name]
	path := join("pools", name)
	if v == nil {
		return nil
	}
	if d.poolState[name] == 1 {
		return nil
	}
	d.poolState[name] = 1
	defer func() { d.poolState[name] = 2 }()
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "pool %q must be an object with \"servers\", not %s", name, v.Kind)
		return nil
	}
	d.duplicates(path, v)
	resolved := d.resolveInherit(name, v, []string{name})
	p := d.poolFromObject(path, name, resolved, v)
	if p != nil {
		d.cfg.Pools[name] = p
	}
	return p
}

// poolFromObject decodes a pool object; orig is the object as written (for
// unknown-field positions when inherit merged fields in).
func (d *decoder) poolFromObject(path, name string, v, orig *jsonm.Value) *schema.Pool {
	p := &schema.Pool{Name: name, Pos: d.pos(path, orig)}
	if inh := v.Get("inherit"); inh != nil {
		if inh.Kind == jsonm.String {
			p.Inherit = inh.Str
		} else {
			d.errorf(join(path, "inherit"), inh, RuleInvalidValue, "inherit must be a pool name")
		}
	}
	for _, m := range v.Obj {
		fp := join(path, m.Key)
		val := m.Value
		switch m.Key {
		case "servers":
			if val.Kind != jsonm.Array {
				d.errorf(fp, val, RuleInvalidValue, "servers must be a list, not %s", val.Kind)
				continue
			}
			p.Servers = []schema.Server{}
			for i, s := range val.Arr {
				sp := index(fp, i)
				switch s.Kind {
				case jsonm.String:
					if _, err := schema.ParseAddr(s.Str); err != nil && !hasPortOverride(v) {
						d.errorf(sp, s, RuleInvalidServer, "%v", err)
					}
					p.Servers = append(p.Servers, schema.Server{Addr: s.Str, Pos: d.pos(sp, s)})
				case jsonm.Object:
					if d.opts.Dialect == Policy {
						d.errorf(sp, s, RuleInvalidServer, "a server must be an address string")
						continue
					}
					r := d.one(sp, s)
					if r != nil {
						p.Servers = append(p.Servers, schema.Server{Route: r, Pos: d.pos(sp, s)})
					}
				default:
					d.errorf(sp, s, RuleInvalidServer, "a server must be an address string (host:port) or a route object, not %s", s.Kind)
				}
			}
		case "protocol":
			if s, ok := d.wantString(fp, val); ok {
				switch strings.ToLower(s) {
				case "ascii", "caret", "thrift", "xdp":
				case "umbrella":
					d.warnf(fp, val, RuleRemovedType, "protocol \"umbrella\" is obsolete: it was removed from mcrouter in 2019 and current releases reject it; use ascii or caret")
				default:
					d.errorf(fp, val, RuleInvalidValue, "unknown protocol %q (want ascii, caret, thrift or xdp)", s)
				}
				p.Protocol = s
			}
		case "server_timeout":
			if n, ok := d.wantInt(fp, val); ok {
				if n < 1 || n > 1000000 {
					d.errorf(fp, val, RuleInvalidValue, "server_timeout %d ms is out of range 1..1000000", n)
				}
				p.ServerTimeoutMs = int(n)
			}
		case "connect_timeout":
			if n, ok := d.wantInt(fp, val); ok {
				if n < 1 || n > 1000000 {
					d.errorf(fp, val, RuleInvalidValue, "connect_timeout %d ms is out of range 1..1000000", n)
				}
				p.ConnectTimeoutMs = int(n)
			}
		case "keep_routing_prefix":
			p.KeepRoutingPrefix, _ = d.wantBool(fp, val)
		case "error_on_empty":
			if b, ok := d.wantBool(fp, val); ok {
				p.ErrorOnEmpty = &b
			}
		case "region":
			p.Region, _ = d.wantString(fp, val)
		case "cluster":
			p.Cluster, _ = d.wantString(fp, val)
		case "weights":
			p.Weights = d.weights(fp, val)
		case "failure_domains":
			p.FailureDomains = d.failureDomains(fp, val)
		case "port_override":
			if n, ok := d.wantInt(fp, val); ok {
				if n < 1 || n > 65535 {
					d.errorf(fp, val, RuleInvalidValue, "port_override %d is not a port (1..65535)", n)
				}
				p.PortOverride = int(n)
			}
		case "tags":
			p.Tags = d.wantStrings(fp, val)
		case "inherit":
		case "name":
			if s, ok := d.wantString(fp, val); ok && s != name && !p.Inline {
				d.warnf(fp, val, RuleInvalidValue, "pool %q has a different name %q, which mcrouter ignores", name, s)
			}
		case "discovery":
			if d.opts.Dialect != Policy {
				d.warnf(fp, val, RuleUnknownField, "unknown pool field %q is ignored by mcrouter (discovery is an mcroute policy feature)", m.Key)
				addExtra(&p.Extra, m.Key, val)
				continue
			}
			p.Discovery = d.discovery(fp, val)
		case "hash", "hash_func", "salt", "hash_salt":
			d.warnf(fp, val, RuleIgnoredPoolField, "pools do not carry a hash: mcrouter ignores %q here; set \"hash\" on the PoolRoute instead", m.Key)
			addExtra(&p.Extra, m.Key, val)
		case "server_list_from_pool":
			addExtra(&p.Extra, m.Key, val)
		default:
			if !contains(poolFields, m.Key) {
				hint := suggest.Hint(m.Key, append(PoolFields(), policyPoolFields...))
				if d.opts.Dialect == Policy {
					d.errorf(fp, val, RuleUnknownField, "unknown pool field %q%s", m.Key, hint)
				} else {
					d.warnf(fp, val, RuleUnknownField, "unknown pool field %q is ignored by mcrouter%s", m.Key, hint)
				}
			}
			addExtra(&p.Extra, m.Key, val)
		}
	}
	if fd := v.Get("failure_domains"); p.FailureDomains != nil && len(p.FailureDomains) != len(p.Servers) {
		d.errorf(join(path, "failure_domains"), fd, RuleInvalidValue, "failure_domains has %d entries for %d servers: mcrouter needs one per server", len(p.FailureDomains), len(p.Servers))
	}
	if v.Get("server_list_from_pool") != nil {
		d.warnf(join(path, "server_list_from_pool"), v.Get("server_list_from_pool"), RuleRemovedType, "server_list_from_pool is obsolete: current mcrouter ignores it and needs \"servers\"")
	} else if v.Get("servers") == nil && p.Discovery == nil {
		d.errorf(path, orig, RuleRequiredField, "pool %q needs \"servers\"", name)
		p.Servers = []schema.Server{}
	}
	return p
}

// weights decodes a list of weights. mcrouter reads any number: a weight
// above 1 acts as 1 (the server keeps every key the hash gives it), which is
// likely a mistake (a warning); a negative weight is an error.
func (d *decoder) weights(path string, v *jsonm.Value) []float64 {
	ws := d.wantFloats(path, v)
	for i, w := range ws {
		switch {
		case w < 0 || math.IsNaN(w):
			d.errorf(index(path, i), v.Arr[i], RuleInvalidValue, "weight %g is negative; weights are in [0, 1]", w)
		case w > 1:
			d.warnf(index(path, i), v.Arr[i], RuleInvalidValue, "weight %g is above 1: mcrouter accepts it and hashes as if it were 1 (weights are in [0, 1])", w)
		}
	}
	return ws
}

// failureDomains decodes a pool's failure_domains: numbers (0 to 2^32-1) or
// names.
func (d *decoder) failureDomains(path string, v *jsonm.Value) []schema.FailureDomain {
	if v.Kind != jsonm.Array {
		d.errorf(path, v, RuleInvalidValue, "failure_domains must be a list, one per server, not %s", v.Kind)
		return nil
	}
	out := make([]schema.FailureDomain, 0, len(v.Arr))
	for i, e := range v.Arr {
		fp := index(path, i)
		switch e.Kind {
		case jsonm.String:
			out = append(out, schema.FailureDomain{Name: e.Str, IsName: true})
		default:
			n, ok := d.wantInt(fp, e)
			if ok && (n < 0 || n > math.MaxUint32) {
				d.errorf(fp, e, RuleInvalidValue, "failure domain %d is out of range 0..%d", n, uint32(math.MaxUint32))
			}
			out = append(out, schema.FailureDomain{Num: n})
		}
	}
	return out
}

func hasPortOverride(pool *jsonm.Value) bool {
	for _, k := range []string{"port_override", "port_override_within_dc", "port_override_cross_dc"} {
		if pool.Get(k) != nil {
			return true
		}
	}
	return false
}

func (d *decoder) discovery(path string, v *jsonm.Value) *schema.Discovery {
	if v.Kind != jsonm.Object {
		d.errorf(path, v, RuleInvalidValue, "discovery must be an object {name, port, interval_ms}")
		return nil
	}
	disc := &schema.Discovery{}
	for _, m := range v.Obj {
		fp := join(path, m.Key)
		switch m.Key {
		case "name":
			disc.Name, _ = d.wantString(fp, m.Value)
		case "port":
			if n, ok := d.wantInt(fp, m.Value); ok {
				disc.Port = int(n)
			}
		case "interval_ms":
			if n, ok := d.wantInt(fp, m.Value); ok {
				disc.IntervalMs = int(n)
			}
		default:
			d.errorf(fp, m.Value, RuleUnknownField, "unknown discovery field %q (want name, port, interval_ms)", m.Key)
		}
	}
	if disc.Name == "" {
		d.errorf(path, v, RuleRequiredField, "discovery needs a DNS \"name\"")
	}
	return disc
}

func addExtra(m *map[string]any, key string, v *jsonm.Value) {
	if *m == nil {
		*m = map[string]any{}
	}
	(*m)[key] = v.ToAny()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// poolRef resolves a pool given by name or as an inline object, hoisting
// inline pools into cfg.Pools. It returns the pool name ("" on error).
func (d *decoder) poolRef(path string, v *jsonm.Value) string {
	switch v.Kind {
	case jsonm.String:
		if _, ok := d.poolJSON[v.Str]; !ok && !strings.HasPrefix(v.Str, "file:") {
			d.errorf(path, v, RuleUnknownPool, "unknown pool %q%s%s", v.Str, suggest.Hint(v.Str, sortedNames(d.poolJSON)), d.strayPool(v.Str))
			return v.Str
		}
		d.decodePool(v.Str)
		return v.Str
	case jsonm.Object:
		if d.opts.Dialect == Policy {
			d.errorf(path, v, RuleInvalidValue, "write the pool under pools and refer to it by name")
			return ""
		}
		nv := v.Get("name")
		if nv == nil || nv.Kind != jsonm.String || nv.Str == "" {
			d.errorf(path, v, RuleRequiredField, "an inline pool needs a \"name\"")
			return ""
		}
		name := nv.Str
		if _, exists := d.poolJSON[name]; exists {
			d.warnf(path, v, RuleDuplicatePool, "inline pool %q has the name of a pool defined elsewhere; mcrouter uses the first one it parsed", name)
			d.decodePool(name)
			return name
		}
		obj := v.Clone()
		kept := obj.Obj[:0]
		for _, m := range obj.Obj {
			if m.Key != "type" {
				kept = append(kept, m)
			}
		}
		obj.Obj = kept
		d.poolJSON[name] = obj
		d.poolState[name] = 1
		resolved := d.resolveInherit(name, obj, []string{name})
		p := d.poolFromObject(path, name, resolved, v)
		d.poolState[name] = 2
		if p != nil {
			p.Inline = true
			d.cfg.Pools[name] = p
		}
		return name
	}
	d.errorf(path, v, RuleInvalidValue, "pool must be a pool name or an inline pool object, not %s", v.Kind)
	return ""
}

// --- typed value helpers ---

func (d *decoder) wantString(path string, v *jsonm.Value) (string, bool) {
	if v.Kind != jsonm.String {
		d.errorf(path, v, RuleInvalidValue, "want a string, not %s", v.Kind)
		return "", false
	}
	return v.Str, true
}

func (d *decoder) wantBool(path string, v *jsonm.Value) (bool, bool) {
	if v.Kind != jsonm.Bool {
		d.errorf(path, v, RuleInvalidValue, "want true or false, not %s", v.Kind)
		return false, false
	}
	return v.Bool, true
}

func (d *decoder) wantInt(path string, v *jsonm.Value) (int64, bool) {
	switch v.Kind {
	case jsonm.Int:
		return v.Int, true
	case jsonm.Float:
		if v.Float == math.Trunc(v.Float) && math.Abs(v.Float) < 1<<53 {
			return int64(v.Float), true
		}
	}
	d.errorf(path, v, RuleInvalidValue, "want an integer, not %s", describe(v))
	return 0, false
}

func (d *decoder) wantFloat(path string, v *jsonm.Value) (float64, bool) {
	switch v.Kind {
	case jsonm.Int:
		return float64(v.Int), true
	case jsonm.Float:
		return v.Float, true
	}
	d.errorf(path, v, RuleInvalidValue, "want a number, not %s", describe(v))
	return 0, false
}

func (d *decoder) wantFloats(path string, v *jsonm.Value) []float64 {
	if v.Kind != jsonm.Array {
		d.errorf(path, v, RuleInvalidValue, "want a list of numbers, not %s", v.Kind)
		return nil
	}
	out := make([]float64, 0, len(v.Arr))
	for i, e := range v.Arr {
		f, ok := d.wantFloat(index(path, i), e)
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func (d *decoder) wantStrings(path string, v *jsonm.Value) []string {
	if v.Kind != jsonm.Array {
		d.errorf(path, v, RuleInvalidValue, "want a list of strings, not %s", v.Kind)
		return nil
	}
	out := make([]string, 0, len(v.Arr))
	for i, e := range v.Arr {
		if s, ok := d.wantString(index(path, i), e); ok {
			out = append(out, s)
		}
	}
	return out
}

func describe(v *jsonm.Value) string {
	switch v.Kind {
	case jsonm.String:
		return "string " + strconv.Quote(v.Str)
	case jsonm.Float:
		return "number " + strconv.FormatFloat(v.Float, 'g', -1, 64)
	}
	return v.Kind.String()
}

// validOps are the keys operation_policies accepts.
func validOps() []string {
	out := make([]string, 0, len(mc.RoutableOps))
	for _, o := range mc.RoutableOps {
		out = append(out, o.String())
	}
	return out
}
