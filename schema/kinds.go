package schema

import (
	"sort"
	"sync"
)

// KindInfo describes one route type as mcrouter knows it.
type KindInfo struct {
	// Name is the mcrouter type string.
	Name string
	// Doc is a one-line description.
	Doc string
	// ShortForm reports whether mcrouter accepts the "Type|rest" string form
	// (the rest becomes the handle's children, pool, or message).
	ShortForm bool
	// Fields are the option names mcrouter reads (besides "type" and
	// "name").
	Fields []string
	// RouteFields are the fields holding routes; ListFields the subset
	// holding lists of routes.
	RouteFields []string
	ListFields  []string
	// Native reports whether mcroute builds and serves this kind; the others
	// are read and written faithfully but answered with an error by serve.
	Native bool
	// Internal marks kinds that are Facebook-internal or not usable in
	// open-source mcrouter builds.
	Internal bool
	// Removed marks kinds that current mcrouter no longer accepts.
	Removed bool
}

var failoverFields = []string{"failover_errors", "failover_limit", "failover_policy", "failover_tag", "enable_lease_pairing"}

func fields(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// kindTable is built on each call of Kinds so that callers cannot mutate a
// shared table.
func kindTable() []KindInfo {
	children := []string{"children"}
	return []KindInfo{
		{Name: "PoolRoute", Doc: "hash to one server of a pool", ShortForm: true, Native: true,
			Fields: []string{"pool", "hash", "shadows", "shadow_policy", "rates", "max_outstanding", "slow_warmup",
				"asynclog", "asynclog_name", "axonlog", "shard_splits", "split_shard_fanout", "bucketize", "total_buckets",
				"total_buckets_by_prefix", "bucketization_keyspace", "distribution_enabled", "pool_id", "useBucketHashSelector",
				"axonlog_tier", "axonlog_keyspace", "axonlog_all_delete", "axonlog_default_region_filter"}},
		{Name: "Pool", Doc: "every server of a pool, unhashed", ShortForm: true, Native: true},
		{Name: "HashRoute", Doc: "hash to one child", ShortForm: true, Native: true,
			Fields:      []string{"children", "hash_func", "salt", "weights", "tags", "error_on_empty", "bucketize", "client_fanout"},
			RouteFields: children, ListFields: children},
		{Name: "AllSyncRoute", Doc: "send to all, wait for all, return the worst reply", ShortForm: true, Native: true,
			Fields: children, RouteFields: children, ListFields: children},
		{Name: "AllAsyncRoute", Doc: "send to all in the background, return the default reply", ShortForm: true, Native: true,
			Fields: children, RouteFields: children, ListFields: children},
		{Name: "AllInitialRoute", Doc: "send to all, return the first child's reply", ShortForm: true, Native: true,
			Fields: children, RouteFields: children, ListFields: children},
		{Name: "AllFastestRoute", Doc: "send to all, return the first non-error reply", ShortForm: true, Native: true,
			Fields: children, RouteFields: children, ListFields: children},
		{Name: "AllMajorityRoute", Doc: "send to all, return the majority reply", ShortForm: true, Native: true,
			Fields: children, RouteFields: children, ListFields: children},
		{Name: "FailoverRoute", Doc: "try children in order until one does not fail", ShortForm: true, Native: true,
			Fields: fields(children, failoverFields), RouteFields: children, ListFields: children},
		{Name: "MissFailoverRoute", Doc: "gets and deletes try children in order until a hit", ShortForm: true, Native: true,
			Fields: []string{"children", "return_best_on_error"}, RouteFields: children, ListFields: children},
		{Name: "FailoverWithExptimeRoute", Doc: "legacy failover with capped exptime on failover writes", Native: true,
			Fields:      fields([]string{"normal", "failover", "failover_exptime"}, failoverFields),
			RouteFields: []string{"normal", "failover"}, ListFields: []string{"failover"}},
		{Name: "LatestRoute", Doc: "each client host sticks to its replica, with failover", ShortForm: true, Native: true,
			Fields:      fields([]string{"children", "failover_count", "salt", "thread_local_failover", "weights"}, failoverFields),
			RouteFields: children, ListFields: children},
		{Name: "RandomRoute", Doc: "a uniformly random child per request", ShortForm: true, Native: true,
			Fields: children, RouteFields: children, ListFields: children},
		{Name: "HostIdRoute", Doc: "a fixed child chosen by host id", ShortForm: true, Native: true,
			Fields: []string{"children", "salt"}, RouteFields: children, ListFields: children},
		{Name: "OperationSelectorRoute", Doc: "pick a route by operation", ShortForm: true, Native: true,
			Fields: []string{"default_policy", "operation_policies"}, RouteFields: []string{"default_policy", "operation_policies"}},
		{Name: "PrefixPolicyRoute", Doc: "old name of OperationSelectorRoute", ShortForm: true, Native: true,
			Fields: []string{"default_policy", "operation_policies"}, RouteFields: []string{"default_policy", "operation_policies"}},
		{Name: "RoutingGroupRoute", Doc: "pick a route by routing group", ShortForm: true, Native: true,
			Fields: []string{"default_policy", "routing_group_policies"}, RouteFields: []string{"default_policy", "routing_group_policies"}},
		{Name: "PrefixSelectorRoute", Doc: "pick a route by key prefix (top level only)", Native: true,
			Fields: []string{"policies", "wildcard"}, RouteFields: []string{"policies", "wildcard"}},
		{Name: "WarmUpRoute", Doc: "read cold, on a miss read warm and fill cold", Native: true,
			Fields: []string{"cold", "warm", "exptime", "enable_metaget"}, RouteFields: []string{"cold", "warm"}},
		{Name: "L1L2CacheRoute", Doc: "two-level cache: read L1 then L2, fill L1", Native: true,
			Fields:      []string{"l1", "l2", "upgradingL1Exptime", "ncacheExptime", "ncacheUpdatePeriod"},
			RouteFields: []string{"l1", "l2"}},
		{Name: "MigrateRoute", Doc: "move traffic from one route to another over time", Native: true,
			Fields: []string{"from", "to", "start_time", "interval"}, RouteFields: []string{"from", "to"}},
		{Name: "ModifyKeyRoute", Doc: "rewrite the key, then forward", Native: true,
			Fields:      []string{"target", "set_routing_prefix", "ensure_key_prefix", "replace_key_prefix", "set_key_suffix", "modify_inplace"},
			RouteFields: []string{"target"}},
		{Name: "ModifyExptimeRoute", Doc: "set or cap the exptime, then forward", Native: true,
			Fields: []string{"target", "exptime", "action"}, RouteFields: []string{"target"}},
		{Name: "LatencyInjectionRoute", Doc: "add latency, for testing", Native: true,
			Fields: []string{"child", "before_latency_ms", "after_latency_ms", "total_latency_ms",
				"total_latency_percentile_ms", "request_payload_latency", "max_request_latency_us"},
			RouteFields: []string{"child"}},
		{Name: "RateLimitRoute", Doc: "token-bucket rate limit with a fallback", Native: true,
			Fields: []string{"target", "rates", "fallback"}, RouteFields: []string{"target", "fallback"}},
		{Name: "ShadowRoute", Doc: "copy some traffic of some children to shadows", Native: true,
			Fields: []string{"children", "shadows", "shadow_policy"}, RouteFields: children, ListFields: children},
		{Name: "KeySplitRoute", Doc: "spread a hot key over replicas", Native: true,
			Fields: []string{"destination", "replicas", "all_sync", "first_hit"}, RouteFields: []string{"destination"}},
		{Name: "LoggingRoute", Doc: "forward and log", ShortForm: true, Native: true,
			Fields: []string{"target"}, RouteFields: []string{"target"}},
		{Name: "ErrorRoute", Doc: "answer with an error", ShortForm: true, Native: true,
			Fields: []string{"response", "enable_logging", "result"}},
		{Name: "NullRoute", Doc: "answer with the default reply", ShortForm: true, Native: true},
		{Name: "DevNullRoute", Doc: "NullRoute, counted", ShortForm: true, Native: true},
		{Name: "SaltedFailoverRoute", Doc: "failover within a pool with salted hashing", Native: true,
			Fields: fields([]string{"pool", "hash", "shadows", "shadow_policy"}, failoverFields)},

		{Name: "L1L2SizeSplitRoute", Doc: "large values in L2 with a sentinel in L1", Native: true,
			Fields:      []string{"l1", "l2", "threshold", "ttl_threshold", "failure_ttl", "both_full_set", "retries"},
			RouteFields: []string{"l1", "l2"}},

		// Read and written faithfully, not executed by mcroute serve.
		{Name: "BigValueRoute", Doc: "split large values into chunks",
			Fields: []string{"target", "split_threshold", "batch_size", "hide_reply_flag"}, RouteFields: []string{"target"}},
		{Name: "LoadBalancerRoute", Doc: "pick by reported server load",
			Fields:      []string{"children", "salt", "load_ttl_ms", "failover_count", "algorithm", "enable_thrift_server_load"},
			RouteFields: children, ListFields: children},
		{Name: "OriginalClientHashRoute", Doc: "hash by client IP",
			Fields: []string{"children", "offset"}, RouteFields: children, ListFields: children},
		{Name: "KeyParseRoute", Doc: "route on parts of the key",
			Fields: []string{"target", "num_routing_parts", "delimiter"}, RouteFields: []string{"target"}},
		{Name: "HashStopAllowListRoute", Doc: "reject hash-stopped keys outside allowed prefixes",
			Fields: []string{"target", "prefixes"}, RouteFields: []string{"target"}},
		{Name: "StagingRoute", Doc: "warm plus staging copy", Fields: []string{"warm", "staging"},
			RouteFields: []string{"warm", "staging"}},
		{Name: "BlackholeRoute", Doc: "drop requests matching policies",
			Fields: []string{"default", "blackhole_child", "policies"}, RouteFields: []string{"default", "blackhole_child"}},
		{Name: "CarbonLookasideRoute", Doc: "local lookaside cache", Internal: true,
			Fields:      []string{"child", "ttl", "ttl_unit_ms", "prefix", "flavor", "flavor_overrides", "key_split_size", "helper_config"},
			RouteFields: []string{"child"}},
		{Name: "DistributionRoute", Doc: "cross-region distribution", Internal: true,
			Fields:      []string{"child", "replay", "distributed_delete_rpc_enabled", "distribution_source_region"},
			RouteFields: []string{"child"}},
		{Name: "SetDistributionTargetRoute", Doc: "set the distribution target region", Internal: true,
			Fields: []string{"child", "target_region"}, RouteFields: []string{"child"}},
		{Name: "SRRoute", Doc: "service router (Facebook-internal)", Internal: true},
		{Name: "McRefillRoute", Doc: "refill route (removed from open-source mcrouter)", Internal: true, Removed: true},
		{Name: "AxonLogRoute", Doc: "axon logging (Facebook-internal)", Internal: true},
		{Name: "ReliablePoolRoute", Doc: "removed in 2015; use SaltedFailoverRoute", Removed: true},
	}
}

// Kinds returns the route types mcrouter knows, with what mcroute knows of
// them, sorted by name. Each call returns a fresh slice.
func Kinds() []KindInfo {
	k := kindTable()
	sort.Slice(k, func(i, j int) bool { return k[i].Name < k[j].Name })
	return k
}

// kindIndex is a read-only index of kindTable, built once.
var kindIndex = sync.OnceValue(func() map[string]KindInfo {
	m := make(map[string]KindInfo)
	for _, k := range kindTable() {
		m[k.Name] = k
	}
	return m
})

// LookupKind returns the KindInfo of the type name, or false. The returned
// slices are shared: do not modify them.
func LookupKind(name string) (KindInfo, bool) {
	k, ok := kindIndex()[name]
	return k, ok
}

// KindNames returns the names of every route type mcrouter accepts today,
// sorted (removed kinds excluded).
func KindNames() []string {
	var out []string
	for _, k := range Kinds() {
		if !k.Removed {
			out = append(out, k.Name)
		}
	}
	return out
}
