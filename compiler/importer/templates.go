package importer

import (
	"slices"

	"github.com/mcroute/mcroute/schema"
)

// The templates of schema/templates.cue, recognised in the routes they
// generate. A template is used only when it generates exactly the route
// (what else the route has is added to the template as fields), so the
// policy compiles to the same graph.

// Defaults of the templates' parameters, as in schema/templates.cue.
var (
	defaultWriteOps = []string{"add", "append", "decr", "delete", "incr", "prepend", "replace", "set"}
	defaultReadOps  = []string{"get", "gets"}
)

// template returns r written with a template, or nil when none generates it.
func (im *importer) template(r schema.Route, top bool) value {
	if len(r.Meta().Extra) > 0 {
		return nil
	}
	switch n := r.(type) {
	case *schema.OperationSelectorRoute:
		if t := im.replicated(n); t != nil {
			return t
		}
		return im.crossRegion(n)
	case *schema.WarmUpRoute:
		return im.warmUp(n)
	case *schema.PrefixSelectorRoute:
		if top {
			return im.prefixRouting(n)
		}
	}
	return nil
}

// plain reports whether r is an unnamed node without extra options.
func plain(r schema.Route) bool {
	b := r.Meta()
	return b.Name == "" && len(b.Extra) == 0
}

// poolList returns the pool of a plain {type: "Pool"} node.
func poolList(r schema.Route) (string, bool) {
	if p, ok := r.(*schema.PoolList); ok && plain(p) {
		return p.Pool, true
	}
	return "", false
}

// simplePoolRoute returns the pool of a plain PoolRoute without options.
func simplePoolRoute(r schema.Route) (string, bool) {
	p, ok := r.(*schema.PoolRoute)
	if !ok || !plain(p) || p.Hash != nil || p.HasOptions() {
		return "", false
	}
	return p.Pool, true
}

// simplePoolRoutes returns the pools of a list of simple PoolRoutes.
func simplePoolRoutes(rs []schema.Route) ([]string, bool) {
	var out []string
	for _, r := range rs {
		p, ok := simplePoolRoute(r)
		if !ok {
			return nil, false
		}
		out = append(out, p)
	}
	return out, len(out) > 0
}

// writeAll returns W for AllFastestRoute over {type: "Pool", pool: W}.
func writeAll(r schema.Route) (string, bool) {
	a, ok := r.(*schema.AllFastestRoute)
	if !ok || !plain(a) || len(a.Children) != 1 {
		return "", false
	}
	return poolList(a.Children[0])
}

// readOne returns the pools of a RandomRoute over one MissFailoverRoute
// over {type: "Pool"} per pool.
func readOne(r schema.Route) ([]string, bool) {
	rr, ok := r.(*schema.RandomRoute)
	if !ok || !plain(rr) || len(rr.Children) == 0 {
		return nil, false
	}
	var pools []string
	for _, c := range rr.Children {
		m, ok := c.(*schema.MissFailoverRoute)
		if !ok || !plain(m) || m.ReturnBestOnError || len(m.Children) != 1 {
			return nil, false
		}
		p, ok := poolList(m.Children[0])
		if !ok {
			return nil, false
		}
		pools = append(pools, p)
	}
	return pools, true
}

// replicated recognises #ReplicatedPool.
func (im *importer) replicated(n *schema.OperationSelectorRoute) value {
	var write string
	var writeOps, readOps, pools []string
	rest := map[string]schema.Route{}
	for _, op := range sortedKeys(n.OperationPolicies) {
		r := n.OperationPolicies[op]
		if w, ok := writeAll(r); ok && (write == "" || w == write) {
			write = w
			writeOps = append(writeOps, op)
			continue
		}
		if ps, ok := readOne(r); ok && (pools == nil || slices.Equal(ps, pools)) {
			pools = ps
			readOps = append(readOps, op)
			continue
		}
		rest[op] = r
	}
	if len(writeOps) == 0 || len(readOps) == 0 {
		return nil
	}
	o := &obj{}
	o.addDef("#pools", im.poolNames(pools, n.Pos))
	if write != pools[0] {
		o.addDef("#write_pool", im.poolName(write, n.Pos))
	}
	if !sameSet(writeOps, defaultWriteOps) {
		o.addDef("#write_ops", strs(writeOps))
	}
	if !sameSet(readOps, defaultReadOps) {
		o.addDef("#read_ops", strs(readOps))
	}
	im.selectorRest(o, n, rest)
	return &conj{def: "#ReplicatedPool", o: o}
}

// selectorRest adds the operation policies a template did not generate, and
// the default policy.
func (im *importer) selectorRest(o *obj, n *schema.OperationSelectorRoute, rest map[string]schema.Route) {
	if len(rest) > 0 {
		o.add("operation_policies", im.routeMap(rest))
	}
	if n.DefaultPolicy != nil {
		o.add("default_policy", im.route(n.DefaultPolicy, false))
	}
}

// crossRegion recognises #CrossRegionFailover: a FailoverRoute over the
// PoolRoutes of the local then the remote pools by default, and
// MissFailoverRoute over the same for reads.
func (im *importer) crossRegion(n *schema.OperationSelectorRoute) value {
	f, ok := n.DefaultPolicy.(*schema.FailoverRoute)
	if !ok || !plain(f) || len(f.Children) < 2 {
		return nil
	}
	pools, ok := simplePoolRoutes(f.Children)
	if !ok {
		return nil
	}
	var readOps []string
	rest := map[string]schema.Route{}
	for _, op := range sortedKeys(n.OperationPolicies) {
		r := n.OperationPolicies[op]
		if m, ok := r.(*schema.MissFailoverRoute); ok && plain(m) && !m.ReturnBestOnError {
			if ps, ok := simplePoolRoutes(m.Children); ok && slices.Equal(ps, pools) {
				readOps = append(readOps, op)
				continue
			}
		}
		rest[op] = r
	}
	if len(readOps) == 0 {
		return nil
	}
	o := &obj{}
	o.addDef("#local", im.poolName(pools[0], n.Pos))
	o.addDef("#remote", im.poolNames(pools[1:], n.Pos))
	if !sameSet(readOps, defaultReadOps) {
		o.addDef("#read_ops", strs(readOps))
	}
	// The default policy's own options.
	opts := &obj{fold: true}
	im.failoverOptions(opts, &f.FailoverOptions, f.Pos)
	if len(opts.fields) > 0 {
		o.add("default_policy", opts)
	}
	if len(rest) > 0 {
		o.add("operation_policies", im.routeMap(rest))
	}
	return &conj{def: "#CrossRegionFailover", o: o}
}

// warmUp recognises #WarmUp: a WarmUpRoute between two pools.
func (im *importer) warmUp(n *schema.WarmUpRoute) value {
	cold, ok := simplePoolRoute(n.Cold)
	if !ok {
		return nil
	}
	warm, ok := simplePoolRoute(n.Warm)
	if !ok {
		return nil
	}
	o := &obj{}
	o.addDef("#cold", im.poolName(cold, n.Pos))
	o.addDef("#warm", im.poolName(warm, n.Pos))
	im.warmUpOptions(o, n)
	return &conj{def: "#WarmUp", o: o}
}

// prefixRouting recognises #PrefixRouting: key prefixes routed to pools.
func (im *importer) prefixRouting(n *schema.PrefixSelectorRoute) value {
	prefixes := &obj{}
	rest := map[string]schema.Route{}
	for _, k := range sortedKeys(n.Policies) {
		if p, ok := simplePoolRoute(n.Policies[k]); ok {
			prefixes.add(k, im.poolName(p, n.Pos))
		} else {
			rest[k] = n.Policies[k]
		}
	}
	if len(prefixes.fields) == 0 {
		return nil
	}
	o := &obj{}
	o.addDef("#prefixes", prefixes)
	if n.Wildcard != nil {
		if p, ok := simplePoolRoute(n.Wildcard); ok {
			o.addDef("#default", im.poolName(p, n.Pos))
		} else {
			o.add("wildcard", im.route(n.Wildcard, false))
		}
	}
	if len(rest) > 0 {
		o.add("policies", im.routeMap(rest))
	}
	return &conj{def: "#PrefixRouting", o: o}
}

func (im *importer) poolNames(names []string, pos schema.Pos) list {
	out := list{}
	for _, n := range names {
		out = append(out, im.poolName(n, pos))
	}
	return out
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
