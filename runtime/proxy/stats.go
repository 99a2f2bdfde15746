package proxy

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/memproto"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// appendStats answers "stats [group]" with the stats an mcrouter user looks
// at. Groups: none (basic), "all"/"detailed" (basic plus per-operation and
// per-result counts), "servers" (one line per destination),
// "suspect_servers" (TKO destinations); others are refused as mcrouter
// does.
func (s *Server) appendStats(dst []byte, group string) []byte {
	switch strings.TrimSpace(group) {
	case "":
		dst = s.appendBasicStats(dst)
	case "all", "detailed":
		dst = s.appendBasicStats(dst)
		dst = s.appendDetailedStats(dst)
	case "servers":
		dst = s.appendServerStats(dst, false)
	case "suspect_servers":
		dst = s.appendServerStats(dst, true)
	default:
		return append(dst, "CLIENT_ERROR bad stats command\r\n"...)
	}
	return memproto.AppendEnd(dst)
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

func (s *Server) appendBasicStats(dst []byte) []byte {
	now := time.Now()
	st := &s.stats
	var reqs, errs uint64
	for i := range st.requests {
		reqs += st.requests[i].Load()
	}
	errs = st.errors.Load()
	dests := s.reg.Dests()
	var up, tko, pending, inflight int64
	for _, d := range dests {
		ds := d.Stats()
		switch ds.State {
		case upstream.StateUp, upstream.StateNew:
			up++
		case upstream.StateTKO:
			tko++
		}
		pending += int64(ds.Pending)
		inflight += ds.Inflight
	}
	configAge := int64(-1)
	if gen := s.cur.Load(); gen != nil {
		configAge = int64(now.Sub(gen.loadedAt) / time.Second)
	}
	var avgUs uint64
	if reqs > 0 {
		avgUs = st.durationNs.Load() / reqs / 1000
	}
	lines := [][2]string{
		{"version", s.version()},
		{"pid", strconv.Itoa(os.Getpid())},
		{"parent_pid", strconv.Itoa(os.Getppid())},
		{"time", strconv.FormatInt(now.Unix(), 10)},
		{"uptime", strconv.FormatInt(int64(now.Sub(s.started)/time.Second), 10)},
		{"num_client_connections", strconv.FormatInt(s.numConns.Load(), 10)},
		{"curr_connections", strconv.FormatInt(s.numConns.Load(), 10)},
		{"total_connections", u(s.totalConn.Load())},
		{"rejected_connections", u(st.rejectedConns.Load())},
		{"num_servers", strconv.Itoa(len(dests))},
		{"num_servers_up", strconv.FormatInt(up, 10)},
		{"num_servers_down", strconv.FormatInt(tko, 10)},
		{"num_suspect_servers", strconv.FormatInt(tko, 10)},
		{"destination_pending_reqs", strconv.FormatInt(pending, 10)},
		{"destination_inflight_reqs", strconv.FormatInt(inflight, 10)},
		{"request_replied_count", u(reqs)},
		{"request_success_count", u(reqs - errs)},
		{"request_error_count", u(errs)},
		{"duration_us", u(avgUs)},
		{"protocol_errors", u(st.protocolErrors.Load())},
		{"throttled_reads", u(st.throttled.Load())},
		{"buffered_reply_bytes", strconv.FormatInt(s.buffered.Load(), 10)},
		{"config_age", strconv.FormatInt(configAge, 10)},
		{"config_last_success", strconv.FormatInt(s.lastSuccess(), 10)},
		{"config_failures", u(st.configFailures.Load())},
		{"cmd_get", u(st.requests[mc.OpGet].Load() + st.requests[mc.OpGets].Load())},
		{"cmd_set", u(st.requests[mc.OpSet].Load())},
		{"get_hits", u(st.results[mc.ResFound].Load())},
		{"get_misses", u(st.results[mc.ResNotFound].Load())},
	}
	if gen := s.cur.Load(); gen != nil {
		gs := gen.g.Stats()
		lines = append(lines,
			[2]string{"asynclog_requests", u(gs.AsynclogRequests)},
			[2]string{"failover_all", u(gs.FailoverAll)},
			[2]string{"failover_all_failed", u(gs.FailoverAllFailed)},
			[2]string{"failover_rate_limited", u(gs.FailoverRateLimited)},
			[2]string{"dev_null_requests", u(gs.DevNullRequests)},
		)
	}
	for _, l := range lines {
		dst = memproto.AppendStat(dst, l[0], l[1])
	}
	return dst
}

func (s *Server) lastSuccess() int64 {
	if gen := s.cur.Load(); gen != nil {
		return gen.loadedAt.Unix()
	}
	return 0
}

func (s *Server) appendDetailedStats(dst []byte) []byte {
	st := &s.stats
	for _, op := range mc.RoutableOps {
		name := strings.ReplaceAll(op.String(), "-", "_")
		dst = memproto.AppendStat(dst, "cmd_"+name+"_count", u(st.requests[op].Load()))
	}
	for _, res := range mc.AllResults() {
		if n := st.results[res].Load(); n > 0 {
			dst = memproto.AppendStat(dst, "result_"+res.String()+"_count", u(n))
		}
	}
	return dst
}

// appendServerStats writes mcrouter's "stats servers" lines:
// STAT <host>:<port>:ascii:plain:notcompressed-<timeout> avg_latency_us:..
// pending_reqs:.. inflight_reqs:.. [hard_tko; | soft_tko;] <state>:1
// <result>:<n> ...
func (s *Server) appendServerStats(dst []byte, suspectOnly bool) []byte {
	dests := s.reg.Dests()
	sort.Slice(dests, func(i, j int) bool { return dests[i].Key().String() < dests[j].Key().String() })
	for _, d := range dests {
		ds := d.Stats()
		if suspectOnly {
			if ds.State != upstream.StateTKO {
				continue
			}
			status := "tko"
			if ds.HardTKO {
				status = "down"
			}
			dst = memproto.AppendStat(dst, ds.Key.String(), fmt.Sprintf("status:%s num_failures:%d", status, ds.Errors))
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "avg_latency_us:%.3f pending_reqs:%d inflight_reqs:%d ", float64(ds.AvgLatency.Microseconds()), ds.Pending, ds.Inflight)
		switch {
		case ds.HardTKO:
			b.WriteString("hard_tko; ")
		case ds.SoftTKO:
			b.WriteString("soft_tko; ")
		}
		fmt.Fprintf(&b, "%s:1", ds.State)
		for i, n := range ds.Results {
			if n > 0 {
				fmt.Fprintf(&b, " %s:%d", upstream.BucketNames[i], n)
			}
		}
		dst = memproto.AppendStat(dst, ds.Key.String(), b.String())
	}
	return dst
}
