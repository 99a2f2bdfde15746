package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
	"github.com/mcroute/mcroute/schema"
)

// decode loads an mcrouter JSON config from text.
func decode(t testing.TB, text string) *schema.Config {
	t.Helper()
	l := mcrouterjson.LoadBytes("config.json", []byte(text), mcrouterjson.LoadOptions{})
	if l.Diagnostics.HasErrors() {
		t.Fatalf("config:\n%s\n%s", l.Diagnostics.Error(), text)
	}
	return l.Config
}

// withServers replaces $0, $1, ... in text with the servers' addresses.
func withServers(text string, servers ...*memcachedtest.Server) string {
	for i := len(servers) - 1; i >= 0; i-- {
		addr := servers[i].Addr
		if servers[i].Network == "unix" {
			addr = "unix:" + addr
		}
		text = strings.ReplaceAll(text, "$"+string(rune('0'+i)), addr)
	}
	return text
}

// startProxy runs a proxy with cfg on a free 127.0.0.1 port and returns it
// with its address; it is closed when the test ends.
func startProxy(t testing.TB, cfgText string, opts proxy.Options) (*proxy.Server, string) {
	t.Helper()
	s := proxy.New(opts)
	if err := s.SetConfig(decode(t, cfgText), proxy.ConfigInfo{Path: "config.json", Text: []byte(cfgText)}); err != nil {
		t.Fatal(err)
	}
	ln, err := proxy.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, ln.Addr().String()
}

// conn is a line-oriented test client.
type conn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, network, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *conn) send(s string) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *conn) line() string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// until reads lines up to and including one equal to end (or starting with
// an error keyword).
func (c *conn) until(end string) []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		out = append(out, l)
		if l == end || strings.HasPrefix(l, "SERVER_ERROR") || strings.HasPrefix(l, "CLIENT_ERROR") || l == "ERROR" {
			return out
		}
	}
}

// do sends a command and returns its reply lines.
func (c *conn) do(cmd, end string) []string {
	c.t.Helper()
	c.send(cmd)
	return c.until(end)
}

// setGetClients runs clients concurrent connections to addr, each storing
// and reading back requests keys named prefix<client>:<i>, and reports
// every wrong reply.
func setGetClients(t *testing.T, addr, prefix string, clients, requests int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			cl := &conn{t: t, c: c, r: bufio.NewReader(c)}
			for i := 0; i < requests; i++ {
				k, v := fmt.Sprintf("%s%d:%d", prefix, w, i), strings.Repeat("v", i+1)
				cl.send(fmt.Sprintf("set %s 0 0 %d\r\n%s\r\nget %s\r\n", k, len(v), v, k))
				if l := cl.line(); l != "STORED" {
					errs <- "set: " + l
					return
				}
				if got := cl.until("END"); len(got) != 3 || got[1] != v {
					errs <- fmt.Sprintf("get %s: %q", k, got)
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
}
