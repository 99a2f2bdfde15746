package route

import (
	"context"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
)

// resultSet is a set of results (failover_errors, exclude_errors).
type resultSet [64]bool

func (r *resultSet) has(res mc.Result) bool { return r[res&63] }

type policyKind uint8

const (
	policyInOrder policyKind = iota
	policyDeterministic
	policyLeastFailures
	policyRendezvous
)

// failoverRoute is mcrouter's FailoverRoute with its policies
// (routes/FailoverRoute.h, FailoverPolicy.h).
type failoverRoute struct {
	s        *shared
	children []node
	name     string // "failover" or "failover:NAME"
	label    string // trace name

	// errs holds failover_errors per class (gets, updates, deletes); nil
	// means mcrouter's default set.
	errs    [3]*resultSet
	limiter *tokenBucket // failover_limit; time is the request count
	total   atomic.Int64
	tag     bool // failover_tag: failover requests carry mc.Request.Failover

	policy        policyKind
	end           int // positions tried at most (including the normal route)
	maxErrorTries int
	exclude       *resultSet

	// DeterministicOrderPolicy
	weights      []float64 // nil: Ch3
	ignoreNormal bool

	// LeastFailuresPolicy
	recentErrors []atomic.Int64

	// RendezvousPolicy (approximation)
	tagSeeds []uint64
}

func (f *failoverRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested(f.name, func() {
		it := failoverIter{f: f, req: req}
		for p := 0; p < it.limit(); p++ {
			f.children[it.index(p)].describe(w, req)
		}
	})
}

// class returns the failover_errors class of op: 0 gets, 1 updates,
// 2 deletes, -1 others (always the default set).
func errClass(op mc.Op) int {
	switch op.Group() {
	case mc.GroupGetLike:
		return 0
	case mc.GroupUpdateLike:
		return 1
	case mc.GroupDeleteLike:
		return 2
	}
	return -1
}

func (f *failoverRoute) shouldFailover(op mc.Op, res mc.Result) bool {
	if c := errClass(op); c >= 0 && f.errs[c] != nil {
		return f.errs[c].has(res)
	}
	return res.IsFailoverError()
}

// process is mcrouter's processReply: true means "answer this reply".
func (f *failoverRoute) process(op mc.Op, res mc.Result, tries *int) bool {
	if !f.shouldFailover(op, res) {
		return true
	}
	if !tkoOrHardTko(res) { // no work was done: neither a token nor a try
		if f.limiter != nil && !f.limiter.consume(float64(f.total.Load())) {
			f.s.stats.failoverRateLimited.Add(1)
			return true
		}
		if f.exclude == nil || !f.exclude.has(res) {
			*tries++
		}
	}
	return false
}

// tkoOrHardTko is mcrouter's isTkoOrHardTkoResult: tko (the destination was
// not tried) or a hard TKO error (connect_error, connect_timeout, shutdown:
// the server could not take the request). FailoverRoute counts neither
// against failover_limit nor as a try of its failover policy, so failover is
// not throttled while servers die.
func tkoOrHardTko(res mc.Result) bool {
	switch res {
	case mc.ResTko, mc.ResConnectError, mc.ResConnectTimeout, mc.ResShutdown:
		return true
	}
	return false
}

func (f *failoverRoute) routeChild(ctx context.Context, idx int, req *mc.Request, rep *mc.Reply) {
	c := f.children[idx]
	if f.recentErrors != nil {
		rep.Reset()
		c.Route(ctx, req, rep)
		if rep.Result.IsError() {
			f.recentErrors[idx].Add(1)
		} else {
			f.recentErrors[idx].Store(0)
		}
		return
	}
	rep.Reset()
	c.Route(ctx, req, rep)
}

func (f *failoverRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	cctx := ctx
	if tc != nil {
		cctx = tc.enter(childLabel(f.label, 0))
	}
	it := failoverIter{f: f, req: req}
	f.routeChild(cctx, 0, req, rep)
	if f.limiter != nil {
		f.total.Add(1)
	}
	tries := 0
	if f.process(req.Op, rep.Result, &tries) {
		return
	}
	if it.limit() <= 1 {
		if rep.Result.IsError() {
			f.s.stats.failoverAllFailed.Add(1)
		}
		return
	}
	f.s.stats.failoverAll.Add(1)
	freq := req
	if f.tag && !req.Failover {
		tagged := *req
		tagged.Failover = true
		freq = &tagged
	}
	prev := 0
	for p := 1; p < it.limit(); p++ {
		if tries >= f.maxErrorTries {
			if tc != nil {
				tc.note(f.label + ": max_error_tries reached")
			}
			break
		}
		idx := it.index(p)
		if tc != nil {
			cctx = tc.enter(f.label + " child " + strconv.Itoa(prev) + " " + rep.Result.String() + " → child " + strconv.Itoa(idx))
		}
		f.routeChild(cctx, idx, freq, rep)
		prev = idx
		if p == it.limit()-1 {
			if rep.Result.IsError() {
				f.s.stats.failoverAllFailed.Add(1)
			}
			break
		}
		if f.process(req.Op, rep.Result, &tries) {
			return
		}
	}
}

// failoverIter yields the child index of each position: 0 is the normal
// route, then the policy's order.
type failoverIter struct {
	f     *failoverRoute
	req   *mc.Request
	salt  int
	used  []bool
	order []int
	init  bool
}

// limit returns the number of positions (the policy's end).
func (it *failoverIter) limit() int {
	if it.f.policy == policyRendezvous {
		if !it.init {
			it.init = true
			it.order = it.f.rendezvousOrder(it.req)
		}
		return len(it.order)
	}
	return it.f.end
}

func (it *failoverIter) index(p int) int {
	if p == 0 {
		return 0
	}
	f := it.f
	switch f.policy {
	case policyDeterministic:
		return it.deterministic()
	case policyLeastFailures:
		if !it.init {
			it.init = true
			it.order = f.leastFailuresOrder()
		}
		return it.order[p]
	case policyRendezvous:
		it.limit()
		return it.order[p]
	}
	return p
}

// deterministic is DeterministicOrderPolicy's increment: hash the routing
// key salted with "2", "3", ... over all children until an unused index
// comes up (at most 100 retries), never index 0 nor the normal route's
// selected index + 1.
func (it *failoverIter) deterministic() int {
	f := it.f
	n := len(f.children)
	if it.used == nil {
		it.used = make([]bool, n)
		it.used[0] = true
		it.salt = 1
		if !f.ignoreNormal {
			if ni := selectedIndex(f.children[0], it.req); ni+1 < n {
				it.used[ni+1] = true
			}
		}
	}
	rk := routingKey(it.req.Key)
	var buf [512]byte
	idx := 0
	for attempts := 0; ; attempts++ {
		it.salt++
		key := strconv.AppendInt(append(buf[:0], rk...), int64(it.salt), 10)
		if f.weights != nil {
			idx = int(hash.WeightedCh3(key, f.weights))
		} else {
			idx = int(hash.Furc(key, uint32(n)))
		}
		if !it.used[idx] || attempts >= 100 {
			break
		}
	}
	it.used[idx] = true
	return idx
}

func (f *failoverRoute) leastFailuresOrder() []int {
	n := len(f.children)
	order := make([]int, n)
	counts := make([]int64, n)
	for i := range order {
		order[i] = i
		counts[i] = f.recentErrors[i].Load()
	}
	rest := order[1:]
	sort.SliceStable(rest, func(a, b int) bool { return counts[rest[a]] < counts[rest[b]] })
	return order[:f.end]
}

// rendezvousOrder approximates RendezvousPolicy: children 1..n-1 (hosts,
// one tag each) ordered by a highest-random-weight score of the routing key
// and the tag, skipping the host the normal route selected. mcrouter's
// RendezvousHashFunc is not reproduced bit for bit.
func (f *failoverRoute) rendezvousOrder(req *mc.Request) []int {
	primary := selectedIndex(f.children[0], req)
	rk := routingKey(req.Key)
	type scored struct {
		host  int
		score uint64
	}
	hosts := make([]scored, 0, len(f.tagSeeds))
	for h, seed := range f.tagSeeds {
		if h == primary {
			continue
		}
		hosts = append(hosts, scored{h, hash.Spooky64(rk, seed)})
	}
	sort.Slice(hosts, func(a, b int) bool { return hosts[a].score > hosts[b].score })
	order := make([]int, 1, len(hosts)+1)
	for _, h := range hosts {
		order = append(order, h.host+1)
	}
	return order
}

// missFailoverRoute is mcrouter's MissFailoverRoute: get-like requests and
// deletes try the children in order until a hit.
type missFailoverRoute struct {
	children   []node
	returnBest bool
}

var replyPool = sync.Pool{New: func() any { return new(mc.Reply) }}

func (m *missFailoverRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("miss-failover", func() { describeAll(w, req, m.children) })
}

func (m *missFailoverRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	g := req.Op.Group()
	if g != mc.GroupGetLike && g != mc.GroupDeleteLike {
		if tc != nil {
			ctx = tc.enter("MissFailoverRoute → child 0 (" + req.Op.String() + " is not get-like nor delete)")
		}
		m.children[0].Route(ctx, req, rep)
		return
	}
	cctx := ctx
	if tc != nil {
		cctx = tc.enter(childLabel("MissFailoverRoute", 0))
	}
	m.children[0].Route(cctx, req, rep)
	if rep.Result.IsHit() {
		return
	}
	if !m.returnBest {
		for i := 1; i < len(m.children); i++ {
			if tc != nil {
				cctx = tc.enter("MissFailoverRoute child " + strconv.Itoa(i-1) + " " + rep.Result.String() + " → child " + strconv.Itoa(i))
			}
			m.children[i].Route(cctx, req, rep)
			if rep.Result.IsHit() {
				return
			}
		}
		return
	}
	r := replyPool.Get().(*mc.Reply)
	last := rep.Result
	for i := 1; i < len(m.children); i++ {
		if tc != nil {
			cctx = tc.enter("MissFailoverRoute child " + strconv.Itoa(i-1) + " " + last.String() + " → child " + strconv.Itoa(i))
		}
		r.Reset()
		m.children[i].Route(cctx, req, r)
		last = r.Result
		if r.Result.IsHit() || !r.Result.WorseThan(rep.Result) {
			rep.CopyFrom(r)
		}
		if r.Result.IsHit() {
			break
		}
	}
	r.Reset()
	replyPool.Put(r)
}

// tokenBucket is folly's TokenBucket: tokens accrue at rate per unit of time
// up to burst; zeroTime is when the bucket was (or would have been) empty.
// Lock-free.
type tokenBucket struct {
	rate, burst float64
	zero        atomic.Uint64 // float64 bits
}

func newTokenBucket(rate, burst, zeroTime float64) *tokenBucket {
	b := &tokenBucket{rate: rate, burst: burst}
	b.zero.Store(math.Float64bits(zeroTime))
	return b
}

// consume takes one token at time now, reporting whether there was one.
func (b *tokenBucket) consume(now float64) bool {
	for {
		zb := b.zero.Load()
		zt := math.Float64frombits(zb)
		tokens := min((now-zt)*b.rate, b.burst)
		if tokens < 1 {
			return false
		}
		nz := now - (tokens-1)/b.rate
		if b.zero.CompareAndSwap(zb, math.Float64bits(nz)) {
			return true
		}
	}
}
