// Package schema is the shape of a routing policy in all its forms: the CUE
// definitions of the policy language (embedded .cue files), the JSON Schema of
// mcrouter configs (embedded), and the Go types of the route graph that every
// front end produces and every back end consumes.
//
// The Go types are plain data: a Config holds pools, named handles and route
// trees; each route kind is one struct implementing [Route], each with the
// source position it came from. The compiler (CUE policies) and the mcrouter
// JSON reader both build a Config; the mcrouter JSON writer, the linter, the
// route graph runtime and the simulator read one. Nothing here imports CUE.
package schema

import (
	"fmt"
	"maps"
	"slices"
)

// DefaultRoutePrefix is the routing prefix that a config's `route` is
// registered under and that a `routes` table must contain, as mcrouter's -R
// default.
const DefaultRoutePrefix = "/././"

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes. The zero Pos means "unknown".
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// IsValid reports whether p names a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats p as file:line:col, omitting what is unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Config is a complete routing policy: the route graph.
//
// Exactly one of Route and Routes is set. Route is the tree registered under
// the default routing prefix; Routes is mcrouter's `routes` table of
// routing-prefix aliases.
type Config struct {
	// Pools by name. Inline pool definitions found in routes are hoisted
	// here, with Inline set.
	Pools map[string]*Pool
	// NamedHandles holds every route handle defined once and referenced by
	// name (through [Ref]), from `named_handles` or from any route object
	// that carries a `name`.
	NamedHandles map[string]Route
	// Route is the single route tree (mcrouter's `route`).
	Route Route
	// Routes is the routing-prefix table (mcrouter's `routes`), in source
	// order.
	Routes []*RouteEntry
	// RoutingOptions is mcrouter's `routing_options`, passed through.
	RoutingOptions map[string]any
	// Pos is the position of the config's root.
	Pos Pos
}

// RouteEntry is one entry of a `routes` table: a route tree and the routing
// prefixes (of the form /region/cluster/) that select it.
type RouteEntry struct {
	Aliases []string
	Route   Route
	Pos     Pos
}

// PoolNames returns the names of c's pools, sorted.
func (c *Config) PoolNames() []string { return slices.Sorted(maps.Keys(c.Pools)) }

// HandleNames returns the names of c's named handles, sorted.
func (c *Config) HandleNames() []string { return slices.Sorted(maps.Keys(c.NamedHandles)) }

// Entries returns the route table in a uniform shape: for a config with a
// single Route, one entry whose only alias is DefaultRoutePrefix.
func (c *Config) Entries() []*RouteEntry {
	if c.Route != nil {
		return []*RouteEntry{{Aliases: []string{DefaultRoutePrefix}, Route: c.Route, Pos: c.Route.Position()}}
	}
	return c.Routes
}

// Pool is a named set of memcached servers and their connection settings.
// Zero values mean "mcrouter's default".
type Pool struct {
	Name    string
	Servers []Server
	// Protocol is "ascii" (the default when empty), "caret", "thrift" or
	// "xdp"; mcroute serve speaks ascii only.
	Protocol string
	// ServerTimeoutMs is the per-request timeout in milliseconds; 0 means the
	// proxy default (1000).
	ServerTimeoutMs int
	// ConnectTimeoutMs is the connect timeout; 0 means ServerTimeoutMs.
	ConnectTimeoutMs int
	// KeepRoutingPrefix keeps the /region/cluster/ prefix on keys sent to
	// this pool's servers (default false: stripped).
	KeepRoutingPrefix bool
	// Weights, one per server in [0,1], make PoolRoute hash with
	// WeightedCh3.
	Weights []float64
	// Tags are endpoint tags for rendezvous hashing.
	Tags []string
	// ErrorOnEmpty makes an empty pool answer with an error (nil: true)
	// rather than as NullRoute.
	ErrorOnEmpty *bool
	// Region and Cluster only select mcrouter's cross-region/cluster
	// timeout overrides.
	Region, Cluster string
	// Inherit names the pool this one copied missing fields from; the
	// fields are already resolved.
	Inherit string
	// Inline is set for a pool defined inside a route (PoolRoute's `pool`
	// object or a `Pool` object) rather than under `pools`.
	Inline bool
	// FailureDomains, one per server when set, are the servers' failure
	// domains, which DeterministicOrderPolicy's enable_failure_domains
	// reads: numbers, or names that mcrouter hashes to numbers.
	FailureDomains []FailureDomain
	// PortOverride, when not 0, is the port of every server (addresses may
	// then omit their port).
	PortOverride int
	// Discovery, when set, names a DNS name whose records give the servers;
	// Servers then holds the last resolution (possibly empty).
	Discovery *Discovery
	// Extra holds options mcroute passes through without interpreting
	// (qos, security_mech, ...), keyed by their mcrouter names.
	Extra map[string]any
	Pos   Pos
}

// ErrorOnEmptyOrDefault returns ErrorOnEmpty, defaulting to true.
func (p *Pool) ErrorOnEmptyOrDefault() bool { return p.ErrorOnEmpty == nil || *p.ErrorOnEmpty }

// FailureDomain is one entry of a pool's failure_domains: a number, or a
// name (IsName) that mcrouter hashes to one.
type FailureDomain struct {
	Num    int64
	Name   string
	IsName bool
}

// String returns the domain as written.
func (f FailureDomain) String() string {
	if f.IsName {
		return f.Name
	}
	return fmt.Sprint(f.Num)
}

// Discovery describes servers found through DNS.
type Discovery struct {
	// Name is the DNS name: A/AAAA records are used with Port; an SRV name
	// (starting with "_") gives ports itself.
	Name string
	// Port for A/AAAA answers.
	Port int
	// IntervalMs is the re-resolution interval; 0 means 30000.
	IntervalMs int
}

// Server is one entry of a pool's server list: an address string, or a route
// handle (mcrouter allows objects such as {"type":"ErrorRoute"}).
type Server struct {
	// Addr is the address as written: host:port, [v6]:port or unix:PATH,
	// optionally followed by :protocol[:security[:compression]].
	Addr string
	// Route is set instead of Addr when the entry is a route handle.
	Route Route
	Pos   Pos
}

// String returns the server address, or a description of its route.
func (s Server) String() string {
	if s.Route != nil {
		return "(" + s.Route.Kind() + ")"
	}
	return s.Addr
}
