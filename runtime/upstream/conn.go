package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/mcroute/mcroute/internal/sockio"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/memproto"
)

// call is one request waiting for its reply on a connection.
type call struct {
	op       mc.Op
	meta     byte
	rep      *mc.Reply
	deadline time.Time
	done     chan struct{}
}

// conn is one pipelined connection to a destination.
//
// Senders append their requests to a buffer and wake the connection's
// writer goroutine, which yields once (runtime.Gosched) before writing, so
// that every request made runnable by the same network poll is appended
// first and all of them leave in one write. A reader goroutine per
// connection reads replies and completes the calls in order.
// The read deadline is always the deadline of the oldest outstanding call;
// when it passes, the connection is closed and every outstanding call fails
// with a timeout (the late replies could not be matched any more).
type conn struct {
	d     *Dest
	calls sync.Pool

	dialMu sync.Mutex // serialises connection attempts

	mu      sync.Mutex
	nc      net.Conn // nil when not connected
	gen     uint64   // incremented on every connect and break
	pending queue
	wbuf    []byte
	spare   []byte
	kicked  bool          // a wake-up is pending for the writer
	kick    chan struct{} // wakes the writer of the current connection
	closed  bool
}

func newConn(d *Dest) *conn {
	c := &conn{d: d}
	c.calls.New = func() any { return &call{done: make(chan struct{}, 1)} }
	return c
}

var (
	errClosed      = errors.New("upstream: destination closed")
	errTKO         = errors.New("upstream: destination is TKO")
	errUnsolicited = errors.New("upstream: server sent data nobody asked for")
)

// do sends req and waits for the reply. The request times out the
// destination's timeout after now (the caller's clock reading, to save
// one), or after the connection is made if do has to connect first.
func (c *conn) do(req *mc.Request, key []byte, rep *mc.Reply, now time.Time) {
	if !memproto.Forwardable(req.Op) {
		errResult(mc.ResLocalError, "operation not supported by memcached", rep)
		return
	}
	cl := c.calls.Get().(*call)
	cl.op, cl.meta, cl.rep = req.Op, req.Meta, rep
	c.mu.Lock()
	for c.nc == nil {
		if c.closed {
			c.mu.Unlock()
			c.calls.Put(cl)
			errResult(mc.ResLocalError, "destination closed", rep)
			return
		}
		c.mu.Unlock()
		if res, err := c.connect(); err != nil {
			c.calls.Put(cl)
			msg := ""
			if res == mc.ResTko {
				msg = c.d.tkoMessage()
			}
			errResult(res, msg, rep)
			return
		}
		// The request's time starts once it can be sent.
		now = time.Now()
		c.mu.Lock()
	}
	cl.deadline = now.Add(c.d.key.Timeout)
	c.wbuf = memproto.AppendRequest(c.wbuf, req, key)
	c.pending.push(cl)
	if c.pending.len() == 1 {
		_ = c.nc.SetReadDeadline(cl.deadline)
	}
	if !c.kicked {
		c.kicked = true
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	<-cl.done
	cl.rep = nil
	c.calls.Put(cl)
}

// writeLoop writes the requests of the connection of generation gen until
// it breaks.
func (c *conn) writeLoop(nc net.Conn, raw syscall.RawConn, kick chan struct{}, gen uint64) {
	var w *rawWriter
	if raw != nil {
		w = newRawWriter(raw)
	}
	for range kick {
		// Let the other goroutines made runnable by the same poll append
		// their requests, so that they share this write.
		runtime.Gosched()
		c.mu.Lock()
		if c.gen != gen {
			c.mu.Unlock()
			return
		}
		c.kicked = false
		buf := c.wbuf
		c.wbuf = c.spare[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		err := c.write(nc, w, buf)
		c.mu.Lock()
		if cap(buf) <= 1<<20 {
			c.spare = buf[:0]
		}
		if err != nil {
			c.breakAndUnlock(gen, err)
			return
		}
		c.mu.Unlock()
	}
}

// rawWriter writes a connection's batches. Its callback is bound once per
// connection, so that a write allocates nothing.
type rawWriter struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool
	buf []byte
	n   int
	err error
}

func newRawWriter(raw syscall.RawConn) *rawWriter {
	w := &rawWriter{raw: raw}
	w.fn = w.write
	return w
}

func (w *rawWriter) write(fd uintptr) bool {
	w.n, w.err = sockio.Write(int(fd), w.buf)
	return true
}

// write writes buf to nc (w is nil for a connection that is not a
// socket). A socket's send buffer normally takes it at once; the write
// deadline (a timer) is set only when it does not.
func (c *conn) write(nc net.Conn, w *rawWriter, buf []byte) error {
	if w != nil {
		w.buf = buf
		err := w.raw.Write(w.fn)
		w.buf = nil
		if err != nil {
			return err
		}
		if w.err != syscall.EAGAIN {
			return w.err
		}
		buf = buf[w.n:]
	}
	_ = nc.SetWriteDeadline(time.Now().Add(c.d.key.Timeout))
	_, err := nc.Write(buf)
	if w != nil && err == nil {
		// The next raw write must not see this deadline pass.
		_ = nc.SetWriteDeadline(time.Time{})
	}
	return err
}

// connect dials the destination if no connection is open. It returns the
// result to answer with when it cannot.
func (c *conn) connect() (mc.Result, error) {
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	c.mu.Lock()
	open, closed := c.nc != nil, c.closed
	c.mu.Unlock()
	if open {
		return 0, nil
	}
	if closed {
		return mc.ResLocalError, errClosed
	}
	if c.d.tko.Load() {
		return mc.ResTko, errTKO
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.d.key.ConnectTimeout)
	nc, err := c.d.reg.dial(ctx, c.d.key)
	cancel()
	if err != nil {
		res := mc.ResConnectError
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			res = mc.ResConnectTimeout
		}
		c.d.reg.opts.logger().Debug("connect failed", "server", c.d.key.Addr, "err", err)
		return res, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	var raw syscall.RawConn
	if sc, ok := nc.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		nc.Close()
		return mc.ResLocalError, errClosed
	}
	c.gen++
	c.nc = nc
	gen := c.gen
	kick := make(chan struct{}, 1)
	c.kick, c.kicked = kick, false
	c.mu.Unlock()
	if raw != nil {
		go c.rawReadLoop(nc, raw, gen)
	} else {
		go c.readLoop(nc, gen)
	}
	go c.writeLoop(nc, raw, kick, gen)
	return 0, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// replyLoop reads the replies of the connection of generation gen and
// completes the calls in order; readLoop and rawReadLoop drive it. While
// no call is outstanding it still waits for the server, so that a server
// that closes an idle connection (a restart, a crash, an idle timeout) is
// noticed at once: the next request then reconnects (and gets a connect
// error, which failover routes act on, if the server is gone) instead of
// being written to a dead socket and failing as a lost connection. Bytes
// that arrive while nothing is outstanding are garbage and break the
// connection.
//
// Deadlines are lazy: the read deadline is armed by do when a call goes
// out on an idle connection and is not moved as replies complete; when it
// fires, the driver calls rearm, which re-arms it for the oldest call and
// breaks the connection only if that call's own deadline has passed.
type replyLoop struct {
	c       *conn
	gen     uint64
	rr      *memproto.ReplyReader
	scratch mc.Reply
	// stop says that the connection broke elsewhere; fail, that it must
	// be broken with this error.
	stop bool
	fail error
}

func (c *conn) newReplyLoop(gen uint64, src io.Reader) *replyLoop {
	l := &replyLoop{c: c, gen: gen, rr: memproto.NewReplyReader(src)}
	l.rr.MaxValueSize = c.d.reg.opts.MaxValueSize
	return l
}

// step reads one reply, or waits for the server while no call is
// outstanding. done means the loop is over (stop or fail is set); wait,
// that the source returned memproto.ErrWouldBlock.
func (l *replyLoop) step() (done, wait bool) {
	c := l.c
	c.mu.Lock()
	if c.gen != l.gen {
		c.mu.Unlock()
		l.stop = true
		return true, false
	}
	if c.pending.len() == 0 {
		c.mu.Unlock()
		if l.rr.Buffered() > 0 {
			l.fail = errUnsolicited
			return true, false
		}
		// Wait for the server: bytes that arrive are the reply to a
		// call sent meanwhile, or garbage.
		err := l.rr.Fill()
		if err == memproto.ErrWouldBlock {
			return false, true
		}
		if err != nil {
			l.fail = err
			return true, false
		}
		return false, false
	}
	head := c.pending.front()
	c.mu.Unlock()

	err := l.rr.ReadReply(head.op, head.meta, &l.scratch)
	if err == memproto.ErrWouldBlock {
		return false, true
	}
	if err != nil && !(isReplyError(err) && isErrorLine(l.scratch.Result)) {
		l.fail = err
		return true, false
	}
	c.mu.Lock()
	if c.gen != l.gen {
		// Broken meanwhile: head was failed.
		c.mu.Unlock()
		l.stop = true
		return true, false
	}
	c.pending.pop()
	c.mu.Unlock()
	head.rep.CopyFrom(&l.scratch)
	head.done <- struct{}{}
	if err != nil {
		// A readable error reply, but the stream is out of step (a
		// rejected storage command line): rebuild the connection.
		l.fail = err
		return true, false
	}
	return false, false
}

// rearm handles a read deadline that fired (or, woken, a wake-up from the
// sweeper): it re-arms the deadline for the oldest call, or clears it when
// none is outstanding, and reports whether the loop goes on. It does not
// when the connection broke meanwhile (stop) or the oldest call is late
// (fail, with a timeout).
func (l *replyLoop) rearm(nc net.Conn, woken bool) bool {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.gen != l.gen:
		l.stop = true
		return false
	case c.pending.len() == 0:
		_ = nc.SetReadDeadline(time.Time{})
		return true
	case woken || c.pending.front().deadline.After(time.Now()):
		_ = nc.SetReadDeadline(c.pending.front().deadline)
		return true
	}
	l.fail = os.ErrDeadlineExceeded
	return false
}

// end breaks the connection if the loop failed.
func (l *replyLoop) end() {
	if l.stop || l.fail == nil {
		return
	}
	l.c.mu.Lock()
	l.c.breakAndUnlock(l.gen, l.fail)
}

// readLoop drives a replyLoop with blocking reads, for connections that
// are not sockets (a custom Options.Dial).
func (c *conn) readLoop(nc net.Conn, gen uint64) {
	l := c.newReplyLoop(gen, &deadlineSource{nc: nc})
	defer l.end()
	for {
		done, wait := l.step()
		switch {
		case done:
			return
		case wait && !l.rearm(nc, false):
			return
		}
	}
}

// deadlineSource reads a net.Conn and turns a passed read deadline into
// memproto.ErrWouldBlock, which, unlike other errors, the reply reader
// does not keep: the read can go on once rearm has moved the deadline.
type deadlineSource struct{ nc net.Conn }

func (s *deadlineSource) Read(p []byte) (int, error) {
	n, err := s.nc.Read(p)
	if err != nil && isTimeout(err) {
		if n > 0 {
			return n, nil
		}
		return 0, memproto.ErrWouldBlock
	}
	return n, err
}

// rawReadLoop drives a replyLoop inside RawConn.Read (sockio.Waiter.Read):
// a read that does not fill the reply buffer means the socket is drained,
// so the loop waits for the poller's next readiness event instead of
// trying a read that would fail with EAGAIN; a wait after such a skipped
// read is parked in the registry's sweeper, which catches an end of input
// that arrived together with the last data.
func (c *conn) rawReadLoop(nc net.Conn, raw syscall.RawConn, gen uint64) {
	src := sockio.NewSource(nil)
	l := c.newReplyLoop(gen, src)
	defer l.end()
	w := c.d.reg.sweeper.Add(nc, raw)
	defer w.Remove()
	for {
		err := w.Read(src, l.step)
		if l.stop || l.fail != nil {
			return
		}
		if err == nil || !(isTimeout(err) || errors.Is(err, os.ErrDeadlineExceeded)) {
			l.fail = err
			return
		}
		if !l.rearm(nc, w.Woken()) {
			return
		}
	}
}

// isReplyError reports whether err is a *memproto.ReplyError. It is a
// function of its own so that the target of errors.As, which escapes, is
// allocated only on this error path and not for every reply.
func isReplyError(err error) bool {
	var re *memproto.ReplyError
	return errors.As(err, &re)
}

// breakLocked ends the connection of generation gen (if still current)
// and fails every outstanding call: with a timeout when a deadline passed,
// else with a remote error. c.mu must be held. It returns the connection,
// which the caller closes after releasing c.mu (breakAndUnlock): closing
// waits for a reader inside RawConn.Read to leave it, and that reader may
// be waiting for c.mu.
func (c *conn) breakLocked(gen uint64, err error) net.Conn {
	if c.gen != gen || c.nc == nil {
		return nil
	}
	old := c.nc
	c.nc = nil
	c.gen++
	close(c.kick)
	res, msg := mc.ResRemoteError, "connection to server lost"
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		// mcrouter's words for a request sent and not answered in time.
		res, msg = mc.ResTimeout, "Reply timeout"
	case errors.Is(err, errClosed):
		res, msg = mc.ResLocalError, "destination closed"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// mcrouter's words when the server closes the connection.
		msg = "Connection closed by the server."
	default:
		var re *memproto.ReplyError
		if errors.As(err, &re) {
			msg = "bad reply from server: " + re.Reason
		}
	}
	for c.pending.len() > 0 {
		cl := c.pending.pop()
		errResult(res, msg, cl.rep)
		cl.done <- struct{}{}
	}
	c.wbuf = c.wbuf[:0]
	if res != mc.ResTimeout {
		c.d.reg.opts.logger().Debug("connection broken", "server", c.d.key.Addr, "err", err)
	}
	return old
}

// breakAndUnlock is breakLocked followed by releasing c.mu and closing
// the connection it ended. c.mu must be held.
func (c *conn) breakAndUnlock(gen uint64, err error) {
	old := c.breakLocked(gen, err)
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// close closes the connection for good; outstanding calls fail.
func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	c.breakAndUnlock(c.gen, errClosed)
}

// snapshot returns the number of outstanding calls and whether the
// connection is open.
func (c *conn) snapshot() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending.len(), c.nc != nil
}

// queue is a FIFO of calls backed by a slice.
type queue struct {
	items []*call
	head  int
}

func (q *queue) len() int { return len(q.items) - q.head }

func (q *queue) push(c *call) {
	if q.head > 0 && q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	}
	q.items = append(q.items, c)
}

func (q *queue) front() *call { return q.items[q.head] }

func (q *queue) pop() *call {
	c := q.items[q.head]
	q.items[q.head] = nil
	q.head++
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		for i := n; i < len(q.items); i++ {
			q.items[i] = nil
		}
		q.items = q.items[:n]
		q.head = 0
	}
	return c
}

// isErrorLine reports whether res came from an ERROR, CLIENT_ERROR or
// SERVER_ERROR line, which can be relayed even when the stream is out of
// step.
func isErrorLine(res mc.Result) bool {
	switch res {
	case mc.ResBadCommand, mc.ResClientError, mc.ResRemoteError, mc.ResBusy, mc.ResTryAgain, mc.ResShutdown:
		return true
	}
	return false
}
