package hash

import "math/bits"

const (
	// FurcSeed is the MurmurHash64A seed of mcrouter's furc_hash (Ch3).
	FurcSeed uint64 = 4193360111

	// MaxPoolSize is the largest n accepted for Ch3-based hash functions
	// (Ch3, WeightedCh3, ConstShard): mcrouter's furc_maximum_pool_size(),
	// 2^23 = 8388608 servers.
	MaxPoolSize = 1 << 23

	furcShift    = 23 // distance between the bits furc_hash reads
	furcMaxTries = 32 // attempts before furc_hash gives up and returns 0

	// furcCacheWords is how many words of the bit stream are kept in an
	// array. It covers every bit the first attempt reads for pools of up to
	// 2^23 servers (23+23·23 < 16·64), and each attempt succeeds with
	// probability at least 1/2, so lookups rarely go beyond it.
	furcCacheWords = 16
)

// Furc returns furc_hash(key, m), mcrouter's consistent hash behind the Ch3
// hash function: an index in [0, m) for m ≥ 2, and 0 for m ≤ 1. Growing m
// only moves keys to the new indices. It accepts every uint32 m, as raw
// furc_hash does, although mcrouter's Ch3 only allows m ≤ [MaxPoolSize].
//
// The result is a function of key and m only. Furc is safe for concurrent
// use and does not allocate.
func Furc(key []byte, m uint32) uint32 {
	if m <= 1 {
		return 0
	}
	var s furcStream
	s.words[0] = Murmur64A(key, FurcSeed)
	s.n = 1

	d := uint32(bits.Len32(m - 1)) // number of bits of the candidate index
	a := d
	for range furcMaxTries {
		// s.bit is inlined by hand below: it is too big for the inliner,
		// and a call per bit doubles the cost of a lookup.
		for {
			var w uint64
			if ord := a >> 6; ord < s.n {
				w = s.words[ord%furcCacheWords]
			} else {
				w = s.word(ord)
			}
			if w>>(a&63)&1 != 0 {
				break
			}
			d--
			if d == 0 {
				return 0
			}
			a = d
		}
		a += furcShift
		num := uint32(1)
		for i := uint32(1); i < d; i++ {
			var w uint64
			if ord := a >> 6; ord < s.n {
				w = s.words[ord%furcCacheWords]
			} else {
				w = s.word(ord)
			}
			num = num<<1 | uint32(w>>(a&63))&1
			a += furcShift
		}
		if num < m {
			return num
		}
	}
	return 0
}

// furcStream is the bit stream furc_hash draws from: word 0 is
// MurmurHash64A(key, FurcSeed) and word k is murmurRehash64A(word k-1);
// bit i is bit i%64 of word i/64.
// The first furcCacheWords words are cached; further words are derived on
// demand from a single cursor, restarting from the last cached word when
// the reader moves backwards.
type furcStream struct {
	words   [furcCacheWords]uint64
	n       uint32 // words[:n] are valid
	farOrd  uint32 // index of far, valid when farOrd >= furcCacheWords
	farWord uint64
}

// word returns word ord of the stream, extending the cache or the cursor.
func (s *furcStream) word(ord uint32) uint64 {
	for s.n <= ord && s.n < furcCacheWords {
		s.words[s.n] = murmurRehash64A(s.words[s.n-1], FurcSeed)
		s.n++
	}
	if ord < furcCacheWords {
		return s.words[ord]
	}
	if s.farOrd < furcCacheWords || s.farOrd > ord {
		s.farOrd, s.farWord = furcCacheWords-1, s.words[furcCacheWords-1]
	}
	for s.farOrd < ord {
		s.farWord = murmurRehash64A(s.farWord, FurcSeed)
		s.farOrd++
	}
	return s.farWord
}
