package upstream_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/upstream"
)

func key(s *memcachedtest.Server, timeout time.Duration) upstream.Key {
	return upstream.Key{Network: s.Network, Addr: s.Addr, Timeout: timeout}
}

func set(t testing.TB, d *upstream.Dest, k, v string) mc.Result {
	t.Helper()
	var rep mc.Reply
	req := mc.Request{Op: mc.OpSet, Key: []byte(k), Value: []byte(v)}
	d.Send(context.Background(), &req, req.Key, &rep)
	return rep.Result
}

func get(t testing.TB, d *upstream.Dest, k string) (mc.Reply, string) {
	t.Helper()
	var rep mc.Reply
	req := mc.Request{Op: mc.OpGet, Key: []byte(k)}
	d.Send(context.Background(), &req, req.Key, &rep)
	return rep, string(rep.Value)
}

func TestSetGetAgainstMemcached(t *testing.T) {
	for _, unix := range []bool{false, true} {
		t.Run(fmt.Sprintf("unix=%v", unix), func(t *testing.T) {
			var s *memcachedtest.Server
			if unix {
				s = memcachedtest.StartUnix(t)
			} else {
				s = memcachedtest.Start(t)
			}
			r := upstream.NewRegistry(upstream.Options{})
			defer r.Close()
			d := r.Acquire(key(s, time.Second))
			defer r.Release(d)
			if res := set(t, d, "k1", "hello"); res != mc.ResStored {
				t.Fatalf("set: %v", res)
			}
			rep, v := get(t, d, "k1")
			if rep.Result != mc.ResFound || v != "hello" {
				t.Fatalf("get: %v %q", rep.Result, v)
			}
			rep, _ = get(t, d, "missing")
			if rep.Result != mc.ResNotFound {
				t.Fatalf("get missing: %v", rep.Result)
			}
			if got := d.Stats().State; got != upstream.StateUp {
				t.Errorf("state %v, want up", got)
			}
			if v, ok := s.Get("k1"); !ok || v != "hello" {
				t.Errorf("server has %q %v", v, ok)
			}
		})
	}
}

// TestPipelinedConcurrentClients sends many requests from many goroutines
// over one connection and checks every reply matches its request.
func TestPipelinedConcurrentClients(t *testing.T) {
	s := memcachedtest.Start(t)
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(key(s, 2*time.Second))
	defer r.Release(d)
	const workers, per = 32, 200
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var rep mc.Reply
			for i := 0; i < per; i++ {
				k := fmt.Sprintf("w%d:k%d", w, i)
				v := strings.Repeat(fmt.Sprint(w), i%50+1)
				req := mc.Request{Op: mc.OpSet, Key: []byte(k), Value: []byte(v)}
				d.Send(context.Background(), &req, req.Key, &rep)
				if rep.Result != mc.ResStored {
					errs <- fmt.Sprintf("set %s: %v", k, rep.Result)
					return
				}
				req = mc.Request{Op: mc.OpGet, Key: []byte(k)}
				d.Send(context.Background(), &req, req.Key, &rep)
				if rep.Result != mc.ResFound || string(rep.Value) != v {
					errs <- fmt.Sprintf("get %s: %v %q want %q", k, rep.Result, rep.Value, v)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := d.Stats()
	if st.Conns != 1 {
		t.Errorf("%d connections, want 1 shared connection", st.Conns)
	}
	if st.Requests != workers*per*2 {
		t.Errorf("requests %d, want %d", st.Requests, workers*per*2)
	}
}

// TestHardTKOAndProbe: a refused connection marks the destination TKO at
// once; requests then fail fast with tko; a probe brings it back when the
// server is up.
func TestHardTKOAndProbe(t *testing.T) {
	memcachedtest.Require(t)
	port := memcachedtest.FreePort(t)
	r := upstream.NewRegistry(upstream.Options{ProbeInitial: 50 * time.Millisecond, ProbeMax: 100 * time.Millisecond})
	defer r.Close()
	d := r.Acquire(upstream.Key{Network: "tcp", Addr: fmt.Sprintf("127.0.0.1:%d", port), Timeout: time.Second})
	defer r.Release(d)
	rep, _ := get(t, d, "k")
	if rep.Result != mc.ResConnectError {
		t.Fatalf("first request: %v, want connect_error", rep.Result)
	}
	start := time.Now()
	rep, _ = get(t, d, "k")
	if rep.Result != mc.ResTko {
		t.Fatalf("second request: %v, want tko", rep.Result)
	}
	if want := "Server unavailable. Reason: mc_res_connect_error"; rep.Message != want {
		t.Errorf("tko message %q, want mcrouter's %q", rep.Message, want)
	}
	if time.Since(start) > 50*time.Millisecond {
		t.Errorf("tko reply took %v; it must be instant", time.Since(start))
	}
	if !d.Stats().HardTKO {
		t.Error("not marked hard TKO")
	}
	// Bring a server up on that port; the probe must notice.
	s := memcachedtest.Start(t) // another port; listen on ours with a proxy
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	defer ln.Close()
	go forward(ln, s.Addr)
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().State != upstream.StateUp && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := d.Stats(); st.State != upstream.StateUp || st.HardTKO {
		t.Fatalf("after probe: %+v", st)
	}
	if res := set(t, d, "k", "v"); res != mc.ResStored {
		t.Fatalf("set after recovery: %v", res)
	}
}

// forward accepts connections on ln and pipes them to addr.
func forward(ln net.Listener, addr string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer u.Close()
			go func() { _, _ = bufio.NewReader(u).WriteTo(c) }()
			_, _ = bufio.NewReader(c).WriteTo(u)
		}()
	}
}

// TestSoftTKOOnFrozenServer: a stopped (SIGSTOP) server times requests out;
// after three timeouts the destination is soft TKO and answers at once;
// after SIGCONT a probe brings it back.
func TestSoftTKOOnFrozenServer(t *testing.T) {
	s := memcachedtest.Start(t)
	r := upstream.NewRegistry(upstream.Options{ProbeInitial: 50 * time.Millisecond, ProbeMax: 100 * time.Millisecond})
	defer r.Close()
	d := r.Acquire(key(s, 500*time.Millisecond))
	defer r.Release(d)
	if res := set(t, d, "k", "v"); res != mc.ResStored {
		t.Fatalf("set: %v", res)
	}
	s.Freeze()
	var results []mc.Reply
	for i := 0; i < 3; i++ {
		rep, _ := get(t, d, "k")
		results = append(results, rep)
	}
	for i, rep := range results {
		switch {
		case rep.Result == mc.ResTimeout && rep.Message != "Reply timeout":
			t.Errorf("request %d while frozen: timeout with message %q, want mcrouter's \"Reply timeout\"", i, rep.Message)
		case rep.Result != mc.ResTimeout && rep.Result != mc.ResConnectTimeout:
			t.Errorf("request %d while frozen: %v, want timeout", i, rep.Result)
		}
	}
	start := time.Now()
	rep, _ := get(t, d, "k")
	if rep.Result != mc.ResTko || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("after 3 timeouts: %v in %v, want an instant tko", rep.Result, time.Since(start))
	}
	if want := "Server unavailable. Reason: mc_res_timeout"; rep.Message != want && !strings.HasSuffix(rep.Message, "mc_res_connect_timeout") {
		t.Errorf("tko message %q, want mcrouter's %q", rep.Message, want)
	}
	if st := d.Stats(); !st.SoftTKO {
		t.Errorf("not soft TKO: %+v", st)
	}
	s.Thaw()
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().State != upstream.StateUp && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	rep, v := get(t, d, "k")
	if rep.Result != mc.ResFound || v != "v" {
		t.Fatalf("after thaw: %v %q", rep.Result, v)
	}
}

// fakeServer answers each request line with reply(line) and can misbehave.
// TestGarbageAndMidReplyClose: a server that sends garbage or closes in the
// middle of a reply makes the affected request fail with a remote error;
// the connection is rebuilt and the next request succeeds.
func TestGarbageAndMidReplyClose(t *testing.T) {
	addr := memcachedtest.Fake(t, func(n int, c net.Conn, r *bufio.Reader) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case n == 1 && strings.HasPrefix(line, "get"):
				c.Write([]byte("HELLO garbage\r\n"))
			case n == 2 && strings.HasPrefix(line, "get"):
				c.Write([]byte("VALUE k 0 10\r\nabc"))
				return
			case strings.HasPrefix(line, "get"):
				c.Write([]byte("VALUE k 0 2\r\nok\r\nEND\r\n"))
			}
		}
	})
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(upstream.Key{Network: "tcp", Addr: addr, Timeout: time.Second})
	defer r.Release(d)
	for i, want := range []mc.Result{mc.ResRemoteError, mc.ResRemoteError, mc.ResFound} {
		rep, v := get(t, d, "k")
		if rep.Result != want {
			t.Fatalf("request %d: %v %q (%s), want %v", i, rep.Result, v, rep.Message, want)
		}
		// mcrouter's words for a connection the server closed.
		if want := "Connection closed by the server."; i == 1 && rep.Message != want {
			t.Errorf("request %d (server closed mid-reply): message %q, want %q", i, rep.Message, want)
		}
	}
	if st := d.Stats(); st.State == upstream.StateTKO {
		t.Errorf("remote errors must not mark the destination TKO: %+v", st)
	}
}

func TestRegistrySharesDestinations(t *testing.T) {
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	k := upstream.Key{Network: "tcp", Addr: "127.0.0.1:1", Timeout: time.Second}
	a, b := r.Acquire(k), r.Acquire(k)
	if a != b {
		t.Fatal("same key gave two destinations")
	}
	k2 := k
	k2.Timeout = 2 * time.Second
	if c := r.Acquire(k2); c == a {
		t.Fatal("a different timeout must give a different destination")
	} else {
		r.Release(c)
	}
	r.Release(a)
	if len(r.Dests()) != 1 {
		t.Fatalf("released too early: %d dests", len(r.Dests()))
	}
	r.Release(b)
	if len(r.Dests()) != 0 {
		t.Fatalf("not released: %d dests", len(r.Dests()))
	}
}

func BenchmarkDestGetHit(b *testing.B) {
	s := memcachedtest.Start(b)
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(key(s, time.Second))
	defer r.Release(d)
	set(b, d, "bench:key:0000000000000000000000", strings.Repeat("v", 100))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var rep mc.Reply
		req := mc.Request{Op: mc.OpGet, Key: []byte("bench:key:0000000000000000000000")}
		for pb.Next() {
			d.Send(context.Background(), &req, req.Key, &rep)
			if rep.Result != mc.ResFound {
				b.Fatal(rep.Result)
			}
		}
	})
}

// BenchmarkRawGetHit is the baseline: one synchronous client connection.
func BenchmarkRawGetHit(b *testing.B) {
	s := memcachedtest.Start(b)
	s.Do("set bench:key:0000000000000000000000 0 0 100\r\n"+strings.Repeat("v", 100)+"\r\n", "STORED")
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	buf := make([]byte, 4096)
	req := []byte("get bench:key:0000000000000000000000\r\n")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Write(req)
		n := 0
		for {
			m, err := r.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += m
			if n >= 5 && string(buf[n-5:n]) == "END\r\n" {
				break
			}
		}
	}
}

func BenchmarkDestGetHitSerial(b *testing.B) {
	s := memcachedtest.Start(b)
	r := upstream.NewRegistry(upstream.Options{})
	defer r.Close()
	d := r.Acquire(key(s, time.Second))
	defer r.Release(d)
	set(b, d, "bench:key:0000000000000000000000", strings.Repeat("v", 100))
	b.ReportAllocs()
	var rep mc.Reply
	req := mc.Request{Op: mc.OpGet, Key: []byte("bench:key:0000000000000000000000")}
	for i := 0; i < b.N; i++ {
		d.Send(context.Background(), &req, req.Key, &rep)
	}
}
