// Command mcroute-bench measures mcroute serve side by side with direct
// memcached and twemproxy (Debian's nutcracker) on the same machine, in the
// same run: it starts memcached backends, twemproxy and mcroute on
// equivalent configs (consistent hashing over the backends), drives each
// target with libmemcached's memcaslap (90% get / 10% set, 32-byte keys,
// 100-byte values, concurrency 32), and prints per target the throughput,
// p50/p99 latency, the CPU microseconds per operation of the proxy and of
// the memcached backends together (from /proc/PID/task/*/schedstat), and
// ratios against direct memcached and against twemproxy. Rounds are
// interleaved (A B C A B C ...) and medians of the rounds are reported.
//
// Layouts, for a 2-core machine:
//
//	onecore   everything on cpu 0; proxies with GOMAXPROCS=1
//	proxyiso  the proxy alone on cpu 0; backends and load generator on cpu 1
//
// Targets: direct (memcaslap spreads keys over the backends itself),
// twemproxy, mcroute, and mcroute-poll: mcroute in poll mode
// (--poll-interval, meant for a proxy with a core of its own), measured in
// the proxyiso layout only.
//
// Usage:
//
//	go run ./cmd/mcroute-bench [--layouts onecore,proxyiso] [--backends 1,3] [--rounds 3] [--duration 10s]
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
)

type cli struct {
	Layouts     []string      `default:"onecore,proxyiso" enum:"onecore,proxyiso" help:"Layouts to run (${enum})."`
	Backends    []int         `default:"1,3" help:"Numbers of memcached backends to run with."`
	Rounds      int           `default:"3" help:"Interleaved rounds per target; medians are reported."`
	Duration    time.Duration `default:"10s" help:"Length of one memcaslap run."`
	Concurrency int           `default:"32" help:"memcaslap concurrency."`
	Mcroute     string        `type:"path" help:"mcroute binary to measure (default: built from this checkout)."`
	Targets     []string      `default:"direct,twemproxy,mcroute,mcroute-poll" enum:"direct,twemproxy,mcroute,mcroute-poll" help:"Targets to measure (${enum}); mcroute-poll runs in the proxyiso layout only."`
	Poll        time.Duration `default:"50us" help:"--poll-interval of the mcroute-poll target."`
	Conns       int           `default:"1" help:"mcroute --upstream-conns."`
	Markdown    bool          `help:"Print the results table as Markdown (for README)."`
	Keep        bool          `help:"Keep the temporary directory."`
}

func main() {
	var c cli
	kong.Parse(&c, kong.Description("Measure mcroute serve against direct memcached and twemproxy with memcaslap."))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "mcroute-bench:", err)
		os.Exit(1)
	}
}

// layout says which CPU each process runs on.
type layout struct {
	name                 string
	proxyCPU, backendCPU string
	loadCPU              string
	proxyProcs           int
}

func layoutFor(name string) layout {
	if name == "proxyiso" {
		return layout{name: name, proxyCPU: "0", backendCPU: "1", loadCPU: "1", proxyProcs: 1}
	}
	return layout{name: name, proxyCPU: "0", backendCPU: "0", loadCPU: "0", proxyProcs: 1}
}

// result is one memcaslap run.
type result struct {
	ops, tps       float64
	p50, p99       float64 // microseconds
	cpuUsPerOp     float64 // proxy CPU per op (NaN for direct)
	backendUsPerOp float64 // CPU per op of all memcached backends together
}

func (c *cli) run(ctx context.Context) error {
	for _, bin := range []string{"memcached", "memcaslap", "taskset"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed (apt-get install memcached libmemcached-tools util-linux)", bin)
		}
	}
	needTwem := contains(c.Targets, "twemproxy")
	if _, err := exec.LookPath("nutcracker"); err != nil && needTwem {
		return errors.New("nutcracker is not installed (apt-get install nutcracker)")
	}
	dir, err := os.MkdirTemp("", "mcroute-bench")
	if err != nil {
		return err
	}
	if !c.Keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "working directory:", dir)
	}
	if c.Mcroute == "" {
		c.Mcroute = filepath.Join(dir, "mcroute")
		fmt.Fprintln(os.Stderr, "building mcroute ...")
		b := exec.CommandContext(ctx, "go", "build", "-o", c.Mcroute, "./cmd/mcroute")
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("build mcroute: %w", err)
		}
	}
	cfg := filepath.Join(dir, "memcaslap.cfg")
	if err := os.WriteFile(cfg, []byte("key\n32 32 1\nvalue\n100 100 1\ncmd\n0 0.1\n1 0.9\n"), 0o644); err != nil {
		return err
	}
	host, _ := os.Hostname()
	fmt.Printf("mcroute-bench %s on %s (%d CPUs, %s), memcaslap c=%d, %s per run, %d rounds interleaved, medians\n\n",
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), cpuModel(), c.Concurrency, c.Duration, c.Rounds)
	var rows [][]string
	for _, ln := range c.Layouts {
		lay := layoutFor(ln)
		for _, nb := range c.Backends {
			r, err := c.scenario(ctx, dir, cfg, lay, nb)
			if err != nil {
				return err
			}
			rows = append(rows, r...)
		}
	}
	printTable(os.Stdout, rows, c.Markdown)
	return nil
}

// scenario runs every target of one layout and backend count.
func (c *cli) scenario(ctx context.Context, dir, cfg string, lay layout, nb int) ([][]string, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_, _ = p.Process.Wait()
		}
	}()
	start := func(cpu string, env []string, name string, args ...string) (*exec.Cmd, error) {
		cmd := exec.CommandContext(sctx, "taskset", append([]string{"-c", cpu, name}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		logf, _ := os.Create(filepath.Join(dir, filepath.Base(name)+fmt.Sprintf("-%d.log", len(procs))))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, cmd)
		return cmd, nil
	}
	var backends []string
	var backendPIDs []int
	for i := 0; i < nb; i++ {
		port := freePort()
		args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-t", "1", "-m", "256", "-c", "4096"}
		if os.Geteuid() == 0 {
			args = append(args, "-u", "nobody")
		}
		p, err := start(lay.backendCPU, nil, "memcached", args...)
		if err != nil {
			return nil, err
		}
		backendPIDs = append(backendPIDs, p.Process.Pid)
		backends = append(backends, fmt.Sprintf("127.0.0.1:%d", port))
	}
	type target struct {
		name string
		addr string
		pid  int
	}
	var targets []target
	for _, t := range c.Targets {
		switch t {
		case "direct":
			// memcaslap spreads keys over the servers itself.
			targets = append(targets, target{name: "direct", addr: strings.Join(backends, ",")})
		case "twemproxy":
			port := freePort()
			var b strings.Builder
			fmt.Fprintf(&b, "bench:\n  listen: 127.0.0.1:%d\n  hash: fnv1a_64\n  distribution: ketama\n  timeout: 1000\n  backlog: 1024\n  preconnect: true\n  auto_eject_hosts: false\n  servers:\n", port)
			for _, s := range backends {
				fmt.Fprintf(&b, "   - %s:1\n", s)
			}
			yml := filepath.Join(dir, fmt.Sprintf("nutcracker-%s-%d.yml", lay.name, nb))
			if err := os.WriteFile(yml, []byte(b.String()), 0o644); err != nil {
				return nil, err
			}
			p, err := start(lay.proxyCPU, nil, "nutcracker", "-c", yml, "-s", strconv.Itoa(freePort()), "-o", filepath.Join(dir, "nutcracker.log"), "-p", filepath.Join(dir, "nutcracker.pid"))
			if err != nil {
				return nil, err
			}
			targets = append(targets, target{name: "twemproxy", addr: fmt.Sprintf("127.0.0.1:%d", port), pid: p.Process.Pid})
		case "mcroute", "mcroute-poll":
			var extra []string
			if t == "mcroute-poll" {
				if lay.proxyCPU == lay.backendCPU {
					// Poll mode keeps the proxy's core busy: not for
					// a core shared with the backends and the load.
					continue
				}
				extra = []string{"--poll-interval", c.Poll.String()}
			}
			port := freePort()
			var servers []string
			for _, s := range backends {
				servers = append(servers, strconv.Quote(s))
			}
			js := filepath.Join(dir, fmt.Sprintf("mcroute-%s-%d.json", lay.name, nb))
			conf := fmt.Sprintf(`{"pools": {"A": {"servers": [%s]}}, "route": "PoolRoute|A"}`, strings.Join(servers, ", "))
			if err := os.WriteFile(js, []byte(conf), 0o644); err != nil {
				return nil, err
			}
			args := append([]string{"serve", "--config", js, "--listen", fmt.Sprintf("127.0.0.1:%d", port),
				"--upstream-conns", strconv.Itoa(c.Conns), "--log-level", "warn"}, extra...)
			p, err := start(lay.proxyCPU, []string{"GOMAXPROCS=" + strconv.Itoa(lay.proxyProcs)}, c.Mcroute, args...)
			if err != nil {
				return nil, err
			}
			targets = append(targets, target{name: t, addr: fmt.Sprintf("127.0.0.1:%d", port), pid: p.Process.Pid})
		default:
			return nil, fmt.Errorf("unknown target %q", t)
		}
	}
	for _, t := range targets {
		for _, a := range strings.Split(t.addr, ",") {
			if err := waitListening(a); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	// Warm up: fill the keys once per target.
	results := map[string][]result{}
	for r := 0; r < c.Rounds; r++ {
		for _, t := range targets {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			fmt.Fprintf(os.Stderr, "%s backends=%d round %d/%d: %s ...\n", lay.name, nb, r+1, c.Rounds, t.name)
			res, err := c.slap(ctx, cfg, lay, t.addr, t.pid, backendPIDs)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			results[t.name] = append(results[t.name], res)
		}
	}
	med := map[string]result{}
	for name, rs := range results {
		med[name] = median(rs)
	}
	var rows [][]string
	for _, t := range targets {
		m := med[t.name]
		row := []string{lay.name, strconv.Itoa(nb), t.name, fmt.Sprintf("%.0f", m.tps), fmt.Sprintf("%.0f", m.p50), fmt.Sprintf("%.0f", m.p99)}
		row = append(row, us(m.cpuUsPerOp), us(m.backendUsPerOp))
		row = append(row, ratio(m.tps, med["direct"].tps), ratio(m.tps, med["twemproxy"].tps))
		rows = append(rows, row)
	}
	return rows, nil
}

// us formats a CPU time per op ("-" when not measured).
func us(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(b) {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// slap runs memcaslap once against addr and measures the CPU of the proxy
// (pid; 0 for none) and of the memcached backends.
func (c *cli) slap(ctx context.Context, cfg string, lay layout, addr string, pid int, backends []int) (result, error) {
	var before uint64
	if pid != 0 {
		before = cpuNs(pid)
	}
	backendBefore := cpuNsAll(backends)
	args := []string{"-c", lay.loadCPU, "memcaslap", "-s", addr, "-F", cfg, "-t", fmt.Sprintf("%ds", int(c.Duration.Seconds())),
		"-T", "1", "-c", strconv.Itoa(c.Concurrency), "-S", fmt.Sprintf("%ds", int(c.Duration.Seconds()))}
	cmd := exec.CommandContext(ctx, "taskset", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("memcaslap: %w\n%s", err, out)
	}
	res, err := parseSlap(string(out))
	if err != nil {
		return result{}, err
	}
	res.cpuUsPerOp, res.backendUsPerOp = math.NaN(), math.NaN()
	if res.ops > 0 {
		if pid != 0 {
			res.cpuUsPerOp = float64(cpuNs(pid)-before) / 1e3 / res.ops
		}
		res.backendUsPerOp = float64(cpuNsAll(backends)-backendBefore) / 1e3 / res.ops
	}
	return res, nil
}

var runLine = regexp.MustCompile(`Run time: ([0-9.]+)s Ops: ([0-9]+) TPS: ([0-9]+)`)

// parseSlap reads the throughput and the latency distribution (the "Total
// Statistics" log2 histogram) of memcaslap's output.
func parseSlap(out string) (result, error) {
	m := runLine.FindStringSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("cannot find the result line in memcaslap's output:\n%s", out)
	}
	var r result
	r.ops, _ = strconv.ParseFloat(m[2], 64)
	r.tps, _ = strconv.ParseFloat(m[3], 64)
	hist := parseLog2(out, "Total Statistics (")
	r.p50 = percentile(hist, 0.50)
	r.p99 = percentile(hist, 0.99)
	return r, nil
}

// parseLog2 returns the counts of memcaslap's "Log2 Dist" after marker:
// hist[k] counts latencies in (2^(k-1), 2^k] microseconds (memcaslap files
// a latency under the smallest k with 2^k >= it).
func parseLog2(out, marker string) map[int]float64 {
	hist := map[int]float64{}
	i := strings.LastIndex(out, marker)
	if i < 0 {
		return hist
	}
	sc := bufio.NewScanner(strings.NewReader(out[i:]))
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "Log2 Dist") {
			in = true
			continue
		}
		if !in {
			continue
		}
		base, rest, ok := strings.Cut(line, ":")
		b, err := strconv.Atoi(base)
		if !ok || err != nil {
			break
		}
		for j, f := range strings.Fields(rest) {
			n, _ := strconv.ParseFloat(f, 64)
			hist[b+j] += n
		}
	}
	return hist
}

// percentile interpolates geometrically inside the log2 bucket holding the
// quantile q.
func percentile(hist map[int]float64, q float64) float64 {
	var keys []int
	var total float64
	for k, n := range hist {
		keys = append(keys, k)
		total += n
	}
	if total == 0 {
		return math.NaN()
	}
	sort.Ints(keys)
	want := q * total
	var acc float64
	for _, k := range keys {
		n := hist[k]
		if acc+n >= want && n > 0 {
			// Interpolate within (2^(k-1), 2^k] on a log scale.
			frac := (want - acc) / n
			return math.Pow(2, float64(k-1)+frac)
		}
		acc += n
	}
	return math.Pow(2, float64(keys[len(keys)-1]))
}

func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		var v []float64
		for _, r := range rs {
			if x := f(r); !math.IsNaN(x) {
				v = append(v, x)
			}
		}
		if len(v) == 0 {
			return math.NaN()
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return result{
		ops:            pick(func(r result) float64 { return r.ops }),
		tps:            pick(func(r result) float64 { return r.tps }),
		p50:            pick(func(r result) float64 { return r.p50 }),
		p99:            pick(func(r result) float64 { return r.p99 }),
		cpuUsPerOp:     pick(func(r result) float64 { return r.cpuUsPerOp }),
		backendUsPerOp: pick(func(r result) float64 { return r.backendUsPerOp }),
	}
}

// cpuNs sums the on-CPU time of every thread of pid, from
// /proc/PID/task/*/schedstat (the first field, in nanoseconds). For a
// process started through taskset, the measured process is taskset's
// child, which replaced taskset by exec, so pid is right.
func cpuNs(pid int) uint64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum uint64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseUint(f[0], 10, 64)
			sum += n
		}
	}
	return sum
}

// cpuNsAll is cpuNs summed over pids.
func cpuNsAll(pids []int) uint64 {
	var sum uint64
	for _, pid := range pids {
		sum += cpuNs(pid)
	}
	return sum
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s", addr)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var header = []string{"layout", "backends", "target", "ops/s", "p50 µs", "p99 µs", "proxy CPU µs/op", "memcached CPU µs/op", "vs direct", "vs twemproxy"}

func printTable(w io.Writer, rows [][]string, markdown bool) {
	if markdown {
		fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
		seps := make([]string, len(header))
		for i := range seps {
			seps[i] = "---"
		}
		fmt.Fprintln(w, "|"+strings.Join(seps, "|")+"|")
		for _, r := range rows {
			fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
		}
		return
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		for i, c := range cells {
			fmt.Fprintf(w, "%-*s  ", widths[i], c)
		}
		fmt.Fprintln(w)
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}
