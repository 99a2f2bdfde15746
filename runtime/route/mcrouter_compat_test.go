package route

import (
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Behaviours that mcrouter's own integration suite (mcrouter/test/*.py)
// checks, as mcrouter's sources define them. The goldens
// testdata/mcrouter_compat_*.txtar cover the others.

// failoverLimitRoute is test_failover_limit_error.json: child 0 always
// answers busy, A and B are the servers under test, C holds the value.
const failoverLimitRoute = `{"type": "FailoverRoute", "children": [
	{"type": "ErrorRoute", "enable_logging": false, "result": "mc_res_busy"},
	"PoolRoute|A", "PoolRoute|B", "PoolRoute|C"],
	"failover_limit": {"rate": 0.2, "burst": 9.8}}`

// failoverLimitPattern routes n gets and returns their results, "f" for
// found and "b" for busy (anything else is spelled out).
func failoverLimitPattern(e *env, n int) string {
	var b strings.Builder
	for range n {
		rep, _ := e.plain(req(mc.OpGet, "key"))
		switch rep.Result {
		case mc.ResFound:
			b.WriteByte('f')
		case mc.ResBusy:
			b.WriteByte('b')
		default:
			b.WriteString("[" + rep.Result.String() + "]")
		}
	}
	return b.String()
}

// TestFailoverLimitIgnoresHardTko is test_mcrouter_serialized's
// TestFailoverWithLimitWithTKO: a failover child that cannot take the
// request (tko, or a hard TKO error: connect_error, connect_timeout,
// shutdown) spends no failover_limit token (FailoverRoute::processReply,
// isTkoOrHardTkoResult), so the limit behaves as if those children were not
// there: 12 failovers, then one in 5.
func TestFailoverLimitIgnoresHardTko(t *testing.T) {
	want := "ffffffffffff" + strings.Repeat("bbbbf", 10)
	for _, res := range []mc.Result{mc.ResConnectError, mc.ResConnectTimeout, mc.ResShutdown, mc.ResTko} {
		t.Run(res.String(), func(t *testing.T) {
			e := newEnv(t, withPools(failoverLimitRoute))
			e.f.Results["a:1"] = res
			e.f.Results["b:1"] = res
			if got := failoverLimitPattern(e, len(want)); got != want {
				t.Errorf("results\n got %s\nwant %s", got, want)
			}
			if s := e.g.Stats(); s.FailoverRateLimited != 40 {
				t.Errorf("failover_rate_limited = %d, want 40", s.FailoverRateLimited)
			}
		})
	}
}

// TestFailoverLimitCountsTimeouts is the first part of
// TestFailoverWithLimitWithErrors: a timeout did reach the server, so each
// request spends three tokens (busy, timeout, timeout) and only three are
// served before the limit refuses failover.
func TestFailoverLimitCountsTimeouts(t *testing.T) {
	e := newEnv(t, withPools(failoverLimitRoute))
	e.f.Results["a:1"] = mc.ResTimeout
	e.f.Results["b:1"] = mc.ResTimeout
	got := failoverLimitPattern(e, 6)
	if !strings.HasPrefix(got, "fff") || strings.Count(got, "f") != 3 {
		t.Errorf("results %s, want 3 found then none", got)
	}
}

// TestFailoverMaxTriesIgnoresHardTko: a hard TKO error is not a try of
// max_tries either (processReply increments numTries only for other
// errors), while a timeout is.
func TestFailoverMaxTriesIgnoresHardTko(t *testing.T) {
	route := `{"type": "FailoverRoute", "children": ["PoolRoute|A", "PoolRoute|B", "PoolRoute|C"],
		"failover_policy": {"type": "FailoverInOrderPolicy", "max_tries": 1}}`
	for _, tc := range []struct {
		res  mc.Result
		want mc.Result
	}{
		{mc.ResConnectError, mc.ResFound},
		{mc.ResConnectTimeout, mc.ResFound},
		{mc.ResTko, mc.ResFound},
		{mc.ResTimeout, mc.ResTimeout},
	} {
		e := newEnv(t, withPools(route))
		e.f.Results["a:1"] = tc.res
		e.f.Results["b:1"] = tc.res
		if rep, calls := e.plain(req(mc.OpGet, "k")); rep.Result != tc.want {
			t.Errorf("A and B %s: %s, want %s (calls %q)", tc.res, rep.Result, tc.want, calls)
		}
	}
}

// TestFailoverTagKey checks the key a failover_tag route puts on the wire:
// test_mcrouter_serialized's TestGetFailoverWithFailoverTag reads the
// failover copy of "testkey|#|extra=1" directly from the failover server
// as "testkey|#|extra=1:failover=1".
func TestFailoverTagKey(t *testing.T) {
	for _, tc := range []struct{ full, key, want string }{
		{"testkey|#|extra=1", "testkey|#|extra=1", "testkey|#|extra=1:failover=1"},
		{"/a/b/k|#|x", "k|#|x", "k|#|x:failover=1"},
		{"/a/b/k|#|x", "/a/b/k|#|x", "/a/b/k|#|x:failover=1"}, // keep_routing_prefix
		{"testkey", "testkey", "testkey"},                     // no hash stop
		{"/a/b/k", "k", "k"},
		{strings.Repeat("a", 236) + "|#|", strings.Repeat("a", 236) + "|#|", strings.Repeat("a", 236) + "|#|:failover=1"}, // 250 bytes
		{strings.Repeat("a", 237) + "|#|", strings.Repeat("a", 237) + "|#|", strings.Repeat("a", 237) + "|#|"},            // 251 would be too long
	} {
		if got := string(failoverTagged([]byte(tc.full), []byte(tc.key))); got != tc.want {
			t.Errorf("failoverTagged(%q, %q) = %q, want %q", tc.full, tc.key, got, tc.want)
		}
	}
}
