package jsonm

// Test helper: SpookyHash V2 (Bob Jenkins, public domain), the string hash
// of folly::Hash that mcrouter's @hash and @weightedHash use. The package
// itself takes it through Options.Hash64; this copy only serves the tests
// and can be replaced by runtime/hash once that package exists.

import (
	"encoding/binary"
	"math/bits"
)

const (
	spookyConst     = 0xdeadbeefdeadbeef
	spookyBlockSize = 96  // 12 uint64
	spookyBufSize   = 192 // short hash below this length
)

// spookyHash64 is SpookyHashV2::Hash64(data, len, seed).
func spookyHash64(data []byte, seed uint64) uint64 {
	h1, _ := spookyHash128(data, seed, seed)
	return h1
}

// spookyHash32 is SpookyHashV2::Hash32(data, len, seed).
func spookyHash32(data []byte, seed uint32) uint32 {
	h1, _ := spookyHash128(data, uint64(seed), uint64(seed))
	return uint32(h1)
}

func spookyHash128(data []byte, seed1, seed2 uint64) (uint64, uint64) {
	if len(data) < spookyBufSize {
		return spookyShort(data, seed1, seed2)
	}
	var h [12]uint64
	h[0], h[3], h[6], h[9] = seed1, seed1, seed1, seed1
	h[1], h[4], h[7], h[10] = seed2, seed2, seed2, seed2
	h[2], h[5], h[8], h[11] = spookyConst, spookyConst, spookyConst, spookyConst
	var block [12]uint64
	n := len(data) / spookyBlockSize * spookyBlockSize
	for off := 0; off < n; off += spookyBlockSize {
		for i := range block {
			block[i] = binary.LittleEndian.Uint64(data[off+8*i:])
		}
		spookyMix(&block, &h)
	}
	var last [spookyBlockSize]byte
	rem := len(data) - n
	copy(last[:], data[n:])
	last[spookyBlockSize-1] = byte(rem)
	for i := range block {
		block[i] = binary.LittleEndian.Uint64(last[8*i:])
	}
	spookyEnd(&block, &h)
	return h[0], h[1]
}

func rot(x uint64, k int) uint64 { return bits.RotateLeft64(x, k) }

func spookyMix(d *[12]uint64, s *[12]uint64) {
	s[0] += d[0]
	s[2] ^= s[10]
	s[11] ^= s[0]
	s[0] = rot(s[0], 11)
	s[11] += s[1]
	s[1] += d[1]
	s[3] ^= s[11]
	s[0] ^= s[1]
	s[1] = rot(s[1], 32)
	s[0] += s[2]
	s[2] += d[2]
	s[4] ^= s[0]
	s[1] ^= s[2]
	s[2] = rot(s[2], 43)
	s[1] += s[3]
	s[3] += d[3]
	s[5] ^= s[1]
	s[2] ^= s[3]
	s[3] = rot(s[3], 31)
	s[2] += s[4]
	s[4] += d[4]
	s[6] ^= s[2]
	s[3] ^= s[4]
	s[4] = rot(s[4], 17)
	s[3] += s[5]
	s[5] += d[5]
	s[7] ^= s[3]
	s[4] ^= s[5]
	s[5] = rot(s[5], 28)
	s[4] += s[6]
	s[6] += d[6]
	s[8] ^= s[4]
	s[5] ^= s[6]
	s[6] = rot(s[6], 39)
	s[5] += s[7]
	s[7] += d[7]
	s[9] ^= s[5]
	s[6] ^= s[7]
	s[7] = rot(s[7], 57)
	s[6] += s[8]
	s[8] += d[8]
	s[10] ^= s[6]
	s[7] ^= s[8]
	s[8] = rot(s[8], 55)
	s[7] += s[9]
	s[9] += d[9]
	s[11] ^= s[7]
	s[8] ^= s[9]
	s[9] = rot(s[9], 54)
	s[8] += s[10]
	s[10] += d[10]
	s[0] ^= s[8]
	s[9] ^= s[10]
	s[10] = rot(s[10], 22)
	s[9] += s[11]
	s[11] += d[11]
	s[1] ^= s[9]
	s[10] ^= s[11]
	s[11] = rot(s[11], 46)
	s[10] += s[0]
}

func spookyEndPartial(h *[12]uint64) {
	h[11] += h[1]
	h[2] ^= h[11]
	h[1] = rot(h[1], 44)
	h[0] += h[2]
	h[3] ^= h[0]
	h[2] = rot(h[2], 15)
	h[1] += h[3]
	h[4] ^= h[1]
	h[3] = rot(h[3], 34)
	h[2] += h[4]
	h[5] ^= h[2]
	h[4] = rot(h[4], 21)
	h[3] += h[5]
	h[6] ^= h[3]
	h[5] = rot(h[5], 38)
	h[4] += h[6]
	h[7] ^= h[4]
	h[6] = rot(h[6], 33)
	h[5] += h[7]
	h[8] ^= h[5]
	h[7] = rot(h[7], 10)
	h[6] += h[8]
	h[9] ^= h[6]
	h[8] = rot(h[8], 13)
	h[7] += h[9]
	h[10] ^= h[7]
	h[9] = rot(h[9], 38)
	h[8] += h[10]
	h[11] ^= h[8]
	h[10] = rot(h[10], 53)
	h[9] += h[11]
	h[0] ^= h[9]
	h[11] = rot(h[11], 42)
	h[10] += h[0]
	h[1] ^= h[10]
	h[0] = rot(h[0], 54)
}

func spookyEnd(d *[12]uint64, h *[12]uint64) {
	for i := range h {
		h[i] += d[i]
	}
	spookyEndPartial(h)
	spookyEndPartial(h)
	spookyEndPartial(h)
}

func spookyShortMix(h0, h1, h2, h3 *uint64) {
	a, b, c, d := *h0, *h1, *h2, *h3
	c = rot(c, 50)
	c += d
	a ^= c
	d = rot(d, 52)
	d += a
	b ^= d
	a = rot(a, 30)
	a += b
	c ^= a
	b = rot(b, 41)
	b += c
	d ^= b
	c = rot(c, 54)
	c += d
	a ^= c
	d = rot(d, 48)
	d += a
	b ^= d
	a = rot(a, 38)
	a += b
	c ^= a
	b = rot(b, 37)
	b += c
	d ^= b
	c = rot(c, 62)
	c += d
	a ^= c
	d = rot(d, 34)
	d += a
	b ^= d
	a = rot(a, 5)
	a += b
	c ^= a
	b = rot(b, 36)
	b += c
	d ^= b
	*h0, *h1, *h2, *h3 = a, b, c, d
}

func spookyShortEnd(h0, h1, h2, h3 *uint64) {
	a, b, c, d := *h0, *h1, *h2, *h3
	d ^= c
	c = rot(c, 15)
	d += c
	a ^= d
	d = rot(d, 52)
	a += d
	b ^= a
	a = rot(a, 26)
	b += a
	c ^= b
	b = rot(b, 51)
	c += b
	d ^= c
	c = rot(c, 28)
	d += c
	a ^= d
	d = rot(d, 9)
	a += d
	b ^= a
	a = rot(a, 47)
	b += a
	c ^= b
	b = rot(b, 54)
	c += b
	d ^= c
	c = rot(c, 32)
	d += c
	a ^= d
	d = rot(d, 25)
	a += d
	b ^= a
	a = rot(a, 63)
	b += a
	*h0, *h1, *h2, *h3 = a, b, c, d
}

func spookyShort(data []byte, seed1, seed2 uint64) (uint64, uint64) {
	length := len(data)
	rem := length % 32
	a, b := seed1, seed2
	c, d := uint64(spookyConst), uint64(spookyConst)
	u64 := func(i int) uint64 { return binary.LittleEndian.Uint64(data[i:]) }
	p := 0
	if length > 15 {
		for end := length / 32 * 32; p < end; p += 32 {
			c += u64(p)
			d += u64(p + 8)
			spookyShortMix(&a, &b, &c, &d)
			a += u64(p + 16)
			b += u64(p + 24)
		}
		if rem >= 16 {
			c += u64(p)
			d += u64(p + 8)
			spookyShortMix(&a, &b, &c, &d)
			p += 16
			rem -= 16
		}
	}
	t := data[p:]
	d += uint64(length) << 56
	switch rem {
	case 15:
		d += uint64(t[14]) << 48
		fallthrough
	case 14:
		d += uint64(t[13]) << 40
		fallthrough
	case 13:
		d += uint64(t[12]) << 32
		fallthrough
	case 12:
		d += uint64(binary.LittleEndian.Uint32(t[8:]))
		c += binary.LittleEndian.Uint64(t)
	case 11:
		d += uint64(t[10]) << 16
		fallthrough
	case 10:
		d += uint64(t[9]) << 8
		fallthrough
	case 9:
		d += uint64(t[8])
		fallthrough
	case 8:
		c += binary.LittleEndian.Uint64(t)
	case 7:
		c += uint64(t[6]) << 48
		fallthrough
	case 6:
		c += uint64(t[5]) << 40
		fallthrough
	case 5:
		c += uint64(t[4]) << 32
		fallthrough
	case 4:
		c += uint64(binary.LittleEndian.Uint32(t))
	case 3:
		c += uint64(t[2]) << 16
		fallthrough
	case 2:
		c += uint64(t[1]) << 8
		fallthrough
	case 1:
		c += uint64(t[0])
	case 0:
		c += spookyConst
		d += spookyConst
	}
	spookyShortEnd(&a, &b, &c, &d)
	return a, b
}

// testHash64 is Options.Hash64 for the tests: SpookyHashV2 Hash64, seed 0.
func testHash64(b []byte) uint64 { return spookyHash64(b, 0) }
