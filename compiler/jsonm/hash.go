package jsonm

import "math"

// twangMix64 is Thomas Wang's 64-bit integer mix (folly::hash::twang_mix64),
// folly's hash of 64-bit integers.
func twangMix64(k uint64) uint64 {
	k = ^k + (k << 21)
	k ^= k >> 24
	k = k + (k << 3) + (k << 8)
	k ^= k >> 14
	k = k + (k << 2) + (k << 4)
	k ^= k >> 28
	k += k << 31
	return k
}

// fnv64 is folly::hash::fnv64_buf: FNV-1 64-bit, where each byte is
// sign-extended before the xor (folly reads the bytes as signed char).
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h += (h << 1) + (h << 4) + (h << 5) + (h << 7) + (h << 8) + (h << 40)
		h ^= uint64(int64(int8(s[i])))
	}
	return h
}

// rendezvous picks a name for key like mcrouter's RendezvousHash: each node
// scores pow(twang_mix64(fnv64(name)+key)/2^64, 1/normalizedWeight) and the
// first highest score wins (nodes with weight ~0 score 0). msg is non-empty
// when the weights sum to 0.
func rendezvous(names []string, weights []float64, key uint64) (id int, msg string) {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	const eps = 2.220446049250313e-16 // DBL_EPSILON
	if sum < eps {
		return 0, "Sum of weights is 0"
	}
	best := -1.0
	for i, name := range names {
		w := weights[i] / sum
		combined := float64(twangMix64(fnv64(name) + key))
		scaled := combined / float64(math.MaxUint64)
		score := 0.0
		if w > eps {
			score = math.Pow(scaled, 1/w)
		}
		if score > best {
			id, best = i, score
		}
	}
	return id, ""
}

// minstd is std::minstd_rand: x = x*48271 mod (2^31-1), values in
// [1, 2^31-2].
type minstd struct{ x uint64 }

const minstdM = 2147483647

func newMinstd(seed uint32) *minstd {
	x := uint64(seed) % minstdM
	if x == 0 {
		x = 1
	}
	return &minstd{x: x}
}

func (r *minstd) next() uint64 {
	r.x = r.x * 48271 % minstdM
	return r.x
}

// uniform draws from [a, b] like libstdc++'s uniform_int_distribution over
// minstd_rand (the "downscaling" path with rejection; b-a is always far
// below the generator's range here).
func (r *minstd) uniform(a, b uint64) uint64 {
	const urngRange = minstdM - 2 // max - min
	urange := b - a
	if urange >= urngRange {
		// Not reachable for the array sizes Expand allows.
		return a + (r.next()-1)%(urange+1)
	}
	erange := urange + 1
	scaling := urngRange / erange
	past := erange * scaling
	for {
		v := r.next() - 1
		if v < past {
			return a + v/scaling
		}
	}
}

// stdShuffle permutes a in place exactly like libstdc++'s std::shuffle with
// a std::minstd_rand engine seeded with seed.
func stdShuffle[T any](a []T, seed uint32) {
	n := uint64(len(a))
	if n == 0 {
		return
	}
	g := newMinstd(seed)
	const urngRange = minstdM - 2
	if urngRange/n >= n {
		// Two swap positions per draw.
		i := uint64(1)
		if n%2 == 0 {
			j := g.uniform(0, 1)
			a[i], a[j] = a[j], a[i]
			i++
		}
		for i != n {
			swapRange := i + 1
			x := g.uniform(0, swapRange*(swapRange+1)-1)
			p1, p2 := x/(swapRange+1), x%(swapRange+1)
			a[i], a[p1] = a[p1], a[i]
			i++
			a[i], a[p2] = a[p2], a[i]
			i++
		}
		return
	}
	for i := uint64(1); i < n; i++ {
		j := g.uniform(0, i)
		a[i], a[j] = a[j], a[i]
	}
}
