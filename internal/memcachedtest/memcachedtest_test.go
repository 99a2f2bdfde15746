package memcachedtest

import (
	"fmt"
	"testing"
	"time"
)

// TestStartRefusesAnotherServersPort: a memcached that cannot bind its
// port, because another server took it since FreePort, is not mistaken for
// that server (which would mix up the data of two tests).
func TestStartRefusesAnotherServersPort(t *testing.T) {
	first := Start(t)
	second := &Server{t: t, Network: "tcp", Port: first.Port, Addr: first.Addr,
		args: []string{"-l", "127.0.0.1", "-p", fmt.Sprint(first.Port), "-U", "0", "-m", "64"}}
	start := time.Now()
	err := second.start(Require(t))
	t.Logf("second start: %v after %v", err, time.Since(start))
	if err == nil {
		second.Stop()
		t.Fatal("a second memcached on a port already in use was taken for started")
	}
	if v, ok := first.Get("nothere"); ok {
		t.Errorf("the first server after the failed start: %q", v)
	}
}
