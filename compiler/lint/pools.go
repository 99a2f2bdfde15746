package lint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/schema"
)

// Rules about pools and the routes that hash over them.

func poolPath(name string) string { return joinPath("pools", name) }

func runDuplicateServer(p *Pass) {
	for _, name := range p.Config.PoolNames() {
		pool := p.Config.Pools[name]
		first := map[string]int{}
		for i, s := range pool.Servers {
			k := serverKey(s)
			if k == "" {
				continue
			}
			j, dup := first[k]
			if !dup {
				first[k] = i
				continue
			}
			path := indexPath(joinPath(poolPath(name), "servers"), i)
			p.Reportf(s.Pos, path,
				"server %s appears twice in pool %s (servers[%d] and servers[%d]): PoolRoute|%s gives it twice the share of keys and Pool|%s sends it every request twice; remove the duplicate (use weights to give a server more keys)",
				k, name, j, i, name, name)
		}
	}
}

func runEmptyPool(p *Pass) {
	for _, name := range p.Config.PoolNames() {
		pool := p.Config.Pools[name]
		if len(pool.Servers) > 0 || pool.Discovery != nil || pool.Extra["server_list_from_pool"] != nil {
			continue
		}
		what := "every request routed to it fails with an error (\"HashRoute with empty children\")"
		if !pool.ErrorOnEmptyOrDefault() {
			what = "every request routed to it is answered like NullRoute (gets miss, sets report NOT_STORED) because error_on_empty is false"
		}
		p.Reportf(pool.Pos, poolPath(name), "pool %s has no servers: %s; add servers or remove the pool and its routes", name, what)
	}
}

func runWeightsCount(p *Pass) {
	check := func(pos schema.Pos, path, what string, weights, servers int, unit string) {
		if weights == 0 || weights == servers {
			return
		}
		p.Reportf(pos, path, "%s has %d weights for %d %s: mcrouter pads missing weights with 0.5 and drops extra ones, so keys are not spread as written; give exactly one weight per %s",
			what, weights, servers, plural(servers, unit), unit)
	}
	for _, name := range p.Config.PoolNames() {
		pool := p.Config.Pools[name]
		if pool.Weights == nil {
			continue
		}
		path := joinPath(poolPath(name), "weights")
		check(p.fieldPos(path, pool.Pos), path, "pool "+name, len(pool.Weights), len(pool.Servers), "server")
	}
	a := p.a
	for _, r := range a.nodes {
		switch n := r.(type) {
		case *schema.PoolRoute:
			if n.Hash != nil && n.Hash.Weights != nil {
				if pool := p.Config.Pools[n.Pool]; pool != nil {
					check(p.fieldPos(joinPath(joinPath(a.path[r], "hash"), "weights"), n.Position()), joinPath(joinPath(a.path[r], "hash"), "weights"), a.describe(r), len(n.Hash.Weights), len(pool.Servers), "server")
				}
			}
		case *schema.HashRoute:
			if n.Hash.Weights != nil {
				check(p.fieldPos(joinPath(a.path[r], "weights"), n.Position()), joinPath(a.path[r], "weights"), "HashRoute", len(n.Hash.Weights), len(a.expandAll(n.Children)), "child")
			}
		case *schema.LatestRoute:
			if n.Weights != nil {
				check(p.fieldPos(joinPath(a.path[r], "weights"), n.Position()), joinPath(a.path[r], "weights"), "LatestRoute", len(n.Weights), len(a.expandAll(n.Children)), "child")
			}
		}
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return unit
	}
	if strings.HasSuffix(unit, "d") {
		return unit + "ren"
	}
	return unit + "s"
}

func runReplicaOrderMismatch(p *Pass) {
	a := p.a
	hashed := a.hashedPools()
	names := p.Config.PoolNames()
	for j, b := range names {
		sb, ok := a.poolServers(b)
		if !ok || len(sb) < 2 {
			continue
		}
		for _, x := range names[:j] {
			sx, ok := a.poolServers(x)
			if !ok || len(sx) != len(sb) || slices.Equal(sx, sb) {
				continue
			}
			cx, cb := slices.Clone(sx), slices.Clone(sb)
			slices.Sort(cx)
			slices.Sort(cb)
			if !slices.Equal(cx, cb) {
				continue
			}
			if hashed[x] || hashed[b] {
				p.Reportf(p.Config.Pools[b].Pos, poolPath(b),
					"pools %s and %s list the same %d servers in a different order: with PoolRoute|%s and PoolRoute|%s the same key hashes to a different physical server in each pool (the hash picks a position in the list), so one pool does not find what was written through the other; with Pool|%s and Pool|%s lists the first server tried differs; list the servers in the same order unless that is deliberate",
					x, b, len(sb), x, b, x, b)
			} else {
				p.Reportf(p.Config.Pools[b].Pos, poolPath(b),
					"pools %s and %s list the same %d servers in a different order: they are used as Pool|%s and Pool|%s lists, where the order is the order of tries, so the first server tried differs (a way to spread reads, if intended); hashing over them (PoolRoute|%s, PoolRoute|%s) would send the same key to a different physical server in each pool, so they cannot be used as hashed replicas of each other",
					x, b, len(sb), x, b, x, b)
			}
			break
		}
	}
}

// hashedPools returns the pools some route hashes over: PoolRoute,
// SaltedFailoverRoute, or a HashRoute over a Pool list.
func (a *analysis) hashedPools() map[string]bool {
	out := map[string]bool{}
	for _, r := range a.nodes {
		switch n := r.(type) {
		case *schema.PoolRoute:
			out[n.Pool] = true
		case *schema.SaltedFailoverRoute:
			out[n.Pool] = true
		case *schema.HashRoute:
			for _, c := range n.Children {
				if pl, ok := a.resolve(c).(*schema.PoolList); ok {
					out[pl.Pool] = true
				}
			}
		}
	}
	return out
}

func runTimeoutSuspicious(p *Pass) {
	for _, name := range p.Config.PoolNames() {
		pool := p.Config.Pools[name]
		for _, t := range []struct {
			key string
			ms  int
		}{{"server_timeout", pool.ServerTimeoutMs}, {"connect_timeout", pool.ConnectTimeoutMs}} {
			path := joinPath(poolPath(name), t.key)
			switch {
			case t.ms <= 0 || t.ms > 1000000:
				// Unset, or out of mcrouter's range (reported when
				// loading).
			case t.ms < 10:
				p.Reportf(p.fieldPos(path, pool.Pos), path,
					"pool %s has %s %d ms: timeouts are in milliseconds, and below 10 ms ordinary network jitter turns into timeouts, failovers and TKO marks; did you mean %d000 (%d s)?",
					name, t.key, t.ms, t.ms, t.ms)
			case t.ms > 60000:
				p.Reportf(p.fieldPos(path, pool.Pos), path,
					"pool %s has %s %d ms (%s): a hung server holds client requests that long before failover starts; the default is 1000 ms",
					name, t.key, t.ms, seconds(t.ms))
			}
		}
	}
}

func seconds(ms int) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + " s"
}

func runUnusedPool(p *Pass) {
	for _, name := range p.Config.PoolNames() {
		pool := p.Config.Pools[name]
		if pool.Inline || p.a.poolRefs[name] > 0 {
			continue
		}
		p.Reportf(pool.Pos, poolPath(name), "pool %s is not used by any route; remove it, or check the pool names in your routes for a typo", name)
	}
}

func runUnusedHandle(p *Pass) {
	for _, name := range p.Config.HandleNames() {
		def := p.Config.NamedHandles[name]
		if def == nil || p.a.refs[name] > 0 {
			continue
		}
		p.Reportf(def.Position(), p.a.path[def], "named handle %q is never referenced, so it routes nothing (and mcrouter does not even check object-form named_handles nobody uses); remove it or refer to it by name", name)
	}
}

func runHashIgnoresWeights(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		n, ok := r.(*schema.HashRoute)
		if !ok || n.Hash.Func == "WeightedCh3" && n.Hash.Weights != nil {
			continue
		}
		for _, c := range n.Children {
			pl, ok := a.resolve(c).(*schema.PoolList)
			if !ok {
				continue
			}
			pool := p.Config.Pools[pl.Pool]
			if pool == nil || len(pool.Weights) == 0 {
				continue
			}
			fn := n.Hash.Func
			if fn == "" {
				fn = "Ch3"
			}
			p.reportNode(r, a.reach[r],
				"%s hashes over pool %s's servers with %s and ignores the pool's weights %v (only PoolRoute reads pool weights): use PoolRoute|%s, or give the HashRoute \"hash_func\": \"WeightedCh3\" and \"weights\"",
				a.describe(r), pl.Pool, fn, pool.Weights, pl.Pool)
			break
		}
	}
}

func runIneffectiveShadow(p *Pass) {
	a := p.a
	for _, r := range a.nodes {
		var shadows []schema.Shadow
		servers := -1
		switch n := r.(type) {
		case *schema.PoolRoute:
			shadows = n.Shadows
			if pool := p.Config.Pools[n.Pool]; pool != nil {
				servers = len(pool.Servers)
			}
		case *schema.ShadowRoute:
			shadows = n.Shadows
			servers = len(a.expandAll(n.Children))
		default:
			continue
		}
		for i, s := range shadows {
			var why string
			switch {
			case s.RequestsFraction != nil && *s.RequestsFraction <= 0:
				why = "requests_fraction is 0"
			case len(s.KeysToShadow) > 0:
				continue
			case s.IndexRange[0] >= s.IndexRange[1]:
				why = fmt.Sprintf("index_range [%d, %d) selects no server (it defaults to [0, 0]; the end is exclusive)", s.IndexRange[0], s.IndexRange[1])
			case servers >= 0 && s.IndexRange[0] >= servers:
				why = fmt.Sprintf("index_range [%d, %d) starts past the last of the %d servers", s.IndexRange[0], s.IndexRange[1], servers)
			case s.KeyFractionRange[1] <= 0:
				why = "key_fraction_range [0, 0] selects (almost) no key (it defaults to [0, 0])"
			default:
				continue
			}
			p.Reportf(s.Pos, indexPath(joinPath(a.path[r], "shadows"), i), "this shadow of %s copies no traffic: %s; set the ranges you meant", a.describe(r), why)
		}
	}
}
