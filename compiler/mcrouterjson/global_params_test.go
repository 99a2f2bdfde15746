package mcrouterjson_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/runtime/route"
)

// paramsConfig copies every built-in param into the unknown top-level key
// "got", for inspection of the expanded config.
const paramsConfig = `{
  "route": "NullRoute",
  "got": {
    "default-route": "%default-route%",
    "default-region": "%default-region%",
    "default-cluster": "%default-cluster%",
    "hostid": "%hostid%",
    "hostid-str": "@str(%hostid%)",
    "router-name": "%router-name%",
    "service-name": "%service-name%",
    "service-router-capable": "%service-router-capable%",
    "router-info-name": "%router-info-name%",
    "num-proxies": "%num-proxies%",
    "num-proxies-is-17": "@equals(%num-proxies%,@int(17))",
    "is-memcache": "@equals(%router-info-name%,Memcache)"
  }
}`

// TestGlobalParams checks the params mcrouter gives every config
// (ProxyConfigBuilder::buildGlobalParams), including their JSON types (an
// integer param cannot be embedded in a longer string; @str converts it),
// as mcrouter's test_config_params.py uses them.
func TestGlobalParams(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts mcrouterjson.LoadOptions
		want map[string]any
	}{
		{"defaults", mcrouterjson.LoadOptions{HostID: 7}, map[string]any{
			"default-route": "/././", "default-region": ".", "default-cluster": ".",
			"hostid": int64(7), "hostid-str": "7",
			"router-name": "mcroute", "service-name": "unknown", "service-router-capable": int64(0),
			"router-info-name": "Memcache", "num-proxies": int64(1),
			"num-proxies-is-17": false, "is-memcache": true,
		}},
		{"-R /region/cluster/ --num-proxies 17", mcrouterjson.LoadOptions{RoutePrefix: "/reg/clu/", HostID: 123456, NumProxies: 17}, map[string]any{
			"default-route": "/reg/clu/", "default-region": "reg", "default-cluster": "clu",
			"hostid": int64(123456), "hostid-str": "123456",
			"router-name": "mcroute", "service-name": "unknown", "service-router-capable": int64(0),
			"router-info-name": "Memcache", "num-proxies": int64(17),
			"num-proxies-is-17": true, "is-memcache": true,
		}},
		{"--param overrides", mcrouterjson.LoadOptions{HostID: 1, Params: map[string]string{"service-name": "web", "num-proxies": "3"}}, map[string]any{
			"default-route": "/././", "default-region": ".", "default-cluster": ".",
			"hostid": int64(1), "hostid-str": "1",
			"router-name": "mcroute", "service-name": "web", "service-router-capable": int64(0),
			"router-info-name": "Memcache", "num-proxies": "3",
			"num-proxies-is-17": false, "is-memcache": true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := mcrouterjson.LoadBytes("params.json", []byte(paramsConfig), tc.opts)
			if l.Expanded == nil {
				t.Fatalf("not expanded: %v", l.Diagnostics)
			}
			got := l.Expanded.Get("got").ToAny()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGlobalParamsRouterInfoName is test_config_params.py's
// TestConfigParams: a config that picks its route by %router-info-name% is
// accepted and takes the Memcache branch.
func TestGlobalParamsRouterInfoName(t *testing.T) {
	const cfg = `{"route": {"type": "if", "condition": "@equals(%router-info-name%,Memcache)",
		"is_true": {"type": "ErrorRoute", "response": "Memcache", "enable_logging": false},
		"is_false": {"type": "ErrorRoute", "response": "NotMemcache", "enable_logging": false}}}`
	l := mcrouterjson.LoadBytes("info.json", []byte(cfg), mcrouterjson.LoadOptions{})
	if l.Diagnostics.HasErrors() || l.Config == nil {
		t.Fatalf("diagnostics: %v", l.Diagnostics)
	}
	if got := l.Expanded.Get("route").Get("response").ToAny(); got != "Memcache" {
		t.Errorf("route response %v, want Memcache", got)
	}
}

// TestDefaultHostIDMatchesRoute: %hostid% defaults to the host id the route
// graph uses, so that a config's use of it and HostIdRoute/LatestRoute
// agree.
func TestDefaultHostIDMatchesRoute(t *testing.T) {
	if a, b := mcrouterjson.DefaultHostID(), route.DefaultHostID(); a != b {
		t.Errorf("mcrouterjson.DefaultHostID() = %d, route.DefaultHostID() = %d", a, b)
	}
	l := mcrouterjson.LoadBytes("params.json", []byte(paramsConfig), mcrouterjson.LoadOptions{})
	if got, want := l.Expanded.Get("got").Get("hostid").ToAny(), int64(route.DefaultHostID()); got != want {
		t.Errorf("%%hostid%% = %v, want %v", got, want)
	}
}
