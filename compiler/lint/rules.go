package lint

import "github.com/mcroute/mcroute/internal/diag"

// RuleSchema is the ID of the JSON Schema pass over mcrouter JSON inputs.
const RuleSchema = "schema"

// lintRules returns the rules Lint runs, in the order they run.
func lintRules() []Rule {
	return []Rule{
		{ID: RuleSchema, Severity: diag.Error, Run: runSchema,
			Summary: "the config does not match the JSON Schema of mcrouter configs",
			Doc: `The macro-expanded JSON of an mcrouter config is validated against the JSON Schema ` +
				`of mcrouter configs (draft 2020-12, schema/mcrouter.schema.json; point your editor at it too). ` +
				`Route objects are checked by their "type": the options each route type reads, their types and ` +
				`ranges, and the required ones. A wrong type or a missing required option is an error (mcrouter ` +
				`refuses the config or misreads it); an unknown key is a warning, because mcrouter silently ignores ` +
				`keys it does not know, so a misspelled option (server_timout, "default" for default_policy) has no ` +
				`effect at all. Violations are reported at the offending value's line and column; a violation at a ` +
				`place the loader already reported is not repeated. CUE policies are checked by the CUE schema instead.`},
		{ID: "write-fanout-capacity", Severity: diag.Warning, Run: runWriteFanoutCapacity,
			Summary: "writes go to every server of a pool, so the pool holds one server's worth of keys",
			Doc: `AllSyncRoute, AllFastestRoute, AllInitialRoute, AllMajorityRoute and AllAsyncRoute over "Pool|A" ` +
				`send each request to every server of pool A, without hashing. When sets go that way, every server ` +
				`of A stores every key: A is a set of full replicas and its capacity is one server's memory, not the ` +
				`sum of its servers; adding servers adds copies, not room, and the eviction rate is that of a single ` +
				`server. That is right for a small, hot, replicated key set; it is a costly mistake when the pool was ` +
				`meant to be sharded. To spread keys over the servers use "PoolRoute|A" (consistent hashing); to ` +
				`replicate a sharded pool, fan out over several pools ("AllSyncRoute" with children "PoolRoute|A", ` +
				`"PoolRoute|B").`},
		{ID: "stale-delete", Severity: diag.Warning, Run: runStaleDelete,
			Summary: "deletes fan out through a route that does not report replicas' failures",
			Doc: `A delete sent to several replicas through AllFastestRoute is answered as soon as one replica ` +
				`succeeds; through AllInitialRoute with the first replica's reply; through AllAsyncRoute at once, ` +
				`with NOT_FOUND. The other replicas' replies are never looked at, so a replica that times out, is ` +
				`restarting or is marked TKO keeps the old value and serves it until it expires, while the client ` +
				`believes the delete succeeded. Send deletes through AllSyncRoute (it waits for every replica and ` +
				`returns the worst reply, so the client can retry) or AllMajorityRoute, for example with an ` +
				`OperationSelectorRoute "delete" policy.`},
		{ID: "divergent-arithmetic", Severity: diag.Warning, Run: runDivergentArithmetic,
			Summary: "incr/decr fan out through a route that does not report replicas' failures",
			Doc: `incr and decr change a counter on each replica independently. Through AllFastestRoute, ` +
				`AllInitialRoute or AllAsyncRoute the client sees one reply and the others are dropped, so a ` +
				`replica that misses an increment (timeout, restart, eviction) holds a different value from then on ` +
				`and reads return whichever copy they reach. Keep counters on one destination (PoolRoute) or send ` +
				`incr/decr through AllSyncRoute so that failures are seen and the counter can be reset.`},
		{ID: "same-server-failover", Severity: diag.Warning, Run: runSameServerFailover,
			Summary: "a failover route retries the destination that just failed",
			Doc: `FailoverRoute, FailoverWithExptimeRoute, MissFailoverRoute and LatestRoute try their children one ` +
				`after another. When two children are the same server, or hash every key to the same server of the ` +
				`same server list (two PoolRoutes over identical pools with the same hash), the failover sends the ` +
				`request back to the server that just failed or missed, which adds latency and cannot help. Fail ` +
				`over to a different pool, or to the same pool with a different salt (SaltedFailoverRoute).`},
		{ID: "replica-order-mismatch", Severity: diag.Warning, Run: runReplicaOrderMismatch,
			Summary: "two pools list the same servers in a different order",
			Doc: `Consistent hashing (Ch3, Crc32, WeightedCh3) picks a position in the server list, not a server: ` +
				`with "PoolRoute|A" and "PoolRoute|B" over the same servers in a different order, the same key maps ` +
				`to a different physical server in each pool, so data written through one is looked up on another ` +
				`server through the other, and the two pools are not copies of each other. With "Pool|A" lists ` +
				`(FailoverRoute, MissFailoverRoute) the order is the order of tries, so the first server tried ` +
				`differs; that can be a deliberate way of spreading reads. List the servers in the same order unless ` +
				`the difference is intended.`},
		{ID: "duplicate-server", Severity: diag.Warning, Run: runDuplicateServer,
			Summary: "a server appears more than once in a pool",
			Doc: `A pool that lists the same host:port twice (protocol suffixes aside) gives that server two ` +
				`positions in the hash ring, so it receives twice its share of keys, and "Pool|A" fan-outs and ` +
				`failovers send it the same request twice. Remove the duplicate; to give a server more keys use ` +
				`"weights".`},
		{ID: "empty-pool", Severity: diag.Warning, Run: runEmptyPool,
			Summary: "a pool has no servers",
			Doc: `A pool with an empty "servers" list answers every request routed to it with an error ` +
				`("HashRoute with empty children"), or like NullRoute when "error_on_empty" is false (gets miss, ` +
				`sets report NOT_STORED). Add servers, or remove the pool and the routes that use it.`},
		{ID: "weights-count-mismatch", Severity: diag.Warning, Run: runWeightsCount,
			Summary: "the number of weights differs from the number of servers or children",
			Doc: `Pool "weights" (and the "weights" of a hash object, HashRoute or LatestRoute) give one weight per ` +
				`server or child, in order. With a different count, mcrouter pads the missing weights with 0.5 and ` +
				`drops the extra ones, so keys are not spread as written and adding a server silently changes every ` +
				`weight's meaning. Give exactly one weight per server.`},
		{ID: "shadowed-operation-policy", Severity: diag.Warning, Run: runShadowedPolicy,
			Summary: "a selector policy is never used because an enclosing route takes those operations",
			Doc: `An OperationSelectorRoute or RoutingGroupRoute only sees the operations its parents send it. A ` +
				`policy for "get" inside the default_policy of an outer selector that already routes get elsewhere, ` +
				`or a "set" policy under a WarmUpRoute's warm side (which only sees gets), is dead configuration: it ` +
				`never routes a request, and editing it has no effect. The same holds for a default_policy when every ` +
				`operation that reaches the selector has its own policy. Move the policy to the selector that ` +
				`receives the operation, or delete it.`},
		{ID: "unmatched-prefix-policy", Severity: diag.Warning, Run: runUnmatchedPrefix,
			Summary: "a PrefixSelectorRoute policy can never match a key",
			Doc: `PrefixSelectorRoute matches its policies against the routing key: the key without its ` +
				`/region/cluster/ routing prefix, up to the hash stop "|#|". A policy that contains "|#|", that ` +
				`itself starts with a routing prefix (/a/b/...), that contains spaces or control characters (not ` +
				`allowed in memcached keys) or that is longer than a key can be (250 bytes) never matches, and its ` +
				`keys go to the wildcard. Fix the prefix.`},
		{ID: "unreachable-routes-entry", Severity: diag.Warning, Run: runUnreachableEntry,
			Summary: "a routes entry has no aliases, so no routing prefix selects it",
			Doc: `Each entry of a "routes" list is selected by the routing prefixes in its "aliases". An entry ` +
				`with an empty aliases list is never selected: its route serves no request. Add the routing ` +
				`prefixes (/region/cluster/) that should reach it, or remove it.`},
		{ID: "missing-operation-policy", Severity: diag.Error, Run: runMissingPolicy,
			Summary: "get, set or delete has no policy and there is no default_policy",
			Doc: `An OperationSelectorRoute (or RoutingGroupRoute) without a default_policy answers the operations ` +
				`it has no policy for with a default-constructed reply whose result is "unknown": the client gets ` +
				`an error for every such request. Missing get, set or delete (get_like, update_like, delete_like) ` +
				`breaks basic caching. Add the policies, or a default_policy for everything else. mcrouter has no ` +
				`"default" option: write "default_policy".`},
		{ID: "incomplete-operation-policies", Severity: diag.Warning, Run: runIncompletePolicies,
			Summary: "common memcached operations have no policy and there is no default_policy",
			Doc: `Like missing-operation-policy, for the other operations memcached clients commonly send: gets, ` +
				`add, replace, append, prepend, cas, incr, decr and touch (and arithmetic_like for ` +
				`RoutingGroupRoute). Without a policy or a default_policy, those requests get an error reply ` +
				`(result unknown). Add a default_policy, or policies for the operations your clients use.`},
		{ID: "replica-hash-mismatch", Severity: diag.Warning, Run: runReplicaHashMismatch,
			Summary: "replica pools are hashed with different functions or salts",
			Doc: `When a route writes to or fails over between replica pools of the same size (AllSyncRoute, ` +
				`FailoverRoute, ... over "PoolRoute|A" and "PoolRoute|B"), operators expect key k to live on the ` +
				`same position in every replica. A different hash function or salt on one replica puts each key's ` +
				`copies on unrelated servers: the pools are no longer server-for-server mirrors (a server cannot be ` +
				`rebuilt or warmed from its peer), and any other route that reads one pool with the other's hash ` +
				`misses. Use the same "hash" on every replica unless the difference is deliberate.`},
		{ID: "pool-hash-inconsistent", Severity: diag.Warning, Run: runPoolHashInconsistent,
			Summary: "the same pool is hashed differently in different routes",
			Doc: `Where a key lives in a pool depends on the hash function, salt and weights of the PoolRoute that ` +
				`sends it there. Two PoolRoutes over the same pool with different hash settings put the same key on ` +
				`different servers, so a value written through one is not found through the other, and a delete ` +
				`through one leaves the copy written through the other. Hash each pool the same way everywhere (a ` +
				`named handle helps), or use different pools.`},
		{ID: "timeout-suspicious", Severity: diag.Warning, Run: runTimeoutSuspicious,
			Summary: "a pool timeout is implausibly short or long",
			Doc: `"server_timeout" and "connect_timeout" are in milliseconds (mcrouter accepts 1 to 1000000). ` +
				`Below 10 ms, ordinary network jitter turns into timeouts, failovers and TKO marks (a value meant in ` +
				`seconds is the usual cause); above 60000 ms, a hung server holds client requests for over a minute ` +
				`before failover starts. The default is 1000.`},
		{ID: "unused-pool", Severity: diag.Warning, Run: runUnusedPool,
			Summary: "a pool is not used by any route",
			Doc: `A pool under "pools" that no route refers to (PoolRoute, Pool, SaltedFailoverRoute, inherit) ` +
				`receives no traffic. It is often the sign of a typo in a pool name elsewhere, or of a migration ` +
				`left half done. Remove it, or route to it.`},
		{ID: "unused-named-handle", Severity: diag.Warning, Run: runUnusedHandle,
			Summary: "a named handle is never referenced",
			Doc: `A route defined in "named_handles" (or given a "name") that nothing refers to routes no request. ` +
				`mcrouter builds object-form named_handles lazily, so an unreferenced one is not even checked when ` +
				`the config loads, and its mistakes surface only when someone starts using it. Remove it, or refer ` +
				`to it by name.`},
		{ID: "single-child-failover", Severity: diag.Warning, Run: runSingleChildFailover,
			Summary: "a failover route has only one destination, so it never fails over",
			Doc: `FailoverRoute, MissFailoverRoute, FailoverWithExptimeRoute and LatestRoute with a single child ` +
				`(for example "FailoverRoute|Pool|A" when A has one server) behave exactly like that child: there is ` +
				`nothing to fail over to. Add the destination the failover was meant to reach, or route to the ` +
				`child directly.`},
		{ID: "single-replica-write", Severity: diag.Warning, Run: runSingleReplicaWrite,
			Summary: "writes go through a route that sends them to only one of several replicas",
			Doc: `RandomRoute sends each request to one random child, MissFailoverRoute sends writes to its first ` +
				`child only (and a delete stops at the first child that had the key), LatestRoute and HostIdRoute ` +
				`send each client host's requests to "its" child. Writes and deletes through them reach one replica, ` +
				`so the other replicas keep missing or stale values that later reads return. Send writes to every ` +
				`replica (AllSyncRoute, or an OperationSelectorRoute with write policies) and keep these routes for ` +
				`reads.`},
		{ID: "hash-ignores-weights", Severity: diag.Warning, Run: runHashIgnoresWeights,
			Summary: "HashRoute over a weighted pool ignores the pool's weights",
			Doc: `Only PoolRoute reads a pool's "weights" (and hashes with WeightedCh3). "HashRoute|Pool|A" hashes ` +
				`over A's servers with Ch3, or with its own hash_func and weights, and ignores A's weights, so servers ` +
				`meant to get less traffic get an equal share. Use "PoolRoute|A", or give the HashRoute ` +
				`"hash_func": "WeightedCh3" and "weights".`},
		{ID: "asynclog-delete", Severity: diag.Info, Run: runAsynclogDelete,
			Summary: "failed deletes through a PoolRoute are spooled to the asynclog and reported as NOT_FOUND",
			Doc: `PoolRoute wraps its pool in an AsynclogRoute unless "asynclog": false. A delete that fails with ` +
				`a connection error or a timeout is written to the asynclog spool (--async-dir) and the client ` +
				`receives NOT_FOUND, as if the delete had succeeded; the delete is applied later only if the spool ` +
				`is replayed. That is usually what a cache wants; if clients must see failed deletes (to retry them ` +
				`or to invalidate otherwise), set "asynclog": false on the PoolRoute.`},
		{ID: "allasync-read", Severity: diag.Warning, Run: runAllAsyncRead,
			Summary: "gets answered by AllAsyncRoute always miss",
			Doc: `AllAsyncRoute sends the request to its children in the background and answers at once with the ` +
				`default reply: NOT_FOUND for gets, NOT_STORED for sets. Gets whose reply comes from an ` +
				`AllAsyncRoute therefore always miss. Route gets elsewhere (an OperationSelectorRoute "get" policy), ` +
				`or put the AllAsyncRoute behind AllInitialRoute after a child that answers.`},
		{ID: "ineffective-shadow", Severity: diag.Warning, Run: runIneffectiveShadow,
			Summary: "a shadow setting selects no traffic",
			Doc: `A shadow copies the traffic of the servers in "index_range" [start, end) whose keys fall in ` +
				`"key_fraction_range" [lo, hi] (or, with "keys_to_shadow", the traffic of those keys on every ` +
				`server), times "requests_fraction". Both ` +
				`ranges default to [0, 0], which select nothing, so a shadow needs both; an index range that starts ` +
				`past the pool's last server, or a requests_fraction of 0, select nothing either. Set the ranges you ` +
				`meant.`},
		{ID: "delete-write-mismatch", Severity: diag.Warning, Run: runDeleteWriteMismatch,
			Summary: "sets reach servers that deletes never reach",
			Doc: `For each route tree (each routing prefix, each PrefixSelectorRoute policy), the servers a set may ` +
				`be written to are compared with the servers a delete may reach. A server that stores sets but never ` +
				`sees deletes keeps serving deleted values until they expire. Send deletes everywhere sets go (for ` +
				`example the same AllSyncRoute), or make sure no read reaches those servers.`},
		{ID: "identical-branches", Severity: diag.Warning, Run: runIdenticalBranches,
			Summary: "a two-level route has the same destination on both sides",
			Doc: `WarmUpRoute (cold, warm), L1L2CacheRoute (l1, l2) and MigrateRoute (from, to) combine two ` +
				`different destinations. When both sides are the same servers, a miss is retried where it just ` +
				`missed and filled back into itself, or a migration moves nothing. Point the two sides at different ` +
				`pools.`},
	}
}
