package upstream_test

import (
	"bufio"
	"context"
	"net"
	"syscall"
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
	accepted := make(chan int, 10)
	addr := memcachedtest.Fake(t, func(n int, c net.Conn, r *bufio.Reader) {
		accepted <- n
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
	})
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(upstream.Key{Network: "tcp", Addr: addr, Timeout: time.Second})
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

// corkedClose writes reply and closes c with TCP_CORK set, so that the
// reply and the end of stream leave in one segment and the proxy's reader
// sees them in one readiness event: its read of the reply is short, and no
// later event tells it about the end of stream.
func corkedClose(t *testing.T, c net.Conn, reply string) {
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Error(err)
		return
	}
	_ = raw.Control(func(fd uintptr) {
		if err := syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, 1); err != nil {
			t.Error(err)
		}
	})
	c.Write([]byte(reply))
	c.Close()
}

// TestReplyAndCloseTogether: a server that sends its last reply and closes
// the connection in the same segment. The reply is delivered, and the end
// of stream that came with it is still noticed (by the registry's sweeper)
// so that the idle connection does not linger; a server that closes in the
// middle of a reply that way fails the request as a lost connection, well
// before its timeout.
func TestReplyAndCloseTogether(t *testing.T) {
	addr := memcachedtest.Fake(t, func(n int, c net.Conn, r *bufio.Reader) {
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		switch n {
		case 1:
			corkedClose(t, c, "END\r\n")
		case 2:
			corkedClose(t, c, "VALUE k 0 10\r\nabc")
		default:
			c.Write([]byte("END\r\n"))
		}
	})
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(upstream.Key{Network: "tcp", Addr: addr, Timeout: 10 * time.Second})
	defer r.Release(d)
	if rep, _ := get(t, d, "k"); rep.Result != mc.ResNotFound {
		t.Fatalf("reply sent with the close: %v (%s)", rep.Result, rep.Message)
	}
	waitConns(t, d, 0)
	start := time.Now()
	if rep, _ := get(t, d, "k"); rep.Result != mc.ResRemoteError {
		t.Fatalf("half a reply, then the close: %v (%s), want %v", rep.Result, rep.Message, mc.ResRemoteError)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the lost connection took %v to notice", el)
	}
	if rep, _ := get(t, d, "k"); rep.Result != mc.ResNotFound {
		t.Fatalf("next request on a new connection: %v (%s)", rep.Result, rep.Message)
	}
}

// plainConn hides the socket of a net.Conn, as a connection from a custom
// Options.Dial may: the destination then reads replies with net.Conn.Read.
type plainConn struct{ net.Conn }

// TestDialerWithoutSocket: connections that are not sockets work the same
// way: deadlines, timeouts, and noticing a server that closed an idle
// connection.
func TestDialerWithoutSocket(t *testing.T) {
	s := memcachedtest.Start(t)
	var dialer net.Dialer
	r := upstream.NewRegistry(upstream.Options{
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return plainConn{nc}, nil
		},
	})
	defer r.Close()
	d := r.Acquire(key(s, 300*time.Millisecond))
	defer r.Release(d)
	if res := set(t, d, "k", "v"); res != mc.ResStored {
		t.Fatalf("set: %v", res)
	}
	// Let the read deadline armed by the set pass while the connection
	// is idle: it is re-armed, not taken for a timeout.
	time.Sleep(400 * time.Millisecond)
	if rep, v := get(t, d, "k"); rep.Result != mc.ResFound || v != "v" {
		t.Fatalf("get: %v %q", rep.Result, v)
	}
	// A frozen server: the request times out, and the next one after the
	// thaw works on a new connection.
	s.Freeze()
	if rep, _ := get(t, d, "k"); rep.Result != mc.ResTimeout {
		t.Fatalf("get from a frozen server: %v, want %v", rep.Result, mc.ResTimeout)
	}
	s.Thaw()
	if rep, v := get(t, d, "k"); rep.Result != mc.ResFound || v != "v" {
		t.Fatalf("get after the thaw: %v %q", rep.Result, v)
	}
	s.Kill()
	waitConns(t, d, 0)
	if res := set(t, d, "k", "v"); res != mc.ResConnectError {
		t.Fatalf("set to a killed server: %v, want %v", res, mc.ResConnectError)
	}
}
