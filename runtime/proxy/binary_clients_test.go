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

// Real binary protocol clients against the proxy. Each test skips with a
// clear message when its client is not installed; CI installs them all.

const onePool = `{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`

// TestMemccapableBinary runs libmemcached's memccapable binary suite
// against the proxy in front of one memcached: every test must pass.
func TestMemccapableBinary(t *testing.T) {
	bin, err := exec.LookPath("memccapable")
	if err != nil {
		t.Skip("memccapable is not installed (apt-get install libmemcached-tools)")
	}
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(onePool, m), proxy.Options{EnableFlush: true})
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(bin, "-b", "-h", host, "-p", port).CombinedOutput()
	text := string(out)
	passed := strings.Count(text, "[pass]")
	t.Logf("memccapable -b: %d passed\n%s", passed, text)
	if err != nil || strings.Contains(text, "[FAIL]") || !strings.Contains(text, "All tests passed") {
		t.Fatalf("memccapable -b failed (%v)", err)
	}
	if passed != 27 {
		t.Fatalf("memccapable passed %d binary tests, want 27", passed)
	}
}

// TestLibmemcachedToolsBinary uses libmemcached's command-line tools in
// binary mode (--binary), as an operator would: copy a file in, read it
// back, check, touch and remove it, and read the server's stats.
func TestLibmemcachedToolsBinary(t *testing.T) {
	for _, tool := range []string{"memccp", "memccat", "memcexist", "memctouch", "memcrm", "memcstat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install libmemcached-tools)", tool)
		}
	}
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(onePool, m), proxy.Options{})
	servers := "--servers=" + addr
	dir := t.TempDir()
	file := filepath.Join(dir, "greeting.txt")
	if err := os.WriteFile(file, []byte("hello over the binary protocol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) (string, error) {
		out, err := exec.Command(name, append([]string{"--binary", servers}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("memccp", file); err != nil {
		t.Fatalf("memccp: %v\n%s", err, out)
	}
	if v, ok := m.Get("greeting.txt"); !ok || v != "hello over the binary protocol\n" {
		t.Fatalf("the server holds %q %v", v, ok)
	}
	if out, err := run("memccat", "greeting.txt"); err != nil || strings.TrimSpace(out) != "hello over the binary protocol" {
		t.Fatalf("memccat: %v\n%q", err, out)
	}
	if out, err := run("memcexist", "greeting.txt"); err != nil {
		t.Fatalf("memcexist: %v\n%s", err, out)
	}
	if out, err := run("memctouch", "--expire=600", "greeting.txt"); err != nil {
		t.Fatalf("memctouch: %v\n%s", err, out)
	}
	if out, err := run("memcrm", "greeting.txt"); err != nil {
		t.Fatalf("memcrm: %v\n%s", err, out)
	}
	if out, err := run("memcexist", "greeting.txt"); err == nil {
		t.Fatalf("memcexist after memcrm succeeded:\n%s", out)
	}
	out, err := run("memcstat")
	if err != nil || !strings.Contains(out, "pid:") || !strings.Contains(out, "version:") {
		t.Fatalf("memcstat --binary: %v\n%s", err, out)
	}
}

// requirePHPMemcached returns the php binary, or skips the test.
func requirePHPMemcached(t *testing.T) string {
	php, err := exec.LookPath("php")
	if err != nil || exec.Command(php, "-r", "exit(class_exists('Memcached') ? 0 : 1);").Run() != nil {
		t.Skip("php with the memcached extension is not installed (apt-get install php-cli php-memcached)")
	}
	return php
}

// TestPHPMemcachedBinary uses PHP's Memcached class with
// OPT_BINARY_PROTOCOL: storage, CAS, counters created with an initial
// value (a binary-only feature), append, touch, multiget, version.
func TestPHPMemcachedBinary(t *testing.T) {
	php := requirePHPMemcached(t)
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0","$1"]}},"route":"PoolRoute|A"}`, m0, m1), proxy.Options{})
	host, port, _ := net.SplitHostPort(addr)
	script := `
function fail($what, $m) { fwrite(STDERR, $what . ": " . $m->getResultCode() . " " . $m->getResultMessage() . "\n"); exit(1); }
$m = new Memcached();
$m->setOption(Memcached::OPT_BINARY_PROTOCOL, true);
$m->setOption(Memcached::OPT_COMPRESSION, false);
$m->addServer($argv[1], (int)$argv[2]);
if (!$m->set("k", "hello", 300)) fail("set", $m);
if ($m->get("k") !== "hello") fail("get", $m);
if ($m->get("nothere") !== false || $m->getResultCode() !== Memcached::RES_NOTFOUND) fail("miss", $m);
if ($m->add("k", "x")) fail("add of an existing key", $m);
if ($m->getResultCode() !== Memcached::RES_NOTSTORED && $m->getResultCode() !== Memcached::RES_DATA_EXISTS) fail("add result", $m);
$r = $m->get("k", null, Memcached::GET_EXTENDED);
if (!$r || $r["value"] !== "hello" || !$r["cas"]) fail("get extended", $m);
if (!$m->cas($r["cas"], "k", "swapped")) fail("cas", $m);
if ($m->cas($r["cas"], "k", "stale")) fail("stale cas", $m);
if ($m->get("k") !== "swapped") fail("get after cas", $m);
if (!$m->append("k", "+tail")) fail("append", $m);
if ($m->get("k") !== "swapped+tail") fail("get after append", $m);
if (!$m->touch("k", 600)) fail("touch", $m);
// A counter created with its initial value: only the binary protocol can.
if ($m->increment("counter", 5, 100, 300) !== 100) fail("increment creating", $m);
if ($m->increment("counter", 5) !== 105) fail("increment", $m);
if ($m->decrement("counter", 200) !== 0) fail("decrement", $m);
if ($m->increment("nocounter") !== false) fail("increment of a missing key", $m);
$m->set("text", "abc");
if ($m->increment("text") !== false) fail("increment of a non-numeric value", $m);
$items = [];
for ($i = 0; $i < 100; $i++) { $items["key:$i"] = "value $i"; }
if (!$m->setMulti($items)) fail("setMulti", $m);
$got = $m->getMulti(array_merge(array_keys($items), ["nothere1", "nothere2"]));
if ($got !== $items) fail("getMulti " . count($got), $m);
if (!$m->delete("k")) fail("delete", $m);
if ($m->delete("k") || $m->getResultCode() !== Memcached::RES_NOTFOUND) fail("delete of a missing key", $m);
$v = $m->getVersion();
if (!$v || !preg_match('/^\d+\.\d+\.\d+/', array_values($v)[0])) fail("getVersion " . var_export($v, true), $m);
echo "ok";
`
	cmd := exec.Command(php, "-r", script, host, port)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("php memcached (binary): %v\n%s", err, out)
	}
	// The keys were spread over both servers, under their own names.
	a, ok0 := m0.Get("key:1")
	b, ok1 := m1.Get("key:1")
	if !ok0 && !ok1 || a != "value 1" && b != "value 1" {
		t.Errorf("key:1 on the servers: %q %v, %q %v", a, ok0, b, ok1)
	}
}

// TestPHPSessionsBinary keeps PHP sessions in memcached through the proxy
// with the memcached session handler's default settings, which speak the
// binary protocol (memcached.sess_binary_protocol=1) and lock each session
// (add of a lock key, delete on close): write a session, read it back in
// another request, regenerate its id, destroy it.
func TestPHPSessionsBinary(t *testing.T) {
	php := requirePHPMemcached(t)
	m := memcachedtest.Start(t)
	s, addr := startProxy(t, withServers(onePool, m), proxy.Options{})
	script := `
ini_set('session.save_handler', 'memcached');
ini_set('session.save_path', $argv[1]);
ini_set('session.use_cookies', '0');
ini_set('session.use_strict_mode', '0');
session_id($argv[3]);
if (!session_start()) { fwrite(STDERR, "session_start failed\n"); exit(1); }
switch ($argv[2]) {
case 'write': $_SESSION['user'] = 'alice'; $_SESSION['n'] = 1; break;
case 'read': echo json_encode($_SESSION); $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1; break;
case 'regenerate': session_regenerate_id(true); echo session_id(); break;
case 'destroy': session_destroy(); echo "destroyed"; exit(0);
}
session_write_close();
`
	step := func(what, id string) string {
		t.Helper()
		cmd := exec.Command(php, "-d", "display_errors=stderr", "-r", script, addr, what, id)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("php session %s: %v\n%s%s", what, err, out, stderr)
		}
		return string(out)
	}
	const id = "sess0123456789abcdef"
	step("write", id)
	if got := step("read", id); got != `{"user":"alice","n":1}` {
		t.Fatalf("first read: %s", got)
	}
	if got := step("read", id); got != `{"user":"alice","n":2}` {
		t.Fatalf("second read: %s", got)
	}
	if v, ok := m.Get("memc.sess.key." + id); !ok || !strings.Contains(v, "alice") {
		t.Fatalf("the server holds %q %v for the session", v, ok)
	}
	newID := step("regenerate", id)
	if newID == "" || newID == id {
		t.Fatalf("regenerate gave id %q", newID)
	}
	if got := step("read", newID); got != `{"user":"alice","n":3}` {
		t.Fatalf("read after regenerate: %s", got)
	}
	if got := step("read", id); got != `[]` {
		t.Fatalf("the old session survived regenerate: %s", got)
	}
	step("destroy", newID)
	if got := step("read", newID); got != `[]` {
		t.Fatalf("read after destroy: %s", got)
	}
	if _, ok := m.Get("memc.sess.key.lock." + id); ok {
		t.Errorf("a session lock was left behind")
	}
	if s.BinaryConns() == 0 {
		t.Errorf("no binary protocol connection was counted: the session handler did not speak binary")
	}
}
