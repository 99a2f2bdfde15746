package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/route"
	"github.com/mcroute/mcroute/runtime/upstream"
)

func (s *Server) version() string {
	v := s.opts.Version
	if v == "" {
		v = "devel"
	}
	return v + " mcroute"
}

// admin answers a get of an __mcrouter__.* key, as mcrouter does: a value
// (errors as "ERROR: <msg>"), never a miss.
func (s *Server) admin(req *mc.Request, rep *mc.Reply) {
	rep.Reset()
	rep.Result = mc.ResFound
	cmd := string(req.Key[len(adminPrefix):])
	name, args, hasArgs := cmd, "", false
	if i := strings.IndexByte(cmd, '('); i >= 0 && strings.HasSuffix(cmd, ")") {
		name, args, hasArgs = cmd[:i], cmd[i+1:len(cmd)-1], true
	}
	val, err := s.adminValue(name, args, hasArgs)
	if err != nil {
		val = "ERROR: " + err.Error()
	}
	rep.Value = append(rep.Value[:0], val...)
}

func (s *Server) adminValue(name, args string, hasArgs bool) (string, error) {
	gen := s.cur.Load()
	switch name {
	case "version":
		return s.version(), nil
	case "hostid":
		return strconv.FormatUint(uint64(s.hostID()), 10), nil
	case "config_age":
		if gen == nil {
			return "", fmt.Errorf("no config loaded")
		}
		return strconv.FormatInt(int64(time.Since(gen.loadedAt)/time.Second), 10), nil
	case "config_file":
		if gen == nil {
			return "", fmt.Errorf("no config loaded")
		}
		return gen.info.Path, nil
	case "config_md5_digest":
		if gen == nil {
			return "", fmt.Errorf("no config loaded")
		}
		return gen.digest, nil
	case "config_sources_info":
		if gen == nil {
			return "", fmt.Errorf("no config loaded")
		}
		b, _ := json.Marshal(map[string]any{"config_file": gen.info.Path, "sources": gen.info.Sources, "md5": gen.digest})
		return string(b), nil
	case "pools":
		if gen == nil {
			return "", fmt.Errorf("no config loaded")
		}
		pools := map[string][]string{}
		for _, d := range gen.g.Destinations() {
			pools[d.Pool] = append(pools[d.Pool], d.Addr.HostPort())
		}
		b, _ := json.Marshal(pools)
		return string(b), nil
	case "options":
		return s.optionsText(args), nil
	case "route", "route_handles":
		if gen == nil {
			return "", fmt.Errorf("no config loaded")
		}
		if !hasArgs {
			return "", fmt.Errorf("usage: __mcrouter__.%s(op,key)", name)
		}
		opName, key, ok := strings.Cut(args, ",")
		if !ok || key == "" {
			return "", fmt.Errorf("usage: __mcrouter__.%s(op,key)", name)
		}
		op, ok := mc.ParseOp(opName)
		if !ok {
			return "", fmt.Errorf("unknown operation %q", opName)
		}
		if name == "route_handles" {
			return strings.TrimRight(gen.g.Handles(op, key), "\n"), nil
		}
		tr := &route.Trace{DryRun: true}
		ctx := route.WithTrace(context.Background(), tr)
		var rep mc.Reply
		req := mc.Request{Op: op, Key: []byte(key)}
		gen.g.Route(ctx, &req, &rep)
		var addrs []string
		for _, h := range tr.Hops() {
			addrs = append(addrs, h.Addr)
		}
		return strings.Join(addrs, "\r\n"), nil
	}
	return "", fmt.Errorf("unknown command %q", name)
}

func (s *Server) hostID() uint32 {
	if id := s.opts.Route.HostID; id != 0 {
		return id
	}
	return route.DefaultHostID()
}

func (s *Server) optionsText(name string) string {
	opts := map[string]string{
		"enable_flush_cmd":            strconv.FormatBool(s.opts.EnableFlush),
		"max_conns":                   strconv.Itoa(s.opts.MaxConns),
		"max_client_outstanding_reqs": strconv.Itoa(s.maxOutstanding()),
		"client_timeout":              strconv.FormatInt(s.clientTimeout().Milliseconds(), 10),
		"timeouts_until_tko":          strconv.Itoa(orDefault(s.opts.Upstream.TimeoutsUntilTKO, upstream.DefaultTimeoutsUntilTKO)),
		"probe_timeout_initial":       strconv.FormatInt(orDur(s.opts.Upstream.ProbeInitial, upstream.DefaultProbeInitial).Milliseconds(), 10),
		"probe_timeout_max":           strconv.FormatInt(orDur(s.opts.Upstream.ProbeMax, upstream.DefaultProbeMax).Milliseconds(), 10),
		"disable_tko_tracking":        strconv.FormatBool(s.opts.Upstream.DisableTKO),
		"max_value_size":              strconv.Itoa(s.maxValueSize()),
		"miss_on_get_errors":          strconv.FormatBool(s.opts.Route.MissOnGetErrors),
		"miss_on_arith_errors":        strconv.FormatBool(s.opts.Route.MissOnArithErrors),
	}
	if name != "" {
		if v, ok := opts[name]; ok {
			return name + " " + v
		}
		return ""
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString(k + " " + opts[k])
	}
	return b.String()
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// flushAll sends req (flush_all) to every destination of the current
// config in parallel and answers the worst reply, as mcrouter's AllSync.
func (s *Server) flushAll(req *mc.Request, rep *mc.Reply) {
	rep.Reset()
	gen := s.acquire()
	if gen == nil {
		rep.Result, rep.Message = mc.ResLocalError, "no config loaded"
		return
	}
	defer s.releaseGen(gen)
	seen := map[*upstream.Dest]bool{}
	var dests []*upstream.Dest
	for _, d := range gen.dests {
		if !seen[d] {
			seen[d] = true
			dests = append(dests, d)
		}
	}
	reps := make([]mc.Reply, len(dests))
	var wg sync.WaitGroup
	fr := *req
	fr.NoReply = false
	for i, d := range dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Send(context.Background(), &fr, nil, &reps[i])
		}()
	}
	wg.Wait()
	rep.Result = mc.ResOK
	for i := range reps {
		if reps[i].Result.WorseThan(rep.Result) {
			rep.CopyFrom(&reps[i])
		}
	}
}
