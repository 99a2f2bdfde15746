package route

import (
	"context"
	"strconv"

	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
)

// routingKey returns the bytes mcrouter hashes: the key without its routing
// prefix, cut at the first "|#|".
func routingKey(key []byte) []byte {
	_, rk := hash.RoutingKey(key)
	return rk
}

// hashRoute is mcrouter's SelectionRoute with a HashSelector: PoolRoute's and
// HashRoute's core.
type hashRoute struct {
	sel      hash.Selector
	children []node
	label    string // trace label prefix, e.g. "PoolRoute A Ch3"
	name     string // route_handles name, e.g. "selection|hash|Ch3"
}

func (h *hashRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	i := h.sel.Pick(routingKey(req.Key))
	if tc := traceOf(ctx); tc != nil {
		ctx = tc.enter(h.label + " → " + strconv.Itoa(i))
	}
	h.children[i].Route(ctx, req, rep)
}

func (h *hashRoute) selectedIndex(req *mc.Request) int { return h.sel.Pick(routingKey(req.Key)) }

func (h *hashRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested(h.name, func() { h.children[h.sel.Pick(routingKey(req.Key))].describe(w, req) })
}

// poolRoute wraps what a PoolRoute builds, so that route_handles shows its
// asynclog and rate limit layers (the asynclog behaviour itself lives in the
// pool's destination handles).
type poolRoute struct {
	inner    node
	asynclog string
}

func (p *poolRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	p.inner.Route(ctx, req, rep)
}

func (p *poolRoute) selectedIndex(req *mc.Request) int { return selectedIndex(p.inner, req) }

func (p *poolRoute) describe(w *handlesWriter, req *mc.Request) {
	if p.asynclog == "" {
		p.inner.describe(w, req)
		return
	}
	w.nested("asynclog:"+p.asynclog, func() { p.inner.describe(w, req) })
}

// randomRoute sends each request to a uniformly random child.
type randomRoute struct {
	s        *shared
	children []node
}

func (r *randomRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	i := r.s.rand(len(r.children))
	if tc := traceOf(ctx); tc != nil {
		ctx = tc.enter(childLabel("RandomRoute", i))
	}
	r.children[i].Route(ctx, req, rep)
}

func (r *randomRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("random", func() { describeAll(w, req, r.children) })
}

// fixedRoute is a child chosen at build time (HostIdRoute), kept as a node so
// that traces and route_handles show the choice.
type fixedRoute struct {
	child node
	label string
	name  string
}

func (f *fixedRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if tc := traceOf(ctx); tc != nil {
		ctx = tc.enter(f.label)
	}
	f.child.Route(ctx, req, rep)
}

func (f *fixedRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested(f.name, func() { f.child.describe(w, req) })
}

// folly's hash helpers, for LatestRoute and HostIdRoute (which hash the host
// id with folly::hash::hash_combine and folly::Hash).

// hash128to64 is folly::hash::hash_128_to_64.
func hash128to64(upper, lower uint64) uint64 {
	const kMul = 0x9ddfea08eb382d69
	a := (lower ^ upper) * kMul
	a ^= a >> 47
	b := (upper ^ a) * kMul
	b ^= b >> 47
	b *= kMul
	return b
}

// twangMix64 is folly::hash::twang_mix64 (folly::hasher of 64-bit integers).
func twangMix64(key uint64) uint64 {
	key = ^key + (key << 21)
	key ^= key >> 24
	key = key + (key << 3) + (key << 8)
	key ^= key >> 14
	key = key + (key << 2) + (key << 4)
	key ^= key >> 28
	key += key << 31
	return key
}

// follyHashWithSalt is folly::Hash()(v, salt): hash_128_to_64 of the hashes
// of both (twang_mix64 for the integer, SpookyHashV2 Hash64 seed 0 for the
// string).
func follyHashWithSalt(v uint64, salt string) uint64 {
	return hash128to64(twangMix64(v), hash.Spooky64([]byte(salt), 0))
}

// latestTargets is mcrouter's LatestRoute target choice: failoverCount
// children picked by WeightedCh3 of the decimal host hash, each pick removed
// (swapped with the last) before the next.
func latestTargets(children []node, weights []float64, failoverCount int, hostID uint32, salt string) ([]node, []int) {
	targets := append([]node(nil), children...)
	w := append([]float64(nil), weights...)
	idx := make([]int, len(children))
	for i := range idx {
		idx[i] = i
	}
	failoverCount = min(failoverCount, len(targets))
	key := hash128to64(0, uint64(hostID))
	if salt != "" {
		key = follyHashWithSalt(key, salt)
	}
	var out []node
	var chosen []int
	for i := 0; i < failoverCount; i++ {
		id := int(hash.WeightedCh3([]byte(strconv.FormatUint(key, 10)), w))
		out = append(out, targets[id])
		chosen = append(chosen, idx[id])
		last := len(targets) - 1
		targets[id], idx[id], w[id] = targets[last], idx[last], w[last]
		targets, idx, w = targets[:last], idx[:last], w[:last]
		key = hash128to64(key, uint64(i))
	}
	return out, chosen
}

// padWeights returns weights of length n: extra entries dropped, missing
// ones 0.5, as mcrouter's WeightedCh3 parser does.
func padWeights(weights []float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		if i < len(weights) {
			out[i] = weights[i]
		} else {
			out[i] = hash.DefaultWeight
		}
	}
	return out
}
