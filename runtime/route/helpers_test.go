package route

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
)

// testPools are single-server pools (no hashing involved) plus P, a pool of
// four servers, and W, P with weights.
const testPools = `
	"A": {"servers": ["a:1"]},
	"B": {"servers": ["b:1"]},
	"C": {"servers": ["c:1"]},
	"D": {"servers": ["d:1"]},
	"E": {"servers": []},
	"P": {"servers": ["p0:1", "p1:1", "p2:1", "p3:1"]},
	"W": {"servers": ["p0:1", "p1:1", "p2:1", "p3:1"], "weights": [1, 0.1, 0.5, 1]}`

// withPools wraps a route JSON value into a config with testPools.
func withPools(route string) string {
	return `{"pools": {` + testPools + `}, "route": ` + route + `}`
}

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func newClock(unix int64) *testClock {
	c := &testClock{}
	c.ns.Store(unix * 1e9)
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) set(unix int64)          { c.ns.Store(unix * 1e9) }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

type env struct {
	t     testing.TB
	g     *Graph
	f     *Fake
	clock *testClock
}

// newEnv builds config over a Fake with a fixed host id (1), clock
// (1_000_000) and Rand (always 1 % n).
func newEnv(t testing.TB, config string, opts ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, f: NewFake(), clock: newClock(1_000_000)}
	o := Options{Dest: e.f.Dest, HostID: 1, Now: e.clock.now, Rand: func(n int) int { return 1 % n },
		Logger: slog.New(slog.DiscardHandler)}
	for _, fn := range opts {
		fn(&o)
	}
	g, err := Build(parseConfig(t, config), o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	e.g = g
	t.Cleanup(g.Close)
	return e
}

// missOnErrors opts in to mcrouter's pre-2025 default: get-like and arithmetic
// errors become misses at the root.
func missOnErrors(o *Options) { o.MissOnGetErrors = true; o.MissOnArithErrors = true }

func req(op mc.Op, key string) *mc.Request {
	r := &mc.Request{Op: op, Key: []byte(key)}
	if op.HasValue() {
		r.Value = []byte("v")
	}
	return r
}

// traced routes r with a Trace and returns the reply and the hops, each as
// "A[0] found" ("& " prefixed for background ones).
func (e *env) traced(r *mc.Request) (mc.Reply, []string, *Trace) {
	e.t.Helper()
	t := &Trace{}
	var rep mc.Reply
	e.g.Route(WithTrace(context.Background(), t), r, &rep)
	return rep, hopStrings(t.Hops()), t
}

func hopStrings(hs []Hop) []string {
	var out []string
	for _, h := range hs {
		s := fmt.Sprintf("%s[%d] %s", h.Pool, h.Index, h.Result)
		if h.Background {
			s = "& " + s
		}
		out = append(out, s)
	}
	return out
}

// plain routes r without a trace (parallel fan-outs), waits for background
// work, and returns the reply and the calls the fakes received, sorted.
func (e *env) plain(r *mc.Request) (mc.Reply, []string) {
	e.t.Helper()
	e.f.ResetCalls()
	var rep mc.Reply
	e.g.Route(context.Background(), r, &rep)
	e.g.Wait()
	var calls []string
	for _, c := range e.f.Calls() {
		calls = append(calls, fmt.Sprintf("%s %s", c.Dest, c.Result))
	}
	sort.Strings(calls)
	return rep, calls
}

// sortedHops returns the hops without background marks, sorted, for
// comparison with plain's calls.
func sortedHops(hops []string) []string {
	out := make([]string, len(hops))
	for i, h := range hops {
		out[i] = strings.TrimPrefix(h, "& ")
	}
	sort.Strings(out)
	return out
}
