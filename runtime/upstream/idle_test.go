package upstream_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// TestIdleConnectionClosedByServer: a server killed while its connection
// is idle is noticed at once, so the next request reconnects and fails
// with a connect error (which failover routes act on), not as a lost
// connection; after a restart the destination works again.
func TestIdleConnectionClosedByServer(t *testing.T) {
	s := memcachedtest.Start(t)
	r := upstream.NewRegistry(upstream.Options{ProbeInitial: 20 * time.Millisecond, ProbeMax: 50 * time.Millisecond})
	defer r.Close()
	d := r.Acquire(key(s, time.Second))
	defer r.Release(d)
	if res := set(t, d, "k", "v"); res != mc.ResStored {
		t.Fatalf("set: %v", res)
	}
	s.Kill()
	waitConns(t, d, 0)
	if res := set(t, d, "k", "v"); res != mc.ResConnectError {
		t.Fatalf("set to a killed server: %v, want %v", res, mc.ResConnectError)
	}
	s.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for set(t, d, "k", "v") != mc.ResStored {
		if time.Now().After(deadline) {
			t.Fatal("the restarted server was not used again")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnsolicitedBytesBreakConnection: bytes a server sends while no
// request is outstanding put the stream out of step; the connection is
// dropped and the next request uses a new one.
func TestUnsolicitedBytesBreakConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan int, 10)
	go func() {
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- n
			go func(c net.Conn, n int) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					c.Write([]byte("END\r\n"))
					if n == 1 {
						// A stray reply nobody asked for.
						time.Sleep(20 * time.Millisecond)
						c.Write([]byte("END\r\n"))
					}
				}
			}(c, n)
		}
	}()
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(upstream.Key{Network: "tcp", Addr: ln.Addr().String(), Timeout: time.Second})
	defer r.Release(d)
	if rep, _ := get(t, d, "a"); rep.Result != mc.ResNotFound {
		t.Fatalf("first get: %v", rep.Result)
	}
	<-accepted
	waitConns(t, d, 0)
	if rep, _ := get(t, d, "b"); rep.Result != mc.ResNotFound {
		t.Fatalf("get on a new connection: %v", rep.Result)
	}
	if n := <-accepted; n != 2 {
		t.Fatalf("connection %d", n)
	}
}

func waitConns(t *testing.T, d *upstream.Dest, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().Conns != want {
		if time.Now().After(deadline) {
			t.Fatalf("destination has %d open connections, want %d", d.Stats().Conns, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
