package sim

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// pattern40 makes keys of exactly 40 bytes for key numbers below 10^12.
const pattern40 = "user:{n:12}:session:abcdefghijklmn"

const (
	benchCh3    = `{"pools": {"A": {"servers": ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]}}, "route": "PoolRoute|A"}`
	benchCh3Big = `{"pools": {"A": {"servers": [` + `"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1", "10.0.0.5:1", "10.0.0.6:1", "10.0.0.7:1", "10.0.0.8:1",
		"10.0.0.9:1", "10.0.0.10:1", "10.0.0.11:1", "10.0.0.12:1", "10.0.0.13:1", "10.0.0.14:1", "10.0.0.15:1", "10.0.0.16:1"]}}, "route": "PoolRoute|A"}`
	benchReplicated = `{"pools": {"A": {"servers": ["s1:11211","s2:11211"]}, "B": {"servers": ["s2:11211","s1:11211"]}},
		"route": {"type": "OperationSelectorRoute", "operation_policies": {"set": "AllFastestRoute|Pool|A",
		"get": {"type": "RandomRoute", "children": ["MissFailoverRoute|Pool|A", "MissFailoverRoute|Pool|B"]}}}}`
)

func decode(tb testing.TB, js string) *schema.Config {
	tb.Helper()
	l := mcrouterjson.LoadBytes("bench.json", []byte(js), mcrouterjson.LoadOptions{})
	if l.Diagnostics.HasErrors() || l.Config == nil {
		tb.Fatal(l.Diagnostics)
	}
	return l.Config
}

// benchmarkSimulate runs whole simulations of keysPerRun keys and reports
// the rate.
func benchmarkSimulate(b *testing.B, opts Options) {
	const keysPerRun = 1 << 20
	opts.Keys = keysPerRun
	if opts.Pattern == "" {
		opts.Pattern = pattern40
	}
	ctx := context.Background()
	var total int64
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		res, err := Run(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		total += res.Keys
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(total)/wall.Seconds(), "keys/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/key")
	b.ReportMetric(0, "ns/op")
}

// cpuTime returns the CPU time the process has used (user and system, all
// threads). On a busy machine it measures the work better than the wall
// clock: with one worker, 1e9/cpu-ns/key is the rate of one dedicated core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSimulateCh3 is the headline number: 40-byte keys through a
// three-server Ch3 pool on one core.
func BenchmarkSimulateCh3(b *testing.B) {
	benchmarkSimulate(b, Options{Config: decode(b, benchCh3), Workers: 1})
}

// BenchmarkSimulateCh3AllCores uses every core.
func BenchmarkSimulateCh3AllCores(b *testing.B) {
	benchmarkSimulate(b, Options{Config: decode(b, benchCh3)})
}

// BenchmarkSimulateCh3Pool16 hashes over 16 servers (more furc bits).
func BenchmarkSimulateCh3Pool16(b *testing.B) {
	benchmarkSimulate(b, Options{Config: decode(b, benchCh3Big), Workers: 1})
}

// BenchmarkSimulateCompare routes every key through two graphs.
func BenchmarkSimulateCompare(b *testing.B) {
	benchmarkSimulate(b, Options{Config: decode(b, benchCh3), Compare: decode(b, benchCh3Big), Workers: 1})
}

// BenchmarkSimulateReplicated fans every set out to two servers.
func BenchmarkSimulateReplicated(b *testing.B) {
	benchmarkSimulate(b, Options{Config: decode(b, benchReplicated), Workers: 1})
}

// BenchmarkSimulateReplicatedGet routes gets through RandomRoute and
// MissFailoverRoute.
func BenchmarkSimulateReplicatedGet(b *testing.B) {
	benchmarkSimulate(b, Options{Config: decode(b, benchReplicated), Workers: 1, Op: mc.OpGet})
}

// BenchmarkGraphPoolRoute is the cost of one request through a PoolRoute
// graph over counting destinations, without key generation.
func BenchmarkGraphPoolRoute(b *testing.B) {
	p, err := newPlan(&Options{Config: decode(b, benchCh3), Keys: 1})
	if err != nil {
		b.Fatal(err)
	}
	w, err := p.newWorker()
	if err != nil {
		b.Fatal(err)
	}
	defer w.close()
	keys := make([][]byte, 1024)
	pat, _ := ParsePattern(pattern40)
	for i := range keys {
		keys[i] = pat.Append(nil, uint64(i), 0)
	}
	s := w.sides[0]
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		w.req.Key = keys[i&1023]
		s.hits = s.hits[:0]
		s.g.Route(ctx, &w.req, &w.rep)
		i++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkPatternAppend is the cost of making one 40-byte key.
func BenchmarkPatternAppend(b *testing.B) {
	pat, _ := ParsePattern(pattern40)
	var buf []byte
	n := uint64(0)
	for b.Loop() {
		buf = pat.Append(buf[:0], n, 0)
		n++
	}
}
