package route

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/schema"
)

// This file turns a subset of mcrouter's JSON config format into a
// schema.Config, so that tests and goldens can be written as mcrouter
// configs. It is a test helper, not the importer (compiler/mcrouterjson):
// no JSONC, no macros, and errors panic.

func parseConfig(t testing.TB, text string) *schema.Config {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	p := &cfgParser{cfg: &schema.Config{Pools: map[string]*schema.Pool{}, NamedHandles: map[string]schema.Route{}}}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("config: %v", r)
		}
	}()
	if pools, ok := root["pools"].(map[string]any); ok {
		for name, v := range pools {
			p.pool(name, v.(map[string]any), false)
		}
	}
	switch nh := root["named_handles"].(type) {
	case map[string]any:
		p.rawNamed = nh
	case []any:
		for _, v := range nh {
			p.route(v)
		}
	}
	for name := range p.rawNamed {
		p.namedHandle(name)
	}
	if r, ok := root["route"]; ok {
		p.cfg.Route = p.route(r)
	}
	switch rs := root["routes"].(type) {
	case []any:
		for _, e := range rs {
			m := e.(map[string]any)
			var aliases []string
			for _, a := range m["aliases"].([]any) {
				aliases = append(aliases, a.(string))
			}
			p.cfg.Routes = append(p.cfg.Routes, &schema.RouteEntry{Aliases: aliases, Route: p.route(m["route"])})
		}
	case map[string]any:
		keys := slices.Sorted(maps.Keys(rs))
		for _, k := range keys {
			p.cfg.Routes = append(p.cfg.Routes, &schema.RouteEntry{Aliases: []string{k}, Route: p.route(rs[k])})
		}
	}
	return p.cfg
}

type cfgParser struct {
	cfg      *schema.Config
	shorts   map[string]schema.Route // mcrouter memoises every parsed string
	rawNamed map[string]any
	building map[string]bool
}

func (p *cfgParser) pool(name string, m map[string]any, inline bool) string {
	pl := &schema.Pool{Name: name, Inline: inline, Extra: map[string]any{}}
	for k, v := range m {
		switch k {
		case "servers":
			for _, s := range v.([]any) {
				switch s := s.(type) {
				case string:
					pl.Servers = append(pl.Servers, schema.Server{Addr: s})
				default:
					pl.Servers = append(pl.Servers, schema.Server{Route: p.route(s)})
				}
			}
		case "weights":
			pl.Weights = floats(v)
		case "keep_routing_prefix":
			pl.KeepRoutingPrefix = v.(bool)
		case "error_on_empty":
			b := v.(bool)
			pl.ErrorOnEmpty = &b
		case "server_timeout":
			pl.ServerTimeoutMs = int(v.(float64))
		case "protocol":
			pl.Protocol = v.(string)
		case "port_override":
			pl.PortOverride = int(v.(float64))
		case "name":
		default:
			pl.Extra[k] = v
		}
	}
	p.cfg.Pools[name] = pl
	return name
}

func (p *cfgParser) poolRef(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		return p.pool(v["name"].(string), v, true)
	}
	panic(fmt.Sprintf("bad pool %v", v))
}

func floats(v any) []float64 {
	var out []float64
	for _, x := range v.([]any) {
		out = append(out, x.(float64))
	}
	return out
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (p *cfgParser) namedHandle(name string) schema.Route {
	if r, ok := p.cfg.NamedHandles[name]; ok {
		return r
	}
	if p.building == nil {
		p.building = map[string]bool{}
	}
	if p.building[name] {
		return &schema.Ref{Target: name}
	}
	p.building[name] = true
	v := p.rawNamed[name]
	if m, ok := v.(map[string]any); ok {
		if _, has := m["name"]; !has {
			m["name"] = name
		}
	}
	r := p.route(v)
	p.cfg.NamedHandles[name] = r
	return r
}

// list parses a children value.
func (p *cfgParser) list(v any) []schema.Route {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		var out []schema.Route
		for _, x := range v {
			out = append(out, p.route(x))
		}
		return out
	}
	return []schema.Route{p.route(v)}
}

func (p *cfgParser) route(v any) schema.Route {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return p.short(v)
	case map[string]any:
		return p.object(v)
	}
	panic(fmt.Sprintf("bad route %v", v))
}

func (p *cfgParser) short(s string) schema.Route {
	if s == "" {
		return nil
	}
	if r, ok := p.shorts[s]; ok {
		return r
	}
	if p.shorts == nil {
		p.shorts = map[string]schema.Route{}
	}
	r := p.shortUncached(s)
	p.shorts[s] = r
	return r
}

func (p *cfgParser) shortUncached(s string) schema.Route {
	if _, ok := p.cfg.NamedHandles[s]; ok {
		return &schema.Ref{Target: s}
	}
	if _, ok := p.rawNamed[s]; ok {
		p.namedHandle(s)
		return &schema.Ref{Target: s}
	}
	typ, rest, has := strings.Cut(s, "|")
	if !has {
		return p.object(map[string]any{"type": typ})
	}
	switch typ {
	case "PoolRoute":
		return &schema.PoolRoute{Pool: rest}
	case "Pool":
		return &schema.PoolList{Pool: rest}
	case "ErrorRoute":
		return &schema.ErrorRoute{Response: rest, Short: true}
	case "OperationSelectorRoute", "RoutingGroupRoute", "LoggingRoute":
		if typ == "LoggingRoute" {
			return &schema.LoggingRoute{Target: p.route(rest)}
		}
		return p.route(rest)
	}
	return p.object(map[string]any{"type": typ, "children": rest})
}

func (p *cfgParser) object(m map[string]any) schema.Route {
	typ, _ := m["type"].(string)
	base := schema.Base{Extra: map[string]any{}}
	if n, ok := m["name"].(string); ok {
		base.Name = n
	}
	used := map[string]bool{"type": true, "name": true}
	get := func(k string) any { used[k] = true; return m[k] }
	one := func(k string) schema.Route { return p.route(get(k)) }
	children := func(k string) []schema.Route { return p.list(get(k)) }
	num := func(k string) int64 {
		if v, ok := get(k).(float64); ok {
			return int64(v)
		}
		return 0
	}
	boolean := func(k string) bool { v, _ := get(k).(bool); return v }
	str := func(k string) string { v, _ := get(k).(string); return v }
	routes := func(k string) map[string]schema.Route {
		mm, ok := get(k).(map[string]any)
		if !ok {
			return nil
		}
		out := map[string]schema.Route{}
		for kk, vv := range mm {
			out[kk] = p.route(vv)
		}
		return out
	}
	fo := func() schema.FailoverOptions {
		var o schema.FailoverOptions
		switch e := get("failover_errors").(type) {
		case []any:
			l := strs(e)
			o.FailoverErrors = &schema.FailoverErrors{Gets: l, Updates: l, Deletes: l}
		case map[string]any:
			o.FailoverErrors = &schema.FailoverErrors{Object: true}
			if v, ok := e["gets"]; ok {
				o.FailoverErrors.Gets = strs(v)
			}
			if v, ok := e["updates"]; ok {
				o.FailoverErrors.Updates = strs(v)
			}
			if v, ok := e["deletes"]; ok {
				o.FailoverErrors.Deletes = strs(v)
			}
		}
		if l, ok := get("failover_limit").(map[string]any); ok {
			o.FailoverLimit = &schema.FailoverLimit{Rate: l["rate"].(float64)}
			if b, ok := l["burst"].(float64); ok {
				o.FailoverLimit.Burst = &b
			}
		}
		if pm, ok := get("failover_policy").(map[string]any); ok {
			pol := &schema.FailoverPolicy{}
			pol.Type, _ = pm["type"].(string)
			if v, ok := pm["max_tries"].(float64); ok {
				pol.MaxTries = int(v)
			}
			if v, ok := pm["max_error_tries"].(float64); ok {
				pol.MaxErrorTries = int(v)
			}
			if v, ok := pm["exclude_errors"]; ok {
				pol.ExcludeErrors = strs(v)
			}
			pol.EnableFailureDomains, _ = pm["enable_failure_domains"].(bool)
			pol.IgnoreNormalReplyIndex, _ = pm["ignore_normal_reply_index"].(bool)
			if h, ok := pm["hash"]; ok {
				pol.Hash = hashOf(h)
			}
			if v, ok := pm["tags"]; ok {
				pol.Tags = strs(v)
			}
			o.FailoverPolicy = pol
		}
		o.FailoverTag = boolean("failover_tag")
		o.EnableLeasePairing = boolean("enable_lease_pairing")
		return o
	}
	shadows := func() []schema.Shadow {
		l, _ := get("shadows").([]any)
		var out []schema.Shadow
		for _, x := range l {
			sm := x.(map[string]any)
			sh := schema.Shadow{Target: p.route(sm["target"])}
			if r, ok := sm["index_range"].([]any); ok {
				sh.IndexRange = [2]int{int(r[0].(float64)), int(r[1].(float64))}
			}
			if r, ok := sm["key_fraction_range"].([]any); ok {
				sh.KeyFractionRange = [2]float64{r[0].(float64), r[1].(float64)}
			}
			if r, ok := sm["keys_to_shadow"]; ok {
				sh.KeysToShadow = strs(r)
			}
			if r, ok := sm["requests_fraction"].(float64); ok {
				sh.RequestsFraction = &r
			}
			out = append(out, sh)
		}
		return out
	}
	rates := func(k string) *schema.Rates {
		rm, ok := get(k).(map[string]any)
		if !ok {
			return nil
		}
		f := func(k string) *float64 {
			if v, ok := rm[k].(float64); ok {
				return &v
			}
			return nil
		}
		return &schema.Rates{GetsRate: f("gets_rate"), GetsBurst: f("gets_burst"), SetsRate: f("sets_rate"),
			SetsBurst: f("sets_burst"), DeletesRate: f("deletes_rate"), DeletesBurst: f("deletes_burst")}
	}
	var r schema.Route
	switch typ {
	case "PoolRoute":
		n := &schema.PoolRoute{Base: base, Pool: p.poolRef(get("pool"))}
		if h, ok := m["hash"]; ok {
			get("hash")
			n.Hash = hashOf(h)
		}
		n.Shadows = shadows()
		n.ShadowPolicy = str("shadow_policy")
		n.Rates = rates("rates")
		if v, ok := get("asynclog").(bool); ok {
			n.Asynclog = &v
		}
		n.AsynclogName = str("asynclog_name")
		if sp, ok := get("shard_splits").(map[string]any); ok {
			n.ShardSplits = map[string]schema.ShardSplit{}
			for id, v := range sp {
				switch v := v.(type) {
				case float64:
					n.ShardSplits[id] = schema.ShardSplit{Splits: int(v)}
				case map[string]any:
					x := schema.ShardSplit{Object: true}
					if f, ok := v["old_split_size"].(float64); ok {
						x.OldSplitSize = int(f)
					}
					if f, ok := v["new_split_size"].(float64); ok {
						x.NewSplitSize = int(f)
					}
					if f, ok := v["split_start"].(float64); ok {
						x.SplitStart = int64(f)
					}
					if f, ok := v["migration_period"].(float64); ok {
						x.MigrationPeriod = int64(f)
					}
					x.FanoutDeletes, _ = v["fanout_deletes"].(bool)
					n.ShardSplits[id] = x
				}
			}
		}
		if v, ok := get("bucketize").(bool); ok {
			n.Bucketize = &v
		}
		n.TotalBuckets = num("total_buckets")
		n.BucketizationKeyspace = str("bucketization_keyspace")
		if bp, ok := get("total_buckets_by_prefix").(map[string]any); ok {
			n.TotalBucketsByPrefix = map[string]int64{}
			for k, v := range bp {
				n.TotalBucketsByPrefix[k] = int64(v.(float64))
			}
		}
		if sw, ok := get("slow_warmup").(map[string]any); ok {
			n.SlowWarmup = &schema.SlowWarmup{Target: p.route(sw["failoverTarget"])}
		}
		r = n
	case "Pool":
		r = &schema.PoolList{Base: base, Pool: p.poolRef(m)}
		for k := range m {
			used[k] = true
		}
	case "HashRoute":
		n := &schema.HashRoute{Base: base, Children: children("children")}
		n.Hash.Func, n.Hash.Salt = str("hash_func"), str("salt")
		if w, ok := get("weights").([]any); ok {
			n.Hash.Weights = floats(w)
		}
		if v, ok := get("error_on_empty").(bool); ok {
			n.ErrorOnEmpty = &v
		}
		r = n
	case "AllSyncRoute":
		r = &schema.AllSyncRoute{Base: base, Children: children("children")}
	case "AllAsyncRoute":
		r = &schema.AllAsyncRoute{Base: base, Children: children("children")}
	case "AllInitialRoute":
		r = &schema.AllInitialRoute{Base: base, Children: children("children")}
	case "AllFastestRoute":
		r = &schema.AllFastestRoute{Base: base, Children: children("children")}
	case "AllMajorityRoute":
		r = &schema.AllMajorityRoute{Base: base, Children: children("children")}
	case "FailoverRoute":
		r = &schema.FailoverRoute{Base: base, Children: children("children"), FailoverOptions: fo()}
	case "MissFailoverRoute":
		r = &schema.MissFailoverRoute{Base: base, Children: children("children"), ReturnBestOnError: boolean("return_best_on_error")}
	case "FailoverWithExptimeRoute":
		n := &schema.FailoverWithExptimeRoute{Base: base, Normal: one("normal"), Failover: children("failover"), FailoverOptions: fo()}
		if v, ok := get("failover_exptime").(float64); ok {
			e := int64(v)
			n.FailoverExptime = &e
		}
		r = n
	case "LatestRoute":
		n := &schema.LatestRoute{Base: base, Children: children("children"), Salt: str("salt"),
			ThreadLocalFailover: boolean("thread_local_failover"), FailoverOptions: fo()}
		if v, ok := get("failover_count").(float64); ok {
			c := int(v)
			n.FailoverCount = &c
		}
		if w, ok := get("weights").([]any); ok {
			n.Weights = floats(w)
		}
		r = n
	case "RandomRoute":
		r = &schema.RandomRoute{Base: base, Children: children("children")}
	case "HostIdRoute":
		r = &schema.HostIDRoute{Base: base, Children: children("children"), Salt: str("salt")}
	case "OperationSelectorRoute", "PrefixPolicyRoute":
		r = &schema.OperationSelectorRoute{Base: base, DefaultPolicy: one("default_policy"),
			OperationPolicies: routes("operation_policies"), Alias: typ == "PrefixPolicyRoute"}
	case "RoutingGroupRoute":
		r = &schema.RoutingGroupRoute{Base: base, DefaultPolicy: one("default_policy"), RoutingGroupPolicies: routes("routing_group_policies")}
	case "PrefixSelectorRoute":
		r = &schema.PrefixSelectorRoute{Base: base, Policies: routes("policies"), Wildcard: one("wildcard")}
	case "WarmUpRoute":
		r = &schema.WarmUpRoute{Base: base, Cold: one("cold"), Warm: one("warm"), Exptime: num("exptime"), EnableMetaget: boolean("enable_metaget")}
	case "L1L2CacheRoute":
		r = &schema.L1L2CacheRoute{Base: base, L1: one("l1"), L2: one("l2"), UpgradingL1Exptime: num("upgradingL1Exptime"),
			NcacheExptime: num("ncacheExptime"), NcacheUpdatePeriod: num("ncacheUpdatePeriod")}
	case "L1L2SizeSplitRoute":
		n := &schema.L1L2SizeSplitRoute{Base: base, L1: one("l1"), L2: one("l2"), Threshold: num("threshold"),
			TTLThreshold: num("ttl_threshold"), BothFullSet: boolean("both_full_set")}
		if v, ok := get("failure_ttl").(float64); ok {
			f := int64(v)
			n.FailureTTL = &f
		}
		if v, ok := get("retries").(float64); ok {
			c := int(v)
			n.Retries = &c
		}
		r = n
	case "MigrateRoute":
		r = &schema.MigrateRoute{Base: base, From: one("from"), To: one("to"), StartTime: num("start_time"), Interval: num("interval")}
	case "ModifyKeyRoute":
		n := &schema.ModifyKeyRoute{Base: base, Target: one("target"), EnsureKeyPrefix: str("ensure_key_prefix"),
			ReplaceKeyPrefix: str("replace_key_prefix"), SetKeySuffix: str("set_key_suffix"), ModifyInplace: boolean("modify_inplace")}
		if v, ok := get("set_routing_prefix").(string); ok {
			n.SetRoutingPrefix = &v
		}
		r = n
	case "ModifyExptimeRoute":
		r = &schema.ModifyExptimeRoute{Base: base, Target: one("target"), Exptime: num("exptime"), Action: str("action")}
	case "LatencyInjectionRoute":
		r = &schema.LatencyInjectionRoute{Base: base, Child: one("child"), BeforeLatency: num("before_latency_ms"),
			AfterLatency: num("after_latency_ms"), TotalLatency: num("total_latency_ms"), MaxRequestUsec: num("max_request_latency_us")}
	case "RateLimitRoute":
		n := &schema.RateLimitRoute{Base: base, Target: one("target"), Fallback: one("fallback")}
		if rr := rates("rates"); rr != nil {
			n.Rates = *rr
		}
		r = n
	case "ShadowRoute":
		r = &schema.ShadowRoute{Base: base, Children: children("children"), Shadows: shadows(), ShadowPolicy: str("shadow_policy")}
	case "KeySplitRoute":
		r = &schema.KeySplitRoute{Base: base, Destination: one("destination"), Replicas: int(num("replicas")),
			AllSync: boolean("all_sync"), FirstHit: boolean("first_hit")}
	case "LoggingRoute":
		r = &schema.LoggingRoute{Base: base, Target: one("target")}
	case "ErrorRoute":
		n := &schema.ErrorRoute{Base: base, Response: str("response"), Result: str("result")}
		if v, ok := get("enable_logging").(bool); ok {
			n.EnableLogging = &v
		}
		r = n
	case "NullRoute":
		r = &schema.NullRoute{Base: base}
	case "DevNullRoute":
		r = &schema.DevNullRoute{Base: base}
	case "SaltedFailoverRoute":
		n := &schema.SaltedFailoverRoute{Base: base, Pool: p.poolRef(get("pool")), FailoverOptions: fo()}
		if h, ok := m["hash"]; ok {
			get("hash")
			n.Hash = hashOf(h)
		}
		r = n
	default:
		g := &schema.Generic{Base: base, Type: typ, Options: map[string]any{}, Routes: map[string][]schema.Route{}}
		for k, v := range m {
			if !used[k] {
				g.Options[k] = v
			}
		}
		return p.named(g)
	}
	for k, v := range m {
		if !used[k] {
			r.Meta().Extra[k] = v
		}
	}
	return p.named(r)
}

func (p *cfgParser) named(r schema.Route) schema.Route {
	if n := r.Meta().Name; n != "" {
		if prev, ok := p.cfg.NamedHandles[n]; ok {
			return prev
		}
		p.cfg.NamedHandles[n] = r
	}
	return r
}

func hashOf(v any) *schema.Hash {
	switch v := v.(type) {
	case string:
		return &schema.Hash{Func: v}
	case map[string]any:
		h := &schema.Hash{Extra: map[string]any{}}
		for k, x := range v {
			switch k {
			case "hash_func":
				h.Func = x.(string)
			case "salt":
				h.Salt = x.(string)
			case "weights":
				h.Weights = floats(x)
			default:
				h.Extra[k] = x
			}
		}
		return h
	}
	return nil
}
