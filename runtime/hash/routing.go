package hash

import "bytes"

// HashStop is the marker that ends the routing key: everything from the
// first "|#|" after the routing prefix is not hashed. mcrouter leaves the
// marker in the key that is sent to the server.
const HashStop = "|#|"

// RoutingKey splits a full memcache key the way mcrouter does
// (carbon::Keys). A routing prefix is recognised iff the key starts with '/'
// and contains at least two more '/'; it is everything up to and including
// the third '/' ("/a/b/foo" → "/a/b/"; "/a/b" and "/abc" have none; "///foo"
// → "///"). prefix is nil when there is none. routingKey is the rest of the
// key up to the first [HashStop], i.e. the bytes a [Selector] hashes.
//
// Both results are sub-slices of fullKey with their capacity capped, so
// appending to them never overwrites fullKey. RoutingKey does not validate
// characters, is safe for concurrent use and does not allocate.
func RoutingKey(fullKey []byte) (prefix, routingKey []byte) {
	rest := fullKey
	if len(fullKey) > 0 && fullKey[0] == '/' {
		if i := bytes.IndexByte(fullKey[1:], '/'); i >= 0 {
			second := 1 + i
			if j := bytes.IndexByte(fullKey[second+1:], '/'); j >= 0 {
				end := second + 1 + j + 1
				prefix, rest = fullKey[:end:end], fullKey[end:]
			}
		}
	}
	if k := bytes.Index(rest, []byte(HashStop)); k >= 0 {
		rest = rest[:k]
	}
	return prefix, rest[:len(rest):len(rest)]
}
