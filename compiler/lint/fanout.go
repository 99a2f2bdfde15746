package lint

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Rules about routes that send one request to several destinations, or one
// of several.

func runWriteFanoutCapacity(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		if !isFanout(r) {
			continue
		}
		ops := a.reach[r] & updateLike
		if ops == 0 {
			continue
		}
		for _, c := range children(r) {
			pl, ok := a.resolve(c).(*schema.PoolList)
			if !ok {
				continue
			}
			servers, ok := a.poolServers(pl.Pool)
			if !ok {
				continue
			}
			n := distinct(a.expand(pl))
			if n < 2 {
				continue
			}
			what := "every " + ops.phrase()
			p.reportNode(r, ops,
				"%s goes to all %d servers of pool %s (%s): %s stores each key on every server, so its capacity is one server's memory, not %d×; use PoolRoute|%s to shard keys over the servers, or keep this only if %s is meant as %d full replicas",
				what, len(servers), pl.Pool, a.describe(r), pl.Pool, n, pl.Pool, pl.Pool, n)
		}
	}
}

// unconfirmedFanout describes how a fan-out route over n destinations
// answers without hearing from all of them, or returns "" if it waits for
// them.
func unconfirmedFanout(r schema.Route, n int) string {
	switch r.(type) {
	case *schema.AllFastestRoute:
		if n == 2 {
			return "are answered as soon as one of its 2 destinations succeeds, and a failure of the other one is never reported"
		}
		return fmt.Sprintf("are answered as soon as one of its %d destinations succeeds, and the failures of the others are never reported", n)
	case *schema.AllInitialRoute:
		if n == 2 {
			return "are answered with the first destination's reply, and the failures of the other one are never reported"
		}
		return fmt.Sprintf("are answered with the first destination's reply, and the failures of the other %d are never reported", n-1)
	case *schema.AllAsyncRoute:
		return fmt.Sprintf("are answered at once with the default reply and sent to its %d destinations in the background, so no failure is ever reported", n)
	}
	return ""
}

// forUnconfirmedFanouts calls report for every route that some of mask's
// operations reach and that sends them to at least two distinct
// destinations without hearing from all of them; ops are the operations
// of mask that reach it, how is unconfirmedFanout's description.
func (a *analysis) forUnconfirmedFanouts(mask opSet, report func(r schema.Route, ops opSet, n int, how string)) {
	for _, r := range a.nodes {
		ops := a.reach[r] & mask
		if ops == 0 {
			continue
		}
		n := distinct(a.expandAll(children(r)))
		how := unconfirmedFanout(r, n)
		if how == "" || n < 2 {
			continue
		}
		report(r, ops, n, how)
	}
}

func runStaleDelete(p *Pass) {
	p.a.forUnconfirmedFanouts(deleteOps, func(r schema.Route, ops opSet, _ int, how string) {
		p.reportNode(r, ops,
			"deletes through %s %s: a replica that misses the delete (timeout, restart, TKO) keeps serving the stale value until it expires while the client believes it is gone; send deletes through AllSyncRoute (it returns the worst reply, so clients can retry) or AllMajorityRoute",
			p.a.describe(r), how)
	})
}

func runDivergentArithmetic(p *Pass) {
	p.a.forUnconfirmedFanouts(arithOps, func(r schema.Route, ops opSet, n int, how string) {
		p.reportNode(r, ops,
			"%s requests through %s change the counter on each of its %d destinations independently and %s: a destination that misses one (timeout, restart, eviction) keeps a different value for good, and reads return whichever copy they reach; keep counters on one destination (PoolRoute) or send %s through AllSyncRoute",
			ops.phrase(), p.a.describe(r), n, how, ops.phrase())
	})
}

func runAllAsyncRead(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		if _, ok := r.(*schema.AllAsyncRoute); !ok {
			continue
		}
		ops := a.fg[r] & getLike
		if ops == 0 {
			continue
		}
		what := ops.phrase()
		if ops == getLike {
			what = "get-like request (" + andList(ops.names()) + ")"
		}
		p.reportNode(r, ops,
			"every %s answered by %s misses: AllAsyncRoute replies NOT_FOUND at once and only sends the request in the background; route reads elsewhere (an OperationSelectorRoute policy) and keep AllAsyncRoute for writes",
			what, a.describe(r))
	}
}

func runSingleReplicaWrite(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		ops := a.reach[r] & writeOps
		if ops == 0 {
			continue
		}
		slots := a.expandAll(children(r))
		n := distinct(slots)
		if n < 2 {
			continue
		}
		var how string
		switch r.(type) {
		case *schema.RandomRoute:
			how = fmt.Sprintf("go to one of its %d destinations chosen at random", n)
		case *schema.MissFailoverRoute:
			if ops&^deleteOps == 0 {
				how = "stop at the first destination that had the key"
			} else {
				how = "go to its first destination only (deletes stop at the first destination that had the key)"
			}
		case *schema.LatestRoute:
			how = fmt.Sprintf("go to the destination this client host sticks to, one of %d", n)
		case *schema.HostIDRoute:
			how = fmt.Sprintf("go to the one destination of %d chosen by this host's id", n)
		default:
			continue
		}
		p.reportNode(r, ops,
			"%s through %s %s: the other destinations keep missing or stale values that later reads return; send writes and deletes to every replica (AllSyncRoute) and keep %s for reads",
			capitalize(ops.writePhrase()), a.describe(r), how, r.Kind())
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// replicaParents are the kinds whose children are replicas of each other.
func replicaParent(r schema.Route) bool {
	if isFanout(r) {
		return true
	}
	switch r.(type) {
	case *schema.FailoverRoute, *schema.FailoverWithExptimeRoute, *schema.MissFailoverRoute, *schema.LatestRoute, *schema.RandomRoute:
		return true
	}
	return false
}

func runReplicaHashMismatch(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		if !replicaParent(r) || a.reach[r] == 0 {
			continue
		}
		// The first hashed slot over each server list stands for that
		// pool; later slots over the same servers with another hash are
		// a deliberate rehash (salted failover within a pool).
		var primary []slot
		seen := map[string]bool{}
		for _, s := range a.expandAll(children(r)) {
			if k := strings.Join(s.servers, ","); s.servers != nil && !seen[k] {
				seen[k] = true
				primary = append(primary, s)
			}
		}
	pairs:
		for i, x := range primary {
			for _, y := range primary[i+1:] {
				if len(x.servers) != len(y.servers) || x.hash == y.hash {
					continue
				}
				p.reportNode(r, a.reach[r],
					"the replicas of this %s hash differently: %s uses %s, %s uses %s; a key's copies sit at unrelated positions in the two pools, so they are not server-for-server mirrors and any route that reads one pool with the other's hash misses; use the same hash and salt on every replica unless this is deliberate",
					r.Kind(), a.describe(x.node), x.hash, a.describe(y.node), y.hash)
				break pairs
			}
		}
	}
}

func runPoolHashInconsistent(p *Pass) {
	a := p.a
	// Later children of failover routes are retries, where hashing a
	// pool differently (a salt) is the point.
	retry := map[schema.Route]bool{}
	for _, r := range a.nodes {
		if cs := children(r); isFailover(r) && len(cs) > 1 {
			for _, c := range cs[1:] {
				retry[a.resolve(c)] = true
			}
		}
	}
	first := map[string]*schema.PoolRoute{}
	for _, r := range a.nodes {
		n, ok := r.(*schema.PoolRoute)
		if !ok || a.reach[r] == 0 || retry[r] {
			continue
		}
		if servers, ok := a.poolServers(n.Pool); !ok || len(servers) < 2 {
			continue
		}
		f, seen := first[n.Pool]
		if !seen {
			first[n.Pool] = n
			continue
		}
		h, fh := a.poolRouteHash(n), a.poolRouteHash(f)
		if h == fh {
			continue
		}
		p.reportNode(n, a.reach[n],
			"pool %s is hashed with %s here but with %s at %s: the same key maps to different servers through the two routes, so values written through one are not found through the other and deletes miss copies; hash a pool the same way everywhere (a named handle helps)",
			n.Pool, h, fh, where(f))
	}
}

// where formats a node's position for a message: "policy.cue:12".
func where(r schema.Route) string {
	pos := r.Position()
	if !pos.IsValid() {
		return "another route"
	}
	return filepath.Base(pos.File) + ":" + strconv.Itoa(pos.Line)
}

func runAsynclogDelete(p *Pass) {
	a := p.a
	seen := map[string]bool{}
	for _, r := range a.nodes {
		n, ok := r.(*schema.PoolRoute)
		if !ok || !a.reach[r].has(mc.OpDelete) || n.Asynclog != nil && !*n.Asynclog || seen[n.Pool] || p.Config.Pools[n.Pool] == nil {
			continue
		}
		// Once per pool: the behaviour is the same for all its routes.
		seen[n.Pool] = true
		p.reportNode(n, deleteOps,
			"a delete through %s that fails with a connection error or timeout is spooled to the asynclog and answered NOT_FOUND, so the client never learns it failed; it is applied later only if the spool is replayed; set \"asynclog\": false if clients must see failed deletes (reported once per pool)",
			a.describe(n))
	}
}
