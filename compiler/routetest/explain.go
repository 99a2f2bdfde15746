package routetest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/route"
	"github.com/mcroute/mcroute/schema"
)

// DefaultHostID is the host id explain and test use when none is given, so
// that LatestRoute, HostIdRoute and KeySplitRoute make the same choices on
// every machine. (mcroute serve uses a hash of the host name instead.)
const DefaultHostID = 1

// ExplainOptions configure NewExplainer. The zero value is usable.
type ExplainOptions struct {
	// HostID is the proxy host id for LatestRoute, HostIdRoute and
	// KeySplitRoute. Zero means DefaultHostID.
	HostID uint32
	// RoutePrefix is the default routing prefix (mcrouter's -R); empty
	// means "/././".
	RoutePrefix string
}

// Explainer routes requests through a config's route graph in a simulated
// world of fake servers, recording the path each request takes and every
// destination it reaches. Nothing touches the network.
//
// By default every server is healthy and holds every key: gets hit (the
// value is the server's address), updates store, deletes delete. A Request
// can mark servers down (they answer connect_error, as an unreachable
// server does) or missing the key (get-like requests and deletes answer
// notfound).
//
// Routing is deterministic: requests are routed sequentially, with
// background work (AllAsyncRoute, the rest of AllFastestRoute and
// AllInitialRoute, shadows, WarmUpRoute fills) done inline and marked as
// background; RandomRoute and shadows' requests_fraction draw from a
// pseudo-random generator (PCG) seeded with the FNV-1a hash of the request's
// key, so one key always takes the same random choices and different keys
// spread over the children.
//
// An Explainer is not safe for concurrent use.
type Explainer struct {
	g       *route.Graph
	fake    *route.Fake
	rnd     keyRand
	servers []Server
	known   map[string]bool
}

// Server is one server of a config's pools, as explain and test name it.
type Server struct {
	// Pool and Index locate the server.
	Pool  string
	Index int
	// Addr is the address as written in the pool; HostPort is its
	// host:port (or unix:PATH).
	Addr     string
	HostPort string
}

// String returns "pool[index] host:port".
func (s Server) String() string {
	return s.Pool + "[" + strconv.Itoa(s.Index) + "] " + s.HostPort
}

// NewExplainer builds cfg's route graph over fake servers. Build problems
// are returned as a diag.List.
func NewExplainer(cfg *schema.Config, opts ExplainOptions) (*Explainer, error) {
	if cfg == nil {
		return nil, errors.New("routetest: nil config")
	}
	x := &Explainer{fake: route.NewFake(), known: map[string]bool{}}
	hostID := opts.HostID
	if hostID == 0 {
		hostID = DefaultHostID
	}
	g, err := route.Build(cfg, route.Options{
		Dest:               x.fake.Dest,
		HostID:             hostID,
		Rand:               x.rnd.IntN,
		Go:                 func(f func()) { f() },
		DefaultRoutePrefix: opts.RoutePrefix,
	})
	if err != nil {
		return nil, err
	}
	x.g = g
	for _, name := range cfg.PoolNames() {
		for i, s := range cfg.Pools[name].Servers {
			if s.Addr == "" {
				continue
			}
			sv := Server{Pool: name, Index: i, Addr: s.Addr, HostPort: s.Addr}
			if a, err := schema.ParseAddr(s.Addr); err == nil {
				sv.HostPort = a.HostPort()
			}
			x.servers = append(x.servers, sv)
			x.known[sv.Addr] = true
			x.known[sv.HostPort] = true
			x.known[sv.Pool+"["+strconv.Itoa(i)+"]"] = true
		}
	}
	return x, nil
}

// Warnings returns the non-fatal diagnostics of building the graph.
func (x *Explainer) Warnings() diag.List { return x.g.Warnings() }

// Servers returns the servers of the config's pools, pool by pool in name
// order.
func (x *Explainer) Servers() []Server { return append([]Server(nil), x.servers...) }

// Known reports whether name names a server of the config: its address as
// written, its host:port, or "pool[index]".
func (x *Explainer) Known(name string) bool { return x.known[name] }

// UnknownServerError reports server names that are not in the config.
type UnknownServerError struct {
	// Flag says where the names come from ("--down", "down").
	Flag string
	// Names are the unknown names.
	Names []string
	// Known lists the config's servers.
	Known []Server
}

func (e *UnknownServerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: unknown server", e.Flag)
	if len(e.Names) > 1 {
		b.WriteString("s")
	}
	for i, n := range e.Names {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + strconv.Quote(n))
	}
	b.WriteString(" (name a server by its address as written, host:port, or pool[index]); known servers:")
	if len(e.Known) == 0 {
		b.WriteString(" none")
	}
	for _, s := range e.Known {
		b.WriteString("\n  " + s.String())
	}
	return b.String()
}

// CheckServers returns an *UnknownServerError if any of names is not a
// server of the config; flag says where the names come from.
func (x *Explainer) CheckServers(flag string, names []string) error {
	var bad []string
	for _, n := range names {
		if !x.known[n] {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &UnknownServerError{Flag: flag, Names: bad, Known: x.Servers()}
}

// Request is one request to explain.
type Request struct {
	// Op is the operation, Key the full key (with any routing prefix).
	Op  mc.Op
	Key string
	// Down lists servers that fail (connect_error); Miss lists servers
	// that do not hold the key. Servers are named as CheckServers accepts.
	Down, Miss []string
}

// Explanation is how one request was routed. Its JSON form is what
// mcroute explain --format json prints.
type Explanation struct {
	Op   string   `json:"op"`
	Key  string   `json:"key"`
	Down []string `json:"down,omitempty"`
	Miss []string `json:"miss,omitempty"`
	// Destinations are the servers reached, in the order the request
	// reached them.
	Destinations []Destination `json:"destinations"`
	// Path is the route taken, one line per handle decision or
	// destination, indented two spaces per level; background work is
	// prefixed with "& ".
	Path []string `json:"path"`
	// Reply is the result the client gets, Message its error text if any.
	Reply   string `json:"reply"`
	Message string `json:"message,omitempty"`
	// Handles is mcrouter's route_handles(op,key) text, one line per
	// handle, when asked for.
	Handles []string `json:"handles,omitempty"`
}

// Destination is one server a request reached.
type Destination struct {
	Pool  string `json:"pool"`
	Index int    `json:"index"`
	// Server is the server's host:port (unix:PATH), as
	// __mcrouter__.route(op,key) prints it.
	Server string `json:"server"`
	// Op is set when the server received another operation than the
	// request's (WarmUpRoute's add, for example).
	Op string `json:"op,omitempty"`
	// Key is set when the server received another key than the request's
	// (ModifyKeyRoute, KeySplitRoute); the routing prefix is not part of
	// the comparison.
	Key string `json:"key,omitempty"`
	// Background is set for work done regardless of (or after) the reply.
	Background bool `json:"background,omitempty"`
	// Result is the server's answer.
	Result string `json:"result"`
}

// String returns the destination as test files write it:
// "pool[index] host:port", followed by the operation when it differs from
// the request's and by "(background)" for background sends.
func (d Destination) String() string { return d.format(true) }

// Short is String without the server address: "pool[index]".
func (d Destination) Short() string { return d.format(false) }

func (d Destination) format(addr bool) string {
	var b strings.Builder
	b.WriteString(d.Pool)
	b.WriteByte('[')
	b.WriteString(strconv.Itoa(d.Index))
	b.WriteByte(']')
	if addr {
		b.WriteString(" " + d.Server)
	}
	if d.Op != "" {
		b.WriteString(" " + d.Op)
	}
	if d.Background {
		b.WriteString(" (background)")
	}
	return b.String()
}

// Explain routes one request and reports how.
func (x *Explainer) Explain(ctx context.Context, r Request) (*Explanation, error) {
	if !r.Op.Routable() {
		return nil, fmt.Errorf("routetest: operation %q is not routable", r.Op)
	}
	if err := x.CheckServers("down", r.Down); err != nil {
		return nil, err
	}
	if err := x.CheckServers("miss", r.Miss); err != nil {
		return nil, err
	}
	f := x.fake
	f.Reset()
	clear(f.Down)
	clear(f.Miss)
	for _, s := range r.Down {
		f.Down[s] = true
	}
	for _, s := range r.Miss {
		f.Miss[s] = true
	}
	x.rnd.seed(r.Key)
	tr := &route.Trace{}
	req := &mc.Request{Op: r.Op, Key: []byte(r.Key)}
	if r.Op == mc.OpIncr || r.Op == mc.OpDecr {
		req.Delta = 1
	}
	var rep mc.Reply
	x.g.Route(route.WithTrace(ctx, tr), req, &rep)
	x.g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	prefix, _ := hash.RoutingKey([]byte(r.Key))
	bare := r.Key[len(prefix):]
	e := &Explanation{
		Op: r.Op.String(), Key: r.Key,
		Down: append([]string(nil), r.Down...), Miss: append([]string(nil), r.Miss...),
		Destinations: []Destination{}, Path: []string{},
		Reply: rep.Result.String(), Message: rep.Message,
	}
	for _, ev := range tr.Events() {
		line := strings.Repeat("  ", ev.Depth)
		if ev.Background {
			line += "& "
		}
		e.Path = append(e.Path, line+ev.Label)
		h := ev.Hop
		if h == nil {
			continue
		}
		d := Destination{Pool: h.Pool, Index: h.Index, Server: h.Addr, Background: h.Background || ev.Background, Result: h.Result.String()}
		if h.Op != r.Op {
			d.Op = h.Op.String()
		}
		if h.Key != r.Key && h.Key != bare {
			d.Key = h.Key
		}
		e.Destinations = append(e.Destinations, d)
	}
	return e, nil
}

// Handles returns mcrouter's route_handles(op,key) text, one line per
// handle.
func (x *Explainer) Handles(op mc.Op, key string) []string {
	return strings.Split(strings.TrimSuffix(x.g.Handles(op, key), "\n"), "\n")
}

// Close releases the graph.
func (x *Explainer) Close() { x.g.Close() }

// keyRand is RandomRoute's source in explain and test: a PCG generator
// reseeded from each request's key.
type keyRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (k *keyRand) seed(key string) {
	h := fnv.New64a()
	h.Write([]byte(key))
	s := h.Sum64()
	k.mu.Lock()
	k.r = rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	k.mu.Unlock()
}

// IntN returns a pseudo-random number in [0, n).
func (k *keyRand) IntN(n int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.r == nil {
		k.r = rand.New(rand.NewPCG(0, 0x9e3779b97f4a7c15))
	}
	return k.r.IntN(n)
}

// ParseOp parses a routable operation name, with an error listing the
// valid ones.
func ParseOp(name string) (mc.Op, error) {
	if op, ok := mc.ParseOp(name); ok {
		return op, nil
	}
	return mc.OpUnknown, fmt.Errorf("unknown operation %q; valid operations: %s", name, strings.Join(opNames(), ", "))
}

func opNames() []string {
	var out []string
	for _, o := range mc.RoutableOps {
		out = append(out, o.String())
	}
	return out
}

// resultNames lists the reply names test files may expect, sorted.
func resultNames() []string {
	var out []string
	for _, r := range mc.AllResults() {
		out = append(out, r.String())
	}
	sort.Strings(out)
	return out
}
