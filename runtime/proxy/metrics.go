package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// Metrics holds the proxy's Prometheus metrics, registered on a registry of
// its own (no global state). Create it with NewMetrics, pass it in
// Options.Metrics, and serve Handler on the metrics listener.
//
// Exported series (all prefixed mcroute_):
//   - requests_total{op,result}: requests answered, by mcrouter operation
//     name and result (found, notfound, stored, timeout, tko, ...).
//   - request_duration_seconds{op,outcome}: latency histogram; outcome is
//     hit, miss, ok or error.
//   - client_connections (gauge), client_connections_total (counter),
//     client_connections_rejected_total (counter).
//   - destination_up{server} (1 up, 0 TKO), destination_tko{server,kind}
//     (kind hard or soft), destination_inflight_requests{server},
//     destination_pending_requests{server},
//     destination_requests_total{server,result} (ok, miss, timeout,
//     connect_error, tko, remote_error, other_error),
//     destination_latency_seconds_avg{server},
//     destination_tko_events_total{server}.
//   - poll_mode_polling (gauge: 1 while poll mode polls),
//     poll_mode_polls_total (counter); 0 with poll mode off.
//   - config_reloads_total{result} (success, failure),
//     config_last_reload_timestamp_seconds, config_age_seconds.
//   - Go runtime and process collectors.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	reloads    *prometheus.CounterVec
	configTime prometheus.Gauge

	// counters and histograms resolved once per (op, result), so the
	// request path does no label lookups.
	reqCells [numOps][numResults]atomic.Pointer[prometheus.Counter]
	durCells [numOps][4]atomic.Pointer[prometheus.Observer]
	server   atomic.Pointer[Server]
}

// NewMetrics creates the metrics and registers them on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcroute_requests_total", Help: "Requests answered, by operation and result.",
	}, []string{"op", "result"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mcroute_request_duration_seconds",
		Help:    "Time from routing a request to its reply, by operation and outcome (hit, miss, ok, error).",
		Buckets: []float64{50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 50e-3, 100e-3, 500e-3, 1},
	}, []string{"op", "outcome"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mcroute_config_reloads_total", Help: "Config loads, by result (success, failure).",
	}, []string{"result"})
	m.configTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mcroute_config_last_reload_timestamp_seconds", Help: "Unix time of the last successful config load.",
	})
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	m.reg.MustRegister(m.requests, m.duration, m.reloads, m.configTime,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcroute_config_age_seconds", Help: "Seconds since the current config was loaded."}, func() float64 {
			if s := m.server.Load(); s != nil {
				if gen := s.cur.Load(); gen != nil {
					return time.Since(gen.loadedAt).Seconds()
				}
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcroute_client_connections", Help: "Open client connections."}, func() float64 {
			if s := m.server.Load(); s != nil {
				return float64(s.numConns.Load())
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcroute_client_connections_total", Help: "Client connections accepted."}, func() float64 {
			if s := m.server.Load(); s != nil {
				return float64(s.totalConn.Load())
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcroute_client_connections_rejected_total", Help: "Client connections refused over the connection cap."}, func() float64 {
			if s := m.server.Load(); s != nil {
				return float64(s.stats.rejectedConns.Load())
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mcroute_poll_mode_polling", Help: "1 while poll mode polls the network (clients are sending), else 0 (always 0 with poll mode off)."}, func() float64 {
			if s := m.server.Load(); s != nil && s.opts.Poller.Polling() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mcroute_poll_mode_polls_total", Help: "Network polls made by poll mode (--poll-interval)."}, func() float64 {
			if s := m.server.Load(); s != nil {
				return float64(s.opts.Poller.Polls())
			}
			return 0
		}),
		destCollector{m, newDestDescs()},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry the metrics are on, to add more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) attach(s *Server) { m.server.Store(s) }

func outcome(res mc.Result) int {
	switch {
	case res.IsError():
		return 3
	case res == mc.ResFound || res == mc.ResFoundStale:
		return 0
	case res.IsMiss():
		return 1
	}
	return 2
}

var outcomeNames = [4]string{"hit", "miss", "ok", "error"}

// observe counts one request.
func (m *Metrics) observe(op mc.Op, res mc.Result, took time.Duration) {
	if int(op) >= numOps || int(res) >= numResults {
		return
	}
	cp := m.reqCells[op][res].Load()
	if cp == nil {
		c := m.requests.WithLabelValues(op.String(), res.String())
		m.reqCells[op][res].Store(&c)
		cp = &c
	}
	(*cp).Inc()
	oc := outcome(res)
	hp := m.durCells[op][oc].Load()
	if hp == nil {
		h := m.duration.WithLabelValues(op.String(), outcomeNames[oc])
		m.durCells[op][oc].Store(&h)
		hp = &h
	}
	(*hp).Observe(took.Seconds())
}

// destCollector reports per-destination series from the registry at
// scrape time.
type destCollector struct {
	m *Metrics
	d *destDescs
}

// destDescs are the descriptors of the per-destination series.
type destDescs struct {
	up, tko, inflight, pending, reqs, latency, tkoEvents, conns *prometheus.Desc
}

func newDestDescs() *destDescs {
	server := []string{"server"}
	return &destDescs{
		up:        prometheus.NewDesc("mcroute_destination_up", "1 when the destination is usable, 0 while it is TKO.", server, nil),
		tko:       prometheus.NewDesc("mcroute_destination_tko", "1 while the destination is TKO, by kind (hard: connect failures; soft: timeouts).", []string{"server", "kind"}, nil),
		inflight:  prometheus.NewDesc("mcroute_destination_inflight_requests", "Requests sent to the destination and waiting for a reply.", server, nil),
		pending:   prometheus.NewDesc("mcroute_destination_pending_requests", "Requests written to the destination's connections and not yet answered.", server, nil),
		reqs:      prometheus.NewDesc("mcroute_destination_requests_total", "Replies from the destination, by result bucket.", []string{"server", "result"}, nil),
		latency:   prometheus.NewDesc("mcroute_destination_latency_seconds_avg", "Mean reply latency of the destination since it was created.", server, nil),
		tkoEvents: prometheus.NewDesc("mcroute_destination_tko_events_total", "Times the destination was marked TKO.", server, nil),
		conns:     prometheus.NewDesc("mcroute_destination_connections", "Open connections to the destination.", server, nil),
	}
}

func (c destCollector) Describe(ch chan<- *prometheus.Desc) {
	d := c.d
	for _, x := range []*prometheus.Desc{d.up, d.tko, d.inflight, d.pending, d.reqs, d.latency, d.tkoEvents, d.conns} {
		ch <- x
	}
}

func (c destCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.server.Load()
	if s == nil {
		return
	}
	ds := c.d
	for _, d := range s.reg.Dests() {
		st := d.Stats()
		name := st.Key.Addr
		up, hard, soft := 1.0, 0.0, 0.0
		if st.State == upstream.StateTKO {
			up = 0
		}
		if st.HardTKO {
			hard = 1
		}
		if st.SoftTKO {
			soft = 1
		}
		ch <- prometheus.MustNewConstMetric(ds.up, prometheus.GaugeValue, up, name)
		ch <- prometheus.MustNewConstMetric(ds.tko, prometheus.GaugeValue, hard, name, "hard")
		ch <- prometheus.MustNewConstMetric(ds.tko, prometheus.GaugeValue, soft, name, "soft")
		ch <- prometheus.MustNewConstMetric(ds.inflight, prometheus.GaugeValue, float64(st.Inflight), name)
		ch <- prometheus.MustNewConstMetric(ds.pending, prometheus.GaugeValue, float64(st.Pending), name)
		ch <- prometheus.MustNewConstMetric(ds.latency, prometheus.GaugeValue, st.AvgLatency.Seconds(), name)
		ch <- prometheus.MustNewConstMetric(ds.tkoEvents, prometheus.CounterValue, float64(st.TKOEntered), name)
		ch <- prometheus.MustNewConstMetric(ds.conns, prometheus.GaugeValue, float64(st.Conns), name)
		for i, n := range st.Results {
			ch <- prometheus.MustNewConstMetric(ds.reqs, prometheus.CounterValue, float64(n), name, strings.ToLower(upstream.BucketNames[i]))
		}
	}
}
