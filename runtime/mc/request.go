package mc

// Request is one memcached request as the route graph sees it.
//
// Ownership: the byte slices may alias a connection's read buffer. A Request
// is valid until the handler it was given to returns; code that keeps it
// longer (background fan-out, AllAsyncRoute) must Clone it first.
type Request struct {
	// Op is the operation; for meta commands it is the classic operation
	// with the same routing meaning (mg → get, ms → set/add/..., md →
	// delete, ma → incr/decr).
	Op Op
	// Key is the full key as the client sent it, including any routing
	// prefix and hash stop.
	Key []byte
	// Value is the data block of update-like operations, without "\r\n".
	Value []byte
	// Flags are the client flags stored with the value.
	Flags uint32
	// Exptime is the expiration time (seconds, or a unix time); gat/gats and
	// touch carry theirs here too.
	Exptime int64
	// CAS is the compare-and-swap token of cas.
	CAS uint64
	// Delta is the amount of incr/decr.
	Delta uint64
	// NoReply is set when the client asked for no reply ("noreply", or the
	// meta q flag).
	NoReply bool
	// Meta is 0 for a classic (text) command, or the meta command letter
	// ('g', 's', 'd', 'a', 'n') when the client spoke the meta protocol.
	Meta byte
	// MetaFlags holds the meta command's flag tokens after the key (and, for
	// ms, after the data length), space separated, as sent by the client.
	MetaFlags []byte
	// Failover marks the requests a FailoverRoute with failover_tag sends
	// to its failover children (mcrouter's failover tag): a destination
	// appends ":failover=1" to a key that has a hash stop, so that the
	// failover copy of an item is stored apart from the original.
	Failover bool
}

// Clone returns a deep copy of r that owns its memory.
func (r *Request) Clone() *Request {
	c := *r
	c.Key = cloneBytes(r.Key)
	c.Value = cloneBytes(r.Value)
	c.MetaFlags = cloneBytes(r.MetaFlags)
	return &c
}

// Reply is the answer to a Request.
//
// Ownership: Value and MetaFlags may alias a connection's buffer; they are
// valid until the Reply is reused or the request's handler returns. Copy
// them to keep them.
type Reply struct {
	// Result classifies the reply.
	Result Result
	// Value is the data of a hit, or the decimal result of incr/decr.
	Value []byte
	// Flags are the client flags of a hit.
	Flags uint32
	// CAS is the compare-and-swap token of a gets/gats hit.
	CAS uint64
	// Message is the error text of an error reply, if the source gave one
	// (ErrorRoute's response, a server's SERVER_ERROR text). When empty,
	// Result.ErrorText() is used.
	Message string
	// MetaFlags are the return flags of a meta reply, space separated.
	MetaFlags []byte
}

// Reset clears r for reuse, keeping the capacity of its buffers.
func (r *Reply) Reset() {
	*r = Reply{Value: r.Value[:0], MetaFlags: r.MetaFlags[:0]}
}

// CopyFrom makes r a copy of o, reusing r's buffers.
func (r *Reply) CopyFrom(o *Reply) {
	v, m := r.Value, r.MetaFlags
	*r = *o
	r.Value = append(v[:0], o.Value...)
	r.MetaFlags = append(m[:0], o.MetaFlags...)
}

// ErrorReply returns a Reply with result res and message msg.
func ErrorReply(res Result, msg string) Reply {
	return Reply{Result: res, Message: msg}
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
