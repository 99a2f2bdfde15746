package schema

// Route is a node of the route graph. The set of kinds is sealed: back ends
// switch on the concrete type. Every kind is a pointer to one of the structs
// below.
type Route interface {
	// Kind returns mcrouter's type name ("PoolRoute", "Pool", ...).
	Kind() string
	// Position returns where the node was written.
	Position() Pos
	// Meta returns the node's common fields.
	Meta() *Base
}

// Base holds the fields every route node has.
type Base struct {
	// Name is set when the node is a named handle's definition (mcrouter:
	// any route object with a "name").
	Name string
	// Pos is where the node was written.
	Pos Pos
	// Extra holds options mcroute keeps but does not interpret, keyed by
	// mcrouter name, so that compile and import lose nothing. The linter
	// reports the ones mcrouter does not know either.
	Extra map[string]any
}

// Position implements Route.
func (b *Base) Position() Pos { return b.Pos }

// Meta implements Route.
func (b *Base) Meta() *Base { return b }

// Ref is a reference to a named handle.
type Ref struct {
	Base
	// Target is the referenced handle's name (a key of Config.NamedHandles).
	Target string
}

// Hash selects a hash function and its parameters.
type Hash struct {
	// Func is mcrouter's hash_func: "Ch3" (default when empty), "Crc32",
	// "WeightedCh3", "ConstShard"; mcrouter also knows "WeightedCh3Rv",
	// "Rendezvous", "WeightedRendezvous", "Latest" and "LoadBalancer".
	Func string
	// Salt is appended to the routing key before hashing.
	Salt string
	// Weights override the pool's weights for WeightedCh3.
	Weights []float64
	// Extra holds other keys of a hash object, passed through.
	Extra map[string]any
}

// IsZero reports whether h selects nothing beyond the defaults.
func (h *Hash) IsZero() bool {
	return h == nil || (h.Func == "" && h.Salt == "" && h.Weights == nil && len(h.Extra) == 0)
}

// Shadow is one entry of PoolRoute's or ShadowRoute's `shadows`.
type Shadow struct {
	// Target is the shadow destination route.
	Target Route
	// IndexRange [a, b) selects the pool servers whose traffic is shadowed.
	IndexRange [2]int
	// KeyFractionRange [lo, hi] selects keys by SpookyHash32 of the routing
	// key (inclusive).
	KeyFractionRange [2]float64
	// KeysToShadow, if set, lists the exact keys to shadow instead.
	KeysToShadow []string
	// RequestsFraction is the share of matching requests shadowed; nil
	// means 1.0.
	RequestsFraction *float64
	Extra            map[string]any
	Pos              Pos
}

// Rates configures mcrouter's token-bucket rate limits (per second).
// A nil pointer means "no limit for that class"; a nil burst means "equal to
// the rate".
type Rates struct {
	GetsRate, GetsBurst       *float64
	SetsRate, SetsBurst       *float64
	DeletesRate, DeletesBurst *float64
}

// PoolRoute hashes a request to one server of a pool (Ch3 by default, or
// WeightedCh3 when the pool has weights). Failed deletes go to mcrouter's
// asynclog unless Asynclog is false.
type PoolRoute struct {
	Base
	// Pool is the pool's name.
	Pool string
	// Hash overrides the hash function; nil means the default.
	Hash *Hash
	// Shadows copy some traffic to other routes.
	Shadows      []Shadow
	ShadowPolicy string
	// Rates rate-limits the pool.
	Rates *Rates
	// Asynclog is nil for mcrouter's default (true).
	Asynclog     *bool
	AsynclogName string
	// ShardSplits spreads the keys of some shards (the digits between the
	// key's first and second ':') over several split keys; keyed by shard
	// id. Nil means no splits.
	ShardSplits map[string]ShardSplit
	// Bucketize hashes keys to one of TotalBuckets buckets (Ch3), then the
	// decimal bucket id to a server; nil means mcrouter's default (false).
	Bucketize *bool
	// TotalBuckets is the number of buckets (required with Bucketize).
	TotalBuckets int64
	// TotalBucketsByPrefix co-locates the keys that start with a prefix in
	// that many buckets.
	TotalBucketsByPrefix map[string]int64
	// BucketizationKeyspace names the bucket space (required with
	// Bucketize); it only labels mcrouter's bucketization data.
	BucketizationKeyspace string
	// SlowWarmup sends part of the traffic of a server that is warming up
	// (low hit rate) to another route; nil means off. mcroute serve does
	// not implement it.
	SlowWarmup *SlowWarmup
}

// HasOptions reports whether p sets any option besides its pool (its name
// and Extra aside): when it does not, it means "PoolRoute|pool".
func (p *PoolRoute) HasOptions() bool {
	return !p.Hash.IsZero() || p.Shadows != nil || p.ShadowPolicy != "" || p.Rates != nil || p.Asynclog != nil ||
		p.AsynclogName != "" || p.ShardSplits != nil || p.Bucketize != nil || p.TotalBuckets != 0 ||
		p.TotalBucketsByPrefix != nil || p.BucketizationKeyspace != "" || p.SlowWarmup != nil
}

// ShardSplit is one entry of PoolRoute's shard_splits: an int (Object
// false: Splits splits, deletes fanned out to all of them) or an object
// describing a migration from OldSplitSize to NewSplitSize.
type ShardSplit struct {
	// Splits is the int form's split count, 1 to 677 (mcrouter caps larger
	// values at 677).
	Splits int
	// Object records the object form; the fields below are only read then.
	Object bool
	// OldSplitSize and NewSplitSize are the split counts before and after
	// the migration; 0 means 1.
	OldSplitSize, NewSplitSize int
	// SplitStart is when the migration starts (Unix seconds, default 0);
	// MigrationPeriod how long it lasts (seconds, default 0).
	SplitStart, MigrationPeriod int64
	// FanoutDeletes sends deletes to every split (object form default
	// false; the int form always fans out).
	FanoutDeletes bool
	Pos           Pos
}

// SlowWarmup is PoolRoute's slow_warmup.
type SlowWarmup struct {
	// Target receives the share of a warming server's requests
	// (failoverTarget, required).
	Target Route
	// Settings are nil for mcrouter's defaults.
	Settings *SlowWarmupSettings
	Pos      Pos
}

// SlowWarmupSettings are slow_warmup's settings. A zero field means
// mcrouter's default (not given).
type SlowWarmupSettings struct {
	// EnableThreshold and DisableThreshold are the hit rates in [0, 1]
	// below which warm-up starts and above which it stops (required when
	// settings are given; mcrouter's defaults without settings are 0.7 and
	// 0.9).
	EnableThreshold, DisableThreshold float64
	// Start is the share of requests sent to the target at a 0% hit rate,
	// in (0, 1) (default 0.1).
	Start float64
	// Step is the increment per 1% of hit rate, in (0, 100) (default 1).
	Step float64
	// MinRequests is the number of requests before the hit rate counts
	// (default 100).
	MinRequests int64
}

// PoolList is mcrouter's "Pool" type: the list of a pool's servers, one
// destination each, unhashed. It stands for several routes where a list is
// expected (children) and for its single server where one route is.
type PoolList struct {
	Base
	Pool string
}

// HashRoute hashes a request to one of its children.
type HashRoute struct {
	Base
	Children []Route
	Hash     Hash
	// ErrorOnEmpty: nil means true.
	ErrorOnEmpty *bool
}

// AllSyncRoute sends to every child in parallel and returns the worst reply.
type AllSyncRoute struct {
	Base
	Children []Route
}

// AllAsyncRoute sends to every child in the background and returns the
// default reply at once.
type AllAsyncRoute struct {
	Base
	Children []Route
}

// AllInitialRoute sends to every child and returns the first child's reply;
// the others complete in the background.
type AllInitialRoute struct {
	Base
	Children []Route
}

// AllFastestRoute sends to every child and returns the first reply that is
// not a failover error (or the last reply if all fail).
type AllFastestRoute struct {
	Base
	Children []Route
}

// AllMajorityRoute sends to every child and returns the reply a majority
// agrees on (ties prefer the worse result).
type AllMajorityRoute struct {
	Base
	Children []Route
}

// FailoverErrors is the set of results that make a failover route try its
// next child, per operation class. A nil slice means mcrouter's default set.
type FailoverErrors struct {
	Gets, Updates, Deletes []string
	// Object records that the source used the object form
	// {gets, updates, deletes} rather than one list for all.
	Object bool
}

// FailoverLimit is a token bucket on the failover ratio.
type FailoverLimit struct {
	Rate  float64
	Burst *float64 // nil means 1000
}

// FailoverPolicy chooses the order in which failover children are tried.
// A nil policy tries them in order.
type FailoverPolicy struct {
	// Type is "DeterministicOrderPolicy", "LeastFailuresPolicy" or
	// "RendezvousPolicy".
	Type                   string
	MaxTries               int
	MaxErrorTries          int
	ExcludeErrors          []string
	EnableFailureDomains   bool
	IgnoreNormalReplyIndex bool
	Hash                   *Hash
	Tags                   []string
	Extra                  map[string]any
	Pos                    Pos
}

// FailoverOptions are the options shared by the failover family.
type FailoverOptions struct {
	FailoverErrors     *FailoverErrors
	FailoverLimit      *FailoverLimit
	FailoverPolicy     *FailoverPolicy
	FailoverTag        bool
	EnableLeasePairing bool
}

// FailoverRoute tries its children in order (or as its policy says) until
// one does not answer with a failover error.
type FailoverRoute struct {
	Base
	Children []Route
	FailoverOptions
}

// MissFailoverRoute tries its children in order for get-like operations and
// deletes until one hits; other operations go to the first child.
type MissFailoverRoute struct {
	Base
	Children          []Route
	ReturnBestOnError bool
}

// FailoverWithExptimeRoute is mcrouter's legacy wrapper: a FailoverRoute of
// Normal then Failover, with failover children's exptime capped.
type FailoverWithExptimeRoute struct {
	Base
	Normal   Route
	Failover []Route
	// FailoverExptime caps the exptime of writes to failover children; nil
	// means 60.
	FailoverExptime *int64
	FailoverOptions
}

// LatestRoute makes every client host stick to "its" replica: it picks
// FailoverCount children by weighted hashing of the host id, then fails over
// among them.
type LatestRoute struct {
	Base
	Children []Route
	// FailoverCount: nil means 5.
	FailoverCount       *int
	Salt                string
	ThreadLocalFailover bool
	Weights             []float64
	FailoverOptions
}

// RandomRoute sends each request to a child chosen uniformly at random.
type RandomRoute struct {
	Base
	Children []Route
}

// HostIDRoute sends every request from this host to one child, chosen by the
// host id (and salt) at config time.
type HostIDRoute struct {
	Base
	Children []Route
	Salt     string
}

// OperationSelectorRoute picks a route by operation (mcrouter's names, see
// mc.RoutableOps), falling back to DefaultPolicy.
type OperationSelectorRoute struct {
	Base
	DefaultPolicy     Route
	OperationPolicies map[string]Route
	// Alias records that the source spelled the type PrefixPolicyRoute.
	Alias bool
}

// RoutingGroupRoute picks a route by routing group (get_like, update_like,
// delete_like, arithmetic_like), falling back to DefaultPolicy.
type RoutingGroupRoute struct {
	Base
	DefaultPolicy        Route
	RoutingGroupPolicies map[string]Route
}

// PrefixSelectorRoute picks a route by the longest matching key prefix of
// the routing key, else Wildcard. It is only valid at the top of a route.
type PrefixSelectorRoute struct {
	Base
	Policies map[string]Route
	Wildcard Route
}

// WarmUpRoute reads from Cold and, on a miss, from Warm, adding what it found
// back to Cold; everything else goes to Cold.
type WarmUpRoute struct {
	Base
	Cold, Warm Route
	// Exptime of the values added to Cold (0 = no expiry).
	Exptime       int64
	EnableMetaget bool
}

// L1L2CacheRoute reads L1 then L2 (adding L2 hits to L1); writes and deletes
// go to L1.
type L1L2CacheRoute struct {
	Base
	L1, L2             Route
	UpgradingL1Exptime int64
	NcacheExptime      int64
	NcacheUpdatePeriod int64
}

// L1L2SizeSplitRoute stores small values in L1 and large ones (of
// Threshold bytes or more) in L2, with a sentinel (client flag 0x20) in L1
// that sends reads to L2. Other operations go to L1.
type L1L2SizeSplitRoute struct {
	Base
	L1, L2 Route
	// Threshold is the value size, in bytes, from which values go to L2
	// (required; 0 sends everything to L1).
	Threshold int64
	// TTLThreshold keeps values with an exptime below it in L1 (default 0:
	// off).
	TTLThreshold int64
	// FailureTTL caps the exptime of lease-sets stored in L1 when L2 fails;
	// nil means 60.
	FailureTTL *int64
	// BothFullSet stores large values in both L1 and L2 (default false).
	BothFullSet bool
	// Retries is the number of retries of lease-get and gets when L2
	// misses a value L1's sentinel points to; nil means 1 (at most 10).
	Retries *int
}

// MigrateRoute moves traffic from one route to another starting at StartTime,
// key by key over Interval seconds.
type MigrateRoute struct {
	Base
	From, To  Route
	StartTime int64
	// Interval in seconds; 0 means 3600.
	Interval int64
}

// ModifyKeyRoute rewrites the key, then forwards to Target.
type ModifyKeyRoute struct {
	Base
	Target Route
	// SetRoutingPrefix, when non-nil, replaces the routing prefix ("" removes
	// it).
	SetRoutingPrefix *string
	EnsureKeyPrefix  string
	ReplaceKeyPrefix string
	SetKeySuffix     string
	ModifyInplace    bool
}

// ModifyExptimeRoute sets or caps the exptime of requests (not deletes).
type ModifyExptimeRoute struct {
	Base
	Target  Route
	Exptime int64
	// Action is "set" (default when empty) or "min".
	Action string
}

// LatencyInjectionRoute delays requests to Child, for testing.
type LatencyInjectionRoute struct {
	Base
	Child          Route
	BeforeLatency  int64 // ms
	AfterLatency   int64 // ms
	TotalLatency   int64 // ms
	MaxRequestUsec int64
}

// RateLimitRoute forwards to Target within Rates, else to Fallback (or
// answers with the default reply).
type RateLimitRoute struct {
	Base
	Target   Route
	Rates    Rates
	Fallback Route
}

// ShadowRoute wraps each child whose index is in a shadow's index range with
// that shadow.
type ShadowRoute struct {
	Base
	Children     []Route
	Shadows      []Shadow
	ShadowPolicy string
}

// KeySplitRoute spreads a hot key over Replicas copies.
type KeySplitRoute struct {
	Base
	Destination Route
	Replicas    int
	AllSync     bool
	FirstHit    bool
}

// LoggingRoute forwards to Target and logs requests and replies.
type LoggingRoute struct {
	Base
	Target Route
}

// ErrorRoute answers every request with an error.
type ErrorRoute struct {
	Base
	// Response is the error message ("" = none).
	Response string
	// Result is the full mc_res_* name; "" means mc_res_local_error.
	Result string
	// EnableLogging: nil means true.
	EnableLogging *bool
	// Short records that the source used the string form
	// ("ErrorRoute|msg"), which cannot carry Result.
	Short bool
}

// NullRoute answers every request with the default reply (NOT_FOUND,
// NOT_STORED for updates).
type NullRoute struct{ Base }

// DevNullRoute is NullRoute counted in the dev_null_requests stat.
type DevNullRoute struct{ Base }

// SaltedFailoverRoute is FailoverRoute([PoolRoute(pool), Pool(pool)]):
// failover within the same pool, with salted hashing.
type SaltedFailoverRoute struct {
	Base
	Pool string
	Hash *Hash
	FailoverOptions
}

// Generic is a route kind that mcroute reads and writes faithfully but does
// not execute (mcrouter-internal or specialised kinds such as
// BigValueRoute or LoadBalancerRoute). Routes holds its route-valued
// fields, Options the rest.
type Generic struct {
	Base
	Type    string
	Routes  map[string][]Route
	Options map[string]any
	// Single records which route-valued fields held one route rather than
	// a list.
	Single map[string]bool
}

// Kind implementations.

func (*Ref) Kind() string                      { return "Ref" }
func (*PoolRoute) Kind() string                { return "PoolRoute" }
func (*PoolList) Kind() string                 { return "Pool" }
func (*HashRoute) Kind() string                { return "HashRoute" }
func (*AllSyncRoute) Kind() string             { return "AllSyncRoute" }
func (*AllAsyncRoute) Kind() string            { return "AllAsyncRoute" }
func (*AllInitialRoute) Kind() string          { return "AllInitialRoute" }
func (*AllFastestRoute) Kind() string          { return "AllFastestRoute" }
func (*AllMajorityRoute) Kind() string         { return "AllMajorityRoute" }
func (*FailoverRoute) Kind() string            { return "FailoverRoute" }
func (*MissFailoverRoute) Kind() string        { return "MissFailoverRoute" }
func (*FailoverWithExptimeRoute) Kind() string { return "FailoverWithExptimeRoute" }
func (*LatestRoute) Kind() string              { return "LatestRoute" }
func (*RandomRoute) Kind() string              { return "RandomRoute" }
func (*HostIDRoute) Kind() string              { return "HostIdRoute" }
func (*OperationSelectorRoute) Kind() string   { return "OperationSelectorRoute" }
func (*RoutingGroupRoute) Kind() string        { return "RoutingGroupRoute" }
func (*PrefixSelectorRoute) Kind() string      { return "PrefixSelectorRoute" }
func (*WarmUpRoute) Kind() string              { return "WarmUpRoute" }
func (*L1L2CacheRoute) Kind() string           { return "L1L2CacheRoute" }
func (*L1L2SizeSplitRoute) Kind() string       { return "L1L2SizeSplitRoute" }
func (*MigrateRoute) Kind() string             { return "MigrateRoute" }
func (*ModifyKeyRoute) Kind() string           { return "ModifyKeyRoute" }
func (*ModifyExptimeRoute) Kind() string       { return "ModifyExptimeRoute" }
func (*LatencyInjectionRoute) Kind() string    { return "LatencyInjectionRoute" }
func (*RateLimitRoute) Kind() string           { return "RateLimitRoute" }
func (*ShadowRoute) Kind() string              { return "ShadowRoute" }
func (*KeySplitRoute) Kind() string            { return "KeySplitRoute" }
func (*LoggingRoute) Kind() string             { return "LoggingRoute" }
func (*ErrorRoute) Kind() string               { return "ErrorRoute" }
func (*NullRoute) Kind() string                { return "NullRoute" }
func (*DevNullRoute) Kind() string             { return "DevNullRoute" }
func (*SaltedFailoverRoute) Kind() string      { return "SaltedFailoverRoute" }

// Kind returns the generic node's mcrouter type.
func (g *Generic) Kind() string { return g.Type }
