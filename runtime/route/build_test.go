package route

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

func TestBuildDiagnostics(t *testing.T) {
	cases := []struct {
		name   string
		config string
		errors []string // rules of the errors, sorted
		warns  []string // rules of the warnings
	}{
		{name: "unknown pool", config: withPools(`"PoolRoute|nope"`), errors: []string{RuleUnknownPool}},
		{name: "unknown handle", config: withPools(`{"type": "FailoverRoute", "children": ["PoolRoute|A", {"type": "X"}]}`),
			warns: []string{RuleUnsupported}},
		{name: "bad server", config: `{"pools": {"A": {"servers": ["nope"]}}, "route": "PoolRoute|A"}`, errors: []string{RuleBadServer}},
		{name: "no route", config: `{"pools": {}}`, errors: []string{RuleNoRoute}},
		{name: "routes without default", config: `{"pools": {` + testPools + `}, "routes": [{"aliases": ["/a/b/"], "route": "PoolRoute|A"}]}`,
			errors: []string{RuleBadRoutes}},
		{name: "bad alias", config: `{"pools": {` + testPools + `}, "routes": [{"aliases": ["/././", "nope"], "route": "PoolRoute|A"}]}`,
			errors: []string{RuleBadRoutes}},
		{name: "nested PrefixSelectorRoute", config: withPools(`{"type": "FailoverRoute", "children": ["PoolRoute|A",
			{"type": "PrefixSelectorRoute", "wildcard": "PoolRoute|B"}]}`), errors: []string{RulePrefixNested}},
		{name: "Pool where one route is expected", config: withPools(`{"type": "WarmUpRoute", "cold": "Pool|P", "warm": "PoolRoute|A"}`),
			errors: []string{RuleSingleRoute}},
		{name: "Pool of one server where one route is expected", config: withPools(`{"type": "WarmUpRoute", "cold": "Pool|A", "warm": "PoolRoute|A"}`)},
		{name: "ErrorRoute result not an error", config: withPools(`{"type": "ErrorRoute", "result": "mc_res_found"}`),
			errors: []string{RuleBadOption}},
		{name: "bad failover_errors", config: withPools(`{"type": "FailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"],
			"failover_errors": ["mc_res_timeout", "found"]}`), errors: []string{RuleBadOption, RuleBadOption}},
		{name: "DeterministicOrderPolicy needs max_tries", config: withPools(`{"type": "FailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"],
			"failover_policy": {"type": "DeterministicOrderPolicy"}}`), errors: []string{RuleBadOption}},
		{name: "unknown operation", config: withPools(`{"type": "OperationSelectorRoute", "operation_policies": {"fetch": "PoolRoute|A"}}`),
			errors: []string{RuleBadOption}},
		{name: "unknown hash function", config: withPools(`{"type": "PoolRoute", "pool": "P", "hash": "Md5"}`), errors: []string{RuleBadOption}},
		{name: "LoadBalancer hash", config: withPools(`{"type": "PoolRoute", "pool": "P", "hash": "LoadBalancer"}`), warns: []string{RuleUnsupported}},
		{name: "ignored options", config: withPools(`{"type": "PoolRoute", "pool": "P", "max_outstanding": 10, "axonlog": true}`),
			warns: []string{RuleIgnored, RuleIgnored}},
		{name: "KeySplitRoute replicas", config: withPools(`{"type": "KeySplitRoute", "destination": "PoolRoute|A", "replicas": 1}`),
			errors: []string{RuleBadOption}},
		{name: "missing field", config: withPools(`{"type": "WarmUpRoute", "cold": "PoolRoute|A"}`), errors: []string{RuleMissingField}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Build(parseConfig(t, tc.config), Options{Dest: NewFake().Dest})
			var got diag.List
			if err != nil {
				if !errors.As(err, &got) {
					t.Fatalf("error is not a diag.List: %v", err)
				}
				if g != nil {
					t.Error("graph returned with errors")
				}
			} else {
				got = g.Warnings()
			}
			var errs, warns []string
			for _, d := range got {
				if d.Severity == diag.Error {
					errs = append(errs, d.Rule)
				} else {
					warns = append(warns, d.Rule)
				}
			}
			if diff := cmp.Diff(tc.errors, errs, cmpEmpty); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%v", diff, got)
			}
			if diff := cmp.Diff(tc.warns, warns, cmpEmpty); diff != "" {
				t.Errorf("warnings (-want +got):\n%s\n%v", diff, got)
			}
		})
	}
}

func TestBuildPositions(t *testing.T) {
	pos := schema.Pos{File: "policy.cue", Line: 7, Col: 3}
	cfg := &schema.Config{Pools: map[string]*schema.Pool{}, Route: &schema.PoolRoute{Base: schema.Base{Pos: pos}, Pool: "missing"}}
	_, err := Build(cfg, Options{Dest: NewFake().Dest})
	if err == nil || !strings.HasPrefix(err.Error(), "policy.cue:7:3: error: unknown pool \"missing\" [unknown-pool]") {
		t.Errorf("got %v", err)
	}
}

func TestBuildDestCalls(t *testing.T) {
	var infos []DestInfo
	f := NewFake()
	dest := func(i DestInfo) (Destination, error) {
		infos = append(infos, i)
		return f.Dest(i)
	}
	cfg := `{"pools": {"A": {"servers": ["a:1", "[::1]:2:ascii:plain:compressed"], "server_timeout": 50},
		"U": {"servers": ["u:1"]}},
		"route": {"type": "AllSyncRoute", "children": ["PoolRoute|A", "Pool|A", {"type": "SaltedFailoverRoute", "pool": "A"}]}}`
	g, err := Build(parseConfig(t, cfg), Options{Dest: dest})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range infos {
		got = append(got, i.String()+" "+i.AccessPoint()+" "+strconv.Itoa(i.TimeoutMs)+" "+strconv.Itoa(i.ConnectTimeoutMs))
	}
	want := []string{"A[0] a:1:ascii:plain:notcompressed 50 50", "A[1] [::1]:2:ascii:plain:compressed 50 50"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dest calls: one per server of used pools only (-want +got):\n%s", diff)
	}
	if len(g.Destinations()) != 2 {
		t.Errorf("Destinations: %v", g.Destinations())
	}
	_, err = Build(parseConfig(t, cfg), Options{Dest: func(DestInfo) (Destination, error) { return nil, errors.New("boom") }})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Dest error: %v", err)
	}
	if _, err := Build(parseConfig(t, cfg), Options{}); err == nil {
		t.Error("Dest is required")
	}
}

func TestHandles(t *testing.T) {
	cfg := `{"pools": {"A": {"servers": ["127.0.0.1:5001", "127.0.0.1:5002"]}, "B": {"servers": ["127.0.0.1:6001"]}},
		"route": {"type": "OperationSelectorRoute", "default_policy": "PoolRoute|A",
			"operation_policies": {"get": {"type": "MissFailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"]},
				"set": "AllSyncRoute|Pool|A"}}}`
	e := newEnv(t, cfg)
	got := e.g.Handles(mc.OpDelete, "k")
	if !strings.HasPrefix(got, "root\n operation-selector\n  asynclog:A\n   selection|hash|Ch3\n    host|pool=A|id=") {
		t.Errorf("delete:\n%s", got)
	}
	got = e.g.Handles(mc.OpSet, "k")
	want := "root\n operation-selector\n  all-sync\n   host|pool=A|id=0|ap=127.0.0.1:5001:ascii:plain:notcompressed|timeout=1000ms|keep_routing_prefix=false\n" +
		"   host|pool=A|id=1|ap=127.0.0.1:5002:ascii:plain:notcompressed|timeout=1000ms|keep_routing_prefix=false\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("set (-want +got):\n%s", diff)
	}
	got = e.g.Handles(mc.OpGet, "k")
	if !strings.Contains(got, "  miss-failover\n   asynclog:A\n") || !strings.Contains(got, "   asynclog:B\n    host|pool=B|id=0") {
		t.Errorf("get:\n%s", got)
	}
	if len(e.f.Calls()) != 0 {
		t.Error("Handles must not send")
	}
}
