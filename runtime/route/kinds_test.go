package route

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/runtime/mc"
)

// TestKinds routes one request per case through a fake world, once traced
// (sequential: the hops must match in order) and once plain (parallel
// fan-outs: the reply and the set of servers reached must match).
func TestKinds(t *testing.T) {
	down := func(servers ...string) func(*env) {
		return func(e *env) {
			for _, s := range servers {
				e.f.SetDown(s, true)
			}
		}
	}
	miss := func(servers ...string) func(*env) {
		return func(e *env) {
			for _, s := range servers {
				e.f.SetMiss(s, true)
			}
		}
	}
	tko := func(servers ...string) func(*env) {
		return func(e *env) {
			for _, s := range servers {
				e.f.SetTko(s, true)
			}
		}
	}
	timeout := func(servers ...string) func(*env) {
		return func(e *env) {
			for _, s := range servers {
				e.f.Timeout[s] = true
			}
		}
	}
	both := func(fs ...func(*env)) func(*env) {
		return func(e *env) {
			for _, f := range fs {
				f(e)
			}
		}
	}
	const abc = `["PoolRoute|A", "PoolRoute|B", "PoolRoute|C"]`
	const listABC = `["Pool|A", "Pool|B", "Pool|C"]`
	cases := []struct {
		name    string
		route   string
		setup   func(*env)
		miss    bool // MissOnGetErrors and MissOnArithErrors (the pre-2025 default)
		op      mc.Op
		key     string
		want    mc.Result
		wantMsg string
		hops    []string
	}{
		{name: "PoolRoute one server", route: `"PoolRoute|A"`, op: mc.OpGet, key: "k", want: mc.ResFound, hops: []string{"A[0] found"}},
		{name: "PoolRoute empty pool", route: `"PoolRoute|E"`, op: mc.OpGet, key: "k", want: mc.ResLocalError,
			wantMsg: "HashRoute with empty children, name: E"},
		{name: "PoolRoute empty pool error_on_empty false", route: `{"type": "PoolRoute", "pool": {"name": "E2", "servers": [], "error_on_empty": false}}`,
			op: mc.OpGet, key: "k", want: mc.ResNotFound},
		{name: "asynclog failed delete is NOT_FOUND", route: `"PoolRoute|A"`, setup: down("a:1"), op: mc.OpDelete, key: "k",
			want: mc.ResNotFound, hops: []string{"A[0] connect_error"}},
		{name: "asynclog only for failover errors", route: `"PoolRoute|A"`, setup: miss("a:1"), op: mc.OpDelete, key: "k",
			want: mc.ResNotFound, hops: []string{"A[0] notfound"}},
		{name: "asynclog false", route: `{"type": "PoolRoute", "pool": "A", "asynclog": false}`, setup: down("a:1"),
			op: mc.OpDelete, key: "k", want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "asynclog not for sets", route: `"PoolRoute|A"`, setup: down("a:1"), op: mc.OpSet, key: "k",
			want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "root: get error returned", route: `"PoolRoute|A"`, setup: down("a:1"), op: mc.OpGet, key: "k",
			want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "root: gat error returned", route: `"PoolRoute|A"`, setup: timeout("a:1"), op: mc.OpGat, key: "k",
			want: mc.ResTimeout, hops: []string{"A[0] timeout"}},
		{name: "root: arithmetic error returned", route: `"PoolRoute|A"`, setup: down("a:1"), op: mc.OpIncr, key: "k",
			want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "root: get error becomes a miss (opt-in)", route: `"PoolRoute|A"`, setup: down("a:1"), miss: true, op: mc.OpGet, key: "k",
			want: mc.ResNotFound, wantMsg: "Original reply result: mc_res_connect_error", hops: []string{"A[0] connect_error"}},
		{name: "root: gets error becomes a miss (opt-in)", route: `"PoolRoute|A"`, setup: tko("a:1"), miss: true, op: mc.OpGets, key: "k",
			want: mc.ResNotFound, wantMsg: "Original reply result: mc_res_tko", hops: []string{"A[0] tko"}},
		{name: "root: arithmetic error becomes a miss (opt-in)", route: `"PoolRoute|A"`, setup: down("a:1"), miss: true, op: mc.OpDecr, key: "k",
			want: mc.ResNotFound, hops: []string{"A[0] connect_error"}},
		{name: "root: opt-in leaves other errors", route: `"PoolRoute|A"`, setup: down("a:1"), miss: true, op: mc.OpSet, key: "k",
			want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "root: opt-in keeps routing errors", route: `"PoolRoute|A"`, miss: true, op: mc.OpGet, key: "/no/such/k", want: mc.ResLocalError,
			wantMsg: "RootRoute: No rh found"},

		{name: "AllSyncRoute worst reply", route: `{"type": "AllSyncRoute", "children": ` + abc + `}`, setup: down("b:1"),
			op: mc.OpSet, key: "k", want: mc.ResConnectError, hops: []string{"A[0] stored", "B[0] connect_error", "C[0] stored"}},
		{name: "AllSyncRoute Pool short form", route: `"AllSyncRoute|Pool|P"`, op: mc.OpSet, key: "k", want: mc.ResStored,
			hops: []string{"P[0] stored", "P[1] stored", "P[2] stored", "P[3] stored"}},
		{name: "AllSyncRoute one child is the child", route: `"AllSyncRoute|Pool|A"`, op: mc.OpSet, key: "k", want: mc.ResStored,
			hops: []string{"A[0] stored"}},
		{name: "AllSyncRoute no children is NullRoute", route: `"AllSyncRoute|Pool|E"`, op: mc.OpSet, key: "k", want: mc.ResNotStored},
		{name: "AllAsyncRoute default reply", route: `{"type": "AllAsyncRoute", "children": ["PoolRoute|A", "PoolRoute|B"]}`,
			op: mc.OpSet, key: "k", want: mc.ResNotStored, hops: []string{"& A[0] stored", "& B[0] stored"}},
		{name: "AllAsyncRoute one child stays async", route: `"AllAsyncRoute|Pool|A"`,
			op: mc.OpGet, key: "k", want: mc.ResNotFound, hops: []string{"& A[0] found"}},
		{name: "AllInitialRoute first child's reply", route: `{"type": "AllInitialRoute", "children": ` + abc + `}`,
			setup: down("a:1"), op: mc.OpSet, key: "k", want: mc.ResConnectError,
			hops: []string{"A[0] connect_error", "& B[0] stored", "& C[0] stored"}},
		{name: "AllFastestRoute first non-error", route: `{"type": "AllFastestRoute", "children": ` + abc + `}`,
			setup: down("a:1"), op: mc.OpGet, key: "k", want: mc.ResFound,
			hops: []string{"A[0] connect_error", "B[0] found", "& C[0] found"}},
		{name: "AllFastestRoute miss is not an error", route: `{"type": "AllFastestRoute", "children": ` + abc + `}`,
			setup: both(down("a:1"), miss("b:1", "c:1")), op: mc.OpGet, key: "k", want: mc.ResNotFound,
			hops: []string{"A[0] connect_error", "B[0] notfound", "& C[0] notfound"}},
		{name: "AllFastestRoute all fail", route: `{"type": "AllFastestRoute", "children": ` + abc + `}`,
			setup: down("a:1", "b:1", "c:1"), op: mc.OpGet, key: "k", want: mc.ResConnectError,
			hops: []string{"A[0] connect_error", "B[0] connect_error", "C[0] connect_error"}},
		{name: "AllMajorityRoute majority", route: `{"type": "AllMajorityRoute", "children": ` + abc + `}`,
			setup: miss("a:1", "b:1"), op: mc.OpGet, key: "k", want: mc.ResNotFound,
			hops: []string{"A[0] notfound", "B[0] notfound", "& C[0] found"}},
		{name: "AllMajorityRoute tie prefers worse", route: `{"type": "AllMajorityRoute", "children": ["PoolRoute|A", "PoolRoute|B"]}`,
			setup: miss("b:1"), op: mc.OpGet, key: "k", want: mc.ResNotFound, hops: []string{"A[0] found", "B[0] notfound"}},

		{name: "FailoverRoute fails over", route: `{"type": "FailoverRoute", "children": ` + abc + `}`, setup: down("a:1"),
			op: mc.OpGet, key: "k", want: mc.ResFound, hops: []string{"A[0] connect_error", "B[0] found"}},
		{name: "FailoverRoute miss is final", route: `{"type": "FailoverRoute", "children": ` + abc + `}`, setup: miss("a:1"),
			op: mc.OpGet, key: "k", want: mc.ResNotFound, hops: []string{"A[0] notfound"}},
		{name: "FailoverRoute all fail: last reply", route: `{"type": "FailoverRoute", "children": ` + abc + `}`,
			setup: both(down("a:1", "b:1"), timeout("c:1")), op: mc.OpGet, key: "k", want: mc.ResTimeout,
			hops: []string{"A[0] connect_error", "B[0] connect_error", "C[0] timeout"}},
		{name: "FailoverRoute failover_errors", route: `{"type": "FailoverRoute", "children": ` + abc + `, "failover_errors": ["timeout"]}`,
			setup: down("a:1"), op: mc.OpGet, key: "k", want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "FailoverRoute failover_errors per class (deletes: default)",
			route: `{"type": "FailoverRoute", "children": ` + listABC + `, "failover_errors": {"gets": ["timeout"]}}`,
			setup: down("a:1"), op: mc.OpDelete, key: "k", want: mc.ResDeleted, hops: []string{"A[0] connect_error", "B[0] deleted"}},
		{name: "FailoverRoute: asynclog answers before failover", route: `{"type": "FailoverRoute", "children": ` + abc + `}`,
			setup: down("a:1"), op: mc.OpDelete, key: "k", want: mc.ResNotFound, hops: []string{"A[0] connect_error"}},
		{name: "FailoverRoute max_tries limits error tries", route: `{"type": "FailoverRoute", "children": ` + abc + `, "failover_policy": {"max_tries": 2}}`,
			setup: timeout("a:1", "b:1"), op: mc.OpGet, key: "k", want: mc.ResTimeout,
			hops: []string{"A[0] timeout", "B[0] timeout"}},
		{name: "FailoverRoute tko is not a try", route: `{"type": "FailoverRoute", "children": ` + abc + `, "failover_policy": {"max_tries": 2}}`,
			setup: both(tko("a:1"), down("b:1")), op: mc.OpGet, key: "k", want: mc.ResFound,
			hops: []string{"A[0] tko", "B[0] connect_error", "C[0] found"}},
		{name: "FailoverRoute exclude_errors", route: `{"type": "FailoverRoute", "children": ` + abc +
			`, "failover_policy": {"max_tries": 1, "exclude_errors": ["connect_error"]}}`,
			setup: both(down("a:1"), timeout("b:1")), op: mc.OpGet, key: "k", want: mc.ResTimeout,
			hops: []string{"A[0] connect_error", "B[0] timeout"}},
		{name: "FailoverRoute one child is the child", route: `"FailoverRoute|Pool|A"`, setup: down("a:1"),
			op: mc.OpGet, key: "k", want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},

		{name: "MissFailoverRoute miss → next", route: `{"type": "MissFailoverRoute", "children": ` + abc + `}`, setup: miss("a:1"),
			op: mc.OpGet, key: "k", want: mc.ResFound, hops: []string{"A[0] notfound", "B[0] found"}},
		{name: "MissFailoverRoute hit stops", route: `{"type": "MissFailoverRoute", "children": ` + abc + `}`,
			op: mc.OpGet, key: "k", want: mc.ResFound, hops: []string{"A[0] found"}},
		{name: "MissFailoverRoute delete", route: `{"type": "MissFailoverRoute", "children": ` + listABC + `}`, setup: miss("a:1", "b:1"),
			op: mc.OpDelete, key: "k", want: mc.ResDeleted, hops: []string{"A[0] notfound", "B[0] notfound", "C[0] deleted"}},
		{name: "MissFailoverRoute set: first child only", route: `{"type": "MissFailoverRoute", "children": ` + abc + `}`, setup: down("a:1"),
			op: mc.OpSet, key: "k", want: mc.ResConnectError, hops: []string{"A[0] connect_error"}},
		{name: "MissFailoverRoute last reply", route: `{"type": "MissFailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"]}`,
			setup: both(miss("a:1"), down("b:1")), op: mc.OpGet, key: "k", want: mc.ResConnectError,
			hops: []string{"A[0] notfound", "B[0] connect_error"}},
		{name: "MissFailoverRoute return_best_on_error",
			route: `{"type": "MissFailoverRoute", "return_best_on_error": true, "children": ["PoolRoute|A", "PoolRoute|B"]}`,
			setup: both(miss("a:1"), down("b:1")), op: mc.OpGet, key: "k", want: mc.ResNotFound,
			hops: []string{"A[0] notfound", "B[0] connect_error"}},

		{name: "RandomRoute", route: `{"type": "RandomRoute", "children": ` + abc + `}`, op: mc.OpGet, key: "k",
			want: mc.ResFound, hops: []string{"B[0] found"}},
		{name: "HostIdRoute", route: `{"type": "HostIdRoute", "children": ` + abc + `}`, op: mc.OpGet, key: "k",
			want: mc.ResFound, hops: []string{"B[0] found"}},
		{name: "OperationSelectorRoute op", route: `{"type": "OperationSelectorRoute", "default_policy": "PoolRoute|C",
			"operation_policies": {"get": "PoolRoute|A", "set": "PoolRoute|B"}}`, op: mc.OpSet, key: "k",
			want: mc.ResStored, hops: []string{"B[0] stored"}},
		{name: "OperationSelectorRoute default", route: `{"type": "OperationSelectorRoute", "default_policy": "PoolRoute|C",
			"operation_policies": {"get": "PoolRoute|A"}}`, op: mc.OpDelete, key: "k", want: mc.ResDeleted, hops: []string{"C[0] deleted"}},
		{name: "OperationSelectorRoute no match", route: `{"type": "PrefixPolicyRoute", "operation_policies": {"get": "PoolRoute|A"}}`,
			op: mc.OpDelete, key: "k", want: mc.ResUnknown},
		{name: "RoutingGroupRoute", route: `{"type": "RoutingGroupRoute", "default_policy": "PoolRoute|C",
			"routing_group_policies": {"get_like": "PoolRoute|A", "delete_like": "PoolRoute|B"}}`, op: mc.OpGets, key: "k",
			want: mc.ResFound, hops: []string{"A[0] found"}},
		{name: "RoutingGroupRoute default", route: `{"type": "RoutingGroupRoute", "default_policy": "PoolRoute|C",
			"routing_group_policies": {"get_like": "PoolRoute|A"}}`, op: mc.OpTouch, key: "k",
			want: mc.ResTouched, hops: []string{"C[0] touched"}},

		{name: "ErrorRoute short form", route: `"ErrorRoute|nope"`, op: mc.OpSet, key: "k", want: mc.ResLocalError, wantMsg: "nope"},
		{name: "ErrorRoute result", route: `{"type": "ErrorRoute", "result": "mc_res_remote_error", "response": "x"}`,
			op: mc.OpSet, key: "k", want: mc.ResRemoteError, wantMsg: "x"},
		{name: "NullRoute", route: `"NullRoute"`, op: mc.OpSet, key: "k", want: mc.ResNotStored},
		{name: "DevNullRoute", route: `"DevNullRoute"`, op: mc.OpDelete, key: "k", want: mc.ResNotFound},
		{name: "LoggingRoute", route: `"LoggingRoute|PoolRoute|A"`, op: mc.OpGet, key: "k", want: mc.ResFound, hops: []string{"A[0] found"}},
		{name: "pool server given as a route handle", route: `{"type": "AllSyncRoute", "children": {"type": "Pool", "name": "M",
			"servers": ["m:1", {"type": "ErrorRoute", "response": "bad server"}]}}`, op: mc.OpSet, key: "k",
			want: mc.ResLocalError, wantMsg: "bad server", hops: []string{"M[0] stored"}},
		{name: "HashRoute short form", route: `"HashRoute|Pool|A"`, op: mc.OpGet, key: "k", want: mc.ResFound, hops: []string{"A[0] found"}},
		{name: "unsupported kind", route: `{"type": "BigValueRoute", "target": "PoolRoute|A"}`, op: mc.OpGet, key: "k",
			want: mc.ResLocalError, wantMsg: "mcroute: BigValueRoute is not supported by mcroute serve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*Options)
			if tc.miss {
				opts = append(opts, missOnErrors)
			}
			e := newEnv(t, withPools(tc.route), opts...)
			if tc.setup != nil {
				tc.setup(e)
			}
			rep, hops, tr := e.traced(req(tc.op, tc.key))
			if rep.Result != tc.want {
				t.Errorf("traced reply %s, want %s\n%s", rep.Result, tc.want, tr)
			}
			if !strings.Contains(rep.Message, tc.wantMsg) {
				t.Errorf("message %q does not contain %q", rep.Message, tc.wantMsg)
			}
			if diff := cmp.Diff(tc.hops, hops); diff != "" {
				t.Errorf("hops (-want +got):\n%s\n%s", diff, tr)
			}
			rep, calls := e.plain(req(tc.op, tc.key))
			if rep.Result != tc.want {
				t.Errorf("plain reply %s, want %s", rep.Result, tc.want)
			}
			if diff := cmp.Diff(sortedHops(tc.hops), calls, cmpEmpty); diff != "" {
				t.Errorf("plain calls (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})
