package proxy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
	"github.com/mcroute/mcroute/runtime/route"
)

// errorsConfig routes keys starting with "dead:" to a pool whose only
// server is not running, and every other key to memcached ($0).
const errorsConfig = `{
  "pools": {"A": {"servers": ["$0"]}, "D": {"servers": ["127.0.0.1:%d"]}},
  "route": {"type": "PrefixSelectorRoute", "policies": {"dead:": "PoolRoute|D"}, "wildcard": "PoolRoute|A"}
}`

const nonNumeric = "CLIENT_ERROR cannot increment or decrement non-numeric value"

// TestErrorsReturned: by default, as in today's mcrouter, the errors of
// reads and of incr/decr reach the client: memcached's own CLIENT_ERROR
// line unchanged, and SERVER_ERROR (not END or NOT_FOUND) for a key whose
// server is down. A multi-key get answers the hits, then the first error
// instead of END.
func TestErrorsReturned(t *testing.T) {
	m := memcachedtest.Start(t)
	cfg := withServers(fmt.Sprintf(errorsConfig, memcachedtest.FreePort(t)), m)
	_, addr := startProxy(t, cfg, proxy.Options{})
	c := dial(t, "tcp", addr)

	eq(t, "set", c.do("set word 0 0 3\r\nabc\r\n", "STORED"), []string{"STORED"})
	eq(t, "incr of a non-numeric value", c.do("incr word 1\r\n", ""), []string{nonNumeric})
	eq(t, "decr of a non-numeric value", c.do("decr word 1\r\n", ""), []string{nonNumeric})
	eq(t, "incr of an absent key", c.do("incr absent 1\r\n", "NOT_FOUND"), []string{"NOT_FOUND"})
	eq(t, "get of an absent key", c.do("get absent\r\n", "END"), []string{"END"})

	// The first request finds the server down (connection refused); the
	// destination is then TKO and answers at once, in mcrouter's words.
	eq(t, "get of a dead server's key", c.do("get dead:k\r\n", "END"), []string{"SERVER_ERROR connection error"})
	tko := "SERVER_ERROR Server unavailable. Reason: mc_res_connect_error"
	for _, cmd := range []string{"get dead:k", "gets dead:k", "gat 10 dead:k", "gats 10 dead:k", "incr dead:k 1", "decr dead:k 1", "touch dead:k 10"} {
		eq(t, cmd, c.do(cmd+"\r\n", "END"), []string{tko})
	}
	eq(t, "meta get of a dead server's key", c.do("mg dead:k v\r\n", "EN"), []string{tko})

	eq(t, "set b", c.do("set b 0 0 1\r\nx\r\n", "STORED"), []string{"STORED"})
	eq(t, "multi-key get with a dead server's key", c.do("get word dead:k absent b\r\n", "END"),
		[]string{"VALUE word 0 3", "abc", "VALUE b 0 1", "x", tko})
	eq(t, "multi-key get without errors", c.do("get word absent b\r\n", "END"),
		[]string{"VALUE word 0 3", "abc", "VALUE b 0 1", "x", "END"})
	eq(t, "options", c.do("get __mcrouter__.options(miss_on_get_errors)\r\n", "END"),
		[]string{"VALUE __mcrouter__.options(miss_on_get_errors) 0 24", "miss_on_get_errors false", "END"})
}

// TestMissOnErrors: with MissOnGetErrors and MissOnArithErrors (serve's
// --miss-on-get-errors and --miss-on-arith-errors, mcrouter's default
// before 2025), errors of reads are misses and errors of incr/decr are
// NOT_FOUND; other commands still return their errors.
func TestMissOnErrors(t *testing.T) {
	m := memcachedtest.Start(t)
	cfg := withServers(fmt.Sprintf(errorsConfig, memcachedtest.FreePort(t)), m)
	_, addr := startProxy(t, cfg, proxy.Options{Route: route.Options{MissOnGetErrors: true, MissOnArithErrors: true}})
	c := dial(t, "tcp", addr)

	eq(t, "set", c.do("set word 0 0 3\r\nabc\r\n", "STORED"), []string{"STORED"})
	eq(t, "incr of a non-numeric value", c.do("incr word 1\r\n", "NOT_FOUND"), []string{"NOT_FOUND"})
	eq(t, "decr of a non-numeric value", c.do("decr word 1\r\n", "NOT_FOUND"), []string{"NOT_FOUND"})
	for _, cmd := range []string{"get dead:k", "get dead:k", "gets dead:k", "gat 10 dead:k", "gats 10 dead:k"} {
		eq(t, cmd, c.do(cmd+"\r\n", "END"), []string{"END"})
	}
	eq(t, "meta get", c.do("mg dead:k v\r\n", "EN"), []string{"EN"})
	eq(t, "incr of a dead server's key", c.do("incr dead:k 1\r\n", "NOT_FOUND"), []string{"NOT_FOUND"})
	eq(t, "multi-key get", c.do("get word dead:k\r\n", "END"), []string{"VALUE word 0 3", "abc", "END"})
	if got := c.do("touch dead:k 10\r\n", "TOUCHED"); len(got) != 1 || !strings.HasPrefix(got[0], "SERVER_ERROR") {
		t.Errorf("touch of a dead server's key: %q, want SERVER_ERROR (not a read)", got)
	}
	if got := c.do("set dead:k 0 0 1\r\nx\r\n", "STORED"); len(got) != 1 || !strings.HasPrefix(got[0], "SERVER_ERROR") {
		t.Errorf("set of a dead server's key: %q, want SERVER_ERROR", got)
	}
	eq(t, "options", c.do("get __mcrouter__.options(miss_on_arith_errors)\r\n", "END"),
		[]string{"VALUE __mcrouter__.options(miss_on_arith_errors) 0 25", "miss_on_arith_errors true", "END"})
}
