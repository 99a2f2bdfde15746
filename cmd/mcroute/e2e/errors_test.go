package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// deadPoolConfig routes keys starting with "dead:" to a server that is not
// running and every other key to memcached (the first server of withPorts).
const deadPoolConfig = `{
  "pools": {"A": {"servers": ["127.0.0.1:11211"]}, "D": {"servers": ["127.0.0.1:%d"]}},
  "route": {"type": "PrefixSelectorRoute", "policies": {"dead:": "PoolRoute|D"}, "wildcard": "PoolRoute|A"}
}`

// TestMissOnErrorsFlags: by default serve returns the errors of reads and
// of incr/decr (memcached's CLIENT_ERROR line unchanged, SERVER_ERROR for a
// dead server); --miss-on-get-errors and --miss-on-arith-errors bring back
// mcrouter's pre-2025 misses, each for its own commands; mcrouter's old
// --disable-miss-on-get-errors is accepted, hidden, and changes nothing.
func TestMissOnErrorsFlags(t *testing.T) {
	m := memcachedtest.Start(t)
	if got := m.Do("set word 0 0 3\r\nabc\r\n", "STORED"); !strings.HasPrefix(got, "STORED") {
		t.Fatalf("set word: %q", got)
	}
	cfg := writeFile(t, t.TempDir(), "mcrouter.json", withPorts(fmt.Sprintf(deadPoolConfig, memcachedtest.FreePort(t)), m))
	const nonNumeric = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"

	cases := []struct {
		flags            []string
		getDead, incrBad string // "" means any SERVER_ERROR line
	}{
		{nil, "", nonNumeric},
		{[]string{"--disable-miss-on-get-errors"}, "", nonNumeric},
		{[]string{"--miss-on-get-errors"}, "END\r\n", nonNumeric},
		{[]string{"--miss-on-arith-errors"}, "", "NOT_FOUND\r\n"},
		{[]string{"--miss-on-get-errors", "--miss-on-arith-errors"}, "END\r\n", "NOT_FOUND\r\n"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(append([]string{"flags"}, tc.flags...), " "), func(t *testing.T) {
			p := serve(t, append([]string{"--config", cfg}, tc.flags...)...)
			c := p.dial()
			if got := c.do("incr word 1\r\n", "NOT_FOUND"); got != tc.incrBad {
				t.Errorf("incr of a non-numeric value: %q, want %q", got, tc.incrBad)
			}
			for _, cmd := range []string{"get dead:k\r\n", "gets dead:k\r\n", "gat 0 dead:k\r\n"} {
				got := c.do(cmd, "END")
				if tc.getDead == "" && !strings.HasPrefix(got, "SERVER_ERROR ") || tc.getDead != "" && got != tc.getDead {
					t.Errorf("%q of a dead server's key: %q, want %q", cmd, got, or(tc.getDead, "SERVER_ERROR ..."))
				}
			}
			if got := c.do("get word\r\n", "END"); got != "VALUE word 0 3\r\nabc\r\nEND\r\n" {
				t.Errorf("get word: %q", got)
			}
		})
	}

	out, err := exec.Command(binary, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	help := string(out)
	for _, f := range []string{"--miss-on-get-errors", "--miss-on-arith-errors"} {
		if !strings.Contains(help, f) {
			t.Errorf("serve --help does not list %s", f)
		}
	}
	if strings.Contains(help, "--disable-miss-on-get-errors") {
		t.Error("serve --help lists the hidden --disable-miss-on-get-errors")
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
