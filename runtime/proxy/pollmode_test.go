//go:build linux

package proxy_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/busypoll"
	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// TestPollMode: with one processor and a poller, clients' requests keep
// the poller polling, every request is answered through it, and it goes
// idle once the clients stop.
func TestPollMode(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p, err := busypoll.Start(50 * time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m := memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{Poller: p})
	setGetClients(t, addr, "p", 20, 50)
	if p.Polls() == 0 {
		t.Fatal("the clients' requests did not make the poller poll")
	}
	waitFor(t, "the poller to stop polling with no client sending", func() bool { return !p.Polling() })
}
