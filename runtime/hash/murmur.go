package hash

import (
	"encoding/binary"
	"math"
)

const (
	murmurM = 0xc6a4a7935bd1e995
	murmurR = 47
)

// Murmur64A returns Austin Appleby's MurmurHash64A of key with the given
// seed, reading 8-byte blocks as little-endian words (the same result as
// mcrouter's murmur_hash_64A on a little-endian host). Ch3 uses seed
// [FurcSeed]. It is safe for concurrent use and does not allocate.
func Murmur64A(key []byte, seed uint64) uint64 {
	h := seed ^ (uint64(len(key)) * murmurM)
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= murmurM
		k ^= k >> murmurR
		k *= murmurM
		h ^= k
		h *= murmurM
		key = key[8:]
	}
	if len(key) > 0 {
		h ^= loadPartial(key)
		h *= murmurM
	}
	h ^= h >> murmurR
	h *= murmurM
	h ^= h >> murmurR
	return h
}

// murmurRehash64A is MurmurHash64A of the single 8-byte little-endian word v,
// i.e. Murmur64A(le64(v), seed) without the byte round trip. furc_hash uses
// it to extend its bit stream.
func murmurRehash64A(v, seed uint64) uint64 {
	h := seed ^ ((8 * murmurM) & math.MaxUint64) // len(v) * m, mod 2^64
	v *= murmurM
	v ^= v >> murmurR
	v *= murmurM
	h ^= v
	h *= murmurM
	h ^= h >> murmurR
	h *= murmurM
	h ^= h >> murmurR
	return h
}

// loadPartial returns the little-endian value of the first min(len(b), 8)
// bytes of b, with the missing high bytes zero.
func loadPartial(b []byte) uint64 {
	switch {
	case len(b) >= 8:
		return binary.LittleEndian.Uint64(b)
	case len(b) >= 4:
		lo := uint64(binary.LittleEndian.Uint32(b))
		var hi uint64
		for i := len(b) - 1; i >= 4; i-- {
			hi = hi<<8 | uint64(b[i])
		}
		return lo | hi<<32
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
