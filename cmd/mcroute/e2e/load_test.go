package e2e

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

// load drives `mcroute serve` with closed-loop clients: each sends a set,
// reads its reply, sends a get of the same key, reads its reply, and so
// on. It counts every request sent and every reply, so that failed, lost
// (connection closed before the reply) and wrong replies show.
type load struct {
	sent, answered, failed, lost, wrong atomic.Int64
	// lastSent is when the newest request was written, for a check that
	// only requests sent after a drain began are lost.
	lastSent atomic.Int64
	examples chan string
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startLoad(t *testing.T, network, addr string, clients int) *load {
	t.Helper()
	l := &load{examples: make(chan string, 20), stop: make(chan struct{})}
	for w := 0; w < clients; w++ {
		c, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer c.Close()
			l.run(c, w)
		}()
	}
	return l
}

func (l *load) note(s string) {
	select {
	case l.examples <- s:
	default:
	}
}

func (l *load) run(c net.Conn, w int) {
	r := bufio.NewReader(c)
	for i := 0; ; i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key := fmt.Sprintf("load:%d:%d", w, i%64)
		val := fmt.Sprintf("v%d-%d", w, i)
		var req, want string
		if i%2 == 0 {
			req, want = fmt.Sprintf("set %s 0 0 %d\r\n%s\r\n", key, len(val), val), "STORED\r\n"
		} else {
			req = fmt.Sprintf("get %s\r\n", key)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		l.sent.Add(1)
		l.lastSent.Store(time.Now().UnixNano())
		if _, err := c.Write([]byte(req)); err != nil {
			l.lost.Add(1)
			return
		}
		line, err := r.ReadString('\n')
		if err != nil {
			l.lost.Add(1)
			return
		}
		l.answered.Add(1)
		switch {
		case want != "":
			if line != want {
				l.failed.Add(1)
				l.note(fmt.Sprintf("%q: %q", req, line))
			}
		case line == "END\r\n":
			// A miss: the key may be new, or on a server the new
			// config does not read.
		case strings.HasPrefix(line, "VALUE "):
			data, _ := r.ReadString('\n')
			end, err := r.ReadString('\n')
			if err != nil || end != "END\r\n" || !strings.HasPrefix(data, fmt.Sprintf("v%d-", w)) {
				l.wrong.Add(1)
				l.note(fmt.Sprintf("%q: %q %q %q", req, line, data, end))
			}
		default:
			l.failed.Add(1)
			l.note(fmt.Sprintf("%q: %q", req, line))
		}
	}
}

// finish stops the clients and logs the counts.
func (l *load) finish(t *testing.T, what string) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	close(l.examples)
	for e := range l.examples {
		t.Log(e)
	}
	t.Logf("%s: requests sent %d, answered %d, failed %d, lost %d, wrong %d",
		what, l.sent.Load(), l.answered.Load(), l.failed.Load(), l.lost.Load(), l.wrong.Load())
}
