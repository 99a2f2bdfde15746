package schema

import (
	"maps"
	"slices"
	"sort"
	"strconv"
)

// Edge is a route-valued field of a node: its label as mcrouter spells the
// field ("children[1]", "operation_policies.get", "cold") and the child.
type Edge struct {
	Label string
	Route Route
}

// Edges returns r's children in a fixed order: list fields in index order,
// map fields in sorted key order, defaults and wildcards last. References
// are not followed.
func Edges(r Route) []Edge {
	var out []Edge
	list := func(field string, rs []Route) {
		for i, c := range rs {
			if c != nil {
				out = append(out, Edge{field + "[" + strconv.Itoa(i) + "]", c})
			}
		}
	}
	one := func(field string, c Route) {
		if c != nil {
			out = append(out, Edge{field, c})
		}
	}
	mapped := func(field string, m map[string]Route) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			one(field+"."+k, m[k])
		}
	}
	shadows := func(ss []Shadow) {
		for i, s := range ss {
			one("shadows["+strconv.Itoa(i)+"].target", s.Target)
		}
	}
	switch n := r.(type) {
	case *PoolRoute:
		shadows(n.Shadows)
		if n.SlowWarmup != nil {
			one("slow_warmup.failoverTarget", n.SlowWarmup.Target)
		}
	case *HashRoute:
		list("children", n.Children)
	case *AllSyncRoute:
		list("children", n.Children)
	case *AllAsyncRoute:
		list("children", n.Children)
	case *AllInitialRoute:
		list("children", n.Children)
	case *AllFastestRoute:
		list("children", n.Children)
	case *AllMajorityRoute:
		list("children", n.Children)
	case *FailoverRoute:
		list("children", n.Children)
	case *MissFailoverRoute:
		list("children", n.Children)
	case *FailoverWithExptimeRoute:
		one("normal", n.Normal)
		list("failover", n.Failover)
	case *LatestRoute:
		list("children", n.Children)
	case *RandomRoute:
		list("children", n.Children)
	case *HostIDRoute:
		list("children", n.Children)
	case *OperationSelectorRoute:
		mapped("operation_policies", n.OperationPolicies)
		one("default_policy", n.DefaultPolicy)
	case *RoutingGroupRoute:
		mapped("routing_group_policies", n.RoutingGroupPolicies)
		one("default_policy", n.DefaultPolicy)
	case *PrefixSelectorRoute:
		mapped("policies", n.Policies)
		one("wildcard", n.Wildcard)
	case *WarmUpRoute:
		one("cold", n.Cold)
		one("warm", n.Warm)
	case *L1L2CacheRoute:
		one("l1", n.L1)
		one("l2", n.L2)
	case *L1L2SizeSplitRoute:
		one("l1", n.L1)
		one("l2", n.L2)
	case *MigrateRoute:
		one("from", n.From)
		one("to", n.To)
	case *ModifyKeyRoute:
		one("target", n.Target)
	case *ModifyExptimeRoute:
		one("target", n.Target)
	case *LatencyInjectionRoute:
		one("child", n.Child)
	case *RateLimitRoute:
		one("target", n.Target)
		one("fallback", n.Fallback)
	case *ShadowRoute:
		list("children", n.Children)
		shadows(n.Shadows)
	case *KeySplitRoute:
		one("destination", n.Destination)
	case *LoggingRoute:
		one("target", n.Target)
	case *Generic:
		keys := make([]string, 0, len(n.Routes))
		for k := range n.Routes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if n.Single[k] && len(n.Routes[k]) == 1 {
				one(k, n.Routes[k][0])
			} else {
				list(k, n.Routes[k])
			}
		}
	}
	return out
}

// Walk calls fn for r and, if fn returns true, for each of r's descendants in
// Edges order, depth first. References are not followed (walk
// Config.NamedHandles for the definitions); pool servers given as route
// handles are not visited.
func Walk(r Route, fn func(Route) bool) {
	if r == nil || !fn(r) {
		return
	}
	for _, e := range Edges(r) {
		Walk(e.Route, fn)
	}
}

// WalkConfig calls fn for every route node of c: the route trees, then the
// named handles in name order, then route-handle servers of pools.
func WalkConfig(c *Config, fn func(Route) bool) {
	for _, e := range c.Entries() {
		Walk(e.Route, fn)
	}
	for _, name := range c.HandleNames() {
		Walk(c.NamedHandles[name], fn)
	}
	for _, name := range c.PoolNames() {
		for _, s := range c.Pools[name].Servers {
			if s.Route != nil {
				Walk(s.Route, fn)
			}
		}
	}
}
