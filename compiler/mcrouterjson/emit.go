package mcrouterjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/mcroute/mcroute/schema"
)

// Marshal writes cfg as mcrouter JSON. The output is deterministic: the same
// Config gives the same bytes. Top-level keys come in the order pools,
// named_handles, route/routes, routing_options; route objects start with
// "type" and list other keys sorted; pools start with "servers". Routes use
// mcrouter's short forms where they mean the same ("PoolRoute|A",
// "AllFastestRoute|Pool|A", "NullRoute"), and named handles are referenced
// by name. The output ends with a newline.
func Marshal(cfg *schema.Config) ([]byte, error) {
	e := &emitter{cfg: cfg}
	root := &object{}
	if len(cfg.Pools) > 0 {
		pools := &object{}
		for _, name := range cfg.PoolNames() {
			pools.add(name, e.pool(cfg.Pools[name]))
		}
		root.add("pools", pools)
	}
	if len(cfg.NamedHandles) > 0 {
		nh := &object{}
		for _, name := range cfg.HandleNames() {
			nh.add(name, e.definition(cfg.NamedHandles[name]))
		}
		root.add("named_handles", nh)
	}
	switch {
	case cfg.Route != nil:
		root.add("route", e.route(cfg.Route))
	case len(cfg.Routes) > 0:
		single := true
		for _, r := range cfg.Routes {
			if len(r.Aliases) != 1 {
				single = false
			}
		}
		if single {
			routes := &object{}
			for _, r := range cfg.Routes {
				routes.add(r.Aliases[0], e.route(r.Route))
			}
			root.add("routes", routes)
		} else {
			var list array
			for _, r := range cfg.Routes {
				entry := &object{}
				var aliases array
				for _, a := range r.Aliases {
					aliases = append(aliases, a)
				}
				entry.add("aliases", aliases)
				entry.add("route", e.route(r.Route))
				list = append(list, entry)
			}
			root.add("routes", list)
		}
	default:
		return nil, fmt.Errorf("mcrouterjson: config has no route")
	}
	if len(cfg.RoutingOptions) > 0 {
		root.add("routing_options", anyValue(cfg.RoutingOptions))
	}
	if e.err != nil {
		return nil, e.err
	}
	var b bytes.Buffer
	write(&b, root, 0)
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// object is an ordered JSON object; array a JSON array; other values are
// Go scalars (string, bool, int64, float64, nil) or json.RawMessage.
type object struct {
	keys []string
	vals []any
}

func (o *object) add(k string, v any) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

type array []any

type emitter struct {
	cfg *schema.Config
	err error
}

func (e *emitter) pool(p *schema.Pool) any {
	o := &object{}
	var servers array
	for _, s := range p.Servers {
		if s.Route != nil {
			// In a server list a string is an address: routes are
			// always written as objects here.
			servers = append(servers, e.objectOf(s.Route, false))
		} else {
			servers = append(servers, s.Addr)
		}
	}
	if servers == nil {
		servers = array{}
	}
	o.add("servers", servers)
	rest := map[string]any{}
	if p.Protocol != "" {
		rest["protocol"] = p.Protocol
	}
	if p.ServerTimeoutMs != 0 {
		rest["server_timeout"] = int64(p.ServerTimeoutMs)
	}
	if p.ConnectTimeoutMs != 0 {
		rest["connect_timeout"] = int64(p.ConnectTimeoutMs)
	}
	if p.KeepRoutingPrefix {
		rest["keep_routing_prefix"] = true
	}
	if p.Weights != nil {
		rest["weights"] = floats(p.Weights)
	}
	if p.Tags != nil {
		rest["tags"] = strs(p.Tags)
	}
	if p.ErrorOnEmpty != nil {
		rest["error_on_empty"] = *p.ErrorOnEmpty
	}
	if p.Region != "" {
		rest["region"] = p.Region
	}
	if p.Cluster != "" {
		rest["cluster"] = p.Cluster
	}
	if p.FailureDomains != nil {
		fd := make(array, len(p.FailureDomains))
		for i, f := range p.FailureDomains {
			if f.IsName {
				fd[i] = f.Name
			} else {
				fd[i] = f.Num
			}
		}
		rest["failure_domains"] = fd
	}
	if p.PortOverride != 0 {
		rest["port_override"] = int64(p.PortOverride)
	}
	for k, v := range p.Extra {
		if _, ok := rest[k]; !ok {
			rest[k] = anyValue(v)
		}
	}
	addSorted(o, rest)
	return o
}

func addSorted(o *object, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.add(k, m[k])
	}
}

// definition emits a named handle's definition (its name is the key).
func (e *emitter) definition(r schema.Route) any {
	if s, ok := e.short(r, true); ok {
		return s
	}
	return e.objectOf(r, true)
}

// route emits a route at a use site: a reference, a short form or an
// object.
func (e *emitter) route(r schema.Route) any {
	if r == nil {
		return nil
	}
	if s, ok := e.short(r, false); ok {
		return s
	}
	return e.objectOf(r, false)
}

func (e *emitter) routes(rs []schema.Route) any {
	if len(rs) == 1 {
		if _, isPool := rs[0].(*schema.PoolList); isPool {
			return e.route(rs[0])
		}
	}
	out := array{}
	for _, r := range rs {
		out = append(out, e.route(r))
	}
	return out
}

func plain(b *schema.Base, def bool) bool {
	return len(b.Extra) == 0 && (def || b.Name == "")
}

// short returns the string form of r if one means the same.
func (e *emitter) short(r schema.Route, def bool) (string, bool) {
	switch n := r.(type) {
	case *schema.Ref:
		return n.Target, true
	}
	b := r.Meta()
	if !plain(b, def) {
		return "", false
	}
	if b.Name != "" && !def {
		return "", false
	}
	switch n := r.(type) {
	case *schema.PoolRoute:
		// A named PoolRoute keeps its name in object form: it also names
		// the pool's asynclog.
		if b.Name == "" && !n.HasOptions() {
			return "PoolRoute|" + n.Pool, true
		}
	case *schema.PoolList:
		return "Pool|" + n.Pool, true
	case *schema.NullRoute:
		return "NullRoute", true
	case *schema.DevNullRoute:
		return "DevNullRoute", true
	case *schema.ErrorRoute:
		if n.Result == "" && n.EnableLogging == nil {
			if n.Response == "" {
				return "ErrorRoute", true
			}
			return "ErrorRoute|" + n.Response, true
		}
	case *schema.AllSyncRoute:
		return e.shortChildren(n.Kind(), n.Children)
	case *schema.AllAsyncRoute:
		return e.shortChildren(n.Kind(), n.Children)
	case *schema.AllInitialRoute:
		return e.shortChildren(n.Kind(), n.Children)
	case *schema.AllFastestRoute:
		return e.shortChildren(n.Kind(), n.Children)
	case *schema.AllMajorityRoute:
		return e.shortChildren(n.Kind(), n.Children)
	case *schema.RandomRoute:
		return e.shortChildren(n.Kind(), n.Children)
	case *schema.FailoverRoute:
		if n.FailoverOptions == (schema.FailoverOptions{}) {
			return e.shortChildren(n.Kind(), n.Children)
		}
	case *schema.MissFailoverRoute:
		if !n.ReturnBestOnError {
			return e.shortChildren(n.Kind(), n.Children)
		}
	case *schema.HashRoute:
		if n.Hash.IsZero() && n.ErrorOnEmpty == nil {
			return e.shortChildren(n.Kind(), n.Children)
		}
	case *schema.LatestRoute:
		if n.FailoverCount == nil && n.Salt == "" && !n.ThreadLocalFailover && n.Weights == nil && n.FailoverOptions == (schema.FailoverOptions{}) {
			return e.shortChildren(n.Kind(), n.Children)
		}
	case *schema.HostIDRoute:
		if n.Salt == "" {
			return e.shortChildren(n.Kind(), n.Children)
		}
	}
	return "", false
}

// shortChildren gives "Kind|X" when the children are exactly what the
// string X expands to.
func (e *emitter) shortChildren(kind string, children []schema.Route) (string, bool) {
	if len(children) != 1 {
		return "", false
	}
	s, ok := e.short(children[0], false)
	if !ok || s == "" {
		return "", false
	}
	return kind + "|" + s, true
}

func (e *emitter) objectOf(r schema.Route, def bool) any {
	o := &object{}
	o.add("type", r.Kind())
	b := r.Meta()
	if b.Name != "" && !def {
		o.add("name", b.Name)
	}
	f := map[string]any{}
	set := func(k string, v any) { f[k] = v }
	setRoute := func(k string, r schema.Route) {
		if r != nil {
			f[k] = e.route(r)
		}
	}
	switch n := r.(type) {
	case *schema.PoolRoute:
		set("pool", n.Pool)
		if !n.Hash.IsZero() {
			set("hash", hashValue(n.Hash))
		}
		if n.Shadows != nil {
			set("shadows", e.shadows(n.Shadows))
		}
		if n.ShadowPolicy != "" {
			set("shadow_policy", n.ShadowPolicy)
		}
		if n.Rates != nil {
			set("rates", ratesValue(n.Rates))
		}
		if n.Asynclog != nil {
			set("asynclog", *n.Asynclog)
		}
		if n.AsynclogName != "" {
			set("asynclog_name", n.AsynclogName)
		}
		if n.ShardSplits != nil {
			set("shard_splits", shardSplitsValue(n.ShardSplits))
		}
		if n.Bucketize != nil {
			set("bucketize", *n.Bucketize)
		}
		if n.TotalBuckets != 0 {
			set("total_buckets", n.TotalBuckets)
		}
		if n.TotalBucketsByPrefix != nil {
			m := map[string]any{}
			for k, v := range n.TotalBucketsByPrefix {
				m[k] = v
			}
			o := &object{}
			addSorted(o, m)
			set("total_buckets_by_prefix", o)
		}
		if n.BucketizationKeyspace != "" {
			set("bucketization_keyspace", n.BucketizationKeyspace)
		}
		if sw := n.SlowWarmup; sw != nil {
			m := map[string]any{}
			if sw.Target != nil {
				m["failoverTarget"] = e.route(sw.Target)
			}
			if st := sw.Settings; st != nil {
				sm := map[string]any{"enable_threshold": st.EnableThreshold, "disable_threshold": st.DisableThreshold}
				if st.Start != 0 {
					sm["start"] = st.Start
				}
				if st.Step != 0 {
					sm["step"] = st.Step
				}
				if st.MinRequests != 0 {
					sm["min_requests"] = st.MinRequests
				}
				so := &object{}
				addSorted(so, sm)
				m["settings"] = so
			}
			o := &object{}
			addSorted(o, m)
			set("slow_warmup", o)
		}
	case *schema.L1L2SizeSplitRoute:
		setRoute("l1", n.L1)
		setRoute("l2", n.L2)
		set("threshold", n.Threshold)
		if n.TTLThreshold != 0 {
			set("ttl_threshold", n.TTLThreshold)
		}
		if n.FailureTTL != nil {
			set("failure_ttl", *n.FailureTTL)
		}
		if n.BothFullSet {
			set("both_full_set", true)
		}
		if n.Retries != nil {
			set("retries", int64(*n.Retries))
		}
	case *schema.PoolList:
		// Only reached with Extra or a name at a use site.
		set("pool", n.Pool)
	case *schema.HashRoute:
		set("children", e.routes(n.Children))
		if n.Hash.Func != "" {
			set("hash_func", n.Hash.Func)
		}
		if n.Hash.Salt != "" {
			set("salt", n.Hash.Salt)
		}
		if n.Hash.Weights != nil {
			set("weights", floats(n.Hash.Weights))
		}
		for k, v := range n.Hash.Extra {
			set(k, anyValue(v))
		}
		if n.ErrorOnEmpty != nil {
			set("error_on_empty", *n.ErrorOnEmpty)
		}
	case *schema.AllSyncRoute:
		set("children", e.routes(n.Children))
	case *schema.AllAsyncRoute:
		set("children", e.routes(n.Children))
	case *schema.AllInitialRoute:
		set("children", e.routes(n.Children))
	case *schema.AllFastestRoute:
		set("children", e.routes(n.Children))
	case *schema.AllMajorityRoute:
		set("children", e.routes(n.Children))
	case *schema.RandomRoute:
		set("children", e.routes(n.Children))
	case *schema.FailoverRoute:
		set("children", e.routes(n.Children))
		e.failoverOptions(f, &n.FailoverOptions)
	case *schema.MissFailoverRoute:
		set("children", e.routes(n.Children))
		if n.ReturnBestOnError {
			set("return_best_on_error", true)
		}
	case *schema.FailoverWithExptimeRoute:
		setRoute("normal", n.Normal)
		if n.Failover != nil {
			set("failover", e.routes(n.Failover))
		}
		if n.FailoverExptime != nil {
			set("failover_exptime", *n.FailoverExptime)
		}
		e.failoverOptions(f, &n.FailoverOptions)
	case *schema.LatestRoute:
		set("children", e.routes(n.Children))
		if n.FailoverCount != nil {
			set("failover_count", int64(*n.FailoverCount))
		}
		if n.Salt != "" {
			set("salt", n.Salt)
		}
		if n.ThreadLocalFailover {
			set("thread_local_failover", true)
		}
		if n.Weights != nil {
			set("weights", floats(n.Weights))
		}
		e.failoverOptions(f, &n.FailoverOptions)
	case *schema.HostIDRoute:
		set("children", e.routes(n.Children))
		if n.Salt != "" {
			set("salt", n.Salt)
		}
	case *schema.OperationSelectorRoute:
		if n.Alias {
			o.vals[0] = "PrefixPolicyRoute"
		}
		setRoute("default_policy", n.DefaultPolicy)
		if n.OperationPolicies != nil {
			set("operation_policies", e.routeMap(n.OperationPolicies))
		}
	case *schema.RoutingGroupRoute:
		setRoute("default_policy", n.DefaultPolicy)
		if n.RoutingGroupPolicies != nil {
			set("routing_group_policies", e.routeMap(n.RoutingGroupPolicies))
		}
	case *schema.PrefixSelectorRoute:
		set("policies", e.routeMap(n.Policies))
		setRoute("wildcard", n.Wildcard)
	case *schema.WarmUpRoute:
		setRoute("cold", n.Cold)
		setRoute("warm", n.Warm)
		if n.Exptime != 0 {
			set("exptime", n.Exptime)
		}
		if n.EnableMetaget {
			set("enable_metaget", true)
		}
	case *schema.L1L2CacheRoute:
		setRoute("l1", n.L1)
		setRoute("l2", n.L2)
		set("upgradingL1Exptime", n.UpgradingL1Exptime)
		if n.NcacheExptime != 0 {
			set("ncacheExptime", n.NcacheExptime)
		}
		if n.NcacheUpdatePeriod != 0 {
			set("ncacheUpdatePeriod", n.NcacheUpdatePeriod)
		}
	case *schema.MigrateRoute:
		setRoute("from", n.From)
		setRoute("to", n.To)
		set("start_time", n.StartTime)
		if n.Interval != 0 {
			set("interval", n.Interval)
		}
	case *schema.ModifyKeyRoute:
		setRoute("target", n.Target)
		if n.SetRoutingPrefix != nil {
			set("set_routing_prefix", *n.SetRoutingPrefix)
		}
		if n.EnsureKeyPrefix != "" {
			set("ensure_key_prefix", n.EnsureKeyPrefix)
		}
		if n.ReplaceKeyPrefix != "" {
			set("replace_key_prefix", n.ReplaceKeyPrefix)
		}
		if n.SetKeySuffix != "" {
			set("set_key_suffix", n.SetKeySuffix)
		}
		if n.ModifyInplace {
			set("modify_inplace", true)
		}
	case *schema.ModifyExptimeRoute:
		setRoute("target", n.Target)
		set("exptime", n.Exptime)
		if n.Action != "" {
			set("action", n.Action)
		}
	case *schema.LatencyInjectionRoute:
		setRoute("child", n.Child)
		if n.BeforeLatency != 0 {
			set("before_latency_ms", n.BeforeLatency)
		}
		if n.AfterLatency != 0 {
			set("after_latency_ms", n.AfterLatency)
		}
		if n.TotalLatency != 0 {
			set("total_latency_ms", n.TotalLatency)
		}
		if n.MaxRequestUsec != 0 {
			set("max_request_latency_us", n.MaxRequestUsec)
		}
	case *schema.RateLimitRoute:
		setRoute("target", n.Target)
		set("rates", ratesValue(&n.Rates))
		setRoute("fallback", n.Fallback)
	case *schema.ShadowRoute:
		set("children", e.routes(n.Children))
		if n.Shadows != nil {
			set("shadows", e.shadows(n.Shadows))
		}
		if n.ShadowPolicy != "" {
			set("shadow_policy", n.ShadowPolicy)
		}
	case *schema.KeySplitRoute:
		setRoute("destination", n.Destination)
		set("replicas", int64(n.Replicas))
		set("all_sync", n.AllSync)
		if n.FirstHit {
			set("first_hit", true)
		}
	case *schema.LoggingRoute:
		setRoute("target", n.Target)
	case *schema.ErrorRoute:
		if n.Response != "" {
			set("response", n.Response)
		}
		if n.Result != "" {
			set("result", n.Result)
		}
		if n.EnableLogging != nil {
			set("enable_logging", *n.EnableLogging)
		}
	case *schema.NullRoute, *schema.DevNullRoute:
	case *schema.SaltedFailoverRoute:
		set("pool", n.Pool)
		if !n.Hash.IsZero() {
			set("hash", hashValue(n.Hash))
		}
		e.failoverOptions(f, &n.FailoverOptions)
	case *schema.Generic:
		for k, rs := range n.Routes {
			if n.Single[k] && len(rs) == 1 {
				set(k, e.route(rs[0]))
			} else {
				set(k, e.routes(rs))
			}
		}
		for k, v := range n.Options {
			set(k, anyValue(v))
		}
	default:
		e.err = fmt.Errorf("mcrouterjson: cannot emit route kind %T", r)
	}
	for k, v := range b.Extra {
		if _, ok := f[k]; !ok {
			f[k] = anyValue(v)
		}
	}
	addSorted(o, f)
	return o
}

func (e *emitter) routeMap(m map[string]schema.Route) any {
	o := &object{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.add(k, e.route(m[k]))
	}
	return o
}

func (e *emitter) failoverOptions(f map[string]any, o *schema.FailoverOptions) {
	if fe := o.FailoverErrors; fe != nil {
		if !fe.Object && equalStrs(fe.Gets, fe.Updates) && equalStrs(fe.Gets, fe.Deletes) {
			f["failover_errors"] = strs(fe.Gets)
		} else {
			obj := &object{}
			if fe.Deletes != nil {
				obj.add("deletes", strs(fe.Deletes))
			}
			if fe.Gets != nil {
				obj.add("gets", strs(fe.Gets))
			}
			if fe.Updates != nil {
				obj.add("updates", strs(fe.Updates))
			}
			f["failover_errors"] = obj
		}
	}
	if fl := o.FailoverLimit; fl != nil {
		obj := &object{}
		if fl.Burst != nil {
			obj.add("burst", *fl.Burst)
		}
		obj.add("rate", fl.Rate)
		f["failover_limit"] = obj
	}
	if p := o.FailoverPolicy; p != nil {
		obj := &object{}
		obj.add("type", p.Type)
		m := map[string]any{}
		if p.MaxTries != 0 {
			m["max_tries"] = int64(p.MaxTries)
		}
		if p.MaxErrorTries != 0 {
			m["max_error_tries"] = int64(p.MaxErrorTries)
		}
		if p.ExcludeErrors != nil {
			m["exclude_errors"] = strs(p.ExcludeErrors)
		}
		if p.EnableFailureDomains {
			m["enable_failure_domains"] = true
		}
		if p.IgnoreNormalReplyIndex {
			m["ignore_normal_reply_index"] = true
		}
		if p.Hash != nil {
			m["hash"] = hashValue(p.Hash)
		}
		if p.Tags != nil {
			m["tags"] = strs(p.Tags)
		}
		for k, v := range p.Extra {
			if _, ok := m[k]; !ok {
				m[k] = anyValue(v)
			}
		}
		addSorted(obj, m)
		f["failover_policy"] = obj
	}
	if o.FailoverTag {
		f["failover_tag"] = true
	}
	if o.EnableLeasePairing {
		f["enable_lease_pairing"] = true
	}
}

func (e *emitter) shadows(ss []schema.Shadow) any {
	out := array{}
	for _, s := range ss {
		o := &object{}
		m := map[string]any{"target": e.route(s.Target)}
		if s.IndexRange != [2]int{} {
			m["index_range"] = array{int64(s.IndexRange[0]), int64(s.IndexRange[1])}
		}
		if s.KeyFractionRange != [2]float64{} {
			m["key_fraction_range"] = array{s.KeyFractionRange[0], s.KeyFractionRange[1]}
		}
		if s.KeysToShadow != nil {
			m["keys_to_shadow"] = strs(s.KeysToShadow)
		}
		if s.RequestsFraction != nil {
			m["requests_fraction"] = *s.RequestsFraction
		}
		for k, v := range s.Extra {
			if _, ok := m[k]; !ok {
				m[k] = anyValue(v)
			}
		}
		addSorted(o, m)
		out = append(out, o)
	}
	return out
}

func hashValue(h *schema.Hash) any {
	if h.Salt == "" && h.Weights == nil && len(h.Extra) == 0 {
		return h.Func
	}
	o := &object{}
	m := map[string]any{}
	if h.Func != "" {
		m["hash_func"] = h.Func
	}
	if h.Salt != "" {
		m["salt"] = h.Salt
	}
	if h.Weights != nil {
		m["weights"] = floats(h.Weights)
	}
	for k, v := range h.Extra {
		if _, ok := m[k]; !ok {
			m[k] = anyValue(v)
		}
	}
	addSorted(o, m)
	return o
}

func shardSplitsValue(m map[string]schema.ShardSplit) any {
	out := map[string]any{}
	for k, sp := range m {
		if !sp.Object {
			out[k] = int64(sp.Splits)
			continue
		}
		f := map[string]any{}
		if sp.OldSplitSize != 0 {
			f["old_split_size"] = int64(sp.OldSplitSize)
		}
		if sp.NewSplitSize != 0 {
			f["new_split_size"] = int64(sp.NewSplitSize)
		}
		if sp.SplitStart != 0 {
			f["split_start"] = sp.SplitStart
		}
		if sp.MigrationPeriod != 0 {
			f["migration_period"] = sp.MigrationPeriod
		}
		if sp.FanoutDeletes {
			f["fanout_deletes"] = true
		}
		o := &object{}
		addSorted(o, f)
		out[k] = o
	}
	o := &object{}
	addSorted(o, out)
	return o
}

func ratesValue(r *schema.Rates) any {
	o := &object{}
	add := func(k string, p *float64) {
		if p != nil {
			o.add(k, *p)
		}
	}
	add("deletes_burst", r.DeletesBurst)
	add("deletes_rate", r.DeletesRate)
	add("gets_burst", r.GetsBurst)
	add("gets_rate", r.GetsRate)
	add("sets_burst", r.SetsBurst)
	add("sets_rate", r.SetsRate)
	return o
}

func equalStrs(a, b []string) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func strs(s []string) array {
	out := make(array, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func floats(fs []float64) array {
	out := make(array, len(fs))
	for i, x := range fs {
		out[i] = x
	}
	return out
}

// anyValue converts decoded JSON (map[string]any, []any, ...) into ordered
// emitter values with sorted keys.
func anyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := &object{}
		m := map[string]any{}
		for k, vv := range x {
			m[k] = anyValue(vv)
		}
		addSorted(o, m)
		return o
	case []any:
		out := make(array, len(x))
		for i, vv := range x {
			out[i] = anyValue(vv)
		}
		return out
	case int:
		return int64(x)
	}
	return v
}

// write renders v with two-space indentation. Arrays of scalars that fit on
// one line are written on one line.
func write(b *bytes.Buffer, v any, depth int) {
	switch x := v.(type) {
	case *object:
		if len(x.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range x.keys {
			indent(b, depth+1)
			writeString(b, k)
			b.WriteString(": ")
			write(b, x.vals[i], depth+1)
			if i < len(x.keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte('}')
	case array:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		if line, ok := oneLine(x); ok && depth*2+len(line) <= 100 {
			b.WriteString(line)
			return
		}
		b.WriteString("[\n")
		for i, e := range x {
			indent(b, depth+1)
			write(b, e, depth+1)
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		indent(b, depth)
		b.WriteByte(']')
	default:
		writeScalar(b, v)
	}
}

func oneLine(a array) (string, bool) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range a {
		switch e.(type) {
		case *object, array:
			return "", false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		writeScalar(&b, e)
	}
	b.WriteByte(']')
	return b.String(), true
}

func indent(b *bytes.Buffer, depth int) {
	for i := 0; i < depth; i++ {
		b.WriteString("  ")
	}
}

func writeScalar(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(formatFloat(x))
	case json.Number:
		b.WriteString(string(x))
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
			return
		}
		b.Write(raw)
	}
}

func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func writeString(b *bytes.Buffer, s string) {
	raw, _ := json.Marshal(s)
	// encoding/json escapes <, > and & for HTML; mcrouter configs are not
	// HTML, and keeping them readable matters more.
	raw = bytes.ReplaceAll(raw, []byte(`\u003c`), []byte("<"))
	raw = bytes.ReplaceAll(raw, []byte(`\u003e`), []byte(">"))
	raw = bytes.ReplaceAll(raw, []byte(`\u0026`), []byte("&"))
	b.Write(raw)
}
