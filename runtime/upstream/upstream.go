// Package upstream holds the proxy's connections to memcached servers.
//
// Each destination (a server address with its protocol and timeouts) has a
// small, fixed number of connections shared by every client of the proxy:
// requests from all clients are pipelined on them and replies are matched
// in order, so N clients × M servers become M connections. A destination
// tracks failures as mcrouter does: a connect error marks it hard TKO at
// once, a run of timeouts marks it soft TKO, probes with back-off bring it
// back, and while it is TKO every request is answered at once with a tko
// result ("SERVER_ERROR Server unavailable. Reason: mc_res_connect_error",
// naming the result that marked it down, as mcrouter does), which failover
// routes treat as a failover error. A request not answered within the
// destination's timeout gets a timeout result ("SERVER_ERROR Reply
// timeout", mcrouter's words).
//
// Destinations live in a Registry that shares them between route graphs, so
// a config reload keeps the connections of unchanged servers.
package upstream

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mcroute/mcroute/internal/sockio"
	"github.com/mcroute/mcroute/runtime/mc"
)

// Defaults, as mcrouter's command-line defaults.
const (
	// DefaultTimeout is the per-request timeout when a pool sets none
	// (mcrouter's --server-timeout).
	DefaultTimeout = time.Second
	// DefaultTimeoutsUntilTKO is the number of consecutive timeouts that
	// mark a destination soft TKO.
	DefaultTimeoutsUntilTKO = 3
	// DefaultProbeInitial is the delay before the first probe of a TKO
	// destination; later probes back off by 1.5× (+5–50 % jitter).
	DefaultProbeInitial = 10 * time.Second
	// DefaultProbeMax caps the probe delay.
	DefaultProbeMax = 60 * time.Second
	// DefaultConns is the number of connections per destination.
	DefaultConns = 1
)

// Options configures a Registry. The zero value uses the defaults above.
type Options struct {
	// Conns is the number of connections per destination; 0 means
	// DefaultConns. Requests are spread over them round-robin.
	Conns int
	// TimeoutsUntilTKO is the number of consecutive timeouts that mark a
	// destination soft TKO; 0 means DefaultTimeoutsUntilTKO.
	TimeoutsUntilTKO int
	// ProbeInitial and ProbeMax bound the probe back-off; 0 means the
	// defaults.
	ProbeInitial, ProbeMax time.Duration
	// DisableTKO turns failure tracking off: requests always try to
	// connect.
	DisableTKO bool
	// MaxValueSize is the largest value accepted in a reply; 0 means the
	// protocol reader's default (64 MiB).
	MaxValueSize int
	// Dial opens connections; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger receives state changes (TKO, recovery); nil discards them.
	Logger *slog.Logger
	// OnState, if set, is called after a destination changes state, for
	// metrics. It must not block.
	OnState func(d *Dest, from, to State)
}

func (o *Options) conns() int {
	if o.Conns > 0 {
		return o.Conns
	}
	return DefaultConns
}

func (o *Options) timeoutsUntilTKO() int {
	if o.TimeoutsUntilTKO > 0 {
		return o.TimeoutsUntilTKO
	}
	return DefaultTimeoutsUntilTKO
}

func (o *Options) probeInitial() time.Duration {
	if o.ProbeInitial > 0 {
		return o.ProbeInitial
	}
	return DefaultProbeInitial
}

func (o *Options) probeMax() time.Duration {
	if o.ProbeMax > 0 {
		return o.ProbeMax
	}
	return DefaultProbeMax
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Key identifies a destination: two pool servers with the same Key share
// connections. As in mcrouter, the timeout is part of it, because one text
// protocol connection cannot mix timeouts.
type Key struct {
	// Network is "tcp" or "unix"; Addr the address to dial.
	Network, Addr string
	// Timeout is the per-request timeout; ConnectTimeout the dial timeout.
	Timeout, ConnectTimeout time.Duration
}

// String returns the key as mcrouter's stats servers prints it:
// addr:ascii:plain:notcompressed-<timeout ms>.
func (k Key) String() string {
	return fmt.Sprintf("%s:ascii:plain:notcompressed-%d", k.Addr, k.Timeout.Milliseconds())
}

// Registry owns the destinations of a proxy and shares them between route
// graphs. It is safe for concurrent use.
type Registry struct {
	opts Options

	// sweeper checks connections whose reader waits after a skipped
	// read (see conn.rawReadLoop); Close stops it.
	sweeper *sockio.Sweeper

	mu     sync.Mutex
	dests  map[Key]*Dest
	closed bool
}

// NewRegistry returns an empty registry.
func NewRegistry(opts Options) *Registry {
	return &Registry{opts: opts, dests: map[Key]*Dest{}, sweeper: sockio.NewSweeper(0)}
}

// Acquire returns the destination for k, creating it on first use, and
// takes a reference to it: every Acquire must be paired with a Release.
func (r *Registry) Acquire(k Key) *Dest {
	if k.Timeout <= 0 {
		k.Timeout = DefaultTimeout
	}
	if k.ConnectTimeout <= 0 {
		k.ConnectTimeout = k.Timeout
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.dests[k]
	if d == nil {
		d = newDest(r, k)
		r.dests[k] = d
	}
	d.refs++
	return d
}

// Release drops a reference taken by Acquire; the last one closes the
// destination's connections (in-flight requests still complete or fail).
func (r *Registry) Release(d *Dest) {
	r.mu.Lock()
	d.refs--
	last := d.refs <= 0
	if last && r.dests[d.key] == d {
		delete(r.dests, d.key)
	}
	r.mu.Unlock()
	if last {
		d.close()
	}
}

// Dests returns the live destinations, in no particular order.
func (r *Registry) Dests() []*Dest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Dest, 0, len(r.dests))
	for _, d := range r.dests {
		out = append(out, d)
	}
	return out
}

// Close closes every destination. Requests sent afterwards fail.
func (r *Registry) Close() {
	r.mu.Lock()
	ds := r.dests
	r.dests = map[Key]*Dest{}
	r.closed = true
	r.mu.Unlock()
	for _, d := range ds {
		d.close()
	}
	r.sweeper.Stop()
}

// State is a destination's health, as mcrouter reports it.
type State uint8

// The states. A new destination has not connected yet; an up one has; a
// TKO one answers with tko until a probe succeeds; a closed one was
// released.
const (
	StateNew State = iota
	StateUp
	StateTKO
	StateClosed
)

// String returns "new", "up", "tko" or "closed".
func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateTKO:
		return "tko"
	case StateClosed:
		return "closed"
	}
	return "new"
}

// errResult maps a transport failure to the reply a request gets.
func errResult(res mc.Result, msg string, rep *mc.Reply) {
	rep.Reset()
	rep.Result = res
	rep.Message = msg
}
