package proxy_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// replicated is the production config of the compile issue, with the two
// servers as placeholders.
const replicated = `{"pools": {"A": {"servers": ["$0","$1"]},
           "B": {"servers": ["$1","$0"]}},
 "route": {"type": "OperationSelectorRoute",
   "operation_policies": {
     "add": "AllFastestRoute|Pool|A", "append": "AllFastestRoute|Pool|A", "decr": "AllFastestRoute|Pool|A",
     "delete": "AllFastestRoute|Pool|A", "incr": "AllFastestRoute|Pool|A", "prepend": "AllFastestRoute|Pool|A",
     "replace": "AllFastestRoute|Pool|A", "set": "AllFastestRoute|Pool|A",
     "get":  {"type": "RandomRoute", "children": ["MissFailoverRoute|Pool|A", "MissFailoverRoute|Pool|B"]},
     "gets": {"type": "RandomRoute", "children": ["MissFailoverRoute|Pool|A", "MissFailoverRoute|Pool|B"]}}}}`

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplicatedExample: through the replicated production config, a set
// lands on both servers, a get succeeds when either server is stopped, and a
// delete reaches both.
func TestReplicatedExample(t *testing.T) {
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(replicated, m0, m1), proxy.Options{
		Upstream: upstream.Options{ProbeInitial: 50 * time.Millisecond, ProbeMax: 100 * time.Millisecond},
	})
	c := dial(t, "tcp", addr)
	eq(t, "set", c.do("set mykey 0 0 5\r\nhello\r\n", "STORED"), []string{"STORED"})
	// AllFastest answers after the first server; the other completes in
	// the background.
	waitFor(t, "the set to reach both servers", func() bool {
		v0, ok0 := m0.Get("mykey")
		v1, ok1 := m1.Get("mykey")
		return ok0 && ok1 && v0 == "hello" && v1 == "hello"
	})
	eq(t, "get", c.do("get mykey\r\n", "END"), []string{"VALUE mykey 0 5", "hello", "END"})

	for i, down := range []*memcachedtest.Server{m0, m1} {
		down.Kill()
		for j := 0; j < 20; j++ { // RandomRoute: exercise both replica orders
			eq(t, fmt.Sprintf("get with server %d stopped (try %d)", i, j), c.do("get mykey\r\n", "END"), []string{"VALUE mykey 0 5", "hello", "END"})
		}
		down.Restart()
		// The restarted server is empty: put the key back. While the
		// proxy still has the server marked down (until a probe
		// succeeds), AllFastestRoute skips it, so retry.
		waitFor(t, "a set to reach the restarted server", func() bool {
			eq(t, "set after restart", c.do("set mykey 0 0 5\r\nhello\r\n", "STORED"), []string{"STORED"})
			time.Sleep(20 * time.Millisecond)
			v, ok := down.Get("mykey")
			return ok && v == "hello"
		})
	}

	eq(t, "delete", c.do("delete mykey\r\n", "DELETED"), []string{"DELETED"})
	waitFor(t, "the delete to reach both servers", func() bool {
		_, ok0 := m0.Get("mykey")
		_, ok1 := m1.Get("mykey")
		return !ok0 && !ok1
	})
	eq(t, "get after delete", c.do("get mykey\r\n", "END"), []string{"END"})
}

// TestProtocol covers the classic and meta commands a client sees through
// the proxy, with memcached's exact replies.
func TestProtocol(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{EnableFlush: true})
	c := dial(t, "tcp", addr)
	steps := []struct{ send, end string }{
		{"set a 5 0 3\r\nabc\r\n", "STORED"},
		{"set b 0 0 1 noreply\r\nx\r\nget a b c\r\n", "END"},
		{"gets a\r\n", "END"},
		{"add a 0 0 1\r\nz\r\n", "NOT_STORED"},
		{"replace nothere 0 0 1\r\nz\r\n", "NOT_STORED"},
		{"append a 0 0 2\r\nde\r\n", "STORED"},
		{"prepend a 0 0 2\r\nxy\r\n", "STORED"},
		{"get a\r\n", "END"},
		{"set n 0 0 2\r\n10\r\n", "STORED"},
		{"incr n 5\r\n", "15"},
		{"decr n 20\r\n", "0"},
		{"incr nothere 1\r\n", "NOT_FOUND"},
		{"touch a 100\r\n", "TOUCHED"},
		{"gat 0 a\r\n", "END"},
		{"delete a\r\n", "DELETED"},
		{"delete a\r\n", "NOT_FOUND"},
		{"mn\r\n", "MN"},
		{"ms mk 2 T0 F7\r\nhi\r\n", "HD"},
		{"mg mk v f\r\n", "hi"},
		{"mg missing v\r\n", "EN"},
		{"md mk\r\n", "HD"},
		{"version\r\n", ""},
		{"verbosity 1\r\n", "OK"},
		{"bogus\r\n", "ERROR"},
		{"get " + strings.Repeat("k", 251) + "\r\n", ""},
		{"set k 0 0 3\r\nabcd\r\n", ""},
		{"", ""}, // memcached reads the rest of the line, "\n", as an empty command
		{"flush_all\r\n", "OK"},
		{"get b\r\n", "END"},
	}
	var got []string
	for _, st := range steps {
		c.send(st.send)
		if st.end == "" {
			got = append(got, c.line())
			continue
		}
		got = append(got, strings.Join(c.until(st.end), "|"))
	}
	want := []string{
		"STORED",
		"VALUE a 5 3|abc|VALUE b 0 1|x|END",
		"", // gets: checked below
		"NOT_STORED",
		"NOT_STORED",
		"STORED",
		"STORED",
		"VALUE a 5 7|xyabcde|END",
		"STORED",
		"15",
		"0",
		"NOT_FOUND",
		"TOUCHED",
		"VALUE a 5 7|xyabcde|END",
		"DELETED",
		"NOT_FOUND",
		"MN",
		"HD",
		"VA 2 f7|hi",
		"EN",
		"HD",
		"VERSION " + proxy.MemcachedVersion,
		"OK",
		"ERROR",
		"CLIENT_ERROR bad command line format",
		"CLIENT_ERROR bad data chunk",
		"ERROR",
		"OK",
		"END",
	}
	if !strings.HasPrefix(got[2], "VALUE a 5 3 ") || !strings.HasSuffix(got[2], "|abc|END") {
		t.Errorf("gets: %q", got[2])
	}
	got[2] = ""
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d %q:\n got %q\nwant %q", i, steps[i].send, got[i], want[i])
		}
	}
}

// TestPipelining sends many commands in one write and expects the replies
// in order.
func TestPipelining(t *testing.T) {
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0","$1"]}},"route":"PoolRoute|A"}`, m0, m1), proxy.Options{})
	c := dial(t, "tcp", addr)
	var b strings.Builder
	const n = 500
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "set k%d 0 0 %d\r\n%s\r\n", i, len(fmt.Sprint(i)), fmt.Sprint(i))
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "get k%d\r\n", i)
	}
	var keys []string
	for i := 0; i < n; i++ {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	fmt.Fprintf(&b, "get %s\r\n", strings.Join(keys, " "))
	go c.send(b.String())
	for i := 0; i < n; i++ {
		if l := c.line(); l != "STORED" {
			t.Fatalf("set %d: %q", i, l)
		}
	}
	for i := 0; i < n; i++ {
		want := []string{fmt.Sprintf("VALUE k%d 0 %d", i, len(fmt.Sprint(i))), fmt.Sprint(i), "END"}
		eq(t, fmt.Sprintf("get %d", i), c.until("END"), want)
	}
	got := c.until("END")
	if len(got) != 2*n+1 {
		t.Fatalf("multiget: %d lines", len(got))
	}
	for i := 0; i < n; i++ {
		if got[2*i] != fmt.Sprintf("VALUE k%d 0 %d", i, len(fmt.Sprint(i))) {
			t.Fatalf("multiget item %d out of order: %q", i, got[2*i])
		}
	}
	// Both servers got a share of the keys.
	if _, ok := m0.Get("k1"); !ok {
		if _, ok := m1.Get("k1"); !ok {
			t.Error("k1 is on neither server")
		}
	}
}

// TestManyClients runs concurrent clients and checks every reply.
func TestManyClients(t *testing.T) {
	m := memcachedtest.Start(t)
	s, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	setGetClients(t, addr, "c", 50, 50)
	// Connection pooling: 50 clients, one connection to the server.
	for _, d := range s.Registry().Dests() {
		if st := d.Stats(); st.Conns != 1 {
			t.Errorf("%d upstream connections, want 1", st.Conns)
		}
	}
}

// TestAdminKeys checks mcrouter's __mcrouter__.* keys.
func TestAdminKeys(t *testing.T) {
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	cfg := withServers(replicated, m0, m1)
	_, addr := startProxy(t, cfg, proxy.Options{Version: "1.2.3"})
	c := dial(t, "tcp", addr)
	get := func(key string) string {
		lines := c.do("get "+key+"\r\n", "END")
		if len(lines) < 2 {
			t.Fatalf("get %s: %q", key, lines)
		}
		return strings.Join(lines[1:len(lines)-1], "\n")
	}
	eq(t, "version", get("__mcrouter__.version"), "1.2.3 mcroute")
	eq(t, "route(set,k)", get("__mcrouter__.route(set,k)"), m0.Addr+"\n"+m1.Addr)
	if h := get("__mcrouter__.route_handles(get,k)"); !strings.HasPrefix(h, "root\n") || !strings.Contains(h, "pool=A") {
		t.Errorf("route_handles: %q", h)
	}
	if age := get("__mcrouter__.config_age"); age != "0" && age != "1" {
		t.Errorf("config_age %q", age)
	}
	if d := get("__mcrouter__.config_md5_digest"); len(d) != 32 {
		t.Errorf("config_md5_digest %q", d)
	}
	if e := get("__mcrouter__.nonsense"); !strings.HasPrefix(e, "ERROR: ") {
		t.Errorf("unknown admin command: %q", e)
	}
	// With admin keys disabled they are ordinary keys.
	_, addr2 := startProxy(t, cfg, proxy.Options{DisableAdmin: true})
	c2 := dial(t, "tcp", addr2)
	eq(t, "disabled admin", c2.do("get __mcrouter__.version\r\n", "END"), []string{"END"})
}

// TestStats checks the stats groups.
func TestStats(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	c := dial(t, "tcp", addr)
	c.do("set a 0 0 1\r\nx\r\n", "STORED")
	c.do("get a\r\n", "END")
	basic := strings.Join(c.do("stats\r\n", "END"), "\n")
	for _, want := range []string{"STAT uptime ", "STAT num_client_connections 1", "STAT num_servers 1", "STAT cmd_get 1", "STAT get_hits 1", "STAT config_failures 0"} {
		if !strings.Contains(basic, want) {
			t.Errorf("stats lacks %q:\n%s", want, basic)
		}
	}
	servers := c.do("stats servers\r\n", "END")
	if len(servers) != 2 || !strings.Contains(servers[0], m.Addr+":ascii:plain:notcompressed-1000") || !strings.Contains(servers[0], "up:1") {
		t.Errorf("stats servers: %q", servers)
	}
	eq(t, "bad group", c.do("stats nonsense\r\n", "END"), []string{"ERROR"})
}

func TestFlushDisabledByDefault(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	c := dial(t, "tcp", addr)
	c.do("set a 0 0 1\r\nx\r\n", "STORED")
	eq(t, "flush_all", c.do("flush_all\r\n", ""), []string{"SERVER_ERROR Command disabled"})
	if _, ok := m.Get("a"); !ok {
		t.Error("flush_all reached the server")
	}
}

// TestUnixSockets: clients on a unix socket (with its mode), servers on
// unix sockets too.
func TestUnixSockets(t *testing.T) {
	m := memcachedtest.StartUnix(t)
	s := proxy.New(proxy.Options{})
	if err := s.SetConfig(decode(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m)), proxy.ConfigInfo{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mcroute.sock")
	ln, err := proxy.Listen("unix:"+path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	c := dial(t, "unix", path)
	eq(t, "set", c.do("set u 0 0 2\r\nok\r\n", "STORED"), []string{"STORED"})
	eq(t, "get", c.do("get u\r\n", "END"), []string{"VALUE u 0 2", "ok", "END"})
	if v, ok := m.Get("u"); !ok || v != "ok" {
		t.Errorf("server has %q %v", v, ok)
	}
	// A second proxy cannot steal a live socket.
	if _, err := proxy.Listen("unix:"+path, 0); err == nil {
		t.Error("listening on a live socket succeeded")
	}
}

// TestDefaultSocketMode checks the 0660 default.
func TestDefaultSocketMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.sock")
	ln, err := proxy.Listen("unix:"+path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("default socket mode %v, want 0660", fi.Mode().Perm())
	}
}

// TestReload: a new config swaps in and keeps the connection to a server
// present in both; a broken one is refused and the old one keeps serving.
func TestReload(t *testing.T) {
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	cfg1 := withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m0, m1)
	cfg2 := withServers(`{"pools":{"A":{"servers":["$0"]},"B":{"servers":["$1"]}},"route":{"type":"AllSyncRoute","children":["PoolRoute|A","PoolRoute|B"]}}`, m0, m1)
	s, addr := startProxy(t, cfg1, proxy.Options{})
	c := dial(t, "tcp", addr)
	eq(t, "set 1", c.do("set a 0 0 1\r\n1\r\n", "STORED"), []string{"STORED"})
	before := s.Registry().Dests()
	if err := s.SetConfig(decode(t, cfg2), proxy.ConfigInfo{}); err != nil {
		t.Fatal(err)
	}
	eq(t, "set 2", c.do("set b 0 0 1\r\n2\r\n", "STORED"), []string{"STORED"})
	if _, ok := m1.Get("b"); !ok {
		t.Error("the new config did not reach server 1")
	}
	found := false
	for _, d := range s.Registry().Dests() {
		if d == before[0] {
			found = true
		}
	}
	if !found {
		t.Error("the destination of the unchanged server was rebuilt")
	}
	// A config that cannot be built keeps the old one.
	bad := decode(t, `{"pools":{"A":{"servers":["127.0.0.1:1:caret"]}},"route":"PoolRoute|A"}`)
	if err := s.SetConfig(bad, proxy.ConfigInfo{}); err == nil {
		t.Fatal("a caret config was accepted")
	}
	eq(t, "set 3", c.do("set c 0 0 1\r\n3\r\n", "STORED"), []string{"STORED"})
	if _, ok := m1.Get("c"); !ok {
		t.Error("the old config stopped serving after a failed reload")
	}
	stats := strings.Join(c.do("stats\r\n", "END"), "\n")
	if !strings.Contains(stats, "STAT config_failures 1") {
		t.Errorf("failed reload not counted:\n%s", stats)
	}
}

// TestShutdownDrains: Shutdown refuses new connections and lets the
// requests in flight complete.
func TestShutdownDrains(t *testing.T) {
	m := memcachedtest.Start(t)
	s := proxy.New(proxy.Options{})
	cfg := withServers(`{"pools":{"A":{"servers":["$0"]}},"route":{"type":"LatencyInjectionRoute","child":"PoolRoute|A","before_latency_ms":300}}`, m)
	if err := s.SetConfig(decode(t, cfg), proxy.ConfigInfo{}); err != nil {
		t.Fatal(err)
	}
	ln, err := proxy.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go s.Serve(ln)
	c := dial(t, "tcp", addr)
	c.send("set slow 0 0 1\r\nx\r\n")
	time.Sleep(50 * time.Millisecond) // the request is now in flight
	done := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	eq(t, "in-flight request", c.line(), "STORED")
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("a new connection was accepted after shutdown")
	}
}

// TestMaxConns refuses connections over the cap with an error line.
func TestMaxConns(t *testing.T) {
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{MaxConns: 1})
	c1 := dial(t, "tcp", addr)
	c1.send("version\r\n")
	eq(t, "first client", c1.line(), "VERSION "+proxy.MemcachedVersion)
	c2 := dial(t, "tcp", addr)
	eq(t, "second client", c2.line(), "SERVER_ERROR too many open connections")
}
