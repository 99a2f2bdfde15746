package hash_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/hash"
)

// FuzzPick checks, for every function, that Pick never panics, returns an
// index in [0, n) and returns the same index for the same key, and that it
// agrees with the exported primitive applied to key‖salt.
func FuzzPick(f *testing.F) {
	// Seeds: rows of the vectors (key, n, salt) and edge cases.
	f.Add([]byte("key:0"), uint32(100), "")
	f.Add([]byte("sample"), uint32(100), "")
	f.Add([]byte("mcrouter:pool:regional:0001"), uint32(4096), "")
	f.Add([]byte("user:42:profile"), uint32(8), "failover")
	f.Add([]byte("c/d"), uint32(5), "salt-abc")
	f.Add([]byte(""), uint32(hash.MaxPoolSize), "1")
	f.Add(bytes.Repeat([]byte{0xff}, 250), uint32(hash.MaxPoolSize-1), "")
	f.Add([]byte("a:1:b"), uint32(0), ":2:")
	f.Fuzz(func(t *testing.T, key []byte, n32 uint32, salt string) {
		n := int(n32%hash.MaxPoolSize) + 1 // [1, 2^23]
		// Weights cover only part of large pools; the rest default to 0.5.
		w := make([]float64, min(n, 64))
		for i := range w {
			w[i] = float64((i*7919+int(n32))%101) / 100
		}
		for _, spec := range []hash.Spec{
			{Func: "Ch3", Salt: salt},
			{Func: "Crc32", Salt: salt},
			{Func: "WeightedCh3", Salt: salt, Weights: w},
			{Func: "ConstShard", Salt: salt},
		} {
			s, err := hash.New(spec, n)
			if err != nil {
				t.Fatalf("New(%s, %d): %v", spec.Func, n, err)
			}
			got := s.Pick(key)
			if got < 0 || got >= n {
				t.Fatalf("%s: Pick(%q) = %d, not in [0, %d)", spec.Func, key, got, n)
			}
			if again := s.Pick(key); again != got {
				t.Fatalf("%s: Pick(%q) = %d, then %d", spec.Func, key, got, again)
			}
			// Skip the (slower) padded-weights reference for huge pools.
			if spec.Func == "WeightedCh3" && n > 1<<16 {
				continue
			}
			if want := unsalted(spec, key, n); got != want {
				t.Fatalf("%s: Pick(%q) with salt %q = %d, primitive on key‖salt = %d", spec.Func, key, salt, got, want)
			}
		}
	})
}

// FuzzRoutingKey checks the structure of RoutingKey's results for arbitrary
// keys.
func FuzzRoutingKey(f *testing.F) {
	for _, k := range []string{
		"foo", "/a/b/foo", "/region/cluster/foo", "/a/b/foo|#|bar", "foo|#|", "/a/b", "/a/b/",
		"///foo", "/a/b/c/d", "/abc", "|#|x", "a|#|b|#|c", "/dc1/c0/user:42:profile|#|v2", "",
	} {
		f.Add([]byte(k))
	}
	f.Fuzz(func(t *testing.T, key []byte) {
		orig := bytes.Clone(key)
		prefix, rk := hash.RoutingKey(key)
		if !bytes.Equal(key, orig) {
			t.Fatal("RoutingKey modified its input")
		}
		if !bytes.HasPrefix(key, prefix) {
			t.Fatalf("prefix %q is not a prefix of %q", prefix, key)
		}
		if len(prefix) > 0 {
			if prefix[0] != '/' || prefix[len(prefix)-1] != '/' || bytes.Count(prefix, []byte("/")) != 3 {
				t.Fatalf("bad prefix %q of %q", prefix, key)
			}
		} else if len(key) > 0 && key[0] == '/' && bytes.Count(key, []byte("/")) >= 3 {
			t.Fatalf("no prefix found in %q", key)
		}
		rest := key[len(prefix):]
		if !bytes.HasPrefix(rest, rk) {
			t.Fatalf("routing key %q is not at the start of %q", rk, rest)
		}
		if bytes.Contains(rk, []byte(hash.HashStop)) {
			t.Fatalf("routing key %q contains the hash stop", rk)
		}
		if len(rk) < len(rest) && !strings.HasPrefix(string(rest[len(rk):]), hash.HashStop) {
			t.Fatalf("routing key %q of %q does not end at a hash stop", rk, key)
		}
		if cap(prefix) != len(prefix) || cap(rk) != len(rk) {
			t.Fatalf("results have spare capacity: %d/%d, %d/%d", len(prefix), cap(prefix), len(rk), cap(rk))
		}
	})
}
