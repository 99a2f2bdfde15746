package sim

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Progress reports how far a running simulation is. Run updates it from
// its workers; read it from any goroutine. The zero value is ready to use.
type Progress struct {
	keys  atomic.Int64
	bytes atomic.Int64
}

// Keys returns the number of keys simulated so far.
func (p *Progress) Keys() int64 { return p.keys.Load() }

// Bytes returns the number of bytes of Options.KeysFrom handed to the
// workers so far.
func (p *Progress) Bytes() int64 { return p.bytes.Load() }

// Bar renders a one-line progress bar of at most width columns: done out of
// total (0 when unknown), the rate over elapsed and an estimate of the time
// left, e.g.
//
//	[#########...........]  45%  4.5M/10M keys  8.1M keys/s  ETA 1s
//
// With an unknown total the bar is left out.
func Bar(done, total int64, elapsed time.Duration, width int) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	var tail string
	if total > 0 {
		tail = fmt.Sprintf(" %3d%%  %s/%s keys  %s keys/s", min(100, done*100/total), Count(done), Count(total), Count(int64(rate)))
		if rate > 0 && done < total {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second))
			tail += "  ETA " + eta.Round(time.Second).String()
		}
	} else {
		tail = fmt.Sprintf("%s keys  %s keys/s", Count(done), Count(int64(rate)))
		return truncate(tail, width)
	}
	barW := width - len(tail) - 2
	if barW < 10 {
		return truncate(strings.TrimSpace(tail), width)
	}
	fill := int(int64(barW) * min(done, total) / total)
	return "[" + strings.Repeat("#", fill) + strings.Repeat(".", barW-fill) + "]" + tail
}

func truncate(s string, w int) string {
	if w > 0 && len(s) > w {
		return s[:w]
	}
	return s
}

// Count formats n compactly for people: 950, 12.3k, 4.5M, 1.2G.
func Count(n int64) string {
	f := float64(n)
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 1e6:
		return trimZero(fmt.Sprintf("%.1f", f/1e3)) + "k"
	case n < 1e9:
		return trimZero(fmt.Sprintf("%.1f", f/1e6)) + "M"
	}
	return trimZero(fmt.Sprintf("%.1f", f/1e9)) + "G"
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
