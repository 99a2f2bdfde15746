package route

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
)

// opSelector is OperationSelectorRoute (by operation) and RoutingGroupRoute
// (by routing group).
type opSelector struct {
	byOp    [32]node
	byGroup [5]node
	def     node
	groups  bool
}

func (o *opSelector) pick(op mc.Op) (node, string) {
	if o.groups {
		g := op.Group()
		if h := o.byGroup[g]; h != nil {
			return h, mc.GroupNames[g]
		}
	} else if int(op) < len(o.byOp) && o.byOp[op] != nil {
		return o.byOp[op], op.String()
	}
	if o.def != nil {
		return o.def, "default_policy"
	}
	return nil, ""
}

func (o *opSelector) kind() string {
	if o.groups {
		return "RoutingGroupRoute"
	}
	return "OperationSelectorRoute"
}

func (o *opSelector) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	h, why := o.pick(req.Op)
	if tc := traceOf(ctx); tc != nil {
		if h == nil {
			tc.note(o.kind() + "[" + req.Op.String() + "]: no policy → unknown")
		} else {
			ctx = tc.enter(o.kind() + "[" + why + "]")
		}
	}
	if h == nil {
		// mcrouter answers a default-constructed reply: result unknown.
		rep.Reset()
		return
	}
	h.Route(ctx, req, rep)
}

func (o *opSelector) describe(w *handlesWriter, req *mc.Request) {
	name := "operation-selector"
	if o.groups {
		name = "routing-group"
	}
	w.nested(name, func() {
		if h, _ := o.pick(req.Op); h != nil {
			h.describe(w, req)
		}
	})
}

// warmUpRoute is mcrouter's WarmUpRoute.
type warmUpRoute struct {
	s          *shared
	cold, warm node
	exptime    int64
}

func (r *warmUpRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("warm-up", func() { r.cold.describe(w, req); r.warm.describe(w, req) })
}

func (r *warmUpRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	cctx := ctx
	if tc != nil {
		cctx = tc.enter("WarmUpRoute → cold")
	}
	r.cold.Route(cctx, req, rep)
	switch req.Op {
	case mc.OpGet, mc.OpGat, mc.OpLeaseGet, mc.OpMetaget, mc.OpGets, mc.OpGats:
	default:
		return
	}
	if rep.Result.IsHit() || (req.Op == mc.OpLeaseGet && rep.Result == mc.ResNotFoundHot) {
		return
	}
	if tc != nil {
		cctx = tc.enter("WarmUpRoute cold " + rep.Result.String() + " → warm")
	}
	if req.Op == mc.OpMetaget {
		r.warm.Route(cctx, req, rep)
		return
	}
	warmReq := *req
	switch req.Op {
	case mc.OpGets, mc.OpLeaseGet:
		warmReq.Op = mc.OpGet
	case mc.OpGats:
		warmReq.Op = mc.OpGat
	}
	wr := replyPool.Get().(*mc.Reply)
	defer replyPool.Put(wr)
	wr.Reset()
	r.warm.Route(cctx, &warmReq, wr)
	if !wr.Result.IsHit() {
		if req.Op == mc.OpGet || req.Op == mc.OpGat {
			rep.CopyFrom(wr)
		} // gets, gats, lease-get: the cold miss stands
		return
	}
	add := mc.Request{Op: mc.OpAdd, Key: req.Key, Value: wr.Value, Flags: wr.Flags, Exptime: r.exptime, Failover: req.Failover}
	if req.Op == mc.OpGets || req.Op == mc.OpGats {
		// gets needs a CAS from cold: add synchronously, then ask cold again.
		var ar mc.Reply
		if tc != nil {
			cctx = tc.enter("WarmUpRoute warm hit → add to cold")
		}
		r.cold.Route(cctx, &add, &ar)
		if tc != nil {
			cctx = tc.enter("WarmUpRoute → cold again (for the CAS)")
		}
		r.cold.Route(cctx, req, rep)
		return
	}
	if tc != nil {
		tc.background().note("WarmUpRoute warm hit → add to cold")
		ctx = tc.child()
	}
	r.s.async(ctx, &add, r.cold)
	rep.CopyFrom(wr)
}

// negativeCacheFlag is mcrouter's MC_MSG_FLAG_NEGATIVE_CACHE.
const negativeCacheFlag = 0x10000

// l1l2Route is mcrouter's L1L2CacheRoute. Get-like requests (get, gets,
// gat, gats, metaget, lease-get) try l1, then l2 on a miss, and an l2 hit is
// added to l1 in the background (with upgradingL1Exptime; a miss in l2 adds
// a negative-cache entry when ncacheUpdatePeriod is set). Every other
// request goes to l1 only.
type l1l2Route struct {
	s                            *shared
	l1, l2                       node
	upgradeExptime, ncacheExpire int64
	ncachePeriod                 int64
	ncacheHits                   atomic.Int64
}

func (r *l1l2Route) describe(w *handlesWriter, req *mc.Request) {
	w.nested("l1l2-cache", func() { r.l1.describe(w, req); r.l2.describe(w, req) })
}

func (r *l1l2Route) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	cctx := ctx
	if tc != nil {
		cctx = tc.enter("L1L2CacheRoute → l1")
	}
	r.l1.Route(cctx, req, rep)
	if !req.Op.IsGetLike() {
		return
	}
	bctx := ctx
	if tc != nil {
		bctx = tc.child()
	}
	if rep.Result.IsHit() {
		if rep.Flags&negativeCacheFlag != 0 {
			// Every ncacheUpdatePeriod-th negative-cache hit refreshes l1.
			if r.ncachePeriod > 0 && r.ncacheHits.Add(1)%r.ncachePeriod == 0 {
				if tc != nil {
					tc.background().note("L1L2CacheRoute negative-cache refresh from l2")
				}
				r.s.async(bctx, req, &l1l2Refresh{r})
			}
			if tc != nil {
				tc.note("L1L2CacheRoute l1 negative-cache entry → miss")
			}
			defaultReply(rep, req.Op)
		}
		return
	}
	if tc != nil {
		cctx = tc.enter("L1L2CacheRoute l1 " + rep.Result.String() + " → l2")
	}
	r.l2.Route(cctx, req, rep)
	switch {
	case rep.Result.IsHit():
		if tc != nil {
			tc.background().note("L1L2CacheRoute l2 hit → add to l1")
		}
		add := mc.Request{Op: mc.OpAdd, Key: req.Key, Value: rep.Value, Flags: rep.Flags, Exptime: r.upgradeExptime, Failover: req.Failover}
		r.s.async(bctx, &add, r.l1)
	case rep.Result.IsMiss() && r.ncachePeriod > 0:
		if tc != nil {
			tc.background().note("L1L2CacheRoute l2 miss → negative-cache entry in l1")
		}
		add := mc.Request{Op: mc.OpAdd, Key: req.Key, Value: []byte("ncache"), Flags: negativeCacheFlag, Exptime: r.ncacheExpire, Failover: req.Failover}
		r.s.async(bctx, &add, r.l1)
	}
}

// l1l2Refresh re-reads l2 and sets l1 (the value, or a fresh negative-cache
// entry).
type l1l2Refresh struct{ r *l1l2Route }

func (x *l1l2Refresh) Route(ctx context.Context, req *mc.Request, _ *mc.Reply) {
	r := x.r
	var l2 mc.Reply
	r.l2.Route(ctx, req, &l2)
	set := mc.Request{Op: mc.OpSet, Key: req.Key, Failover: req.Failover}
	if l2.Result.IsHit() {
		set.Value, set.Flags, set.Exptime = l2.Value, l2.Flags, r.upgradeExptime
	} else {
		set.Value, set.Flags, set.Exptime = []byte("ncache"), negativeCacheFlag, r.ncacheExpire
	}
	var l1 mc.Reply
	r.l1.Route(ctx, &set, &l1)
}

func (x *l1l2Refresh) describe(*handlesWriter, *mc.Request) {}

// migrateRoute is mcrouter's MigrateRoute.
type migrateRoute struct {
	s               *shared
	from, to        node
	start, interval int64
	fromAndTo       []node
}

const (
	migrateFrom = 1
	migrateTo   = 2
)

func (m *migrateRoute) migrationTime(req *mc.Request) int64 {
	return m.start + m.interval + int64(hash.Spooky32(routingKey(req.Key), 0))%m.interval
}

func (m *migrateRoute) mask(now int64, req *mc.Request) int {
	if req.Op.Group() == mc.GroupDeleteLike {
		switch {
		case now < m.start:
			return migrateFrom
		case now < m.start+2*m.interval:
			return migrateFrom | migrateTo
		}
		return migrateTo
	}
	if now < m.migrationTime(req) {
		return migrateFrom
	}
	return migrateTo
}

func (m *migrateRoute) describe(w *handlesWriter, req *mc.Request) {
	mask := m.mask(m.s.now().Unix(), req)
	w.nested("migrate", func() {
		if mask&migrateFrom != 0 {
			m.from.describe(w, req)
		}
		if mask&migrateTo != 0 {
			m.to.describe(w, req)
		}
	})
}

func (m *migrateRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	now := m.s.now().Unix()
	mask := m.mask(now, req)
	tc := traceOf(ctx)
	switch mask {
	case migrateFrom:
		if tc != nil {
			ctx = tc.enter("MigrateRoute → from")
		}
		m.from.Route(ctx, req, rep)
	case migrateTo:
		if tc != nil {
			ctx = tc.enter("MigrateRoute → to")
		}
		m.to.Route(ctx, req, rep)
		if req.Op == mc.OpLeaseSet && rep.Result != mc.ResStored && now < m.migrationTime(req)+10 {
			// Invalidate the lease in the old pool (the token is in CAS).
			inv := mc.Request{Op: mc.OpLeaseSet, Key: req.Key, Exptime: -1, CAS: req.CAS, Failover: req.Failover}
			if tc != nil {
				tc.note("MigrateRoute lease-set failed after the switch → invalidate lease in from (background)")
			}
			m.s.async(ctx, &inv, m.from)
		}
	default:
		if tc != nil {
			tc.note("MigrateRoute → from and to (delete during migration, worst reply)")
		}
		if m.s.sequential(tc) {
			routeWorstSeq(ctx, tc, "MigrateRoute", m.fromAndTo, req, rep)
			return
		}
		routeWorst(ctx, m.s, m.fromAndTo, req, rep)
	}
}

// routeWorstSeq routes to each child in order and keeps the worst reply.
func routeWorstSeq(ctx context.Context, tc *traceCtx, name string, children []node, req *mc.Request, rep *mc.Reply) {
	var r mc.Reply
	for i, c := range children {
		cctx := ctx
		if tc != nil {
			cctx = tc.enter(childLabel(name, i))
		}
		if i == 0 {
			c.Route(cctx, req, rep)
			continue
		}
		r.Reset()
		c.Route(cctx, req, &r)
		if r.Result.WorseThan(rep.Result) {
			rep.CopyFrom(&r)
		}
	}
}

// modifyKeyRoute is mcrouter's ModifyKeyRoute.
type modifyKeyRoute struct {
	target        node
	routingPrefix *string
	keyPrefix     string
	replace       string // replace_key_prefix ("" = none)
	suffix        string
	inplace       bool
}

// newKey returns the modified key, or nil when the key is unchanged.
func (m *modifyKeyRoute) newKey(key []byte) []byte {
	pl := routingPrefixLen(key)
	prefix, rest := key[:pl], key[pl:]
	rp := prefix
	if m.routingPrefix != nil {
		rp = []byte(*m.routingPrefix)
	}
	build := func(parts ...[]byte) []byte {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		out := make([]byte, 0, n)
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	kp, sfx := []byte(m.keyPrefix), []byte(m.suffix)
	switch {
	case m.replace != "" && strings.HasPrefix(string(rest), m.replace):
		return build(rp, kp, rest[len(m.replace):], sfx)
	case !strings.HasPrefix(string(rest), m.keyPrefix):
		if m.inplace && len(rest) >= len(kp) {
			rest = rest[len(kp):]
		}
		return build(rp, kp, rest, sfx)
	case m.routingPrefix != nil && string(rp) != string(prefix):
		return build(rp, rest, sfx)
	case m.suffix != "":
		return build(key, sfx)
	}
	return nil
}

// keyError is mcrouter's key check (memcache: 1 to 250 bytes, no spaces or
// control characters).
func keyError(key []byte) string {
	if len(key) == 0 {
		return "invalid key: missing"
	}
	if len(key) > 250 {
		return "invalid key: too long"
	}
	for _, c := range key {
		if c <= ' ' || c == 0x7f {
			return "invalid key: contains space or control character"
		}
	}
	return ""
}

func (m *modifyKeyRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	key := m.newKey(req.Key)
	tc := traceOf(ctx)
	if key == nil {
		if tc != nil {
			ctx = tc.enter("ModifyKeyRoute: key unchanged")
		}
		m.target.Route(ctx, req, rep)
		return
	}
	if e := keyError(key); e != "" {
		if tc != nil {
			tc.note("ModifyKeyRoute " + strconv.Quote(string(key)) + ": " + e)
		}
		errorReply(rep, mc.ResLocalError, "ModifyKeyRoute: invalid key: "+e)
		return
	}
	if tc != nil {
		ctx = tc.enter("ModifyKeyRoute → " + strconv.Quote(string(key)))
	}
	r := *req
	r.Key = key
	m.target.Route(ctx, &r, rep)
}

func (m *modifyKeyRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("modify-key", func() {
		r := *req
		if k := m.newKey(req.Key); k != nil {
			r.Key = k
		}
		m.target.describe(w, &r)
	})
}

// modifyExptimeRoute is mcrouter's ModifyExptimeRoute ("set" or "min";
// deletes are not modified).
type modifyExptimeRoute struct {
	target  node
	exptime int64
	min     bool
}

func (m *modifyExptimeRoute) describe(w *handlesWriter, req *mc.Request) {
	action := "set"
	if m.min {
		action = "min"
	}
	w.nested("modify-exptime|"+action+"|exptime="+strconv.FormatInt(m.exptime, 10), func() { m.target.describe(w, req) })
}

func (m *modifyExptimeRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	change := req.Op.Group() != mc.GroupDeleteLike &&
		(!m.min || req.Exptime == 0 || req.Exptime > m.exptime)
	if !change {
		if tc != nil {
			ctx = tc.enter("ModifyExptimeRoute: exptime unchanged")
		}
		m.target.Route(ctx, req, rep)
		return
	}
	if tc != nil {
		ctx = tc.enter("ModifyExptimeRoute exptime " + strconv.FormatInt(req.Exptime, 10) + " → " + strconv.FormatInt(m.exptime, 10))
	}
	r := *req
	r.Exptime = m.exptime
	m.target.Route(ctx, &r, rep)
}

// latencyRoute is mcrouter's LatencyInjectionRoute.
type latencyRoute struct {
	child                node
	before, after, total time.Duration
}

func (l *latencyRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("latency-injection|before:"+strconv.FormatInt(l.before.Milliseconds(), 10)+
		"ms|after:"+strconv.FormatInt(l.after.Milliseconds(), 10)+"ms", func() { l.child.describe(w, req) })
}

// sleep waits d or until ctx ends, reporting whether it slept fully.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (l *latencyRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	if tc != nil {
		label := "LatencyInjectionRoute before " + l.before.String() + ", after " + l.after.String() + ", total " + l.total.String()
		if tc.t.DryRun {
			ctx = tc.enter(label + " (not slept: dry run)")
			l.child.Route(ctx, req, rep)
			return
		}
		ctx = tc.enter(label)
	}
	start := time.Now()
	if !sleep(ctx, l.before) {
		canceled(ctx, rep)
		return
	}
	l.child.Route(ctx, req, rep)
	sleep(ctx, l.after)
	if l.total > 0 {
		sleep(ctx, l.total-time.Since(start))
	}
}

// rateLimitRoute is mcrouter's RateLimitRoute (and PoolRoute's rates).
type rateLimitRoute struct {
	s                   *shared
	target, fallback    node
	gets, sets, deletes *tokenBucket
	name                string
}

func (r *rateLimitRoute) bucket(op mc.Op) *tokenBucket {
	switch op.Group() {
	case mc.GroupGetLike:
		return r.gets
	case mc.GroupUpdateLike:
		return r.sets
	case mc.GroupDeleteLike:
		return r.deletes
	}
	return nil
}

func (r *rateLimitRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	if b := r.bucket(req.Op); b == nil || b.consume(r.s.seconds()) {
		if tc != nil {
			ctx = tc.enter("RateLimitRoute: within limit")
		}
		r.target.Route(ctx, req, rep)
		return
	}
	r.s.stats.rateLimited.Add(1)
	if r.fallback != nil {
		if tc != nil {
			ctx = tc.enter("RateLimitRoute: over limit → fallback")
		}
		r.fallback.Route(ctx, req, rep)
		return
	}
	if tc != nil {
		tc.note("RateLimitRoute: over limit → " + req.Op.DefaultResult().String())
	}
	defaultReply(rep, req.Op)
}

func (r *rateLimitRoute) selectedIndex(req *mc.Request) int { return selectedIndex(r.target, req) }

func (r *rateLimitRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested(r.name, func() { r.target.describe(w, req) })
}

// shadow is one shadow of a ShadowRoute or a PoolRoute destination.
type shadow struct {
	target   node
	lo, hi   uint32 // routing key hash range, inclusive
	keys     map[string]struct{}
	fraction float64 // requests_fraction; ≥ 1 - 1e-5 means always
	label    string
}

func (sh *shadow) match(s *shared, rk []byte) bool {
	if sh.keys != nil {
		if _, ok := sh.keys[string(rk)]; !ok {
			return false
		}
	} else {
		h := hash.Spooky32(rk, 0)
		if h < sh.lo || h > sh.hi {
			return false
		}
	}
	if sh.fraction >= 1-1e-5 {
		return true
	}
	return float64(s.rand(1<<30))/(1<<30) < sh.fraction
}

// shadowRoute sends every request to normal and, for keys in a shadow's
// range, a copy to the shadow in the background.
type shadowRoute struct {
	s       *shared
	normal  node
	shadows []*shadow
}

func (r *shadowRoute) selectedIndex(req *mc.Request) int { return selectedIndex(r.normal, req) }

func (r *shadowRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("shadow", func() {
		r.normal.describe(w, req)
		for _, sh := range r.shadows {
			sh.target.describe(w, req)
		}
	})
}

func (r *shadowRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	rk := routingKey(req.Key)
	tc := traceOf(ctx)
	for _, sh := range r.shadows {
		if !sh.match(r.s, rk) {
			continue
		}
		r.s.stats.shadow.Add(1)
		sctx := ctx
		if tc != nil {
			tc.background().note("shadow → " + sh.label)
			sctx = tc.child()
		}
		r.s.async(sctx, req, sh.target)
	}
	r.normal.Route(ctx, req, rep)
}

// keySplitRoute is mcrouter's KeySplitRoute.
type keySplitRoute struct {
	s         *shared
	child     node
	replicas  int
	allSync   bool
	firstHit  bool
	replicaID int
	name      string
}

const keySplitMaxKey = 255 - len("::") - 3 // kMaxMcKeyLength - kExtraKeySpaceNeeded

func (k *keySplitRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested(k.name, func() {
		r := *req
		r.Key = k.replicaKey(req.Key, k.replicaID)
		k.child.describe(w, &r)
	})
}

// replicaKey returns the key of replica id: unchanged for replica 0, else
// key + "::" + id, or, for keys with a hash stop, routingKey + "::" + id +
// the rest (mcrouter drops the routing prefix in that case).
func (k *keySplitRoute) replicaKey(key []byte, id int) []byte {
	if id == 0 {
		return key
	}
	suffix := "::" + strconv.Itoa(id)
	pl := routingPrefixLen(key)
	rest := key[pl:]
	if i := strings.Index(string(rest), hash.HashStop); i >= 0 {
		out := make([]byte, 0, len(rest)+len(suffix))
		out = append(out, rest[:i]...)
		out = append(out, suffix...)
		return append(out, rest[i:]...)
	}
	out := make([]byte, 0, len(key)+len(suffix))
	out = append(out, key...)
	return append(out, suffix...)
}

func (k *keySplitRoute) routeOne(ctx context.Context, tc *traceCtx, req *mc.Request, rep *mc.Reply) {
	r := *req
	r.Key = k.replicaKey(req.Key, k.replicaID)
	if tc != nil {
		ctx = tc.enter("KeySplitRoute → replica " + strconv.Itoa(k.replicaID) + " " + strconv.Quote(string(r.Key)))
	}
	k.child.Route(ctx, &r, rep)
}

func (k *keySplitRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	canSplit := len(req.Key) <= keySplitMaxKey
	switch req.Op {
	case mc.OpGet, mc.OpLeaseGet, mc.OpLeaseSet:
		if !canSplit {
			break
		}
		if k.firstHit {
			k.routeFirstHit(ctx, tc, req, rep)
			return
		}
		k.routeOne(ctx, tc, req, rep)
		return
	case mc.OpSet:
		if !canSplit {
			break
		}
		if k.allSync {
			k.routeAll(ctx, tc, req, rep)
			return
		}
		k.routeOne(ctx, tc, req, rep)
		return
	case mc.OpDelete:
		if !canSplit {
			break
		}
		k.routeAll(ctx, tc, req, rep)
		return
	default:
		k.routeOne(ctx, tc, req, rep)
		return
	}
	if tc != nil {
		ctx = tc.enter("KeySplitRoute: key too long to split")
	}
	k.child.Route(ctx, req, rep)
}

// routeAll sends to every other replica in the background and answers this
// host's replica.
func (k *keySplitRoute) routeAll(ctx context.Context, tc *traceCtx, req *mc.Request, rep *mc.Reply) {
	for id := 0; id < k.replicas; id++ {
		if id == k.replicaID {
			continue
		}
		r := *req
		r.Key = k.replicaKey(req.Key, id)
		bctx := ctx
		if tc != nil {
			tc.background().note("KeySplitRoute → replica " + strconv.Itoa(id) + " " + strconv.Quote(string(r.Key)) + " (background)")
			bctx = tc.child()
		}
		k.s.async(bctx, &r, k.child)
	}
	k.routeOne(ctx, tc, req, rep)
}

// routeFirstHit asks every replica (in order) and answers the first hit
// (stored, for lease-set), else the last reply. mcrouter asks them in
// parallel; mcroute asks one after the other.
func (k *keySplitRoute) routeFirstHit(ctx context.Context, tc *traceCtx, req *mc.Request, rep *mc.Reply) {
	for id := 0; id < k.replicas; id++ {
		r := *req
		r.Key = k.replicaKey(req.Key, id)
		cctx := ctx
		if tc != nil {
			cctx = tc.enter("KeySplitRoute first_hit → replica " + strconv.Itoa(id))
		}
		k.child.Route(cctx, &r, rep)
		if rep.Result.IsHit() || rep.Result == mc.ResStored {
			return
		}
	}
}

// loggingRoute forwards and logs each request and reply.
type loggingRoute struct {
	s      *shared
	target node
}

func (l *loggingRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("logging", func() { l.target.describe(w, req) })
}

func (l *loggingRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if tc := traceOf(ctx); tc != nil {
		ctx = tc.enter("LoggingRoute")
	}
	l.target.Route(ctx, req, rep)
	l.s.log.Info("mcroute LoggingRoute", "op", req.Op.String(), "key", string(req.Key), "result", rep.Result.String())
}
