// Package hash maps memcache keys to pool indices exactly as Facebook's
// mcrouter does, so that mcroute and mcrouter agree on which server owns a
// key.
//
// # What is hashed
//
// mcrouter never hashes the full key. A full key such as
//
//	/region/cluster/user:42|#|v2
//
// is split by [RoutingKey] into the routing prefix "/region/cluster/" (used
// only to pick a route tree) and the routing key "user:42": the prefix is
// removed and everything from the first hash stop "|#|" on is cut off. A
// [Selector] hashes the routing key with the route's salt appended
// (routingKey ‖ salt), as mcrouter's HashSelector does; an empty salt hashes
// the routing key alone. The hash function gets n, the number of children
// (servers) of the pool.
//
// # Hash functions
//
// The supported hash_func names are the case-sensitive mcrouter spellings:
//
//   - "Ch3" (the default): furc_hash, a consistent hash over a
//     MurmurHash64A bit stream ([Furc]). Growing n only moves keys to the
//     new indices. Pools are limited to [MaxPoolSize] servers.
//   - "Crc32": (CRC-32/IEEE(key) & 0x7fffffff) mod n ([Crc32]); not
//     consistent.
//   - "WeightedCh3": Ch3 with per-server weights in [0, 1], accepted with a
//     SpookyHashV2 coin flip and retried with salted keys ([WeightedCh3]).
//   - "ConstShard": keys of the form "prefix:<shard>:rest" go to server
//     <shard> when it is a valid index; all other keys use Ch3
//     ([ConstShard]).
//
// The results are bit-exact with mcrouter (lib/fbi/hash.c, Ch3HashFunc,
// Crc32HashFunc, WeightedCh3HashFunc, ConstShardHashFunc and folly's
// SpookyHashV2) and are checked against vectors produced with mcrouter's own
// code (testdata/*.tsv). Like mcrouter, the functions read input words as
// little-endian values; unlike the C code, the results do not depend on the
// host's byte order.
//
// All functions and selectors in this package are safe for concurrent use,
// and [Selector.Pick] does not allocate for keys of ordinary memcache size.
package hash
