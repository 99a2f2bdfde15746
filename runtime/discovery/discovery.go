// Package discovery fills the server lists of pools that name a DNS name
// instead of listing servers (schema.Pool.Discovery): a Kubernetes headless
// Service, an SRV record, or any name with A/AAAA records. Names are
// re-resolved on an interval; when the membership changes, the pool is
// rebuilt so that as few keys as possible move.
//
// Minimal key movement: a pool keeps a list of slots. A server that
// disappears leaves its slot empty (an error destination with weight 0, so
// WeightedCh3 sends its keys to the other servers, exactly as if it were
// marked down, and no other key moves); a new server takes the first empty
// slot, or a new slot at the end (consistent hashing moves only the keys
// that belong to it). While every slot is filled the pool has no weights
// and hashes exactly like a static pool with the same server list, in slot
// order.
package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcroute/mcroute/schema"
)

// DefaultInterval is the re-resolution interval of a pool that sets none.
const DefaultInterval = 30 * time.Second

// Resolver is the part of *net.Resolver that discovery uses.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// Options configures a Discoverer. The zero value uses net.DefaultResolver.
type Options struct {
	// Resolver answers DNS queries; nil means net.DefaultResolver.
	Resolver Resolver
	// Logger receives membership changes and resolution failures.
	Logger *slog.Logger
	// OnChange, if set, is called after a pool's membership changed.
	OnChange func(pool string, added, removed []string)
	// Timeout bounds one resolution; 0 means 5 seconds.
	Timeout time.Duration
}

// Discoverer keeps the slots of every discovery pool across resolutions
// and config reloads. It is safe for concurrent use.
type Discoverer struct {
	opts Options

	mu    sync.Mutex
	slots map[string][]string // pool name → server per slot ("" = empty)
}

// New returns a Discoverer.
func New(opts Options) *Discoverer {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	return &Discoverer{opts: opts, slots: map[string][]string{}}
}

// Pools returns the names of cfg's discovery pools, sorted.
func Pools(cfg *schema.Config) []string {
	var out []string
	for name, p := range cfg.Pools {
		if p.Discovery != nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Interval returns the shortest re-resolution interval of cfg's discovery
// pools, or 0 if it has none.
func Interval(cfg *schema.Config) time.Duration {
	var iv time.Duration
	for _, p := range cfg.Pools {
		if p.Discovery == nil {
			continue
		}
		d := DefaultInterval
		if p.Discovery.IntervalMs > 0 {
			d = time.Duration(p.Discovery.IntervalMs) * time.Millisecond
		}
		if iv == 0 || d < iv {
			iv = d
		}
	}
	return iv
}

// Resolve looks up one discovery spec and returns host:port addresses,
// sorted in natural order (so StatefulSet pods come in ordinal order). A
// name starting with "_" is an SRV name (_service._proto.name); any other
// name is resolved to A/AAAA records and combined with Port.
func (d *Discoverer) Resolve(ctx context.Context, disc *schema.Discovery) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	var out []string
	if strings.HasPrefix(disc.Name, "_") {
		_, srvs, err := d.opts.Resolver.LookupSRV(ctx, "", "", disc.Name)
		if err != nil {
			return nil, fmt.Errorf("discovery: SRV %s: %w", disc.Name, err)
		}
		for _, s := range srvs {
			out = append(out, net.JoinHostPort(strings.TrimSuffix(s.Target, "."), strconv.Itoa(int(s.Port))))
		}
	} else {
		if disc.Port <= 0 {
			return nil, fmt.Errorf("discovery: %s: a port is required for A/AAAA names", disc.Name)
		}
		addrs, err := d.opts.Resolver.LookupHost(ctx, disc.Name)
		if err != nil {
			return nil, fmt.Errorf("discovery: %s: %w", disc.Name, err)
		}
		for _, a := range addrs {
			out = append(out, net.JoinHostPort(a, strconv.Itoa(disc.Port)))
		}
	}
	out = dedupe(out)
	sort.Slice(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out, nil
}

// Refresh resolves every discovery pool of cfg and updates the slots. It
// reports whether any membership changed. A pool that cannot be resolved
// keeps its previous servers (the error is returned after trying every
// pool).
func (d *Discoverer) Refresh(ctx context.Context, cfg *schema.Config) (bool, error) {
	changed := false
	var firstErr error
	for _, name := range Pools(cfg) {
		addrs, err := d.Resolve(ctx, cfg.Pools[name].Discovery)
		if err != nil {
			d.opts.Logger.Warn("discovery failed; keeping the previous servers", "pool", name, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if added, removed := d.update(name, addrs); len(added)+len(removed) > 0 {
			changed = true
			d.opts.Logger.Info("pool membership changed", "pool", name, "added", added, "removed", removed, "servers", len(addrs))
			if d.opts.OnChange != nil {
				d.opts.OnChange(name, added, removed)
			}
		}
	}
	return changed, firstErr
}

// update merges a resolution into the pool's slots.
func (d *Discoverer) update(pool string, addrs []string) (added, removed []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	slots := d.slots[pool]
	live := map[string]bool{}
	for _, a := range addrs {
		live[a] = true
	}
	present := map[string]bool{}
	for i, s := range slots {
		if s == "" {
			continue
		}
		if !live[s] {
			removed = append(removed, s)
			slots[i] = ""
			continue
		}
		present[s] = true
	}
	for _, a := range addrs {
		if present[a] {
			continue
		}
		added = append(added, a)
		placed := false
		for i, s := range slots {
			if s == "" {
				slots[i] = a
				placed = true
				break
			}
		}
		if !placed {
			slots = append(slots, a)
		}
	}
	d.slots[pool] = slots
	return added, removed
}

// Apply returns a copy of cfg whose discovery pools list their current
// servers (slot order; empty slots as error destinations with weight 0).
// Pools never resolved have no servers yet. cfg itself is not modified.
func (d *Discoverer) Apply(cfg *schema.Config) *schema.Config {
	names := Pools(cfg)
	if len(names) == 0 {
		return cfg
	}
	out := *cfg
	out.Pools = make(map[string]*schema.Pool, len(cfg.Pools))
	for k, v := range cfg.Pools {
		out.Pools[k] = v
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, name := range names {
		p := *cfg.Pools[name]
		slots := d.slots[name]
		p.Servers = make([]schema.Server, len(slots))
		p.Weights = nil
		empty := false
		for _, s := range slots {
			if s == "" {
				empty = true
			}
		}
		if empty {
			p.Weights = make([]float64, len(slots))
		}
		for i, s := range slots {
			if s == "" {
				p.Servers[i] = schema.Server{Route: &schema.ErrorRoute{Response: "discovery: server removed from pool " + name}, Pos: p.Pos}
				continue
			}
			p.Servers[i] = schema.Server{Addr: s, Pos: p.Pos}
			if empty {
				p.Weights[i] = 1
			}
		}
		out.Pools[name] = &p
	}
	return &out
}

// Run re-resolves the discovery pools of the config current() returns,
// every Interval, until ctx is done; after a membership change it calls
// update with the config to serve (Apply of the current config).
func (d *Discoverer) Run(ctx context.Context, current func() *schema.Config, update func(*schema.Config)) {
	for {
		cfg := current()
		iv := Interval(cfg)
		if iv == 0 {
			iv = DefaultInterval
		}
		t := time.NewTimer(iv)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if len(Pools(cfg)) == 0 {
			continue
		}
		if changed, _ := d.Refresh(ctx, cfg); changed {
			update(d.Apply(cfg))
		}
	}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// naturalLess compares strings with digit runs compared as numbers, so that
// "pod-2" sorts before "pod-10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := a[0], b[0]
		if isDigit(ca) && isDigit(cb) {
			na, ra := digits(a)
			nb, rb := digits(b)
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = ra, rb
			continue
		}
		if ca != cb {
			return ca < cb
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits splits off the leading digit run of s, without leading zeros.
func digits(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	n := strings.TrimLeft(s[:i], "0")
	return n, s[i:]
}
