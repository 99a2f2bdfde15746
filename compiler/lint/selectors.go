package lint

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Rules about routes that select by operation, routing group, key prefix or
// routing prefix.

func runShadowedPolicy(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		reach := a.reach[r]
		if reach == 0 {
			continue
		}
		switch n := r.(type) {
		case *schema.OperationSelectorRoute:
			var covered opSet
			for _, name := range sortedPolicyOps(n.OperationPolicies) {
				o, ok := mc.ParseOp(name)
				if !ok {
					continue
				}
				covered |= bit(o)
				if reach.has(o) {
					continue
				}
				c := n.OperationPolicies[name]
				path := joinPath(joinPath(a.path[r], "operation_policies"), name)
				p.Reportf(p.fieldPos(path, c.Position()), path,
					"operation_policies.%s is never used: no %s request reaches this %s, because an enclosing route already sends %s elsewhere; move the policy to the route that receives %s, or delete it",
					name, name, r.Kind(), name, name)
			}
			if n.DefaultPolicy != nil && reach&^covered == 0 {
				path := joinPath(a.path[r], "default_policy")
				p.Reportf(p.fieldPos(path, n.DefaultPolicy.Position()), path,
					"default_policy is never used: every operation that reaches this %s (%s) has its own policy",
					r.Kind(), andList(reach.names()))
			}
		case *schema.RoutingGroupRoute:
			var covered opSet
			for _, g := range mc.GroupNames[1:] {
				c, ok := n.RoutingGroupPolicies[g]
				if !ok {
					continue
				}
				ops := groupOps(groupByName(g))
				covered |= ops
				if reach&ops != 0 {
					continue
				}
				path := joinPath(joinPath(a.path[r], "routing_group_policies"), g)
				p.Reportf(p.fieldPos(path, c.Position()), path,
					"routing_group_policies.%s is never used: no %s operation (%s) reaches this RoutingGroupRoute, because an enclosing route already sends them elsewhere; move the policy or delete it",
					g, g, andList(ops.names()))
			}
			if n.DefaultPolicy != nil && reach&^covered == 0 {
				path := joinPath(a.path[r], "default_policy")
				p.Reportf(p.fieldPos(path, n.DefaultPolicy.Position()), path,
					"default_policy is never used: every operation that reaches this RoutingGroupRoute (%s) has its own policy",
					andList(reach.names()))
			}
		}
	}
}

// essentialOps must have a policy: without them a cache does not work.
var essentialOps = bit(mc.OpGet) | bit(mc.OpSet) | bit(mc.OpDelete)

// commonOps are the other operations memcached clients commonly send.
var commonOps = bit(mc.OpGets) | bit(mc.OpAdd) | bit(mc.OpReplace) | bit(mc.OpAppend) | bit(mc.OpPrepend) |
	bit(mc.OpCas) | bit(mc.OpIncr) | bit(mc.OpDecr) | bit(mc.OpTouch)

// uncovered returns the operations reaching a selector without a
// default_policy that have no policy, or false if it has a default.
func (a *analysis) uncovered(r schema.Route) (opSet, bool) {
	reach := a.reach[r]
	switch n := r.(type) {
	case *schema.OperationSelectorRoute:
		if n.DefaultPolicy != nil {
			return 0, false
		}
		var covered opSet
		for name := range n.OperationPolicies {
			if o, ok := mc.ParseOp(name); ok {
				covered |= bit(o)
			}
		}
		// A policy the loader could not decode is missing from the
		// graph but not from the config: it was reported already.
		if pol := lookupPath(a.raw, joinPath(a.path[r], "operation_policies")); pol != nil {
			for _, m := range pol.Obj {
				if o, ok := mc.ParseOp(m.Key); ok {
					covered |= bit(o)
				}
			}
		}
		return reach &^ covered, true
	case *schema.RoutingGroupRoute:
		if n.DefaultPolicy != nil {
			return 0, false
		}
		var covered opSet
		for name := range n.RoutingGroupPolicies {
			covered |= groupOps(groupByName(name))
		}
		if pol := lookupPath(a.raw, joinPath(a.path[r], "routing_group_policies")); pol != nil {
			for _, m := range pol.Obj {
				covered |= groupOps(groupByName(m.Key))
			}
		}
		return reach &^ covered, true
	}
	return 0, false
}

// missingMessage reports missing policies of a selector.
func missingMessage(p *Pass, r schema.Route, missing opSet) {
	hint := ""
	if r.Meta().Extra["default"] != nil {
		hint = " (\"default\" is not an option mcrouter reads: write \"default_policy\")"
	}
	switch r.(type) {
	case *schema.RoutingGroupRoute:
		var groups []string
		for _, g := range mc.GroupNames[1:] {
			if missing&groupOps(groupByName(g)) != 0 {
				groups = append(groups, g)
			}
		}
		p.reportNode(r, missing,
			"routing_group_policies has no policy for %s and there is no default_policy: every %s request gets an error reply (result unknown); add the missing groups or a default_policy%s",
			andList(groups), andList(missing.names()), hint)
	default:
		p.reportNode(r, missing,
			"operation_policies has no policy for %s and there is no default_policy: every such request gets an error reply (result unknown); add %s or a default_policy%s",
			andList(missing.names()), policiesFor(missing), hint)
	}
}

func policiesFor(ops opSet) string {
	var q []string
	for _, n := range ops.names() {
		q = append(q, strconv.Quote(n))
	}
	if len(q) == 1 {
		return "a " + q[0] + " policy"
	}
	return "policies for " + andList(q)
}

func runMissingPolicy(p *Pass) {
	for _, r := range p.a.nodes {
		missing, ok := p.a.uncovered(r)
		if !ok {
			continue
		}
		if _, rg := r.(*schema.RoutingGroupRoute); rg {
			missing &^= arithOps // reported by incomplete-operation-policies
			missing &= getLike | updateLike | deleteOps
		} else {
			missing &= essentialOps
		}
		if missing != 0 {
			missingMessage(p, r, missing)
		}
	}
}

func runIncompletePolicies(p *Pass) {
	for _, r := range p.a.nodes {
		missing, ok := p.a.uncovered(r)
		if !ok {
			continue
		}
		if _, rg := r.(*schema.RoutingGroupRoute); rg {
			missing &= arithOps
		} else {
			missing &= commonOps
		}
		if missing != 0 {
			missingMessage(p, r, missing)
		}
	}
}

// maxKeyLen is memcached's ASCII key length limit.
const maxKeyLen = 250

// prefixNeverMatches says why a PrefixSelectorRoute policy can never match
// a routing key, or returns "".
func prefixNeverMatches(prefix string) string {
	switch {
	case strings.Contains(prefix, "|#|"):
		return "it contains the hash stop \"|#|\", and policies are matched against the routing key, which ends before it"
	case len(prefix) > maxKeyLen:
		return "it is longer than the longest key (" + strconv.Itoa(maxKeyLen) + " bytes)"
	case strings.IndexFunc(prefix, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return "it contains a space or a control character, which memcached keys cannot contain"
	case strings.HasPrefix(prefix, "/") && strings.Count(prefix, "/") >= 3:
		return "it starts with a routing prefix (/region/cluster/), which is removed from the key before policies are matched"
	}
	return ""
}

func runUnmatchedPrefix(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		n, ok := r.(*schema.PrefixSelectorRoute)
		if !ok {
			continue
		}
		keys := make([]string, 0, len(n.Policies))
		for k := range n.Policies {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			why := prefixNeverMatches(k)
			if why == "" {
				continue
			}
			path := joinPath(joinPath(a.path[r], "policies"), k)
			p.Reportf(p.fieldPos(path, n.Policies[k].Position()), path,
				"the policy for key prefix %q never matches: %s; its keys go to the wildcard instead", k, why)
		}
	}
}

func runUnreachableEntry(p *Pass) {
	for i, e := range p.Config.Routes {
		if len(e.Aliases) > 0 {
			continue
		}
		p.Reportf(e.Pos, indexPath("routes", i), "this routes entry has no aliases, so no routing prefix selects it and its route serves no request; add the /region/cluster/ prefixes that should reach it, or remove it")
	}
}

func runDeleteWriteMismatch(p *Pass) {
	a := p.a
	type root struct {
		r    schema.Route
		path string
	}
	var roots []root
	for i, e := range p.Config.Entries() {
		path := a.path[e.Route]
		if path == "" {
			path = indexPath("routes", i)
		}
		if ps, ok := a.resolve(e.Route).(*schema.PrefixSelectorRoute); ok {
			psPath := a.path[ps]
			for _, k := range slices.Sorted(maps.Keys(ps.Policies)) {
				roots = append(roots, root{ps.Policies[k], joinPath(joinPath(psPath, "policies"), k)})
			}
			if ps.Wildcard != nil {
				roots = append(roots, root{ps.Wildcard, joinPath(psPath, "wildcard")})
			}
			continue
		}
		roots = append(roots, root{e.Route, path})
	}
	for _, rt := range roots {
		sets := a.serversOf(rt.r, mc.OpSet)
		dels := a.serversOf(rt.r, mc.OpDelete)
		var missing []string
		for s, pool := range sets {
			if _, ok := dels[s]; !ok {
				missing = append(missing, s+" (pool "+pool+")")
			}
		}
		if len(missing) == 0 {
			continue
		}
		slices.Sort(missing)
		p.Reportf(p.fieldPos(rt.path, rt.r.Position()), rt.path,
			"sets are stored on %s but deletes never reach %s: a deleted key is still served from there until it expires; send deletes everywhere sets go",
			andList(missing), map[bool]string{true: "it", false: "them"}[len(missing) == 1])
	}
}
