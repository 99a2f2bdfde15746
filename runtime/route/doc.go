// Package route executes a route graph (schema.Config) with the semantics
// of Facebook's mcrouter route handles.
//
// Build turns a config into a Graph. Destinations are injected through
// Options.Dest, so the same graph runs over real upstream connections
// (mcroute serve) or over recording fakes (NewFake: explain, test,
// simulate). Graph.Route is mcrouter's RootRoute: it picks the route tree by
// the key's routing prefix and the policy by key prefix, and routes the
// request through the handles below:
//
//   - PoolRoute: Ch3 over the pool's servers (WeightedCh3 when the pool has
//     weights; the route's hash overrides function, salt and weights); empty
//     pool → error "HashRoute with empty children, name: P" (NullRoute with
//     error_on_empty false); one server → that server; shadows and rates;
//     asynclog: a delete that fails with a failover-class error is answered
//     NOT_FOUND and counted (Stats.AsynclogRequests) — mcroute does not spool
//     it to disk for replay as mcrouter does.
//   - Pool (a list): every server of the pool, unhashed, no asynclog.
//   - HashRoute: hash over its children (pool weights do not apply).
//   - AllSyncRoute (worst reply by mc.Result.WorseThan), AllAsyncRoute
//     (background, default reply at once), AllInitialRoute (first child's
//     reply), AllFastestRoute (first reply that is not a failover error,
//     else the last), AllMajorityRoute (⌊n/2⌋+1 equal results, ties to the
//     worse).
//   - FailoverRoute with failover_errors per class, failover_limit, and the
//     in-order, DeterministicOrderPolicy, LeastFailuresPolicy and
//     RendezvousPolicy (approximated) orders; tko and hard-TKO replies
//     (connect_error, connect_timeout, shutdown) spend neither a
//     failover_limit token nor a try, nor do exclude_errors count as tries;
//     failover_tag appends ":failover=1" to the keys of failover requests
//     that have a hash stop. MissFailoverRoute, FailoverWithExptimeRoute,
//     SaltedFailoverRoute and LatestRoute build on it.
//   - RandomRoute, HostIdRoute, OperationSelectorRoute (PrefixPolicyRoute),
//     RoutingGroupRoute, PrefixSelectorRoute (top level only), WarmUpRoute,
//     L1L2CacheRoute, MigrateRoute, ModifyKeyRoute, ModifyExptimeRoute,
//     LatencyInjectionRoute, RateLimitRoute, ShadowRoute, KeySplitRoute,
//     LoggingRoute (slog), ErrorRoute, NullRoute, DevNullRoute, and named
//     handles (built once, shared).
//   - Kinds mcroute reads but does not execute (schema.Generic:
//     L1L2SizeSplitRoute, BigValueRoute, LoadBalancerRoute, ...; hash_func
//     LoadBalancer, Rendezvous, WeightedRendezvous, WeightedCh3Rv) build into
//     a handle answering SERVER_ERROR "mcroute: <Type> is not supported by
//     mcroute serve", and Build reports a warning.
//
// # Tracing
//
// A Trace attached to the context (WithTrace) records the path a request
// takes and every destination it reaches; with Trace.DryRun the destinations
// are recorded but not called, which is how __mcrouter__.route(op,key) is
// answered. Graph.Handles renders mcrouter's route_handles text. Tracing
// costs nothing when no Trace is attached.
//
// # Performance
//
// Routing a get through a PoolRoute, an AllFastestRoute or a
// MissFailoverRoute does not allocate. Fan-out routes keep their
// per-request state (a copy of the request, one reply per child) in recycled
// objects and run each child on a goroutine started without a closure (the
// runtime reuses the goroutines); work that outlives the request (background
// sends, stragglers) always works on its own copy of the request.
//
// # Deviations from mcrouter
//
// Where mcrouter's behaviour cannot or should not be reproduced:
//
//   - Asynclog: failed deletes are answered NOT_FOUND and counted, not
//     spooled to disk.
//   - Lease tokens are not modelled: WarmUpRoute fills a lease-get miss with
//     add (mcrouter: lease-set with the cold lease token); FailoverRoute's
//     enable_lease_pairing is ignored (with a warning);
//     MigrateRoute's lease invalidation carries the token in Request.CAS.
//   - Failure domains (enable_failure_domains), max_outstanding,
//     slow_warmup, additional_fanout, metaget exptimes and thread-local
//     failover are not implemented (Build warns). PoolRoute's shard_splits
//     and bucketize, L1L2SizeSplitRoute and pool port_override are.
//   - Facebook-internal options are carried and ignored, with a warning:
//     axonlog and its axonlog_* options, a shadow's key_fraction_range_rv
//     (runtime vars). split_shard_fanout only concerns Thrift requests and
//     is carried and ignored silently.
//   - A weight above 1 acts as 1, as in mcrouter, except that mcrouter
//     also accepts the one key hash in 2^32 (SpookyHash 2^32-1) that 1
//     rejects.
//   - RendezvousPolicy orders the failover children by a rendezvous hash of
//     their tags that is not bit-exact with mcrouter's.
//   - KeySplitRoute with first_hit asks the replicas one after the other
//     rather than in parallel.
//   - The host id defaults to a hash of the host name (DefaultHostID), not
//     of the first non-loopback IP address; LatestRoute and HostIdRoute hash
//     it with folly's hash_128_to_64/twang_mix64 (believed exact, not
//     checked against vectors).
//   - mcrouter evaluates fan-outs on fibers; with a Trace or Options.Go,
//     mcroute routes the synchronous part in child order, so "fastest" and
//     "majority" are decided in child order.
package route
