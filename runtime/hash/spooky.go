package hash

import (
	"encoding/binary"
	"math/bits"
)

// SpookyHash V2 by Bob Jenkins (public domain), as shipped in folly
// (folly/hash/SpookyHashV2) and used by mcrouter. Messages shorter than
// spookyBufSize bytes take the "short" path; longer ones are consumed in
// 96-byte blocks of twelve 64-bit little-endian words.

const (
	spookyConst     = 0xdeadbeefdeadbeef
	spookyBlockSize = 12 * 8 // 96 bytes: twelve state words
	spookyBufSize   = 2 * spookyBlockSize
)

// Spooky128 returns SpookyHashV2 Hash128 of key with the two 64-bit seeds,
// reading words little-endian. It is safe for concurrent use and does not
// allocate.
func Spooky128(key []byte, seed1, seed2 uint64) (h1, h2 uint64) {
	if len(key) < spookyBufSize {
		return spookyShort(key, seed1, seed2)
	}
	return spookyLong(key, seed1, seed2)
}

// Spooky64 returns SpookyHashV2 Hash64 of key: the first half of
// [Spooky128] with both seeds set to seed. mcrouter's JSONM @hash macro uses
// it with seed 0. It is safe for concurrent use and does not allocate.
func Spooky64(key []byte, seed uint64) uint64 {
	h1, _ := Spooky128(key, seed, seed)
	return h1
}

// Spooky32 returns SpookyHashV2 Hash32 of key: the low 32 bits of
// [Spooky128] with both seeds set to seed. mcrouter uses it with seed 0 as
// the routing-key hash (shadowing, MigrateRoute) and with [WeightedCh3Seed]
// in WeightedCh3. It is safe for concurrent use and does not allocate.
func Spooky32(key []byte, seed uint32) uint32 {
	h1, _ := Spooky128(key, uint64(seed), uint64(seed))
	return uint32(h1)
}

func spookyShort(key []byte, seed1, seed2 uint64) (uint64, uint64) {
	length := len(key)
	a, b := seed1, seed2
	c, d := uint64(spookyConst), uint64(spookyConst)
	le := binary.LittleEndian

	// Whole 32-byte chunks (two words into c and d, the short mix, two
	// words into a and b), then possibly one 16-byte half chunk (two words
	// into c and d, the short mix).
	for len(key) >= 16 {
		c += le.Uint64(key[0:])
		d += le.Uint64(key[8:])
		c = bits.RotateLeft64(c, 50)
		c += d
		a ^= c
		d = bits.RotateLeft64(d, 52)
		d += a
		b ^= d
		a = bits.RotateLeft64(a, 30)
		a += b
		c ^= a
		b = bits.RotateLeft64(b, 41)
		b += c
		d ^= b
		c = bits.RotateLeft64(c, 54)
		c += d
		a ^= c
		d = bits.RotateLeft64(d, 48)
		d += a
		b ^= d
		a = bits.RotateLeft64(a, 38)
		a += b
		c ^= a
		b = bits.RotateLeft64(b, 37)
		b += c
		d ^= b
		c = bits.RotateLeft64(c, 62)
		c += d
		a ^= c
		d = bits.RotateLeft64(d, 34)
		d += a
		b ^= d
		a = bits.RotateLeft64(a, 5)
		a += b
		c ^= a
		b = bits.RotateLeft64(b, 36)
		b += c
		d ^= b
		if len(key) < 32 {
			key = key[16:]
			break
		}
		a += le.Uint64(key[16:])
		b += le.Uint64(key[24:])
		key = key[32:]
	}

	// The last 0..15 bytes are added as little-endian words (zero padded),
	// together with the total length in the top byte of d.
	d += uint64(length) << 56
	switch {
	case len(key) == 0:
		c += spookyConst
		d += spookyConst
	case len(key) <= 8:
		c += loadPartial(key)
	default:
		c += le.Uint64(key)
		d += loadPartial(key[8:])
	}

	// Short end mix.
	d ^= c
	c = bits.RotateLeft64(c, 15)
	d += c
	a ^= d
	d = bits.RotateLeft64(d, 52)
	a += d
	b ^= a
	a = bits.RotateLeft64(a, 26)
	b += a
	c ^= b
	b = bits.RotateLeft64(b, 51)
	c += b
	d ^= c
	c = bits.RotateLeft64(c, 28)
	d += c
	a ^= d
	d = bits.RotateLeft64(d, 9)
	a += d
	b ^= a
	a = bits.RotateLeft64(a, 47)
	b += a
	c ^= b
	b = bits.RotateLeft64(b, 54)
	c += b
	d ^= c
	c = bits.RotateLeft64(c, 32)
	d += c
	a ^= d
	d = bits.RotateLeft64(d, 25)
	a += d
	b ^= a
	a = bits.RotateLeft64(a, 63)
	b += a
	return a, b
}

// spookyLong is the long-message path: 96-byte blocks are mixed into a
// 12-word state, then the zero-padded final block is added and the state is
// stirred with three rounds of the end mix. The state is kept in local
// variables (rather than an array behind method calls) so that it can live
// in registers.
func spookyLong(key []byte, seed1, seed2 uint64) (uint64, uint64) {
	h0, h1, h2 := seed1, seed2, uint64(spookyConst)
	h3, h4, h5 := seed1, seed2, uint64(spookyConst)
	h6, h7, h8 := seed1, seed2, uint64(spookyConst)
	h9, h10, h11 := seed1, seed2, uint64(spookyConst)
	le := binary.LittleEndian

	for len(key) >= spookyBlockSize {
		data := key[:spookyBlockSize]

		h0 += le.Uint64(data[0:])
		h2 ^= h10
		h11 ^= h0
		h0 = bits.RotateLeft64(h0, 11)
		h11 += h1

		h1 += le.Uint64(data[8:])
		h3 ^= h11
		h0 ^= h1
		h1 = bits.RotateLeft64(h1, 32)
		h0 += h2

		h2 += le.Uint64(data[16:])
		h4 ^= h0
		h1 ^= h2
		h2 = bits.RotateLeft64(h2, 43)
		h1 += h3

		h3 += le.Uint64(data[24:])
		h5 ^= h1
		h2 ^= h3
		h3 = bits.RotateLeft64(h3, 31)
		h2 += h4

		h4 += le.Uint64(data[32:])
		h6 ^= h2
		h3 ^= h4
		h4 = bits.RotateLeft64(h4, 17)
		h3 += h5

		h5 += le.Uint64(data[40:])
		h7 ^= h3
		h4 ^= h5
		h5 = bits.RotateLeft64(h5, 28)
		h4 += h6

		h6 += le.Uint64(data[48:])
		h8 ^= h4
		h5 ^= h6
		h6 = bits.RotateLeft64(h6, 39)
		h5 += h7

		h7 += le.Uint64(data[56:])
		h9 ^= h5
		h6 ^= h7
		h7 = bits.RotateLeft64(h7, 57)
		h6 += h8

		h8 += le.Uint64(data[64:])
		h10 ^= h6
		h7 ^= h8
		h8 = bits.RotateLeft64(h8, 55)
		h7 += h9

		h9 += le.Uint64(data[72:])
		h11 ^= h7
		h8 ^= h9
		h9 = bits.RotateLeft64(h9, 54)
		h8 += h10

		h10 += le.Uint64(data[80:])
		h0 ^= h8
		h9 ^= h10
		h10 = bits.RotateLeft64(h10, 22)
		h9 += h11

		h11 += le.Uint64(data[88:])
		h1 ^= h9
		h10 ^= h11
		h11 = bits.RotateLeft64(h11, 46)
		h10 += h0

		key = key[spookyBlockSize:]
	}

	// The final partial block is zero padded, and its last byte holds the
	// number of bytes that were left over (0..95).
	var last [spookyBlockSize]byte
	copy(last[:], key)
	last[spookyBlockSize-1] = byte(len(key))
	h0 += le.Uint64(last[0:])
	h1 += le.Uint64(last[8:])
	h2 += le.Uint64(last[16:])
	h3 += le.Uint64(last[24:])
	h4 += le.Uint64(last[32:])
	h5 += le.Uint64(last[40:])
	h6 += le.Uint64(last[48:])
	h7 += le.Uint64(last[56:])
	h8 += le.Uint64(last[64:])
	h9 += le.Uint64(last[72:])
	h10 += le.Uint64(last[80:])
	h11 += le.Uint64(last[88:])

	for range 3 {
		h11 += h1
		h2 ^= h11
		h1 = bits.RotateLeft64(h1, 44)
		h0 += h2
		h3 ^= h0
		h2 = bits.RotateLeft64(h2, 15)
		h1 += h3
		h4 ^= h1
		h3 = bits.RotateLeft64(h3, 34)
		h2 += h4
		h5 ^= h2
		h4 = bits.RotateLeft64(h4, 21)
		h3 += h5
		h6 ^= h3
		h5 = bits.RotateLeft64(h5, 38)
		h4 += h6
		h7 ^= h4
		h6 = bits.RotateLeft64(h6, 33)
		h5 += h7
		h8 ^= h5
		h7 = bits.RotateLeft64(h7, 10)
		h6 += h8
		h9 ^= h6
		h8 = bits.RotateLeft64(h8, 13)
		h7 += h9
		h10 ^= h7
		h9 = bits.RotateLeft64(h9, 38)
		h8 += h10
		h11 ^= h8
		h10 = bits.RotateLeft64(h10, 53)
		h9 += h11
		h0 ^= h9
		h11 = bits.RotateLeft64(h11, 42)
		h10 += h0
		h1 ^= h10
		h0 = bits.RotateLeft64(h0, 54)
	}
	return h0, h1
}
