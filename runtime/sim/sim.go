package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/route"
	"github.com/mcroute/mcroute/schema"
)

// DefaultKeys is the number of keys simulated when Options.Keys is zero.
const DefaultKeys = 1_000_000

// MaxExamples is how many keys that moved between servers kept in both
// configs a Result lists.
const MaxExamples = 5

// chunkKeys is how many keys a worker takes at a time. It bounds how long a
// canceled run takes to stop and how often progress is published.
const chunkKeys = 8192

// maxReplication is the largest replication count the histogram tells
// apart; keys reaching more servers are counted in its last bucket.
const maxReplication = 64

// defaultDownResult is what a down server answers unless
// Options.DownResult says otherwise.
const defaultDownResult = mc.ResTko

// ErrServer is wrapped by the error for an Options.Down entry that names no
// server of the config.
var ErrServer = errors.New("sim: unknown server")

// Options configure Run. Config is required; the zero value of every other
// field means its documented default.
type Options struct {
	// Config is the config to simulate.
	Config *schema.Config
	// Name labels Config in the result (typically its file name).
	Name string

	// Compare, when set, is a second config (for example the same pool
	// with a server added): every key is routed through both graphs in the
	// same pass and the result tells which keys move. It cannot be
	// combined with Down.
	Compare *schema.Config
	// CompareName labels Compare.
	CompareName string

	// Down lists servers that fail: every request to them is answered
	// with DownResult, so the configured failover decides where their keys
	// go. Each entry is a server address as written in a pool, its
	// host:port, or "pool[index]"; the whole server (every pool it is in)
	// is down. Each key is routed through the healthy graph and through
	// the failing one, and the result compares the two.
	Down []string
	// DownResult is what a down server answers. Zero means mc.ResTko, the
	// answer of a server mcrouter has marked down (after its first
	// failures, which answer connect_error or timeout).
	DownResult mc.Result

	// Op is the operation routed for every key. Zero means mc.OpSet: where
	// a key is stored is what sets reach. Reads may reach other servers
	// (replicas, failover, random choices); simulate a get-like operation
	// to see them. Healthy servers answer every request with success (a
	// hit for gets).
	Op mc.Op

	// Keys is how many keys Pattern generates (key numbers 0 to Keys-1).
	// Zero means DefaultKeys.
	Keys int64
	// Pattern is the key pattern (see Pattern). Empty means
	// DefaultPattern.
	Pattern string
	// KeysFrom, when set, is read for the keys instead, one per line
	// (blank lines are skipped, a trailing "\r" is removed). It is
	// streamed: keys are never all held in memory. Key numbers (used for
	// RandomRoute's choices) are line numbers counted from 0.
	KeysFrom io.Reader
	// KeysFromName labels KeysFrom in the result and in errors.
	KeysFromName string

	// Seed makes {rand} keys and RandomRoute's choices reproducible: the
	// random choices for a key depend only on Seed and the key number.
	Seed uint64

	// Workers is the number of goroutines routing keys, each with its own
	// graphs and counters. Zero means runtime.GOMAXPROCS(0).
	Workers int

	// RoutePrefix is the default routing prefix (mcrouter's -R). Empty
	// means "/././".
	RoutePrefix string
	// HostID is the proxy host id of LatestRoute, HostIdRoute and
	// KeySplitRoute. Zero means 1, so that results do not depend on the
	// machine.
	HostID uint32
	// Now is the time the graph's clock is frozen at (MigrateRoute, rate
	// limits). Zero means the time Run starts. Because the clock does not
	// move, rate limits let only their burst through; Result.Notes says
	// when requests were rate limited.
	Now time.Time

	// Progress, when set, is updated as keys are simulated.
	Progress *Progress
}

// Run simulates the keys of opts through the route graph of opts.Config
// (and of opts.Compare, or of the config with opts.Down servers failing)
// and returns the distribution of the keys over the servers.
//
// Each key is routed as one request with opts.Op through a graph built
// with route.Build, over destinations that only count: no network, no
// goroutine per request (background work runs inline, so fan-out routes
// reach every child). Keys are generated or read on the fly, so the number
// of keys is not limited by memory. A server holds a key when a request for
// it reached the server and succeeded; a key reaching several servers
// (replication, AllSyncRoute, shadows) counts on each.
//
// If ctx is done before every key is simulated, Run stops, and returns the
// result of the keys simulated so far, marked Partial, along with
// ctx.Err(). Configs that route.Build rejects return its error (a
// diag.List); an invalid key or pattern returns an error wrapping ErrKey.
func Run(ctx context.Context, opts Options) (*Result, error) {
	p, err := newPlan(&opts)
	if err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ws := make([]*worker, workers)
	for i := range ws {
		if ws[i], err = p.newWorker(); err != nil {
			return nil, err
		}
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	readAll := true
	var wg sync.WaitGroup
	if opts.KeysFrom != nil {
		chunks := make(chan *fileChunk, 2*workers)
		free := make(chan *fileChunk, 2*workers+1)
		type readResult struct {
			complete bool
			err      error
		}
		read := make(chan readResult, 1)
		go func() {
			complete, err := p.readKeys(ctx, opts.KeysFrom, chunks, free)
			if err != nil {
				cancel()
			}
			close(chunks)
			read <- readResult{complete, err}
		}()
		for _, w := range ws {
			wg.Go(func() { w.runFile(ctx, chunks, free) })
		}
		wg.Wait()
		select {
		case r := <-read:
			readAll, readErr = r.complete, r.err
		default:
			select {
			case r := <-read:
				readAll, readErr = r.complete, r.err
			case <-parent.Done():
				// The reader may be blocked on its input (a terminal,
				// a pipe); it stops at its next read.
				readAll = false
			}
		}
	} else {
		var next atomic.Int64
		for _, w := range ws {
			wg.Go(func() { w.runPattern(ctx, &next) })
		}
		wg.Wait()
	}
	for _, w := range ws {
		w.close()
	}
	if readErr != nil {
		return nil, readErr
	}
	res := p.result(ws)
	if err := parent.Err(); err != nil && (!readAll || p.total >= 0 && res.Keys < p.total) {
		res.Partial = true
		res.Requested = max(p.total, 0)
		return res, err
	}
	return res, nil
}

// plan is what every worker shares: the servers, the configs' sides and
// the key source.
type plan struct {
	opts    *Options
	op      mc.Op
	now     time.Time
	pattern *Pattern
	total   int64 // keys to simulate, -1 for a reader

	servers  []string // server identities (host:port), in first-seen order
	serverID map[string]int32
	sides    []*sidePlan
	kept     []bool // per server: in every side and not down
	mode     mode
	warnings diag.List
}

type mode uint8

const (
	modeSingle mode = iota
	modeCompare
	modeDown
)

// sidePlan is one graph to route every key through.
type sidePlan struct {
	name    string
	cfg     *schema.Config
	dests   []route.DestInfo // pools in config order, then index
	destID  map[destKey]int32
	server  []int32 // per destination
	down    []bool  // per destination
	pool    []int32 // per destination: index in pools
	pools   []string
	present []bool // per server
	weights map[string][]float64
}

type destKey struct {
	pool  string
	index int
}

// serverName is the identity of a server across pools and configs: its
// host:port (or unix:PATH), without protocol suffixes.
func serverName(d route.DestInfo) string {
	if hp := d.Addr.HostPort(); hp != "" && hp != ":0" {
		return hp
	}
	return d.Server
}

func newPlan(o *Options) (*plan, error) {
	if o.Config == nil {
		return nil, errors.New("sim: Options.Config is required")
	}
	if o.Compare != nil && len(o.Down) > 0 {
		return nil, errors.New("sim: Compare and Down cannot be combined")
	}
	p := &plan{opts: o, op: o.Op, now: o.Now, serverID: map[string]int32{}}
	if p.op == mc.OpUnknown {
		p.op = mc.OpSet
	}
	if !p.op.Routable() || p.op == mc.OpFlushAll || p.op == mc.OpFlushRe {
		return nil, fmt.Errorf("sim: operation %s cannot be simulated: it has no key", p.op)
	}
	if p.now.IsZero() {
		p.now = time.Now()
	}
	if o.KeysFrom != nil {
		p.total = -1
	} else {
		p.total = o.Keys
		if p.total == 0 {
			p.total = DefaultKeys
		}
		if p.total < 0 {
			return nil, fmt.Errorf("sim: negative number of keys %d", p.total)
		}
		src := o.Pattern
		if src == "" {
			src = DefaultPattern
		}
		pat, err := ParsePattern(src)
		if err != nil {
			return nil, err
		}
		if l := pat.MaxLen(uint64(max(p.total-1, 0))); l > MaxKeyLen {
			return nil, fmt.Errorf("%w pattern %q: makes keys of up to %d bytes; memcached keys are limited to %d", ErrKey, src, l, MaxKeyLen)
		}
		p.pattern = pat
	}
	if _, err := p.addSide(o.Name, o.Config); err != nil {
		return nil, err
	}
	switch {
	case o.Compare != nil:
		p.mode = modeCompare
		if _, err := p.addSide(o.CompareName, o.Compare); err != nil {
			return nil, err
		}
	case len(o.Down) > 0:
		p.mode = modeDown
		second, err := p.addSide(o.Name, o.Config)
		if err != nil {
			return nil, err
		}
		for _, name := range o.Down {
			if !second.markDown(p, name) {
				return nil, fmt.Errorf("%w %q: not a server of %s (servers: %s)", ErrServer, name, labelOr(o.Name, "the config"), strings.Join(p.servers, ", "))
			}
		}
	}
	for _, s := range p.sides {
		s.present = slices.Grow(s.present, len(p.servers))[:len(p.servers)]
		for _, id := range s.server {
			s.present[id] = true
		}
	}
	p.kept = make([]bool, len(p.servers))
	for id := range p.servers {
		k := true
		for _, s := range p.sides {
			if !s.present[id] {
				k = false
			}
		}
		p.kept[id] = k
	}
	if p.mode == modeDown {
		for d, down := range p.sides[1].down {
			if down {
				p.kept[p.sides[1].server[d]] = false
			}
		}
	}
	return p, nil
}

func labelOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// routeOptions are the options every graph of the plan is built with.
func (p *plan) routeOptions(dest func(route.DestInfo) (route.Destination, error)) route.Options {
	hostID := p.opts.HostID
	if hostID == 0 {
		hostID = 1
	}
	now := p.now
	return route.Options{
		Dest:               dest,
		HostID:             hostID,
		Now:                func() time.Time { return now },
		DefaultRoutePrefix: p.opts.RoutePrefix,
	}
}

// addSide builds cfg once to learn its destinations.
func (p *plan) addSide(name string, cfg *schema.Config) (*sidePlan, error) {
	s := &sidePlan{name: name, cfg: cfg, destID: map[destKey]int32{}, weights: poolWeights(cfg)}
	g, err := route.Build(cfg, p.routeOptions(func(info route.DestInfo) (route.Destination, error) {
		s.dests = append(s.dests, info)
		return route.DestinationFunc(func(context.Context, *mc.Request, []byte, *mc.Reply) {}), nil
	}))
	if err != nil {
		return nil, err
	}
	g.Close()
	// Pools in the order the config defines them, so that tables follow
	// the config.
	pos := func(pool string) schema.Pos {
		if p := cfg.Pools[pool]; p != nil {
			return p.Pos
		}
		return schema.Pos{}
	}
	sort.Slice(s.dests, func(i, j int) bool {
		a, b := s.dests[i], s.dests[j]
		if a.Pool != b.Pool {
			pa, pb := pos(a.Pool), pos(b.Pool)
			if pa.File != pb.File {
				return pa.File < pb.File
			}
			if pa.Line != pb.Line {
				return pa.Line < pb.Line
			}
			if pa.Col != pb.Col {
				return pa.Col < pb.Col
			}
			return a.Pool < b.Pool
		}
		return a.Index < b.Index
	})
	s.server = make([]int32, len(s.dests))
	s.down = make([]bool, len(s.dests))
	s.pool = make([]int32, len(s.dests))
	for i, d := range s.dests {
		s.destID[destKey{d.Pool, d.Index}] = int32(i)
		if i == 0 || d.Pool != s.dests[i-1].Pool {
			s.pools = append(s.pools, d.Pool)
		}
		s.pool[i] = int32(len(s.pools) - 1)
		name := serverName(d)
		id, ok := p.serverID[name]
		if !ok {
			id = int32(len(p.servers))
			p.servers = append(p.servers, name)
			p.serverID[name] = id
		}
		s.server[i] = id
	}
	p.sides = append(p.sides, s)
	return s, nil
}

// markDown marks every destination of the server named name down.
func (s *sidePlan) markDown(p *plan, name string) bool {
	target := int32(-1)
	for i, d := range s.dests {
		if name == serverName(d) || name == d.Server || name == d.String() {
			target = s.server[i]
			break
		}
	}
	if target < 0 {
		return false
	}
	for i := range s.dests {
		if s.server[i] == target {
			s.down[i] = true
		}
	}
	return true
}

// poolWeights returns, for each pool a PoolRoute hashes with WeightedCh3,
// the weights it uses (padded with 0.5 as mcrouter does).
func poolWeights(cfg *schema.Config) map[string][]float64 {
	out := map[string][]float64{}
	var walk func(r schema.Route)
	walk = func(r schema.Route) {
		if r == nil {
			return
		}
		if pr, ok := r.(*schema.PoolRoute); ok {
			if pool := cfg.Pools[pr.Pool]; pool != nil {
				fn, w := "", pool.Weights
				if len(w) > 0 {
					fn = "WeightedCh3"
				}
				if pr.Hash != nil {
					if pr.Hash.Func != "" {
						fn = pr.Hash.Func
					}
					if pr.Hash.Weights != nil {
						w = pr.Hash.Weights
					}
				}
				if _, seen := out[pr.Pool]; fn == "WeightedCh3" && !seen {
					ws := make([]float64, len(pool.Servers))
					for i := range ws {
						ws[i] = 0.5
						if i < len(w) {
							ws[i] = w[i]
						}
					}
					out[pr.Pool] = ws
				}
			}
		}
		for _, e := range schema.Edges(r) {
			walk(e.Route)
		}
	}
	for _, e := range cfg.Entries() {
		walk(e.Route)
	}
	for _, name := range cfg.HandleNames() {
		walk(cfg.NamedHandles[name])
	}
	for _, name := range cfg.PoolNames() {
		for _, sv := range cfg.Pools[name].Servers {
			walk(sv.Route)
		}
	}
	return out
}

// worker routes keys through its own graphs into its own counters.
type worker struct {
	p     *plan
	sides []*workerSide
	rs    uint64 // RandomRoute's state for the current key
	seed  uint64
	req   mc.Request
	rep   mc.Reply
	key   []byte
	done  int64

	// Compare and down modes.
	moved, cross int64
	orphaned     int64
	lost, gained []int64 // per server
	pairs        []int64 // dense (servers+1)² matrix, or nil
	pairMap      map[[2]int32]int64
	examples     []Example
	diffA, diffB []int32
	notesRate    uint64
	notesUnsupp  uint64
}

// workerSide is one graph of a worker, with its counters.
type workerSide struct {
	sp       *sidePlan
	g        *route.Graph
	hits     []int32 // destinations that answered the current key
	sends    []int64 // per destination
	keys     []int64 // per server: distinct keys
	hist     [maxReplication + 1]int64
	poolHist [][maxReplication + 1]int64 // per pool: keys by servers of the pool reached
	set      []int32                     // the current key's servers, sorted, distinct
}

// countDest is a destination that counts what reaches it: one per
// destination per worker graph, so it needs no lock.
type countDest struct {
	side    *workerSide
	idx     int32
	down    bool
	downRes mc.Result
}

func (d *countDest) Send(_ context.Context, req *mc.Request, _ []byte, rep *mc.Reply) {
	if d.down {
		rep.Result = d.downRes
		return
	}
	rep.Result = healthyResult(req.Op)
	d.side.sends[d.idx]++
	d.side.hits = append(d.side.hits, d.idx)
}

// healthyResult is a healthy memcached server's answer to op (a hit for
// reads), as route.Fake answers.
func healthyResult(op mc.Op) mc.Result {
	switch {
	case op.IsGetLike():
		return mc.ResFound
	case op.IsUpdateLike():
		return mc.ResStored
	case op == mc.OpDelete:
		return mc.ResDeleted
	case op == mc.OpTouch:
		return mc.ResTouched
	case op == mc.OpIncr || op == mc.OpDecr:
		return mc.ResStored
	}
	return mc.ResOK
}

func (p *plan) newWorker() (*worker, error) {
	w := &worker{p: p, seed: p.opts.Seed}
	w.req.Op = p.op
	downRes := p.opts.DownResult
	if downRes == mc.ResUnknown {
		downRes = defaultDownResult
	}
	for _, sp := range p.sides {
		ws := &workerSide{sp: sp, sends: make([]int64, len(sp.dests)), keys: make([]int64, len(p.servers)),
			poolHist: make([][maxReplication + 1]int64, len(sp.pools))}
		opts := p.routeOptions(func(info route.DestInfo) (route.Destination, error) {
			i, ok := sp.destID[destKey{info.Pool, info.Index}]
			if !ok {
				return nil, fmt.Errorf("sim: destination %s was not seen when the config was first built", info)
			}
			return &countDest{side: ws, idx: i, down: sp.down[i], downRes: downRes}, nil
		})
		opts.Go = func(f func()) { f() }
		opts.Rand = w.rand
		g, err := route.Build(sp.cfg, opts)
		if err != nil {
			return nil, err
		}
		ws.g = g
		w.sides = append(w.sides, ws)
	}
	if p.mode != modeSingle {
		n := len(p.servers)
		w.lost = make([]int64, n)
		w.gained = make([]int64, n)
		if (n+1)*(n+1) <= 1<<16 {
			w.pairs = make([]int64, (n+1)*(n+1))
		} else {
			w.pairMap = map[[2]int32]int64{}
		}
	}
	return w, nil
}

// rand is the graphs' Options.Rand: a uniform draw from a stream that
// depends only on the seed and the key number.
func (w *worker) rand(n int) int {
	w.rs = mix64(w.rs)
	return int((w.rs >> 32) * uint64(n) >> 32)
}

func (w *worker) close() {
	for _, s := range w.sides {
		st := s.g.Stats()
		w.notesRate += st.RateLimited
		w.notesUnsupp += st.Unsupported
		s.g.Close()
	}
}

func (w *worker) runPattern(ctx context.Context, next *atomic.Int64) {
	p := w.p
	for ctx.Err() == nil {
		start := next.Add(chunkKeys) - chunkKeys
		if start >= p.total {
			return
		}
		end := min(start+chunkKeys, p.total)
		for n := start; n < end; n++ {
			w.key = p.pattern.Append(w.key[:0], uint64(n), w.seed)
			w.route(uint64(n), w.key)
		}
		w.done += end - start
		if pr := p.opts.Progress; pr != nil {
			pr.keys.Add(end - start)
		}
	}
}

// fileChunk is a batch of keys read from a file.
type fileChunk struct {
	buf   []byte
	ends  []int32 // end offset of each key in buf
	lines []int64 // line number (from 0) of each key
	bytes int64   // bytes of input the chunk covers
}

func (w *worker) runFile(ctx context.Context, chunks <-chan *fileChunk, free chan<- *fileChunk) {
	for {
		var c *fileChunk
		select {
		case c = <-chunks:
		case <-ctx.Done():
			return
		}
		if c == nil {
			return
		}
		start := int32(0)
		for i, end := range c.ends {
			w.route(uint64(c.lines[i]), c.buf[start:end])
			start = end
		}
		w.done += int64(len(c.ends))
		if pr := w.p.opts.Progress; pr != nil {
			pr.keys.Add(int64(len(c.ends)))
		}
		select {
		case free <- c:
		default:
		}
	}
}

// readKeys reads r into chunks until EOF, an invalid key or ctx is done;
// complete reports whether every key was read.
func (p *plan) readKeys(ctx context.Context, r io.Reader, chunks chan<- *fileChunk, free chan *fileChunk) (complete bool, err error) {
	name := labelOr(p.opts.KeysFromName, "keys")
	br := bufio.NewReaderSize(r, 64<<10)
	get := func() *fileChunk {
		select {
		case c := <-free:
			c.buf, c.ends, c.lines, c.bytes = c.buf[:0], c.ends[:0], c.lines[:0], 0
			return c
		default:
			return &fileChunk{buf: make([]byte, 0, chunkKeys*32), ends: make([]int32, 0, chunkKeys), lines: make([]int64, 0, chunkKeys)}
		}
	}
	c := get()
	send := func() bool {
		if ctx.Err() != nil {
			return false
		}
		if pr := p.opts.Progress; pr != nil {
			pr.bytes.Add(c.bytes)
		}
		select {
		case chunks <- c:
			c = get()
			return true
		case <-ctx.Done():
			return false
		}
	}
	for line := int64(0); ; line++ {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return false, fmt.Errorf("%w: %s:%d: line longer than %d bytes: memcached keys are limited to %d", ErrKey, name, line+1, br.Size(), MaxKeyLen)
		}
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("sim: read %s: %w", name, err)
		}
		c.bytes += int64(len(b))
		k := b
		if n := len(k); n > 0 && k[n-1] == '\n' {
			k = k[:n-1]
		}
		if n := len(k); n > 0 && k[n-1] == '\r' {
			k = k[:n-1]
		}
		if len(k) > 0 {
			if msg := checkKey(k); msg != "" {
				return false, fmt.Errorf("%w: %s:%d: %s", ErrKey, name, line+1, msg)
			}
			c.buf = append(c.buf, k...)
			c.ends = append(c.ends, int32(len(c.buf)))
			c.lines = append(c.lines, line)
			if len(c.ends) == chunkKeys && !send() {
				return false, nil
			}
		}
		if err == io.EOF {
			break
		}
	}
	if len(c.ends) > 0 || c.bytes > 0 {
		return send(), nil
	}
	return true, nil
}

// route routes one key through every side and counts it.
func (w *worker) route(n uint64, key []byte) {
	w.req.Key = key
	for _, s := range w.sides {
		w.rs = mix64(w.seed ^ mix64(n))
		s.hits = s.hits[:0]
		w.rep.Reset()
		s.g.Route(context.Background(), &w.req, &w.rep)
		s.count()
	}
	if len(w.sides) == 2 {
		w.compare(n, key)
	}
}

// count counts the current key: for each pool, how many of its
// destinations hold the key, and for each server whether it does.
func (s *workerSide) count() {
	dests := distinct(s.hits)
	s.set = s.set[:0]
	for i := 0; i < len(dests); {
		pool := s.sp.pool[dests[i]]
		j := i
		for ; j < len(dests) && s.sp.pool[dests[j]] == pool; j++ {
			s.set = append(s.set, s.sp.server[dests[j]])
		}
		s.poolHist[pool][min(j-i, maxReplication)]++
		i = j
	}
	s.set = distinct(s.set)
	s.hist[min(len(s.set), maxReplication)]++
	for _, id := range s.set {
		s.keys[id]++
	}
}

// distinct sorts ids in place and removes duplicates.
func distinct(ids []int32) []int32 {
	if len(ids) < 2 {
		return ids
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	out := ids[:1]
	for _, id := range ids[1:] {
		if id != out[len(out)-1] {
			out = append(out, id)
		}
	}
	return out
}

// diff returns a minus b for sorted sets.
func diff(dst, a, b []int32) []int32 {
	dst = dst[:0]
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			dst = append(dst, x)
		}
	}
	return dst
}

const none = -1

func (w *worker) compare(n uint64, key []byte) {
	a, b := w.sides[0].set, w.sides[1].set
	if slices.Equal(a, b) {
		return
	}
	w.moved++
	if len(b) == 0 {
		w.orphaned++
	}
	w.diffA = diff(w.diffA, a, b)
	w.diffB = diff(w.diffB, b, a)
	for _, id := range w.diffA {
		w.lost[id]++
	}
	for _, id := range w.diffB {
		w.gained[id]++
	}
	from, to := w.diffA, w.diffB
	cross := false
	switch {
	case len(from) == 0:
		for _, t := range to {
			w.pair(none, t)
		}
	case len(to) == 0:
		for _, f := range from {
			w.pair(f, none)
		}
	default:
		for _, f := range from {
			for _, t := range to {
				w.pair(f, t)
				if w.p.kept[f] && w.p.kept[t] {
					cross = true
				}
			}
		}
	}
	if cross {
		w.cross++
		if len(w.examples) < MaxExamples {
			w.examples = append(w.examples, Example{n: n, Key: string(key), From: w.p.names(a), To: w.p.names(b)})
		}
	}
}

func (w *worker) pair(from, to int32) {
	if w.pairs != nil {
		n := int32(len(w.p.servers)) + 1
		w.pairs[(from+1)*n+(to+1)]++
		return
	}
	w.pairMap[[2]int32{from, to}]++
}

func (p *plan) names(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = p.servers[id]
	}
	return out
}

// label describes the key source.
func (p *plan) keySource() string {
	if p.pattern != nil {
		return "pattern " + strconv.Quote(p.pattern.String())
	}
	return "file " + labelOr(p.opts.KeysFromName, "(reader)")
}
