package proxy

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/memproto"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// MemcachedVersion is what the proxy answers to "version": the memcached
// release whose text protocol it speaks (runtime/memproto follows memcached
// 1.6.18 and is tested against it). Clients parse this reply as a
// memcached version (libmemcached, and so php-memcached and memcstat, read
// major.minor.micro numbers and fail on anything else), so mcroute's own
// version is in the stats ("version") and __mcrouter__.version instead.
const MemcachedVersion = "1.6.18"

// appendStats answers "stats [group]". The proxy's own groups are those an
// mcrouter user looks at: none (basic), "all"/"detailed" (basic plus
// per-operation and per-result counts), "servers" (one line per
// destination), "suspect_servers" (TKO destinations). memcached's groups,
// which describe a server, go to the servers (see appendServerGroup); any
// other group is answered "ERROR", as memcached answers it.
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
		return s.appendServerGroup(dst, strings.Fields(group))
	}
	return memproto.AppendEnd(dst)
}

// appendServerGroup answers one of memcached's own stats groups: settings,
// slabs, items, sizes, conns, extstore, cachedump, detail and reset. They
// describe one server, so a proxy can answer them only when its config
// has one server (the sidecar case): then the command goes to that server,
// on a connection of its own, and its reply is relayed as it is. With
// several servers, the commands that change a setting (stats reset, stats
// detail on|off) go to every server and are answered RESET or OK when all
// of them did so (else with the first other reply), and the others get an
// empty group, "END", as memcached answers a group with nothing in it, so
// that clients reading up to END are not left waiting. A server that
// cannot be reached is reported as "SERVER_ERROR <reason>".
func (s *Server) appendServerGroup(dst []byte, args []string) []byte {
	switch args[0] {
	case "detail":
		if len(args) < 2 || (args[1] != "on" && args[1] != "off" && args[1] != "dump") {
			return append(dst, "CLIENT_ERROR usage: stats detail on|off|dump\r\n"...)
		}
	case "settings", "slabs", "items", "sizes", "conns", "extstore", "cachedump", "reset":
	default:
		return append(dst, "ERROR\r\n"...)
	}
	dests := s.servers()
	if len(dests) == 0 {
		return append(dst, "SERVER_ERROR no config loaded\r\n"...)
	}
	line := "stats " + strings.Join(args, " ")
	want := ""
	switch {
	case args[0] == "reset":
		want = "RESET\r\n"
	case args[0] == "detail" && args[1] != "dump":
		want = "OK\r\n"
	case len(dests) > 1:
		return memproto.AppendEnd(dst)
	}
	replies := make([][]byte, len(dests))
	var wg sync.WaitGroup
	for i, d := range dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := d.Command(context.Background(), line)
			if err != nil {
				rep = []byte("SERVER_ERROR " + strings.ReplaceAll(err.Error(), "\r\n", " ") + "\r\n")
			}
			replies[i] = rep
		}()
	}
	wg.Wait()
	for _, rep := range replies {
		if string(rep) != want {
			return append(dst, rep...)
		}
	}
	return append(dst, want...)
}

// servers returns the destinations of the current config, one per server
// address (a server listed with two timeouts is one server).
func (s *Server) servers() []*upstream.Dest {
	gen := s.acquire()
	if gen == nil {
		return nil
	}
	defer s.releaseGen(gen)
	seen := map[[2]string]bool{}
	var out []*upstream.Dest
	for _, d := range gen.dests {
		k := d.Key()
		if !seen[[2]string{k.Network, k.Addr}] {
			seen[[2]string{k.Network, k.Addr}] = true
			out = append(out, d)
		}
	}
	return out
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
