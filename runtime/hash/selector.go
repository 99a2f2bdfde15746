package hash

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"
)

// Hash function names, spelled (case-sensitively) as mcrouter's hash_func.
const (
	FuncCh3         = "Ch3"
	FuncCrc32       = "Crc32"
	FuncWeightedCh3 = "WeightedCh3"
	FuncConstShard  = "ConstShard"
)

// funcs lists the supported names in the order they are reported.
var funcs = [...]string{FuncCh3, FuncCrc32, FuncWeightedCh3, FuncConstShard}

// Funcs returns the supported hash function names (a new slice each call).
// mcrouter's other hash functions (WeightedCh3Rv, Rendezvous,
// WeightedRendezvous, Latest, LoadBalancer) are not supported.
func Funcs() []string { return append([]string(nil), funcs[:]...) }

// Errors returned by [New]; they are wrapped with details, test them with
// [errors.Is].
var (
	ErrUnknownFunc = errors.New("hash: unknown hash function")
	ErrPoolSize    = errors.New("hash: invalid pool size")
	ErrWeight      = errors.New("hash: weight out of range [0, 1]")
)

// Spec describes a pool's hash function as configured on an mcrouter
// HashRoute/PoolRoute.
type Spec struct {
	// Func is the hash_func name: "Ch3", "Crc32", "WeightedCh3" or
	// "ConstShard" ([FuncCh3] etc.). If empty, "Ch3" is used, as in
	// mcrouter.
	Func string

	// Salt is appended to every routing key before hashing. If empty, the
	// routing key is hashed as is.
	Salt string

	// Weights are the per-server weights of WeightedCh3, each in [0, 1].
	// As in mcrouter, entries beyond the pool size are ignored (and not
	// validated), and missing entries, including all of them when Weights
	// is nil, default to [DefaultWeight] (0.5); rejecting a missing weights
	// array is left to the caller. Other functions ignore Weights.
	Weights []float64
}

// Selector picks the index in [0, n) of the server a routing key is sent to.
// Selectors are immutable and safe for concurrent use.
type Selector interface {
	// Pick returns the index for routingKey, which must already be the
	// routing key (see [RoutingKey]: routing prefix removed, cut at
	// [HashStop]); Pick appends the salt itself. The same key always gives
	// the same index. Pick does not retain routingKey and does not
	// allocate unless len(routingKey)+len(salt) exceeds 510 bytes.
	Pick(routingKey []byte) int

	// N returns the number of servers n.
	N() int
}

// New returns the selector for spec over a pool of n servers.
//
// It fails with [ErrUnknownFunc] for an unknown spec.Func, with
// [ErrPoolSize] when n < 1 or, for the Ch3-based functions (Ch3,
// WeightedCh3, ConstShard), n > [MaxPoolSize], and with [ErrWeight] when one
// of the first n weights of WeightedCh3 is outside [0, 1] or NaN. New copies
// spec.Weights.
func New(spec Spec, n int) (Selector, error) {
	fn := spec.Func
	if fn == "" {
		fn = FuncCh3
	}
	switch fn {
	case FuncCh3, FuncWeightedCh3, FuncConstShard:
		if n < 1 || n > MaxPoolSize {
			return nil, fmt.Errorf("%w: %s needs 1 to %d servers, got %d", ErrPoolSize, fn, MaxPoolSize, n)
		}
	case FuncCrc32:
		if n < 1 || uint64(n) > math.MaxUint32 {
			return nil, fmt.Errorf("%w: %s needs 1 to %d servers, got %d", ErrPoolSize, fn, uint64(math.MaxUint32), n)
		}
	default:
		return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownFunc, spec.Func, strings.Join(funcs[:], ", "))
	}

	base := selector{n: uint32(n), salt: spec.Salt, saltBytes: []byte(spec.Salt)}
	switch fn {
	case FuncCh3:
		return &ch3Selector{base}, nil
	case FuncCrc32:
		return &crc32Selector{base}, nil
	case FuncConstShard:
		return &constShardSelector{base}, nil
	}
	w := spec.Weights[:min(n, len(spec.Weights))]
	for i, v := range w {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%w: weights[%d] = %v", ErrWeight, i, v)
		}
	}
	return &weightedCh3Selector{base, append([]float64(nil), w...)}, nil
}

// selector holds what every selector needs.
type selector struct {
	n         uint32
	salt      string
	saltBytes []byte // salt as bytes, for APIs that take a slice
}

func (s *selector) N() int { return int(s.n) }

type ch3Selector struct{ selector }

func (s *ch3Selector) Pick(key []byte) int {
	if s.salt == "" {
		return int(Furc(key, s.n))
	}
	var b keyBuf
	return int(Furc(b.concat(key, s.salt, 0), s.n))
}

type crc32Selector struct{ selector }

func (s *crc32Selector) Pick(key []byte) int {
	sum := crc32.ChecksumIEEE(key)
	if len(s.saltBytes) > 0 {
		// CRC-32 can be continued, so key‖salt needs no buffer.
		sum = crc32.Update(sum, crc32.IEEETable, s.saltBytes)
	}
	return int(crc32Index(sum, s.n))
}

type constShardSelector struct{ selector }

func (s *constShardSelector) Pick(key []byte) int {
	if s.salt == "" {
		return int(ConstShard(key, s.n))
	}
	var b keyBuf
	return int(ConstShard(b.concat(key, s.salt, 0), s.n))
}

type weightedCh3Selector struct {
	selector
	weights []float64 // at most n entries, validated
}

func (s *weightedCh3Selector) Pick(key []byte) int {
	var b keyBuf
	return int(weightedCh3(b.concat(key, s.salt, wch3MaxSuffix), s.weights, s.n))
}

// Interface guards.
var (
	_ Selector = (*ch3Selector)(nil)
	_ Selector = (*crc32Selector)(nil)
	_ Selector = (*constShardSelector)(nil)
	_ Selector = (*weightedCh3Selector)(nil)
)
