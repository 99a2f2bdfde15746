package sim

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"
)

// The plots are bar charts laid out once in points and drawn on a canvas:
// SVG text (WriteSVG) or a PNG raster with a built-in bitmap font
// (WritePNG).
//
// A single config gives one bar per server, its share of the keys, with
// the server's ideal share drawn as a dashed line across the bar. A
// comparison (--compare, --down) gives two bars per server, before and
// after; the part of the before bar whose keys moved away, and the part of
// the after bar whose keys moved in, are drawn in a lighter and a darker
// tone, so that a consistent hash shows new colour only on the changed
// servers.

var (
	colText     = color.RGBA{0x22, 0x22, 0x22, 0xff}
	colMuted    = color.RGBA{0x66, 0x66, 0x66, 0xff}
	colGrid     = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	colAxis     = color.RGBA{0x44, 0x44, 0x44, 0xff}
	colBar      = color.RGBA{0x4c, 0x78, 0xa8, 0xff}
	colBefore   = color.RGBA{0x4c, 0x78, 0xa8, 0xff}
	colLost     = color.RGBA{0xa9, 0xc1, 0xdc, 0xff}
	colAfter    = color.RGBA{0xf5, 0x85, 0x18, 0xff}
	colGained   = color.RGBA{0xb8, 0x4a, 0x00, 0xff}
	colDown     = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	colIdeal    = color.RGBA{0x00, 0x00, 0x00, 0xff}
	colWarning  = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	colGood     = color.RGBA{0x2e, 0x7d, 0x32, 0xff}
	colBackdrop = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

type anchor uint8

const (
	anchorStart anchor = iota
	anchorMiddle
	anchorEnd
)

type textSize uint8

const (
	sizeNormal textSize = iota
	sizeTitle
)

// charWidth is the advance of one character in points, for layout: a
// little more than the bitmap font's and sans-serif's average.
func charWidth(s textSize) float64 {
	if s == sizeTitle {
		return 9
	}
	return 6.6
}

func textWidth(s string, size textSize) float64 {
	return float64(len([]rune(s))) * charWidth(size)
}

// canvas is what a chart is drawn on, in points, y downwards.
type canvas interface {
	rect(x, y, w, h float64, c color.RGBA)
	// hline and vline draw axis-parallel lines of the given width.
	hline(x1, x2, y, width float64, c color.RGBA, dashed bool)
	vline(x, y1, y2, width float64, c color.RGBA)
	// text draws s with its baseline at y; vertical text reads bottom to
	// top, with the anchor applying along its direction.
	text(x, y float64, s string, size textSize, a anchor, c color.RGBA, vertical bool)
}

// chart is a laid-out bar chart.
type chart struct {
	title    string
	subtitle []styledLine
	legend   []legendItem
	groups   []barGroup
	yMax     float64 // top of the y axis, as a share
	ySteps   []float64
	width    float64
	height   float64
	plotX    float64 // left edge of the plot area
	plotY    float64 // top edge
	plotW    float64
	plotH    float64
	slot     float64 // width per group
	vertical bool    // server labels are vertical
	values   bool    // print values above bars
}

type styledLine struct {
	text string
	col  color.RGBA
}

type legendItem struct {
	label  string
	col    color.RGBA
	dashed bool // a dashed line instead of a swatch
}

type barGroup struct {
	label  string
	bars   []bar
	status string // ServerChange.Status, in a comparison
}

// displayLabel is the group's label under the chart: the server, and its
// status when it is not kept.
func (g barGroup) displayLabel() string {
	if g.status != "" && g.status != "kept" {
		return g.label + " (" + g.status + ")"
	}
	return g.label
}

// bar is one bar: value is its height (a share); part is a sub-share drawn
// in partCol at the bar's top (before: keys lost; after: keys gained).
type bar struct {
	value   float64
	part    float64
	col     color.RGBA
	partCol color.RGBA
	ideal   float64 // dashed marker, < 0 for none
}

// newChart lays out the chart of r.
func newChart(r *Result) *chart {
	c := &chart{title: "mcroute simulate: " + r.Title()}
	if r.Movement == nil {
		c.single(r)
	} else {
		c.compare(r)
	}
	c.layout()
	return c
}

func (c *chart) single(r *Result) {
	d := &r.Distribution
	for _, s := range d.Servers {
		c.groups = append(c.groups, barGroup{label: s.Server, bars: []bar{{value: s.Share, col: colBar, ideal: s.IdealShare}}})
	}
	c.legend = []legendItem{{label: "share of keys", col: colBar}, {label: "ideal share", col: colIdeal, dashed: true}}
	c.subtitle = append(c.subtitle, styledLine{summaryLine(r, d), colMuted})
	if d.MaxMeanRatio > 0 {
		c.subtitle = append(c.subtitle, styledLine{fmt.Sprintf("max/mean %.3f · worst deviation from ideal %s", d.MaxMeanRatio, signedPct(d.WorstDeviation)), colMuted})
	}
	// The pools, when one holds keys on several servers or there are
	// several: how many of its servers hold each key.
	show := len(d.Pools) > 1
	for _, ps := range d.Pools {
		show = show || ps.Replication.Max > 1
	}
	if show {
		for i, ps := range d.Pools {
			if i == maxPoolLines {
				c.subtitle = append(c.subtitle, styledLine{fmt.Sprintf("... and %d more pools", len(d.Pools)-i), colMuted})
				break
			}
			c.subtitle = append(c.subtitle, styledLine{poolLine(r, ps), colText})
		}
	}
}

// maxPoolLines is how many pools a chart's subtitle describes.
const maxPoolLines = 4

func (c *chart) compare(r *Result) {
	m := r.Movement
	before, after := map[string]ServerStat{}, map[string]ServerStat{}
	for _, s := range r.Distribution.Servers {
		before[s.Server] = s
	}
	for _, s := range r.After.Servers {
		after[s.Server] = s
	}
	for _, ch := range m.Changes {
		b, a := before[ch.Server], after[ch.Server]
		g := barGroup{label: ch.Server, status: ch.Status}
		g.bars = []bar{
			{value: b.Share, part: frac(ch.Lost, r.Keys), col: colBefore, partCol: colLost, ideal: -1},
			{value: a.Share, part: frac(ch.Gained, r.Keys), col: colAfter, partCol: colGained, ideal: -1},
		}
		if _, ok := before[ch.Server]; ok {
			g.bars[0].ideal = b.IdealShare
		}
		if _, ok := after[ch.Server]; ok {
			g.bars[1].ideal = a.IdealShare
		}
		c.groups = append(c.groups, g)
	}
	c.legend = []legendItem{
		{label: "before", col: colBefore}, {label: "moved away", col: colLost},
		{label: "after", col: colAfter}, {label: "moved in", col: colGained},
		{label: "ideal", col: colIdeal, dashed: true},
	}
	c.subtitle = append(c.subtitle, styledLine{fmt.Sprintf("%s of keys moved (%d); ideal minimum %s", pct(m.MovedFraction), m.MovedKeys, pct(m.IdealMovedFraction)), colMuted})
	kept := "servers kept in both configs"
	if len(r.Down) > 0 {
		kept = "servers that stay up"
	}
	if m.KeptServerMoves == 0 {
		c.subtitle = append(c.subtitle, styledLine{"no key moved between " + kept, colGood})
	} else {
		c.subtitle = append(c.subtitle, styledLine{fmt.Sprintf("%s of keys (%d) moved between %s", pct(frac(m.KeptServerMoves, r.Keys)), m.KeptServerMoves, kept), colWarning})
	}
	if m.OrphanedKeys > 0 {
		c.subtitle = append(c.subtitle, styledLine{fmt.Sprintf("%s of keys (%d) are %s no server after", pct(frac(m.OrphanedKeys, r.Keys)), m.OrphanedKeys, verb(r.Op)), colWarning})
	}
}

// summaryLine is the replication part of the text summary, in one line.
func summaryLine(r *Result, d *Distribution) string {
	rep := d.Replication
	v := verb(r.Op)
	switch {
	case r.Keys == 0:
		return "no keys"
	case rep.Min == rep.Max && rep.Max == 1:
		return "every key is " + v + " 1 server"
	case rep.Min == rep.Max:
		return fmt.Sprintf("every key is %s %d servers: replication factor %d, shares sum to %s", v, rep.Max, rep.Max, pct(rep.Mean))
	}
	return fmt.Sprintf("keys are %s %d to %d servers: replication factor %.2f, shares sum to %s", v, rep.Min, rep.Max, rep.Mean, pct(rep.Mean))
}

const (
	marginLeft   = 64
	marginRight  = 24
	marginBottom = 28
	plotHeight   = 300
	minWidth     = 640
	// maxPlotWidth is how wide the plot area may grow to fit horizontal
	// server labels.
	maxPlotWidth = 1000
	// maxTitleWidth is how wide a long title may make the chart; longer
	// titles are cut.
	maxTitleWidth = 1000
)

func (c *chart) layout() {
	n := max(len(c.groups), 1)
	labelW := 0.0
	for _, g := range c.groups {
		labelW = max(labelW, textWidth(g.displayLabel(), sizeNormal))
	}
	switch {
	case n <= 6:
		// Wide enough for horizontal labels, if the chart stays readable.
		c.slot = max(128, min(labelW+16, maxPlotWidth/float64(n)))
	default:
		c.slot = max(24, 760/float64(n))
	}
	c.vertical = labelW+12 > c.slot
	c.values = n <= 8
	c.plotW = c.slot * float64(n)
	c.width = max(minWidth, marginLeft+c.plotW+marginRight, min(maxTitleWidth, textWidth(c.title, sizeTitle)+24))
	c.plotX = marginLeft + (c.width-marginLeft-marginRight-c.plotW)/2
	c.width = math.Ceil(c.width)
	// Title, subtitle lines, legend.
	top := 24.0 + 16*float64(len(c.subtitle)) + 22 + 36
	c.plotY = top
	c.plotH = plotHeight
	bottom := 22.0
	if c.vertical {
		bottom = labelW + 14
	}
	c.height = math.Ceil(c.plotY + c.plotH + bottom + marginBottom)
	// The title must fit: shorten it otherwise.
	if maxChars := int((c.width - 20) / charWidth(sizeTitle)); len([]rune(c.title)) > maxChars {
		c.title = string([]rune(c.title)[:maxChars-1]) + "…"
	}
	top1 := 0.0
	for _, g := range c.groups {
		for _, b := range g.bars {
			top1 = max(top1, b.value, b.ideal)
		}
	}
	c.yMax, c.ySteps = niceAxis(top1 * 1.08)
}

// niceAxis returns an axis top at least top with 4 to 8 round steps.
func niceAxis(top float64) (float64, []float64) {
	if top <= 0 {
		top = 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	n := math.Ceil(top/step - 1e-9)
	var steps []float64
	for i := 0.0; i <= n; i++ {
		steps = append(steps, i*step)
	}
	return n * step, steps
}

func (c *chart) y(v float64) float64 { return c.plotY + c.plotH - v/c.yMax*c.plotH }

// draw renders the chart on cv.
func (c *chart) draw(cv canvas) {
	cv.rect(0, 0, c.width, c.height, colBackdrop)
	cv.text(12, 24, c.title, sizeTitle, anchorStart, colText, false)
	y := 24.0
	for _, l := range c.subtitle {
		y += 16
		cv.text(12, y, l.text, sizeNormal, anchorStart, l.col, false)
	}
	// Legend.
	lx, ly := 12.0, y+22
	for _, it := range c.legend {
		if it.dashed {
			cv.hline(lx, lx+16, ly-4, 2, it.col, true)
		} else {
			cv.rect(lx, ly-10, 14, 10, it.col)
		}
		cv.text(lx+20, ly, it.label, sizeNormal, anchorStart, colText, false)
		lx += 20 + textWidth(it.label, sizeNormal) + 22
	}
	// Grid and y axis labels.
	for _, s := range c.ySteps {
		yy := c.y(s)
		cv.hline(c.plotX, c.plotX+c.plotW, yy, 1, colGrid, false)
		cv.text(c.plotX-6, yy+4, axisLabel(s, c.ySteps), sizeNormal, anchorEnd, colMuted, false)
	}
	cv.text(c.plotX-6, c.plotY-10, "share of keys", sizeNormal, anchorStart, colMuted, false)
	// Bars.
	for i, g := range c.groups {
		x0 := c.plotX + float64(i)*c.slot
		nb := float64(len(g.bars))
		bw := min(56, (c.slot-8)/nb)
		bx := x0 + (c.slot-bw*nb)/2
		for j, b := range g.bars {
			x := bx + float64(j)*bw
			w := bw - 2
			top := c.y(b.value)
			cv.rect(x, top, w, c.plotY+c.plotH-top, b.col)
			if b.part > 0 {
				pt := c.y(b.part)
				cv.rect(x, top, w, c.plotY+c.plotH-pt, b.partCol)
			}
			if b.ideal >= 0 && (b.ideal > 0 || b.value > 0) {
				cv.hline(x-3, x+w+3, c.y(b.ideal), 2, colIdeal, true)
			}
			if c.values && (len(g.bars) == 1 || c.slot >= 100) && (b.ideal >= 0 || b.value > 0) {
				vy := top
				if b.ideal >= 0 {
					vy = min(vy, c.y(b.ideal))
				}
				cv.text(x+w/2, vy-6, shortPct(b.value), sizeNormal, anchorMiddle, colText, false)
			}
		}
		col := colText
		label := g.displayLabel()
		if g.status == "down" {
			col = colDown
		}
		cx := x0 + c.slot/2
		if c.vertical {
			cv.text(cx+4, c.plotY+c.plotH+8, label, sizeNormal, anchorEnd, col, true)
		} else {
			cv.text(cx, c.plotY+c.plotH+16, label, sizeNormal, anchorMiddle, col, false)
		}
	}
	cv.vline(c.plotX, c.plotY, c.plotY+c.plotH, 1, colAxis)
	cv.hline(c.plotX, c.plotX+c.plotW, c.plotY+c.plotH, 1, colAxis, false)
}

// axisLabel formats a share for the y axis with as few decimals as the
// step needs.
func axisLabel(v float64, steps []float64) string {
	dec := 0
	if len(steps) > 1 {
		step := (steps[1] - steps[0]) * 100
		for dec < 3 && math.Abs(step-math.Round(step*math.Pow(10, float64(dec)))/math.Pow(10, float64(dec))) > 1e-9 {
			dec++
		}
	}
	return strconv.FormatFloat(v*100, 'f', dec, 64) + "%"
}

func shortPct(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 0.1:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
}

// WriteSVG writes the chart of r as a standalone SVG document.
func WriteSVG(w io.Writer, r *Result) error {
	c := newChart(r)
	s := &svgCanvas{}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="Helvetica, Arial, sans-serif">`+"\n",
		c.width, c.height, c.width, c.height)
	fmt.Fprintf(&s.b, "<title>%s</title>\n", escapeXML(c.title))
	c.draw(s)
	s.b.WriteString("</svg>\n")
	_, err := io.WriteString(w, s.b.String())
	return err
}

type svgCanvas struct{ b strings.Builder }

func svgColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func (s *svgCanvas) rect(x, y, w, h float64, c color.RGBA) {
	if w <= 0 || h <= 0 {
		return
	}
	fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", num(x), num(y), num(w), num(h), svgColor(c))
}

func (s *svgCanvas) hline(x1, x2, y, width float64, c color.RGBA, dashed bool) {
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="4 3"`
	}
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`+"\n",
		num(x1), num(y), num(x2), num(y), svgColor(c), num(width), dash)
}

func (s *svgCanvas) vline(x, y1, y2, width float64, c color.RGBA) {
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"/>`+"\n",
		num(x), num(y1), num(x), num(y2), svgColor(c), num(width))
}

func (s *svgCanvas) text(x, y float64, str string, size textSize, a anchor, c color.RGBA, vertical bool) {
	attrs := ""
	switch a {
	case anchorMiddle:
		attrs += ` text-anchor="middle"`
	case anchorEnd:
		attrs += ` text-anchor="end"`
	}
	if size == sizeTitle {
		attrs += ` font-size="15" font-weight="bold"`
	} else {
		attrs += ` font-size="11"`
	}
	if vertical {
		attrs += fmt.Sprintf(` transform="rotate(-90 %s %s)"`, num(x), num(y))
	}
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" fill="%s"%s>%s</text>`+"\n", num(x), num(y), svgColor(c), attrs, escapeXML(str))
}

func escapeXML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
