package upstream

import (
	"bufio"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Dest is one memcached server as the proxy sees it: its shared
// connections and its health. Send is safe for concurrent use; it
// implements route.Destination.
type Dest struct {
	reg   *Registry
	key   Key
	refs  int // guarded by reg.mu
	conns []*conn
	next  atomic.Uint32

	// tko is the fast-path flag: while set, Send answers tko at once.
	tko atomic.Bool
	// tkoReason is the result (an mc.Result) that marked the destination
	// TKO, named in the message of tko replies.
	tkoReason atomic.Uint32
	// timeouts counts consecutive timeouts (soft failures).
	timeouts atomic.Int32
	// up caches state == StateUp for the fast path.
	up atomic.Bool

	mu       sync.Mutex // guards the fields below
	state    State
	hardTKO  bool
	softTKO  bool
	probing  bool
	closed   bool
	failures int // failures since the last success, for stats
	stop     chan struct{}

	// Counters, for stats and metrics.
	requests   atomic.Uint64
	errs       atomic.Uint64
	results    [resultBuckets]atomic.Uint64
	latencyNs  atomic.Uint64
	replies    atomic.Uint64
	inflight   atomic.Int64
	tkoEntered atomic.Uint64
}

// The result buckets counted per destination.
const (
	bucketOK = iota
	bucketMiss
	bucketTimeout
	bucketConnectError
	bucketTko
	bucketRemoteError
	bucketOtherError
	resultBuckets
)

// BucketNames names the result buckets of Stats.Results, in order.
var BucketNames = [resultBuckets]string{"ok", "miss", "timeout", "connect_error", "tko", "remote_error", "other_error"}

func newDest(r *Registry, k Key) *Dest {
	d := &Dest{reg: r, key: k, stop: make(chan struct{})}
	n := r.opts.conns()
	d.conns = make([]*conn, n)
	for i := range d.conns {
		d.conns[i] = newConn(d)
	}
	return d
}

// Key returns the destination's identity.
func (d *Dest) Key() Key { return d.key }

// Send forwards req with key (the key to send, which may differ from
// req.Key) and fills rep with the server's reply, or with an error result:
// tko while the destination is marked down, connect_error or
// connect_timeout when it cannot connect, timeout when the reply is late,
// remote_error when the connection breaks. It blocks until then; ctx is
// not consulted (the per-request timeout bounds the wait).
func (d *Dest) Send(_ context.Context, req *mc.Request, key []byte, rep *mc.Reply) {
	d.requests.Add(1)
	if d.tko.Load() {
		errResult(mc.ResTko, d.tkoMessage(), rep)
		d.count(mc.ResTko)
		return
	}
	var c *conn
	if len(d.conns) == 1 {
		c = d.conns[0]
	} else {
		c = d.conns[d.next.Add(1)%uint32(len(d.conns))]
	}
	d.inflight.Add(1)
	start := time.Now()
	c.do(req, key, rep, start)
	d.inflight.Add(-1)
	d.observe(rep.Result, time.Since(start))
}

func (d *Dest) count(res mc.Result) int {
	b := bucketOf(res)
	d.results[b].Add(1)
	if b >= bucketTimeout {
		d.errs.Add(1)
	}
	return b
}

func bucketOf(res mc.Result) int {
	switch {
	case res == mc.ResTimeout:
		return bucketTimeout
	case res == mc.ResConnectError || res == mc.ResConnectTimeout:
		return bucketConnectError
	case res == mc.ResTko:
		return bucketTko
	case res == mc.ResRemoteError:
		return bucketRemoteError
	case res.IsMiss():
		return bucketMiss
	case res.IsError():
		return bucketOtherError
	}
	return bucketOK
}

// observe updates the failure state after a reply.
func (d *Dest) observe(res mc.Result, took time.Duration) {
	b := d.count(res)
	d.latencyNs.Add(uint64(took))
	d.replies.Add(1)
	switch b {
	case bucketTimeout:
		if n := d.timeouts.Add(1); int(n) >= d.reg.opts.timeoutsUntilTKO() {
			d.markTKO(false, res)
		}
	case bucketConnectError:
		d.markTKO(true, res)
	case bucketTko:
	default:
		if d.timeouts.Load() != 0 {
			d.timeouts.Store(0)
		}
		if !d.up.Load() {
			d.mu.Lock()
			d.failures = 0
			if d.state == StateNew {
				d.setState(StateUp)
			}
			if d.state == StateUp {
				d.up.Store(true)
			}
			d.mu.Unlock()
		}
	}
}

// setState changes the state; d.mu must be held.
func (d *Dest) setState(s State) {
	from := d.state
	if from == s {
		return
	}
	d.state = s
	if f := d.reg.opts.OnState; f != nil {
		f(d, from, s)
	}
}

// markTKO marks the destination down (hard: connect failure; soft: too
// many timeouts) and starts probing.
func (d *Dest) markTKO(hard bool, res mc.Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failures++
	if d.closed || d.reg.opts.DisableTKO {
		return
	}
	if hard {
		d.hardTKO = true
	} else {
		d.softTKO = true
	}
	if d.state == StateTKO {
		if hard {
			d.tkoReason.Store(uint32(res))
		}
		return
	}
	d.tkoReason.Store(uint32(res))
	d.tkoEntered.Add(1)
	d.tko.Store(true)
	d.up.Store(false)
	d.setState(StateTKO)
	kind := "soft"
	if hard {
		kind = "hard"
	}
	d.reg.opts.logger().Warn("destination marked TKO", "server", d.key.Addr, "tko", kind, "result", res.String())
	if !d.probing {
		d.probing = true
		go d.probeLoop()
	}
}

// tkoMessage is the message of the replies of a TKO destination, as
// mcrouter words it: "Server unavailable. Reason: " and the full name of the
// result that marked it TKO.
func (d *Dest) tkoMessage() string {
	switch res := mc.Result(d.tkoReason.Load()); res {
	case mc.ResTimeout:
		return "Server unavailable. Reason: mc_res_timeout"
	case mc.ResConnectError:
		return "Server unavailable. Reason: mc_res_connect_error"
	case mc.ResConnectTimeout:
		return "Server unavailable. Reason: mc_res_connect_timeout"
	default:
		return "Server unavailable. Reason: " + res.FullName()
	}
}

// probeLoop probes a TKO destination with back-off until it answers.
func (d *Dest) probeLoop() {
	opts := &d.reg.opts
	delay := opts.probeInitial()
	for {
		wait := time.Duration(float64(delay) * (1 + 0.05 + rand.Float64()*0.45))
		t := time.NewTimer(wait)
		select {
		case <-d.stop:
			t.Stop()
			return
		case <-t.C:
		}
		if err := d.probe(); err == nil {
			d.mu.Lock()
			d.hardTKO, d.softTKO, d.probing = false, false, false
			d.timeouts.Store(0)
			d.tko.Store(false)
			d.failures = 0
			if !d.closed {
				d.setState(StateUp)
				d.up.Store(true)
			}
			d.mu.Unlock()
			opts.logger().Info("destination recovered", "server", d.key.Addr)
			return
		}
		delay = min(time.Duration(float64(delay)*1.5), opts.probeMax())
	}
}

// probe opens a fresh connection and asks for the version.
func (d *Dest) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), d.key.ConnectTimeout)
	defer cancel()
	nc, err := d.reg.dial(ctx, d.key)
	if err != nil {
		return err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(d.key.Timeout))
	if _, err := nc.Write([]byte("version\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "VERSION") {
		return errors.New("unexpected probe reply " + strings.TrimSpace(line))
	}
	return nil
}

func (r *Registry) dial(ctx context.Context, k Key) (net.Conn, error) {
	if r.opts.Dial != nil {
		return r.opts.Dial(ctx, k.Network, k.Addr)
	}
	var nd net.Dialer
	nd.KeepAlive = 30 * time.Second
	return nd.DialContext(ctx, k.Network, k.Addr)
}

func (d *Dest) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.stop)
	d.setState(StateClosed)
	d.mu.Unlock()
	for _, c := range d.conns {
		c.close()
	}
}

// Stats is a snapshot of a destination's counters.
type Stats struct {
	Key      Key
	State    State
	HardTKO  bool
	SoftTKO  bool
	Requests uint64
	// Results counts replies per bucket (see BucketNames).
	Results [resultBuckets]uint64
	// Errors counts error replies of any kind.
	Errors uint64
	// Inflight is the number of requests waiting for a reply now.
	Inflight int64
	// Pending is the number of requests written and not yet answered.
	Pending int
	// AvgLatency is the mean time from Send to reply.
	AvgLatency time.Duration
	// TKOEntered counts transitions into TKO.
	TKOEntered uint64
	// Conns is the number of open connections.
	Conns int
}

// Stats returns a snapshot of d's counters.
func (d *Dest) Stats() Stats {
	s := Stats{Key: d.key, Requests: d.requests.Load(), Errors: d.errs.Load(), Inflight: d.inflight.Load(), TKOEntered: d.tkoEntered.Load()}
	for i := range d.results {
		s.Results[i] = d.results[i].Load()
	}
	if n := d.replies.Load(); n > 0 {
		s.AvgLatency = time.Duration(d.latencyNs.Load() / n)
	}
	d.mu.Lock()
	s.State, s.HardTKO, s.SoftTKO = d.state, d.hardTKO, d.softTKO
	d.mu.Unlock()
	for _, c := range d.conns {
		p, open := c.snapshot()
		s.Pending += p
		if open {
			s.Conns++
		}
	}
	return s
}
