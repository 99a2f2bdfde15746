package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// replicatedJSON is examples/replicated/mcrouter.json with its two servers
// on the README's ports: writes to both (AllFastestRoute), reads from
// either with failover to the other (MissFailoverRoute).
const replicatedJSON = `{
  "pools": {
    "A": {"servers": ["127.0.0.1:11211", "127.0.0.1:11212"]},
    "B": {"servers": ["127.0.0.1:11212", "127.0.0.1:11211"]}
  },
  "route": {
    "type": "OperationSelectorRoute",
    "operation_policies": {
      "add": "AllFastestRoute|Pool|A",
      "delete": "AllFastestRoute|Pool|A",
      "get": {"type": "RandomRoute", "children": ["MissFailoverRoute|Pool|A", "MissFailoverRoute|Pool|B"]},
      "set": "AllFastestRoute|Pool|A"
    }
  }
}`

// phpSession is one PHP request using the memcached session handler with
// the extension's default settings (binary protocol, session locking).
const phpSession = `
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
if (!session_write_close()) { fwrite(STDERR, "session_write_close failed\n"); exit(1); }
`

// TestPHPSessionsSidecar is the PHP-FPM sidecar: `mcroute serve` on a unix
// socket in front of two replicas, PHP keeping its sessions there with the
// memcached extension's defaults, which speak the binary protocol. A
// session is written, read back, survives the loss of a replica, is
// regenerated and destroyed.
func TestPHPSessionsSidecar(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil || exec.Command(php, "-r", "exit(class_exists('Memcached') ? 0 : 1);").Run() != nil {
		t.Skip("php with the memcached extension is not installed (apt-get install php-cli php-memcached)")
	}
	m0, m1 := memcachedtest.Start(t), memcachedtest.Start(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "mcrouter.json", withPorts(replicatedJSON, m0, m1))
	sock := filepath.Join(dir, "mcroute.sock")
	serve(t, "--config", cfg, "--listen", "unix:"+sock)
	step := func(what, id string) string {
		t.Helper()
		cmd := exec.Command(php, "-d", "display_errors=stderr", "-r", phpSession, sock, what, id)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("php session %s: %v\n%s%s", what, err, out, stderr)
		}
		return string(out)
	}
	const id = "sidecar0123456789abcd"
	step("write", id)
	if got := step("read", id); got != `{"user":"alice","n":1}` {
		t.Fatalf("first read: %s", got)
	}
	// Both replicas hold the session (the second write is in the
	// background of AllFastestRoute).
	for _, m := range []*memcachedtest.Server{m0, m1} {
		waitFor(t, "the session on "+m.Addr, func() bool {
			v, ok := m.Get("memc.sess.key." + id)
			return ok && strings.Contains(v, "n|i:2;")
		})
	}
	m0.Kill()
	for i := 3; i < 6; i++ {
		want := `{"user":"alice","n":` + string(rune('0'+i-1)) + `}`
		if got := step("read", id); got != want {
			t.Fatalf("read %d with a replica down: %s, want %s", i, got, want)
		}
	}
	newID := step("regenerate", id)
	if newID == "" || newID == id {
		t.Fatalf("regenerate gave id %q", newID)
	}
	if got := step("read", newID); got != `{"user":"alice","n":5}` {
		t.Fatalf("read after regenerate: %s", got)
	}
	if got := step("read", id); got != `[]` {
		t.Fatalf("the old session survived regenerate: %s", got)
	}
	step("destroy", newID)
	if got := step("read", newID); got != `[]` {
		t.Fatalf("read after destroy: %s", got)
	}
}
