// Package e2e tests the real mcroute binary: `mcroute serve` started as a
// process in front of real memcached servers, driven over TCP and unix
// sockets, signalled (SIGHUP, SIGTERM) and scraped (--metrics-listen), as
// an operator would use it. TestMain builds the binary once.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// binary is the mcroute binary built by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mcroute-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "mcroute")
	build := exec.Command("go", "build", "-o", binary, "github.com/mcroute/mcroute/cmd/mcroute")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building mcroute:", err)
		return 2
	}
	return m.Run()
}

// syncBuffer collects a process's output for assertions while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveProc is a running `mcroute serve`.
type serveProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	Addr   string // the first --listen address (host:port or unix:PATH)
	Log    *syncBuffer
	done   chan struct{}
	waited error
}

// serve starts `mcroute serve` with args; unless args has --listen, it
// listens on a free 127.0.0.1 port. It waits until the proxy accepts
// connections, and kills it at the end of the test if it still runs.
func serve(t *testing.T, args ...string) *serveProc {
	t.Helper()
	p := startServe(t, args...)
	p.waitListening()
	return p
}

// startServe starts the process without waiting for it to listen.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	addr := ""
	for i, a := range args {
		if a == "--listen" && i+1 < len(args) {
			addr = args[i+1]
			break
		}
	}
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", memcachedtest.FreePort(t))
		args = append(args, "--listen", addr)
	}
	return startServeAt(t, addr, args...)
}

// startServeAt starts `mcroute serve args...`, which is to listen on addr.
func startServeAt(t *testing.T, addr string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{t: t, Addr: addr, Log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"serve"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.Log, p.Log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waited = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("mcroute serve log:\n%s", p.Log)
		}
	})
	return p
}

func (p *serveProc) network() (string, string) {
	if path, ok := strings.CutPrefix(p.Addr, "unix:"); ok {
		return "unix", path
	}
	return "tcp", p.Addr
}

func (p *serveProc) waitListening() {
	p.t.Helper()
	network, addr := p.network()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			// Another process may hold a port that was free a moment
			// ago: the listener must be this serve's, which logs it.
			if log := p.Log.String(); strings.Contains(log, "msg=listening") || strings.Contains(log, `"msg":"listening"`) {
				return
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("mcroute serve exited (%v) before listening:\n%s", p.waited, p.Log)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("mcroute serve is not listening on %s:\n%s", p.Addr, p.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signal sends sig to the process.
func (p *serveProc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *serveProc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("mcroute serve did not exit within %v:\n%s", timeout, p.Log)
	}
	if p.waited == nil {
		return 0
	}
	if ee, ok := p.waited.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.t.Fatalf("mcroute serve killed by %v", ws.Signal())
		}
		return ee.ExitCode()
	}
	p.t.Fatal(p.waited)
	return -1
}

// waitLog waits until the log contains s.
func (p *serveProc) waitLog(s string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Log.String(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("log never said %q:\n%s", s, p.Log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// client is a line-oriented memcached client.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (p *serveProc) dial() *client {
	p.t.Helper()
	network, addr := p.network()
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { c.Close() })
	return &client{t: p.t, c: c, r: bufio.NewReader(c)}
}

// do sends text and returns the reply lines up to and including one equal
// to end or an error line.
func (c *client) do(text, end string) string {
	c.t.Helper()
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.c, text); err != nil {
		c.t.Fatal(err)
	}
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading the reply to %q: %v (got %q)", text, err, b.String()+l)
		}
		b.WriteString(l)
		l = strings.TrimRight(l, "\r\n")
		if l == end || l == "ERROR" || strings.HasPrefix(l, "SERVER_ERROR") || strings.HasPrefix(l, "CLIENT_ERROR") {
			return b.String()
		}
	}
}

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// replaceFile replaces path's content atomically (write and rename), as
// editors and Kubernetes ConfigMap updates do.
func replaceFile(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// scrape returns the text of http://addr/metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	b, err := httpGet("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metric returns the value of the sample whose name and labels are
// exactly series (e.g. `mcroute_config_reloads_total{result="failure"}`),
// or "" if absent.
func metric(text, series string) string {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpGet returns the body of url.
func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

// tryDial connects to the process's address.
func (p *serveProc) tryDial() (net.Conn, error) {
	network, addr := p.network()
	return net.DialTimeout(network, addr, time.Second)
}

// line sends text and returns the first reply line.
func (c *client) line(text string) string {
	c.t.Helper()
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.c, text); err != nil {
		c.t.Fatal(err)
	}
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading the reply to %q: %v", text, err)
	}
	return l
}
