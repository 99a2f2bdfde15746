package proxy_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// TestRequestsThenEOF: a client that writes its requests and closes its
// side at once (printf ... | nc -N) gets every reply, and the proxy then
// closes the connection: the end of input that arrives together with the
// last request must not be missed.
func TestRequestsThenEOF(t *testing.T) {
	m := memcachedtest.Start(t)
	s, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		tc := c.(*net.TCPConn)
		if _, err := tc.Write([]byte("set k 0 0 1\r\nv\r\nget k\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = tc.CloseWrite()
		_ = tc.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(tc)
		var lines []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, l)
		}
		eq(t, "replies", lines, []string{"STORED\r\n", "VALUE k 0 1\r\n", "v\r\n", "END\r\n"})
		tc.Close()
	}
	waitFor(t, "every client connection to be closed", func() bool { return s.NumConns() == 0 })
}

// TestPartialCommandThenEOF: a client that sends half a command and closes
// its side is disconnected, not kept waiting for the rest.
func TestPartialCommandThenEOF(t *testing.T) {
	m := memcachedtest.Start(t)
	s, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{})
	for _, partial := range []string{"get k", "set k 0 0 10\r\nabc", "version\r\nget"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		tc := c.(*net.TCPConn)
		if _, err := tc.Write([]byte(partial)); err != nil {
			t.Fatal(err)
		}
		_ = tc.CloseWrite()
		_ = tc.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		for {
			if _, err := tc.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("%q: the proxy kept the connection open after the client's end of input", partial)
				}
				break
			}
		}
		tc.Close()
	}
	waitFor(t, "every client connection to be closed", func() bool { return s.NumConns() == 0 })
}
