package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/dnstest"
	"github.com/mcroute/mcroute/internal/loadtest"
	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// walkthroughPolicy is the README's policy: the basic example's pool with
// three local memcached servers.
const walkthroughPolicy = `package demo

pools: A: servers: ["127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213"]

route: {type: "PoolRoute", pool: "A"}
`

// walkthroughJSON is the same config as mcrouter JSON.
const walkthroughJSON = `{
  "pools": {"A": {"servers": ["127.0.0.1:11211", "127.0.0.1:11212", "127.0.0.1:11213"]}},
  "route": "PoolRoute|A"
}
`

// withPorts replaces the README's ports 11211, 11212, ... with the
// servers' real ones.
func withPorts(text string, ms ...*memcachedtest.Server) string {
	for i, m := range ms {
		text = strings.ReplaceAll(text, fmt.Sprintf("127.0.0.1:%d", 11211+i), m.Addr)
	}
	return text
}

func startThree(t *testing.T) []*memcachedtest.Server {
	return []*memcachedtest.Server{memcachedtest.Start(t), memcachedtest.Start(t), memcachedtest.Start(t)}
}

// TestWalkthrough follows the README: three memcached, `mcroute serve
// --config` on the policy (CUE) or its mcrouter JSON, and the nc example's
// exact bytes.
func TestWalkthrough(t *testing.T) {
	for _, tc := range []struct{ name, file, text string }{
		{"cue", "policy.cue", walkthroughPolicy},
		{"json", "mcrouter.json", walkthroughJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := startThree(t)
			cfg := writeFile(t, t.TempDir(), tc.file, withPorts(tc.text, ms...))
			p := serve(t, "--config", cfg)
			c := p.dial()
			got := c.do("set mykey 0 0 5\r\nhello\r\nget mykey\r\n", "END")
			if want := "STORED\r\nVALUE mykey 0 5\r\nhello\r\nEND\r\n"; got != want {
				t.Fatalf("walkthrough: got %q, want %q", got, want)
			}
			holders := 0
			for _, m := range ms {
				if v, ok := m.Get("mykey"); ok && v == "hello" {
					holders++
				}
			}
			if holders != 1 {
				t.Errorf("mykey is on %d servers, want 1 (PoolRoute hashes each key to one)", holders)
			}
			// The README's admin key example: mykey hashes to the
			// first server.
			want := fmt.Sprintf("VALUE __mcrouter__.route(get,mykey) 0 %d\r\n%s\r\nEND\r\n", len(ms[0].Addr), ms[0].Addr)
			if got := c.do("get __mcrouter__.route(get,mykey)\r\n", "END"); got != want {
				t.Errorf("route admin key: %q, want %q", got, want)
			}
			if v, ok := ms[0].Get("mykey"); !ok || v != "hello" {
				t.Errorf("mykey is not on the first server (%q %v)", v, ok)
			}
			p.signal(syscall.SIGTERM)
			if code := p.wait(10 * time.Second); code != 0 {
				t.Errorf("exit %d after SIGTERM", code)
			}
		})
	}
}

// drainConfig sends keys starting with "slow:" through a 400 ms latency
// injection, so that requests are in flight when SIGTERM arrives.
const drainConfig = `{
  "pools": {"A": {"servers": ["127.0.0.1:11211", "127.0.0.1:11212"]}},
  "route": {"type": "PrefixSelectorRoute",
    "policies": {"slow:": {"type": "LatencyInjectionRoute", "child": "PoolRoute|A", "before_latency_ms": 400}},
    "wildcard": "PoolRoute|A"}
}`

// TestSIGTERMUnderLoad: with clients sending requests and slow requests
// in flight, SIGTERM makes serve refuse new connections at once, finish
// every request it has read, close the connections and exit 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(drainConfig, m0, m1))
	p := serve(t, "--config", cfg, "--drain-timeout", "10s")
	network, addr := p.network()
	l := loadtest.Start(t, network, addr, 8)

	// Slow requests, read by the proxy and waiting in the latency route.
	const slow = 6
	var slowConns []*client
	for i := 0; i < slow; i++ {
		c := p.dial()
		_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(c.c, "set slow:%d 0 0 2\r\nok\r\n", i); err != nil {
			t.Fatal(err)
		}
		slowConns = append(slowConns, c)
	}
	time.Sleep(150 * time.Millisecond)
	sentBefore := l.Counts().Sent
	p.signal(syscall.SIGTERM)
	p.waitLog("draining")

	// New connections are refused while the drain goes on (the log line
	// comes just before the listeners close).
	refused := false
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Error("new connections are still accepted after SIGTERM")
	}
	// Every in-flight request completes.
	for i, c := range slowConns {
		line, err := c.r.ReadString('\n')
		if err != nil || line != "STORED\r\n" {
			t.Errorf("in-flight request %d: %q %v", i, line, err)
		}
		if _, err := c.r.ReadString('\n'); err == nil {
			t.Errorf("connection %d still open after its in-flight request", i)
		}
	}
	code := p.wait(15 * time.Second)
	lc := l.Stop(t, "load during SIGTERM")
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	if failed := lc.FailedSets + lc.FailedGets; failed != 0 || lc.Wrong != 0 {
		t.Errorf("%d failed and %d wrong replies during the drain", failed, lc.Wrong)
	}
	// A connection may lose only the request it wrote after the proxy
	// stopped reading it; there is one per client at most.
	if lc.Lost > 8 || lc.Sent != lc.Answered+lc.Lost {
		t.Errorf("sent %d, answered %d, lost %d: a client lost more than its last request", lc.Sent, lc.Answered, lc.Lost)
	}
	// Requests written before SIGTERM are answered, except the last one of
	// a client if it was still in the socket (not read) when the drain
	// began: at most one per client.
	if lc.Answered+8 < sentBefore {
		t.Errorf("only %d requests answered, %d had been sent before SIGTERM", lc.Answered, sentBefore)
	}
	for _, m := range []*memcachedtest.Server{m0, m1} {
		for i := 0; i < slow; i++ {
			if v, ok := m.Get(fmt.Sprintf("slow:%d", i)); ok && v != "ok" {
				t.Errorf("slow:%d = %q", i, v)
			}
		}
	}
	if !strings.Contains(p.Log.String(), "stopped") {
		t.Errorf("no \"stopped\" log line:\n%s", p.Log)
	}
}

const (
	// reloadV1 writes to server 0 only.
	reloadV1 = `{"pools": {"A": {"servers": ["127.0.0.1:11211"]}}, "route": "PoolRoute|A"}`
	// reloadV2 writes to both servers and reads from server 0.
	reloadV2 = `{"pools": {"A": {"servers": ["127.0.0.1:11211"]}, "B": {"servers": ["127.0.0.1:11212"]}},
  "route": {"type": "OperationSelectorRoute",
    "default_policy": {"type": "AllSyncRoute", "children": ["PoolRoute|A", "PoolRoute|B"]},
    "operation_policies": {"get": "PoolRoute|A"}}}`
	// reloadBroken is not valid JSON.
	reloadBroken = `{"pools": {"A": {"servers": ["127.0.0.1:11211"]}}, "route": `
)

// TestReloadUnderLoad: under load, a good config (delivered by SIGHUP or
// by replacing the file) swaps in with no failed request; a broken one is
// rejected, logged and counted in the metrics, and the previous config
// keeps serving.
func TestReloadUnderLoad(t *testing.T) {
	for _, how := range []string{"SIGHUP", "file change"} {
		t.Run(strings.ReplaceAll(how, " ", "_"), func(t *testing.T) {
			m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
			cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(reloadV1, m0, m1))
			metrics := fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
			args := []string{"--config", cfg, "--metrics-listen", metrics}
			if how == "SIGHUP" {
				args = append(args, "--disable-reload-configs")
			}
			p := serve(t, args...)
			network, addr := p.network()
			l := loadtest.Start(t, network, addr, 8)
			time.Sleep(200 * time.Millisecond)
			deliver := func(text string) {
				replaceFile(t, cfg, text)
				if how == "SIGHUP" {
					p.signal(syscall.SIGHUP)
				}
			}
			reloads := func(result string) string {
				return metric(scrape(t, metrics), `mcroute_config_reloads_total{result="`+result+`"}`)
			}

			deliver(withPorts(reloadV2, m0, m1))
			waitFor(t, "the good config to be loaded", func() bool { return reloads("success") == "2" })
			c := p.dial()
			if got := c.do("set after-reload 0 0 2\r\nv2\r\n", "STORED"); got != "STORED\r\n" {
				t.Fatalf("set after reload: %q", got)
			}
			if v, ok := m1.Get("after-reload"); !ok || v != "v2" {
				t.Fatalf("the new config does not write to server 1 (%q %v)", v, ok)
			}
			time.Sleep(200 * time.Millisecond)

			deliver(reloadBroken)
			waitFor(t, "the broken config to be counted", func() bool { return reloads("failure") == "1" })
			p.waitLog("config reload failed")
			time.Sleep(200 * time.Millisecond)
			if got := c.do("set after-broken 0 0 2\r\nv3\r\n", "STORED"); got != "STORED\r\n" {
				t.Fatalf("set after a broken config: %q", got)
			}
			if v, ok := m1.Get("after-broken"); !ok || v != "v3" {
				t.Errorf("the previous config stopped serving after a broken one (%q %v)", v, ok)
			}
			lc := l.Stop(t, "load during reloads ("+how+")")
			if failed := lc.FailedSets + lc.FailedGets; failed != 0 || lc.Lost != 0 || lc.Wrong != 0 {
				t.Errorf("reloads under load: %d failed, %d lost, %d wrong", failed, lc.Lost, lc.Wrong)
			}
			if lc.Sent != lc.Answered {
				t.Errorf("sent %d, answered %d", lc.Sent, lc.Answered)
			}
			if got := reloads("success"); got != "2" {
				t.Errorf("successful loads %s, want 2 (start and reload)", got)
			}
			p.signal(syscall.SIGTERM)
			if code := p.wait(10 * time.Second); code != 0 {
				t.Errorf("exit %d", code)
			}
		})
	}
}

// documentedMetrics are the series proxy.Metrics documents.
var documentedMetrics = []string{
	"mcroute_requests_total", "mcroute_request_duration_seconds_bucket",
	"mcroute_client_connections", "mcroute_client_connections_total", "mcroute_client_connections_rejected_total",
	"mcroute_destination_up", "mcroute_destination_tko", "mcroute_destination_inflight_requests",
	"mcroute_destination_pending_requests", "mcroute_destination_requests_total",
	"mcroute_destination_latency_seconds_avg", "mcroute_destination_tko_events_total", "mcroute_destination_connections",
	"mcroute_config_reloads_total", "mcroute_config_last_reload_timestamp_seconds", "mcroute_config_age_seconds",
	"mcroute_poll_mode_polling", "mcroute_poll_mode_polls_total",
	"go_goroutines", "process_resident_memory_bytes",
}

// TestMetricsEndpoint scrapes --metrics-listen after some traffic.
func TestMetricsEndpoint(t *testing.T) {
	ms := startThree(t)
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(walkthroughJSON, ms...))
	metrics := fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
	p := serve(t, "--config", cfg, "--metrics-listen", metrics)
	c := p.dial()
	c.do("set a 0 0 1\r\nx\r\n", "STORED")
	c.do("get a\r\n", "END")
	c.do("get nothere\r\n", "END")
	// The connection that waited for serve to listen may still be open
	// for a moment.
	waitFor(t, "one client connection", func() bool { return metric(scrape(t, metrics), "mcroute_client_connections") == "1" })
	text := scrape(t, metrics)
	for _, name := range documentedMetrics {
		if !strings.Contains(text, "\n"+name+"{") && !strings.Contains(text, "\n"+name+" ") {
			t.Errorf("metric %s is missing", name)
		}
	}
	for series, want := range map[string]string{
		`mcroute_requests_total{op="set",result="stored"}`:   "1",
		`mcroute_requests_total{op="get",result="found"}`:    "1",
		`mcroute_requests_total{op="get",result="notfound"}`: "1",
		`mcroute_config_reloads_total{result="success"}`:     "1",
		`mcroute_config_reloads_total{result="failure"}`:     "0",
	} {
		if got := metric(text, series); got != want {
			t.Errorf("%s = %q, want %q", series, got, want)
		}
	}
	for _, m := range ms {
		if got := metric(text, `mcroute_destination_up{server="`+m.Addr+`"}`); got != "1" {
			t.Errorf("destination_up of %s = %q", m.Addr, got)
		}
	}
	resp, err := httpGet("http://" + metrics + "/healthz")
	if err != nil || resp != "ok\n" {
		t.Errorf("/healthz: %q %v", resp, err)
	}
}

// TestUnixSocketListener serves on a unix socket with the default mode
// (0660) and with --socket-mode, next to a TCP listener.
func TestUnixSocketListener(t *testing.T) {
	m := memcachedtest.Start(t)
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(reloadV1, m))
	for _, tc := range []struct {
		args []string
		want os.FileMode
	}{
		{nil, 0o660},
		{[]string{"--socket-mode", "0600"}, 0o600},
	} {
		t.Run(fmt.Sprintf("%04o", tc.want), func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "mcroute.sock")
			tcp := fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
			p := serve(t, append([]string{"--config", cfg, "--listen", "unix:" + sock, "--listen", tcp}, tc.args...)...)
			fi, err := os.Stat(sock)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != tc.want {
				t.Errorf("socket mode %v, want %04o", fi.Mode(), tc.want)
			}
			c := p.dial()
			if got := c.do("set u 0 0 2\r\nok\r\nget u\r\n", "END"); got != "STORED\r\nVALUE u 0 2\r\nok\r\nEND\r\n" {
				t.Errorf("over the unix socket: %q", got)
			}
			tc := &serveProc{t: t, Addr: tcp}
			if got := tc.dial().do("get u\r\n", "END"); got != "VALUE u 0 2\r\nok\r\nEND\r\n" {
				t.Errorf("over TCP: %q", got)
			}
			p.signal(syscall.SIGTERM)
			if code := p.wait(10 * time.Second); code != 0 {
				t.Errorf("exit %d", code)
			}
			if _, err := os.Stat(sock); !os.IsNotExist(err) {
				t.Errorf("the socket file is left behind after exit: %v", err)
			}
		})
	}
}

// discoveryPolicy's pool finds its servers through the SRV records of
// _memcache._tcp.cache.e2e.test, resolved every 100 ms.
const discoveryPolicy = `package demo

pools: A: discovery: {name: "_memcache._tcp.cache.e2e.test", interval_ms: 100}

route: {type: "PoolRoute", pool: "A"}
`

// TestDNSDiscovery: serve resolves a discovery pool through --dns-server
// and follows a membership change: keys start landing on a server added
// to the SRV records.
func TestDNSDiscovery(t *testing.T) {
	ms := startThree(t)
	dns := dnstest.Start(t)
	const name = "_memcache._tcp.cache.e2e.test"
	srv := func(n int) []net.SRV {
		var out []net.SRV
		for i := 0; i < n; i++ {
			host := fmt.Sprintf("mc-%d.cache.e2e.test", i)
			dns.SetHost(host, "127.0.0.1")
			out = append(out, net.SRV{Target: host, Port: uint16(ms[i].Port)})
		}
		return out
	}
	dns.SetSRV(name, srv(2)...)
	cfg := writeFile(t, t.TempDir(), "policy.cue", discoveryPolicy)
	metrics := fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
	p := serve(t, "--config", cfg, "--dns-server", dns.Addr, "--metrics-listen", metrics)
	c := p.dial()
	spread := func(prefix string) [3]int {
		var n [3]int
		for i := 0; i < 60; i++ {
			k := fmt.Sprintf("%s%d", prefix, i)
			if got := c.do("set "+k+" 0 0 1\r\nx\r\n", "STORED"); got != "STORED\r\n" {
				t.Fatalf("set %s: %q", k, got)
			}
			for j, m := range ms {
				if _, ok := m.Get(k); ok {
					n[j]++
				}
			}
		}
		return n
	}
	before := spread("before:")
	if before[0] == 0 || before[1] == 0 || before[2] != 0 {
		t.Fatalf("with two servers discovered, keys landed %v", before)
	}
	dns.SetSRV(name, srv(3)...)
	round := 0
	var after [3]int
	waitFor(t, "keys to land on the discovered third server", func() bool {
		round++
		after = spread(fmt.Sprintf("after%d:", round))
		return after[2] > 0
	})
	t.Logf("keys per server: before %v, after the third server appeared %v", before, after)
	if got := metric(scrape(t, metrics), `mcroute_discovery_changes_total{pool="A"}`); got == "" || got == "0" {
		t.Errorf("discovery changes not counted: %q", got)
	}
}

// TestPollInterval: serve in poll mode answers as usual and says so in its
// log; an interval out of range is refused before serving.
func TestPollInterval(t *testing.T) {
	ms := startThree(t)
	cfg := writeFile(t, t.TempDir(), "policy.cue", withPorts(walkthroughPolicy, ms...))
	metrics := fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
	p := serve(t, "--config", cfg, "--poll-interval", "50us", "--metrics-listen", metrics)
	c := p.dial()
	if got, want := c.do("set mykey 0 0 5\r\nhello\r\nget mykey\r\n", "END"), "STORED\r\nVALUE mykey 0 5\r\nhello\r\nEND\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n, err := strconv.Atoi(metric(scrape(t, metrics), "mcroute_poll_mode_polls_total")); err != nil || n == 0 {
		t.Errorf("mcroute_poll_mode_polls_total = %d (%v) after requests, want > 0", n, err)
	}
	// With no client sending, polling stops (and the core is free).
	waitFor(t, "poll mode to go idle", func() bool { return metric(scrape(t, metrics), "mcroute_poll_mode_polling") == "0" })
	if log := p.Log.String(); !strings.Contains(log, "poll mode") || !strings.Contains(log, "interval=50") {
		t.Errorf("no poll mode line in the log:\n%s", log)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}

	bad := startServe(t, "--config", cfg, "--poll-interval", "5ms")
	if code := bad.wait(60 * time.Second); code == 0 {
		t.Fatalf("serve accepted --poll-interval 5ms:\n%s", bad.Log)
	}
	if log := bad.Log.String(); !strings.Contains(log, "--poll-interval") || !strings.Contains(log, "at most 1ms") {
		t.Errorf("unclear error for --poll-interval 5ms:\n%s", log)
	}
}
