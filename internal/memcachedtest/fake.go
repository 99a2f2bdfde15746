package memcachedtest

import (
	"bufio"
	"net"
	"testing"
)

// Fake starts a scripted server on 127.0.0.1 with a free port, for tests
// of what real memcached never does (garbage, stray bytes, slow or
// half-sent replies), and returns its address. Each accepted connection is
// served by handle in a goroutine of its own, with n numbering the
// connections from 1 in the order they were accepted; the connection is
// closed when handle returns. The listener closes when the test ends.
func Fake(t testing.TB, handle func(n int, c net.Conn, r *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(n, c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String()
}
