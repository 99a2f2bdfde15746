package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/internal/busypoll"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/discovery"
	"github.com/mcroute/mcroute/runtime/proxy"
	"github.com/mcroute/mcroute/runtime/route"
	"github.com/mcroute/mcroute/runtime/upstream"
	"github.com/mcroute/mcroute/schema"
)

type serveCmd struct {
	Config         string            `required:"" type:"path" placeholder:"POLICY" help:"Policy to serve: a .cue file, a CUE package directory, or an mcrouter JSON config."`
	Listen         []string          `default:"127.0.0.1:5000" placeholder:"ADDR" help:"Address to accept memcached clients on: host:port, or unix:PATH for a unix socket (repeatable; default 127.0.0.1:5000). Use 0.0.0.0:5000 for a DaemonSet with hostPort."`
	SocketMode     string            `default:"0660" placeholder:"MODE" help:"Permissions of unix sockets (octal; default 0660)."`
	MetricsListen  string            `placeholder:"ADDR" help:"Serve Prometheus metrics on http://ADDR/metrics (off unless given)."`
	Pprof          bool              `help:"Also serve Go's profiler on the metrics listener, under /debug/pprof/."`
	EnableFlushCmd bool              `help:"Forward flush_all to every server of every pool (as mcrouter's --enable-flush-cmd); otherwise it is refused."`
	DisableAdmin   bool              `help:"Treat __mcrouter__.* keys as ordinary keys instead of admin requests."`
	MaxConns       int               `default:"0" help:"Maximum client connections; more are refused with an error (0: no limit)."`
	MaxOutstanding int               `default:"1024" help:"Maximum requests of one client connection routed at once."`
	MaxValueSize   int               `default:"67108864" help:"Largest item a client may store through the proxy, in bytes; it bounds the proxy's memory per request (servers enforce their own -I, and their refusal is forwarded)."`
	ClientTimeout  time.Duration     `default:"10s" help:"Disconnect a client that does not read its replies for this long."`
	IdleTimeout    time.Duration     `default:"0s" help:"Close client connections idle for this long (0: never)."`
	UpstreamConns  int               `default:"1" help:"Connections per memcached server, shared by all clients."`
	PollInterval   time.Duration     `default:"0s" placeholder:"DURATION" help:"Poll mode, for a proxy with a core of its own (GOMAXPROCS=1, pinned): while clients send requests, look for network events this often (up to 1ms; 50us is a good start), spinning in between, instead of sleeping until each one. Fewer wake-ups and larger batches to memcached, for a busy core and up to one interval more latency per hop (0: off; Linux only)."`
	TimeoutsToTKO  int               `name:"timeouts-until-tko" default:"3" help:"Consecutive timeouts that mark a server down (soft TKO)."`
	ProbeInitial   time.Duration     `name:"probe-timeout-initial" default:"10s" help:"Delay before the first probe of a down server; probes back off by 1.5x."`
	ProbeMax       time.Duration     `name:"probe-timeout-max" default:"60s" help:"Longest delay between probes."`
	DisableTKO     bool              `name:"disable-tko-tracking" help:"Never mark servers down."`
	HostID         uint32            `name:"host-id" help:"Host id for LatestRoute/HostIdRoute (default: a hash of the host name)."`
	RoutePrefix    string            `name:"route-prefix" short:"R" default:"/././" help:"Default routing prefix (mcrouter's -R)."`
	MissOnGet      bool              `name:"miss-on-get-errors" help:"Answer an error of get, gets, gat or gats as a miss (END), as mcrouter did by default before 2025; otherwise the error is returned (SERVER_ERROR ...), so that clients can tell a failed server from an absent key."`
	MissOnArith    bool              `name:"miss-on-arith-errors" help:"Answer an error of incr or decr as NOT_FOUND, as mcrouter did by default before 2025; otherwise the error is returned."`
	OldNoMissOnGet bool              `name:"disable-miss-on-get-errors" hidden:"" help:"mcrouter's flag for what is now the default; accepted and ignored."`
	Params         map[string]string `name:"param" placeholder:"NAME=VALUE" help:"JSONM global parameter for mcrouter JSON configs (repeatable)."`
	NumProxies     int               `name:"num-proxies" default:"1" placeholder:"N" help:"Value of the JSONM parameter %num-proxies% of mcrouter JSON configs (mcrouter's --num-proxies). mcroute itself has no proxy threads: every request runs on any core (GOMAXPROCS)."`
	ImportOutside  bool              `name:"allow-import-outside" help:"Let an mcrouter JSON config @import files outside its own directory (refused by default)."`
	NoReload       bool              `name:"disable-reload-configs" help:"Do not reload when the config files change (SIGHUP still reloads)."`
	DNSServer      string            `name:"dns-server" placeholder:"ADDR" help:"DNS server (host:port) for pools with discovery and for server host names (default: the system resolver)."`
	DrainTimeout   time.Duration     `default:"30s" help:"On SIGTERM, how long to wait for in-flight requests before exiting."`
	LogFormat      string            `enum:"text,json" default:"text" help:"Log format (${enum})."`
	LogLevel       string            `enum:"debug,info,warn,error" default:"info" help:"Log level (${enum})."`
}

func (c *serveCmd) logger(e *env) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

func (c *serveCmd) load(ctx context.Context) (*compiler.Result, error) {
	return compiler.Load(ctx, c.Config, compiler.Options{Params: c.Params, RoutePrefix: c.RoutePrefix, AllowImportOutside: c.ImportOutside,
		HostID: c.HostID, NumProxies: c.NumProxies})
}

func (c *serveCmd) Run(ctx context.Context, e *env) error {
	log := c.logger(e)
	mode, err := strconv.ParseUint(c.SocketMode, 8, 32)
	if err != nil {
		return fmt.Errorf("--socket-mode %q is not an octal permission: %w", c.SocketMode, err)
	}
	res, err := c.load(ctx)
	if err != nil {
		return err
	}
	printDiags(e, res.Diagnostics)

	var poller *busypoll.Poller
	if c.PollInterval != 0 {
		if poller, err = busypoll.Start(c.PollInterval); err != nil {
			return fmt.Errorf("--poll-interval: %w", err)
		}
		defer poller.Close()
		log.Info("poll mode", "interval", c.PollInterval, "gomaxprocs", runtime.GOMAXPROCS(0))
		if runtime.GOMAXPROCS(0) > 1 {
			log.Warn("poll mode polls from one processor; run with GOMAXPROCS=1 on a core of its own", "gomaxprocs", runtime.GOMAXPROCS(0))
		}
	}

	var metrics *proxy.Metrics
	if c.MetricsListen != "" {
		metrics = proxy.NewMetrics()
	}
	s := proxy.New(proxy.Options{
		MaxValueSize:   c.MaxValueSize,
		SocketMode:     os.FileMode(mode),
		EnableFlush:    c.EnableFlushCmd,
		DisableAdmin:   c.DisableAdmin,
		MaxConns:       c.MaxConns,
		MaxOutstanding: c.MaxOutstanding,
		ClientTimeout:  c.ClientTimeout,
		IdleTimeout:    c.IdleTimeout,
		Upstream: upstream.Options{
			Conns:            c.UpstreamConns,
			TimeoutsUntilTKO: c.TimeoutsToTKO,
			ProbeInitial:     c.ProbeInitial,
			ProbeMax:         c.ProbeMax,
			DisableTKO:       c.DisableTKO,
			Dial:             c.dialer(),
		},
		Route: route.Options{HostID: c.HostID, DefaultRoutePrefix: c.RoutePrefix,
			MissOnGetErrors: c.MissOnGet, MissOnArithErrors: c.MissOnArith},
		Version: versionString(),
		Logger:  log,
		Metrics: metrics,
		Poller:  poller,
	})
	disco := c.discoverer(log, metrics)
	var mu sync.Mutex
	template := res.Config
	info := proxy.ConfigInfo{Path: c.Config, Sources: res.Sources, Text: res.Text}
	if err := s.SetConfig(c.discover(ctx, disco, res.Config), info); err != nil {
		return err
	}

	// The metrics listener opens first, so that it is up once clients
	// can connect.
	var metricsSrv *http.Server
	if metrics != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler())
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		if c.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		mln, err := net.Listen("tcp", c.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = metricsSrv.Serve(mln) }()
		log.Info("serving metrics", "addr", mln.Addr().String())
	}

	var lns []net.Listener
	for _, addr := range c.Listen {
		ln, err := proxy.Listen(addr, os.FileMode(mode))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			if metricsSrv != nil {
				metricsSrv.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	sources := res.Sources
	reload := func(why string) {
		r, err := c.load(ctx)
		if err != nil {
			s.ConfigFailed()
			log.Error("config reload failed; the previous config keeps serving", "why", why, "errors", diagSummary(err))
			return
		}
		newInfo := proxy.ConfigInfo{Path: c.Config, Sources: r.Sources, Text: r.Text}
		if err := s.SetConfig(c.discover(ctx, disco, r.Config), newInfo); err != nil {
			log.Error("config reload failed; the previous config keeps serving", "why", why, "errors", diagSummary(err))
			return
		}
		mu.Lock()
		sources, template, info = r.Sources, r.Config, newInfo
		mu.Unlock()
		log.Info("config reloaded", "why", why, "digest", r.Digest)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if !c.NoReload {
		go func() {
			err := proxy.Watch(wctx, func() []string {
				mu.Lock()
				defer mu.Unlock()
				return sources
			}, 0, log, func() { reload("file changed") })
			if err != nil {
				log.Warn("config file watching is off", "err", err)
			}
		}()
	}
	go disco.Run(wctx, func() *schema.Config {
		mu.Lock()
		defer mu.Unlock()
		return template
	}, func(cfg *schema.Config) {
		mu.Lock()
		in := info
		mu.Unlock()
		if err := s.SetConfig(cfg, in); err != nil {
			log.Error("pool membership change not applied", "errors", diagSummary(err))
		}
	})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-wctx.Done():
				return
			case <-hup:
				reload("SIGHUP")
			}
		}
	}()

	errc := make(chan error, len(lns))
	for _, ln := range lns {
		log.Info("listening", "addr", ln.Addr().Network()+":"+ln.Addr().String())
		go func() { errc <- s.Serve(ln) }()
	}
	select {
	case <-ctx.Done():
		log.Info("draining", "timeout", c.DrainTimeout)
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			s.Close()
			return err
		}
	}
	stopWatch()
	dctx, cancel := context.WithTimeout(context.Background(), c.DrainTimeout)
	defer cancel()
	err = s.Shutdown(dctx)
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(dctx)
	}
	if err != nil {
		log.Warn("drain timed out; closed remaining connections", "err", err)
	}
	log.Info("stopped")
	return nil
}

// discoverer returns the DNS discovery of pools with a discovery name,
// counting membership changes in metrics.
func (c *serveCmd) discoverer(log *slog.Logger, metrics *proxy.Metrics) *discovery.Discoverer {
	opts := discovery.Options{Logger: log}
	if r := c.resolver(); r != nil {
		opts.Resolver = r
	}
	if metrics != nil {
		changes := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcroute_discovery_changes_total",
			Help: "Membership changes of pools with DNS discovery, by pool.",
		}, []string{"pool"})
		metrics.Registry().MustRegister(changes)
		opts.OnChange = func(pool string, _, _ []string) { changes.WithLabelValues(pool).Inc() }
	}
	return discovery.New(opts)
}

// resolver returns the resolver that asks --dns-server, or nil for the
// system resolver.
func (c *serveCmd) resolver() *net.Resolver {
	if c.DNSServer == "" {
		return nil
	}
	addr := c.DNSServer
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// dialer returns the upstream dial function: with --dns-server, server
// host names (those of SRV answers included) resolve through it too;
// otherwise nil, the default dialer.
func (c *serveCmd) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	r := c.resolver()
	if r == nil {
		return nil
	}
	d := &net.Dialer{KeepAlive: 30 * time.Second, Resolver: r}
	return d.DialContext
}

// discover resolves cfg's discovery pools (keeping the previous servers of
// a pool that fails to resolve) and returns the config to serve.
func (c *serveCmd) discover(ctx context.Context, d *discovery.Discoverer, cfg *schema.Config) *schema.Config {
	if len(discovery.Pools(cfg)) == 0 {
		return cfg
	}
	_, _ = d.Refresh(ctx, cfg)
	return d.Apply(cfg)
}

// diagSummary renders config errors for a log line.
func diagSummary(err error) string {
	var l diag.List
	if errors.As(err, &l) {
		return l.Error()
	}
	return err.Error()
}
