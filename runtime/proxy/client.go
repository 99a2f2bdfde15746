package proxy

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mcroute/mcroute/internal/sockio"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/memproto"
)

// flushThreshold is the size of buffered replies that makes the client
// loop write them out even though more pipelined requests are waiting.
const flushThreshold = 64 << 10

// clientBufferSize is the initial read buffer of a client connection. It
// grows for long lines, large values and pipelined bursts, and shrinks back
// afterwards, so that an idle connection costs little memory.
const clientBufferSize = 2 << 10

// client is one client connection. Its goroutine reads commands, routes
// them and writes the replies in order.
type client struct {
	s   *Server
	nc  net.Conn
	r   *memproto.Reader
	ctx context.Context

	out []byte
	cmd memproto.Command
	req mc.Request
	rep mc.Reply

	// slots hold the per-key state of a multi-key get.
	slots []slot
	wg    sync.WaitGroup

	draining atomic.Bool
	// accounted is how much of out is counted in the server's buffered
	// bytes.
	accounted int64

	// blocked says that step stopped for want of data.
	blocked bool

	// proto is the connection's protocol, decided by its first byte.
	proto protocol
	// bin is the binary protocol state (proto == protoBinary).
	bin binState

	// src is what the command reader reads: the socket without blocking
	// inside rawLoop's RawConn callback (src.FD >= 0 there), else the
	// net.Conn. raw is the socket while rawLoop runs.
	raw syscall.RawConn
	src *sockio.Source
}

// protocol is what a client connection speaks.
type protocol uint8

const (
	protoUnknown protocol = iota // no byte read yet
	protoText                    // text: classic and meta commands
	protoBinary                  // the binary protocol
)

// slot is the request and reply of one key of a multi-key get.
type slot struct {
	req mc.Request
	rep mc.Reply
}

func newClient(s *Server, nc net.Conn) *client {
	c := &client{s: s, nc: nc, ctx: context.Background(), src: sockio.NewSource(nc)}
	c.r = memproto.NewReaderSize(c.src, clientBufferSize)
	c.r.MaxItemSize = s.maxValueSize()
	return c
}

// drain asks the client loop to stop after the requests it has read: a
// blocked read is woken up by an expired deadline.
func (c *client) drain() {
	c.draining.Store(true)
	_ = c.nc.SetReadDeadline(time.Now())
}

func (c *client) serve() {
	defer c.nc.Close()
	if sc, ok := c.nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
			c.rawLoop()
			return
		}
	}
	for !c.step() {
	}
}

// rawLoop is serve for a socket: the loop runs inside RawConn.Read, whose
// callback runs again each time the poller says the socket is readable.
// Staying inside one call matters: every Read of a net.Conn first forgets
// readiness events already received, so it must try a read (which fails
// with EAGAIN when the client has not sent its next request yet) before it
// can wait; here a readiness event that arrives while a command is being
// routed is kept, and a socket drained by a short read is waited for
// without that extra system call.
//
// The one thing a short read does not tell is an end of input that
// arrived together with the data: the poller reported both at once, and
// nothing more will come. A connection that waits after such a skipped
// read is therefore parked in the server's sweeper, which checks it once
// and wakes it if input or an end of input is pending.
func (c *client) rawLoop() {
	w := c.s.sweeper.Add(c.nc, c.raw)
	defer w.Remove()
	for {
		stopped := false
		err := w.Read(c.src, func() (done, wait bool) {
			c.s.opts.Poller.Active()
			if c.step() {
				stopped = true
				return true, false
			}
			wait, c.blocked = c.blocked, false
			return false, wait
		})
		if stopped {
			return
		}
		if err != nil && w.Woken() && !c.draining.Load() {
			// Woken by the sweeper: read again, with the deadline
			// the connection had.
			var d time.Time
			if idle := c.s.opts.IdleTimeout; idle > 0 {
				d = time.Now().Add(idle)
			}
			_ = c.nc.SetReadDeadline(d)
			continue
		}
		// Closed, drain or idle deadline: nothing more to read.
		c.flush()
		return
	}
}

// step reads and executes one command and reports whether the connection
// is done. When the socket has no complete command yet, it flushes the
// replies and sets c.blocked instead.
func (c *client) step() (done bool) {
	if c.draining.Load() {
		c.flush()
		return true
	}
	if !c.throttle() {
		return true
	}
	if idle := c.s.opts.IdleTimeout; idle > 0 && c.r.Buffered() == 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(idle))
	}
	var err error
	switch c.proto {
	case protoText:
		err = c.textCommand()
	case protoBinary:
		err = c.binaryCommand()
	default:
		err = c.detect()
	}
	if err != nil {
		if err == memproto.ErrWouldBlock {
			c.blocked = true
			return !c.flush()
		}
		// EOF, reset, idle timeout, drain, quit or a protocol error
		// that ends the connection: nothing more to do.
		c.flush()
		return true
	}
	if d := int64(len(c.out)) - c.accounted; d != 0 {
		c.s.buffered.Add(d)
		c.accounted += d
	}
	if c.r.Buffered() == 0 || len(c.out) >= flushThreshold {
		if !c.flush() {
			return true
		}
	}
	return false
}

// detect decides the connection's protocol from its first byte, as
// memcached does: binary when it is the binary request magic, else text.
func (c *client) detect() error {
	bin, err := c.r.Binary()
	if err != nil {
		return err
	}
	if bin {
		c.proto = protoBinary
		c.s.stats.binaryConns.Add(1)
	} else {
		c.proto = protoText
	}
	return nil
}

// textCommand reads and answers one text protocol command.
func (c *client) textCommand() error {
	err := c.r.ReadCommand(&c.cmd)
	if err != nil {
		// A type assertion, not errors.As: this runs after every
		// request (ErrWouldBlock), and must not allocate.
		pe, ok := err.(*memproto.ProtocolError)
		if !ok {
			return err
		}
		c.s.stats.protocolErrors.Add(1)
		c.out = pe.AppendTo(c.out)
		if pe.Close {
			return errClose
		}
		if pe.Invalidate != nil {
			// A set refused as too large: delete the key's old
			// value, as memcached does.
			c.route(pe.Invalidate, &c.rep)
		}
		return nil
	}
	if !c.exec() {
		return errClose
	}
	return nil
}

// throttle waits while the server holds more unwritten reply bytes than
// its budget, after writing this connection's own; false means the client
// is gone or waited longer than twice the client timeout.
func (c *client) throttle() bool {
	max := c.s.maxBuffered()
	if c.s.buffered.Load() <= max {
		return true
	}
	if !c.flush() {
		return false
	}
	c.s.stats.throttled.Add(1)
	// The clients that hold the budget are cut off once a write to them
	// has been blocked for the client timeout: wait twice that, so that a
	// client that does read is not the one disconnected.
	deadline := time.Now().Add(2 * c.s.clientTimeout())
	for c.s.buffered.Load() > max {
		if time.Now().After(deadline) || c.draining.Load() {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// flush writes the buffered replies; false means the client is gone.
func (c *client) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	var err error
	out := c.out
	if c.src.FD >= 0 {
		// Inside rawLoop: write what the socket takes at once, and
		// set the write deadline (a timer) and wait only for what it
		// does not take.
		var n int
		n, err = sockio.Write(c.src.FD, out)
		out = out[n:]
		if err == syscall.EAGAIN {
			err = nil
		}
	}
	if err == nil && len(out) > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.clientTimeout()))
		_, err = c.nc.Write(out)
	}
	c.s.buffered.Add(-c.accounted)
	c.accounted = 0
	if cap(c.out) > 1<<20 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	return err == nil
}

// exec runs one command and appends its reply; false means close the
// connection (quit).
func (c *client) exec() bool {
	cmd := &c.cmd
	switch cmd.Op {
	case mc.OpQuit:
		return false
	case mc.OpVersion:
		c.out = append(c.out, "VERSION "+MemcachedVersion+"\r\n"...)
	case mc.OpVerbosity:
		if !cmd.NoReply {
			c.out = append(c.out, "OK\r\n"...)
		}
	case mc.OpNoop:
		c.out = append(c.out, "MN\r\n"...)
	case mc.OpStats:
		c.out = c.s.appendStats(c.out, string(cmd.Args))
	case mc.OpShutdown:
		c.out = append(c.out, "ERROR: shutdown not enabled\r\n"...)
	case mc.OpFlushAll:
		c.flushAll()
	default:
		if !cmd.Op.Routable() {
			c.out = append(c.out, "ERROR\r\n"...)
			return true
		}
		if cmd.Meta == 0 && cmd.Op.IsGetLike() {
			c.retrieve()
			return true
		}
		cmd.Request(0, &c.req)
		c.route(&c.req, &c.rep)
		c.out = memproto.AppendReply(c.out, &c.req, &c.rep)
	}
	return true
}

// retrieve answers a classic get/gets/gat/gats of any number of keys: the
// keys are routed concurrently and answered in request order, then END (or,
// as mcrouter does, the error of the first failed key instead of END).
func (c *client) retrieve() {
	cmd := &c.cmd
	n := len(cmd.Keys)
	if n == 1 {
		cmd.Request(0, &c.req)
		c.route(&c.req, &c.rep)
		if c.rep.Result.IsError() {
			c.out = memproto.AppendError(c.out, &c.rep)
			return
		}
		c.out = memproto.AppendReply(c.out, &c.req, &c.rep)
		c.out = memproto.AppendEnd(c.out)
		return
	}
	if cap(c.slots) < n {
		c.slots = append(c.slots[:cap(c.slots)], make([]slot, n-cap(c.slots))...)
	}
	slots := c.slots[:n]
	for i := range slots {
		cmd.Request(i, &slots[i].req)
	}
	c.routeSlots(slots)
	var firstErr *mc.Reply
	for i := range slots {
		sl := &slots[i]
		if sl.rep.Result.IsError() {
			if firstErr == nil {
				firstErr = &sl.rep
			}
			continue
		}
		c.out = memproto.AppendReply(c.out, &sl.req, &sl.rep)
	}
	if firstErr != nil {
		c.out = memproto.AppendError(c.out, firstErr)
	} else {
		c.out = memproto.AppendEnd(c.out)
	}
	for i := range slots {
		slots[i].req = mc.Request{}
	}
}

// routeSlots routes the requests of slots concurrently, at most
// maxOutstanding at a time, and returns when every reply is in.
func (c *client) routeSlots(slots []slot) {
	limit := c.s.maxOutstanding()
	for start := 0; start < len(slots); start += limit {
		end := min(start+limit, len(slots))
		for i := start + 1; i < end; i++ {
			c.wg.Add(1)
			go c.routeSlot(&slots[i])
		}
		c.route(&slots[start].req, &slots[start].rep)
		c.wg.Wait()
	}
}

func (c *client) routeSlot(sl *slot) {
	defer c.wg.Done()
	c.route(&sl.req, &sl.rep)
}

// adminPrefix marks mcrouter's admin keys.
var adminPrefix = []byte("__mcrouter__.")

// route sends one request through the current graph (or answers an admin
// key) and counts it.
func (c *client) route(req *mc.Request, rep *mc.Reply) {
	s := c.s
	if !s.opts.DisableAdmin && req.Op.IsGetLike() && bytes.HasPrefix(req.Key, adminPrefix) {
		s.admin(req, rep)
		return
	}
	start := time.Now()
	gen := s.acquire()
	if gen == nil {
		rep.Reset()
		rep.Result, rep.Message = mc.ResLocalError, "no config loaded"
	} else {
		gen.g.Route(c.ctx, req, rep)
		s.releaseGen(gen)
	}
	took := time.Since(start)
	s.stats.count(req.Op, rep.Result, took)
	if m := s.opts.Metrics; m != nil {
		m.observe(req.Op, rep.Result, took)
	}
}

// flushAll sends flush_all to every server of every pool when enabled, and
// answers OK if all of them did (else the worst error).
func (c *client) flushAll() {
	cmd := &c.cmd
	if !c.s.opts.EnableFlush {
		if !cmd.NoReply {
			c.out = append(c.out, "SERVER_ERROR Command disabled\r\n"...)
		}
		return
	}
	cmd.Request(0, &c.req)
	c.s.flushAll(&c.req, &c.rep)
	c.out = memproto.AppendReply(c.out, &c.req, &c.rep)
}
