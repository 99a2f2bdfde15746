package proxy_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// Behaviour memcached clients and memcached's own test suite (t/*.t of
// memcached 1.6.18) rely on, through the proxy in front of real memcached.

const singleServer = `{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`

// TestVersionReply: "version" answers a memcached version, which clients
// parse as numbers; mcroute's own version stays in __mcrouter__.version.
func TestVersionReply(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(singleServer, m), proxy.Options{Version: "1.2.3"})
	c := dial(t, "tcp", addr)
	c.send("version\r\n")
	eq(t, "version", c.line(), "VERSION 1.6.18")
	eq(t, "admin version", c.do("get __mcrouter__.version\r\n", "END"),
		[]string{"VALUE __mcrouter__.version 0 13", "1.2.3 mcroute", "END"})
}

// TestValueSizes: by default the proxy forwards values up to 64 MiB and
// the server's own limit (-I) decides; the server's refusal is forwarded,
// and the server deletes the key's old value, as it does for its own
// clients.
func TestValueSizes(t *testing.T) {
	m := memcachedtest.Start(t, "-I", "4m")
	_, addr := startProxy(t, withServers(singleServer, m), proxy.Options{})
	c := dial(t, "tcp", addr)
	v := strings.Repeat("v", 2<<20)
	eq(t, "2 MiB set", c.do("set big 0 0 2097152\r\n"+v+"\r\n", "STORED"), []string{"STORED"})
	got := c.do("get big\r\n", "END")
	if len(got) != 3 || got[1] != v {
		t.Fatalf("2 MiB get: %d lines", len(got))
	}
	v5 := strings.Repeat("w", 5<<20)
	eq(t, "5 MiB set", c.do("set big 0 0 5242880\r\n"+v5+"\r\n", "STORED"), []string{"SERVER_ERROR object too large for cache"})
	eq(t, "get after the refused set", c.do("get big\r\n", "END"), []string{"END"})
}

// TestProxyRefusesTooLarge: a value over the proxy's own limit is refused
// by the proxy, and a set's (or ms's) key is deleted on the servers, as
// memcached deletes it, so that no stale value survives; an append over
// the limit leaves the value alone, as in memcached.
func TestProxyRefusesTooLarge(t *testing.T) {
	m := memcachedtest.Start(t, "-I", "4m")
	_, addr := startProxy(t, withServers(singleServer, m), proxy.Options{MaxValueSize: 1 << 20})
	c := dial(t, "tcp", addr)
	big := strings.Repeat("x", 2<<20)
	for _, tc := range []struct{ name, set, reply string }{
		{"set", "set k 0 0 2097152\r\n" + big + "\r\n", "SERVER_ERROR object too large for cache"},
		{"set noreply", "set k 0 0 2097152 noreply\r\n" + big + "\r\nmn\r\n", "MN"},
		{"ms", "ms k 2097152 T0\r\n" + big + "\r\n", "SERVER_ERROR object too large for cache"},
		{"ms append", "ms k 2097152 MA\r\n" + big + "\r\n", "SERVER_ERROR object too large for cache"},
	} {
		eq(t, tc.name+" old value", c.do("set k 0 0 3\r\nold\r\n", "STORED"), []string{"STORED"})
		eq(t, tc.name, c.do(tc.set, tc.reply), []string{tc.reply})
		eq(t, tc.name+" get", c.do("get k\r\n", "END"), []string{"END"})
		if _, ok := m.Get("k"); ok {
			t.Errorf("%s: the server still holds k", tc.name)
		}
	}
	eq(t, "binary key", c.do("ms YmluYXJ5 3 b\r\nold\r\n", "HD"), []string{"HD"})
	eq(t, "binary key ms", c.do("ms YmluYXJ5 2097152 b\r\n"+big+"\r\n", ""), []string{"SERVER_ERROR object too large for cache"})
	if _, ok := m.Get("binary"); ok {
		t.Error("the server still holds the base64-keyed item")
	}
	eq(t, "append old value", c.do("set k 0 0 3\r\nold\r\n", "STORED"), []string{"STORED"})
	eq(t, "append", c.do("append k 0 0 2097152\r\n"+big+"\r\n", ""), []string{"SERVER_ERROR object too large for cache"})
	eq(t, "get after append", c.do("get k\r\n", "END"), []string{"VALUE k 0 3", "old", "END"})
}

// TestHostileLines: inputs that memcached answers or hangs up on in a
// particular way.
func TestHostileLines(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(singleServer, m), proxy.Options{})
	// An HTTP request line closes the connection without a reply.
	for _, l := range []string{"GET / HTTP/1.0", "PUT /asdf/asd/fasdfasdf/sadf HTTP/1.1", "DELETE HTTP/1.1"} {
		c := dial(t, "tcp", addr)
		c.send(l + "\r\n")
		_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c.r); err != nil || len(b) != 0 {
			t.Errorf("%q: read %q, %v; want the connection closed without a reply", l, b, err)
		}
	}
	c := dial(t, "tcp", addr)
	eq(t, "stored", c.do("set k 0 0 1\r\nv\r\n", "STORED"), []string{"STORED"})
	// A 10 KB key fits memcached's read buffer: answered, connection kept.
	long := strings.Repeat("a", 10000)
	c.send("set " + long + " 0 0 5\r\nhello\r\nget k\r\n")
	eq(t, "10 KB key", c.line(), "CLIENT_ERROR bad command line format")
	eq(t, "then get", c.until("END"), []string{"VALUE k 0 1", "v", "END"})
	// A 251-byte key: one reply, and the data block is not a command.
	key := strings.Repeat("b", 251)
	c.send("set " + key + " 0 0 9\r\nflush_all\r\nset " + key + " 0 0 5 noreply\r\nhello\r\nget k\r\n")
	eq(t, "251-byte key", c.line(), "CLIENT_ERROR bad command line format")
	eq(t, "then get", c.until("END"), []string{"VALUE k 0 1", "v", "END"})
	eq(t, "slabs automove", c.do("slabs automove invalid\r\n", ""), []string{"CLIENT_ERROR bad command line format"})
	eq(t, "verbosity", c.do("verbosity invalid\r\n", ""), []string{"CLIENT_ERROR bad command line format"})
}

// TestMemcachedStatsGroups: with one server, memcached's own stats groups
// are the server's; stats detail works as memcached's stats-detail.t
// expects.
func TestMemcachedStatsGroups(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(singleServer, m), proxy.Options{})
	c := dial(t, "tcp", addr)
	c.do("set foo:123 0 0 6\r\nfooval\r\n", "STORED")
	has := func(group, want string) {
		t.Helper()
		lines := c.do("stats "+group+"\r\n", "END")
		if lines[len(lines)-1] != "END" || !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("stats %s: %q, want END and %q", group, lines, want)
		}
	}
	has("settings", "STAT maxbytes 67108864")
	has("slabs", "STAT active_slabs 1")
	has("items", ":number 1")
	has("sizes", "STAT ")
	has("conns", ":addr ")
	has("cachedump 1 10", "END") // items show once they leave the hot LRU
	eq(t, "reset", c.do("stats reset\r\n", "RESET"), []string{"RESET"})
	eq(t, "detail dump", c.do("stats detail dump\r\n", "END"), []string{"END"})
	eq(t, "detail on", c.do("stats detail on\r\n", "OK"), []string{"OK"})
	c.do("get foo:123\r\n", "END")
	c.do("delete foo:125\r\n", "NOT_FOUND")
	eq(t, "detail dump", c.do("stats detail dump\r\n", "END"), []string{"PREFIX foo get 1 hit 1 set 0 del 1", "END"})
	eq(t, "detail off", c.do("stats detail off\r\n", "OK"), []string{"OK"})
	eq(t, "detail usage", c.do("stats detail\r\n", ""), []string{"CLIENT_ERROR usage: stats detail on|off|dump"})
	eq(t, "unknown group", c.do("stats nonsense\r\n", ""), []string{"ERROR"})
	// The proxy's own groups are the proxy's.
	has("", "STAT num_servers 1")
}

// TestMemcachedStatsGroupsSeveralServers: with several servers the proxy
// cannot answer for one of them: settings changes go to all, reports are
// empty groups, so that clients reading to END go on.
func TestMemcachedStatsGroupsSeveralServers(t *testing.T) {
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0","$1"]}},"route":"PoolRoute|A"}`, m0, m1), proxy.Options{})
	c := dial(t, "tcp", addr)
	for _, g := range []string{"slabs", "items", "settings", "sizes", "conns", "cachedump 1 10", "detail dump"} {
		eq(t, "stats "+g, c.do("stats "+g+"\r\n", "END"), []string{"END"})
	}
	eq(t, "detail on", c.do("stats detail on\r\n", "OK"), []string{"OK"})
	for _, m := range []*memcachedtest.Server{m0, m1} {
		if got := m.Do("stats settings\r\n", "END"); !strings.Contains(got, "STAT detail_enabled yes") {
			t.Errorf("%s: detail not enabled:\n%s", m.Addr, got)
		}
	}
	eq(t, "detail off", c.do("stats detail off\r\n", "OK"), []string{"OK"})
	eq(t, "reset", c.do("stats reset\r\n", "RESET"), []string{"RESET"})
	m1.Stop()
	if got := c.do("stats reset\r\n", "RESET"); len(got) != 1 || !strings.HasPrefix(got[0], "SERVER_ERROR ") {
		t.Errorf("reset with a server down: %q", got)
	}
}
