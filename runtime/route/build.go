package route

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Diagnostic rule identifiers reported by Build.
const (
	RuleNoRoute       = "no-route"          // the config has no route
	RuleBadRoutes     = "bad-routes"        // routing prefixes: format, duplicates, default missing
	RuleUnknownPool   = "unknown-pool"      // a route names a pool that does not exist
	RuleUnknownHandle = "unknown-handle"    // a reference to an undefined named handle
	RuleHandleCycle   = "handle-cycle"      // named handles referring to themselves
	RuleBadServer     = "bad-server"        // a server address does not parse
	RuleDestination   = "destination-error" // Options.Dest failed
	RuleBadOption     = "bad-option"        // an option value mcrouter would reject
	RuleMissingField  = "missing-field"     // a required route field is absent
	RuleSingleRoute   = "not-single-route"  // a list (Pool, ShadowRoute) where one route is needed
	RulePrefixNested  = "prefix-selector-not-top"
	RuleUnsupported   = "unsupported-route" // a kind or hash function mcroute does not execute
	RuleIgnored       = "ignored-option"    // an option mcroute does not implement
	RuleApproximated  = "approximated"      // semantics approximated (RendezvousPolicy, ...)
)

// Build makes the executable graph of cfg.
//
// Problems are returned as a diag.List (which implements error) of
// positioned diagnostics, warnings included; on success the warnings are
// available from Graph.Warnings. Build starts nothing: no goroutine, no
// connection (Options.Dest is called once per server of every pool the
// graph uses, and decides what a destination is). Build does not modify
// cfg.
func Build(cfg *schema.Config, opts Options) (*Graph, error) {
	if opts.Dest == nil {
		return nil, errors.New("route.Build: Options.Dest is required")
	}
	if cfg == nil {
		return nil, errors.New("route.Build: nil config")
	}
	if opts.DefaultRoutePrefix == "" {
		opts.DefaultRoutePrefix = schema.DefaultRoutePrefix
	}
	s := newShared(opts)
	b := &builder{
		cfg:        cfg,
		s:          s,
		memo:       make(map[schema.Route]node),
		lists:      make(map[schema.Route][]node),
		inProgress: make(map[schema.Route]bool),
		pools:      make(map[string]*builtPool),
	}
	r := b.root()
	b.diags.Sort()
	if b.diags.HasErrors() {
		return nil, b.diags
	}
	g := &Graph{s: s, root: r, warnings: b.diags}
	names := make([]string, 0, len(b.pools))
	for name := range b.pools {
		names = append(names, name)
	}
	sort.Strings(names)
	var leaves []node
	for _, name := range names {
		for _, sv := range b.pools[name].servers {
			if sv.leaf != nil {
				g.dests = append(g.dests, sv.leaf)
				leaves = append(leaves, sv.leaf)
			}
		}
	}
	switch len(leaves) {
	case 0:
	case 1:
		r.flushAll = leaves[0]
	default:
		r.flushAll = &allRoute{s: s, kind: allSync, children: leaves}
	}
	return g, nil
}

type builder struct {
	cfg        *schema.Config
	s          *shared
	diags      diag.List
	memo       map[schema.Route]node
	lists      map[schema.Route][]node
	inProgress map[schema.Route]bool
	pools      map[string]*builtPool
}

type builtPool struct {
	p       *schema.Pool
	servers []poolServer
	asyncl  map[string][]node // PoolRoute leaves per asynclog name
}

type poolServer struct {
	info  *DestInfo
	dest  Destination
	leaf  *destHandler // plain leaf, nil for route servers
	route node         // route-handle servers
}

func (b *builder) errorf(pos schema.Pos, rule, format string, args ...any) {
	b.diags.Errorf(pos, rule, format, args...)
}

func (b *builder) warnf(pos schema.Pos, rule, format string, args ...any) {
	b.diags.Warnf(pos, rule, format, args...)
}

// root builds the route table.
func (b *builder) root() *root {
	prefix := b.s.opts.DefaultRoutePrefix
	r := &root{s: b.s, defaultPrefix: prefix, byAlias: make(map[string]*rootEntry)}
	var entries []*schema.RouteEntry
	switch {
	case b.cfg.Route != nil && len(b.cfg.Routes) > 0:
		b.errorf(b.cfg.Pos, RuleNoRoute, "both 'route' and 'routes' are specified")
		return r
	case b.cfg.Route != nil:
		entries = []*schema.RouteEntry{{Aliases: []string{prefix}, Route: b.cfg.Route, Pos: b.cfg.Route.Position()}}
	case len(b.cfg.Routes) > 0:
		entries = b.cfg.Routes
	default:
		b.errorf(b.cfg.Pos, RuleNoRoute, "no route/routes in config")
		return r
	}
	for _, ent := range entries {
		if ent == nil || ent.Route == nil {
			continue
		}
		e := &rootEntry{aliases: ent.Aliases, sel: b.prefixSelector(ent.Route)}
		if len(ent.Aliases) == 0 {
			b.errorf(ent.Pos, RuleBadRoutes, "route entry without aliases")
		}
		for _, a := range ent.Aliases {
			if routingPrefixLen([]byte(a)) != len(a) || len(a) == 0 {
				b.errorf(ent.Pos, RuleBadRoutes, "invalid routing prefix %q: want /region/cluster/", a)
				continue
			}
			if _, dup := r.byAlias[a]; dup {
				b.errorf(ent.Pos, RuleBadRoutes, "routing prefix %q is defined twice", a)
				continue
			}
			r.byAlias[a] = e
		}
		r.entries = append(r.entries, e)
	}
	r.def = r.byAlias[prefix]
	if r.def == nil {
		b.errorf(b.cfg.Pos, RuleBadRoutes, "invalid default route: the routes must include the default routing prefix %q", prefix)
		r.def = &rootEntry{sel: &prefixSelector{}}
	}
	return r
}

func (b *builder) prefixSelector(rt schema.Route) *prefixSelector {
	if ref, ok := rt.(*schema.Ref); ok {
		if def := b.named(ref); def != nil {
			if _, isPS := def.(*schema.PrefixSelectorRoute); isPS {
				rt = def
			}
		}
	}
	ps, ok := rt.(*schema.PrefixSelectorRoute)
	if !ok {
		return &prefixSelector{wildcard: b.one(rt)}
	}
	sel := &prefixSelector{}
	keys := make([]string, 0, len(ps.Policies))
	for k := range ps.Policies {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		sel.prefixes = append(sel.prefixes, k)
		sel.policies = append(sel.policies, b.one(ps.Policies[k]))
	}
	if ps.Wildcard != nil {
		sel.wildcard = b.one(ps.Wildcard)
	}
	return sel
}

// named returns the definition a reference points to, or nil after an
// error.
func (b *builder) named(ref *schema.Ref) schema.Route {
	def, ok := b.cfg.NamedHandles[ref.Target]
	if !ok || def == nil {
		b.errorf(ref.Pos, RuleUnknownHandle, "unknown named handle %q", ref.Target)
		return nil
	}
	return def
}

// one builds r where exactly one route is expected.
func (b *builder) one(r schema.Route) node {
	hs := b.list([]schema.Route{r})
	switch {
	case len(hs) == 1:
		return hs[0]
	case r == nil:
		return &nullRoute{s: b.s}
	}
	if isList(r, b.cfg) {
		b.errorf(r.Position(), RuleSingleRoute, "%s stands for %d routes here, where one route is expected", describeList(r, b.cfg), len(hs))
	}
	return &nullRoute{s: b.s}
}

func isList(r schema.Route, cfg *schema.Config) bool {
	if ref, ok := r.(*schema.Ref); ok {
		r = cfg.NamedHandles[ref.Target]
	}
	switch r.(type) {
	case *schema.PoolList, *schema.ShadowRoute:
		return true
	}
	return false
}

func describeList(r schema.Route, cfg *schema.Config) string {
	if ref, ok := r.(*schema.Ref); ok {
		r = cfg.NamedHandles[ref.Target]
	}
	if p, ok := r.(*schema.PoolList); ok {
		return "Pool|" + p.Pool
	}
	return r.Kind()
}

// list builds routes where a list is expected: Pool expands to its servers,
// ShadowRoute to its (wrapped) children.
func (b *builder) list(rs []schema.Route) []node {
	var out []node
	for _, r := range rs {
		if r == nil {
			continue
		}
		if ref, ok := r.(*schema.Ref); ok {
			def := b.named(ref)
			if def == nil {
				out = append(out, &nullRoute{s: b.s})
				continue
			}
			if b.inProgress[def] {
				b.errorf(ref.Pos, RuleHandleCycle, "named handle %q refers to itself", ref.Target)
				out = append(out, &nullRoute{s: b.s})
				continue
			}
			r = def
		}
		if hs, ok := b.lists[r]; ok {
			out = append(out, hs...)
			continue
		}
		switch n := r.(type) {
		case *schema.PoolList:
			hs := b.poolList(n)
			b.lists[r] = hs
			out = append(out, hs...)
			continue
		case *schema.ShadowRoute:
			b.inProgress[r] = true
			hs := b.shadowRoute(n)
			delete(b.inProgress, r)
			b.lists[r] = hs
			out = append(out, hs...)
			continue
		}
		out = append(out, b.build(r))
	}
	return out
}

// build builds a single route node, once per schema node.
func (b *builder) build(r schema.Route) node {
	if h, ok := b.memo[r]; ok {
		return h
	}
	if b.inProgress[r] {
		b.errorf(r.Position(), RuleHandleCycle, "%s refers to itself through named handles", r.Kind())
		return &nullRoute{s: b.s}
	}
	b.inProgress[r] = true
	h := b.kind(r)
	delete(b.inProgress, r)
	b.memo[r] = h
	return h
}

// required reports a missing required field.
func (b *builder) required(r schema.Route, field string, v schema.Route) bool {
	if v == nil {
		b.errorf(r.Position(), RuleMissingField, "%s: %s is required", r.Kind(), field)
		return false
	}
	return true
}

// ignoredExtra warns about options mcrouter knows but mcroute does not
// implement.
var ignoredExtra = map[string][]string{
	"PoolRoute": {"max_outstanding", "distribution_enabled", "useBucketHashSelector", "axonlog", "axonlog_tier",
		"axonlog_keyspace", "axonlog_all_delete", "axonlog_default_region_filter"},
	"HashRoute":             {"bucketize", "client_fanout"},
	"LatencyInjectionRoute": {"total_latency_percentile_ms", "request_payload_latency"},
}

func (b *builder) checkExtra(r schema.Route) {
	m := r.Meta()
	for _, k := range ignoredExtra[r.Kind()] {
		if _, ok := m.Extra[k]; ok {
			b.warnf(r.Position(), RuleIgnored, "%s: option %q is not implemented by mcroute and is ignored", r.Kind(), k)
		}
	}
}

func (b *builder) kind(r schema.Route) node {
	b.checkExtra(r)
	s := b.s
	switch n := r.(type) {
	case *schema.Ref:
		def := b.named(n)
		if def == nil {
			return &nullRoute{s: s}
		}
		return b.one(def)
	case *schema.PoolRoute:
		return b.poolRoute(n)
	case *schema.HashRoute:
		return b.hashRoute(n)
	case *schema.AllSyncRoute:
		return b.all(allSync, b.list(n.Children))
	case *schema.AllAsyncRoute:
		return b.all(allAsync, b.list(n.Children))
	case *schema.AllInitialRoute:
		return b.all(allInitial, b.list(n.Children))
	case *schema.AllFastestRoute:
		return b.all(allFastest, b.list(n.Children))
	case *schema.AllMajorityRoute:
		return b.all(allMajority, b.list(n.Children))
	case *schema.FailoverRoute:
		return b.failover(r, "FailoverRoute", b.list(n.Children), n.FailoverOptions)
	case *schema.MissFailoverRoute:
		children := b.list(n.Children)
		switch len(children) {
		case 0:
			return &nullRoute{s: s}
		case 1:
			return children[0]
		}
		return &missFailoverRoute{children: children, returnBest: n.ReturnBestOnError}
	case *schema.FailoverWithExptimeRoute:
		return b.failoverWithExptime(n)
	case *schema.LatestRoute:
		return b.latest(n)
	case *schema.RandomRoute:
		children := b.list(n.Children)
		switch len(children) {
		case 0:
			return &nullRoute{s: s}
		case 1:
			return children[0]
		}
		return &randomRoute{s: s, children: children}
	case *schema.HostIDRoute:
		return b.hostID(n)
	case *schema.OperationSelectorRoute:
		return b.operationSelector(n)
	case *schema.RoutingGroupRoute:
		return b.routingGroup(n)
	case *schema.PrefixSelectorRoute:
		b.errorf(n.Pos, RulePrefixNested, "PrefixSelectorRoute is only valid at the top of a route or routes entry")
		return &nullRoute{s: s}
	case *schema.WarmUpRoute:
		if !b.required(r, "cold", n.Cold) || !b.required(r, "warm", n.Warm) {
			return &nullRoute{s: s}
		}
		if n.EnableMetaget {
			b.warnf(n.Pos, RuleIgnored, "WarmUpRoute: enable_metaget is not implemented; exptime %d is used for fills", n.Exptime)
		}
		return &warmUpRoute{s: s, cold: b.one(n.Cold), warm: b.one(n.Warm), exptime: n.Exptime}
	case *schema.L1L2CacheRoute:
		if !b.required(r, "l1", n.L1) || !b.required(r, "l2", n.L2) {
			return &nullRoute{s: s}
		}
		return &l1l2Route{s: s, l1: b.one(n.L1), l2: b.one(n.L2), upgradeExptime: n.UpgradingL1Exptime,
			ncacheExpire: n.NcacheExptime, ncachePeriod: n.NcacheUpdatePeriod}
	case *schema.L1L2SizeSplitRoute:
		return b.sizeSplit(n)
	case *schema.MigrateRoute:
		if !b.required(r, "from", n.From) || !b.required(r, "to", n.To) {
			return &nullRoute{s: s}
		}
		interval := n.Interval
		if interval == 0 {
			interval = 3600
		}
		if interval < 0 {
			b.errorf(n.Pos, RuleBadOption, "MigrateRoute: interval must be positive, not %d", interval)
			interval = 3600
		}
		m := &migrateRoute{s: s, from: b.one(n.From), to: b.one(n.To), start: n.StartTime, interval: interval}
		m.fromAndTo = []node{m.from, m.to}
		return m
	case *schema.ModifyKeyRoute:
		return b.modifyKey(n)
	case *schema.ModifyExptimeRoute:
		if !b.required(r, "target", n.Target) {
			return &nullRoute{s: s}
		}
		target := b.one(n.Target)
		switch n.Action {
		case "", "set":
			return &modifyExptimeRoute{target: target, exptime: n.Exptime}
		case "min":
			if n.Exptime == 0 {
				return target
			}
			return &modifyExptimeRoute{target: target, exptime: n.Exptime, min: true}
		}
		b.errorf(n.Pos, RuleBadOption, "ModifyExptimeRoute: action must be \"set\" or \"min\", not %q", n.Action)
		return target
	case *schema.LatencyInjectionRoute:
		if !b.required(r, "child", n.Child) {
			return &nullRoute{s: s}
		}
		child := b.one(n.Child)
		if n.MaxRequestUsec != 0 {
			b.warnf(n.Pos, RuleIgnored, "LatencyInjectionRoute: max_request_latency_us is not implemented and is ignored")
		}
		if n.BeforeLatency < 0 || n.AfterLatency < 0 || n.TotalLatency < 0 {
			b.errorf(n.Pos, RuleBadOption, "LatencyInjectionRoute: latencies must not be negative")
		}
		if n.BeforeLatency <= 0 && n.AfterLatency <= 0 && n.TotalLatency <= 0 {
			return child
		}
		ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
		return &latencyRoute{child: child, before: ms(n.BeforeLatency), after: ms(n.AfterLatency), total: ms(n.TotalLatency)}
	case *schema.RateLimitRoute:
		if !b.required(r, "target", n.Target) {
			return &nullRoute{s: s}
		}
		var fallback node
		if n.Fallback != nil {
			fallback = b.one(n.Fallback)
		}
		return b.rateLimit(n.Pos, b.one(n.Target), fallback, &n.Rates)
	case *schema.ShadowRoute:
		return b.one(r) // via list
	case *schema.KeySplitRoute:
		if !b.required(r, "destination", n.Destination) {
			return &nullRoute{s: s}
		}
		if n.Replicas < 2 || n.Replicas > 1000 {
			b.errorf(n.Pos, RuleBadOption, "KeySplitRoute: replicas must be in 2..1000, not %d", n.Replicas)
			return b.one(n.Destination)
		}
		id := int(s.hostID % uint32(n.Replicas))
		return &keySplitRoute{s: s, child: b.one(n.Destination), replicas: n.Replicas, allSync: n.AllSync,
			firstHit: n.FirstHit, replicaID: id,
			name: fmt.Sprintf("keysplit|replicas=%d|all-sync=%t|first-hit=%t|replicaId=%d", n.Replicas, n.AllSync, n.FirstHit, id)}
	case *schema.LoggingRoute:
		if !b.required(r, "target", n.Target) {
			return &nullRoute{s: s}
		}
		return &loggingRoute{s: s, target: b.one(n.Target)}
	case *schema.ErrorRoute:
		res := mc.ResLocalError
		if n.Result != "" {
			v, ok := mc.ParseResult(n.Result)
			if !ok || !v.IsError() {
				b.errorf(n.Pos, RuleBadOption, "ErrorRoute: result %q is not an error result (want e.g. mc_res_local_error)", n.Result)
			} else {
				res = v
			}
		}
		return &errorRoute{s: s, result: res, message: n.Response, logging: n.EnableLogging == nil || *n.EnableLogging}
	case *schema.NullRoute:
		return &nullRoute{s: s}
	case *schema.DevNullRoute:
		return &nullRoute{s: s, dev: true}
	case *schema.SaltedFailoverRoute:
		return b.saltedFailover(n)
	case *schema.PoolList:
		return b.one(r)
	case *schema.Generic:
		return b.unsupported(n.Pos, n.Type)
	}
	b.errorf(r.Position(), RuleUnsupported, "unknown route kind %s", r.Kind())
	return &nullRoute{s: s}
}

func (b *builder) unsupported(pos schema.Pos, kind string) node {
	b.warnf(pos, RuleUnsupported, "%s is not supported by mcroute serve: requests reaching it are answered SERVER_ERROR", kind)
	return newUnsupported(b.s, kind)
}

func (b *builder) all(kind allKind, children []node) node {
	switch {
	case len(children) == 0:
		return &nullRoute{s: b.s}
	case len(children) == 1 && kind != allAsync:
		return children[0]
	}
	return &allRoute{s: b.s, kind: kind, children: children}
}

// pool returns the built pool, making its destinations on first use.
func (b *builder) pool(name string, pos schema.Pos) *builtPool {
	if bp, ok := b.pools[name]; ok {
		return bp
	}
	p, ok := b.cfg.Pools[name]
	if !ok || p == nil {
		b.errorf(pos, RuleUnknownPool, "unknown pool %q", name)
		return nil
	}
	bp := &builtPool{p: p, asyncl: make(map[string][]node)}
	b.pools[name] = bp
	if _, ok := p.Extra["additional_fanout"]; ok {
		b.warnf(p.Pos, RuleIgnored, "pool %s: additional_fanout is not implemented and is ignored", name)
	}
	timeout := p.ServerTimeoutMs
	if timeout == 0 {
		timeout = 1000
	}
	connect := p.ConnectTimeoutMs
	if connect == 0 {
		connect = timeout
	}
	for i, sv := range p.Servers {
		spos := sv.Pos
		if !spos.IsValid() {
			spos = p.Pos
		}
		if sv.Route != nil {
			bp.servers = append(bp.servers, poolServer{route: b.one(sv.Route)})
			continue
		}
		addr, err := schema.ParseAddr(sv.Addr)
		if p.PortOverride != 0 {
			addr, err = overridePort(sv.Addr, p.PortOverride)
		}
		if err != nil {
			b.errorf(spos, RuleBadServer, "pool %s: %v", name, err)
			bp.servers = append(bp.servers, poolServer{route: &errorRoute{s: b.s, result: mc.ResLocalError, message: err.Error()}})
			continue
		}
		info := &DestInfo{Pool: name, Index: i, Server: sv.Addr, Addr: addr, Protocol: addr.EffectiveProtocol(p.Protocol),
			TimeoutMs: timeout, ConnectTimeoutMs: connect, KeepRoutingPrefix: p.KeepRoutingPrefix}
		d, err := b.s.opts.Dest(*info)
		if err != nil || d == nil {
			if err == nil {
				err = errors.New("no destination")
			}
			b.errorf(spos, RuleDestination, "pool %s server %s: %v", name, sv.Addr, err)
			bp.servers = append(bp.servers, poolServer{route: &errorRoute{s: b.s, result: mc.ResLocalError, message: err.Error()}})
			continue
		}
		bp.servers = append(bp.servers, poolServer{info: info, dest: d, leaf: newDestHandler(b.s, d, info, "")})
	}
	return bp
}

// leaves returns the pool's server handles; with asynclog set, fresh
// destination handles carrying the asynclog behaviour.
func (bp *builtPool) leaves(s *shared, asynclog string) []node {
	if hs, ok := bp.asyncl[asynclog]; ok {
		return hs
	}
	hs := make([]node, len(bp.servers))
	for i, sv := range bp.servers {
		switch {
		case sv.route != nil:
			hs[i] = sv.route
		case asynclog == "":
			hs[i] = sv.leaf
		default:
			hs[i] = newDestHandler(s, sv.dest, sv.info, asynclog)
		}
	}
	bp.asyncl[asynclog] = hs
	return hs
}

func (b *builder) poolList(n *schema.PoolList) []node {
	bp := b.pool(n.Pool, n.Pos)
	if bp == nil {
		return nil
	}
	return bp.leaves(b.s, "")
}

// hashFuncs that select another route kind rather than a hash.
var specialHash = map[string]bool{"Latest": true, "LoadBalancer": true, "Rendezvous": true,
	"WeightedRendezvous": true, "WeightedCh3Rv": true}

// selection builds the hash selection over children (createHashRoute).
// name is the pool or handle name for the empty-children error.
func (b *builder) selection(pos schema.Pos, children []node, spec hash.Spec, errorOnEmpty bool, name, label string, h *schema.Hash) node {
	if specialHash[spec.Func] {
		if spec.Func == "Latest" {
			count := 5
			if h != nil {
				if v, ok := intExtra(h.Extra, "failover_count"); ok {
					count = v
				}
			}
			return b.latestOver(pos, children, spec.Weights, count, spec.Salt, schema.FailoverOptions{}, "")
		}
		return b.unsupported(pos, "hash_func "+spec.Func)
	}
	switch len(children) {
	case 0:
		if errorOnEmpty {
			return &errorRoute{s: b.s, result: mc.ResLocalError, message: "HashRoute with empty children, name: " + name, logging: true}
		}
		return &nullRoute{s: b.s}
	case 1:
		return children[0]
	}
	if spec.Func == hash.FuncWeightedCh3 && spec.Weights == nil {
		b.errorf(pos, RuleBadOption, "hash_func WeightedCh3 needs weights")
	}
	sel, err := hash.New(spec, len(children))
	if err != nil {
		b.errorf(pos, RuleBadOption, "%v", err)
		return &nullRoute{s: b.s}
	}
	fn := spec.Func
	if fn == "" {
		fn = hash.FuncCh3
	}
	hname := "selection|hash|" + fn
	if spec.Salt != "" {
		hname += "|salt=" + spec.Salt
		fn += " salt=" + strconv.Quote(spec.Salt)
	}
	return &hashRoute{sel: sel, children: children, label: label + " " + fn, name: hname}
}

func intExtra(m map[string]any, k string) (int, bool) {
	switch v := m[k].(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	}
	return 0, false
}

func (b *builder) poolRoute(n *schema.PoolRoute) node {
	bp := b.pool(n.Pool, n.Pos)
	if bp == nil {
		return &nullRoute{s: b.s}
	}
	asynclog := ""
	if (n.Asynclog == nil || *n.Asynclog) && !b.s.opts.AsynclogDisable {
		asynclog = n.Pool
		if n.AsynclogName != "" {
			asynclog = n.AsynclogName
		} else if n.Name != "" {
			asynclog = n.Name
		}
	}
	children := bp.leaves(b.s, asynclog)
	if len(n.Shadows) > 0 {
		children = wrapShadows(b.s, children, b.shadows(n.Pos, n.Shadows, n.ShadowPolicy))
	}
	spec := hash.Spec{Func: hash.FuncCh3}
	if bp.p.Weights != nil {
		spec = hash.Spec{Func: hash.FuncWeightedCh3, Weights: bp.p.Weights}
	}
	if n.Hash != nil {
		if n.Hash.Func != "" {
			spec.Func = n.Hash.Func
		}
		spec.Salt = n.Hash.Salt
		if n.Hash.Weights != nil {
			spec.Weights = n.Hash.Weights
		}
	}
	if spec.Func == hash.FuncWeightedCh3 {
		// mcrouter reads any weight; one above 1 keeps every key the hash
		// gives its server, as 1 does (but for p = 2^32-1).
		spec.Weights = clampWeights(spec.Weights)
	}
	var inner node
	var bucketed *bucketSelect
	if n.Bucketize != nil && *n.Bucketize {
		inner = b.bucketSelection(n, children, spec, bp)
		bucketed, _ = inner.(*bucketSelect)
	} else {
		inner = b.selection(n.Pos, children, spec, bp.p.ErrorOnEmptyOrDefault(), n.Pool, "PoolRoute "+n.Pool, n.Hash)
	}
	if n.Rates != nil {
		inner = b.rateLimit(n.Pos, inner, nil, n.Rates)
	}
	if len(n.ShardSplits) > 0 {
		if splits := b.shardSplits(n); len(splits) > 0 {
			inner = &shardSplitRoute{s: b.s, child: inner, splits: splits}
			if bucketed != nil {
				inner = &bucketOuter{sel: bucketed, child: inner}
			}
		}
	}
	if n.SlowWarmup != nil {
		b.warnf(n.SlowWarmup.Pos, RuleIgnored, "PoolRoute %s: slow_warmup is not implemented by mcroute and is ignored (every request goes to the pool)", n.Pool)
	}
	return &poolRoute{inner: inner, asynclog: asynclog}
}

func (b *builder) hashRoute(n *schema.HashRoute) node {
	spec := hash.Spec{Func: n.Hash.Func, Salt: n.Hash.Salt, Weights: clampWeights(n.Hash.Weights)}
	if spec.Func == "" {
		spec.Func = hash.FuncCh3
	}
	onEmpty := n.ErrorOnEmpty == nil || *n.ErrorOnEmpty
	return b.selection(n.Pos, b.list(n.Children), spec, onEmpty, n.Name, "HashRoute", &n.Hash)
}

func (b *builder) rateLimit(pos schema.Pos, target, fallback node, r *schema.Rates) node {
	now := b.s.seconds()
	var parts []string
	bucket := func(kind string, rate, burst *float64) *tokenBucket {
		if rate == nil {
			return nil
		}
		if !(*rate > 0) {
			b.errorf(pos, RuleBadOption, "%s_rate must be positive", kind)
			return nil
		}
		br := *rate
		if burst != nil {
			if !(*burst > 0) {
				b.errorf(pos, RuleBadOption, "%s_burst must be positive", kind)
			} else {
				br = *burst
			}
		}
		parts = append(parts, fmt.Sprintf("%s_rate=%g|%s_burst=%g", kind, *rate, kind, br))
		// As mcrouter: the bucket starts empty at config time.
		return newTokenBucket(*rate, br, now)
	}
	rl := &rateLimitRoute{s: b.s, target: target, fallback: fallback,
		gets: bucket("gets", r.GetsRate, r.GetsBurst), sets: bucket("sets", r.SetsRate, r.SetsBurst),
		deletes: bucket("deletes", r.DeletesRate, r.DeletesBurst)}
	if rl.gets == nil && rl.sets == nil && rl.deletes == nil && fallback == nil {
		return target
	}
	rl.name = "rate-limit"
	if len(parts) > 0 {
		rl.name += "|" + strings.Join(parts, "|")
	}
	return rl
}

// shadowSpec is a parsed shadow with the index range it applies to.
type shadowSpec struct {
	from, to int  // [from, to)
	all      bool // keys_to_shadow: every index, whatever the range
	sh       *shadow
}

func (b *builder) shadows(pos schema.Pos, ss []schema.Shadow, policy string) []shadowSpec {
	for _, s := range ss {
		if _, ok := s.Extra["key_fraction_range_rv"]; ok {
			b.warnf(s.Pos, RuleIgnored, "shadow: key_fraction_range_rv (a runtime variable) is not implemented by mcroute and is ignored; key_fraction_range applies")
		}
	}
	if policy != "" && policy != "default" {
		b.warnf(pos, RuleIgnored, "shadow_policy %q is not implemented; the default policy is used", policy)
	}
	var out []shadowSpec
	for i, sh := range ss {
		spos := sh.Pos
		if !spos.IsValid() {
			spos = pos
		}
		skip := func(format string, args ...any) {
			b.warnf(spos, RuleBadOption, "shadows[%d] is ignored (as mcrouter does): "+format, append([]any{i}, args...)...)
		}
		if sh.Target == nil {
			skip("no target")
			continue
		}
		a, z := sh.IndexRange[0], sh.IndexRange[1]
		if a < 0 || a > z {
			skip("index_range [%d, %d] is invalid", a, z)
			continue
		}
		lo, hi := sh.KeyFractionRange[0], sh.KeyFractionRange[1]
		if !(0 <= lo && lo <= hi && hi <= 1) {
			skip("key_fraction_range [%g, %g] is invalid", lo, hi)
			continue
		}
		if len(sh.KeysToShadow) > 0 && (lo != 0 || hi != 0) {
			skip("keys_to_shadow and key_fraction_range are mutually exclusive")
			continue
		}
		frac := 1.0
		if sh.RequestsFraction != nil {
			frac = *sh.RequestsFraction
		}
		x := &shadow{target: b.one(sh.Target), fraction: frac,
			lo: uint32(lo * math.MaxUint32), hi: uint32(hi * math.MaxUint32),
			label: fmt.Sprintf("shadows[%d]", i)}
		if len(sh.KeysToShadow) > 0 {
			x.keys = make(map[string]struct{}, len(sh.KeysToShadow))
			for _, k := range sh.KeysToShadow {
				x.keys[string(routingKey([]byte(k)))] = struct{}{}
			}
		}
		// mcrouter wraps every child with a shadow that has keys, as
		// keys_to_shadow cannot be combined with index_range.
		out = append(out, shadowSpec{from: a, to: z, all: x.keys != nil, sh: x})
	}
	return out
}

// wrapShadows wraps each child whose index is in a shadow's range.
func wrapShadows(s *shared, children []node, specs []shadowSpec) []node {
	out := make([]node, len(children))
	for i, c := range children {
		var shs []*shadow
		for _, sp := range specs {
			if sp.all || sp.from <= i && i < sp.to {
				shs = append(shs, sp.sh)
			}
		}
		if len(shs) == 0 {
			out[i] = c
		} else {
			out[i] = &shadowRoute{s: s, normal: c, shadows: shs}
		}
	}
	return out
}

func (b *builder) shadowRoute(n *schema.ShadowRoute) []node {
	children := b.list(n.Children)
	if len(children) == 0 {
		b.errorf(n.Pos, RuleMissingField, "ShadowRoute: children is required")
		return nil
	}
	return wrapShadows(b.s, children, b.shadows(n.Pos, n.Shadows, n.ShadowPolicy))
}

func (b *builder) parseResults(pos schema.Pos, what string, names []string) *resultSet {
	if names == nil {
		return nil
	}
	set := new(resultSet)
	for _, name := range names {
		r, ok := mc.ParseResult(name)
		if !ok || !r.IsError() || strings.HasPrefix(name, "mc_res_") {
			b.errorf(pos, RuleBadOption, "%s: %q is not a valid error result (use the name without mc_res_, e.g. timeout)", what, name)
			continue
		}
		set[r&63] = true
	}
	return set
}

// failover builds a FailoverRoute over children (makeFailoverRouteDefault).
func (b *builder) failover(r schema.Route, label string, children []node, o schema.FailoverOptions) node {
	pos := r.Position()
	switch len(children) {
	case 0:
		return &nullRoute{s: b.s}
	case 1:
		return children[0]
	}
	n := len(children)
	f := &failoverRoute{s: b.s, children: children, label: label, name: "failover",
		policy: policyInOrder, end: n, maxErrorTries: math.MaxInt}
	if name := r.Meta().Name; name != "" {
		f.name = "failover:" + name + ":failover_targets=" + strconv.Itoa(n)
	}
	if e := o.FailoverErrors; e != nil {
		f.errs[0] = b.parseResults(pos, "failover_errors", e.Gets)
		f.errs[1] = b.parseResults(pos, "failover_errors", e.Updates)
		f.errs[2] = b.parseResults(pos, "failover_errors", e.Deletes)
	}
	if l := o.FailoverLimit; l != nil {
		rate := min(max(l.Rate, 0), 1)
		burst := 1000.0
		if l.Burst != nil {
			burst = max(*l.Burst, 1)
		}
		f.limiter = newTokenBucket(rate, burst, -1e6)
	}
	f.tag = o.FailoverTag
	if o.EnableLeasePairing {
		b.warnf(pos, RuleIgnored, "%s: enable_lease_pairing is not implemented and is ignored", label)
	}
	p := o.FailoverPolicy
	if p == nil {
		return f
	}
	ppos := p.Pos
	if !ppos.IsValid() {
		ppos = pos
	}
	f.exclude = b.parseResults(ppos, "exclude_errors", p.ExcludeErrors)
	switch p.Type {
	case "DeterministicOrderPolicy":
		f.policy = policyDeterministic
		if p.MaxTries < 1 || p.MaxErrorTries < 1 {
			b.errorf(ppos, RuleBadOption, "DeterministicOrderPolicy: max_tries and max_error_tries are required (≥ 1)")
		}
		f.end = min(max(p.MaxTries, 1), n)
		f.maxErrorTries = min(max(p.MaxErrorTries, 1), f.end)
		f.ignoreNormal = p.IgnoreNormalReplyIndex
		if p.EnableFailureDomains {
			b.warnf(ppos, RuleIgnored, "DeterministicOrderPolicy: enable_failure_domains is not implemented and is ignored")
		}
		if p.Hash != nil {
			switch p.Hash.Func {
			case "", hash.FuncCh3:
			case hash.FuncWeightedCh3:
				if p.Hash.Weights == nil {
					b.errorf(ppos, RuleBadOption, "DeterministicOrderPolicy: hash_func WeightedCh3 needs weights")
				}
				f.weights = padWeights(p.Hash.Weights, n)
			default:
				b.errorf(ppos, RuleBadOption, "DeterministicOrderPolicy: unknown hash function %q (Ch3 or WeightedCh3)", p.Hash.Func)
			}
		}
	case "LeastFailuresPolicy":
		f.policy = policyLeastFailures
		if p.MaxTries < 1 {
			b.errorf(ppos, RuleBadOption, "LeastFailuresPolicy: max_tries is required (≥ 1)")
		}
		f.end = min(max(p.MaxTries, 1), n)
		f.recentErrors = make([]atomic.Int64, n)
		f.exclude = nil
	case "RendezvousPolicy":
		f.policy = policyRendezvous
		f.exclude = nil
		if len(p.Tags) != n-1 {
			b.errorf(ppos, RuleBadOption, "RendezvousPolicy: want %d tags (one per failover child), got %d", n-1, len(p.Tags))
		}
		for i := 0; i < n-1; i++ {
			tag := strconv.Itoa(i)
			if i < len(p.Tags) {
				tag = p.Tags[i]
			}
			f.tagSeeds = append(f.tagSeeds, hash.Spooky64([]byte(tag), 0))
		}
		b.warnf(ppos, RuleApproximated, "RendezvousPolicy is approximated: the failover order is a rendezvous hash of the tags, not bit-exact with mcrouter")
	default:
		// FailoverInOrderPolicy reads max_tries (a limit on error tries)
		// and exclude_errors from any other policy object.
		if p.MaxTries > 0 {
			f.maxErrorTries = min(p.MaxTries, n)
		}
	}
	f.label = label
	if p.Type != "" {
		f.label = label + " " + p.Type
	}
	return f
}

func (b *builder) failoverWithExptime(n *schema.FailoverWithExptimeRoute) node {
	if !b.required(n, "normal", n.Normal) {
		return &nullRoute{s: b.s}
	}
	exptime := int64(60)
	if n.FailoverExptime != nil {
		exptime = *n.FailoverExptime
	}
	children := []node{b.one(n.Normal)}
	for _, c := range b.list(n.Failover) {
		if exptime != 0 {
			c = &modifyExptimeRoute{target: c, exptime: exptime, min: true}
		}
		children = append(children, c)
	}
	return b.failover(n, "FailoverWithExptimeRoute", children, n.FailoverOptions)
}

func (b *builder) latest(n *schema.LatestRoute) node {
	count := 5
	if n.FailoverCount != nil {
		count = *n.FailoverCount
	}
	if n.ThreadLocalFailover {
		b.warnf(n.Pos, RuleIgnored, "LatestRoute: thread_local_failover has no effect in mcroute (one host id per process)")
	}
	return b.latestOver(n.Pos, b.list(n.Children), n.Weights, count, n.Salt, n.FailoverOptions, n.Name)
}

func (b *builder) latestOver(pos schema.Pos, children []node, weights []float64, count int, salt string, o schema.FailoverOptions, name string) node {
	if len(children) == 0 {
		return &nullRoute{s: b.s}
	}
	if count < 1 {
		b.errorf(pos, RuleBadOption, "LatestRoute: failover_count must be positive")
		count = 1
	}
	w := padWeights(weights, len(children))
	if weights == nil {
		for i := range w {
			w[i] = 1
		}
	}
	targets, chosen := latestTargets(children, w, count, b.s.hostID, salt)
	r := &schema.LatestRoute{Base: schema.Base{Name: name, Pos: pos}}
	label := "LatestRoute " + fmt.Sprint(chosen)
	return b.failover(r, label, targets, o)
}

func (b *builder) hostID(n *schema.HostIDRoute) node {
	children := b.list(n.Children)
	if len(children) == 0 {
		return &nullRoute{s: b.s}
	}
	h := uint64(b.s.hostID)
	if n.Salt != "" {
		h = follyHashWithSalt(h, n.Salt)
	}
	i := int(h % uint64(len(children)))
	return &fixedRoute{child: children[i], label: fmt.Sprintf("HostIdRoute → child %d (host id %d)", i, b.s.hostID),
		name: "host-id|" + strconv.Itoa(i)}
}

func (b *builder) operationSelector(n *schema.OperationSelectorRoute) node {
	if n.DefaultPolicy == nil && len(n.OperationPolicies) == 0 {
		b.errorf(n.Pos, RuleMissingField, "OperationSelectorRoute: default_policy or operation_policies is required")
		return &nullRoute{s: b.s}
	}
	o := &opSelector{}
	if n.DefaultPolicy != nil {
		o.def = b.one(n.DefaultPolicy)
	}
	if len(n.OperationPolicies) == 0 {
		return o.def
	}
	names := make([]string, 0, len(n.OperationPolicies))
	for k := range n.OperationPolicies {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		op, ok := mc.ParseOp(k)
		if !ok {
			valid := make([]string, len(mc.RoutableOps))
			for i, o := range mc.RoutableOps {
				valid[i] = o.String()
			}
			b.errorf(n.Pos, RuleBadOption, "OperationSelectorRoute: unknown operation %q (valid: %s)", k, strings.Join(valid, ", "))
			continue
		}
		o.byOp[op] = b.one(n.OperationPolicies[k])
	}
	return o
}

func (b *builder) routingGroup(n *schema.RoutingGroupRoute) node {
	if n.DefaultPolicy == nil && len(n.RoutingGroupPolicies) == 0 {
		b.errorf(n.Pos, RuleMissingField, "RoutingGroupRoute: default_policy or routing_group_policies is required")
		return &nullRoute{s: b.s}
	}
	o := &opSelector{groups: true}
	if n.DefaultPolicy != nil {
		o.def = b.one(n.DefaultPolicy)
	}
	if len(n.RoutingGroupPolicies) == 0 {
		return o.def
	}
	names := make([]string, 0, len(n.RoutingGroupPolicies))
	for k := range n.RoutingGroupPolicies {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		g := -1
		for i, gn := range mc.GroupNames {
			if i > 0 && gn == k {
				g = i
			}
		}
		if g < 0 {
			b.errorf(n.Pos, RuleBadOption, "RoutingGroupRoute: unknown routing group %q (valid: %s)", k, strings.Join(mc.GroupNames[1:], ", "))
			continue
		}
		o.byGroup[g] = b.one(n.RoutingGroupPolicies[k])
	}
	return o
}

func (b *builder) modifyKey(n *schema.ModifyKeyRoute) node {
	if !b.required(n, "target", n.Target) {
		return &nullRoute{s: b.s}
	}
	m := &modifyKeyRoute{target: b.one(n.Target), keyPrefix: n.EnsureKeyPrefix, replace: n.ReplaceKeyPrefix,
		suffix: n.SetKeySuffix, inplace: n.ModifyInplace}
	if rp := n.SetRoutingPrefix; rp != nil {
		if *rp != "" && (routingPrefixLen([]byte(*rp)) != len(*rp) || strings.Contains(*rp, "*")) {
			b.errorf(n.Pos, RuleBadOption, "ModifyKeyRoute: set_routing_prefix %q is not of the form /region/cluster/", *rp)
		}
		v := *rp
		m.routingPrefix = &v
	}
	for field, v := range map[string]string{"ensure_key_prefix": n.EnsureKeyPrefix, "replace_key_prefix": n.ReplaceKeyPrefix, "set_key_suffix": n.SetKeySuffix} {
		if v != "" {
			if e := keyError([]byte(v)); e != "" {
				b.errorf(n.Pos, RuleBadOption, "ModifyKeyRoute: %s %q: %s", field, v, e)
			}
		}
	}
	if n.ModifyInplace && n.ReplaceKeyPrefix != "" {
		b.errorf(n.Pos, RuleBadOption, "ModifyKeyRoute: replace_key_prefix and modify_inplace cannot be used together")
	}
	return m
}

func (b *builder) saltedFailover(n *schema.SaltedFailoverRoute) node {
	normal := b.build(&schema.PoolRoute{Base: schema.Base{Pos: n.Pos}, Pool: n.Pool, Hash: n.Hash})
	children := []node{normal}
	if bp := b.pool(n.Pool, n.Pos); bp != nil {
		children = append(children, bp.leaves(b.s, "")...)
	}
	return b.failover(n, "SaltedFailoverRoute", children, n.FailoverOptions)
}
