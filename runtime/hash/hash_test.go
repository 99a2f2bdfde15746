package hash_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/runtime/hash"
)

func mustNew(t testing.TB, spec hash.Spec, n int) hash.Selector {
	t.Helper()
	s, err := hash.New(spec, n)
	if err != nil {
		t.Fatalf("New(%+v, %d): %v", spec, n, err)
	}
	return s
}

// signedKey is mcrouter's test key: the bytes of the signed chars -128..127,
// or 127..-128 when reversed.
func signedKey(reversed bool) []byte {
	k := make([]byte, 256)
	for i := range k {
		k[i] = byte(int8(i - 128))
	}
	if reversed {
		slices.Reverse(k)
	}
	return k
}

func ones(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

// TestUpstreamGoldens checks the expected values of mcrouter's own unit tests
// (lib/test/Ch3HashTest.cpp, Crc32HashTest.cpp, WeightedCh3HashFuncTest.cpp).
func TestUpstreamGoldens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec hash.Spec
		n    int
		key  []byte
		want int
	}{
		{"Ch3/sample/100", hash.Spec{Func: "Ch3"}, 100, []byte("sample"), 97},
		{"Ch3/sample/1", hash.Spec{Func: "Ch3"}, 1, []byte("sample"), 0},
		{"Ch3/empty/100", hash.Spec{Func: "Ch3"}, 100, nil, 72},
		{"Ch3/empty/1", hash.Spec{Func: "Ch3"}, 1, nil, 0},
		{"Ch3/empty/max", hash.Spec{Func: "Ch3"}, hash.MaxPoolSize, nil, 6173600},
		{"Ch3/sample/max", hash.Spec{Func: "Ch3"}, hash.MaxPoolSize, []byte("sample"), 5167780},
		{"Ch3/signed/99999", hash.Spec{Func: "Ch3"}, 99999, signedKey(false), 31015},
		{"Ch3/reversed/99999", hash.Spec{Func: "Ch3"}, 99999, signedKey(true), 67101},
		{"Ch3/default-func", hash.Spec{}, 100, []byte("sample"), 97},

		{"Crc32/sample/100", hash.Spec{Func: "Crc32"}, 100, []byte("sample"), 7},
		{"Crc32/sample/1", hash.Spec{Func: "Crc32"}, 1, []byte("sample"), 0},
		{"Crc32/empty/100", hash.Spec{Func: "Crc32"}, 100, nil, 0},
		{"Crc32/empty/1", hash.Spec{Func: "Crc32"}, 1, nil, 0},
		{"Crc32/empty/2^30-1", hash.Spec{Func: "Crc32"}, 1<<30 - 1, nil, 0},
		{"Crc32/sample/2^30-1", hash.Spec{Func: "Crc32"}, 1<<30 - 1, []byte("sample"), 822834884},
		{"Crc32/signed/99999", hash.Spec{Func: "Crc32"}, 99999, signedKey(false), 11697},
		{"Crc32/reversed/99999", hash.Spec{Func: "Crc32"}, 99999, signedKey(true), 97630},
		// The CRC-32 check value 0xCBF43926 with the sign bit cleared.
		{"Crc32/check", hash.Spec{Func: "Crc32"}, math.MaxUint32, []byte("123456789"), 0xCBF43926 & 0x7fffffff},

		{"WeightedCh3/unit/sample/100", hash.Spec{Func: "WeightedCh3", Weights: ones(100)}, 100, []byte("sample"), 97},
		{"WeightedCh3/unit/sample/1", hash.Spec{Func: "WeightedCh3", Weights: ones(1)}, 1, []byte("sample"), 0},
		{"WeightedCh3/unit/empty/100", hash.Spec{Func: "WeightedCh3", Weights: ones(100)}, 100, nil, 72},
		{"WeightedCh3/unit/signed/99999", hash.Spec{Func: "WeightedCh3", Weights: ones(99999)}, 99999, signedKey(false), 31015},
		{"WeightedCh3/unit/reversed/99999", hash.Spec{Func: "WeightedCh3", Weights: ones(99999)}, 99999, signedKey(true), 67101},
		{"WeightedCh3/zero/sample/1", hash.Spec{Func: "WeightedCh3", Weights: []float64{0}}, 1, []byte("sample"), 0},
		{"WeightedCh3/zero/empty/1", hash.Spec{Func: "WeightedCh3", Weights: []float64{0}}, 1, nil, 0},
		{"WeightedCh3/zero/sample/100", hash.Spec{Func: "WeightedCh3", Weights: make([]float64, 100)}, 100, []byte("sample"), 59},
		{"WeightedCh3/zero/empty/100", hash.Spec{Func: "WeightedCh3", Weights: make([]float64, 100)}, 100, nil, 45},
	}
	if !testing.Short() {
		max := ones(hash.MaxPoolSize) // 64 MiB
		tests = append(tests,
			struct {
				name string
				spec hash.Spec
				n    int
				key  []byte
				want int
			}{"WeightedCh3/unit/empty/max", hash.Spec{Func: "WeightedCh3", Weights: max}, hash.MaxPoolSize, nil, 6173600},
			struct {
				name string
				spec hash.Spec
				n    int
				key  []byte
				want int
			}{"WeightedCh3/unit/sample/max", hash.Spec{Func: "WeightedCh3", Weights: max}, hash.MaxPoolSize, []byte("sample"), 5167780},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustNew(t, tc.spec, tc.n)
			if got := s.Pick(tc.key); got != tc.want {
				t.Errorf("Pick(%q) = %d, want %d", tc.key, got, tc.want)
			}
			if got := s.N(); got != tc.n {
				t.Errorf("N() = %d, want %d", got, tc.n)
			}
		})
	}
}

// counts returns how many of the decimal keys 0..keys-1 each index gets.
func counts(s hash.Selector, keys int) []int {
	c := make([]int, s.N())
	var buf []byte
	for i := range keys {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		c[s.Pick(buf)]++
	}
	return c
}

// TestUpstreamDistributions checks the per-server key counts of mcrouter's
// unit tests for the decimal keys "0", "1", ….
func TestUpstreamDistributions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec hash.Spec
		n    int
		keys int
		want []int
	}{
		{"Ch3/3", hash.Spec{Func: "Ch3"}, 3, 1000, []int{307, 342, 351}},
		{"Ch3/10", hash.Spec{Func: "Ch3"}, 10, 10000, []int{995, 955, 1046, 968, 1032, 972, 1016, 1038, 1010, 968}},
		{"WeightedCh3/reduced", hash.Spec{Func: "WeightedCh3", Weights: []float64{1, 1, 0.7}}, 3, 1000, []int{341, 371, 288}},
		{
			"WeightedCh3/random",
			hash.Spec{Func: "WeightedCh3", Weights: []float64{0.429, 0.541, 0.117, 0.998, 0.283, 0.065, 0.109, 0.042, 0.676, 0.943}},
			10, 10000,
			[]int{1016, 1252, 288, 2354, 661, 195, 247, 122, 1668, 2197},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := counts(mustNew(t, tc.spec, tc.n), tc.keys)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("counts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWeightedCh3FullWeightUnchanged checks that servers of weight 1.0 keep
// all the keys Ch3 gives them.
func TestWeightedCh3FullWeightUnchanged(t *testing.T) {
	t.Parallel()
	ch3 := mustNew(t, hash.Spec{Func: "Ch3"}, 3)
	wch3 := mustNew(t, hash.Spec{Func: "WeightedCh3", Weights: []float64{1, 1, 0.7}}, 3)
	for i := range 1000 {
		k := []byte(strconv.Itoa(i))
		if c := ch3.Pick(k); c != 2 && wch3.Pick(k) != c {
			t.Errorf("key %q: Ch3 %d, WeightedCh3 %d", k, c, wch3.Pick(k))
		}
	}
}

// refFurc is a direct, unoptimised transcription of the furc_hash
// description (reference §3.2) with an unbounded word cache. It checks the
// cached bit stream of Furc, including its slow path for large m.
func refFurc(key []byte, m uint32) uint32 {
	if m <= 1 {
		return 0
	}
	words := []uint64{hash.Murmur64A(key, hash.FurcSeed)}
	bit := func(idx uint32) uint32 {
		for uint32(len(words)) <= idx>>6 {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], words[len(words)-1])
			words = append(words, hash.Murmur64A(b[:], hash.FurcSeed))
		}
		return uint32(words[idx>>6]>>(idx&63)) & 1
	}
	d := uint32(bits.Len32(m - 1))
	a := d
	for range 32 {
		for bit(a) == 0 {
			d--
			if d == 0 {
				return 0
			}
			a = d
		}
		a += 23
		num := uint32(1)
		for range d - 1 {
			num = num<<1 | bit(a)
			a += 23
		}
		if num < m {
			return num
		}
	}
	return 0
}

func TestFurcMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	ms := []uint32{2, 3, 5, 100, 1000, 4096, 99999, hash.MaxPoolSize - 1, hash.MaxPoolSize,
		hash.MaxPoolSize + 1, 1 << 24, 1<<31 - 1, 1 << 31, 1<<31 + 1, 3 << 30, math.MaxUint32 - 1, math.MaxUint32}
	for range 200 {
		ms = append(ms, r.Uint32N(1<<23)+2, r.Uint32())
	}
	for i := range 500 {
		key := make([]byte, r.IntN(300))
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		for _, m := range ms {
			if got, want := hash.Furc(key, m), refFurc(key, m); got != want {
				t.Fatalf("key #%d %q: Furc(m=%d) = %d, reference %d", i, key, m, got, want)
			}
		}
	}
}

// TestFurcConsistency checks furc's defining property: growing the pool
// from m to m+1 moves a key either nowhere or to the new index m.
func TestFurcConsistency(t *testing.T) {
	t.Parallel()
	var key []byte
	for i := range 300 {
		key = fmt.Appendf(key[:0], "key:%d", i)
		prev := hash.Furc(key, 1)
		if prev != 0 {
			t.Fatalf("Furc(%q, 1) = %d", key, prev)
		}
		for m := uint32(2); m <= 600; m++ {
			got := hash.Furc(key, m)
			if got >= m || (got != prev && got != m-1) {
				t.Fatalf("Furc(%q, %d) = %d, Furc(m-1) = %d", key, m, got, prev)
			}
			prev = got
		}
	}
}

func TestMurmur64A(t *testing.T) {
	t.Parallel()
	// Furc's index of "" at n=100 depends on the murmur of the empty key
	// only; the rest is covered by the vectors. Check the block/tail split
	// against a byte-at-a-time evaluation.
	ref := func(key []byte, seed uint64) uint64 {
		const m = 0xc6a4a7935bd1e995
		h := seed ^ uint64(len(key))*m
		nb := len(key) / 8 * 8
		for i := 0; i < nb; i += 8 {
			var k uint64
			for j := 7; j >= 0; j-- {
				k = k<<8 | uint64(key[i+j])
			}
			k *= m
			k ^= k >> 47
			k *= m
			h ^= k
			h *= m
		}
		if tail := key[nb:]; len(tail) > 0 {
			for j := len(tail) - 1; j >= 0; j-- {
				h ^= uint64(tail[j]) << (8 * j)
			}
			h *= m
		}
		h ^= h >> 47
		h *= m
		h ^= h >> 47
		return h
	}
	key := make([]byte, 70)
	for i := range key {
		key[i] = byte(i*31 + 7)
	}
	for l := range len(key) + 1 {
		for _, seed := range []uint64{0, hash.FurcSeed, math.MaxUint64} {
			if got, want := hash.Murmur64A(key[:l], seed), ref(key[:l], seed); got != want {
				t.Errorf("len %d seed %d: Murmur64A = %#x, want %#x", l, seed, got, want)
			}
		}
	}
}

func TestSpookyConsistency(t *testing.T) {
	t.Parallel()
	key := make([]byte, 400)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for l := range len(key) + 1 {
		k := key[:l]
		h1, _ := hash.Spooky128(k, 42, 42)
		if got := hash.Spooky64(k, 42); got != h1 {
			t.Errorf("len %d: Spooky64 = %#x, Spooky128 first half %#x", l, got, h1)
		}
		if got := hash.Spooky32(k, 42); got != uint32(h1) {
			t.Errorf("len %d: Spooky32 = %#x, Spooky128 low 32 bits %#x", l, got, uint32(h1))
		}
	}
}

func TestRoutingKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, prefix, routingKey string
	}{
		{"", "", ""},
		{"foo", "", "foo"},
		{"/a/b/foo", "/a/b/", "foo"},
		{"/region/cluster/foo:key|#|etc", "/region/cluster/", "foo:key"},
		{"/a/b", "", "/a/b"},
		{"/abc", "", "/abc"},
		{"/", "", "/"},
		{"//", "", "//"},
		{"///", "///", ""},
		{"///foo", "///", "foo"},
		{"/a/b/", "/a/b/", ""},
		{"/a/b/c/d", "/a/b/", "c/d"},
		{"/*/*/foo", "/*/*/", "foo"},
		{"a/b/c/d", "", "a/b/c/d"},
		{"foo|#|bar", "", "foo"},
		{"|#|x", "", ""},
		{"a|#|b|#|c", "", "a"},
		{"foo|#", "", "foo|#"},
		{"/a|#|/b/c", "/a|#|/b/", "c"}, // the hash stop is only looked for after the prefix
		{"/a/b|#|/c", "/a/b|#|/", "c"},
		{"/a/b/|#|", "/a/b/", ""},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			full := []byte(tc.key)
			prefix, rk := hash.RoutingKey(full)
			if string(prefix) != tc.prefix || string(rk) != tc.routingKey {
				t.Errorf("RoutingKey(%q) = %q, %q; want %q, %q", tc.key, prefix, rk, tc.prefix, tc.routingKey)
			}
			if tc.prefix == "" && prefix != nil {
				t.Errorf("RoutingKey(%q) prefix = %q, want nil", tc.key, prefix)
			}
			// Appending to the results must not clobber the full key.
			_ = append(prefix, 'X')
			_ = append(rk, 'Y')
			if string(full) != tc.key {
				t.Errorf("append to results modified the key: %q", full)
			}
		})
	}
}

func TestConstShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key   string
		n     uint32
		shard int // -1: falls back to Ch3
	}{
		{"user:42:profile", 100, 42},
		{"user:0:x", 1, 0},
		{"user:7:x", 8, 7},
		{"user:8:x", 8, -1},  // not below n
		{"user:007:x", 8, 7}, // leading zeros
		{"user::x", 8, -1},   // empty token
		{"user:4a:x", 8, -1}, // not all digits
		{"user:+4:x", 8, -1}, // sign
		{"user:-4:x", 8, -1}, // sign
		{"user: 4:x", 8, -1}, // space
		{"user:42", 100, -1}, // no second ':'
		{"user", 100, -1},    // no ':'
		{":3:", 8, 3},        // empty prefix and rest
		{"a:1:b:2:c", 8, 1},  // first pair of ':' only
		{"user:99999999999999999999999999:x", math.MaxUint32, -1}, // overflow
		{"user:4294967294:x", math.MaxUint32, 4294967294},
		{"user:4294967295:x", math.MaxUint32, -1},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			key := []byte(tc.key)
			want := tc.shard
			if want < 0 {
				want = int(hash.Furc(key, tc.n))
			}
			if got := hash.ConstShard(key, tc.n); int(got) != want {
				t.Errorf("ConstShard(%q, %d) = %d, want %d", key, tc.n, got, want)
			}
			if tc.n <= hash.MaxPoolSize {
				s := mustNew(t, hash.Spec{Func: "ConstShard"}, int(tc.n))
				if got := s.Pick(key); got != want {
					t.Errorf("Pick(%q) = %d, want %d", key, got, want)
				}
			}
		})
	}
	// The salt takes part: "user" + ":3:x" is shard 3.
	s := mustNew(t, hash.Spec{Func: "ConstShard", Salt: ":3:x"}, 8)
	if got := s.Pick([]byte("user")); got != 3 {
		t.Errorf("salted Pick = %d, want 3", got)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    hash.Spec
		n       int
		wantErr error
		substr  string
	}{
		{"unknown", hash.Spec{Func: "ch3"}, 3, hash.ErrUnknownFunc, `"ch3" (valid: Ch3, Crc32, WeightedCh3, ConstShard)`},
		{"rendezvous", hash.Spec{Func: "Rendezvous"}, 3, hash.ErrUnknownFunc, "Rendezvous"},
		{"Ch3/zero", hash.Spec{Func: "Ch3"}, 0, hash.ErrPoolSize, "got 0"},
		{"Ch3/negative", hash.Spec{}, -1, hash.ErrPoolSize, "got -1"},
		{"Ch3/too-big", hash.Spec{Func: "Ch3"}, hash.MaxPoolSize + 1, hash.ErrPoolSize, "8388608"},
		{"ConstShard/too-big", hash.Spec{Func: "ConstShard"}, hash.MaxPoolSize + 1, hash.ErrPoolSize, "ConstShard"},
		{"WeightedCh3/too-big", hash.Spec{Func: "WeightedCh3"}, hash.MaxPoolSize + 1, hash.ErrPoolSize, "WeightedCh3"},
		{"Crc32/zero", hash.Spec{Func: "Crc32"}, 0, hash.ErrPoolSize, "Crc32"},
		{"weight/negative", hash.Spec{Func: "WeightedCh3", Weights: []float64{1, -0.1}}, 2, hash.ErrWeight, "weights[1] = -0.1"},
		{"weight/above-one", hash.Spec{Func: "WeightedCh3", Weights: []float64{1.5}}, 1, hash.ErrWeight, "weights[0] = 1.5"},
		{"weight/NaN", hash.Spec{Func: "WeightedCh3", Weights: []float64{math.NaN()}}, 1, hash.ErrWeight, "NaN"},
		{"weight/Inf", hash.Spec{Func: "WeightedCh3", Weights: []float64{math.Inf(1)}}, 1, hash.ErrWeight, "+Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := hash.New(tc.spec, tc.n)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("New(%+v, %d) = %v, %v; want error %v", tc.spec, tc.n, s, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.substr) || !strings.HasPrefix(err.Error(), "hash: ") {
				t.Errorf("error %q does not start with \"hash: \" or lacks %q", err, tc.substr)
			}
		})
	}

	// Accepted edge cases.
	ok := []struct {
		spec hash.Spec
		n    int
	}{
		{hash.Spec{Func: "Ch3"}, hash.MaxPoolSize},
		{hash.Spec{Func: "Crc32"}, hash.MaxPoolSize + 1},
		{hash.Spec{Func: "WeightedCh3"}, 5},                                              // no weights: all 0.5
		{hash.Spec{Func: "WeightedCh3", Weights: []float64{0, 1, 2, -1, math.NaN()}}, 2}, // extra weights are not validated
		{hash.Spec{Func: "Ch3", Weights: []float64{-1}}, 2},                              // weights ignored
	}
	for _, tc := range ok {
		if _, err := hash.New(tc.spec, tc.n); err != nil {
			t.Errorf("New(%+v, %d): %v", tc.spec, tc.n, err)
		}
	}
}

// TestWeightsPadding checks that missing weights count as 0.5 and extra ones
// are ignored, as in mcrouter.
func TestWeightsPadding(t *testing.T) {
	t.Parallel()
	const n = 7
	short := []float64{1, 0, 0.25}
	padded := []float64{1, 0, 0.25, 0.5, 0.5, 0.5, 0.5}
	long := append(slices.Clone(padded), 0, 0, 1)
	sShort := mustNew(t, hash.Spec{Func: "WeightedCh3", Weights: short}, n)
	sNil := mustNew(t, hash.Spec{Func: "WeightedCh3"}, n)
	sLong := mustNew(t, hash.Spec{Func: "WeightedCh3", Weights: long}, n)
	half := []float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	for i := range 2000 {
		k := []byte("key:" + strconv.Itoa(i))
		if got, want := sShort.Pick(k), int(hash.WeightedCh3(k, padded)); got != want {
			t.Fatalf("short weights: Pick(%q) = %d, want %d", k, got, want)
		}
		if got, want := sLong.Pick(k), int(hash.WeightedCh3(k, padded)); got != want {
			t.Fatalf("long weights: Pick(%q) = %d, want %d", k, got, want)
		}
		if got, want := sNil.Pick(k), int(hash.WeightedCh3(k, half)); got != want {
			t.Fatalf("nil weights: Pick(%q) = %d, want %d", k, got, want)
		}
	}
	// New copies the weights.
	w := []float64{1, 1}
	s := mustNew(t, hash.Spec{Func: "WeightedCh3", Weights: w}, 2)
	before := counts(s, 200)
	w[0], w[1] = 0, 0
	if after := counts(s, 200); !slices.Equal(before, after) {
		t.Errorf("selector changed after its weights were modified: %v → %v", before, after)
	}
}

// allSpecs returns one Spec per function with the given salt.
func allSpecs(salt string) []hash.Spec {
	return []hash.Spec{
		{Func: "Ch3", Salt: salt},
		{Func: "Crc32", Salt: salt},
		{Func: "WeightedCh3", Salt: salt, Weights: []float64{1, 0.2, 0.7, 0, 0.5, 1, 0.9, 0.1}},
		{Func: "ConstShard", Salt: salt},
	}
}

// unsalted computes the index of key‖salt with the exported primitive.
func unsalted(spec hash.Spec, key []byte, n int) int {
	in := append(slices.Clone(key), spec.Salt...)
	switch spec.Func {
	case "Ch3":
		return int(hash.Furc(in, uint32(n)))
	case "Crc32":
		return int(hash.Crc32(in, uint32(n)))
	case "ConstShard":
		return int(hash.ConstShard(in, uint32(n)))
	case "WeightedCh3":
		w := make([]float64, n)
		for i := range w {
			w[i] = hash.DefaultWeight
			if i < len(spec.Weights) {
				w[i] = spec.Weights[i]
			}
		}
		return int(hash.WeightedCh3(in, w))
	}
	panic(spec.Func)
}

// TestPickSalt checks that Pick hashes key‖salt for every function and key
// length, including keys too long for the on-stack buffer.
func TestPickSalt(t *testing.T) {
	t.Parallel()
	for _, salt := range []string{"", "1", "failover", strings.Repeat("s", 300)} {
		for _, spec := range allSpecs(salt) {
			for _, n := range []int{1, 8, 1000} {
				s := mustNew(t, spec, n)
				for _, l := range []int{0, 1, 7, 40, 191, 192, 250, 509, 510, 511, 512, 1000} {
					key := bytes.Repeat([]byte("k:3:"), l/4+1)[:l]
					if got, want := s.Pick(key), unsalted(spec, key, n); got != want {
						t.Errorf("%s salt %q n %d len %d: Pick = %d, want %d", spec.Func, salt, n, l, got, want)
					}
				}
			}
		}
	}
}

// TestPickAllocs checks that Pick does not allocate for memcache-sized keys,
// with and without salt.
func TestPickAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts are not meaningful under -cover or -race")
	}
	key := bytes.Repeat([]byte("x"), 250)
	for _, salt := range []string{"", "failover", strings.Repeat("s", 250)} {
		for _, spec := range allSpecs(salt) {
			// All-zero weights make WeightedCh3 run all 32 retries.
			specs := []hash.Spec{spec}
			if spec.Func == "WeightedCh3" {
				specs = append(specs, hash.Spec{Func: "WeightedCh3", Salt: salt, Weights: make([]float64, 100)})
			}
			for _, sp := range specs {
				s := mustNew(t, sp, 100)
				if a := testing.AllocsPerRun(100, func() { s.Pick(key) }); a != 0 {
					t.Errorf("%s salt len %d: %v allocs per Pick, want 0", sp.Func, len(salt), a)
				}
			}
		}
	}
	full := []byte("/region/cluster/" + strings.Repeat("k", 230) + "|#|v1")
	if a := testing.AllocsPerRun(100, func() { hash.RoutingKey(full) }); a != 0 {
		t.Errorf("RoutingKey: %v allocs, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { hash.WeightedCh3(key, make([]float64, 8)) }); a > 1 {
		t.Errorf("WeightedCh3: %v allocs, want at most the weights slice", a)
	}
}

// TestConcurrentPick exercises selectors from several goroutines (run with
// -race).
func TestConcurrentPick(t *testing.T) {
	t.Parallel()
	for _, spec := range allSpecs("salt") {
		s := mustNew(t, spec, 64)
		want := counts(s, 500)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if got := counts(s, 500); !slices.Equal(got, want) {
					t.Errorf("%s: concurrent counts differ", spec.Func)
				}
			})
		}
		wg.Wait()
	}
}

func TestFuncs(t *testing.T) {
	t.Parallel()
	got := hash.Funcs()
	if diff := cmp.Diff([]string{"Ch3", "Crc32", "WeightedCh3", "ConstShard"}, got); diff != "" {
		t.Errorf("Funcs() mismatch (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if hash.Funcs()[0] != "Ch3" {
		t.Error("Funcs returns shared storage")
	}
}
