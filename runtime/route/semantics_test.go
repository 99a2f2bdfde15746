package route

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
)

func toDefault(o *Options) { o.SendInvalidRouteToDefault = true }

func onlyHop(t *testing.T, hops []string) string {
	t.Helper()
	if len(hops) != 1 {
		t.Fatalf("want one hop, got %q", hops)
	}
	return hops[0]
}

// TestPoolRouteHashing checks that PoolRoute and HashRoute pick servers
// exactly as runtime/hash does over the routing key (prefix removed, cut at
// the hash stop), with pool weights, route salt and hash overrides.
func TestPoolRouteHashing(t *testing.T) {
	keys := []string{"k", "foo", "user:42", "/a/b/user:42", "user:42|#|v2", "/x/y/abc|#|def", "a somewhat longer key 0123456789"}
	cases := []struct {
		name  string
		route string
		spec  hash.Spec
		pool  string
	}{
		{"default Ch3", `"PoolRoute|P"`, hash.Spec{Func: "Ch3"}, "P"},
		{"pool weights → WeightedCh3", `"PoolRoute|W"`, hash.Spec{Func: "WeightedCh3", Weights: []float64{1, 0.1, 0.5, 1}}, "W"},
		{"hash string overrides function", `{"type": "PoolRoute", "pool": "W", "hash": "Ch3"}`, hash.Spec{Func: "Ch3"}, "W"},
		{"hash object keeps pool weights", `{"type": "PoolRoute", "pool": "W", "hash": {"salt": "s1"}}`,
			hash.Spec{Func: "WeightedCh3", Salt: "s1", Weights: []float64{1, 0.1, 0.5, 1}}, "W"},
		{"hash weights override pool's", `{"type": "PoolRoute", "pool": "W", "hash": {"weights": [0.2, 1, 1, 1]}}`,
			hash.Spec{Func: "WeightedCh3", Weights: []float64{0.2, 1, 1, 1}}, "W"},
		{"Crc32 with salt", `{"type": "PoolRoute", "pool": "P", "hash": {"hash_func": "Crc32", "salt": "x"}}`,
			hash.Spec{Func: "Crc32", Salt: "x"}, "P"},
		{"HashRoute ignores pool weights", `"HashRoute|Pool|W"`, hash.Spec{Func: "Ch3"}, "W"},
		{"HashRoute salt", `{"type": "HashRoute", "children": "Pool|P", "salt": "abc", "hash_func": "ConstShard"}`,
			hash.Spec{Func: "ConstShard", Salt: "abc"}, "P"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withPools(tc.route), toDefault)
			sel, err := hash.New(tc.spec, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				_, rk := hash.RoutingKey([]byte(k))
				want := fmt.Sprintf("%s[%d] found", tc.pool, sel.Pick(rk))
				_, hops, _ := e.traced(req(mc.OpGet, k))
				if got := onlyHop(t, hops); got != want {
					t.Errorf("key %q: got %s, want %s", k, got, want)
				}
			}
		})
	}
}

// TestKeySent checks the key destinations receive: routing prefix removed
// unless the pool keeps it, hash stop kept.
func TestKeySent(t *testing.T) {
	cfg := `{"pools": {"A": {"servers": ["a:1"]}, "K": {"servers": ["k:1"], "keep_routing_prefix": true}},
		"routes": [{"aliases": ["/././", "/r/c/"], "route": {"type": "AllSyncRoute", "children": ["PoolRoute|A", "PoolRoute|K"]}}]}`
	e := newEnv(t, cfg)
	e.plain(req(mc.OpSet, "/r/c/foo|#|bar"))
	var got []string
	for _, c := range e.f.Calls() {
		got = append(got, c.Dest.Pool+" "+c.Key)
	}
	want := []string{"A foo|#|bar", "K /r/c/foo|#|bar"}
	if diff := cmp.Diff(want, sortStrings(got)); diff != "" {
		t.Error(diff)
	}
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestRoot covers routing-prefix dispatch: default route, exact aliases,
// unknown prefixes, the fallback cluster, /*/*/ and /region/*/ broadcasts
// and PrefixSelectorRoute.
func TestRoot(t *testing.T) {
	cfg := `{"pools": {` + testPools + `}, "routes": [
		{"aliases": ["/././", "/r/c1/"], "route": {"type": "PrefixSelectorRoute",
			"policies": {"foo:": "PoolRoute|A", "foo:bar": "PoolRoute|B"}, "wildcard": "PoolRoute|C"}},
		{"aliases": ["/r/c2/"], "route": "PoolRoute|D"},
		{"aliases": ["/x/fallback/"], "route": "PoolRoute|B"},
		{"aliases": ["/y/c/"], "route": {"type": "PrefixSelectorRoute", "policies": {"only:": "PoolRoute|A"}}}
	]}`
	cases := []struct {
		key, want string
		err       bool
		opts      func(*Options)
	}{
		{key: "foo:1", want: "A[0] found"},
		{key: "foo:bar1", want: "B[0] found"},
		{key: "zzz", want: "C[0] found"},
		{key: "/r/c1/foo:bar", want: "B[0] found"},
		{key: "/r/c2/foo:bar", want: "D[0] found"},
		{key: "/r/c2/k|#|foo:", want: "D[0] found"},
		{key: "/x/c9/k", want: "B[0] found"}, // fallback cluster
		{key: "/q/c/k", err: true},
		{key: "/q/c/k", want: "C[0] found", opts: func(o *Options) { o.SendInvalidRouteToDefault = true }},
		{key: "/y/c/other", err: true}, // no policy, no wildcard
		{key: "/y/c/only:1", want: "A[0] found"},
		{key: "/r/*/zzz", want: "C[0] found,& D[0] found"},
		{key: "/*/c2/zzz", want: "D[0] found"},
		{key: "/*/*/foo:b", want: "A[0] found,& D[0] found,& B[0] found"},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			var opts []func(*Options)
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			e := newEnv(t, cfg, opts...)
			rep, hops, tr := e.traced(req(mc.OpGet, tc.key))
			if tc.err {
				if rep.Result != mc.ResLocalError || rep.Message != "RootRoute: No rh found" {
					t.Errorf("got %s %q, want local_error \"RootRoute: No rh found\"\n%s", rep.Result, rep.Message, tr)
				}
				return
			}
			if got := strings.Join(hops, ","); got != tc.want {
				t.Errorf("hops %s, want %s\n%s", got, tc.want, tr)
			}
		})
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"/*/*/", "/a/b/", true}, {"/a/*/", "/a/b/", true}, {"/a/*/", "/b/b/", false},
		{"/*/b/", "/a/b/", true}, {"/a*/*/", "/ab/c/", true}, {"/a*/*/", "/ba/c/", false},
		{"/*/", "/a/b/", false},
	} {
		if got := matchPattern(tc.p, tc.s); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// deterministicOrder is DeterministicOrderPolicy written independently:
// salts "2", "3", ... over n children, skipping 0, normal+1 and used ones.
func deterministicOrder(rk string, n, normal, tries int) []int {
	used := map[int]bool{0: true, normal + 1: true}
	var out []int
	salt := 1
	for len(out) < tries-1 {
		var idx int
		for attempt := 0; ; attempt++ {
			salt++
			idx = int(hash.Furc([]byte(rk+strconv.Itoa(salt)), uint32(n)))
			if !used[idx] || attempt >= 100 {
				break
			}
		}
		used[idx] = true
		out = append(out, idx)
	}
	return out
}

func TestSaltedFailoverDeterministicOrder(t *testing.T) {
	route := `{"type": "SaltedFailoverRoute", "pool": "P",
		"failover_policy": {"type": "DeterministicOrderPolicy", "max_tries": 4, "max_error_tries": 4}}`
	for _, key := range []string{"k1", "k2", "hello", "user:7"} {
		e := newEnv(t, withPools(route))
		for i := range 4 {
			e.f.SetDown("p"+strconv.Itoa(i)+":1", true)
		}
		_, hops, tr := e.traced(req(mc.OpGet, key))
		normal := int(hash.Furc([]byte(key), 4))
		want := []string{fmt.Sprintf("P[%d] connect_error", normal)}
		for _, idx := range deterministicOrder(key, 5, normal, 4) {
			want = append(want, fmt.Sprintf("P[%d] connect_error", idx-1))
		}
		if diff := cmp.Diff(want, hops); diff != "" {
			t.Errorf("key %s (-want +got):\n%s\n%s", key, diff, tr)
		}
		// The normal server is never retried.
		for _, h := range hops[1:] {
			if h == hops[0] {
				t.Errorf("key %s: normal server retried: %q", key, hops)
			}
		}
	}
}

func TestDeterministicMaxErrorTries(t *testing.T) {
	route := `{"type": "SaltedFailoverRoute", "pool": "P",
		"failover_policy": {"type": "DeterministicOrderPolicy", "max_tries": 5, "max_error_tries": 2}}`
	e := newEnv(t, withPools(route))
	for i := range 4 {
		e.f.Timeout["p"+strconv.Itoa(i)+":1"] = true // connect errors would not count
	}
	_, hops, _ := e.traced(req(mc.OpGet, "k"))
	if len(hops) != 2 {
		t.Errorf("max_error_tries 2: got %d tries: %q", len(hops), hops)
	}
	// tko does not count: all tko → max_tries positions are used.
	e = newEnv(t, withPools(route))
	for i := range 4 {
		e.f.SetTko("p"+strconv.Itoa(i)+":1", true)
	}
	_, hops, _ = e.traced(req(mc.OpGet, "k"))
	if len(hops) != 5 {
		t.Errorf("all tko: got %d tries, want max_tries 5: %q", len(hops), hops)
	}
}

func TestLeastFailuresPolicy(t *testing.T) {
	route := `{"type": "FailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B", "PoolRoute|C", "PoolRoute|D"],
		"failover_policy": {"type": "LeastFailuresPolicy", "max_tries": 3}}`
	e := newEnv(t, withPools(route))
	e.f.SetDown("a:1", true)
	e.f.SetDown("b:1", true)
	_, hops, _ := e.traced(req(mc.OpGet, "k"))
	if diff := cmp.Diff([]string{"A[0] connect_error", "B[0] connect_error", "C[0] found"}, hops); diff != "" {
		t.Error(diff)
	}
	// B has one recent error now: C and D go first.
	_, hops, _ = e.traced(req(mc.OpGet, "k"))
	if diff := cmp.Diff([]string{"A[0] connect_error", "C[0] found"}, hops); diff != "" {
		t.Error(diff)
	}
}

func TestRendezvousPolicy(t *testing.T) {
	route := `{"type": "FailoverRoute", "children": ["PoolRoute|P", "Pool|P"],
		"failover_policy": {"type": "RendezvousPolicy", "tags": ["t0", "t1", "t2", "t3"]}}`
	e := newEnv(t, withPools(route))
	if w := e.g.Warnings(); len(w) != 1 || w[0].Rule != RuleApproximated {
		t.Errorf("warnings: %v", w)
	}
	for i := range 4 {
		e.f.SetDown("p"+strconv.Itoa(i)+":1", true)
	}
	_, hops, _ := e.traced(req(mc.OpGet, "k"))
	if len(hops) != 4 {
		t.Fatalf("want the normal server then the 3 others, got %q", hops)
	}
	seen := map[string]bool{}
	for _, h := range hops {
		if seen[h] {
			t.Errorf("server tried twice: %q", hops)
		}
		seen[h] = true
	}
}

func TestFailoverLimit(t *testing.T) {
	route := `{"type": "FailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"], "failover_limit": {"rate": 0.001, "burst": 1}}`
	e := newEnv(t, withPools(route))
	e.f.Timeout["a:1"] = true // connect errors would spend no token
	rep, _, _ := e.traced(req(mc.OpGet, "k"))
	if rep.Result != mc.ResFound {
		t.Errorf("first failover (burst 1): %s", rep.Result)
	}
	rep, hops, _ := e.traced(req(mc.OpGet, "k"))
	if rep.Result != mc.ResTimeout || len(hops) != 1 {
		t.Errorf("second failover must be rate limited: %s %q", rep.Result, hops)
	}
	if s := e.g.Stats(); s.FailoverRateLimited != 1 || s.FailoverAll != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestExptimes covers FailoverWithExptimeRoute and ModifyExptimeRoute.
func TestExptimes(t *testing.T) {
	cases := []struct {
		name  string
		route string
		down  string
		r     *mc.Request
		want  string // "pool exptime" per call
	}{
		{"FailoverWithExptime caps failover writes", `{"type": "FailoverWithExptimeRoute", "normal": "PoolRoute|A", "failover": ["PoolRoute|B"]}`,
			"a:1", &mc.Request{Op: mc.OpSet, Key: []byte("k"), Exptime: 0}, "A 0,B 60"},
		{"FailoverWithExptime keeps shorter", `{"type": "FailoverWithExptimeRoute", "normal": "PoolRoute|A", "failover": ["PoolRoute|B"], "failover_exptime": 100}`,
			"a:1", &mc.Request{Op: mc.OpSet, Key: []byte("k"), Exptime: 30}, "A 30,B 30"},
		{"ModifyExptime set", `{"type": "ModifyExptimeRoute", "target": "PoolRoute|A", "exptime": 10}`,
			"", &mc.Request{Op: mc.OpSet, Key: []byte("k"), Exptime: 500}, "A 10"},
		{"ModifyExptime min", `{"type": "ModifyExptimeRoute", "target": "PoolRoute|A", "exptime": 10, "action": "min"}`,
			"", &mc.Request{Op: mc.OpTouch, Key: []byte("k"), Exptime: 5}, "A 5"},
		{"ModifyExptime not for deletes", `{"type": "ModifyExptimeRoute", "target": "PoolRoute|A", "exptime": 10}`,
			"", &mc.Request{Op: mc.OpDelete, Key: []byte("k"), Exptime: 0}, "A 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withPools(tc.route))
			if tc.down != "" {
				e.f.SetDown(tc.down, true)
			}
			e.plain(tc.r)
			var got []string
			for _, c := range e.f.Calls() {
				got = append(got, fmt.Sprintf("%s %d", c.Dest.Pool, c.Exptime))
			}
			if s := strings.Join(got, ","); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func TestWarmUpRoute(t *testing.T) {
	route := `{"type": "WarmUpRoute", "cold": "PoolRoute|A", "warm": "PoolRoute|B", "exptime": 300}`
	e := newEnv(t, withPools(route))
	e.f.Stateful = true
	e.f.Store("b:1", "k", "warm-value")
	rep, hops, _ := e.traced(req(mc.OpGet, "k"))
	if rep.Result != mc.ResFound || string(rep.Value) != "warm-value" {
		t.Errorf("reply %s %q", rep.Result, rep.Value)
	}
	want := []string{"A[0] notfound", "B[0] found", "& A[0] stored"}
	if diff := cmp.Diff(want, hops); diff != "" {
		t.Error(diff)
	}
	if v, ok := e.f.Load("a:1", "k"); !ok || v != "warm-value" {
		t.Errorf("cold not filled: %q %v", v, ok)
	}
	calls := e.f.Calls()
	if c := calls[len(calls)-1]; c.Op != mc.OpAdd || c.Exptime != 300 {
		t.Errorf("fill %+v, want add with exptime 300", c)
	}
	// Now cold hits.
	_, hops, _ = e.traced(req(mc.OpGet, "k"))
	if diff := cmp.Diff([]string{"A[0] found"}, hops); diff != "" {
		t.Error(diff)
	}
	// Sets go to cold only.
	_, hops, _ = e.traced(req(mc.OpSet, "k2"))
	if diff := cmp.Diff([]string{"A[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
	// gets: warm get, synchronous add, cold gets again.
	e.f.Store("b:1", "k3", "w3")
	rep, hops, _ = e.traced(req(mc.OpGets, "k3"))
	if diff := cmp.Diff([]string{"A[0] notfound", "B[0] found", "A[0] stored", "A[0] found"}, hops); diff != "" {
		t.Error(diff)
	}
	if rep.Result != mc.ResFound {
		t.Errorf("gets: %s", rep.Result)
	}
	// Parallel mode fills in the background too.
	e.f.Store("b:1", "k4", "w4")
	e.plain(req(mc.OpGet, "k4"))
	if v, ok := e.f.Load("a:1", "k4"); !ok || v != "w4" {
		t.Errorf("background fill: %q %v", v, ok)
	}
}

func TestL1L2CacheRoute(t *testing.T) {
	route := `{"type": "L1L2CacheRoute", "l1": "PoolRoute|A", "l2": "PoolRoute|B", "upgradingL1Exptime": 10,
		"ncacheExptime": 20, "ncacheUpdatePeriod": 2}`
	e := newEnv(t, withPools(route))
	e.f.Stateful = true
	e.f.Store("b:1", "k", "v2")
	_, hops, _ := e.traced(req(mc.OpGet, "k"))
	if diff := cmp.Diff([]string{"A[0] notfound", "B[0] found", "& A[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
	// L2 miss → negative-cache entry in L1; then L1's ncache entry is a miss.
	_, hops, _ = e.traced(req(mc.OpGet, "nokey"))
	if diff := cmp.Diff([]string{"A[0] notfound", "B[0] notfound", "& A[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
	rep, hops, _ := e.traced(req(mc.OpGet, "nokey"))
	if rep.Result != mc.ResNotFound || len(hops) != 1 {
		t.Errorf("ncache hit: %s %q", rep.Result, hops)
	}
	// The second ncache hit (period 2) refreshes L1 from L2.
	_, hops, _ = e.traced(req(mc.OpGet, "nokey"))
	if diff := cmp.Diff([]string{"A[0] found", "& B[0] notfound", "& A[0] stored"}, hops); diff != "" {
		t.Error(diff)
	}
}

func TestMigrateRoute(t *testing.T) {
	const start, interval = 2_000_000, 100
	route := fmt.Sprintf(`{"type": "MigrateRoute", "from": "PoolRoute|A", "to": "PoolRoute|B", "start_time": %d, "interval": %d}`, start, interval)
	e := newEnv(t, withPools(route))
	key := "user:1"
	switchAt := int64(start + interval + int64(hash.Spooky32([]byte(key), 0))%interval)
	at := func(now int64, op mc.Op) string {
		e.clock.set(now)
		_, hops, _ := e.traced(req(op, key))
		return strings.Join(hops, ",")
	}
	for _, tc := range []struct {
		now  int64
		op   mc.Op
		want string
	}{
		{start - 1, mc.OpGet, "A[0] found"},
		{start - 1, mc.OpDelete, "A[0] deleted"},
		{start, mc.OpGet, "A[0] found"},
		{start, mc.OpDelete, "A[0] deleted,B[0] deleted"},
		{switchAt - 1, mc.OpGet, "A[0] found"},
		{switchAt, mc.OpGet, "B[0] found"},
		{start + 2*interval - 1, mc.OpDelete, "A[0] deleted,B[0] deleted"},
		{start + 2*interval, mc.OpDelete, "B[0] deleted"},
		{start + 2*interval, mc.OpSet, "B[0] stored"},
	} {
		if got := at(tc.now, tc.op); got != tc.want {
			t.Errorf("t=%d %s: %s, want %s", tc.now, tc.op, got, tc.want)
		}
	}
	// Deletes during the migration answer the worse reply (parallel too).
	e.clock.set(start + 1)
	e.f.SetDown("b:1", true)
	rep, _ := e.plain(req(mc.OpDelete, key))
	if rep.Result != mc.ResNotFound { // B's connect_error goes through asynclog
		t.Errorf("delete: %s", rep.Result)
	}
	e.f.SetDown("b:1", false)
	e.f.SetMiss("b:1", true)
	rep, _ = e.plain(req(mc.OpDelete, key))
	if rep.Result != mc.ResNotFound {
		t.Errorf("delete, worst of deleted/notfound: %s", rep.Result)
	}
}

func TestModifyKeyRoute(t *testing.T) {
	cases := []struct {
		route, key, want string
	}{
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "set_routing_prefix": "/a/b/", "ensure_key_prefix": "foo:"}`, "key", "/a/b/foo:key"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "set_routing_prefix": "/a/b/", "ensure_key_prefix": "foo:"}`, "foo:bar", "/a/b/foo:bar"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "set_routing_prefix": "/a/b/", "ensure_key_prefix": "foo:"}`, "/a/a/o:", "/a/b/foo:o:"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "ensure_key_prefix": "foo:"}`, "/b/c/key", "/b/c/foo:key"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "set_routing_prefix": ""}`, "/b/c/key", "key"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "ensure_key_prefix": "ab", "modify_inplace": true}`, "xyz", "abz"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "ensure_key_prefix": "new:", "replace_key_prefix": "old:"}`, "old:k", "new:k"},
		{`{"type": "ModifyKeyRoute", "target": "PoolRoute|K", "set_key_suffix": ":s"}`, "k", "k:s"},
	}
	for _, tc := range cases {
		cfg := `{"pools": {"K": {"servers": ["k:1"], "keep_routing_prefix": true}}, "routes": {"/././": ` + tc.route + `, "/a/a/": ` + tc.route + `, "/b/c/": ` + tc.route + `}}`
		e := newEnv(t, cfg)
		e.plain(req(mc.OpSet, tc.key))
		calls := e.f.Calls()
		if len(calls) != 1 || calls[0].Key != tc.want {
			t.Errorf("%s with %s: got %+v, want key %q", tc.key, tc.route, calls, tc.want)
		}
	}
	e := newEnv(t, withPools(`{"type": "ModifyKeyRoute", "target": "PoolRoute|A", "ensure_key_prefix": "`+strings.Repeat("x", 250)+`"}`))
	rep, _ := e.plain(req(mc.OpSet, "k"))
	if rep.Result != mc.ResLocalError || !strings.HasPrefix(rep.Message, "ModifyKeyRoute: invalid key") {
		t.Errorf("too long key: %s %q", rep.Result, rep.Message)
	}
}

func TestLatencyInjection(t *testing.T) {
	e := newEnv(t, withPools(`{"type": "LatencyInjectionRoute", "child": "PoolRoute|A", "before_latency_ms": 2000}`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var rep mc.Reply
	start := time.Now()
	e.g.Route(ctx, req(mc.OpGet, "k"), &rep)
	if rep.Result != mc.ResDeadlineExceeded || time.Since(start) > time.Second {
		t.Errorf("canceled sleep: %s after %v", rep.Result, time.Since(start))
	}
	// A dry run does not sleep.
	tr := &Trace{DryRun: true}
	start = time.Now()
	e.g.Route(WithTrace(context.Background(), tr), req(mc.OpGet, "k"), &rep)
	if time.Since(start) > time.Second || len(tr.Hops()) != 1 {
		t.Errorf("dry run slept or lost the hop: %v\n%s", time.Since(start), tr)
	}
}

func TestRateLimitRoute(t *testing.T) {
	route := `{"type": "RateLimitRoute", "target": "PoolRoute|A", "fallback": "PoolRoute|B", "rates": {"gets_rate": 2, "gets_burst": 2}}`
	e := newEnv(t, withPools(route))
	got := func() string {
		_, hops, _ := e.traced(req(mc.OpGet, "k"))
		return strings.Join(hops, ",")
	}
	// As mcrouter, the bucket starts empty when the config is loaded.
	if h := got(); h != "B[0] found" {
		t.Errorf("at start: %s", h)
	}
	e.clock.advance(time.Second) // 2 tokens
	if h := got() + ";" + got() + ";" + got(); h != "A[0] found;A[0] found;B[0] found" {
		t.Errorf("after 1s: %s", h)
	}
	// Sets are not limited.
	if _, hops, _ := e.traced(req(mc.OpSet, "k")); strings.Join(hops, ",") != "A[0] stored" {
		t.Errorf("sets: %q", hops)
	}
	if s := e.g.Stats(); s.RateLimited != 2 {
		t.Errorf("stats %+v", s)
	}
	// PoolRoute rates without fallback: default reply.
	e = newEnv(t, withPools(`{"type": "PoolRoute", "pool": "A", "rates": {"sets_rate": 1}}`))
	rep, hops, _ := e.traced(req(mc.OpSet, "k"))
	if rep.Result != mc.ResNotStored || len(hops) != 0 {
		t.Errorf("over limit: %s %q", rep.Result, hops)
	}
}

func TestShadows(t *testing.T) {
	route := `{"type": "PoolRoute", "pool": "P", "shadows": [
		{"target": "PoolRoute|A", "index_range": [0, 4], "key_fraction_range": [0, 1]},
		{"target": "PoolRoute|B", "index_range": [0, 4], "keys_to_shadow": ["only-me"]},
		{"target": "PoolRoute|C", "index_range": [0, 0], "key_fraction_range": [0, 1]},
		{"target": "PoolRoute|D", "index_range": [3, 1], "key_fraction_range": [0, 1]}]}`
	e := newEnv(t, withPools(route), toDefault)
	if w := e.g.Warnings(); len(w) != 1 || !strings.Contains(w[0].Message, "index_range [3, 1]") {
		t.Errorf("warnings: %v", w)
	}
	_, hops, _ := e.traced(req(mc.OpSet, "k"))
	p := int(hash.Furc([]byte("k"), 4))
	if diff := cmp.Diff([]string{"& A[0] stored", fmt.Sprintf("P[%d] stored", p)}, hops); diff != "" {
		t.Error(diff)
	}
	_, hops, _ = e.traced(req(mc.OpSet, "/a/b/only-me"))
	if len(hops) != 3 {
		t.Errorf("keys_to_shadow: %q", hops)
	}
	_, calls := e.plain(req(mc.OpSet, "k"))
	if len(calls) != 2 {
		t.Errorf("parallel: %q", calls)
	}
	// key_fraction_range selects by SpookyHash32 of the routing key.
	e = newEnv(t, withPools(`{"type": "ShadowRoute", "children": "PoolRoute|A", "shadows": [
		{"target": "PoolRoute|B", "index_range": [0, 1], "key_fraction_range": [0, 0.5]}]}`))
	for i := range 20 {
		k := "key" + strconv.Itoa(i)
		_, hops, _ := e.traced(req(mc.OpSet, k))
		half := 0.5
		want := hash.Spooky32([]byte(k), 0) <= uint32(half*math.MaxUint32)
		if got := len(hops) == 2; got != want {
			t.Errorf("%s: shadowed %v, want %v", k, got, want)
		}
	}
}

func TestKeySplitRoute(t *testing.T) {
	route := `{"type": "KeySplitRoute", "destination": "PoolRoute|K", "replicas": 3, "all_sync": %t}`
	cfg := func(allSync bool) string {
		return `{"pools": {"K": {"servers": ["k:1"]}}, "route": ` + fmt.Sprintf(route, allSync) + `}`
	}
	keys := func(e *env, r *mc.Request) string {
		e.plain(r)
		var ks []string
		for _, c := range e.f.Calls() {
			ks = append(ks, c.Key)
		}
		return strings.Join(sortStrings(ks), ",")
	}
	e := newEnv(t, cfg(false), func(o *Options) { o.HostID = 4 }) // replica 4 % 3 = 1
	if got := keys(e, req(mc.OpGet, "k")); got != "k::1" {
		t.Errorf("get: %s", got)
	}
	if got := keys(e, req(mc.OpSet, "k")); got != "k::1" {
		t.Errorf("set without all_sync: %s", got)
	}
	if got := keys(e, req(mc.OpDelete, "k")); got != "k,k::1,k::2" {
		t.Errorf("delete: %s", got)
	}
	if got := keys(e, req(mc.OpGet, "k|#|x")); got != "k::1|#|x" {
		t.Errorf("hash stop: %s", got)
	}
	if got := keys(e, req(mc.OpGet, strings.Repeat("x", 251))); got != strings.Repeat("x", 251) {
		t.Errorf("long key must not be split: %s", got)
	}
	e = newEnv(t, cfg(true), func(o *Options) { o.HostID = 3 }) // replica 0
	if got := keys(e, req(mc.OpSet, "k")); got != "k,k::1,k::2" {
		t.Errorf("set with all_sync: %s", got)
	}
	if got := keys(e, req(mc.OpGet, "k")); got != "k" {
		t.Errorf("replica 0 keeps the key: %s", got)
	}
}

func TestLatestRoute(t *testing.T) {
	route := `{"type": "LatestRoute", "children": "Pool|P", "failover_count": 2}`
	e := newEnv(t, withPools(route), func(o *Options) { o.HostID = 12345 })
	_, hops, _ := e.traced(req(mc.OpGet, "k1"))
	first := onlyHop(t, hops)
	for _, k := range []string{"k2", "k3", "other"} {
		_, hops, _ := e.traced(req(mc.OpGet, k))
		if got := onlyHop(t, hops); got != first {
			t.Errorf("LatestRoute must not depend on the key: %s vs %s", got, first)
		}
	}
	for i := range 4 {
		e.f.SetDown("p"+strconv.Itoa(i)+":1", true)
	}
	_, hops, _ = e.traced(req(mc.OpGet, "k"))
	if len(hops) != 2 || hops[0] == hops[1] {
		t.Errorf("failover_count 2: %q", hops)
	}
	// Another host id (probably) another replica; always a stable one.
	e2 := newEnv(t, withPools(route), func(o *Options) { o.HostID = 12345 })
	_, hops2, _ := e2.traced(req(mc.OpGet, "k1"))
	if onlyHop(t, hops2) != first {
		t.Errorf("not deterministic for a host id")
	}
	// PoolRoute hash_func Latest is LatestRoute over the pool.
	e3 := newEnv(t, withPools(`{"type": "PoolRoute", "pool": "P", "hash": {"hash_func": "Latest", "failover_count": 2}}`),
		func(o *Options) { o.HostID = 12345 })
	_, hops3, _ := e3.traced(req(mc.OpGet, "k1"))
	if onlyHop(t, hops3) != first {
		t.Errorf("hash_func Latest: %s vs %s", hops3[0], first)
	}
}

func TestFolly(t *testing.T) {
	// hash_128_to_64 and twang_mix64 reference values (computed with
	// folly's formulas by hand-checked arithmetic).
	if got := hash128to64(0, 0); got != 0 {
		t.Errorf("hash128to64(0,0) = %d", got)
	}
	if twangMix64(0) == 0 || twangMix64(1) == twangMix64(2) {
		t.Error("twangMix64 is not mixing")
	}
}

func TestNamedHandles(t *testing.T) {
	cfg := `{"pools": {` + testPools + `},
		"named_handles": {"shared": {"type": "FailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"]}},
		"route": {"type": "OperationSelectorRoute", "default_policy": "shared", "operation_policies": {"get": "shared"}}}`
	e := newEnv(t, cfg)
	o := e.g.root.def.sel.wildcard.(*opSelector)
	if o.def != o.byOp[mc.OpGet] {
		t.Error("a named handle must be built once and shared")
	}
	cycle := `{"pools": {` + testPools + `}, "named_handles": {"x": {"type": "FailoverRoute", "children": ["PoolRoute|A", "x"]}}, "route": "x"}`
	_, err := Build(parseConfig(t, cycle), Options{Dest: NewFake().Dest})
	if err == nil || !strings.Contains(err.Error(), RuleHandleCycle) {
		t.Errorf("cycle: %v", err)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, withPools(`{"type": "AllSyncRoute", "children": ["PoolRoute|A", "DevNullRoute"]}`))
	e.f.SetDown("a:1", true)
	e.plain(req(mc.OpDelete, "k"))
	e.plain(req(mc.OpDelete, "k"))
	s := e.g.Stats()
	if s.AsynclogRequests != 2 || s.DevNullRequests != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestDryRun(t *testing.T) {
	e := newEnv(t, withPools(`{"type": "AllInitialRoute", "children": ["PoolRoute|P", "PoolRoute|A"]}`), toDefault)
	tr := &Trace{DryRun: true}
	var rep mc.Reply
	e.g.Route(WithTrace(context.Background(), tr), req(mc.OpSet, "/a/b/k"), &rep)
	if len(e.f.Calls()) != 0 {
		t.Errorf("dry run reached the servers: %v", e.f.Calls())
	}
	var addrs []string
	for _, h := range tr.Hops() {
		addrs = append(addrs, h.Addr+" "+h.Key)
		if !h.DryRun {
			t.Error("hop not marked dry run")
		}
	}
	p := hash.Furc([]byte("k"), 4)
	want := []string{fmt.Sprintf("p%d:1 k", p), "a:1 k"}
	if diff := cmp.Diff(want, addrs); diff != "" {
		t.Error(diff)
	}
	if rep.Result != mc.ResNotStored {
		t.Errorf("dry run reply %s", rep.Result)
	}
	// A trace still works under contexts derived from WithTrace's.
	tr2 := &Trace{DryRun: true}
	ctx, cancel := context.WithCancel(WithTrace(context.Background(), tr2))
	defer cancel()
	if TraceFrom(ctx) != tr2 {
		t.Error("TraceFrom")
	}
	e.g.Route(ctx, req(mc.OpGet, "k"), &rep)
	if len(tr2.Hops()) != 2 || len(e.f.Calls()) != 0 {
		t.Errorf("derived context: hops %v, calls %v", tr2.Hops(), e.f.Calls())
	}
}

func TestFlushAll(t *testing.T) {
	e := newEnv(t, withPools(`"PoolRoute|P"`))
	rep, _ := e.plain(req(mc.OpFlushAll, ""))
	if rep.Result != mc.ResLocalError {
		t.Errorf("flush_all must be disabled by default: %s", rep.Result)
	}
	e = newEnv(t, withPools(`"PoolRoute|P"`), func(o *Options) { o.EnableFlushCmd = true })
	rep, calls := e.plain(req(mc.OpFlushAll, ""))
	if rep.Result != mc.ResOK || len(calls) != 4 {
		t.Errorf("flush_all: %s %q", rep.Result, calls)
	}
}
