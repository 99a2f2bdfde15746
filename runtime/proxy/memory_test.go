package proxy_test

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mcroute/mcroute/runtime/proxy"
)

// TestIdleConnectionMemory holds 10,000 idle client connections and
// measures the proxy's memory per connection (Go heap and goroutine stacks,
// including the test's own client sockets, so the figure is an upper
// bound). The goal is at most 16 KiB per idle connection.
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 10,000 connections")
	}
	n := 10000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(2*n+500) {
		want := uint64(2*n + 500)
		lim.Cur = min(max(want, lim.Cur), lim.Max)
		if lim.Max < want {
			lim.Max = want
			lim.Cur = want
		}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		if lim.Cur < uint64(2*n+500) {
			n = int(lim.Cur-500) / 2
			t.Logf("file descriptor limit %d: measuring %d connections", lim.Cur, n)
		}
	}
	if n < 1000 {
		t.Skipf("file descriptor limit too low to measure (%d)", lim.Cur)
	}
	s, addr := startProxy(t, `{"pools":{"A":{"servers":["127.0.0.1:1"]}},"route":"PoolRoute|A"}`, proxy.Options{})
	measure := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse
	}
	before := measure()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	// Every connection served once, then idle.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st runtime.MemStats
		runtime.ReadMemStats(&st)
		if proxyConns(s) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := measure()
	per := float64(after-before) / float64(n)
	t.Logf("%d idle connections: %.1f KiB per connection (heap+stacks, client sockets included), %d goroutines",
		n, per/1024, runtime.NumGoroutine())
	if os.Getenv("MCROUTE_REPORT") != "" {
		t.Logf("MCROUTE_REPORT idle_conn_bytes=%s", strconv.Itoa(int(per)))
	}
	// The goal is 16 KiB; the bound is tighter, to catch a change that
	// makes every connection's goroutine grow its stack (2 KiB more per
	// connection). The race detector makes frames larger.
	limit := 8.0
	if raceEnabled {
		limit = 12
	}
	if per > limit*1024 {
		t.Errorf("%.1f KiB per idle connection, want at most %.0f KiB (goal: 16 KiB)", per/1024, limit)
	}
}

func proxyConns(s *proxy.Server) int { return int(s.NumConns()) }
