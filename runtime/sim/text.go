package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/mc"
)

// maxMoveRows is how many server pairs the text report lists.
const maxMoveRows = 12

// WriteJSON writes r as indented JSON followed by a newline.
func WriteJSON(w io.Writer, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes r as a report for people: a header, a table of the
// servers, and what the numbers mean (replication, balance, moves).
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	r.writeHeader(&b)
	switch {
	case r.Movement == nil:
		r.writeSingle(&b)
	default:
		r.writeMovement(&b)
	}
	for _, n := range r.Notes {
		b.WriteString("note: " + n + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Title is a one-line description of the run, used by the reports and the
// plots: "prod.json, op set, 1000 keys" and the like.
func (r *Result) Title() string {
	t := labelOr(r.Config, "config")
	switch {
	case r.Compare != "" || r.Movement != nil && len(r.Down) == 0:
		t += " → " + labelOr(r.Compare, "config 2")
	case len(r.Down) > 0:
		t += " with " + strings.Join(r.Down, ", ") + " down"
	}
	t += ", op " + r.Op + ", " + Count(r.Keys)
	if r.Partial && r.Requested > 0 {
		t += " of " + Count(r.Requested)
	}
	t += " keys"
	if r.Partial {
		t += " (partial)"
	}
	return t
}

func (r *Result) writeHeader(b *strings.Builder) {
	fmt.Fprintf(b, "mcroute simulate: %s\n", r.Title())
	if r.Partial {
		fmt.Fprintf(b, "PARTIAL RESULT: interrupted after %d keys\n", r.Keys)
	}
	op, _ := mc.ParseOp(r.Op)
	what := "where each key is stored; reads may reach other servers (see --op get)"
	switch {
	case op.IsGetLike():
		what = "the servers that answer each key's reads (healthy servers hit)"
	case !op.IsUpdateLike():
		what = "the servers each key's " + r.Op + " reaches"
	}
	fmt.Fprintf(b, "op %s: %s\n", r.Op, what)
	fmt.Fprintf(b, "%d keys from %s, seed %d\n", r.Keys, r.KeySource, r.Seed)
	if len(r.Down) > 0 {
		fmt.Fprintf(b, "down: %s (every request answered %s)\n", strings.Join(r.Down, ", "), r.DownResult)
	}
	b.WriteString("\n")
}

// verb says what reaching a server means for op: "stored on", "read from".
func verb(op string) string {
	o, _ := mc.ParseOp(op)
	switch {
	case o.IsGetLike():
		return "read from"
	case o.IsUpdateLike():
		return "stored on"
	}
	return "sent to"
}

func pct(x float64) string { return strconv.FormatFloat(x*100, 'f', 2, 64) + "%" }

func signedPct(x float64) string {
	s := pct(x)
	if x >= 0 {
		s = "+" + s
	}
	return s
}

func (r *Result) writeSingle(b *strings.Builder) {
	d := &r.Distribution
	t := newTable("server", "<", "pools", "<", "keys", "share", "ideal", "deviation")
	if d.Weighted {
		t = newTable("server", "<", "pools", "<", "weight", "keys", "share", "ideal", "deviation")
	}
	for _, s := range d.Servers {
		row := []string{s.Server, strings.Join(s.Pools, ",")}
		if d.Weighted {
			w := "-"
			if s.Weight != nil {
				w = strconv.FormatFloat(*s.Weight, 'g', -1, 64)
			}
			row = append(row, w)
		}
		row = append(row, strconv.FormatInt(s.Keys, 10), pct(s.Share), pct(s.IdealShare), deviation(s))
		t.add(row...)
	}
	t.write(b)
	b.WriteString("\n")
	r.writeSummary(b, "", d)
	if d.Weighted {
		b.WriteString("weighted pools: a server's ideal share is its weight's part of its pool's keys (WeightedCh3)\n")
	}
}

func deviation(s ServerStat) string {
	if s.ideal == 0 && s.IdealShare == 0 {
		return "-"
	}
	return signedPct(s.Deviation)
}

// writeSummary describes replication and balance of one distribution.
func (r *Result) writeSummary(b *strings.Builder, prefix string, d *Distribution) {
	rep := d.Replication
	v := verb(r.Op)
	switch {
	case r.Keys == 0:
		b.WriteString(prefix + "no keys\n")
		return
	case rep.Min == rep.Max && rep.Max == 0:
		fmt.Fprintf(b, "%sno key is %s any server\n", prefix, v)
	case rep.Min == rep.Max && rep.Max == 1:
		fmt.Fprintf(b, "%severy key is %s 1 server\n", prefix, v)
	case rep.Min == rep.Max:
		fmt.Fprintf(b, "%severy key is %s %d servers (replication factor %d): shares sum to %s\n", prefix, v, rep.Max, rep.Max, pct(rep.Mean))
	default:
		var parts []string
		for _, h := range rep.Histogram {
			parts = append(parts, fmt.Sprintf("%d: %d keys (%s)", h.Servers, h.Keys, pct(frac(h.Keys, r.Keys))))
		}
		fmt.Fprintf(b, "%skeys are %s %d to %d servers (replication factor %.2f, shares sum to %s); servers per key: %s\n",
			prefix, v, rep.Min, rep.Max, rep.Mean, pct(rep.Mean), strings.Join(parts, ", "))
	}
	if len(rep.Histogram) > 0 && rep.Histogram[0].Servers == 0 && rep.Max > 0 {
		fmt.Fprintf(b, "%s%d keys (%s) are %s no server (the request fails, or the route answers it without a server)\n",
			prefix, rep.Histogram[0].Keys, pct(frac(rep.Histogram[0].Keys, r.Keys)), v)
	}
	if d.MaxMeanRatio > 0 {
		fmt.Fprintf(b, "%smax/mean %.3f, worst deviation from ideal %s\n", prefix, d.MaxMeanRatio, signedPct(d.WorstDeviation))
	}
	for _, ps := range d.Pools {
		b.WriteString(prefix + poolLine(r, ps) + "\n")
	}
}

// poolLine says how the keys of one pool are held, e.g. "pool A (2
// servers): every key is stored on both servers".
func poolLine(r *Result, ps PoolStat) string {
	v := verb(r.Op)
	head := fmt.Sprintf("pool %s (%d servers): ", ps.Pool, ps.Servers)
	if ps.Servers == 1 {
		head = fmt.Sprintf("pool %s (1 server): ", ps.Pool)
	}
	rep := ps.Replication
	if ps.Keys == 0 {
		return head + "no key is " + v + " it"
	}
	var on string
	switch {
	case rep.Min == rep.Max && rep.Max == ps.Servers && ps.Servers == 2:
		on = "both servers"
	case rep.Min == rep.Max && rep.Max == ps.Servers && ps.Servers > 2:
		on = fmt.Sprintf("all %d servers", ps.Servers)
	case rep.Min == rep.Max && rep.Max == 1:
		on = "1 server"
	case rep.Min == rep.Max:
		on = fmt.Sprintf("%d of its servers", rep.Max)
	default:
		on = fmt.Sprintf("%d to %d of its servers (%.2f on average)", rep.Min, rep.Max, rep.Mean)
	}
	if ps.Keys == r.Keys {
		return head + "every key is " + v + " " + on
	}
	if rep.Min == rep.Max {
		return fmt.Sprintf("%s%d keys (%s), each %s %s", head, ps.Keys, pct(ps.Share), v, on)
	}
	return fmt.Sprintf("%s%d keys (%s), %s %s", head, ps.Keys, pct(ps.Share), v, on)
}

func (r *Result) writeMovement(b *strings.Builder) {
	m := r.Movement
	shareOf := func(d *Distribution) map[string]float64 {
		out := map[string]float64{}
		for _, s := range d.Servers {
			out[s.Server] = s.Share
		}
		return out
	}
	before, after := shareOf(&r.Distribution), shareOf(r.After)
	t := newTable("server", "<", "status", "<", "before", "share", "after", "share", "lost", "gained")
	for _, c := range m.Changes {
		bs, as := "-", "-"
		if v, ok := before[c.Server]; ok {
			bs = pct(v)
		}
		if v, ok := after[c.Server]; ok && c.Status != "down" {
			as = pct(v)
		}
		t.add(c.Server, c.Status, strconv.FormatInt(c.Before, 10), bs, strconv.FormatInt(c.After, 10), as,
			strconv.FormatInt(c.Lost, 10), strconv.FormatInt(c.Gained, 10))
	}
	t.write(b)
	b.WriteString("\n")
	if len(r.Down) > 0 {
		r.writeDown(b)
	}
	fmt.Fprintf(b, "moved: %d keys (%s) changed servers; ideal minimum %s\n", m.MovedKeys, pct(m.MovedFraction), pct(m.IdealMovedFraction))
	if m.OrphanedKeys > 0 && len(r.Down) == 0 {
		fmt.Fprintf(b, "%d keys (%s) were %s a server before and are %s none after\n", m.OrphanedKeys, pct(frac(m.OrphanedKeys, r.Keys)), verb(r.Op), verb(r.Op))
	}
	if len(m.Moves) > 0 {
		b.WriteString("moves by server pair (ideal: the least a perfect hash moves):\n")
		t := newTable("from", "<", "", "to", "<", "keys", "share", "ideal", "", "<")
		for _, mv := range m.Moves[:min(len(m.Moves), maxMoveRows)] {
			flag := ""
			if mv.BetweenKept {
				flag = "<- between kept servers"
				if len(r.Down) > 0 {
					flag = "<- between servers that stay up"
				}
			}
			t.add(labelOr(mv.From, "(none)"), "→", labelOr(mv.To, "(none)"), strconv.FormatInt(mv.Keys, 10), pct(mv.Fraction), pct(mv.IdealFraction), flag)
		}
		t.indent = "  "
		t.write(b)
		if len(m.Moves) > maxMoveRows {
			fmt.Fprintf(b, "  ... and %d more pairs\n", len(m.Moves)-maxMoveRows)
		}
	}
	kept := "servers kept in both configs"
	if len(r.Down) > 0 {
		kept = "servers that stay up"
	}
	if m.KeptServerMoves == 0 {
		fmt.Fprintf(b, "no key moved between %s\n", kept)
	} else {
		fmt.Fprintf(b, "WARNING: %d keys (%s) moved between %s", m.KeptServerMoves, pct(frac(m.KeptServerMoves, r.Keys)), kept)
		if r.Compare != "" {
			b.WriteString(" (a consistent hash such as Ch3 moves only the keys of changed servers)")
		}
		b.WriteString(", e.g.\n")
		t := newTable("key", "<", "from", "<", "", "to", "<")
		for _, e := range m.Examples {
			t.add(e.Key, strings.Join(e.From, ","), "→", strings.Join(e.To, ","))
		}
		t.indent = "  "
		t.noHeader = true
		t.write(b)
	}
	b.WriteString("\n")
	r.writeSummary(b, "before: ", &r.Distribution)
	r.writeSummary(b, "after:  ", r.After)
}

// writeDown tells where the keys of the down servers went.
func (r *Result) writeDown(b *strings.Builder) {
	m := r.Movement
	for _, c := range m.Changes {
		if c.Status != "down" {
			continue
		}
		fmt.Fprintf(b, "%d keys (%s) are %s %s while it is up; with it down:\n", c.Before, pct(frac(c.Before, r.Keys)), verb(r.Op), c.Server)
		t := newTable("keys", "share", "", "<")
		for _, mv := range m.Moves {
			if mv.From != c.Server {
				continue
			}
			to := "now go to " + mv.To
			if mv.To == "" {
				to = "go to no new server"
			}
			t.add(strconv.FormatInt(mv.Keys, 10), pct(frac(mv.Keys, c.Before)), to)
		}
		t.indent = "  "
		t.noHeader = true
		t.write(b)
	}
	if m.OrphanedKeys == 0 {
		fmt.Fprintf(b, "every key is still %s at least one server\n\n", verb(r.Op))
		return
	}
	fmt.Fprintf(b, "%d keys (%s) are now %s no server: the request fails\n\n", m.OrphanedKeys, pct(frac(m.OrphanedKeys, r.Keys)), verb(r.Op))
}

// table is a plain-text table: columns are right-aligned unless their name
// is followed by "<" in newTable's list.
type table struct {
	head     []string
	left     []bool
	rows     [][]string
	indent   string
	noHeader bool
}

func newTable(cols ...string) *table {
	t := &table{}
	for _, c := range cols {
		if c == "<" {
			t.left[len(t.left)-1] = true
			continue
		}
		t.head = append(t.head, c)
		t.left = append(t.left, false)
	}
	return t
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(b *strings.Builder) {
	width := make([]int, len(t.head))
	all := t.rows
	if !t.noHeader {
		all = append([][]string{t.head}, t.rows...)
	}
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], runeLen(c))
		}
	}
	for _, r := range all {
		var line strings.Builder
		line.WriteString(t.indent)
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-runeLen(c))
			if t.left[i] {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}

func runeLen(s string) int { return len([]rune(s)) }
