// Package importer writes a route graph as a CUE policy in mcroute's policy
// language: it is the back end of `mcroute import`, which brings an mcrouter
// JSON config (read by compiler/mcrouterjson) into the language.
//
// The policy is meant to be read and edited: pools keep their names, short
// forms ("AllFastestRoute|Pool|A") become route objects, named handles stay
// named handles (used through CUE references), and the language's templates
// (#ReplicatedPool, #WarmUp, #CrossRegionFailover, #PrefixRouting) replace
// the routes they generate. Compiling the policy gives back the same route
// graph: the same pools, named handles and route trees, positions aside.
//
// What the language cannot express (route types mcroute does not have,
// options mcrouter reads but the language lacks, pool servers that are
// routes) is reported as an error at its position in the source config.
// Options mcrouter itself ignores (unknown fields) are left out with a
// warning.
package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/schema"
)

// Rules of the diagnostics Import reports.
const (
	// RuleUnsupported: the config uses something the policy language
	// cannot express.
	RuleUnsupported = "import-unsupported"
	// RuleDropped: an option mcrouter ignores was left out of the policy.
	RuleDropped = "import-dropped"
)

// DefaultPackage is the package name of an imported policy when
// Options.Package is empty.
const DefaultPackage = "policy"

// handlesField is the policy's top-level field of named handles, which
// routes refer to.
const handlesField = "named_handles"

// Options configures Import. The zero value is usable.
type Options struct {
	// Source is the name of the imported file, given in the policy's
	// header comment (default: no name).
	Source string
	// Package is the policy's package name (default DefaultPackage).
	Package string
	// Params are the JSONM params the config was loaded with, recorded in
	// the header comment (default none).
	Params map[string]string
}

// Result is an imported policy.
type Result struct {
	// CUE is the policy's source text, formatted with cue/format; nil when
	// the config uses something the language cannot express.
	CUE []byte
	// Diagnostics are the warnings and errors, positioned in the source
	// config, sorted.
	Diagnostics diag.List
}

// Import writes cfg as a CUE policy. When the config uses something the
// language cannot express, it returns the Result (with every such problem
// among its Diagnostics) and those diagnostics as a diag.List error. Other
// errors are internal.
func Import(cfg *schema.Config, opts Options) (*Result, error) {
	if cfg == nil {
		return nil, fmt.Errorf("importer: no config")
	}
	if opts.Package != "" && (!ast.IsValidIdent(opts.Package) || ast.StringLabelNeedsQuoting(opts.Package)) {
		return nil, fmt.Errorf("importer: package name %q is not a CUE identifier", opts.Package)
	}
	lang, err := compiler.PolicyLanguage()
	if err != nil {
		return nil, err
	}
	im := &importer{cfg: cfg, kinds: map[string]map[string]bool{}, poolFields: set(lang.PoolFields), routingOptions: set(lang.RoutingOptions),
		hashFields: set(lang.HashFields), shadowFields: set(lang.ShadowFields)}
	for k, fs := range lang.Kinds {
		im.kinds[k] = set(fs)
	}
	src := im.file(opts)
	res := &Result{Diagnostics: im.diags}
	res.Diagnostics.Sort()
	if res.Diagnostics.HasErrors() {
		return res, res.Diagnostics
	}
	out, err := format.Source([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("importer: generated CUE does not parse: %w\n%s", err, src)
	}
	res.CUE = out
	return res, nil
}

type importer struct {
	cfg *schema.Config
	// kinds maps each route type of the language to its field names;
	// poolFields and routingOptions are the language's pool fields and
	// routing_options keys.
	kinds          map[string]map[string]bool
	poolFields     map[string]bool
	routingOptions map[string]bool
	// hashFields and shadowFields are the fields of the language's hash
	// objects and shadows.
	hashFields, shadowFields map[string]bool
	diags                    diag.List
}

func set(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, s := range l {
		m[s] = true
	}
	return m
}

func (im *importer) unsupported(pos schema.Pos, format string, args ...any) {
	im.diags.Errorf(pos, RuleUnsupported, format, args...)
}

func (im *importer) dropped(pos schema.Pos, format string, args ...any) {
	im.diags.Warnf(pos, RuleDropped, format, args...)
}

// file writes the whole policy.
func (im *importer) file(opts Options) string {
	var b strings.Builder
	header(&b, opts)
	pkg := opts.Package
	if pkg == "" {
		pkg = DefaultPackage
	}
	fmt.Fprintf(&b, "package %s\n", pkg)
	top := func(name string, v value) {
		b.WriteString("\n")
		b.WriteString(name)
		b.WriteString(": ")
		render(&b, v, 0, len(name)+2)
		b.WriteString("\n")
	}
	if len(im.cfg.Pools) > 0 {
		pools := &obj{multi: true, fold: true}
		for _, name := range im.cfg.PoolNames() {
			pools.add(name, im.pool(im.cfg.Pools[name]))
		}
		top("pools", pools)
	}
	if len(im.cfg.NamedHandles) > 0 {
		handles := &obj{multi: true}
		for _, name := range im.cfg.HandleNames() {
			handles.add(name, im.definition(name, im.cfg.NamedHandles[name]))
		}
		top(handlesField, handles)
	}
	switch {
	case im.cfg.Route != nil:
		top("route", im.route(im.cfg.Route, true))
	case len(im.cfg.Routes) > 0:
		top("routes", im.routes(im.cfg.Routes))
	default:
		im.unsupported(im.cfg.Pos, "the config has no route")
	}
	if len(im.cfg.RoutingOptions) > 0 {
		o := &obj{}
		for _, k := range sortedKeys(im.cfg.RoutingOptions) {
			v := im.cfg.RoutingOptions[k]
			if _, isBool := v.(bool); !isBool || !im.routingOptions[k] {
				im.unsupported(im.cfg.Pos, "routing_options %q (%v) is not in the policy language (it has %s)", k, v, strings.Join(sortedKeys(im.routingOptions), ", "))
				continue
			}
			o.add(k, anyValue(v))
		}
		top("routing_options", o)
	}
	return b.String()
}

// header writes the comment that says where the policy came from.
func header(b *strings.Builder, opts Options) {
	line := "Imported by mcroute import"
	if opts.Source != "" {
		line += " from " + opts.Source
	}
	if len(opts.Params) > 0 {
		line += " with"
		for _, k := range sortedKeys(opts.Params) {
			line += fmt.Sprintf(" --param %s=%s", k, opts.Params[k])
		}
	}
	// The comment is one line whatever the names hold.
	line = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, line)
	b.WriteString("// " + line + ".\n")
}

// routes writes a routes table: prefix → route when each entry has one
// alias, else the list of {aliases, route}.
func (im *importer) routes(entries []*schema.RouteEntry) value {
	table := true
	for _, e := range entries {
		if len(e.Aliases) != 1 {
			table = false
		}
	}
	if table {
		o := &obj{multi: true}
		for _, e := range entries {
			o.add(e.Aliases[0], im.route(e.Route, true))
		}
		return o
	}
	var l list
	for _, e := range entries {
		o := &obj{}
		o.add("aliases", strs(e.Aliases))
		o.add("route", im.route(e.Route, true))
		l = append(l, o)
	}
	return l
}

// --- pools ---

// pool writes a pool's fields. A pool that inherits from another writes
// only what differs from its parent (whose fields it has already copied).
func (im *importer) pool(p *schema.Pool) value {
	o := &obj{fold: true}
	if p.Name == "" || strings.Contains(p.Name, "|") {
		im.unsupported(p.Pos, "pool name %q: the policy language's pool names are not empty and have no \"|\"", p.Name)
	}
	if p.Weights != nil && p.Discovery == nil && len(p.Weights) != len(p.Servers) {
		im.unsupported(p.Pos, "pool %s has %d servers but %d weights (mcrouter pads or truncates them): the policy language requires one weight per server", p.Name, len(p.Servers), len(p.Weights))
	}
	var parent *schema.Pool
	if p.Inherit != "" {
		parent = im.cfg.Pools[p.Inherit]
	}
	if parent == nil {
		parent = &schema.Pool{}
	}
	for _, s := range p.Servers {
		if s.Route != nil {
			im.unsupported(s.Pos, "pool %s lists a route (%s) as a server; the policy language's servers are addresses", p.Name, s.Route.Kind())
		}
	}
	switch {
	case p.Discovery != nil:
		d := &obj{}
		d.add("name", str(p.Discovery.Name))
		if p.Discovery.Port != 0 {
			d.add("port", integer(int64(p.Discovery.Port)))
		}
		if p.Discovery.IntervalMs != 0 {
			d.add("interval_ms", integer(int64(p.Discovery.IntervalMs)))
		}
		o.add("discovery", d)
	case p.Inherit == "" || !sameServers(p.Servers, parent.Servers):
		var l list
		for _, s := range p.Servers {
			l = append(l, str(s.Addr))
		}
		if l == nil {
			l = list{}
		}
		o.add("servers", l)
	}
	if p.Protocol != parent.Protocol {
		switch strings.ToLower(p.Protocol) {
		case "ascii", "caret", "thrift", "xdp":
			o.add("protocol", str(p.Protocol))
		default:
			im.unsupported(p.Pos, "pool %s: protocol %q is not in the policy language (ascii, caret, thrift, xdp)", p.Name, p.Protocol)
		}
	}
	if p.ServerTimeoutMs != parent.ServerTimeoutMs {
		o.add("server_timeout", integer(int64(p.ServerTimeoutMs)))
	}
	if p.ConnectTimeoutMs != parent.ConnectTimeoutMs {
		o.add("connect_timeout", integer(int64(p.ConnectTimeoutMs)))
	}
	if p.KeepRoutingPrefix != parent.KeepRoutingPrefix {
		o.add("keep_routing_prefix", boolean(p.KeepRoutingPrefix))
	}
	if p.Weights != nil && !slices.Equal(p.Weights, parent.Weights) {
		o.add("weights", numbers(p.Weights))
	}
	if p.Tags != nil && !slices.Equal(p.Tags, parent.Tags) {
		o.add("tags", strs(p.Tags))
	}
	if p.ErrorOnEmpty != nil && (parent.ErrorOnEmpty == nil || *p.ErrorOnEmpty != *parent.ErrorOnEmpty) {
		o.add("error_on_empty", boolean(*p.ErrorOnEmpty))
	}
	if p.Region != parent.Region {
		o.add("region", str(p.Region))
	}
	if p.Cluster != parent.Cluster {
		o.add("cluster", str(p.Cluster))
	}
	if p.FailureDomains != nil && !slices.Equal(p.FailureDomains, parent.FailureDomains) {
		l := list{}
		for _, f := range p.FailureDomains {
			if f.IsName {
				l = append(l, str(f.Name))
			} else {
				l = append(l, integer(f.Num))
			}
		}
		o.add("failure_domains", l)
	}
	if p.PortOverride != parent.PortOverride {
		o.add("port_override", integer(int64(p.PortOverride)))
	}
	if p.Inherit != "" {
		o.add("inherit", str(p.Inherit))
	}
	for _, k := range sortedKeys(p.Extra) {
		switch {
		case !slices.Contains(mcrouterjson.PoolFields(), k):
			im.dropped(p.Pos, "pool %s: field %q is ignored by mcrouter and left out", p.Name, k)
		case im.poolFields[k]:
			o.add(k, anyValue(p.Extra[k]))
		default:
			im.unsupported(p.Pos, "pool %s: field %q is not in the policy language", p.Name, k)
		}
	}
	return o
}

func sameServers(a, b []schema.Server) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Addr != b[i].Addr || a[i].Route != nil || b[i].Route != nil {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
