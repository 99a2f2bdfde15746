package proxy_test

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// benchmarkProxy drives the whole proxy path (client parse, route,
// upstream round trip to a real memcached, reply write) with b.N requests
// spread over parallel client connections, each waiting for its reply
// before sending the next, as memcaslap does. allocs/op counts every
// allocation of the process per request: proxy, upstream and the
// benchmark's own client (which allocates nothing per request).
func benchmarkProxy(b *testing.B, cfg string, nServers int, req, wantPrefix string) {
	servers := make([]*memcachedtest.Server, nServers)
	for i := range servers {
		servers[i] = memcachedtest.Start(b)
	}
	_, addr := startProxy(b, withServers(cfg, servers...), proxy.Options{})
	// The key the requests use exists on every server.
	for _, s := range servers {
		s.Do("set bench:key:0000000000000000000000 0 0 100\r\n"+strings.Repeat("v", 100)+"\r\n", "STORED")
	}
	reqb := []byte(req)
	want := []byte(wantPrefix)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		r := bufio.NewReaderSize(c, 4096)
		for pb.Next() {
			if _, err := c.Write(reqb); err != nil {
				b.Error(err)
				return
			}
			// Read the reply up to its terminating line.
			line, err := r.ReadSlice('\n')
			if err != nil {
				b.Error(err)
				return
			}
			if !bytes.HasPrefix(line, want) {
				b.Errorf("reply %q, want %q", line, want)
				return
			}
			if bytes.HasPrefix(line, []byte("VALUE ")) {
				// value line and END
				if _, err := r.Discard(102); err != nil {
					b.Error(err)
					return
				}
				if _, err := r.ReadSlice('\n'); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
}

const getReq = "get bench:key:0000000000000000000000\r\n"

// BenchmarkProxyGetHit is a get hit through PoolRoute over one server.
func BenchmarkProxyGetHit(b *testing.B) {
	benchmarkProxy(b, `{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, 1, getReq, "VALUE ")
}

// BenchmarkProxyGetHitPool3 is a get hit through PoolRoute over three
// servers.
func BenchmarkProxyGetHitPool3(b *testing.B) {
	benchmarkProxy(b, `{"pools":{"A":{"servers":["$0","$1","$2"]}},"route":"PoolRoute|A"}`, 3, getReq, "VALUE ")
}

// replicatedCfg is the replicated production example of the README.
const replicatedCfg = `{"pools": {"A": {"servers": ["$0","$1"]}, "B": {"servers": ["$1","$0"]}},
 "route": {"type": "OperationSelectorRoute", "operation_policies": {
   "set": "AllFastestRoute|Pool|A", "delete": "AllFastestRoute|Pool|A",
   "get": {"type": "RandomRoute", "children": ["MissFailoverRoute|Pool|A", "MissFailoverRoute|Pool|B"]}}}}`

// BenchmarkProxyGetHitReplicated is a get hit through the replicated
// example: RandomRoute over MissFailoverRoute.
func BenchmarkProxyGetHitReplicated(b *testing.B) {
	benchmarkProxy(b, replicatedCfg, 2, getReq, "VALUE ")
}

// BenchmarkProxySetReplicated is a set through the replicated example:
// AllFastestRoute to both servers, the second in the background.
func BenchmarkProxySetReplicated(b *testing.B) {
	benchmarkProxy(b, replicatedCfg, 2, "set bench:key:0000000000000000000000 0 0 100\r\n"+strings.Repeat("v", 100)+"\r\n", "STORED")
}

// TestProxyPathAllocatesNothing keeps the benchmarks' allocs/op at zero: a
// get hit and a replicated set through the whole proxy (text and binary), with real
// memcached behind it, allocate nothing per request once connections are
// up (background work, amortised over the requests, rounds to zero).
func TestProxyPathAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs benchmarks")
	}
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items on purpose")
	}
	cases := []struct {
		name string
		run  func(b *testing.B)
	}{
		{"get hit", BenchmarkProxyGetHit},
		{"get hit replicated", BenchmarkProxyGetHitReplicated},
		{"set replicated", BenchmarkProxySetReplicated},
		{"binary get hit", BenchmarkProxyBinaryGetHit},
		{"binary set", BenchmarkProxyBinarySet},
	}
	for _, c := range cases {
		r := testing.Benchmark(c.run)
		if r.N == 0 {
			t.Fatalf("%s: the benchmark failed", c.name)
		}
		if a := r.AllocsPerOp(); a != 0 {
			t.Errorf("%s: %d allocations per request (%d requests), want 0", c.name, a, r.N)
		}
	}
}
