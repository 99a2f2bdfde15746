package route

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
)

// TestConcurrentRouting hammers fan-out, failover and background routes
// from many goroutines; run with -race.
func TestConcurrentRouting(t *testing.T) {
	cfg := `{"pools": {` + testPools + `}, "route": {"type": "OperationSelectorRoute",
		"default_policy": {"type": "AllInitialRoute", "children": ["PoolRoute|A", "PoolRoute|B", "PoolRoute|C"]},
		"operation_policies": {
			"get": {"type": "AllFastestRoute", "children": ["PoolRoute|A", "PoolRoute|B", "PoolRoute|P"]},
			"gets": {"type": "AllMajorityRoute", "children": ["PoolRoute|A", "PoolRoute|B", "PoolRoute|C"]},
			"set": {"type": "AllSyncRoute", "children": ["PoolRoute|A", {"type": "PoolRoute", "pool": "P",
				"shadows": [{"target": "PoolRoute|D", "index_range": [0, 4], "key_fraction_range": [0, 1]}]}]},
			"add": {"type": "AllAsyncRoute", "children": ["PoolRoute|A", "PoolRoute|B"]},
			"delete": {"type": "FailoverRoute", "children": ["Pool|A", "Pool|B", "Pool|C"]},
			"touch": {"type": "MissFailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"]},
			"incr": {"type": "MigrateRoute", "from": "PoolRoute|A", "to": "PoolRoute|B", "start_time": 0, "interval": 1000000000}
		}}}`
	e := newEnv(t, cfg)
	e.f.Latency["b:1"] = 50 * time.Microsecond
	e.f.SetDown("a:1", true)
	ops := []mc.Op{mc.OpGet, mc.OpGets, mc.OpSet, mc.OpAdd, mc.OpDelete, mc.OpTouch, mc.OpIncr, mc.OpReplace}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			var rep mc.Reply
			for i := range 300 {
				key := []byte(fmt.Sprintf("key:%d:%d", w, i))
				r := &mc.Request{Op: ops[i%len(ops)], Key: key, Value: []byte("value")}
				e.g.Route(context.Background(), r, &rep)
				if rep.Result == mc.ResUnknown {
					t.Errorf("%s %s: unknown result", r.Op, key)
				}
				// The request is the caller's again: background work
				// must have copied it.
				for j := range key {
					key[j] = 'X'
				}
			}
		})
	}
	wg.Wait()
	e.g.Close()
	for _, c := range e.f.Calls() {
		if c.Key[0] == 'X' {
			t.Fatalf("a background send saw the caller's reused buffer: %+v", c)
		}
	}
}

// TestCancelWhileWaiting checks that a fan-out gives up when the request's
// context ends, and that its children still complete in the background.
func TestCancelWhileWaiting(t *testing.T) {
	e := newEnv(t, withPools(`{"type": "AllSyncRoute", "children": ["PoolRoute|A", "PoolRoute|B"]}`))
	e.f.Latency["b:1"] = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	var rep mc.Reply
	e.g.Route(ctx, req(mc.OpSet, "k"), &rep)
	if rep.Result != mc.ResDeadlineExceeded {
		t.Errorf("got %s", rep.Result)
	}
	e.g.Wait()
	if n := len(e.f.Calls()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

// TestOptionsGo runs background work through Options.Go; an inline runner
// makes routing sequential and deterministic without a trace.
func TestOptionsGo(t *testing.T) {
	var ran int
	inline := func(o *Options) { o.Go = func(f func()) { ran++; f() } }
	e := newEnv(t, withPools(`{"type": "AllInitialRoute", "children": ["PoolRoute|A", "PoolRoute|B", "PoolRoute|C"]}`), inline)
	var rep mc.Reply
	e.g.Route(context.Background(), req(mc.OpSet, "k"), &rep)
	var order []string
	for _, c := range e.f.Calls() {
		order = append(order, c.Dest.Pool)
	}
	if fmt.Sprint(order) != "[A B C]" || ran != 2 {
		t.Errorf("order %v, Go called %d times", order, ran)
	}
}
