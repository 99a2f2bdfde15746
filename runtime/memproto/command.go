package memproto

import "github.com/mcroute/mcroute/runtime/mc"

// Command is one client command as read by Reader.ReadCommand.
//
// The commands and their Op: get, bget → OpGet; gets → OpGets; gat →
// OpGat; gats → OpGats; set, add, replace, append, prepend, cas → the
// operation of that name; delete → OpDelete; incr, decr → OpIncr, OpDecr;
// touch → OpTouch; flush_all → OpFlushAll; version → OpVersion; verbosity
// → OpVerbosity; stats → OpStats; quit → OpQuit; shutdown → OpShutdown;
// the meta commands as described for Op. The proxy answers version,
// verbosity, stats, quit (close the connection once earlier replies are
// written), shutdown and mn itself. Other memcached commands (slabs,
// lru_crawler, watch, lru, cache_memlimit, ...) get "ERROR", and "me"
// (meta debug) gets the reply to a miss, "EN", as *ProtocolError values.
//
// Ownership: Keys, Value, MetaFlags and Args alias the Reader's buffer (a
// base64 key, its scratch buffer) and are valid until the next call to
// ReadCommand on the same Reader. The Keys slice itself is reused across
// calls (it belongs to the Reader).
type Command struct {
	// Op is the operation. Meta commands carry the classic operation with
	// the same meaning: mg → OpGet; ms → OpSet, OpAdd, OpAppend, OpPrepend
	// or OpReplace by its M mode, OpCas when it has a C flag in set or
	// replace mode; md → OpDelete; ma → OpIncr or OpDecr by its M mode;
	// mn → OpNoop.
	Op mc.Op
	// Meta is 0 for a classic command, or the meta command letter ('g',
	// 's', 'd', 'a' or 'n').
	Meta byte
	// Keys are the keys: any number (possibly none, for "gat <exptime>")
	// for get, gets, gat and gats, one for the other keyed commands, none
	// otherwise. A meta key sent with the b flag is base64-decoded here.
	Keys [][]byte
	// Flags are the client flags of a storage command (meta: the F flag).
	Flags uint32
	// Exptime is the expiration time of storage commands, touch, gat and
	// gats, the delay of flush_all, and the T flag of meta commands, after
	// memcached's conversion to a 32-bit signed value.
	Exptime int64
	// CAS is the compare-and-swap value of cas (meta: the C flag).
	CAS uint64
	// Delta is the amount of incr/decr (meta: the D flag; 1 for ma
	// without one).
	Delta uint64
	// NoReply is set for a classic command ending in "noreply" and a meta
	// command with the q flag.
	NoReply bool
	// Value is the data block of a storage command, without "\r\n".
	Value []byte
	// MetaFlags holds a meta command's flag tokens (after the key, and
	// after the data length for ms) as the client sent them; nil if none.
	MetaFlags []byte
	// Args is the rest of the line of stats and shutdown (e.g. "items"),
	// and the level of verbosity, trimmed of spaces; nil if none.
	Args []byte
}

// Request fills req for key i of c (i must be 0 for commands with one key;
// for a command without keys, i is ignored and req.Key is nil). It does not
// allocate; req aliases c's slices.
func (c *Command) Request(i int, req *mc.Request) {
	var key []byte
	if i < len(c.Keys) {
		key = c.Keys[i]
	}
	*req = mc.Request{
		Op:        c.Op,
		Key:       key,
		Value:     c.Value,
		Flags:     c.Flags,
		Exptime:   c.Exptime,
		CAS:       c.CAS,
		Delta:     c.Delta,
		NoReply:   c.NoReply,
		Meta:      c.Meta,
		MetaFlags: c.MetaFlags,
	}
}
