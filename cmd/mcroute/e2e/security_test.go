package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// TestDefaultListenAddress: without --listen, serve listens on
// 127.0.0.1:5000 and nothing else (no metrics listener unless asked).
func TestDefaultListenAddress(t *testing.T) {
	m := memcachedtest.Start(t)
	if c, err := (&serveProc{t: t, Addr: "127.0.0.1:5000"}).tryDial(); err == nil {
		c.Close()
		t.Skip("something already listens on 127.0.0.1:5000; cannot check the default address")
	}
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(reloadV1, m))
	p := startServeAt(t, "127.0.0.1:5000", "--config", cfg)
	p.waitListening()
	got := listeningSockets(t, p.cmd.Process.Pid)
	if len(got) != 1 || got[0] != "127.0.0.1:5000" {
		t.Errorf("serve listens on %v, want only 127.0.0.1:5000", got)
	}
	if got := p.dial().line("version\r\n"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version: %q", got)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// listeningSockets returns the TCP addresses the process listens on, from
// /proc.
func listeningSockets(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot read the process's file descriptors: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(fs) < 10 || fs[3] != "0A" || !inodes[fs[9]] {
				continue
			}
			out = append(out, procAddr(fs[1]))
		}
		f.Close()
	}
	return out
}

// procAddr decodes /proc/net/tcp's "0100007F:1388" (IPv4 only; IPv6 is
// shown raw).
func procAddr(s string) string {
	host, port, _ := strings.Cut(s, ":")
	p, _ := strconv.ParseUint(port, 16, 16)
	if len(host) != 8 {
		return fmt.Sprintf("[%s]:%d", host, p)
	}
	v, _ := strconv.ParseUint(host, 16, 32)
	return fmt.Sprintf("%d.%d.%d.%d:%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24, p)
}

// TestFlushAndAdminFlags: by default flush_all is refused and admin keys
// answer; --enable-flush-cmd forwards flush_all and --disable-admin makes
// __mcrouter__.* ordinary keys.
func TestFlushAndAdminFlags(t *testing.T) {
	m := memcachedtest.Start(t)
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(reloadV1, m))

	p := serve(t, "--config", cfg)
	c := p.dial()
	c.do("set a 0 0 1\r\nx\r\n", "STORED")
	if got := c.do("flush_all\r\n", "OK"); got != "SERVER_ERROR Command disabled\r\n" {
		t.Errorf("default flush_all: %q", got)
	}
	if _, ok := m.Get("a"); !ok {
		t.Error("flush_all reached the server although it is disabled")
	}
	if got := c.do("get __mcrouter__.version\r\n", "END"); !strings.HasPrefix(got, "VALUE __mcrouter__.version 0 ") {
		t.Errorf("admin key by default: %q", got)
	}

	p2 := serve(t, "--config", cfg, "--enable-flush-cmd", "--disable-admin")
	c2 := p2.dial()
	if got := c2.do("get __mcrouter__.version\r\n", "END"); got != "END\r\n" {
		t.Errorf("admin key with --disable-admin: %q, want an ordinary miss", got)
	}
	c2.do("set __mcrouter__.version 0 0 4\r\nmine\r\n", "STORED")
	if v, ok := m.Get("__mcrouter__.version"); !ok || v != "mine" {
		t.Errorf("with --disable-admin the key is not forwarded: %q %v", v, ok)
	}
	if got := c2.do("flush_all\r\n", "OK"); got != "OK\r\n" {
		t.Errorf("flush_all with --enable-flush-cmd: %q", got)
	}
	if _, ok := m.Get("a"); ok {
		t.Error("flush_all with --enable-flush-cmd did not reach the server")
	}
}

// TestConnectionCap: over --max-conns a new connection gets an error line
// and is closed; the others keep working.
func TestConnectionCap(t *testing.T) {
	m := memcachedtest.Start(t)
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(reloadV1, m))
	metrics := fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
	p := serve(t, "--config", cfg, "--max-conns", "2", "--metrics-listen", metrics)
	// The connection that waited for serve to listen must be gone.
	waitFor(t, "no client connections", func() bool { return metric(scrape(t, metrics), "mcroute_client_connections") == "0" })
	c1, c2 := p.dial(), p.dial()
	for i, c := range []*client{c1, c2} {
		if got := c.line("version\r\n"); !strings.HasPrefix(got, "VERSION ") {
			t.Fatalf("connection %d under the cap: %q", i+1, got)
		}
	}
	c3 := p.dial()
	_ = c3.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c3.r.ReadString('\n')
	if line != "SERVER_ERROR too many open connections\r\n" {
		t.Errorf("third connection: %q %v", line, err)
	}
	if _, err := c3.r.ReadString('\n'); err == nil {
		t.Error("the refused connection was not closed")
	}
	if got := c1.do("set k 0 0 1\r\nx\r\n", "STORED"); got != "STORED\r\n" {
		t.Errorf("an accepted client after a refusal: %q", got)
	}
	if got := metric(scrape(t, metrics), "mcroute_client_connections_rejected_total"); got != "1" {
		t.Errorf("rejected connections counted %q, want 1", got)
	}
}

// TestImportOutsideConfigDir: an mcrouter JSON config cannot @import a
// file outside its directory unless --allow-import-outside is given.
func TestImportOutsideConfigDir(t *testing.T) {
	m := memcachedtest.Start(t)
	root := t.TempDir()
	writeFile(t, root, "pools.json", fmt.Sprintf(`{"A": {"servers": [%q]}}`, m.Addr))
	if err := os.Mkdir(filepath.Join(root, "cfg"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, filepath.Join(root, "cfg"), "mcrouter.json", `{"pools": "@import(../pools.json)", "route": "PoolRoute|A"}`)

	refused := startServe(t, "--config", cfg)
	if code := refused.wait(30 * time.Second); code == 0 {
		t.Fatalf("serve started with an @import outside the config directory:\n%s", refused.Log)
	}
	if log := refused.Log.String(); !strings.Contains(log, "mcrouter.json:1:") || !strings.Contains(log, "outside") {
		t.Errorf("the refusal does not say where and why:\n%s", log)
	}

	p := serve(t, "--config", cfg, "--allow-import-outside")
	if got := p.dial().do("set k 0 0 1\r\nx\r\n", "STORED"); got != "STORED\r\n" {
		t.Errorf("with --allow-import-outside: %q", got)
	}
}

// TestBrokenConfigAtStart: a config that does not compile stops serve
// before it listens, with the diagnostic and a non-zero exit.
func TestBrokenConfigAtStart(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "policy.cue", "package demo\n\npools: A: servers: [\"127.0.0.1:1\"]\nroute: {type: \"PoolRoute\", pool: \"B\"}\n")
	p := startServe(t, "--config", cfg)
	if code := p.wait(60 * time.Second); code == 0 {
		t.Fatalf("serve accepted a route to an undefined pool:\n%s", p.Log)
	}
	if log := p.Log.String(); !strings.Contains(log, "policy.cue:4:") {
		t.Errorf("no positioned diagnostic:\n%s", log)
	}
}
