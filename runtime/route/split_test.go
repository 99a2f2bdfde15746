package route

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
)

func TestL1L2SizeSplitRoute(t *testing.T) {
	route := `{"type": "L1L2SizeSplitRoute", "l1": "PoolRoute|A", "l2": "PoolRoute|B", "threshold": 8}`
	e := newEnv(t, withPools(route))
	e.f.Stateful = true
	// A small value stays whole in L1.
	small := req(mc.OpSet, "s")
	small.Value = []byte("tiny")
	_, hops, _ := e.traced(small)
	if diff := cmp.Diff([]string{"A[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
	// A large one goes to L2, with an empty sentinel (flag 0x20) in L1.
	big := req(mc.OpSet, "k")
	big.Value = []byte("0123456789")
	_, hops, _ = e.traced(big)
	if diff := cmp.Diff([]string{"B[0] stored", "A[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
	calls := e.f.Calls()
	if c := calls[len(calls)-1]; c.Value != "" || c.Flags&sizeSplitFlag == 0 {
		t.Errorf("sentinel %+v, want an empty value with flag 0x20", c)
	}
	// A get finds the sentinel and reads L2 under the same key.
	rep, hops, _ := e.traced(req(mc.OpGet, "k"))
	if rep.Result != mc.ResFound || string(rep.Value) != "0123456789" {
		t.Errorf("get: %s %q", rep.Result, rep.Value)
	}
	if diff := cmp.Diff([]string{"A[0] found", "B[0] found"}, hops); diff != "" {
		t.Error(diff)
	}
	// Other operations go to L1.
	_, hops, _ = e.traced(req(mc.OpDelete, "k"))
	if diff := cmp.Diff([]string{"A[0] deleted"}, hops); diff != "" {
		t.Error(diff)
	}
}

func TestL1L2SizeSplitRouteBothFullSet(t *testing.T) {
	route := `{"type": "L1L2SizeSplitRoute", "l1": "PoolRoute|A", "l2": "PoolRoute|B", "threshold": 8, "both_full_set": true}`
	e := newEnv(t, withPools(route))
	e.f.Stateful = true
	big := req(mc.OpSet, "k")
	big.Value = []byte("0123456789")
	_, hops, _ := e.traced(big)
	if diff := cmp.Diff([]string{"A[0] stored", "& B[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
	if v, _ := e.f.Load("a:1", "k"); v != "0123456789" {
		t.Errorf("l1 holds %q, want the whole value", v)
	}
}

// TestL1L2SizeSplitRouteLostValue: a sentinel with a value
// names an L2 key; when L2 misses it, the sentinel is deleted and the get
// fails with local_error.
func TestL1L2SizeSplitRouteLostValue(t *testing.T) {
	route := `{"type": "L1L2SizeSplitRoute", "l1": "PoolRoute|A", "l2": "PoolRoute|B", "threshold": 8}`
	e := newEnv(t, withPools(route))
	e.f.Stateful = true
	set := req(mc.OpSet, "k")
	set.Value, set.Flags = []byte("42"), sizeSplitFlag
	var rep mc.Reply
	e.g.Route(t.Context(), set, &rep)
	rep, hops, _ := e.traced(req(mc.OpGet, "k"))
	if rep.Result != mc.ResLocalError {
		t.Errorf("get: %s, want local_error (%q)", rep.Result, hops)
	}
	if diff := cmp.Diff([]string{"A[0] found", "B[0] notfound", "& A[0] deleted"}, hops); diff != "" {
		t.Error(diff)
	}
	calls := e.f.Calls()
	if c := calls[len(calls)-2]; c.Key != "k|==|42" {
		t.Errorf("l2 key %q, want k|==|42", c.Key)
	}
}

func TestShardSplits(t *testing.T) {
	// Host id 1: with 3 splits this host uses split 1 (suffix "aa").
	route := `{"type": "PoolRoute", "pool": "A", "shard_splits": {"123": 3, "7": {"new_split_size": 2}}}`
	e := newEnv(t, withPools(route))
	for _, tc := range []struct {
		op   mc.Op
		key  string
		want []string
	}{
		{mc.OpGet, "p:123:x", []string{"p:123aa:x"}},
		{mc.OpSet, "p:123:x", []string{"p:123aa:x"}},
		{mc.OpGet, "p:124:x", []string{"p:124:x"}}, // no split for shard 124
		{mc.OpGet, "p:12a:x", []string{"p:12a:x"}}, // not a shard id
		{mc.OpGet, "nokey", []string{"nokey"}},
		// Deletes go to every split (int form).
		{mc.OpDelete, "p:123:x", []string{"p:123:x", "p:123aa:x", "p:123ba:x"}},
		// The object form does not fan deletes out unless asked.
		{mc.OpDelete, "p:7:x", []string{"p:7aa:x"}},
	} {
		e.f.ResetCalls()
		var rep mc.Reply
		e.g.Route(t.Context(), &mc.Request{Op: tc.op, Key: []byte(tc.key), Value: []byte("v")}, &rep)
		e.g.Wait()
		var got []string
		for _, c := range e.f.Calls() {
			got = append(got, c.Key)
		}
		if diff := cmp.Diff(tc.want, got, cmpSorted); diff != "" {
			t.Errorf("%s %s: %s", tc.op, tc.key, diff)
		}
	}
}

var cmpSorted = cmp.Transformer("sort", sortStrings)

func TestShardSplitMigration(t *testing.T) {
	sp := &shardSplit{oldSize: 1, newSize: 4, start: 1000, period: 100, migrating: true}
	if n := sp.size(999, 1); n != 1 {
		t.Errorf("before: %d", n)
	}
	if n := sp.size(1101, 1); n != 4 {
		t.Errorf("after: %d", n)
	}
	// Host 8192 switches half-way through.
	if n := sp.size(1040, 8192); n != 1 {
		t.Errorf("at 40%%: %d", n)
	}
	if n := sp.size(1060, 8192); n != 4 {
		t.Errorf("at 60%%: %d", n)
	}
}

func TestBucketize(t *testing.T) {
	route := `{"type": "PoolRoute", "pool": "P", "bucketize": true, "total_buckets": 1000,
		"bucketization_keyspace": "test", "total_buckets_by_prefix": {"user:": 10}}`
	e := newEnv(t, withPools(route))
	for _, key := range []string{"a", "b", "key:1", "user:77", "user:78"} {
		rk := routingKey([]byte(key))
		bucket := hash.Furc(rk, 1000)
		if len(rk) >= 5 && string(rk[:5]) == "user:" {
			bucket = hash.Furc([]byte("user:"+strconv.Itoa(int(hash.Furc(rk, 10)))), 1000)
		}
		want := int(hash.Furc([]byte(strconv.Itoa(int(bucket))), 4))
		e.f.ResetCalls()
		var rep mc.Reply
		e.g.Route(t.Context(), req(mc.OpGet, key), &rep)
		calls := e.f.Calls()
		if len(calls) != 1 || calls[0].Dest.Index != want {
			t.Errorf("%s: calls %+v, want server %d (bucket %d)", key, calls, want, bucket)
		}
	}
}

func TestPortOverride(t *testing.T) {
	cfg := `{"pools": {"A": {"servers": ["localhost", "h:1", "[::1]:ascii"], "port_override": 5000}}, "route": "PoolRoute|A"}`
	var ports []int
	f := NewFake()
	_, err := Build(parseConfig(t, cfg), Options{Dest: func(d DestInfo) (Destination, error) {
		ports = append(ports, d.Addr.Port)
		return f.Dest(d)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{5000, 5000, 5000}, ports); diff != "" {
		t.Error(diff)
	}
}

func TestWeightsAboveOne(t *testing.T) {
	// mcrouter accepts a weight above 1: it acts as 1.
	cfg := withPools(`{"type": "PoolRoute", "pool": "P", "hash": {"hash_func": "WeightedCh3", "weights": [5, 100, 1, 1]}}`)
	e := newEnv(t, cfg)
	ref := newEnv(t, withPools(`"PoolRoute|P"`))
	for _, key := range []string{"a", "b", "c", "d", "e"} {
		if selectedIndex(e.g.root.def.sel.wildcard, req(mc.OpGet, key)) != selectedIndex(ref.g.root.def.sel.wildcard, req(mc.OpGet, key)) {
			t.Errorf("%s: weights of 1 and above differ from Ch3", key)
		}
	}
}

func TestIgnoredPoolRouteOptionsWarn(t *testing.T) {
	cfg := withPools(`{"type": "PoolRoute", "pool": "A", "slow_warmup": {"failoverTarget": "NullRoute"}, "axonlog": true}`)
	g, err := Build(parseConfig(t, cfg), Options{Dest: NewFake().Dest})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, d := range g.Warnings() {
		rules = append(rules, d.Rule)
	}
	if diff := cmp.Diff([]string{RuleIgnored, RuleIgnored}, rules); diff != "" {
		t.Error(diff)
	}
}
