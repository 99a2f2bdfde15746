//go:build linux

package busypoll

import (
	"io"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"
)

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func TestStartRejectsIntervals(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Microsecond, MaxInterval + 1} {
		if p, err := Start(d); err == nil {
			p.Close()
			t.Errorf("Start(%v) succeeded", d)
		}
	}
}

func TestNilPoller(t *testing.T) {
	var p *Poller
	p.Active()
	if p.Polling() || p.Polls() != 0 {
		t.Fatal("nil poller polls")
	}
}

// TestPollsWhileActive: the poller polls while Active is called, stops
// after the idle period, and starts again on the next Active.
func TestPollsWhileActive(t *testing.T) {
	p, err := Start(50 * time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	time.Sleep(10 * time.Millisecond)
	if p.Polling() || p.Polls() != 0 {
		t.Fatalf("polling before any Active: %v, %d polls", p.Polling(), p.Polls())
	}
	// Keep it active until it has polled 20 times: a poller that does
	// not re-arm itself polls once.
	waitFor(t, "20 polls while active", func() bool {
		p.Active()
		return p.Polls() >= 20
	})
	waitFor(t, "the poller goes idle", func() bool { return !p.Polling() })
	n := p.Polls()
	time.Sleep(5 * time.Millisecond)
	if m := p.Polls(); m != n {
		t.Fatalf("%d polls while idle", m-n)
	}
	p.Active()
	waitFor(t, "polling again", func() bool { return p.Polls() > n+5 })
}

// TestDeliversNetworkEvents: with one processor and the poller active
// (runnable goroutines never leave it idle), socket reads still complete,
// through the poller's non-blocking network polls.
func TestDeliversNetworkEvents(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p, err := Start(20 * time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c) // echo
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1)
	start := p.Polls()
	rtts := make([]time.Duration, 200)
	for i := range rtts {
		p.Active()
		t0 := time.Now()
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if buf[0] != byte(i) {
			t.Fatalf("echo %d: got %d", i, buf[0])
		}
		rtts[i] = time.Since(t0)
	}
	// A poller that kept the processor without returning to the network
	// poller would leave the echoes to the runtime's background poll,
	// at least 10 ms apart, so every round trip would take that long.
	// (The fastest tenth, not the median, so that a loaded machine does
	// not fail the test.)
	slices.Sort(rtts)
	if fast := rtts[len(rtts)/10]; fast > 5*time.Millisecond {
		t.Fatalf("fastest tenth of echo round trips above %v: the network is not polled", fast)
	}
	if p.Polls() == start {
		t.Fatal("the echoes did not go through the poller")
	}
}

func TestCloseEndsPoller(t *testing.T) {
	p, err := Start(50 * time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	p.Active()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	default:
		t.Fatal("poller goroutine still running after Close")
	}
	p.Active() // after Close: must not write to a reused descriptor
	if err := p.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}
