package memproto

import "github.com/mcroute/mcroute/runtime/mc"

// Forwardable reports whether AppendRequest can serialize requests of op
// for a memcached backend: the keyed operations memcached implements, plus
// flush_all, version and (meta) noop. mcrouter's own operations (metaget,
// lease-get, lease-set, flushre) and the proxy-local ones (stats, quit,
// verbosity, shutdown) are not.
func Forwardable(op mc.Op) bool {
	switch op {
	case mc.OpGet, mc.OpGets, mc.OpGat, mc.OpGats, mc.OpSet, mc.OpAdd,
		mc.OpReplace, mc.OpAppend, mc.OpPrepend, mc.OpCas, mc.OpDelete,
		mc.OpIncr, mc.OpDecr, mc.OpTouch, mc.OpFlushAll, mc.OpVersion, mc.OpNoop:
		return true
	}
	return false
}

// AppendRequest appends to dst the request to send to a memcached backend
// for req, with key in place of req.Key (the router may have stripped a
// routing prefix), and returns the extended slice. It does not allocate
// beyond growing dst.
//
// A classic request is written as a classic command, a meta request
// (req.Meta != 0) as the same meta command. noreply is never sent, and the
// q flag is removed from meta flags, so that the backend answers every
// request and replies can be matched in order (AppendReply applies the
// client's noreply/q when answering). Other meta flags are kept in order,
// O (opaque) and k included; the numeric T, F, C and D flags are rewritten
// from req.Exptime, req.Flags, req.CAS and req.Delta, and added when req
// differs from the default a missing flag means (ms: T, F, C; md: C; ma: D,
// C). A meta key sent with the b flag is base64-encoded again.
//
// Requests whose op is not Forwardable append nothing.
func AppendRequest(dst []byte, req *mc.Request, key []byte) []byte {
	if req.Meta != 0 {
		return appendMetaRequest(dst, req, key)
	}
	switch req.Op {
	case mc.OpGet:
		dst = append(dst, "get "...)
	case mc.OpGets:
		dst = append(dst, "gets "...)
	case mc.OpGat, mc.OpGats:
		if req.Op == mc.OpGat {
			dst = append(dst, "gat "...)
		} else {
			dst = append(dst, "gats "...)
		}
		dst = appendInt(dst, req.Exptime)
		dst = append(dst, ' ')
	case mc.OpSet, mc.OpAdd, mc.OpReplace, mc.OpAppend, mc.OpPrepend, mc.OpCas:
		dst = append(dst, storeNames[req.Op]...)
		dst = append(dst, ' ')
		dst = append(dst, key...)
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(req.Flags))
		dst = append(dst, ' ')
		dst = appendInt(dst, req.Exptime)
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(len(req.Value)))
		if req.Op == mc.OpCas {
			dst = append(dst, ' ')
			dst = appendUint(dst, req.CAS)
		}
		dst = append(dst, "\r\n"...)
		dst = append(dst, req.Value...)
		return append(dst, "\r\n"...)
	case mc.OpDelete:
		dst = append(dst, "delete "...)
	case mc.OpIncr, mc.OpDecr:
		if req.Op == mc.OpIncr {
			dst = append(dst, "incr "...)
		} else {
			dst = append(dst, "decr "...)
		}
		dst = append(dst, key...)
		dst = append(dst, ' ')
		dst = appendUint(dst, req.Delta)
		return append(dst, "\r\n"...)
	case mc.OpTouch:
		dst = append(dst, "touch "...)
		dst = append(dst, key...)
		dst = append(dst, ' ')
		dst = appendInt(dst, req.Exptime)
		return append(dst, "\r\n"...)
	case mc.OpFlushAll:
		if req.Exptime == 0 {
			return append(dst, "flush_all\r\n"...)
		}
		dst = append(dst, "flush_all "...)
		dst = appendInt(dst, req.Exptime)
		return append(dst, "\r\n"...)
	case mc.OpVersion:
		return append(dst, "version\r\n"...)
	case mc.OpNoop:
		return append(dst, "mn\r\n"...)
	default:
		return dst
	}
	dst = append(dst, key...)
	return append(dst, "\r\n"...)
}

var storeNames = [...]string{
	mc.OpSet:     "set",
	mc.OpAdd:     "add",
	mc.OpReplace: "replace",
	mc.OpAppend:  "append",
	mc.OpPrepend: "prepend",
	mc.OpCas:     "cas",
}

func appendMetaRequest(dst []byte, req *mc.Request, key []byte) []byte {
	m := req.Meta
	switch m {
	case 'n':
		return append(dst, "mn\r\n"...)
	case 'g', 's', 'd', 'a':
	default:
		return dst
	}
	dst = append(dst, 'm', m, ' ')
	if hasFlag(req.MetaFlags, 'b') {
		dst = b64encode(dst, key)
	} else {
		dst = append(dst, key...)
	}
	if m == 's' {
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(len(req.Value)))
	}
	var seenT, seenF, seenC, seenD bool
	flags := req.MetaFlags
	for len(flags) > 0 {
		var tok []byte
		tok, flags = nextToken(flags)
		if len(tok) == 0 {
			break
		}
		switch c := tok[0]; {
		case c == 'q':
			continue
		case c == 'T':
			seenT = true
			dst = append(dst, " T"...)
			dst = appendInt(dst, req.Exptime)
			continue
		case c == 'F':
			seenF = true
			dst = append(dst, " F"...)
			dst = appendUint(dst, uint64(req.Flags))
			continue
		case c == 'C':
			seenC = true
			dst = append(dst, " C"...)
			dst = appendUint(dst, req.CAS)
			continue
		case c == 'D':
			seenD = true
			dst = append(dst, " D"...)
			dst = appendUint(dst, req.Delta)
			continue
		}
		dst = append(dst, ' ')
		dst = append(dst, tok...)
	}
	if m == 's' && !seenT && req.Exptime != 0 {
		dst = append(dst, " T"...)
		dst = appendInt(dst, req.Exptime)
	}
	if m == 's' && !seenF && req.Flags != 0 {
		dst = append(dst, " F"...)
		dst = appendUint(dst, uint64(req.Flags))
	}
	if m != 'g' && !seenC && req.CAS != 0 {
		dst = append(dst, " C"...)
		dst = appendUint(dst, req.CAS)
	}
	if m == 'a' && !seenD && req.Delta != 1 {
		dst = append(dst, " D"...)
		dst = appendUint(dst, req.Delta)
	}
	dst = append(dst, "\r\n"...)
	if m == 's' {
		dst = append(dst, req.Value...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}
