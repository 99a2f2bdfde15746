package route

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Handler routes one request and fills rep with the answer.
//
// Route never panics on a destination failure and never returns an error: a
// failure is a reply whose Result is an error (mcrouter's contract, which
// failover routes rely on). rep is overwritten entirely; its buffers are
// reused. req is only read, and only until Route returns: work that outlives
// the call (background fan-out, shadows) copies it first.
//
// Implementations are safe for concurrent use.
type Handler interface {
	Route(ctx context.Context, req *mc.Request, rep *mc.Reply)
}

// Destination sends a request to one server and fills rep with its answer.
//
// key is the key to put on the wire: the request's key with the routing
// prefix removed, unless the pool keeps it (keep_routing_prefix). It aliases
// req.Key. Send must fill every field of rep it wants to report (rep arrives
// reset, with its buffers kept), should append a hit's data to rep.Value[:0]
// so that the reply owns it, and reports failures as error results
// (mc.ResConnectError, mc.ResTimeout, mc.ResTko, ...), never by panicking. It
// must honour ctx's cancellation. Destinations are called concurrently.
type Destination interface {
	Send(ctx context.Context, req *mc.Request, key []byte, rep *mc.Reply)
}

// DestinationFunc adapts a function to the Destination interface.
type DestinationFunc func(ctx context.Context, req *mc.Request, key []byte, rep *mc.Reply)

// Send calls f.
func (f DestinationFunc) Send(ctx context.Context, req *mc.Request, key []byte, rep *mc.Reply) {
	f(ctx, req, key, rep)
}

// DestInfo describes one server of a pool, as Options.Dest receives it.
type DestInfo struct {
	// Pool is the pool's name.
	Pool string
	// Index is the server's position in the pool's server list.
	Index int
	// Server is the address as written in the config.
	Server string
	// Addr is Server parsed.
	Addr schema.Addr
	// Protocol is the effective protocol: the address's, else the pool's,
	// else "ascii".
	Protocol string
	// TimeoutMs is the pool's server_timeout (default 1000).
	TimeoutMs int
	// ConnectTimeoutMs is the pool's connect_timeout (default TimeoutMs).
	ConnectTimeoutMs int
	// KeepRoutingPrefix is the pool's keep_routing_prefix.
	KeepRoutingPrefix bool
}

// String returns "pool[index]".
func (d DestInfo) String() string { return d.Pool + "[" + strconv.Itoa(d.Index) + "]" }

// AccessPoint returns mcrouter's access point string for the destination,
// host:port:protocol:security:compression, as route_handles prints it.
func (d DestInfo) AccessPoint() string {
	sec, comp := d.Addr.Security, d.Addr.Compression
	if sec == "" {
		sec = "plain"
	}
	if comp == "" {
		comp = "notcompressed"
	}
	return d.Addr.HostPort() + ":" + d.Protocol + ":" + sec + ":" + comp
}

// Options configure Build. The zero value of every field except Dest is
// usable and means mcrouter's default.
type Options struct {
	// Dest returns the destination for one pool server. It is required and
	// is called exactly once per server of every pool the graph uses (a
	// pool used by several routes shares its destinations); serve returns
	// connections shared by address, explain and test return fakes
	// (NewFake). An error fails Build with a diagnostic at the server.
	Dest func(DestInfo) (Destination, error)

	// HostID identifies this proxy host for LatestRoute, HostIdRoute and
	// KeySplitRoute. Zero means DefaultHostID(). (mcrouter hashes the first
	// non-loopback IP address instead; see DefaultHostID.)
	HostID uint32

	// Rand returns a uniformly random integer in [0, n) for RandomRoute and
	// the shadows' requests_fraction. It must be safe for concurrent use.
	// Nil means math/rand/v2.IntN.
	Rand func(n int) int

	// Now is the clock of MigrateRoute and of the token buckets of
	// RateLimitRoute and PoolRoute rates. Nil means time.Now.
	Now func() time.Time

	// Go runs background work: AllAsyncRoute children, the stragglers of
	// AllInitialRoute/AllFastestRoute/AllMajorityRoute, shadows, WarmUp and
	// L1L2 fills, broadcast copies. When Go is set, the fan-out routes also
	// send their synchronous children one after another, in child order,
	// so that a Go that runs f inline makes routing sequential and
	// deterministic. Nil means children are sent in parallel, each on a
	// goroutine of its own started without allocating. A request whose
	// context carries a Trace is always routed sequentially, with
	// background work run inline.
	Go func(f func())

	// DefaultRoutePrefix is mcrouter's -R: the routing prefix a config's
	// `route` is registered under and that a `routes` table must contain.
	// Empty means "/././".
	DefaultRoutePrefix string

	// SendInvalidRouteToDefault routes keys with an unknown routing prefix
	// to the default route instead of answering an error
	// (--send-invalid-route-to-default).
	SendInvalidRouteToDefault bool

	// MissOnGetErrors turns the errors of get-like requests (get, gets,
	// gat, gats, metaget, lease-get) into misses at the root, as mcrouter
	// did by default until 2025 (--miss-on-get-errors). By default, as in
	// today's mcrouter, the error is returned, so that a client can tell
	// "the server failed" from "the key is absent". Errors of routing (no
	// route for the key's prefix) are returned either way.
	MissOnGetErrors bool

	// MissOnArithErrors turns the errors of incr and decr into NOT_FOUND at
	// the root, as mcrouter did until 2025 (--miss-on-arith-errors). By
	// default the error is returned.
	MissOnArithErrors bool

	// GroupRemoteErrors turns every error reply into remote_error
	// (--group-remote-errors).
	GroupRemoteErrors bool

	// EnableFlushCmd lets flush_all reach every server of every pool
	// (--enable-flush-cmd); by default it is answered with an error.
	EnableFlushCmd bool

	// AsynclogDisable disables the delete asynclog of PoolRoutes
	// (--asynclog-disable): failed deletes are then returned as errors.
	AsynclogDisable bool

	// Logger receives LoggingRoute records (level Info) and ErrorRoute
	// replies (level Debug, unless the route disables logging). Nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultHostID returns the host id used when Options.HostID is zero:
// SpookyHash32 (seed 0) of os.Hostname(), or 0 if the host name is unknown.
// mcrouter derives its host id from the first non-loopback IP address
// instead; pass Options.HostID to reproduce a specific host's choices.
func DefaultHostID() uint32 {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return 0
	}
	return hash.Spooky32([]byte(h), 0)
}

// Stats are the graph's counters since Build, named after mcrouter's stats.
type Stats struct {
	// AsynclogRequests counts deletes that failed with a failover-class
	// error under a PoolRoute and were answered NOT_FOUND
	// (asynclog_requests). mcroute does not spool them to disk.
	AsynclogRequests uint64
	// DevNullRequests counts requests answered by DevNullRoute.
	DevNullRequests uint64
	// FailoverAll counts requests a failover route sent to a second child.
	FailoverAll uint64
	// FailoverAllFailed counts failovers where every tried child failed.
	FailoverAllFailed uint64
	// FailoverRateLimited counts failovers refused by failover_limit.
	FailoverRateLimited uint64
	// RateLimited counts requests refused by RateLimitRoute or PoolRoute
	// rates.
	RateLimited uint64
	// ShadowRequests counts requests copied to a shadow.
	ShadowRequests uint64
	// Unsupported counts requests that reached a route kind mcroute does
	// not execute.
	Unsupported uint64
	// Background counts background sends started.
	Background uint64
}

type counters struct {
	asynclog, devNull, failoverAll, failoverAllFailed, failoverRateLimited,
	rateLimited, shadow, unsupported, background atomic.Uint64
}

// Graph is an executable route graph: mcrouter's RootRoute over the route
// trees of a config. It is safe for concurrent use.
type Graph struct {
	s        *shared
	root     *root
	warnings diag.List
	dests    []*destHandler
}

// Route routes req as mcrouter's root does and fills rep: it picks the route
// tree by the key's routing prefix (the default route when there is none; an
// exact alias; /*/*/ and /region/*/ broadcast to several trees, the first
// answering and the others in the background; an unknown prefix is answered
// with the error "RootRoute: No rh found" unless SendInvalidRouteToDefault),
// then the policy by the longest matching key prefix (PrefixSelectorRoute).
// Get-like and arithmetic errors become misses unless disabled in Options.
//
// If ctx carries a Trace (WithTrace), the path taken and every destination
// reached are recorded in it.
func (g *Graph) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if _, ok := ctx.(*traceCtx); !ok {
		if t, ok := ctx.Value(traceKey{}).(*Trace); ok && t != nil {
			ctx = &traceCtx{Context: ctx, t: t}
		}
	}
	g.root.Route(ctx, req, rep)
}

// Handles returns mcrouter's route_handles(op,key) text: the handles the
// request would traverse, one per line, indented one space per level,
// starting at "root". Nothing is sent.
func (g *Graph) Handles(op mc.Op, key string) string {
	req := mc.Request{Op: op, Key: []byte(key)}
	w := &handlesWriter{}
	g.root.describe(w, &req)
	return w.String()
}

// Warnings returns the non-fatal diagnostics of Build (route kinds and
// options mcroute does not execute, ...), sorted.
func (g *Graph) Warnings() diag.List { return append(diag.List(nil), g.warnings...) }

// Destinations returns every destination of the graph, pool by pool in name
// order, servers in order.
func (g *Graph) Destinations() []DestInfo {
	out := make([]DestInfo, len(g.dests))
	for i, d := range g.dests {
		out[i] = *d.info
	}
	return out
}

// Stats returns a snapshot of the graph's counters.
func (g *Graph) Stats() Stats {
	c := &g.s.stats
	return Stats{
		AsynclogRequests:    c.asynclog.Load(),
		DevNullRequests:     c.devNull.Load(),
		FailoverAll:         c.failoverAll.Load(),
		FailoverAllFailed:   c.failoverAllFailed.Load(),
		FailoverRateLimited: c.failoverRateLimited.Load(),
		RateLimited:         c.rateLimited.Load(),
		ShadowRequests:      c.shadow.Load(),
		Unsupported:         c.unsupported.Load(),
		Background:          c.background.Load(),
	}
}

// Wait blocks until the background work started so far (and any started
// while waiting) has finished. Tests call it before inspecting fakes.
func (g *Graph) Wait() { g.s.wait() }

// Close waits for background work to finish; afterwards background work
// runs inline. Destinations are owned by the caller and are not closed. The
// graph may still route requests after Close (a reloading proxy drains in
// flight requests through the old graph).
func (g *Graph) Close() {
	g.s.closed.Store(true)
	g.s.wait()
}

var _ Handler = (*Graph)(nil)

// shared is the state every handler of one graph uses.
type shared struct {
	opts     Options
	hostID   uint32
	rand     func(int) int
	now      func() time.Time
	goFn     func(func())
	log      *slog.Logger
	stats    counters
	inflight atomic.Int64
	closed   atomic.Bool
}

func newShared(opts Options) *shared {
	s := &shared{opts: opts, hostID: opts.HostID, rand: opts.Rand, now: opts.Now, goFn: opts.Go, log: opts.Logger}
	if s.hostID == 0 {
		s.hostID = DefaultHostID()
	}
	if s.rand == nil {
		s.rand = rand.IntN
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// seconds returns the clock as float seconds, for token buckets.
func (s *shared) seconds() float64 {
	return float64(s.now().UnixNano()) / 1e9
}

func (s *shared) wait() {
	for s.inflight.Load() > 0 {
		time.Sleep(200 * time.Microsecond)
	}
}

// errorReply makes rep an error reply.
func errorReply(rep *mc.Reply, res mc.Result, msg string) {
	rep.Reset()
	rep.Result = res
	rep.Message = msg
}

// defaultReply makes rep mcrouter's default reply for op (NullRoute's).
func defaultReply(rep *mc.Reply, op mc.Op) {
	rep.Reset()
	rep.Result = op.DefaultResult()
}
