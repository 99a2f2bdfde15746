package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// TestMemcachedClientCompat: what memcached's clients see of `mcroute
// serve` in front of one server started with -I 4m: a version reply they
// parse (memcstat, the libmemcached tool), mcroute's own version under
// `mcroute version` and __mcrouter__.version, a 2 MiB value stored (the
// default --max-value-size leaves the limit to the server) and a 5 MiB one
// refused by the server, and the server's stats groups.
func TestMemcachedClientCompat(t *testing.T) {
	m := memcachedtest.Start(t, "-I", "4m")
	cfg := writeFile(t, t.TempDir(), "mcrouter.json",
		fmt.Sprintf(`{"pools":{"A":{"servers":["%s"]}},"route":"PoolRoute|A"}`, m.Addr))
	p := serve(t, "--config", cfg)
	c := p.dial()

	if got := c.line("version\r\n"); got != "VERSION 1.6.18\r\n" {
		t.Errorf("version: %q", got)
	}
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "mcroute ") {
		t.Errorf("mcroute version: %q %v", out, err)
	}
	own := strings.Fields(string(out))[1]
	if got := c.do("get __mcrouter__.version\r\n", "END"); !strings.Contains(got, "\r\n"+own+" mcroute\r\n") {
		t.Errorf("__mcrouter__.version: %q, want %q", got, own+" mcroute")
	}
	if memcstat, err := exec.LookPath("memcstat"); err == nil {
		out, err := exec.Command(memcstat, "--servers="+p.Addr, "--server-version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != p.Addr+" 1.6.18" {
			t.Errorf("memcstat --server-version: %v\n%s", err, out)
		}
	}

	v := strings.Repeat("v", 2<<20)
	if got := c.do(fmt.Sprintf("set big 0 0 %d\r\n%s\r\n", len(v), v), "STORED"); got != "STORED\r\n" {
		t.Fatalf("2 MiB set: %.100q", got)
	}
	if got := c.do("get big\r\n", "END"); got != fmt.Sprintf("VALUE big 0 %d\r\n%s\r\nEND\r\n", len(v), v) {
		t.Errorf("2 MiB get: %d bytes", len(got))
	}
	w := strings.Repeat("w", 5<<20)
	if got := c.do(fmt.Sprintf("set big 0 0 %d\r\n%s\r\n", len(w), w), "STORED"); got != "SERVER_ERROR object too large for cache\r\n" {
		t.Errorf("5 MiB set: %q", got)
	}
	if got := c.do("get big\r\n", "END"); got != "END\r\n" {
		t.Errorf("get after the refused set: %.100q", got)
	}

	if got := c.do("stats slabs\r\n", "END"); !strings.Contains(got, "STAT active_slabs ") || !strings.HasSuffix(got, "END\r\n") {
		t.Errorf("stats slabs: %q", got)
	}
	if got := c.do("stats nonsense\r\n", "END"); got != "ERROR\r\n" {
		t.Errorf("stats nonsense: %q", got)
	}
}
