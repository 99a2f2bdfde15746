package lint

import (
	"fmt"
	"slices"

	"github.com/mcroute/mcroute/schema"
)

// Rules about routes that try destinations one after another, or combine
// two of them.

func isFailover(r schema.Route) bool {
	switch r.(type) {
	case *schema.FailoverRoute, *schema.FailoverWithExptimeRoute, *schema.MissFailoverRoute, *schema.LatestRoute:
		return true
	}
	return false
}

func runSameServerFailover(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		if !isFailover(r) {
			continue
		}
		slots := a.expandAll(children(r))
		seen := map[string]int{}
		for i, s := range slots {
			if s.opaque() {
				continue
			}
			j, dup := seen[s.id()]
			if !dup {
				seen[s.id()] = i
				continue
			}
			var what string
			if s.server != "" {
				what = fmt.Sprintf("destinations %d and %d are both server %s", j, i, s.server)
			} else {
				what = fmt.Sprintf("destinations %d and %d (%s and %s) hash every key to the same server: same servers in the same order, %s", j, i, a.describe(slots[j].node), a.describe(s.node), s.hash)
			}
			p.reportNode(r, a.reach[r],
				"%s tries the same server twice: %s; the failover goes back to the server that just failed or missed, which only adds latency; fail over to a different pool, or to the same pool with another salt",
				a.describe(r), what)
			break
		}
	}
}

func runSingleChildFailover(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		if !isFailover(r) || a.reach[r] == 0 {
			continue
		}
		slots := a.expandAll(children(r))
		if len(slots) != 1 {
			continue
		}
		why := ""
		if pl, ok := a.resolve(children(r)[0]).(*schema.PoolList); ok {
			why = " (pool " + pl.Pool + " has one server)"
		}
		p.reportNode(r, a.reach[r],
			"%s has a single destination%s, so it never fails over and behaves exactly like %s; add the destination it should fail over to, or use the child directly",
			a.describe(r), why, a.describe(slots[0].node))
	}
}

func runIdenticalBranches(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		var x, y schema.Route
		var what string
		switch n := r.(type) {
		case *schema.WarmUpRoute:
			x, y, what = n.Cold, n.Warm, "cold and warm"
		case *schema.L1L2CacheRoute:
			x, y, what = n.L1, n.L2, "l1 and l2"
		case *schema.MigrateRoute:
			x, y, what = n.From, n.To, "from and to"
		default:
			continue
		}
		if x == nil || y == nil {
			continue
		}
		sx, sy := slotIDs(a.expand(x)), slotIDs(a.expand(y))
		same := a.resolve(x) == a.resolve(y) && a.resolve(x) != nil
		if !same && (sx == nil || !slices.Equal(sx, sy)) {
			continue
		}
		p.reportNode(r, a.reach[r],
			"%s's %s are the same destination (%s): a miss is retried where it just missed and filled back into itself, or a migration moves nothing; point the two sides at different pools",
			r.Kind(), what, a.describe(x))
	}
}

// slotIDs returns the sorted ids of the slots, or nil if any is opaque.
func slotIDs(ss []slot) []string {
	var ids []string
	for _, s := range ss {
		if s.opaque() {
			return nil
		}
		ids = append(ids, s.id())
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
