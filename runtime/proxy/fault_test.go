package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/loadtest"
	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// TestFaultsUnderLoad kills one replica and freezes the other (SIGSTOP)
// while clients read and write through the replicated config: gets and
// writes fail only when both replicas fail them (rarely, on a starved
// machine), every request is answered once and in order, the frozen server
// is marked TKO and comes back after SIGCONT.
func TestFaultsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection under load")
	}
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	cfg := strings.ReplaceAll(withServers(replicated, m0, m1), `"B": {"servers"`, `"B": {"server_timeout": 1000, "servers"`)
	cfg = strings.ReplaceAll(cfg, `"A": {"servers"`, `"A": {"server_timeout": 1000, "servers"`)
	s, addr := startProxy(t, cfg, proxy.Options{Upstream: upstream.Options{ProbeInitial: 100 * time.Millisecond, ProbeMax: 200 * time.Millisecond}})
	l := loadtest.Start(t, "tcp", addr, 16)
	time.Sleep(300 * time.Millisecond)

	// SIGKILL one replica: writes and reads continue on the other.
	m0.Kill()
	time.Sleep(500 * time.Millisecond)
	if c := l.Counts(); c.FailedSets != 0 || c.FailedGets != 0 {
		t.Errorf("after killing a replica: %d failed sets, %d failed gets", c.FailedSets, c.FailedGets)
	}
	m0.Restart()
	waitFor(t, "the killed replica to be probed back", func() bool { return destState(s, m0.Addr) == upstream.StateUp })

	// SIGSTOP the other: requests to it time out until it is marked TKO.
	m1.Freeze()
	waitFor(t, "the frozen replica to be marked TKO", func() bool { return destState(s, m1.Addr) == upstream.StateTKO })
	time.Sleep(300 * time.Millisecond)
	m1.Thaw()
	waitFor(t, "the thawed replica to come back", func() bool { return destState(s, m1.Addr) == upstream.StateUp })
	time.Sleep(200 * time.Millisecond)
	c := l.Stop(t, "load during faults")
	if c.Sent != c.Answered {
		t.Errorf("sent %d requests, %d answered", c.Sent, c.Answered)
	}
	if c.Wrong != 0 {
		t.Errorf("%d replies had the wrong value (reordered or mixed up)", c.Wrong)
	}
	// A set fails (SERVER_ERROR timeout) only if both replicas fail it: on
	// a machine starved of CPU (-race, other test binaries running), the
	// live replica's reply can exceed its 1 s timeout while the killed one
	// is TKO. Traced in AllFastestRoute: child 0 "tko", child 1 "timeout",
	// about once in 20,000 sets in such runs. More than that is a failure.
	if f, sent := c.FailedSets, c.Sent; f*5000 > sent {
		t.Errorf("%d of %d requests were failed sets; AllFastestRoute must answer from the live replica", f, sent)
	} else if f > 0 {
		t.Logf("%d sets failed in a fault window (tolerated up to 1 in 5,000 requests)", f)
	}
	// A get fails (SERVER_ERROR, no longer hidden as a miss) only if both
	// replicas fail it, as rarely as a set.
	if f, sent := c.FailedGets, c.Sent; f*5000 > sent {
		t.Errorf("%d of %d requests were failed gets; MissFailoverRoute must answer from the live replica", f, sent)
	} else if f > 0 {
		t.Logf("%d gets failed in a fault window (tolerated up to 1 in 5,000 requests)", f)
	}
}

func destState(s *proxy.Server, addr string) upstream.State {
	for _, d := range s.Registry().Dests() {
		if d.Key().Addr == addr {
			return d.Stats().State
		}
	}
	return upstream.StateClosed
}

// TestAllBackendsDown: every request is answered promptly with an error,
// and goroutines do not pile up.
func TestAllBackendsDown(t *testing.T) {
	memcachedtest.Require(t)
	p0, p1 := memcachedtest.FreePort(t), memcachedtest.FreePort(t)
	cfg := fmt.Sprintf(`{"pools":{"A":{"servers":["127.0.0.1:%d","127.0.0.1:%d"]}},"route":"PoolRoute|A"}`, p0, p1)
	_, addr := startProxy(t, cfg, proxy.Options{})
	c := dial(t, "tcp", addr)
	before := runtime.NumGoroutine()
	start := time.Now()
	for i := 0; i < 2000; i++ {
		c.send(fmt.Sprintf("set k%d 0 0 1\r\nx\r\n", i))
		if l := c.line(); !strings.HasPrefix(l, "SERVER_ERROR") {
			t.Fatalf("set %d with every server down: %q", i, l)
		}
		c.send(fmt.Sprintf("get k%d\r\n", i))
		// As in today's mcrouter, get errors are returned, not misses.
		if l := c.line(); !strings.HasPrefix(l, "SERVER_ERROR") {
			t.Fatalf("get %d with every server down: %q", i, l)
		}
	}
	took := time.Since(start)
	if took > 5*time.Second {
		t.Errorf("4000 requests to dead servers took %v; TKO answers must be prompt", took)
	}
	time.Sleep(100 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+10 {
		t.Errorf("goroutines grew from %d to %d", before, after)
	}
	t.Logf("4000 requests with every server down answered in %v", took)
}

// TestGarbageBackend: a server that answers garbage makes the affected
// request fail with SERVER_ERROR; the connection is rebuilt and the next
// request works.
func TestGarbageBackend(t *testing.T) {
	var n atomic.Int32
	backend := memcachedtest.Fake(t, func(_ int, c net.Conn, r *bufio.Reader) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "set") {
				_, _ = r.ReadString('\n')
			}
			if n.Add(1) == 1 {
				c.Write([]byte("\x00\x01garbage\r\n"))
				continue
			}
			c.Write([]byte("STORED\r\n"))
		}
	})
	_, addr := startProxy(t, fmt.Sprintf(`{"pools":{"A":{"servers":["%s"]}},"route":"PoolRoute|A"}`, backend), proxy.Options{})
	c := dial(t, "tcp", addr)
	if l := c.do("set a 0 0 1\r\nx\r\n", "STORED"); !strings.HasPrefix(l[0], "SERVER_ERROR") {
		t.Fatalf("garbage reply: %q", l)
	}
	eq(t, "after reconnect", c.do("set b 0 0 1\r\nx\r\n", "STORED"), []string{"STORED"})
}

// TestSlowReaderIsCutOff: a client that sends requests but never reads
// its replies is disconnected after the client timeout; others are served
// meanwhile.
func TestSlowReaderIsCutOff(t *testing.T) {
	m := memcachedtest.Start(t)
	m.Do("set big 0 0 100000\r\n"+strings.Repeat("x", 100000)+"\r\n", "STORED")
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{ClientTimeout: 300 * time.Millisecond})
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if tc, ok := slow.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	go func() {
		for i := 0; i < 2000; i++ {
			if _, err := slow.Write([]byte("get big\r\n")); err != nil {
				return
			}
		}
	}()
	other := dial(t, "tcp", addr)
	for i := 0; i < 50; i++ {
		eq(t, "other client", other.do("get nothere\r\n", "END"), []string{"END"})
	}
	// The slow client is eventually disconnected (once a write to it has
	// been blocked for the client timeout): the proxy then counts one
	// connection, and reading drains the slow client's socket and hits EOF.
	// Reading before that would unblock the proxy's writes.
	cut := false
	for deadline := time.Now().Add(20 * time.Second); !cut && time.Now().Before(deadline); {
		stats := other.do("stats\r\n", "END")
		cut = slices.Contains(stats, "STAT curr_connections 1")
		if !cut {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !cut {
		t.Fatal("the client that did not read was not disconnected")
	}
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1<<20)
	for {
		if _, err := slow.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the client that did not read was not disconnected")
			}
			break
		}
	}
}

// TestHostileInput sends malformed and oversized input: the proxy answers
// as memcached does and stays up.
func TestHostileInput(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	cases := []struct{ name, send, want string }{
		{"long key", "get " + strings.Repeat("k", 300) + "\r\n", "CLIENT_ERROR bad command line format"},
		{"negative length", "set k 0 0 -1\r\n", "CLIENT_ERROR bad command line format"},
		{"too large", "set k 0 0 2000000\r\n" + strings.Repeat("x", 2000000) + "\r\n", "SERVER_ERROR object too large for cache"},
		{"no CR", "version\n", "VERSION " + proxy.MemcachedVersion},
		// A first byte of 0x80 would make it a binary connection (see
		// testdata/binary/errors.txtar for bad binary input).
		{"binary garbage", "\x01\x80\x02\x03\r\n", "ERROR"},
		{"unknown", "frobnicate a b c\r\n", "ERROR"},
		{"bad incr", "incr k abc\r\n", "CLIENT_ERROR invalid numeric delta argument"},
	}
	for _, tc := range cases {
		c := dial(t, "tcp", addr)
		c.send(tc.send)
		eq(t, tc.name, c.line(), tc.want)
		// The connection survives these.
		c.send("version\r\n")
		eq(t, tc.name+" then version", c.line(), "VERSION "+proxy.MemcachedVersion)
	}
	// A length beyond memcached's limit closes the connection without a
	// word, as memcached does.
	h := dial(t, "tcp", addr)
	h.send("set k 0 0 99999999999\r\n")
	_ = h.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := h.r.ReadString('\n'); err == nil {
		t.Errorf("huge length: got %q, want the connection closed", l)
	}
	// A 1 MiB line without a newline closes the connection, as memcached
	// does; the proxy stays up.
	c := dial(t, "tcp", addr)
	go c.c.Write([]byte(strings.Repeat("x", 1<<20)))
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Error("a 1 MiB line without newline did not close the connection")
	}
	d := dial(t, "tcp", addr)
	d.send("version\r\n")
	eq(t, "proxy still up", d.line(), "VERSION "+proxy.MemcachedVersion)
}

// TestMemoryBudget: with a small global budget for unwritten replies, a
// client that does not read makes the others wait (their reads are
// throttled) instead of letting memory grow; once it is cut off, they go
// on.
func TestMemoryBudget(t *testing.T) {
	m := memcachedtest.Start(t)
	m.Do("set big 0 0 500000\r\n"+strings.Repeat("x", 500000)+"\r\n", "STORED")
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m),
		proxy.Options{MaxBufferedBytes: 256 << 10, ClientTimeout: 500 * time.Millisecond})
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if tc, ok := slow.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if _, err := slow.Write([]byte(strings.Repeat("get big\r\n", 20))); err != nil {
		t.Fatal(err)
	}
	// The slow client's replies pile up over the budget once the proxy has
	// fetched them; how soon depends on the machine (and -race), so the
	// other client keeps asking until its reads are seen to be throttled
	// (the slow client is cut off after the client timeout, 500 ms, of a
	// blocked write).
	other := dial(t, "tcp", addr)
	var stats string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		start := time.Now()
		eq(t, "other client", other.do("get nothere\r\n", "END"), []string{"END"})
		waited := time.Since(start)
		stats = strings.Join(other.do("stats\r\n", "END"), "\n")
		if strings.Contains(stats, "STAT throttled_reads ") && !strings.Contains(stats, "STAT throttled_reads 0\n") {
			t.Logf("the other client waited %v behind a client that does not read", waited)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("no throttled reads counted:\n%s", stats)
}
