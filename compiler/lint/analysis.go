package lint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// opSet is a set of routable operations, one bit per mc.Op.
type opSet uint32

func bit(o mc.Op) opSet { return 1 << o }

func opsWhere(pred func(mc.Op) bool) opSet {
	var s opSet
	for _, o := range mc.RoutableOps {
		if pred(o) {
			s |= bit(o)
		}
	}
	return s
}

var (
	allOps     = opsWhere(func(mc.Op) bool { return true })
	getLike    = opsWhere(mc.Op.IsGetLike)
	updateLike = opsWhere(mc.Op.IsUpdateLike)
	deleteOps  = bit(mc.OpDelete)
	arithOps   = bit(mc.OpIncr) | bit(mc.OpDecr)
	writeOps   = updateLike | deleteOps | arithOps
)

func (s opSet) has(o mc.Op) bool { return s&bit(o) != 0 }

// names returns the operation names in mcrouter's order.
func (s opSet) names() []string {
	var out []string
	for _, o := range mc.RoutableOps {
		if s.has(o) {
			out = append(out, o.String())
		}
	}
	return out
}

// phrase names the operations for a message: "set", "set and add",
// "set, add and replace", or "write" for every update-like operation.
func (s opSet) phrase() string {
	switch s {
	case updateLike:
		return "write"
	case getLike:
		return "read"
	}
	return andList(s.names())
}

// writePhrase names write operations by class: "writes, deletes and
// incr/decr", or the operations themselves when a class is incomplete.
func (s opSet) writePhrase() string {
	var parts []string
	if s&updateLike == updateLike {
		parts = append(parts, "writes")
	} else {
		parts = append(parts, (s & updateLike).names()...)
	}
	if s&deleteOps != 0 {
		parts = append(parts, "deletes")
	}
	switch s & arithOps {
	case arithOps:
		parts = append(parts, "incr/decr")
	case bit(mc.OpIncr):
		parts = append(parts, "incr")
	case bit(mc.OpDecr):
		parts = append(parts, "decr")
	}
	return andList(parts)
}

func andList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func groupOps(g mc.Group) opSet {
	return opsWhere(func(o mc.Op) bool { return o.Group() == g })
}

// analysis is the static analysis of a route graph shared by the rules:
// where each node is written, which operations reach it, and which pools
// and named handles are used.
type analysis struct {
	cfg *schema.Config
	raw *jsonm.Value
	// nodes lists every route node once, in a fixed order: the route
	// trees, then named handles by name, then route-handle servers.
	nodes []schema.Route
	path  map[schema.Route]string
	// refs counts the references to each named handle.
	refs map[string]int
	// poolRefs counts the routes (and inherit links) using each pool.
	poolRefs map[string]int
	// reach holds the operations that can reach each node from the top;
	// fg the subset whose reply can come from the node (not only sent in
	// the background by AllAsyncRoute, AllInitialRoute or a shadow).
	reach, fg map[schema.Route]opSet
	// entry holds, for each node and operation, the config path of the
	// text through which the operation first reaches the node. A node
	// written once has one path; a short form written several times
	// ("PoolRoute|A" in three policies) is one node, as in mcrouter, and
	// a finding about deletes points at the place deletes come from.
	entry map[schema.Route]map[mc.Op]string
	// canon maps a node to the node that stands for it: a node equal to
	// one written at the same position (the CUE compiler expands one
	// template into a copy per operation) is the same route as written,
	// and is reported once, as mcrouter's memoised short forms are.
	canon map[schema.Route]schema.Route
	// byPos groups the canonical nodes by position and kind, to find
	// those copies.
	byPos map[posKind]*posGroup
}

type posKind struct {
	pos  schema.Pos
	kind string
}

// posGroup holds the canonical nodes of one position and kind: the first,
// and once a second arrives, all of them by fingerprint.
type posGroup struct {
	first schema.Route
	byFP  map[string]schema.Route
}

func newAnalysis(cfg *schema.Config, raw *jsonm.Value) *analysis {
	if cfg == nil {
		cfg = &schema.Config{}
	}
	a := &analysis{
		cfg:      cfg,
		raw:      raw,
		path:     map[schema.Route]string{},
		refs:     map[string]int{},
		poolRefs: map[string]int{},
		reach:    map[schema.Route]opSet{},
		fg:       map[schema.Route]opSet{},
		entry:    map[schema.Route]map[mc.Op]string{},
		canon:    map[schema.Route]schema.Route{},
		byPos:    map[posKind]*posGroup{},
	}
	// `routes` written as an object of prefix to route has paths
	// routes["/a/b/"]; as a list, routes[i].route.
	rv := raw.Get("routes")
	a.walkAll(rv != nil && rv.Kind == jsonm.Object)
	for _, e := range cfg.Entries() {
		a.visit(e.Route, a.path[e.Route], allOps, true, 0)
	}
	return a
}

// canonical returns the node that stands for r: an earlier node at the
// same position with the same mcrouter JSON, or r itself. Fingerprints are
// computed only for nodes that share a position and kind with another.
func (a *analysis) canonical(r schema.Route) schema.Route {
	if !r.Position().IsValid() {
		return r
	}
	k := posKind{r.Position(), r.Kind()}
	g := a.byPos[k]
	if g == nil {
		a.byPos[k] = &posGroup{first: r}
		return r
	}
	if g.byFP == nil {
		g.byFP = map[string]schema.Route{fingerprint(g.first): g.first}
	}
	fp := fingerprint(r)
	if fp == "" {
		return r
	}
	if c, ok := g.byFP[fp]; ok {
		return c
	}
	g.byFP[fp] = r
	return r
}

// fingerprint is the mcrouter JSON of the route r, or "" if it has none.
func fingerprint(r schema.Route) string {
	b, err := mcrouterjson.Marshal(&schema.Config{Route: r})
	if err != nil {
		return ""
	}
	return string(b)
}

// walkAll records the path of every node and counts references.
func (a *analysis) walkAll(routesObject bool) {
	var refNodes []*schema.Ref
	var walk func(r schema.Route, path string)
	walk = func(r schema.Route, path string) {
		if r == nil {
			return
		}
		if _, seen := a.path[r]; seen {
			return
		}
		a.path[r] = path
		if c := a.canonical(r); c != r {
			// A copy: its subtree is the canonical node's.
			a.canon[r] = c
			return
		}
		a.nodes = append(a.nodes, r)
		switch n := r.(type) {
		case *schema.Ref:
			a.refs[n.Target]++
			refNodes = append(refNodes, n)
		case *schema.PoolRoute:
			a.poolRefs[n.Pool]++
		case *schema.PoolList:
			a.poolRefs[n.Pool]++
		case *schema.SaltedFailoverRoute:
			a.poolRefs[n.Pool]++
		}
		for _, e := range schema.Edges(r) {
			walk(e.Route, edgePath(path, e.Label))
		}
	}
	if a.cfg.Route != nil {
		walk(a.cfg.Route, "route")
	}
	for i, e := range a.cfg.Routes {
		p := indexPath("routes", i)
		if len(e.Aliases) == 1 && routesObject {
			walk(e.Route, joinPath("routes", e.Aliases[0]))
		} else {
			walk(e.Route, joinPath(p, "route"))
		}
	}
	// A named handle defined inline (a route object with a "name") is
	// written where its first reference is; the others under
	// named_handles.
	for _, name := range a.cfg.HandleNames() {
		def := a.cfg.NamedHandles[name]
		if def == nil {
			continue
		}
		path := joinPath("named_handles", name)
		for _, ref := range refNodes {
			if ref.Target == name && ref.Pos == def.Position() && ref.Pos.IsValid() {
				path = a.path[ref]
				break
			}
		}
		walk(def, path)
	}
	for _, name := range a.cfg.PoolNames() {
		pool := a.cfg.Pools[name]
		if pool.Inherit != "" {
			a.poolRefs[pool.Inherit]++
		}
		for i, s := range pool.Servers {
			if s.Route != nil {
				walk(s.Route, indexPath(joinPath(joinPath("pools", name), "servers"), i))
			}
		}
	}
}

// resolve follows references to their definitions and maps copies to
// their canonical node.
func (a *analysis) resolve(r schema.Route) schema.Route {
	for i := 0; i < 100; i++ {
		if c, ok := a.canon[r]; ok {
			r = c
		}
		ref, ok := r.(*schema.Ref)
		if !ok {
			return r
		}
		r = a.cfg.NamedHandles[ref.Target]
	}
	return nil
}

// visit propagates the operations ops (foreground if fg) into r and its
// descendants, following only the branches each operation takes; path is
// where r is written (for a reference, the definition counts).
func (a *analysis) visit(r schema.Route, path string, ops opSet, fg bool, depth int) {
	if c, ok := a.canon[r]; ok {
		r = c
	}
	if _, ok := r.(*schema.Ref); ok {
		r = a.resolve(r)
		path = a.path[r]
	}
	if r == nil || ops == 0 || depth > 10000 {
		return
	}
	newOps := ops &^ a.reach[r]
	var newFg opSet
	if fg {
		newFg = ops &^ a.fg[r]
	}
	if newOps == 0 && newFg == 0 {
		return
	}
	if newOps != 0 {
		e := a.entry[r]
		if e == nil {
			e = map[mc.Op]string{}
			a.entry[r] = e
		}
		for _, o := range mc.RoutableOps {
			if newOps.has(o) {
				e[o] = path
			}
		}
	}
	a.reach[r] |= ops
	if fg {
		a.fg[r] |= ops
	}
	depth++
	for _, e := range schema.Edges(r) {
		eops, efg := a.edgeOps(r, e.Label, ops, fg)
		a.visit(e.Route, edgePath(path, e.Label), eops, efg, depth)
	}
	// Pools whose servers are route handles.
	if name := poolOf(r); name != "" {
		if p := a.cfg.Pools[name]; p != nil {
			for i, s := range p.Servers {
				if s.Route != nil {
					a.visit(s.Route, indexPath(joinPath(joinPath("pools", name), "servers"), i), ops, fg, depth)
				}
			}
		}
	}
}

// edgeOps returns the operations of ops that r sends along its edge label,
// and whether their replies can come back (foreground).
func (a *analysis) edgeOps(r schema.Route, label string, ops opSet, fg bool) (opSet, bool) {
	switch n := r.(type) {
	case *schema.OperationSelectorRoute:
		if name, ok := strings.CutPrefix(label, "operation_policies."); ok {
			if o, ok := mc.ParseOp(name); ok {
				return ops & bit(o), fg
			}
			return 0, fg
		}
		var covered opSet
		for name := range n.OperationPolicies {
			if o, ok := mc.ParseOp(name); ok {
				covered |= bit(o)
			}
		}
		return ops &^ covered, fg
	case *schema.RoutingGroupRoute:
		if name, ok := strings.CutPrefix(label, "routing_group_policies."); ok {
			if g := groupByName(name); g != mc.GroupNone {
				return ops & groupOps(g), fg
			}
			return 0, fg
		}
		var covered opSet
		for name := range n.RoutingGroupPolicies {
			if g := groupByName(name); g != mc.GroupNone {
				covered |= groupOps(g)
			}
		}
		return ops &^ covered, fg
	case *schema.AllAsyncRoute, *schema.PoolRoute:
		return ops, false
	case *schema.AllInitialRoute:
		return ops, fg && label == "children[0]"
	case *schema.MissFailoverRoute:
		if label == "children[0]" {
			return ops, fg
		}
		return ops & (getLike | deleteOps), fg
	case *schema.WarmUpRoute:
		if label == "warm" {
			return ops & getLike, fg
		}
	case *schema.L1L2CacheRoute:
		if label == "l2" {
			return ops & getLike, fg
		}
	case *schema.ShadowRoute:
		if strings.HasPrefix(label, "shadows[") {
			return ops, false
		}
	}
	return ops, fg
}

// at returns where a finding about r that concerns the operations ops is
// reported: the text through which the first of those operations (in the
// file's order) reaches r, or r's own position and path when there is no
// raw JSON (CUE policies), ops is 0, or none of them reaches r.
func (a *analysis) at(r schema.Route, ops opSet) (schema.Pos, string) {
	pos, path := r.Position(), a.path[r]
	if a.raw == nil || ops == 0 {
		return pos, path
	}
	found := false
	for _, o := range mc.RoutableOps {
		p, ok := a.entry[r][o]
		if !ok || !ops.has(o) {
			continue
		}
		ppos, ok := a.posAt(p)
		if !ok {
			continue
		}
		if !found || posLess(ppos, p, pos, path) {
			pos, path, found = ppos, p, true
		}
	}
	return pos, path
}

func posLess(p schema.Pos, path string, q schema.Pos, qpath string) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	if p.Col != q.Col {
		return p.Col < q.Col
	}
	return path < qpath
}

// posAt returns the position of the text at a config path in the raw JSON:
// the value itself, or the short-form string ("AllSyncRoute|Pool|A") that
// the path leads into.
func (a *analysis) posAt(path string) (schema.Pos, bool) {
	v, complete := lookupDeepest(a.raw, path)
	if v == nil || !v.Pos.IsValid() || !complete && v.Kind != jsonm.String {
		return schema.Pos{}, false
	}
	return toPos(v.Pos), true
}

func groupByName(name string) mc.Group {
	for g, n := range mc.GroupNames {
		if n == name && n != "" {
			return mc.Group(g)
		}
	}
	return mc.GroupNone
}

func poolOf(r schema.Route) string {
	switch n := r.(type) {
	case *schema.PoolRoute:
		return n.Pool
	case *schema.PoolList:
		return n.Pool
	case *schema.SaltedFailoverRoute:
		return n.Pool
	}
	return ""
}

// --- destinations ---

// slot is one destination a route can pick or fan out to: a single server,
// a hash over an ordered server list, or an opaque route.
type slot struct {
	// server is the single server's host:port, when the slot is one server.
	server string
	// servers and hash describe a hashed slot: one of servers chosen by
	// the hash.
	servers []string
	hash    string
	pool    string
	// node is the route the slot stands for.
	node schema.Route
}

// id is a key equal for slots that send a given key to the same server.
func (s slot) id() string {
	switch {
	case s.server != "":
		return "server " + s.server
	case s.servers != nil:
		return "hash " + s.hash + " over " + strings.Join(s.servers, ",")
	}
	return fmt.Sprintf("node %p", s.node)
}

// opaque reports whether nothing is known about where the slot sends
// requests.
func (s slot) opaque() bool { return s.server == "" && s.servers == nil }

// serverKey normalizes a server address to host:port (dropping protocol
// suffixes), so that the same server written twice compares equal.
func serverKey(s schema.Server) string {
	if s.Route != nil {
		return ""
	}
	if a, err := schema.ParseAddr(s.Addr); err == nil {
		return a.HostPort()
	}
	return s.Addr
}

func (a *analysis) poolServers(name string) ([]string, bool) {
	p := a.cfg.Pools[name]
	if p == nil {
		return nil, false
	}
	out := make([]string, 0, len(p.Servers))
	for _, s := range p.Servers {
		k := serverKey(s)
		if k == "" {
			return nil, false
		}
		out = append(out, k)
	}
	return out, true
}

// hashID describes the hash function a PoolRoute uses for its pool.
func (a *analysis) poolRouteHash(n *schema.PoolRoute) string {
	fn, salt := "Ch3", ""
	var weights []float64
	if p := a.cfg.Pools[n.Pool]; p != nil && len(p.Weights) > 0 {
		fn, weights = "WeightedCh3", p.Weights
	}
	if h := n.Hash; h != nil {
		if h.Func != "" {
			fn = h.Func
		}
		salt = h.Salt
		if h.Weights != nil {
			weights = h.Weights
		}
	}
	return hashDesc(fn, salt, weights)
}

func hashDesc(fn, salt string, weights []float64) string {
	if fn == "" {
		fn = "Ch3"
	}
	s := fn
	if salt != "" {
		s += " with salt " + strconv.Quote(salt)
	}
	if strings.HasPrefix(fn, "Weighted") && len(weights) > 0 {
		s += fmt.Sprintf(" with weights %v", weights)
	}
	return s
}

// expand returns the slots a route stands for where a list of routes is
// expected: a Pool list is one slot per server; other routes are one slot.
func (a *analysis) expand(r schema.Route) []slot {
	r = a.resolve(r)
	switch n := r.(type) {
	case nil:
		return nil
	case *schema.PoolList:
		servers, ok := a.poolServers(n.Pool)
		if !ok {
			return []slot{{node: n}}
		}
		out := make([]slot, len(servers))
		for i, s := range servers {
			out[i] = slot{server: s, pool: n.Pool, node: n}
		}
		return out
	case *schema.PoolRoute:
		servers, ok := a.poolServers(n.Pool)
		switch {
		case !ok || len(servers) == 0:
			return []slot{{node: n}}
		case len(servers) == 1:
			return []slot{{server: servers[0], pool: n.Pool, node: n}}
		}
		return []slot{{servers: servers, hash: a.poolRouteHash(n), pool: n.Pool, node: n}}
	case *schema.HashRoute:
		var servers []string
		pool := ""
		for _, c := range n.Children {
			for _, s := range a.expand(c) {
				if s.server == "" {
					return []slot{{node: n}}
				}
				servers = append(servers, s.server)
				if pool == "" {
					pool = s.pool
				} else if pool != s.pool {
					pool = "-"
				}
			}
		}
		if pool == "-" {
			pool = ""
		}
		switch len(servers) {
		case 0:
			return []slot{{node: n}}
		case 1:
			return []slot{{server: servers[0], pool: pool, node: n}}
		}
		return []slot{{servers: servers, hash: hashDesc(n.Hash.Func, n.Hash.Salt, n.Hash.Weights), pool: pool, node: n}}
	}
	return []slot{{node: r}}
}

func (a *analysis) expandAll(rs []schema.Route) []slot {
	var out []slot
	for _, r := range rs {
		out = append(out, a.expand(r)...)
	}
	return out
}

// distinct returns the number of different slots.
func distinct(ss []slot) int {
	seen := map[string]bool{}
	for _, s := range ss {
		seen[s.id()] = true
	}
	return len(seen)
}

// serversOf follows the branches a request of op takes from r and collects
// the servers it may be sent to (foreground or background), with their
// pools.
func (a *analysis) serversOf(r schema.Route, op mc.Op) map[string]string {
	out := map[string]string{}
	seen := map[schema.Route]bool{}
	var follow func(r schema.Route)
	follow = func(r schema.Route) {
		r = a.resolve(r)
		if r == nil || seen[r] {
			return
		}
		seen[r] = true
		if name := poolOf(r); name != "" {
			if servers, ok := a.poolServers(name); ok {
				for _, s := range servers {
					if _, dup := out[s]; !dup {
						out[s] = name
					}
				}
			}
		}
		switch n := r.(type) {
		case *schema.OperationSelectorRoute:
			if c, ok := n.OperationPolicies[op.String()]; ok {
				follow(c)
			} else {
				follow(n.DefaultPolicy)
			}
			return
		case *schema.RoutingGroupRoute:
			if c, ok := n.RoutingGroupPolicies[mc.GroupNames[op.Group()]]; ok && op.Group() != mc.GroupNone {
				follow(c)
			} else {
				follow(n.DefaultPolicy)
			}
			return
		case *schema.MissFailoverRoute:
			for i, c := range n.Children {
				if i == 0 || op.IsGetLike() || op == mc.OpDelete {
					follow(c)
				}
			}
			return
		case *schema.WarmUpRoute:
			follow(n.Cold)
			if op.IsGetLike() {
				follow(n.Warm)
			}
			return
		case *schema.L1L2CacheRoute:
			follow(n.L1)
			if op.IsGetLike() {
				follow(n.L2)
			}
			return
		}
		for _, e := range schema.Edges(r) {
			follow(e.Route)
		}
	}
	follow(r)
	return out
}

// describe names a route as a user would write it: "PoolRoute|A",
// "AllFastestRoute|Pool|A", "named handle x", or its type.
func (a *analysis) describe(r schema.Route) string {
	switch n := r.(type) {
	case nil:
		return "(none)"
	case *schema.Ref:
		return "named handle " + strconv.Quote(n.Target)
	case *schema.PoolRoute:
		return "PoolRoute|" + n.Pool
	case *schema.PoolList:
		return "Pool|" + n.Pool
	}
	if n, ok := r.(interface{ Meta() *schema.Base }); ok && n.Meta().Name != "" {
		return r.Kind() + " " + strconv.Quote(n.Meta().Name)
	}
	if cs := children(r); len(cs) == 1 {
		switch c := cs[0].(type) {
		case *schema.PoolList:
			return r.Kind() + "|Pool|" + c.Pool
		case *schema.PoolRoute:
			return r.Kind() + "|PoolRoute|" + c.Pool
		}
	}
	return r.Kind()
}

// children returns the children list of the kinds that have one.
func children(r schema.Route) []schema.Route {
	switch n := r.(type) {
	case *schema.HashRoute:
		return n.Children
	case *schema.AllSyncRoute:
		return n.Children
	case *schema.AllAsyncRoute:
		return n.Children
	case *schema.AllInitialRoute:
		return n.Children
	case *schema.AllFastestRoute:
		return n.Children
	case *schema.AllMajorityRoute:
		return n.Children
	case *schema.FailoverRoute:
		return n.Children
	case *schema.MissFailoverRoute:
		return n.Children
	case *schema.LatestRoute:
		return n.Children
	case *schema.RandomRoute:
		return n.Children
	case *schema.HostIDRoute:
		return n.Children
	case *schema.ShadowRoute:
		return n.Children
	case *schema.FailoverWithExptimeRoute:
		return append([]schema.Route{n.Normal}, n.Failover...)
	}
	return nil
}

// isFanout reports whether r sends every request to all its children.
func isFanout(r schema.Route) bool {
	switch r.(type) {
	case *schema.AllSyncRoute, *schema.AllAsyncRoute, *schema.AllInitialRoute, *schema.AllFastestRoute, *schema.AllMajorityRoute:
		return true
	}
	return false
}

// sortedPolicyOps returns the keys of operation_policies in mcrouter's
// operation order (unknown names last, sorted).
func sortedPolicyOps(m map[string]schema.Route) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if o, ok := mc.ParseOp(k); ok {
			return slices.Index(mc.RoutableOps, o)
		}
		return len(mc.RoutableOps)
	}
	slices.SortFunc(keys, func(x, y string) int {
		if d := rank(x) - rank(y); d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
	return keys
}
