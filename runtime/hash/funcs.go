package hash

import (
	"bytes"
	"hash/crc32"
)

const (
	// WeightedCh3Seed is the SpookyHashV2 Hash32 seed of mcrouter's
	// WeightedCh3 acceptance test: 0xface2014.
	WeightedCh3Seed uint32 = 0xface2014

	// DefaultWeight is the weight mcrouter's WeightedCh3 gives to servers
	// that have no entry in the weights array.
	DefaultWeight = 0.5

	wch3Tries = 32 // WeightedCh3 attempts (kNumTries)

	// wch3MaxSuffix is the longest retry suffix WeightedCh3 appends: the
	// reversed decimal of a try number below wch3Tries.
	wch3MaxSuffix = 2

	// stackBufSize is the size of the on-stack buffer used to build salted
	// and retry keys; it holds a 250-byte memcache key plus a long salt.
	stackBufSize = 512
)

// keyBuf is scratch space for building hash input on the stack.
type keyBuf [stackBufSize]byte

// concat returns key‖salt with capacity for extra more bytes. It uses b when
// everything fits and allocates otherwise.
func (b *keyBuf) concat(key []byte, salt string, extra int) []byte {
	need := len(key) + len(salt) + extra
	var buf []byte
	if need <= len(b) {
		buf = b[:0:need]
	} else {
		buf = make([]byte, 0, need)
	}
	buf = append(buf, key...)
	return append(buf, salt...)
}

// Crc32 returns mcrouter's Crc32 hash function of key for a pool of n
// servers: (CRC-32/IEEE(key) & 0x7fffffff) mod n, where CRC-32/IEEE is the
// zlib checksum ([hash/crc32.ChecksumIEEE]). It returns 0 when n is 0. Crc32
// is safe for concurrent use and does not allocate.
func Crc32(key []byte, n uint32) uint32 {
	return crc32Index(crc32.ChecksumIEEE(key), n)
}

func crc32Index(sum, n uint32) uint32 {
	if n == 0 {
		return 0
	}
	return (sum & 0x7fffffff) % n
}

// WeightedCh3 returns mcrouter's WeightedCh3 hash of key over
// n = len(weights) servers. Each attempt picks index = Furc(k, n) and
// accepts it when Spooky32(k, WeightedCh3Seed) < uint64(weights[index] *
// 4294967295.0) (float product truncated to an integer); otherwise the next
// attempt hashes the original key followed by the reversed decimal digits of
// the attempt number ("0", "1", …, "9", "01", "11", …). After 32 rejected
// attempts the last index is returned. Weights of 1.0 everywhere give the
// same result as Ch3; a weight of 0 makes a server unreachable except as the
// fallback of the last attempt.
//
// Weights are expected in [0, 1] and n ≤ [MaxPoolSize]; the result for other
// inputs is defined but meaningless. With no weights the result is 0.
// WeightedCh3 is safe for concurrent use and does not allocate for keys of
// up to 510 bytes.
func WeightedCh3(key []byte, weights []float64) uint32 {
	if len(weights) == 0 {
		return 0
	}
	var b keyBuf
	return weightedCh3(b.concat(key, "", wch3MaxSuffix), weights, uint32(len(weights)))
}

// weightedCh3 runs the WeightedCh3 loop for the key in buf, which must have
// capacity for wch3MaxSuffix more bytes. Indices at or beyond len(weights)
// (up to n) use DefaultWeight, which is how mcrouter pads a short weights
// array.
func weightedCh3(buf []byte, weights []float64, n uint32) uint32 {
	key := buf
	l := len(buf)
	var index uint32
	for i := range wch3Tries {
		index = Furc(key, n)
		w := DefaultWeight
		if int(index) < len(weights) {
			w = weights[index]
		}
		if uint64(Spooky32(key, WeightedCh3Seed)) < uint64(w*4294967295.0) {
			return index
		}
		if i == wch3Tries-1 {
			break
		}
		// Next attempt: original key ‖ reversed decimal of i.
		key = buf[:l]
		for v := i; ; v /= 10 {
			key = append(key, byte('0'+v%10))
			if v < 10 {
				break
			}
		}
	}
	return index
}

// ConstShard returns mcrouter's ConstShard hash of key for a pool of n
// servers: when key has the form "prefix:<shard>:rest", where the text
// between the first and the second ':' is a non-empty run of ASCII digits
// whose value is below n, the result is that value; otherwise it is
// Furc(key, n) (Ch3). It returns 0 when n ≤ 1. ConstShard is safe for
// concurrent use and does not allocate.
func ConstShard(key []byte, n uint32) uint32 {
	if idx, ok := shardIndex(key, n); ok {
		return idx
	}
	return Furc(key, n)
}

// shardIndex parses the shard number of a "prefix:<digits>:rest" key and
// reports whether it is a valid index below n.
func shardIndex(key []byte, n uint32) (uint32, bool) {
	i := bytes.IndexByte(key, ':')
	if i < 0 {
		return 0, false
	}
	rest := key[i+1:]
	j := bytes.IndexByte(rest, ':')
	if j <= 0 {
		return 0, false
	}
	var v uint64
	for _, c := range rest[:j] {
		if c < '0' || c > '9' {
			return 0, false
		}
		// v only grows, so once it reaches n the shard is out of range
		// (this also rules out overflow).
		if v = v*10 + uint64(c-'0'); v >= uint64(n) {
			return 0, false
		}
	}
	return uint32(v), true
}
