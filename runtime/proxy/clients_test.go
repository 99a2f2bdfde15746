package proxy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// Real clients against the proxy. Each test skips with a clear message when
// its client is not installed; CI installs them all (see .ci/run).

// TestMemccapable runs libmemcached's memccapable ASCII suite against the
// proxy in front of one memcached: every test must pass (twemproxy passes
// 6 of 27).
func TestMemccapable(t *testing.T) {
	bin, err := exec.LookPath("memccapable")
	if err != nil {
		t.Skip("memccapable is not installed (apt-get install libmemcached-tools)")
	}
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{EnableFlush: true})
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(bin, "-a", "-h", host, "-p", port).CombinedOutput()
	text := string(out)
	passed := strings.Count(text, "[pass]")
	t.Logf("memccapable -a: %d passed\n%s", passed, text)
	if err != nil || strings.Contains(text, "[FAIL]") || !strings.Contains(text, "All tests passed") {
		t.Fatalf("memccapable failed (%v)", err)
	}
	if passed != 27 {
		t.Fatalf("memccapable passed %d ASCII tests, want 27", passed)
	}
}

// systemPython returns Debian's python3, where python3-pymemcache lives.
func systemPython(t *testing.T, module string) string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			if exec.Command(path, "-c", "import "+module).Run() == nil {
				return path
			}
		}
	}
	t.Skipf("python3 with %s is not installed (apt-get install python3-pymemcache)", module)
	return ""
}

// TestPymemcache uses pymemcache's Client over TCP, the way an application
// pod talks to the node-local proxy.
func TestPymemcache(t *testing.T) {
	py := systemPython(t, "pymemcache")
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(replicated, m0, m1), proxy.Options{})
	host, port, _ := net.SplitHostPort(addr)
	script := `
import sys, time
from pymemcache.client.base import Client
c = Client((sys.argv[1], int(sys.argv[2])), connect_timeout=5, timeout=5, default_noreply=False)
assert c.set("pykey", b"hello from python") is True
assert c.get("pykey") == b"hello from python", c.get("pykey")
assert c.get("nothere") is None
c.set_many({"a": b"1", "b": b"2"})
assert c.get_many(["a", "b", "nothere"]) == {"a": b"1", "b": b"2"}
assert c.add("pykey", b"x") is False
assert c.incr("nothere", 1) is None
c.set("n", b"10")
# The set was answered by the fastest replica; incr goes to both and takes
# the first reply, so wait until the slower one has stored it too.
replicas = [Client((a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])), connect_timeout=5, timeout=5) for a in sys.argv[3:5]]
for _ in range(200):
    if all(r.get("n") == b"10" for r in replicas):
        break
    time.sleep(0.01)
assert c.incr("n", 5) == 15
assert c.delete("pykey") is True
# AllFastestRoute answers the delete from the first replica and deletes on
# the other in the background: a read may see the old value for a moment.
import time
for _ in range(200):
    if c.get("pykey") is None:
        break
    time.sleep(0.01)
else:
    raise AssertionError("pykey still readable after delete")
v = c.version()
assert v == b"1.6.18", v
print("ok")
`
	out, err := exec.Command(py, "-c", script, host, port, m0.Addr, m1.Addr).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("pymemcache: %v\n%s", err, out)
	}
	// The writes went to both replicas.
	for _, m := range []*memcachedtest.Server{m0, m1} {
		waitFor(t, "a and b on "+m.Addr, func() bool {
			a, ok1 := m.Get("a")
			b, ok2 := m.Get("b")
			return ok1 && ok2 && a == "1" && b == "2"
		})
	}
}

// TestMemcstat runs libmemcached's memcstat, which asks every server for
// its version before reading its stats: the version reply must parse as
// major.minor.micro.
func TestMemcstat(t *testing.T) {
	bin, err := exec.LookPath("memcstat")
	if err != nil {
		t.Skip("memcstat is not installed (apt-get install libmemcached-tools)")
	}
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	out, err := exec.Command(bin, "--servers="+addr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pid: ") {
		t.Errorf("memcstat: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--servers="+addr, "--server-version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != addr+" "+proxy.MemcachedVersion {
		t.Errorf("memcstat --server-version: %v\n%s", err, out)
	}
}

// TestPHPMemcachedUnixSocket uses PHP's memcached extension over a unix
// socket: the PHP-FPM sidecar pattern.
func TestPHPMemcachedUnixSocket(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil || exec.Command(php, "-r", "exit(class_exists('Memcached') ? 0 : 1);").Run() != nil {
		t.Skip("php with the memcached extension is not installed (apt-get install php-cli php-memcached)")
	}
	m := memcachedtest.Start(t)
	s := proxy.New(proxy.Options{})
	if err := s.SetConfig(decode(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m)), proxy.ConfigInfo{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "mcroute.sock")
	ln, err := proxy.Listen("unix:"+sock, 0)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	script := `
$m = new Memcached();
$m->setOption(Memcached::OPT_BINARY_PROTOCOL, false);
$m->setOption(Memcached::OPT_COMPRESSION, false);
if (!$m->addServer($argv[1], 0)) { fwrite(STDERR, "addServer failed\n"); exit(1); }
if (!$m->set("phpkey", "hello from php")) { fwrite(STDERR, "set: " . $m->getResultMessage() . "\n"); exit(1); }
$v = $m->get("phpkey");
if ($v !== "hello from php") { fwrite(STDERR, "get: " . var_export($v, true) . " " . $m->getResultMessage() . "\n"); exit(1); }
if ($m->get("nothere") !== false || $m->getResultCode() !== Memcached::RES_NOTFOUND) { fwrite(STDERR, "miss\n"); exit(1); }
$m->setMulti(["x" => "1", "y" => "2"]);
$r = $m->getMulti(["x", "y", "nothere"]);
if ($r !== ["x" => "1", "y" => "2"]) { fwrite(STDERR, "getMulti: " . var_export($r, true) . "\n"); exit(1); }
if ($m->increment("nothere") !== false) { fwrite(STDERR, "incr\n"); exit(1); }
if (!$m->delete("phpkey")) { fwrite(STDERR, "delete: " . $m->getResultMessage() . "\n"); exit(1); }
// libmemcached parses the version reply as major.minor.micro numbers.
$v = $m->getVersion();
if ($v === false || array_values($v) !== ["1.6.18"]) { fwrite(STDERR, "getVersion: " . var_export($v, true) . " " . $m->getResultMessage() . "\n"); exit(1); }
$s = $m->getStats();
if ($s === false || count($s) !== 1 || !isset(array_values($s)[0]["pid"])) { fwrite(STDERR, "getStats: " . var_export($s, true) . " " . $m->getResultMessage() . "\n"); exit(1); }
$s = $m->getStats("slabs");
if ($s === false || !isset(array_values($s)[0]["active_slabs"])) { fwrite(STDERR, "getStats(slabs): " . var_export($s, true) . " " . $m->getResultMessage() . "\n"); exit(1); }
echo "ok";
`
	cmd := exec.Command(php, "-r", script, sock)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("php memcached: %v\n%s", err, out)
	}
	if v, ok := m.Get("x"); !ok || v != "1" {
		t.Errorf("server has x=%q %v", v, ok)
	}
}
