package route

import (
	"context"
	"testing"

	"github.com/mcroute/mcroute/runtime/mc"
)

// benchDest answers every request with a hit, without allocating: the
// stand-in for an upstream connection in benchmarks.
type benchDest struct{ value []byte }

func (d *benchDest) Send(_ context.Context, req *mc.Request, _ []byte, rep *mc.Reply) {
	if req.Op.IsGetLike() {
		rep.Result = mc.ResFound
		rep.Value = append(rep.Value[:0], d.value...)
		return
	}
	rep.Result = mc.ResStored
}

func benchDestFunc(DestInfo) (Destination, error) {
	return &benchDest{value: []byte("a value of some thirty-two bytes")}, nil
}

// hotPaths are the routes whose gets must not allocate.
var hotPaths = []struct {
	name, config, key string
}{
	{"PoolRoute", `{"pools": {"P": {"servers": ["p0:1", "p1:1", "p2:1", "p3:1"]}}, "route": "PoolRoute|P"}`, "user:1234"},
	{"PoolRoute/prefix", `{"pools": {"P": {"servers": ["p0:1", "p1:1", "p2:1", "p3:1"]}},
		"routes": [{"aliases": ["/././", "/r/c/"], "route": "PoolRoute|P"}]}`, "/r/c/user:1234"},
	{"AllFastest", `{"pools": {"Q": {"servers": ["q0:1", "q1:1"]}}, "route": "AllFastestRoute|Pool|Q"}`, "user:1234"},
	{"MissFailover", `{"pools": {"A": {"servers": ["a0:1", "a1:1"]}, "B": {"servers": ["b0:1", "b1:1"]}},
		"route": {"type": "MissFailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B"]}}`, "user:1234"},
	{"OperationSelector+AllSync", `{"pools": {"Q": {"servers": ["q0:1", "q1:1"]}},
		"route": {"type": "OperationSelectorRoute", "default_policy": "AllSyncRoute|Pool|Q", "operation_policies": {"set": "PoolRoute|Q"}}}`, "user:1234"},
}

func buildBench(tb testing.TB, config string) *Graph {
	tb.Helper()
	g, err := Build(parseConfig(tb, config), Options{Dest: benchDestFunc, HostID: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, hp := range hotPaths {
		t.Run(hp.name, func(t *testing.T) {
			g := buildBench(t, hp.config)
			defer g.Close()
			r := &mc.Request{Op: mc.OpGet, Key: []byte(hp.key)}
			var rep mc.Reply
			ctx := context.Background()
			g.Route(ctx, r, &rep) // warm up buffers, pools and workers
			if rep.Result != mc.ResFound {
				t.Fatalf("reply %s", rep.Result)
			}
			if n := testing.AllocsPerRun(2000, func() { g.Route(ctx, r, &rep) }); n != 0 {
				t.Errorf("%v allocations per get, want 0", n)
			}
		})
	}
}

func benchmarkGet(b *testing.B, config, key string) {
	g := buildBench(b, config)
	defer g.Close()
	r := &mc.Request{Op: mc.OpGet, Key: []byte(key)}
	var rep mc.Reply
	ctx := context.Background()
	g.Route(ctx, r, &rep)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.Route(ctx, r, &rep)
	}
}

func benchmarkGetParallel(b *testing.B, config, key string) {
	g := buildBench(b, config)
	defer g.Close()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := &mc.Request{Op: mc.OpGet, Key: []byte(key)}
		var rep mc.Reply
		ctx := context.Background()
		for pb.Next() {
			g.Route(ctx, r, &rep)
		}
	})
}

func BenchmarkPoolRoute(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmarkGet(b, hotPaths[0].config, hotPaths[0].key) })
	b.Run("prefix", func(b *testing.B) { benchmarkGet(b, hotPaths[1].config, hotPaths[1].key) })
	b.Run("parallel", func(b *testing.B) { benchmarkGetParallel(b, hotPaths[0].config, hotPaths[0].key) })
}

func BenchmarkAllFastest(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmarkGet(b, hotPaths[2].config, hotPaths[2].key) })
	b.Run("parallel", func(b *testing.B) { benchmarkGetParallel(b, hotPaths[2].config, hotPaths[2].key) })
}

func BenchmarkMissFailover(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmarkGet(b, hotPaths[3].config, hotPaths[3].key) })
	b.Run("parallel", func(b *testing.B) { benchmarkGetParallel(b, hotPaths[3].config, hotPaths[3].key) })
}

func BenchmarkAllSync(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmarkGet(b, hotPaths[4].config, hotPaths[4].key) })
	b.Run("parallel", func(b *testing.B) { benchmarkGetParallel(b, hotPaths[4].config, hotPaths[4].key) })
}

// BenchmarkTraced shows the cost of explain-style tracing (allocations
// expected).
func BenchmarkTraced(b *testing.B) {
	g := buildBench(b, hotPaths[3].config)
	defer g.Close()
	r := &mc.Request{Op: mc.OpGet, Key: []byte("user:1234")}
	var rep mc.Reply
	b.ReportAllocs()
	for b.Loop() {
		tr := &Trace{}
		g.Route(WithTrace(context.Background(), tr), r, &rep)
	}
}
