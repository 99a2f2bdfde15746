package importer

import (
	"slices"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/schema"
)

// definition writes a named handle's definition (its name comes from its
// key under named_handles).
func (im *importer) definition(name string, r schema.Route) value {
	if ref, ok := r.(*schema.Ref); ok {
		im.unsupported(r.Position(), "named handle %q is another name for %q; the policy language gives each named handle its own definition: use %q", name, ref.Target, ref.Target)
		return lit("null")
	}
	return im.body(r, false)
}

// route writes a route where it is used: a reference to a named handle, a
// template, or a route object. top is set for the value of route or of a
// routes entry.
func (im *importer) route(r schema.Route, top bool) value {
	if r == nil {
		return lit("null")
	}
	if ref, ok := r.(*schema.Ref); ok {
		return im.ref(ref.Target, ref.Pos)
	}
	if name := r.Meta().Name; name != "" {
		// A definition reached from a use site: the same handle.
		return im.ref(name, r.Position())
	}
	return im.body(r, top)
}

func (im *importer) ref(name string, pos schema.Pos) value {
	if _, ok := im.cfg.NamedHandles[name]; !ok {
		im.unsupported(pos, "reference to unknown named handle %q", name)
	}
	return selector(handlesField, name)
}

func (im *importer) list(rs []schema.Route) list {
	out := list{}
	for _, r := range rs {
		out = append(out, im.route(r, false))
	}
	return out
}

func (im *importer) routeMap(m map[string]schema.Route) *obj {
	o := &obj{fold: true}
	for _, k := range sortedKeys(m) {
		o.add(k, im.route(m[k], false))
	}
	return o
}

func (im *importer) poolName(name string, pos schema.Pos) lit {
	if _, ok := im.cfg.Pools[name]; !ok {
		im.unsupported(pos, "unknown pool %q", name)
	}
	return str(name)
}

// body writes a route's own definition: a template if one generates it,
// else an object of its type and options.
func (im *importer) body(r schema.Route, top bool) value {
	if t := im.template(r, top); t != nil {
		return t
	}
	o := &obj{}
	o.add("type", str(r.Kind()))
	pos := r.Position()
	switch n := r.(type) {
	case *schema.PoolRoute:
		o.add("pool", im.poolName(n.Pool, pos))
		im.poolRouteOptions(o, n)
	case *schema.PoolList:
		o.add("pool", im.poolName(n.Pool, pos))
	case *schema.HashRoute:
		if n.Hash.Func != "" {
			o.add("hash_func", im.hashFunc(n.Hash.Func, pos))
		}
		if n.Hash.Salt != "" {
			o.add("salt", str(n.Hash.Salt))
		}
		if n.Hash.Weights != nil {
			o.add("weights", im.weights(n.Hash.Weights, pos))
		}
		if len(n.Hash.Extra) > 0 {
			im.unsupported(pos, "HashRoute hash options %v are not in the policy language", sortedKeys(n.Hash.Extra))
		}
		if n.ErrorOnEmpty != nil {
			o.add("error_on_empty", boolean(*n.ErrorOnEmpty))
		}
		o.add("children", im.list(n.Children))
	case *schema.AllSyncRoute:
		o.add("children", im.list(n.Children))
	case *schema.AllAsyncRoute:
		o.add("children", im.list(n.Children))
	case *schema.AllInitialRoute:
		o.add("children", im.list(n.Children))
	case *schema.AllFastestRoute:
		o.add("children", im.list(n.Children))
	case *schema.AllMajorityRoute:
		o.add("children", im.list(n.Children))
	case *schema.RandomRoute:
		o.add("children", im.list(n.Children))
	case *schema.FailoverRoute:
		im.failoverOptions(o, &n.FailoverOptions, pos)
		o.add("children", im.list(n.Children))
	case *schema.MissFailoverRoute:
		if n.ReturnBestOnError {
			o.add("return_best_on_error", boolean(true))
		}
		o.add("children", im.list(n.Children))
	case *schema.FailoverWithExptimeRoute:
		if n.FailoverExptime != nil {
			o.add("failover_exptime", integer(*n.FailoverExptime))
		}
		im.failoverOptions(o, &n.FailoverOptions, pos)
		o.add("normal", im.route(n.Normal, false))
		if n.Failover != nil {
			o.add("failover", im.list(n.Failover))
		}
	case *schema.LatestRoute:
		if n.FailoverCount != nil {
			if *n.FailoverCount < 1 {
				im.unsupported(pos, "LatestRoute failover_count %d: the policy language requires at least 1", *n.FailoverCount)
			}
			o.add("failover_count", integer(int64(*n.FailoverCount)))
		}
		if n.Salt != "" {
			o.add("salt", str(n.Salt))
		}
		if n.ThreadLocalFailover {
			o.add("thread_local_failover", boolean(true))
		}
		if n.Weights != nil {
			o.add("weights", im.weights(n.Weights, pos))
		}
		im.failoverOptions(o, &n.FailoverOptions, pos)
		o.add("children", im.list(n.Children))
	case *schema.HostIDRoute:
		if n.Salt != "" {
			o.add("salt", str(n.Salt))
		}
		o.add("children", im.list(n.Children))
	case *schema.OperationSelectorRoute:
		if n.OperationPolicies != nil {
			o.add("operation_policies", im.routeMap(n.OperationPolicies))
		}
		if n.DefaultPolicy != nil {
			o.add("default_policy", im.route(n.DefaultPolicy, false))
		}
	case *schema.RoutingGroupRoute:
		if n.RoutingGroupPolicies != nil {
			o.add("routing_group_policies", im.routeMap(n.RoutingGroupPolicies))
		}
		if n.DefaultPolicy != nil {
			o.add("default_policy", im.route(n.DefaultPolicy, false))
		}
	case *schema.PrefixSelectorRoute:
		if !top {
			im.unsupported(pos, "PrefixSelectorRoute is only valid as the whole value of route or of a routes entry")
		}
		if len(n.Policies) > 0 {
			o.add("policies", im.routeMap(n.Policies))
		}
		if n.Wildcard != nil {
			o.add("wildcard", im.route(n.Wildcard, false))
		}
	case *schema.WarmUpRoute:
		im.warmUpOptions(o, n)
		o.add("cold", im.route(n.Cold, false))
		o.add("warm", im.route(n.Warm, false))
	case *schema.L1L2CacheRoute:
		o.add("upgradingL1Exptime", integer(n.UpgradingL1Exptime))
		if n.NcacheExptime != 0 {
			o.add("ncacheExptime", integer(n.NcacheExptime))
		}
		if n.NcacheUpdatePeriod != 0 {
			o.add("ncacheUpdatePeriod", integer(n.NcacheUpdatePeriod))
		}
		o.add("l1", im.route(n.L1, false))
		o.add("l2", im.route(n.L2, false))
	case *schema.L1L2SizeSplitRoute:
		o.add("threshold", integer(n.Threshold))
		if n.TTLThreshold != 0 {
			o.add("ttl_threshold", integer(n.TTLThreshold))
		}
		if n.FailureTTL != nil {
			o.add("failure_ttl", integer(*n.FailureTTL))
		}
		if n.BothFullSet {
			o.add("both_full_set", boolean(true))
		}
		if n.Retries != nil {
			o.add("retries", integer(int64(*n.Retries)))
		}
		o.add("l1", im.route(n.L1, false))
		o.add("l2", im.route(n.L2, false))
	case *schema.MigrateRoute:
		o.add("start_time", integer(n.StartTime))
		if n.Interval != 0 {
			o.add("interval", integer(n.Interval))
		}
		o.add("from", im.route(n.From, false))
		o.add("to", im.route(n.To, false))
	case *schema.ModifyKeyRoute:
		if n.SetRoutingPrefix != nil {
			o.add("set_routing_prefix", str(*n.SetRoutingPrefix))
		}
		if n.EnsureKeyPrefix != "" {
			o.add("ensure_key_prefix", str(n.EnsureKeyPrefix))
		}
		if n.ReplaceKeyPrefix != "" {
			o.add("replace_key_prefix", str(n.ReplaceKeyPrefix))
		}
		if n.SetKeySuffix != "" {
			o.add("set_key_suffix", str(n.SetKeySuffix))
		}
		if n.ModifyInplace {
			o.add("modify_inplace", boolean(true))
		}
		o.add("target", im.route(n.Target, false))
	case *schema.ModifyExptimeRoute:
		o.add("exptime", integer(n.Exptime))
		if n.Action != "" {
			o.add("action", str(n.Action))
		}
		o.add("target", im.route(n.Target, false))
	case *schema.LatencyInjectionRoute:
		for _, f := range []struct {
			name string
			v    int64
		}{{"before_latency_ms", n.BeforeLatency}, {"after_latency_ms", n.AfterLatency}, {"total_latency_ms", n.TotalLatency}, {"max_request_latency_us", n.MaxRequestUsec}} {
			if f.v != 0 {
				o.add(f.name, integer(f.v))
			}
		}
		o.add("child", im.route(n.Child, false))
	case *schema.RateLimitRoute:
		o.add("rates", rates(&n.Rates))
		o.add("target", im.route(n.Target, false))
		if n.Fallback != nil {
			o.add("fallback", im.route(n.Fallback, false))
		}
	case *schema.ShadowRoute:
		if n.ShadowPolicy != "" {
			o.add("shadow_policy", str(n.ShadowPolicy))
		}
		o.add("children", im.list(n.Children))
		if n.Shadows != nil {
			o.add("shadows", im.shadows(n.Shadows))
		}
	case *schema.KeySplitRoute:
		o.add("replicas", integer(int64(n.Replicas)))
		o.add("all_sync", boolean(n.AllSync))
		if n.FirstHit {
			o.add("first_hit", boolean(true))
		}
		o.add("destination", im.route(n.Destination, false))
	case *schema.LoggingRoute:
		if n.Target != nil {
			o.add("target", im.route(n.Target, false))
		}
	case *schema.ErrorRoute:
		if n.Response != "" {
			o.add("response", str(n.Response))
		}
		if n.Result != "" {
			o.add("result", str(n.Result))
		}
		if n.EnableLogging != nil {
			o.add("enable_logging", boolean(*n.EnableLogging))
		}
	case *schema.NullRoute, *schema.DevNullRoute:
	case *schema.SaltedFailoverRoute:
		o.add("pool", im.poolName(n.Pool, pos))
		if n.Hash != nil {
			o.add("hash", im.hash(n.Hash, pos))
		}
		im.failoverOptions(o, &n.FailoverOptions, pos)
	default:
		im.unsupported(pos, "route type %s is not in the policy language", r.Kind())
		return o
	}
	im.extra(o, r)
	return o
}

// extra writes the options a route keeps without interpreting them, where
// the language has them; options mcrouter ignores are left out.
func (im *importer) extra(o *obj, r schema.Route) {
	b := r.Meta()
	if len(b.Extra) == 0 {
		return
	}
	info, _ := schema.LookupKind(r.Kind())
	for _, k := range sortedKeys(b.Extra) {
		switch {
		case !slices.Contains(info.Fields, k):
			im.dropped(b.Pos, "%s field %q is ignored by mcrouter and left out", r.Kind(), k)
		case im.kinds[r.Kind()][k]:
			o.add(k, anyValue(b.Extra[k]))
		default:
			im.unsupported(b.Pos, "%s option %q is not in the policy language", r.Kind(), k)
		}
	}
}

func (im *importer) poolRouteOptions(o *obj, n *schema.PoolRoute) {
	if n.Hash != nil {
		o.add("hash", im.hash(n.Hash, n.Pos))
	}
	if n.ShadowPolicy != "" {
		o.add("shadow_policy", str(n.ShadowPolicy))
	}
	if n.Shadows != nil {
		o.add("shadows", im.shadows(n.Shadows))
	}
	if n.Rates != nil {
		o.add("rates", rates(n.Rates))
	}
	if n.Asynclog != nil {
		o.add("asynclog", boolean(*n.Asynclog))
	}
	if n.AsynclogName != "" {
		o.add("asynclog_name", str(n.AsynclogName))
	}
	if n.ShardSplits != nil {
		splits := &obj{fold: true}
		for _, k := range sortedKeys(n.ShardSplits) {
			sp := n.ShardSplits[k]
			if !sp.Object {
				splits.add(k, integer(int64(sp.Splits)))
				continue
			}
			m := &obj{}
			if sp.OldSplitSize != 0 {
				m.add("old_split_size", integer(int64(sp.OldSplitSize)))
			}
			if sp.NewSplitSize != 0 {
				m.add("new_split_size", integer(int64(sp.NewSplitSize)))
			}
			if sp.SplitStart != 0 {
				m.add("split_start", integer(sp.SplitStart))
			}
			if sp.MigrationPeriod != 0 {
				m.add("migration_period", integer(sp.MigrationPeriod))
			}
			if sp.FanoutDeletes {
				m.add("fanout_deletes", boolean(true))
			}
			splits.add(k, m)
		}
		o.add("shard_splits", splits)
	}
	if n.Bucketize != nil {
		o.add("bucketize", boolean(*n.Bucketize))
	}
	if n.TotalBuckets != 0 {
		o.add("total_buckets", integer(n.TotalBuckets))
	}
	if n.TotalBucketsByPrefix != nil {
		m := &obj{fold: true}
		for _, k := range sortedKeys(n.TotalBucketsByPrefix) {
			m.add(k, integer(n.TotalBucketsByPrefix[k]))
		}
		o.add("total_buckets_by_prefix", m)
	}
	if n.BucketizationKeyspace != "" {
		o.add("bucketization_keyspace", str(n.BucketizationKeyspace))
	}
	if sw := n.SlowWarmup; sw != nil {
		m := &obj{}
		m.add("failoverTarget", im.route(sw.Target, false))
		if st := sw.Settings; st != nil {
			so := &obj{}
			so.add("enable_threshold", number(st.EnableThreshold))
			so.add("disable_threshold", number(st.DisableThreshold))
			if st.Start != 0 {
				so.add("start", number(st.Start))
			}
			if st.Step != 0 {
				so.add("step", number(st.Step))
			}
			if st.MinRequests != 0 {
				so.add("min_requests", integer(st.MinRequests))
			}
			m.add("settings", so)
		}
		o.add("slow_warmup", m)
	}
}

func (im *importer) warmUpOptions(o *obj, n *schema.WarmUpRoute) {
	if n.Exptime < 0 {
		im.unsupported(n.Pos, "WarmUpRoute exptime %d: the policy language requires 0 or more", n.Exptime)
	}
	if n.Exptime != 0 {
		o.add("exptime", integer(n.Exptime))
	}
	if n.EnableMetaget {
		o.add("enable_metaget", boolean(true))
	}
}

func (im *importer) hashFunc(f string, pos schema.Pos) lit {
	if !slices.Contains(mcrouterjson.HashFuncs(), f) {
		im.unsupported(pos, "hash function %q is not in the policy language (%v)", f, mcrouterjson.HashFuncs())
	}
	return str(f)
}

func (im *importer) hash(h *schema.Hash, pos schema.Pos) *obj {
	o := &obj{}
	if h.Func != "" {
		o.add("hash_func", im.hashFunc(h.Func, pos))
	}
	if h.Salt != "" {
		o.add("salt", str(h.Salt))
	}
	if h.Weights != nil {
		o.add("weights", im.weights(h.Weights, pos))
	}
	var missing []string
	for _, k := range sortedKeys(h.Extra) {
		if im.hashFields[k] {
			o.add(k, anyValue(h.Extra[k]))
		} else {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		im.unsupported(pos, "hash options %v are not in the policy language", missing)
	}
	return o
}

func (im *importer) weights(ws []float64, pos schema.Pos) list {
	for _, w := range ws {
		if !(w >= 0) {
			im.unsupported(pos, "weight %g: the policy language requires weights of 0 or more", w)
		}
	}
	return numbers(ws)
}

func rates(r *schema.Rates) *obj {
	o := &obj{}
	for _, f := range []struct {
		name string
		v    *float64
	}{
		{"gets_rate", r.GetsRate}, {"gets_burst", r.GetsBurst},
		{"sets_rate", r.SetsRate}, {"sets_burst", r.SetsBurst},
		{"deletes_rate", r.DeletesRate}, {"deletes_burst", r.DeletesBurst},
	} {
		if f.v != nil {
			o.add(f.name, number(*f.v))
		}
	}
	return o
}

func (im *importer) shadows(ss []schema.Shadow) list {
	out := list{}
	for _, s := range ss {
		o := &obj{}
		if s.IndexRange != [2]int{} {
			if s.IndexRange[0] < 0 || s.IndexRange[1] < 0 {
				im.unsupported(s.Pos, "shadow index_range %v: the policy language requires indexes of 0 or more", s.IndexRange)
			}
			o.add("index_range", list{integer(int64(s.IndexRange[0])), integer(int64(s.IndexRange[1]))})
		}
		if s.KeyFractionRange != [2]float64{} {
			o.add("key_fraction_range", numbers(s.KeyFractionRange[:]))
		}
		if s.KeysToShadow != nil {
			o.add("keys_to_shadow", strs(s.KeysToShadow))
		}
		if s.RequestsFraction != nil {
			if f := *s.RequestsFraction; !(f >= 0 && f <= 1) {
				im.unsupported(s.Pos, "shadow requests_fraction %g: the policy language requires a fraction in [0, 1]", f)
			}
			o.add("requests_fraction", number(*s.RequestsFraction))
		}
		var missing []string
		for _, k := range sortedKeys(s.Extra) {
			switch {
			case !slices.Contains(mcrouterjson.ShadowFields(), k):
				im.dropped(s.Pos, "shadow field %q is ignored by mcrouter and left out", k)
			case im.shadowFields[k]:
				o.add(k, anyValue(s.Extra[k]))
			default:
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			im.unsupported(s.Pos, "shadow options %v are not in the policy language", missing)
		}
		o.add("target", im.route(s.Target, false))
		out = append(out, o)
	}
	return out
}

var failoverPolicyTypes = []string{"DeterministicOrderPolicy", "LeastFailuresPolicy", "RendezvousPolicy"}

// failoverOptions adds the options of the failover family to o.
func (im *importer) failoverOptions(o *obj, fo *schema.FailoverOptions, pos schema.Pos) {
	if fe := fo.FailoverErrors; fe != nil {
		if fe.Object {
			e := &obj{}
			for _, c := range []struct {
				name string
				l    []string
			}{{"gets", fe.Gets}, {"updates", fe.Updates}, {"deletes", fe.Deletes}} {
				if c.l != nil {
					e.add(c.name, strs(c.l))
				}
			}
			o.add("failover_errors", e)
		} else {
			o.add("failover_errors", strs(fe.Gets))
		}
	}
	if fl := fo.FailoverLimit; fl != nil {
		if !(fl.Rate >= 0 && fl.Rate <= 1) {
			im.unsupported(pos, "failover_limit rate %g: the policy language requires a rate in [0, 1]", fl.Rate)
		}
		l := &obj{}
		l.add("rate", number(fl.Rate))
		if fl.Burst != nil {
			if *fl.Burst < 0 {
				im.unsupported(pos, "failover_limit burst %g: the policy language requires 0 or more", *fl.Burst)
			}
			l.add("burst", number(*fl.Burst))
		}
		o.add("failover_limit", l)
	}
	if p := fo.FailoverPolicy; p != nil {
		o.add("failover_policy", im.failoverPolicy(p))
	}
	if fo.FailoverTag {
		o.add("failover_tag", boolean(true))
	}
	if fo.EnableLeasePairing {
		o.add("enable_lease_pairing", boolean(true))
	}
}

func (im *importer) failoverPolicy(p *schema.FailoverPolicy) *obj {
	o := &obj{}
	if !slices.Contains(failoverPolicyTypes, p.Type) {
		im.unsupported(p.Pos, "failover_policy type %q is not in the policy language (%v)", p.Type, failoverPolicyTypes)
	}
	o.add("type", str(p.Type))
	// The policies that need max_tries (and max_error_tries) get them even
	// when zero, as the source must have had them.
	if p.MaxTries != 0 || p.Type == "DeterministicOrderPolicy" || p.Type == "LeastFailuresPolicy" {
		if p.MaxTries < 1 {
			im.unsupported(p.Pos, "failover_policy max_tries %d: the policy language requires at least 1", p.MaxTries)
		}
		o.add("max_tries", integer(int64(p.MaxTries)))
	}
	if p.MaxErrorTries != 0 || p.Type == "DeterministicOrderPolicy" {
		if p.MaxErrorTries < 0 {
			im.unsupported(p.Pos, "failover_policy max_error_tries %d: the policy language requires 0 or more", p.MaxErrorTries)
		}
		o.add("max_error_tries", integer(int64(p.MaxErrorTries)))
	}
	if p.ExcludeErrors != nil {
		o.add("exclude_errors", strs(p.ExcludeErrors))
	}
	if p.EnableFailureDomains {
		o.add("enable_failure_domains", boolean(true))
	}
	if p.IgnoreNormalReplyIndex {
		o.add("ignore_normal_reply_index", boolean(true))
	}
	if p.Hash != nil {
		o.add("hash", im.hash(p.Hash, p.Pos))
	}
	if p.Tags != nil {
		o.add("tags", strs(p.Tags))
	}
	if len(p.Extra) > 0 {
		im.unsupported(p.Pos, "failover_policy options %v are not in the policy language", sortedKeys(p.Extra))
	}
	return o
}
