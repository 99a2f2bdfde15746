package sim

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/mcroute/mcroute/internal/diag"
)

// Result is the outcome of a simulation. It encodes to the JSON of
// `mcroute simulate --format json`: the fields of the config's
// Distribution at the top level, After and the Movement fields (also at the
// top level, moved_fraction included) with a comparison.
type Result struct {
	// Config labels the simulated config (Options.Name).
	Config string `json:"config"`
	// Compare labels the compared config, in compare mode.
	Compare string `json:"compare,omitempty"`
	// Down lists the servers failing, in down mode (as given).
	Down []string `json:"down,omitempty"`
	// DownResult is what the down servers answer ("tko", ...).
	DownResult string `json:"down_result,omitempty"`
	// Op is the operation routed ("set", "get", ...).
	Op string `json:"op"`
	// Keys is the number of keys simulated.
	Keys int64 `json:"keys"`
	// KeySource describes the keys: `pattern "key:{n}"` or `file NAME`.
	KeySource string `json:"key_source"`
	// Seed is Options.Seed.
	Seed uint64 `json:"seed"`
	// Partial is set when the run was interrupted: only Keys keys were
	// simulated.
	Partial bool `json:"partial"`
	// Requested is, in a partial run, the number of keys that were to be
	// generated (0 when they were read from Options.KeysFrom).
	Requested int64 `json:"requested,omitempty"`

	// Distribution is where the keys went through Config (healthy, in
	// down mode).
	Distribution

	// After is the distribution through Compare, or through Config with
	// the Down servers failing; nil for a single config.
	After *Distribution `json:"after,omitempty"`

	// Movement compares Distribution with After; nil for a single config.
	*Movement

	// Notes are remarks on the run (rate limits hit, unsupported routes
	// reached, ...).
	Notes []string `json:"notes,omitempty"`

	// Warnings are route.Build's warnings for the configs (route kinds
	// and options mcroute does not execute), for the caller to print.
	Warnings diag.List `json:"-"`
}

// Distribution is how the keys spread over the servers of one graph.
type Distribution struct {
	// Servers lists every server of the pools the graph uses, in the
	// order they first appear (pools by name, servers in pool order).
	Servers []ServerStat `json:"servers"`
	// Replication counts the servers each key is stored on.
	Replication Replication `json:"replication"`
	// Pools tells, for each pool the graph uses (in config order), how
	// many keys reach it and on how many of its servers each is stored.
	Pools []PoolStat `json:"pools"`
	// MaxMeanRatio is the peak load over the mean: the largest ratio of a
	// server's key count to its ideal count, over the servers with a
	// non-zero ideal share. For one uniform pool the ideal is the mean,
	// so this is max/mean (1 is perfect); with several pools, or weights,
	// each server is measured against its own pool's mean (its weight's
	// part).
	MaxMeanRatio float64 `json:"max_mean_ratio"`
	// WorstDeviation is the Deviation of largest magnitude.
	WorstDeviation float64 `json:"worst_deviation"`
	// Weighted is set when a pool is hashed with WeightedCh3 (the servers
	// then carry their Weight).
	Weighted bool `json:"weighted"`
}

// ServerStat is one server's part of a Distribution.
type ServerStat struct {
	// Server is the server's host:port (unix:PATH for sockets), the
	// identity that joins pools and configs.
	Server string `json:"server"`
	// Pools lists the pools the server is in, sorted.
	Pools []string `json:"pools"`
	// Keys is the number of keys the server holds (or answers, for a
	// get-like Op).
	Keys int64 `json:"keys"`
	// Share is Keys divided by the number of keys. Shares sum to the
	// replication factor (more than 1 when keys are stored on several
	// servers).
	Share float64 `json:"share"`
	// IdealShare is the share a perfect hash would give the server: the
	// requests that reached each of its pools, split evenly over the
	// pool's servers (in proportion to the weights for a pool hashed with
	// WeightedCh3; nothing for down servers).
	IdealShare float64 `json:"ideal_share"`
	// Deviation is Share/IdealShare - 1 (0 when IdealShare is 0).
	Deviation float64 `json:"deviation"`
	// Weight is the server's WeightedCh3 weight, when it has one.
	Weight *float64 `json:"weight,omitempty"`
	// Down is set for a server failing in down mode.
	Down bool `json:"down,omitempty"`

	ideal float64 // ideal key count
}

// PoolStat is one pool's part of a Distribution.
type PoolStat struct {
	// Pool is the pool's name.
	Pool string `json:"pool"`
	// Servers is the number of servers in the pool.
	Servers int `json:"servers"`
	// Keys is the number of keys stored on at least one server of the
	// pool (answered by one, for a get-like Op).
	Keys int64 `json:"keys"`
	// Share is Keys divided by the number of keys.
	Share float64 `json:"share"`
	// Replication counts, for the keys of the pool, the servers of the
	// pool each is stored on (Min is at least 1 when Keys > 0). When Min
	// equals Servers the pool holds every one of its keys on all its
	// servers.
	Replication Replication `json:"replication"`
}

// Replication counts, for each key, the servers it is stored on.
type Replication struct {
	// Mean is the replication factor: the mean number of servers per key
	// (the sum of the servers' shares).
	Mean float64 `json:"mean"`
	// Min and Max are the fewest and most servers a key reached.
	Min int `json:"min"`
	Max int `json:"max"`
	// Histogram gives the number of keys per server count, in increasing
	// server count; counts without keys are left out. Keys reaching 64 or
	// more servers are counted under 64.
	Histogram []ReplicationCount `json:"histogram"`
}

// ReplicationCount is one bar of Replication.Histogram.
type ReplicationCount struct {
	Servers int   `json:"servers"`
	Keys    int64 `json:"keys"`
}

// Movement compares two distributions of the same keys.
type Movement struct {
	// MovedKeys is the number of keys whose set of servers changed.
	MovedKeys int64 `json:"moved_keys"`
	// MovedFraction is MovedKeys divided by the number of keys.
	MovedFraction float64 `json:"moved_fraction"`
	// IdealMovedFraction is the least fraction of keys that must move to
	// go from the first ideal distribution to the second: the larger of
	// the total ideal share the servers lose and the total they gain
	// (capped at 1). For consistent hashing from n to n+1 servers it is
	// 1/(n+1).
	IdealMovedFraction float64 `json:"ideal_moved_fraction"`
	// Changes lists every server of either side with its key counts.
	Changes []ServerChange `json:"changes"`
	// Moves counts the moved keys per (from, to) server pair, most keys
	// first. A key stored on several servers contributes one pair per
	// server it left and server it joined.
	Moves []Move `json:"moves"`
	// OrphanedKeys counts the keys stored on some server before and on
	// none after (the request fails, or the route drops it).
	OrphanedKeys int64 `json:"orphaned_keys"`
	// KeptServerMoves counts the keys that moved between two servers that
	// are in both configs (and not down): moves a consistent hash avoids.
	KeptServerMoves int64 `json:"kept_server_moves"`
	// Examples lists the first of those keys (by key number), at most
	// MaxExamples.
	Examples []Example `json:"examples,omitempty"`
}

// ServerChange is one server's key counts before and after.
type ServerChange struct {
	Server string `json:"server"`
	// Status is "kept" (in both), "added", "removed" or "down".
	Status string `json:"status"`
	Before int64  `json:"before"`
	After  int64  `json:"after"`
	// Lost counts the keys stored on the server before and not after;
	// Gained the reverse.
	Lost   int64 `json:"lost"`
	Gained int64 `json:"gained"`
}

// Move is the number of keys that moved from one server to another. From is
// empty for keys that were stored nowhere before, To for keys stored
// nowhere after.
type Move struct {
	From     string  `json:"from,omitempty"`
	To       string  `json:"to,omitempty"`
	Keys     int64   `json:"keys"`
	Fraction float64 `json:"fraction"`
	// IdealFraction is the share of the keys a perfect hash would move
	// from From to To: the ideal minimum of the whole change (see
	// Movement.IdealMovedFraction) split over the pairs in proportion to
	// what each server loses and gains. It is 0 between two servers whose
	// ideal share does not change.
	IdealFraction float64 `json:"ideal_fraction"`
	// BetweenKept flags a move between two servers present in both
	// configs (and not down): a move a consistent hash avoids.
	BetweenKept bool `json:"between_kept,omitempty"`
}

// Example is a key that moved between two kept servers.
type Example struct {
	Key  string   `json:"key"`
	From []string `json:"from"`
	To   []string `json:"to"`

	n uint64 // key number, for ordering
}

// idealMoves returns the key moves, per (from, to) server pair (none for
// nowhere), that take the ideal key counts before to those after with the
// fewest moves: every server that loses ideal keys sends them to the
// servers that gain, in proportion to their gains; what the losers lose
// beyond the total gain goes nowhere, and what the gainers gain beyond the
// total loss comes from nowhere. The moves sum to the larger of the total
// loss and the total gain, the least any distribution change moves.
//
// With downKeys set (a --down simulation: the keys each down server held,
// -1 for the others), only the down servers lose keys, all they held, and
// only the others gain: the servers that stay up ideally keep every key
// they had.
func idealMoves(before, after, downKeys []float64) map[[2]int32]float64 {
	delta := make([]float64, len(before)) // > 0 gain, < 0 loss
	for id := range before {
		delta[id] = after[id] - before[id]
		if downKeys != nil {
			switch {
			case downKeys[id] >= 0:
				delta[id] = -downKeys[id]
			case delta[id] < 0:
				delta[id] = 0
			}
		}
	}
	var loss, gain float64
	for _, d := range delta {
		if d > 0 {
			gain += d
		} else {
			loss -= d
		}
	}
	// Ignore the noise of float sums.
	const eps = 1e-9
	out := map[[2]int32]float64{}
	common := min(loss, gain)
	for i := range delta {
		l := -delta[i]
		if l <= eps {
			continue
		}
		if gain > eps {
			for j := range delta {
				if g := delta[j]; g > eps {
					out[[2]int32{int32(i), int32(j)}] = l / loss * g / gain * common
				}
			}
		}
		if loss-common > eps {
			out[[2]int32{int32(i), none}] = l / loss * (loss - common)
		}
	}
	if gain-common > eps {
		for j := range delta {
			if g := delta[j]; g > eps {
				out[[2]int32{none, int32(j)}] = g / gain * (gain - common)
			}
		}
	}
	return out
}

// round6 rounds to six decimals, so that JSON output is short and stable.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func frac(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// result merges the workers' counters.
func (p *plan) result(ws []*worker) *Result {
	o := p.opts
	r := &Result{Config: o.Name, Op: p.op.String(), KeySource: p.keySource(), Seed: o.Seed, Warnings: p.warnings}
	for _, w := range ws {
		r.Keys += w.done
	}
	dists := make([]*Distribution, len(p.sides))
	ideals := make([][]float64, len(p.sides))
	for i, sp := range p.sides {
		sends := make([]int64, len(sp.dests))
		keys := make([]int64, len(p.servers))
		var hist [maxReplication + 1]int64
		poolHist := make([][maxReplication + 1]int64, len(sp.pools))
		for _, w := range ws {
			s := w.sides[i]
			for pool, h := range s.poolHist {
				for k, v := range h {
					poolHist[pool][k] += v
				}
			}
			for d, v := range s.sends {
				sends[d] += v
			}
			for id, v := range s.keys {
				keys[id] += v
			}
			for k, v := range s.hist {
				hist[k] += v
			}
		}
		dists[i], ideals[i] = p.distribution(sp, sends, keys, hist[:], r.Keys)
		dists[i].Pools = poolStats(sp, poolHist, r.Keys)
	}
	r.Distribution = *dists[0]
	switch p.mode {
	case modeCompare:
		r.Compare = o.CompareName
	case modeDown:
		r.Down = o.Down
		res := o.DownResult
		if res == 0 {
			res = defaultDownResult
		}
		r.DownResult = res.String()
	}
	if p.mode != modeSingle {
		r.After = dists[1]
		r.Movement = p.movement(ws, dists, ideals, r.Keys)
	}
	var rate, unsupp uint64
	for _, w := range ws {
		rate += w.notesRate
		unsupp += w.notesUnsupp
	}
	if rate > 0 {
		r.Notes = append(r.Notes, strconv.FormatUint(rate, 10)+" requests were rate limited: the simulation's clock is frozen, so rate limits let only their burst through")
	}
	if unsupp > 0 {
		r.Notes = append(r.Notes, strconv.FormatUint(unsupp, 10)+" requests reached route kinds mcroute does not execute (answered local_error)")
	}
	return r
}

// distribution computes one side's table and its ideal key counts per
// server.
func (p *plan) distribution(sp *sidePlan, sends, keys []int64, hist []int64, total int64) (*Distribution, []float64) {
	n := len(p.servers)
	ideal := make([]float64, n)
	pools := make([][]string, n)
	weight := make([]*float64, n)
	down := make([]bool, n)
	for start := 0; start < len(sp.dests); {
		pool := sp.dests[start].Pool
		end := start
		var poolTotal int64
		var wsum float64
		ws := sp.weights[pool]
		w := func(d int) float64 {
			if sp.down[d] {
				return 0
			}
			if ws != nil {
				if idx := sp.dests[d].Index; idx < len(ws) {
					return ws[idx]
				}
				return 0
			}
			return 1
		}
		for end < len(sp.dests) && sp.dests[end].Pool == pool {
			poolTotal += sends[end]
			wsum += w(end)
			end++
		}
		for d := start; d < end; d++ {
			id := sp.server[d]
			if wsum > 0 {
				ideal[id] += float64(poolTotal) * w(d) / wsum
			}
			if !slices.Contains(pools[id], pool) {
				pools[id] = append(pools[id], pool)
			}
			if ws != nil && weight[id] == nil {
				v := ws[sp.dests[d].Index]
				weight[id] = &v
			}
			if sp.down[d] {
				down[id] = true
			}
		}
		start = end
	}
	dist := &Distribution{Weighted: len(sp.weights) > 0}
	var maxRatio float64
	for id, name := range p.servers {
		if !sp.present[id] {
			continue
		}
		sort.Strings(pools[id])
		st := ServerStat{Server: name, Pools: pools[id], Keys: keys[id], Share: round6(frac(keys[id], total)),
			Weight: weight[id], Down: down[id], ideal: ideal[id]}
		if total > 0 {
			st.IdealShare = round6(ideal[id] / float64(total))
		}
		if ideal[id] > 0 {
			st.Deviation = round6(float64(keys[id])/ideal[id] - 1)
			maxRatio = max(maxRatio, float64(keys[id])/ideal[id])
			if math.Abs(st.Deviation) > math.Abs(dist.WorstDeviation) {
				dist.WorstDeviation = st.Deviation
			}
		}
		dist.Servers = append(dist.Servers, st)
	}
	if maxRatio > 0 {
		dist.MaxMeanRatio = round6(maxRatio)
	}
	dist.Replication = replication(hist, total)
	return dist, ideal
}

// replication summarizes a histogram of keys by server count; the mean is
// over total keys.
func replication(hist []int64, total int64) Replication {
	rep := Replication{Min: -1, Histogram: []ReplicationCount{}}
	var placements int64
	for k, v := range hist {
		if v == 0 {
			continue
		}
		rep.Histogram = append(rep.Histogram, ReplicationCount{Servers: k, Keys: v})
		if rep.Min < 0 {
			rep.Min = k
		}
		rep.Max = k
		placements += int64(k) * v
	}
	if rep.Min < 0 {
		rep.Min = 0
	}
	rep.Mean = round6(frac(placements, total))
	return rep
}

// poolStats summarizes the pools of a side from their histograms.
func poolStats(sp *sidePlan, hists [][maxReplication + 1]int64, total int64) []PoolStat {
	out := make([]PoolStat, 0, len(sp.pools))
	for i, name := range sp.pools {
		ps := PoolStat{Pool: name}
		for d := range sp.dests {
			if sp.pool[d] == int32(i) {
				ps.Servers++
			}
		}
		for _, v := range hists[i][1:] {
			ps.Keys += v
		}
		ps.Share = round6(frac(ps.Keys, total))
		ps.Replication = replication(hists[i][:], ps.Keys)
		out = append(out, ps)
	}
	return out
}

func (p *plan) movement(ws []*worker, dists []*Distribution, ideals [][]float64, total int64) *Movement {
	m := &Movement{}
	n := len(p.servers)
	lost := make([]int64, n)
	gained := make([]int64, n)
	pairs := map[[2]int32]int64{}
	for _, w := range ws {
		m.MovedKeys += w.moved
		m.KeptServerMoves += w.cross
		m.OrphanedKeys += w.orphaned
		m.Examples = append(m.Examples, w.examples...)
		for id := range n {
			lost[id] += w.lost[id]
			gained[id] += w.gained[id]
		}
		if w.pairs != nil {
			for i, v := range w.pairs {
				if v != 0 {
					pairs[[2]int32{int32(i/(n+1)) - 1, int32(i%(n+1)) - 1}] += v
				}
			}
		}
		for k, v := range w.pairMap {
			pairs[k] += v
		}
	}
	m.MovedFraction = round6(frac(m.MovedKeys, total))
	sort.Slice(m.Examples, func(i, j int) bool { return m.Examples[i].n < m.Examples[j].n })
	if len(m.Examples) > MaxExamples {
		m.Examples = m.Examples[:MaxExamples]
	}
	var downKeys []float64
	if p.mode == modeDown {
		downKeys = make([]float64, n)
		for i := range downKeys {
			downKeys[i] = -1
		}
		for d, isDown := range p.sides[1].down {
			if id := p.sides[1].server[d]; isDown {
				downKeys[id] = float64(lost[id])
			}
		}
	}
	idealPairs := idealMoves(ideals[0], ideals[1], downKeys)
	var idealMoved float64
	for _, v := range idealPairs {
		idealMoved += v
	}
	if total > 0 {
		m.IdealMovedFraction = round6(min(1, idealMoved/float64(total)))
	}
	keysOf := func(d *Distribution) map[string]ServerStat {
		out := map[string]ServerStat{}
		for _, s := range d.Servers {
			out[s.Server] = s
		}
		return out
	}
	before, after := keysOf(dists[0]), keysOf(dists[1])
	for id, name := range p.servers {
		b, inB := before[name]
		a, inA := after[name]
		c := ServerChange{Server: name, Before: b.Keys, After: a.Keys, Lost: lost[id], Gained: gained[id]}
		switch {
		case a.Down:
			c.Status = "down"
		case inB && inA:
			c.Status = "kept"
		case inA:
			c.Status = "added"
		default:
			c.Status = "removed"
		}
		m.Changes = append(m.Changes, c)
	}
	name := func(id int32) string {
		if id == none {
			return ""
		}
		return p.servers[id]
	}
	for k := range idealPairs {
		if _, ok := pairs[k]; !ok {
			pairs[k] = 0
		}
	}
	for k, v := range pairs {
		mv := Move{From: name(k[0]), To: name(k[1]), Keys: v, Fraction: round6(frac(v, total)),
			BetweenKept: k[0] != none && k[1] != none && p.kept[k[0]] && p.kept[k[1]]}
		if total > 0 {
			mv.IdealFraction = round6(idealPairs[k] / float64(total))
		}
		m.Moves = append(m.Moves, mv)
	}
	sort.Slice(m.Moves, func(i, j int) bool {
		a, b := m.Moves[i], m.Moves[j]
		if a.Keys != b.Keys {
			return a.Keys > b.Keys
		}
		if a.IdealFraction != b.IdealFraction {
			return a.IdealFraction > b.IdealFraction
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	if m.Moves == nil {
		m.Moves = []Move{}
	}
	return m
}
