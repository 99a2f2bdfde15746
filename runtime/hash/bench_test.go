package hash_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/mcroute/mcroute/runtime/hash"
)

var benchSizes = []int{10, 40, 250}

// benchKeys returns 1024 distinct keys of exactly size bytes, so that the
// benchmarks do not measure one lucky key.
func benchKeys(prefix string, size int) [][]byte {
	keys := make([][]byte, 1024)
	for i := range keys {
		k := []byte(prefix + "k" + strconv.Itoa(i) + ":")
		for len(k) < size {
			k = append(k, byte('a'+len(k)%26))
		}
		keys[i] = k[:size]
	}
	return keys
}

// benchWeights is a realistic mix: most servers full, some drained.
func benchWeights(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = []float64{1, 1, 0.8, 0.5}[i%4]
	}
	return w
}

func BenchmarkPick(b *testing.B) {
	const n = 100
	specs := []hash.Spec{
		{Func: "Ch3"},
		{Func: "Crc32"},
		{Func: "WeightedCh3", Weights: benchWeights(n)},
		{Func: "ConstShard"},
	}
	for _, spec := range specs {
		s, err := hash.New(spec, n)
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range benchSizes {
			keys := benchKeys("", size)
			b.Run(fmt.Sprintf("%s/%d", spec.Func, size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size))
				i := 0
				for b.Loop() {
					s.Pick(keys[i&1023])
					i++
				}
			})
		}
	}
}

// BenchmarkPickSalted measures the salted path (key copied to the stack).
func BenchmarkPickSalted(b *testing.B) {
	for _, fn := range []string{"Ch3", "Crc32"} {
		s, err := hash.New(hash.Spec{Func: fn, Salt: "failover"}, 100)
		if err != nil {
			b.Fatal(err)
		}
		keys := benchKeys("", 40)
		b.Run(fn+"/40", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Pick(keys[i&1023])
				i++
			}
		})
	}
}

// BenchmarkPickMaxPool measures Ch3 on the largest pool, which reads the
// longest stretch of furc's bit stream.
func BenchmarkPickMaxPool(b *testing.B) {
	s, err := hash.New(hash.Spec{Func: "Ch3"}, hash.MaxPoolSize)
	if err != nil {
		b.Fatal(err)
	}
	keys := benchKeys("", 40)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Pick(keys[i&1023])
		i++
	}
}

func BenchmarkSpooky32(b *testing.B) {
	for _, size := range benchSizes {
		keys := benchKeys("", size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				hash.Spooky32(keys[i&1023], hash.WeightedCh3Seed)
				i++
			}
		})
	}
}

func BenchmarkMurmur64A(b *testing.B) {
	for _, size := range benchSizes {
		keys := benchKeys("", size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				hash.Murmur64A(keys[i&1023], hash.FurcSeed)
				i++
			}
		})
	}
}

func BenchmarkRoutingKey(b *testing.B) {
	for _, size := range benchSizes {
		// A routing prefix, then the key; the longest one ends in a hash stop.
		keys := benchKeys("/r/c/", size)
		if size >= 40 {
			for _, k := range keys {
				copy(k[size-6:], "|#|v01")
			}
		}
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				hash.RoutingKey(keys[i&1023])
				i++
			}
		})
	}
}
