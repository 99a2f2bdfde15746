package route

import (
	"bytes"
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// This file holds PoolRoute's shard splits and bucketization, and
// L1L2SizeSplitRoute.

// maxShardSplits is mcrouter's cap on a shard's split count.
const maxShardSplits = 26*26 + 1

// shardHostModulo is mcrouter's granularity of the per-host switch time of
// a split migration.
const shardHostModulo = 16384

// shardSplit is one shard's split settings.
type shardSplit struct {
	oldSize, newSize int
	start, period    int64 // migration window, Unix seconds
	migrating        bool
	fanoutDeletes    bool
}

// size returns the split count this host uses at now (mcrouter's
// getSplitSizeForCurrentHost).
func (sp *shardSplit) size(now float64, hostID uint32) int {
	if !sp.migrating {
		return sp.newSize
	}
	switch start := float64(sp.start); {
	case now < start:
		return sp.oldSize
	case now > start+float64(sp.period):
		return sp.newSize
	default:
		point := (now - start) / float64(sp.period)
		if float64(hostID%shardHostModulo)/shardHostModulo < point {
			return sp.newSize
		}
		return sp.oldSize
	}
}

// shardSplitRoute is mcrouter's ShardSplitRoute: keys "prefix:<shard>:rest"
// whose shard has splits go to one split key chosen by the host id (the
// shard followed by a two-letter suffix; split 0 keeps the key), deletes to
// every split when fanned out.
type shardSplitRoute struct {
	s      *shared
	child  node
	splits map[string]*shardSplit
}

// splitKey returns key with the suffix of split i (≥ 1) after the shard,
// which ends at end.
func splitKey(key []byte, end, i int) []byte {
	out := make([]byte, 0, len(key)+2)
	out = append(out, key[:end]...)
	out = append(out, byte('a'+(i-1)%26), byte('a'+(i-1)/26))
	return append(out, key[end:]...)
}

// shardOf returns the shard id of key's routing key (the text between its
// first and second ':', which must end with a digit) and where the shard
// ends in key.
func shardOf(key []byte) (string, int, bool) {
	prefix, rk := hash.RoutingKey(key)
	first := bytes.IndexByte(rk, ':')
	if first < 0 {
		return "", 0, false
	}
	rest := rk[first+1:]
	second := bytes.IndexByte(rest, ':')
	if second <= 0 || rest[second-1] < '0' || rest[second-1] > '9' {
		return "", 0, false
	}
	return string(rest[:second]), len(prefix) + first + 1 + second, true
}

// plan returns the split count for req's key and where its shard ends (0
// when the key is not split).
func (r *shardSplitRoute) plan(req *mc.Request) (*shardSplit, int, int) {
	shard, end, ok := shardOf(req.Key)
	if !ok {
		return nil, 0, 0
	}
	sp := r.splits[shard]
	if sp == nil {
		return nil, 0, 0
	}
	n := sp.size(r.s.seconds(), r.s.hostID)
	if n <= 1 {
		return nil, 0, 0
	}
	return sp, n, end
}

func (r *shardSplitRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	sp, n, end := r.plan(req)
	if sp == nil {
		r.child.Route(ctx, req, rep)
		return
	}
	tc := traceOf(ctx)
	if req.Op.Group() == mc.GroupDeleteLike && sp.fanoutDeletes {
		for i := 1; i < n; i++ {
			sr := *req
			sr.Key = splitKey(req.Key, end, i)
			if tc != nil {
				tc.background().note("ShardSplitRoute delete → split " + strconv.Itoa(i) + " " + string(sr.Key))
			}
			r.s.async(ctx, &sr, r.child)
		}
		if tc != nil {
			ctx = tc.enter("ShardSplitRoute delete → primary split")
		}
		r.child.Route(ctx, req, rep)
		return
	}
	i := int(r.s.hostID % uint32(n))
	if i == 0 {
		if tc != nil {
			ctx = tc.enter("ShardSplitRoute → primary split (host id % " + strconv.Itoa(n) + " = 0)")
		}
		r.child.Route(ctx, req, rep)
		return
	}
	sr := *req
	sr.Key = splitKey(req.Key, end, i)
	if tc != nil {
		ctx = tc.enter("ShardSplitRoute → split " + strconv.Itoa(i) + " " + string(sr.Key))
	}
	r.child.Route(ctx, &sr, rep)
}

func (r *shardSplitRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("shard-split", func() { r.child.describe(w, req) })
}

func (r *shardSplitRoute) selectedIndex(req *mc.Request) int { return selectedIndex(r.child, req) }

// shardSplits builds the shard split table of a PoolRoute.
func (b *builder) shardSplits(n *schema.PoolRoute) map[string]*shardSplit {
	now := b.s.seconds()
	clamp := func(v int) int {
		switch {
		case v <= 0:
			return 1
		case v > maxShardSplits:
			return maxShardSplits
		}
		return v
	}
	out := map[string]*shardSplit{}
	for id, sp := range n.ShardSplits {
		if !sp.Object {
			if sp.Splits <= 0 {
				b.errorf(sp.Pos, RuleBadOption, "PoolRoute: shard_splits %q must be positive, not %d", id, sp.Splits)
				continue
			}
			c := clamp(sp.Splits)
			out[id] = &shardSplit{oldSize: c, newSize: c, fanoutDeletes: true}
			continue
		}
		if sp.SplitStart < 0 || sp.MigrationPeriod < 0 {
			b.errorf(sp.Pos, RuleBadOption, "PoolRoute: shard_splits %q: split_start and migration_period must not be negative", id)
			continue
		}
		x := &shardSplit{oldSize: clamp(sp.OldSplitSize), newSize: clamp(sp.NewSplitSize), start: sp.SplitStart,
			period: sp.MigrationPeriod, fanoutDeletes: sp.FanoutDeletes}
		x.migrating = x.oldSize != x.newSize && now <= float64(sp.SplitStart+sp.MigrationPeriod)
		out[id] = x
	}
	return out
}

// bucketKey is the context key of the bucket id a bucketized PoolRoute
// computed from the request's original key.
type bucketKey struct{}

// bucketSelect is the selection of a bucketized PoolRoute: the key is hashed
// to one of total buckets (Ch3, or Ch3 of prefix + bucket within the
// prefix's own buckets), and the decimal bucket id, not the key, is hashed
// to a child (mcrouter's McBucketRoute and BucketHashSelector).
type bucketSelect struct {
	sel      hash.Selector
	children []node
	total    uint32
	prefixes []bucketPrefix // longest first
	label    string
	name     string
}

type bucketPrefix struct {
	prefix  string
	buckets uint32
}

// bucket returns the bucket id of a routing key.
func (b *bucketSelect) bucket(rk []byte) uint32 {
	for _, p := range b.prefixes {
		if bytes.HasPrefix(rk, []byte(p.prefix)) {
			in := hash.Furc(rk, p.buckets)
			return hash.Furc(strconv.AppendUint([]byte(p.prefix), uint64(in), 10), b.total)
		}
	}
	return hash.Furc(rk, b.total)
}

func (b *bucketSelect) pick(ctx context.Context, req *mc.Request) (uint32, int) {
	id, ok := ctx.Value(bucketKey{}).(uint32)
	if !ok {
		id = b.bucket(routingKey(req.Key))
	}
	return id, b.sel.Pick(strconv.AppendUint(nil, uint64(id), 10))
}

func (b *bucketSelect) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	id, i := b.pick(ctx, req)
	if tc := traceOf(ctx); tc != nil {
		ctx = tc.enter(b.label + " bucket " + strconv.FormatUint(uint64(id), 10) + " → " + strconv.Itoa(i))
	}
	b.children[i].Route(ctx, req, rep)
}

func (b *bucketSelect) selectedIndex(req *mc.Request) int {
	_, i := b.pick(context.Background(), req)
	return i
}

func (b *bucketSelect) describe(w *handlesWriter, req *mc.Request) {
	_, i := b.pick(context.Background(), req)
	w.nested(b.name, func() { b.children[i].describe(w, req) })
}

// bucketOuter computes the bucket id from the key before a shard split
// changes it, as mcrouter's McBucketRoute wraps the whole PoolRoute.
type bucketOuter struct {
	sel   *bucketSelect
	child node
}

func (o *bucketOuter) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	ctx = context.WithValue(ctx, bucketKey{}, o.sel.bucket(routingKey(req.Key)))
	o.child.Route(ctx, req, rep)
}

func (o *bucketOuter) describe(w *handlesWriter, req *mc.Request) { o.child.describe(w, req) }

// bucketSelection builds the selection of a bucketized PoolRoute, or
// reports why it cannot.
func (b *builder) bucketSelection(n *schema.PoolRoute, children []node, spec hash.Spec, bp *builtPool) node {
	if n.TotalBuckets < 1 || n.TotalBuckets > 1<<23 {
		b.errorf(n.Pos, RuleBadOption, "PoolRoute: bucketize needs total_buckets in 1..%d, not %d", 1<<23, n.TotalBuckets)
		return &nullRoute{s: b.s}
	}
	if specialHash[spec.Func] {
		return b.unsupported(n.Pos, "bucketized hash_func "+spec.Func)
	}
	switch len(children) {
	case 0:
		return b.selection(n.Pos, children, spec, bp.p.ErrorOnEmptyOrDefault(), n.Pool, "PoolRoute "+n.Pool, n.Hash)
	}
	sel, err := hash.New(spec, len(children))
	if err != nil {
		b.errorf(n.Pos, RuleBadOption, "%v", err)
		return &nullRoute{s: b.s}
	}
	bs := &bucketSelect{sel: sel, children: children, total: uint32(n.TotalBuckets),
		label: "PoolRoute " + n.Pool + " " + spec.Func, name: "bucketize|total_buckets=" + strconv.FormatInt(n.TotalBuckets, 10) +
			"|bucketization_keyspace=" + n.BucketizationKeyspace}
	for p, c := range n.TotalBucketsByPrefix {
		if c < 1 || c > n.TotalBuckets {
			b.errorf(n.Pos, RuleBadOption, "PoolRoute: total_buckets_by_prefix %q must be in 1..total_buckets, not %d", p, c)
			continue
		}
		bs.prefixes = append(bs.prefixes, bucketPrefix{p, uint32(c)})
	}
	sort.Slice(bs.prefixes, func(i, j int) bool {
		if len(bs.prefixes[i].prefix) != len(bs.prefixes[j].prefix) {
			return len(bs.prefixes[i].prefix) > len(bs.prefixes[j].prefix)
		}
		return bs.prefixes[i].prefix < bs.prefixes[j].prefix
	})
	return bs
}

// sizeSplitFlag is mcrouter's MC_MSG_FLAG_SIZE_SPLIT: the client flag of
// an L1 sentinel.
const sizeSplitFlag = 0x20

// l2KeySep separates the key from the random suffix of an L2 key.
const l2KeySep = "|==|"

// sizeSplitExtraKey is the key room an L2 key needs (the separator and a
// 64-bit decimal); longer keys stay in L1.
const sizeSplitExtraKey = len(l2KeySep) + 20

// l1l2SizeSplitRoute is mcrouter's L1L2SizeSplitRoute.
type l1l2SizeSplitRoute struct {
	s                       *shared
	l1, l2                  node
	threshold, ttlThreshold int64
	failureTTL              int64
	bothFullSet             bool
	retries                 int
}

func (r *l1l2SizeSplitRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested("l1l2-sizesplit", func() { r.l1.describe(w, req); r.l2.describe(w, req) })
}

// toL1 reports whether a set stays whole in L1.
func (r *l1l2SizeSplitRoute) toL1(req *mc.Request) bool {
	return r.threshold == 0 || int64(len(req.Value)) < r.threshold ||
		(r.ttlThreshold != 0 && req.Exptime < r.ttlThreshold) || len(req.Key)+sizeSplitExtraKey > 255
}

func l2Key(key []byte, suffix string) []byte {
	out := make([]byte, 0, len(key)+len(l2KeySep)+len(suffix))
	out = append(out, key...)
	out = append(out, l2KeySep...)
	return append(out, suffix...)
}

func (r *l1l2SizeSplitRoute) enter(ctx context.Context, label string) context.Context {
	if tc := traceOf(ctx); tc != nil {
		return tc.enter("L1L2SizeSplitRoute " + label)
	}
	return ctx
}

func (r *l1l2SizeSplitRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	switch req.Op {
	case mc.OpGet:
		r.get(ctx, req, rep, 0, false)
	case mc.OpGets, mc.OpLeaseGet:
		r.get(ctx, req, rep, r.retries, true)
	case mc.OpSet:
		r.set(ctx, req, rep)
	case mc.OpLeaseSet:
		r.leaseSet(ctx, req, rep)
	default:
		r.l1.Route(r.enter(ctx, "→ l1"), req, rep)
	}
}

// deleteSentinel removes L1's sentinel for req's key in the background.
func (r *l1l2SizeSplitRoute) deleteSentinel(ctx context.Context, req *mc.Request) {
	del := mc.Request{Op: mc.OpDelete, Key: req.Key, Failover: req.Failover}
	if tc := traceOf(ctx); tc != nil {
		tc.background().note("L1L2SizeSplitRoute delete the l1 sentinel")
	}
	r.s.async(ctx, &del, r.l1)
}

func (r *l1l2SizeSplitRoute) get(ctx context.Context, req *mc.Request, rep *mc.Reply, retries int, retry bool) {
	r.l1.Route(r.enter(ctx, "→ l1"), req, rep)
	if !rep.Result.IsHit() || rep.Flags&sizeSplitFlag == 0 {
		return
	}
	if req.Op == mc.OpLeaseGet && rep.CAS >= 1 {
		// A sentinel with a lease token: a (hot) miss.
		tok := rep.CAS
		rep.Reset()
		rep.Result, rep.CAS = mc.ResNotFound, tok
		return
	}
	l2req := mc.Request{Op: mc.OpGet, Key: req.Key, Failover: req.Failover}
	if len(rep.Value) > 0 {
		l2req.Key = l2Key(req.Key, string(rep.Value))
	} else if !retry {
		// An empty sentinel: the value is under the same key in L2.
		r.l2.Route(r.enter(ctx, "l1 sentinel → l2"), req, rep)
		return
	}
	cas := rep.CAS
	var l2 mc.Reply
	r.l2.Route(r.enter(ctx, "l1 sentinel → l2 "+string(l2req.Key)), &l2req, &l2)
	switch {
	case l2.Result.IsHit():
		rep.Reset()
		rep.Result, rep.Flags, rep.CAS = mc.ResFound, l2.Flags, cas
		rep.Value = append(rep.Value, l2.Value...)
	case l2.Result.IsError():
		if l2.Result.IsFailoverError() {
			r.deleteSentinel(ctx, req)
		}
		rep.Reset()
		rep.Result, rep.Message = l2.Result, l2.Message
	case retry && retries > 0:
		r.deleteSentinel(ctx, req)
		rep.Reset()
		r.get(ctx, req, rep, retries-1, true)
	default:
		if !retry {
			r.deleteSentinel(ctx, req)
		}
		rep.Reset()
		rep.Result = mc.ResLocalError
	}
}

func (r *l1l2SizeSplitRoute) set(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if r.toL1(req) {
		r.l1.Route(r.enter(ctx, "small value → l1"), req, rep)
		return
	}
	if r.bothFullSet {
		r.l1.Route(r.enter(ctx, "large value → l1"), req, rep)
		if rep.Result == mc.ResStored {
			if tc := traceOf(ctx); tc != nil {
				tc.background().note("L1L2SizeSplitRoute large value → l2 too")
			}
			r.s.async(ctx, req, r.l2)
		}
		return
	}
	r.l2.Route(r.enter(ctx, "large value → l2"), req, rep)
	if rep.Result != mc.ResStored {
		return
	}
	sentinel := *req
	sentinel.Value = nil
	sentinel.Flags |= sizeSplitFlag
	rep.Reset()
	r.l1.Route(r.enter(ctx, "sentinel → l1"), &sentinel, rep)
}

func (r *l1l2SizeSplitRoute) leaseSet(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if r.toL1(req) {
		r.l1.Route(r.enter(ctx, "small value → l1"), req, rep)
		return
	}
	suffix := strconv.FormatUint(uint64(r.s.rand(1<<31)), 10)
	if r.bothFullSet {
		adj := *req
		adj.Key = l2Key(req.Key, suffix)
		r.l1.Route(r.enter(ctx, "large value → l1"), &adj, rep)
		if rep.Result == mc.ResStored {
			set := mc.Request{Op: mc.OpSet, Key: adj.Key, Value: req.Value, Flags: req.Flags, Exptime: req.Exptime, Failover: req.Failover}
			r.s.async(ctx, &set, r.l2)
		}
		return
	}
	set := mc.Request{Op: mc.OpSet, Key: l2Key(req.Key, suffix), Value: req.Value, Flags: req.Flags, Exptime: req.Exptime, Failover: req.Failover}
	var l2 mc.Reply
	r.l2.Route(r.enter(ctx, "large value → l2 "+string(set.Key)), &set, &l2)
	l1req := *req
	if l2.Result == mc.ResStored {
		l1req.Value = []byte(suffix)
		l1req.Flags |= sizeSplitFlag
	} else if l1req.Exptime > r.failureTTL || l1req.Exptime == 0 {
		l1req.Exptime = r.failureTTL
	}
	r.l1.Route(r.enter(ctx, "→ l1"), &l1req, rep)
}

// sizeSplit builds an L1L2SizeSplitRoute.
func (b *builder) sizeSplit(n *schema.L1L2SizeSplitRoute) node {
	if !b.required(n, "l1", n.L1) || !b.required(n, "l2", n.L2) {
		return &nullRoute{s: b.s}
	}
	r := &l1l2SizeSplitRoute{s: b.s, l1: b.one(n.L1), l2: b.one(n.L2), threshold: n.Threshold,
		ttlThreshold: n.TTLThreshold, failureTTL: 60, bothFullSet: n.BothFullSet, retries: 1}
	if n.Threshold < 0 || n.TTLThreshold < 0 {
		b.errorf(n.Pos, RuleBadOption, "L1L2SizeSplitRoute: threshold and ttl_threshold must not be negative")
	}
	if n.FailureTTL != nil {
		if *n.FailureTTL <= 0 {
			b.errorf(n.Pos, RuleBadOption, "L1L2SizeSplitRoute: failure_ttl must be positive, not %d", *n.FailureTTL)
		}
		r.failureTTL = *n.FailureTTL
	}
	if n.Retries != nil {
		if *n.Retries < 1 || *n.Retries > 10 {
			b.errorf(n.Pos, RuleBadOption, "L1L2SizeSplitRoute: retries must be in 1..10, not %d", *n.Retries)
		}
		r.retries = *n.Retries
	}
	return r
}

// overridePort parses a server address of a pool with a port_override: the
// address's port, if any, is replaced (unix sockets keep none).
func overridePort(server string, port int) (schema.Addr, error) {
	if a, err := schema.ParseAddr(server); err == nil {
		if a.Unix == "" {
			a.Port = port
		}
		return a, nil
	}
	// No port: put one after the host.
	end := strings.IndexByte(server, ':')
	if strings.HasPrefix(server, "[") {
		end = strings.IndexByte(server, ']') + 1
		if end == 0 || (end < len(server) && server[end] != ':') {
			return schema.ParseAddr(server)
		}
	}
	if end < 0 {
		end = len(server)
	}
	a, err := schema.ParseAddr(server[:end] + ":" + strconv.Itoa(port) + server[end:])
	if err != nil {
		return schema.ParseAddr(server)
	}
	return a, nil
}

// clampWeights returns weights with values above 1 set to 1.
func clampWeights(ws []float64) []float64 {
	var out []float64
	for i, w := range ws {
		if w > 1 {
			if out == nil {
				out = append([]float64(nil), ws...)
			}
			out[i] = 1
		}
	}
	if out == nil {
		return ws
	}
	return out
}
