package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// heapAndGoroutines returns the live heap (after GC) and the number of
// goroutines.
func heapAndGoroutines() (uint64, int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, runtime.NumGoroutine()
}

// TestAllBackendsDownNoGrowth: with every server of the pool down, 16
// clients keep sending requests in rounds; every request, set or get, is
// answered with an error (SERVER_ERROR; a get too, not a miss), and neither
// goroutines nor the heap grow from one round to the next.
func TestAllBackendsDownNoGrowth(t *testing.T) {
	memcachedtest.Require(t)
	p0, p1 := memcachedtest.FreePort(t), memcachedtest.FreePort(t)
	cfg := fmt.Sprintf(`{"pools":{"A":{"servers":["127.0.0.1:%d","127.0.0.1:%d"]}},"route":"PoolRoute|A"}`, p0, p1)
	_, addr := startProxy(t, cfg, proxy.Options{})
	const clients, perRound = 16, 500
	conns := make([]*conn, clients)
	for i := range conns {
		conns[i] = dial(t, "tcp", addr)
	}
	var sent, errs, misses, other atomic.Int64
	round := func() time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < perRound; j++ {
					k := fmt.Sprintf("k%d-%d", i, j)
					_ = c.c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := fmt.Fprintf(c.c, "set %s 0 0 1\r\nx\r\nget %s\r\n", k, k); err != nil {
						other.Add(1)
						return
					}
					sent.Add(2)
					for n := 0; n < 2; n++ {
						l, err := c.r.ReadString('\n')
						switch {
						case err != nil:
							other.Add(1)
							return
						case strings.HasPrefix(l, "SERVER_ERROR"):
							errs.Add(1)
						case l == "END\r\n":
							misses.Add(1)
						default:
							other.Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	round() // warm up: buffers, TKO state, metrics cells
	heap0, g0 := heapAndGoroutines()
	var took time.Duration
	for i := 0; i < 4; i++ {
		took += round()
	}
	heap1, g1 := heapAndGoroutines()
	t.Logf("every server down: %d requests sent, %d SERVER_ERROR, %d misses, %d other; %.0f requests/s; "+
		"goroutines %d -> %d, live heap %d KiB -> %d KiB",
		sent.Load(), errs.Load(), misses.Load(), other.Load(), float64(4*clients*perRound*2)/took.Seconds(),
		g0, g1, heap0>>10, heap1>>10)
	if other.Load() != 0 || misses.Load() != 0 || errs.Load() != sent.Load() {
		t.Errorf("sent %d: %d errors, %d misses, %d other replies or failures; want only errors", sent.Load(), errs.Load(), misses.Load(), other.Load())
	}
	if g1 > g0+5 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if heap1 > heap0+2<<20 {
		t.Errorf("live heap grew from %d KiB to %d KiB over 64,000 requests", heap0>>10, heap1>>10)
	}
}

// TestMaxOutstandingPerConnection: a multi-key get is routed at most
// MaxOutstanding keys at a time; a backend that counts its unanswered
// requests sees no more than that, and every key is answered in order.
func TestMaxOutstandingPerConnection(t *testing.T) {
	for _, limit := range []int{3, 1024} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			addr, maxSeen := countingBackend(t)
			_, paddr := startProxy(t, fmt.Sprintf(`{"pools":{"A":{"servers":["%s"]}},"route":"PoolRoute|A"}`, addr), proxy.Options{MaxOutstanding: limit})
			c := dial(t, "tcp", paddr)
			var keys []string
			var want []string
			for i := 0; i < 12; i++ {
				k := fmt.Sprintf("k%02d", i)
				keys = append(keys, k)
				want = append(want, "VALUE "+k+" 0 2", "v"+k[2:3])
			}
			want = append(want, "END")
			got := c.do("get "+strings.Join(keys, " ")+"\r\n", "END")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("multi-get:\n%s", strings.Join(got, "\n"))
			}
			seen := maxSeen()
			t.Logf("limit %d: at most %d requests outstanding at the backend", limit, seen)
			if seen > limit {
				t.Errorf("%d requests outstanding at once, limit %d", seen, limit)
			}
			if limit >= 12 && seen < 2 {
				t.Errorf("without a tight limit the keys were not routed concurrently (max %d outstanding)", seen)
			}
		})
	}
}

// countingBackend is a memcached stand-in that answers "get kNN" with a
// value after 30 ms, and reports the most requests it held unanswered at
// once.
func countingBackend(t *testing.T) (string, func() int) {
	var mu sync.Mutex
	outstanding, maxOut := 0, 0
	addr := memcachedtest.Fake(t, func(_ int, c net.Conn, r *bufio.Reader) {
		replies := make(chan string, 1024)
		go func() {
			for key := range replies {
				time.Sleep(30 * time.Millisecond)
				mu.Lock()
				outstanding--
				mu.Unlock()
				fmt.Fprintf(c, "VALUE %s 0 2\r\nv%s\r\nEND\r\n", key, key[2:3])
			}
		}()
		defer close(replies)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			key := strings.TrimSpace(strings.TrimPrefix(l, "get "))
			mu.Lock()
			outstanding++
			maxOut = max(maxOut, outstanding)
			mu.Unlock()
			replies <- key
		}
	})
	return addr, func() int {
		mu.Lock()
		defer mu.Unlock()
		return maxOut
	}
}
