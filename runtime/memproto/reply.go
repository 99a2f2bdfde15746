package memproto

import (
	"strings"

	"github.com/mcroute/mcroute/runtime/mc"
)

// AppendReply appends to dst the reply memcached would send to the client
// for req with the outcome rep, and returns the extended slice.
//
// Classic commands:
//   - get, gets, gat, gats: a hit (found) appends the VALUE line (with the
//     CAS for gets and gats) and the data block; a miss appends nothing; the
//     caller appends "END\r\n" once after the last key with AppendEnd. An
//     error result appends its error line (mcrouter sends the first error
//     of a multiget in place of END: see AppendEnd).
//   - storage commands: STORED, NOT_STORED, EXISTS or NOT_FOUND; delete:
//     DELETED or NOT_FOUND; touch: TOUCHED or NOT_FOUND; incr/decr: the
//     new value (rep.Value) or NOT_FOUND; flush_all and verbosity: OK;
//     version: "VERSION " and rep.Value; stats: rep.Value (STAT lines, see
//     AppendStat) and END; mn: MN; quit: nothing.
//   - With req.NoReply nothing at all is appended, errors included, as
//     memcached does.
//
// Meta commands get HD/VA/EN/NS/EX/NF/MN with their return flags: the
// flags the backend returned (rep.MetaFlags) in request order, with the O
// opaque and k key rebuilt from req (the client's key, in base64 with a b
// flag for a b request or when the backend echoed the key so); f, s and c are synthesized from rep when a reply has no
// flags of its own. The q flag suppresses EN for mg, HD for ms and md, and
// HD/VA for ma; errors are always sent.
//
// Errors: results of the client-error class (mc.ResClientError and the
// mc.ResBad* results) give "CLIENT_ERROR <text>", with rep.Message or a
// default text (none for mc.ResClientError, which gives a bare
// "CLIENT_ERROR"); mc.ResBadCommand without a message gives "ERROR" (what a
// backend's ERROR reply is read as); other errors give "SERVER_ERROR
// <text>" with rep.Message or rep.Result.ErrorText().
func AppendReply(dst []byte, req *mc.Request, rep *mc.Reply) []byte {
	if req.Meta != 0 {
		return appendMetaReply(dst, req, rep)
	}
	res := rep.Result
	if req.NoReply || req.Op == mc.OpQuit {
		return dst
	}
	if res.IsError() {
		return AppendError(dst, rep)
	}
	switch req.Op {
	case mc.OpGet, mc.OpGets, mc.OpGat, mc.OpGats, mc.OpMetaget, mc.OpLeaseGet:
		if res == mc.ResFound || res == mc.ResFoundStale {
			return AppendValue(dst, req.Key, rep.Flags, rep.Value, rep.CAS, req.Op == mc.OpGets || req.Op == mc.OpGats)
		}
		return dst
	case mc.OpIncr, mc.OpDecr:
		switch res {
		case mc.ResNotFound, mc.ResNotFoundHot:
			return append(dst, "NOT_FOUND\r\n"...)
		case mc.ResStored, mc.ResFound, mc.ResOK, mc.ResTouched:
			dst = append(dst, rep.Value...)
			return append(dst, "\r\n"...)
		}
	case mc.OpFlushAll, mc.OpFlushRe, mc.OpVerbosity:
		return append(dst, "OK\r\n"...)
	case mc.OpVersion:
		dst = append(dst, "VERSION "...)
		dst = append(dst, rep.Value...)
		return append(dst, "\r\n"...)
	case mc.OpStats:
		dst = append(dst, rep.Value...)
		return AppendEnd(dst)
	case mc.OpNoop:
		return append(dst, "MN\r\n"...)
	}
	if s := classicStatus(res); s != "" {
		dst = append(dst, s...)
		return append(dst, "\r\n"...)
	}
	return AppendError(dst, &mc.Reply{Result: mc.ResRemoteError, Message: "unexpected result " + res.String()})
}

// classicStatus is the status line of a non-error result, without "\r\n".
func classicStatus(res mc.Result) string {
	switch res {
	case mc.ResStored, mc.ResStaleStored:
		return "STORED"
	case mc.ResNotStored:
		return "NOT_STORED"
	case mc.ResExists:
		return "EXISTS"
	case mc.ResNotFound, mc.ResNotFoundHot:
		return "NOT_FOUND"
	case mc.ResDeleted:
		return "DELETED"
	case mc.ResTouched:
		return "TOUCHED"
	case mc.ResOK:
		return "OK"
	}
	return ""
}

// AppendValue appends one item of a classic retrieval reply:
// "VALUE <key> <flags> <bytes>[ <cas>]\r\n<value>\r\n".
func AppendValue(dst, key []byte, flags uint32, value []byte, cas uint64, withCAS bool) []byte {
	dst = append(dst, "VALUE "...)
	dst = append(dst, key...)
	dst = append(dst, ' ')
	dst = appendUint(dst, uint64(flags))
	dst = append(dst, ' ')
	dst = appendUint(dst, uint64(len(value)))
	if withCAS {
		dst = append(dst, ' ')
		dst = appendUint(dst, cas)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AppendEnd appends "END\r\n", which ends a classic retrieval reply (after
// the VALUE items of all keys, possibly none) and a stats reply. mcrouter
// replaces END with the error line of the first failed key of a multiget
// (use AppendError for that).
func AppendEnd(dst []byte) []byte { return append(dst, "END\r\n"...) }

// AppendStat appends one line of a stats reply: "STAT <name> <value>\r\n".
func AppendStat(dst []byte, name, value string) []byte {
	dst = append(dst, "STAT "...)
	dst = append(dst, name...)
	dst = append(dst, ' ')
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// IsClientError reports whether res is reported to clients as a
// CLIENT_ERROR (the client sent something wrong) rather than a
// SERVER_ERROR.
func IsClientError(res mc.Result) bool {
	switch res {
	case mc.ResClientError, mc.ResBadCommand, mc.ResBadKey, mc.ResBadFlags,
		mc.ResBadExptime, mc.ResBadLeaseID, mc.ResBadCasID, mc.ResBadValue:
		return true
	}
	return false
}

// AppendError appends the error line for rep: "ERROR" for
// mc.ResBadCommand without a message, "CLIENT_ERROR <text>" for the
// client-error class, "SERVER_ERROR <text>" otherwise. The text is
// rep.Message, or a default for the result; control characters in it are
// replaced by spaces so that the reply stays one line. mc.ResClientError
// without a message gives a bare "CLIENT_ERROR", as mcrouter writes it
// and as a backend's bare CLIENT_ERROR line is read.
func AppendError(dst []byte, rep *mc.Reply) []byte {
	res, msg := rep.Result, rep.Message
	switch {
	case res == mc.ResBadCommand && msg == "":
		return append(dst, "ERROR\r\n"...)
	case res == mc.ResClientError && msg == "":
		return append(dst, "CLIENT_ERROR\r\n"...)
	case IsClientError(res):
		if msg == "" {
			msg = strings.ReplaceAll(res.String(), "_", " ")
		}
		dst = append(dst, "CLIENT_ERROR "...)
	default:
		if msg == "" {
			msg = res.ErrorText()
		}
		dst = append(dst, "SERVER_ERROR "...)
	}
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c < ' ' || c == 0x7f {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, "\r\n"...)
}

// appendMetaReply writes the reply to a meta command.
func appendMetaReply(dst []byte, req *mc.Request, rep *mc.Reply) []byte {
	res := rep.Result
	if res.IsError() {
		return AppendError(dst, rep)
	}
	quiet := req.NoReply
	var code string
	hit, value := false, false
	switch req.Meta {
	case 'n':
		return append(dst, "MN\r\n"...)
	case 'g':
		switch res {
		case mc.ResNotFound, mc.ResNotFoundHot:
			if quiet {
				return dst
			}
			code = "EN"
		default:
			hit = true
			if hasFlag(req.MetaFlags, 'v') {
				value = true
			} else {
				code = "HD"
			}
		}
	case 's':
		switch res {
		case mc.ResStored, mc.ResStaleStored, mc.ResOK:
			if quiet {
				return dst
			}
			code = "HD"
		case mc.ResNotStored:
			code = "NS"
		case mc.ResExists:
			code = "EX"
		case mc.ResNotFound, mc.ResNotFoundHot:
			code = "NF"
		}
	case 'd':
		switch res {
		case mc.ResDeleted, mc.ResOK:
			if quiet {
				return dst
			}
			code = "HD"
		case mc.ResNotFound, mc.ResNotFoundHot:
			code = "NF"
		case mc.ResExists:
			code = "EX"
		}
	case 'a':
		switch res {
		case mc.ResStored, mc.ResFound, mc.ResOK, mc.ResTouched:
			if quiet {
				return dst
			}
			hit = true
			if hasFlag(req.MetaFlags, 'v') {
				value = true
			} else {
				code = "HD"
			}
		case mc.ResNotFound, mc.ResNotFoundHot:
			code = "NF"
		case mc.ResNotStored:
			code = "NS"
		case mc.ResExists:
			code = "EX"
		}
	}
	if code == "" && !value {
		return AppendError(dst, &mc.Reply{Result: mc.ResRemoteError, Message: "unexpected result " + res.String()})
	}
	if value {
		dst = append(dst, "VA "...)
		dst = appendUint(dst, uint64(len(rep.Value)))
	} else {
		dst = append(dst, code...)
	}
	dst = appendMetaRetFlags(dst, req, rep, hit)
	dst = append(dst, "\r\n"...)
	if value {
		dst = append(dst, rep.Value...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// appendMetaRetFlags appends the return flags of a meta reply in request
// order: O and k from the request, the others from rep.MetaFlags (or
// synthesized from rep for f, s and c), then the W, X and Z flags the
// backend added.
func appendMetaRetFlags(dst []byte, req *mc.Request, rep *mc.Reply, hit bool) []byte {
	flags := req.MetaFlags
	for len(flags) > 0 {
		var tok []byte
		tok, flags = nextToken(flags)
		if len(tok) == 0 {
			break
		}
		switch c := tok[0]; c {
		case 'O':
			dst = append(dst, ' ')
			dst = append(dst, tok...)
		case 'k':
			// A key is echoed in base64 for a b request; a backend's own
			// k flag says better (memcached echoes the key of a hit in
			// base64 when it was stored with b).
			b64 := hasFlag(req.MetaFlags, 'b')
			if findFlag(rep.MetaFlags, 'k') != nil {
				b64 = hasFlag(rep.MetaFlags, 'b')
			}
			dst = append(dst, " k"...)
			if b64 {
				dst = b64encode(dst, req.Key)
				dst = append(dst, " b"...)
			} else {
				dst = append(dst, req.Key...)
			}
		case 'c', 'f', 'h', 'l', 's', 't':
			if t := findFlag(rep.MetaFlags, c); t != nil {
				dst = append(dst, ' ')
				dst = append(dst, t...)
				continue
			}
			if len(rep.MetaFlags) > 0 {
				continue
			}
			switch {
			case c == 'c' && (hit || req.Meta == 's'):
				dst = append(dst, " c"...)
				dst = appendUint(dst, rep.CAS)
			case c == 'f' && hit && req.Meta == 'g':
				dst = append(dst, " f"...)
				dst = appendUint(dst, uint64(rep.Flags))
			case c == 's' && hit && req.Meta == 'g':
				dst = append(dst, " s"...)
				dst = appendUint(dst, uint64(len(rep.Value)))
			}
		}
	}
	extra := rep.MetaFlags
	for len(extra) > 0 {
		var tok []byte
		tok, extra = nextToken(extra)
		if len(tok) > 0 && (tok[0] == 'W' || tok[0] == 'X' || tok[0] == 'Z') {
			dst = append(dst, ' ')
			dst = append(dst, tok...)
		}
	}
	return dst
}
