// Package loadtest drives a memcached-protocol server with closed-loop
// clients and classifies every reply, for tests of the proxy under faults,
// reloads and shutdown.
//
// Each client sets a key to a value that names the client and the
// request, reads the reply, gets the key back, reads that reply, and so
// on, one request at a time over 64 keys of its own. Because every value
// says who wrote it and when, a reply that belongs to another request
// (reordered, duplicated or mixed up) is told apart from an older value of
// the same key, which a replica that missed writes while it was down may
// legitimately return.
package loadtest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keys is the number of keys each client cycles through.
const keys = 64

// Counts are a load's results so far.
type Counts struct {
	// Sent counts requests written; Answered, replies read.
	Sent, Answered int64
	// FailedSets counts set replies other than STORED; FailedGets, get
	// replies that are neither a value nor a miss (SERVER_ERROR...).
	FailedSets, FailedGets int64
	// Misses counts gets answered with END alone.
	Misses int64
	// Stale counts gets that returned an older value of the same key.
	Stale int64
	// Wrong counts values this client never wrote to that key: replies
	// reordered, duplicated or mixed up between requests.
	Wrong int64
	// Lost counts requests whose reply never came (the write or the
	// read failed, for example because the server closed the
	// connection); a client stops after one.
	Lost int64
}

// String returns the counts as one line for a test log.
func (c Counts) String() string {
	return fmt.Sprintf("requests sent %d, answered %d, lost %d; failed sets %d, failed gets %d, misses %d, stale values %d, wrong values %d",
		c.Sent, c.Answered, c.Lost, c.FailedSets, c.FailedGets, c.Misses, c.Stale, c.Wrong)
}

// Load is a running set of clients. Its methods are safe for concurrent
// use.
type Load struct {
	sent, answered         atomic.Int64
	failedSets, failedGets atomic.Int64
	misses, stale, wrong   atomic.Int64
	lost                   atomic.Int64

	examples chan string
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Start connects clients to addr (network "tcp" or "unix") and starts
// them. It fails the test if a connection cannot be made.
func Start(t testing.TB, network, addr string, clients int) *Load {
	t.Helper()
	l := &Load{examples: make(chan string, 20), stop: make(chan struct{})}
	conns := make([]net.Conn, 0, clients)
	for range clients {
		c, err := net.Dial(network, addr)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			t.Fatalf("load client: %v", err)
		}
		conns = append(conns, c)
	}
	for w, c := range conns {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer c.Close()
			l.run(c, w)
		}()
	}
	return l
}

// Counts returns the counts so far.
func (l *Load) Counts() Counts {
	return Counts{
		Sent: l.sent.Load(), Answered: l.answered.Load(),
		FailedSets: l.failedSets.Load(), FailedGets: l.failedGets.Load(),
		Misses: l.misses.Load(), Stale: l.stale.Load(), Wrong: l.wrong.Load(),
		Lost: l.lost.Load(),
	}
}

// Stop stops the clients, waits for them, logs up to 20 examples of
// unexpected replies and the counts (prefixed with what), and returns the
// counts. Call it once.
func (l *Load) Stop(t testing.TB, what string) Counts {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	close(l.examples)
	for e := range l.examples {
		t.Log(e)
	}
	c := l.Counts()
	t.Logf("%s: %s", what, c)
	return c
}

func (l *Load) note(format string, args ...any) {
	select {
	case l.examples <- fmt.Sprintf(format, args...):
	default:
	}
}

// run is one client: w numbers it.
func (l *Load) run(c net.Conn, w int) {
	r := bufio.NewReader(c)
	// do sends one request and returns the first line of its reply; false
	// means the request was lost and the client stops.
	do := func(req string) (string, bool) {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		l.sent.Add(1)
		if _, err := c.Write([]byte(req)); err != nil {
			l.lost.Add(1)
			return "", false
		}
		line, err := r.ReadString('\n')
		if err != nil {
			l.lost.Add(1)
			return "", false
		}
		l.answered.Add(1)
		return line, true
	}
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := fmt.Sprintf("load:%d:%d", w, n%keys)
		val := fmt.Sprintf("v%d-%d", w, n)
		line, ok := do(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", key, len(val), val))
		if !ok {
			return
		}
		if line != "STORED\r\n" {
			l.failedSets.Add(1)
			l.note("set %s: %q", key, line)
		}
		line, ok = do("get " + key + "\r\n")
		if !ok {
			return
		}
		switch {
		case line == "END\r\n":
			l.misses.Add(1)
		case strings.HasPrefix(line, "VALUE "):
			data, _ := r.ReadString('\n')
			end, _ := r.ReadString('\n')
			var gw, gn int
			_, perr := fmt.Sscanf(strings.TrimSpace(data), "v%d-%d", &gw, &gn)
			switch {
			case data == val+"\r\n" && end == "END\r\n":
			case perr == nil && end == "END\r\n" && gw == w && gn%keys == n%keys && gn < n:
				l.stale.Add(1)
			default:
				l.wrong.Add(1)
				l.note("get %s: %q %q %q, want %q", key, line, data, end, val)
			}
		default:
			l.failedGets.Add(1)
			l.note("get %s: %q", key, line)
		}
	}
}
