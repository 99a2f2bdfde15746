// Package proxy is mcroute's memcached proxy: it accepts memcached text
// protocol clients on TCP and unix sockets, routes every request through the
// current route graph to shared upstream connections, answers mcrouter's
// __mcrouter__.* admin keys and the stats command, exports Prometheus
// metrics, swaps in new configs without dropping requests, and drains on
// shutdown.
package proxy

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mcroute/mcroute/internal/busypoll"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/sockio"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/route"
	"github.com/mcroute/mcroute/runtime/upstream"
	"github.com/mcroute/mcroute/schema"
)

// Defaults of Options.
const (
	// DefaultMaxValueSize is the largest item a client may store through
	// the proxy: 64 MiB. It only bounds the memory one request takes in
	// the proxy, which holds a value whole before forwarding it; the item
	// size limit itself is the servers' (memcached's -I, 1 MiB by default,
	// up to 1 GiB), and their refusal, "SERVER_ERROR object too large for
	// cache", is forwarded. 64 MiB is also the largest value the proxy
	// reads back from a server (memproto.DefaultMaxReplyValueSize), so a
	// value it lets through can be read again.
	DefaultMaxValueSize = 64 << 20
	// DefaultSocketMode is the permission of unix sockets.
	DefaultSocketMode os.FileMode = 0o660
	// DefaultClientTimeout bounds how long a reply may take to write to a
	// client that does not read (mcrouter's --client-timeout is 1 s; mcroute
	// is more lenient with slow clients).
	DefaultClientTimeout = 10 * time.Second
	// DefaultMaxOutstanding bounds the requests of one client connection
	// being routed at once (mcrouter's --max-client-outstanding-reqs).
	DefaultMaxOutstanding = 1024
	// DefaultMaxBufferedBytes is the global budget for reply bytes waiting
	// to be written to clients.
	DefaultMaxBufferedBytes = 512 << 20
)

// Options configures a Server. Zero values take the defaults.
type Options struct {
	// MaxValueSize is the largest item accepted from clients, counted as
	// memcached counts it against -I (see memproto.Reader.MaxItemSize); 0
	// means DefaultMaxValueSize. A larger one is answered "SERVER_ERROR
	// object too large for cache" by the proxy, and a set's key is then
	// deleted, as memcached does.
	MaxValueSize int
	// SocketMode is the permission of unix socket listeners; 0 means
	// DefaultSocketMode (0660).
	SocketMode os.FileMode
	// EnableFlush lets flush_all through to every server of every pool
	// (mcrouter's --enable-flush-cmd); otherwise it is answered
	// "SERVER_ERROR Command disabled".
	EnableFlush bool
	// DisableAdmin makes __mcrouter__.* keys ordinary keys.
	DisableAdmin bool
	// MaxConns caps client connections; a connection over the cap is
	// answered "SERVER_ERROR too many open connections" and closed. 0 means
	// no cap.
	MaxConns int
	// MaxOutstanding bounds the requests of one connection in flight at
	// once; 0 means DefaultMaxOutstanding.
	MaxOutstanding int
	// ClientTimeout bounds writing a reply to a client; a client that does
	// not read for that long is disconnected. 0 means DefaultClientTimeout.
	ClientTimeout time.Duration
	// IdleTimeout closes client connections idle for that long; 0 means
	// never.
	IdleTimeout time.Duration
	// MaxBufferedBytes is the global budget for replies held in memory
	// and not yet written to clients; while it is exceeded, connections
	// stop reading new requests until writes drain. 0 means
	// DefaultMaxBufferedBytes (512 MiB).
	MaxBufferedBytes int64
	// Upstream configures the connections to memcached servers.
	Upstream upstream.Options
	// Route configures the route graphs (host id, default routing prefix,
	// ...). Its Dest field is ignored: the proxy supplies upstream
	// connections.
	Route route.Options
	// Version is what "version" and __mcrouter__.version report.
	Version string
	// Logger receives the proxy's logs; nil discards them.
	Logger *slog.Logger
	// Metrics, if set, receives the proxy's Prometheus metrics.
	Metrics *Metrics
	// Poller, if set, is told when clients send requests, so that it
	// polls the network while they do (poll mode; see package busypoll).
	// The caller starts and closes it.
	Poller *busypoll.Poller
}

// ConfigInfo describes where a config came from, for admin keys and logs.
type ConfigInfo struct {
	// Path is the config file or directory.
	Path string
	// Sources are the files read to build it.
	Sources []string
	// Text is the main file's bytes, for __mcrouter__.config_md5_digest.
	Text []byte
}

// Server is a memcached proxy. Create it with New, give it a config with
// SetConfig, then call Serve for each listener. It is safe for concurrent
// use.
type Server struct {
	opts Options
	log  *slog.Logger
	reg  *upstream.Registry

	cur      atomic.Pointer[generation]
	reloadMu sync.Mutex

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*client]struct{}
	draining  bool
	wg        sync.WaitGroup

	numConns  atomic.Int64
	totalConn atomic.Uint64
	started   time.Time
	buffered  atomic.Int64 // reply bytes waiting to be written, all clients

	stats proxyStats

	// sweeper checks the client connections that wait after a skipped
	// read (see client.rawLoop); stopAccepting stops it.
	sweeper *sockio.Sweeper
}

// generation is one config's route graph and the destinations it holds.
type generation struct {
	g        *route.Graph
	dests    []*upstream.Dest
	cfg      *schema.Config
	info     ConfigInfo
	digest   string
	loadedAt time.Time
	inflight atomic.Int64
	retired  atomic.Bool
	once     sync.Once
	reg      *upstream.Registry
}

func (gen *generation) release() {
	gen.once.Do(func() {
		gen.g.Close()
		for _, d := range gen.dests {
			gen.reg.Release(d)
		}
	})
}

// New returns a Server with no config yet; requests are answered with an
// error until SetConfig succeeds.
func New(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	uo := opts.Upstream
	if uo.Logger == nil {
		uo.Logger = log
	}
	s := &Server{
		opts:      opts,
		log:       log,
		reg:       upstream.NewRegistry(uo),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*client]struct{}{},
		started:   time.Now(),
		sweeper:   sockio.NewSweeper(0),
	}
	if opts.Metrics != nil {
		opts.Metrics.attach(s)
	}
	return s
}

func (s *Server) maxValueSize() int {
	if s.opts.MaxValueSize > 0 {
		return s.opts.MaxValueSize
	}
	return DefaultMaxValueSize
}

func (s *Server) clientTimeout() time.Duration {
	if s.opts.ClientTimeout > 0 {
		return s.opts.ClientTimeout
	}
	return DefaultClientTimeout
}

func (s *Server) maxBuffered() int64 {
	if s.opts.MaxBufferedBytes > 0 {
		return s.opts.MaxBufferedBytes
	}
	return DefaultMaxBufferedBytes
}

func (s *Server) maxOutstanding() int {
	if s.opts.MaxOutstanding > 0 {
		return s.opts.MaxOutstanding
	}
	return DefaultMaxOutstanding
}

// SetConfig builds cfg's route graph and makes it current. Requests already
// routing through the previous graph finish on it; its destinations are
// released afterwards, so connections to servers in both configs are kept.
// On error the previous config keeps serving and err is a diag.List.
func (s *Server) SetConfig(cfg *schema.Config, info ConfigInfo) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	gen := &generation{cfg: cfg, info: info, loadedAt: time.Now(), reg: s.reg}
	sum := md5.Sum(info.Text)
	gen.digest = hex.EncodeToString(sum[:])
	ro := s.opts.Route
	if ro.Logger == nil {
		ro.Logger = s.log
	}
	var buildErr diag.List
	ro.Dest = func(di route.DestInfo) (route.Destination, error) {
		if di.Protocol != "ascii" {
			return nil, fmt.Errorf("server %s uses protocol %q; mcroute serve speaks the memcached ascii protocol only", di.Server, di.Protocol)
		}
		k := upstream.Key{
			Network:        di.Addr.Network(),
			Addr:           di.Addr.DialAddr(),
			Timeout:        time.Duration(di.TimeoutMs) * time.Millisecond,
			ConnectTimeout: time.Duration(di.ConnectTimeoutMs) * time.Millisecond,
		}
		d := s.reg.Acquire(k)
		gen.dests = append(gen.dests, d)
		return d, nil
	}
	g, err := route.Build(cfg, ro)
	if err != nil {
		for _, d := range gen.dests {
			s.reg.Release(d)
		}
		s.stats.configFailures.Add(1)
		if m := s.opts.Metrics; m != nil {
			m.reloads.WithLabelValues("failure").Inc()
		}
		if errors.As(err, &buildErr) {
			return buildErr
		}
		return err
	}
	gen.g = g
	old := s.cur.Swap(gen)
	s.stats.configLoads.Add(1)
	if m := s.opts.Metrics; m != nil {
		m.reloads.WithLabelValues("success").Inc()
		m.configTime.Set(float64(gen.loadedAt.Unix()))
	}
	if old != nil {
		old.retired.Store(true)
		if old.inflight.Load() == 0 {
			go old.release()
		}
	}
	return nil
}

// ConfigFailed records a config that failed to load (before SetConfig),
// for stats and metrics; the current config keeps serving.
func (s *Server) ConfigFailed() {
	s.stats.configFailures.Add(1)
	if m := s.opts.Metrics; m != nil {
		m.reloads.WithLabelValues("failure").Inc()
	}
}

// acquire returns the current generation with a request counted on it.
func (s *Server) acquire() *generation {
	for {
		gen := s.cur.Load()
		if gen == nil {
			return nil
		}
		gen.inflight.Add(1)
		if s.cur.Load() == gen {
			return gen
		}
		s.releaseGen(gen)
	}
}

func (s *Server) releaseGen(gen *generation) {
	if gen.inflight.Add(-1) == 0 && gen.retired.Load() {
		go gen.release()
	}
}

// Config returns the current config, or nil.
func (s *Server) Config() *schema.Config {
	if gen := s.cur.Load(); gen != nil {
		return gen.cfg
	}
	return nil
}

// Registry returns the upstream destinations, for stats.
func (s *Server) Registry() *upstream.Registry { return s.reg }

// Serve accepts client connections on ln until Shutdown or Close, or until
// ln fails. It always returns a non-nil error; after Shutdown it is
// net.ErrClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			draining := s.draining
			s.mu.Unlock()
			if draining || errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				// Out of file descriptors or a transient error: back off.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.accept(nc)
	}
}

// accept starts serving one client connection, or refuses it over the
// connection cap.
func (s *Server) accept(nc net.Conn) {
	if max := s.opts.MaxConns; max > 0 && s.numConns.Load() >= int64(max) {
		s.stats.rejectedConns.Add(1)
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write([]byte("SERVER_ERROR too many open connections\r\n"))
		nc.Close()
		return
	}
	c := newClient(s, nc)
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.numConns.Add(1)
	s.totalConn.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
		s.numConns.Add(-1)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting connections (listeners are closed, so new
// connections are refused), lets every client connection finish the
// requests it has read, closes them, and waits for them until ctx is done;
// then it closes the upstream connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	for _, c := range s.clients() {
		c.drain()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range s.clients() {
			c.nc.Close()
		}
	}
	if gen := s.cur.Load(); gen != nil {
		gen.g.Wait()
	}
	s.reg.Close()
	return err
}

// Close closes listeners, client connections and upstream connections at
// once, without draining.
func (s *Server) Close() error {
	s.stopAccepting()
	// Closed without s.mu held: a close waits until the client's loop has
	// left its RawConn.Read call, and that loop may need s.mu first.
	for _, c := range s.clients() {
		c.nc.Close()
	}
	s.wg.Wait()
	s.reg.Close()
	return nil
}

// stopAccepting stops the sweeper, closes the listeners and makes accept
// refuse connections from now on, so that s.clients() is final.
func (s *Server) stopAccepting() {
	s.sweeper.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
	for ln := range s.listeners {
		ln.Close()
	}
}

// clients returns the open client connections.
func (s *Server) clients() []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*client, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// proxyStats are the proxy's own counters.
type proxyStats struct {
	requests       [numOps]atomic.Uint64
	results        [numResults]atomic.Uint64
	errors         atomic.Uint64
	configLoads    atomic.Uint64
	configFailures atomic.Uint64
	rejectedConns  atomic.Uint64
	throttled      atomic.Uint64
	protocolErrors atomic.Uint64
	durationNs     atomic.Uint64
	// binaryConns counts the client connections that spoke the binary
	// protocol.
	binaryConns atomic.Uint64
}

const (
	numOps     = int(mc.OpShutdown) + 1
	numResults = int(mc.ResPermissionDenied) + 1
)

func (st *proxyStats) count(op mc.Op, res mc.Result, took time.Duration) {
	if int(op) < numOps {
		st.requests[op].Add(1)
	}
	if int(res) < numResults {
		st.results[res].Add(1)
	}
	if res.IsError() {
		st.errors.Add(1)
	}
	st.durationNs.Add(uint64(took))
}

// BinaryConns returns how many client connections have spoken the binary
// protocol since the server started.
func (s *Server) BinaryConns() uint64 { return s.stats.binaryConns.Load() }

// NumConns returns the number of open client connections.
func (s *Server) NumConns() int64 { return s.numConns.Load() }
