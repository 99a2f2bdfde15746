// Package memcachedtest starts real memcached servers for tests, on
// 127.0.0.1 with free ports (or on unix sockets), and stops them when the
// test ends. Tests that need one are skipped with a clear message when the
// memcached binary is not installed.
package memcachedtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a running memcached process.
type Server struct {
	// Addr is host:port (TCP) or the socket path (unix).
	Addr string
	// Network is "tcp" or "unix".
	Network string
	// Port is the TCP port (0 for unix sockets).
	Port int

	t    testing.TB
	args []string
	cmd  *exec.Cmd
	// exited is closed once the process has exited and been reaped (by
	// the goroutine start runs for it).
	exited chan struct{}
}

// Binary returns the path of memcached, or "" when it is not installed.
func Binary() string {
	p, err := exec.LookPath("memcached")
	if err != nil {
		return ""
	}
	return p
}

// Require skips the test when memcached is not installed.
func Require(t testing.TB) string {
	t.Helper()
	p := Binary()
	if p == "" {
		t.Skip("memcached is not installed (apt-get install memcached); skipping a test that needs a real server")
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs memcached on a free 127.0.0.1 port with 64 MiB of memory, plus
// extra arguments, and stops it at the end of the test.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Require(t)
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port := FreePort(t)
		s := &Server{t: t, Network: "tcp", Port: port, Addr: fmt.Sprintf("127.0.0.1:%d", port),
			args: append([]string{"-l", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "0", "-m", "64", "-t", "2"}, extra...)}
		if os.Geteuid() == 0 {
			s.args = append(s.args, "-u", "nobody")
		}
		if last = s.start(bin); last == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("start memcached: %v", last)
	return nil
}

// StartUnix runs memcached on a unix socket in a temporary directory.
func StartUnix(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Require(t)
	// The socket directory must be reachable by the user memcached runs
	// as (nobody, when the tests run as root): t.TempDir's parent is not.
	dir, err := os.MkdirTemp("", "memcachedtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o777)
	path := filepath.Join(dir, "memcached.sock")
	s := &Server{t: t, Network: "unix", Addr: path,
		args: append([]string{"-s", path, "-a", "0666", "-m", "64"}, extra...)}
	if os.Geteuid() == 0 {
		s.args = append(s.args, "-u", "nobody")
	}
	if err := s.start(bin); err != nil {
		t.Fatalf("start memcached: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(bin string) error {
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		// Reaps the process when it exits early (it could not bind) or
		// when Stop or Kill ends it.
		_ = s.cmd.Wait()
		close(exited)
	}()
	s.exited = exited
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("memcached %v exited at start (address %s in use?)", s.args, s.Addr)
		default:
		}
		c, err := net.DialTimeout(s.Network, s.Addr, 200*time.Millisecond)
		if err == nil {
			// Another test binary's server may hold the port that was
			// free a moment ago: make sure this one answers.
			pid := serverPid(c)
			c.Close()
			if pid == s.cmd.Process.Pid {
				return nil
			}
			if pid != 0 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.cmd.Process.Kill()
	<-exited
	return fmt.Errorf("memcached %v did not start listening on %s", s.args, s.Addr)
}

// serverPid asks the memcached at the other end of c for its process id
// ("STAT pid"); 0 if it does not answer with one.
func serverPid(c net.Conn) int {
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("stats\r\n")); err != nil {
		return 0
	}
	r := bufio.NewReader(c)
	pid := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0
		}
		line = strings.TrimSpace(line)
		if line == "END" {
			return pid
		}
		if v, ok := strings.CutPrefix(line, "STAT pid "); ok {
			fmt.Sscan(v, &pid)
		}
	}
}

// Restart starts the server again on the same address after Kill or
// Stop.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(s.cmd.Path); err != nil {
		s.t.Fatalf("restart memcached: %v", err)
	}
}

// Stop terminates the server (SIGKILL) and waits for it; calling it twice
// is harmless.
func (s *Server) Stop() {
	if s.exited == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Kill is Stop, named for fault-injection tests.
func (s *Server) Kill() { s.Stop() }

// Freeze stops the process (SIGSTOP): it keeps its sockets but answers
// nothing, so requests time out. It returns once every thread of the
// process is stopped (signal delivery is asynchronous), or after 2 seconds
// where /proc cannot tell.
func (s *Server) Freeze() {
	_ = s.cmd.Process.Signal(syscall.SIGSTOP)
	deadline := time.Now().Add(2 * time.Second)
	for !s.stopped() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// stopped reports whether every thread of the process is in the stopped
// state, according to /proc.
func (s *Server) stopped() bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", s.cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may contain spaces, so look after
		// its closing parenthesis.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Thaw resumes a frozen process (SIGCONT).
func (s *Server) Thaw() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// Pid returns the process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Do sends raw protocol text to the server on a new connection and returns
// what it answered up to and including a line equal to until (for example
// "END" or "STORED").
func (s *Server) Do(text, until string) string {
	s.t.Helper()
	c, err := net.DialTimeout(s.Network, s.Addr, time.Second)
	if err != nil {
		s.t.Fatalf("dial memcached: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
	var b strings.Builder
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil || strings.TrimRight(line, "\r\n") == until {
			return b.String()
		}
	}
}

// Get returns the value stored under key, and whether it exists, by asking
// the server directly.
func (s *Server) Get(key string) (string, bool) {
	s.t.Helper()
	out := s.Do("get "+key+"\r\n", "END")
	if !strings.HasPrefix(out, "VALUE ") {
		return "", false
	}
	lines := strings.SplitN(out, "\r\n", 3)
	return lines[1], true
}
