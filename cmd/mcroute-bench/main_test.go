package main

import (
	"math"
	"os"
	"testing"
)

// TestParseSlap reads a real memcaslap report (testdata/memcaslap.txt:
// 128,716 operations, latencies 17–4,332 µs, average 61, geometric mean
// 56.5): memcaslap files a latency under the smallest k with 2^k ≥ it, so
// the median lies in (32, 64] and the 99th percentile in (128, 256].
func TestParseSlap(t *testing.T) {
	b, err := os.ReadFile("testdata/memcaslap.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseSlap(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.ops != 128716 || r.tps != 64331 {
		t.Errorf("ops %v, tps %v; want 128716, 64331", r.ops, r.tps)
	}
	// Counts per bucket: 2600 in (16,32], 80651 in (32,64], 43524 in
	// (64,128], 1829 in (128,256], ... of 128712.
	if want := math.Pow(2, 5+(0.5*128712-2600)/80651); math.Abs(r.p50-want) > 0.01 {
		t.Errorf("p50 %.2f µs, want %.2f", r.p50, want)
	}
	if r.p99 <= 128 || r.p99 > 256 {
		t.Errorf("p99 %.2f µs, want in (128, 256]", r.p99)
	}
	if _, err := parseSlap("memcaslap: cannot connect\n"); err == nil {
		t.Error("no error for output without a result line")
	}
}

func TestPercentileEdges(t *testing.T) {
	if v := percentile(map[int]float64{}, 0.5); !math.IsNaN(v) {
		t.Errorf("empty histogram: %v, want NaN", v)
	}
	// Everything in (512, 1024]: every quantile lies there.
	h := map[int]float64{10: 100}
	for _, q := range []float64{0.01, 0.5, 0.99, 1} {
		if v := percentile(h, q); v <= 512 || v > 1024 {
			t.Errorf("q %v: %v, want in (512, 1024]", q, v)
		}
	}
}
