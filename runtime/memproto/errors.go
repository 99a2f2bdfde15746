package memproto

import "github.com/mcroute/mcroute/runtime/mc"

// ProtocolError is a client input that memcached answers with an error (or
// by closing the connection). Reader.ReadCommand returns it instead of a
// command; the caller writes Reply (if any), in order with the replies of
// earlier commands, and then closes the connection if Close is set, or
// carries on reading otherwise.
type ProtocolError struct {
	// Reply is the line to send to the client, without "\r\n"; empty when
	// nothing is sent (the command asked for noreply, or the connection is
	// closed without a word, as memcached does).
	Reply string
	// Close is set when the connection must be closed after writing Reply.
	Close bool
	// Reason describes the problem for logs; it is never sent.
	Reason string
	// Invalidate, when not nil, is a delete the caller should carry out
	// after sending Reply (or nothing, for noreply): memcached deletes the
	// stored value of a key whose set (classic set, or ms in any mode) it
	// refuses as too large, so that no stale value survives the failed
	// update. It is a classic delete for a classic set and an md (with
	// the b flag if the key came base64-encoded) for an ms, and owns its
	// key.
	Invalidate *mc.Request
}

// Error returns a description of the problem.
func (e *ProtocolError) Error() string {
	if e.Reply != "" {
		return "memproto: " + e.Reason + ": " + e.Reply
	}
	return "memproto: " + e.Reason
}

// AppendTo appends Reply and "\r\n" to dst, or nothing when Reply is empty.
func (e *ProtocolError) AppendTo(dst []byte) []byte {
	if e.Reply == "" {
		return dst
	}
	dst = append(dst, e.Reply...)
	return append(dst, "\r\n"...)
}

// ReplyError reports a backend reply that cannot be parsed or does not fit
// the request. The connection is out of sync with its requests and must be
// closed. When the backend rejected a command whose data block it will then
// read as another command (an "ERROR" reply to a storage command), the reply
// passed to ReadReply still holds that error, so it can be relayed.
type ReplyError struct {
	// Reason says what was wrong.
	Reason string
}

// Error returns a description of the problem.
func (e *ReplyError) Error() string { return "memproto: bad reply: " + e.Reason }

// perr is a pair of pre-allocated ProtocolErrors for one reply: the one sent
// and the one suppressed by noreply.
type perr struct{ shown, quiet *ProtocolError }

func newPerr(reply, reason string) perr {
	return perr{
		shown: &ProtocolError{Reply: reply, Reason: reason},
		quiet: &ProtocolError{Reason: reason + " (reply suppressed by noreply: " + reply + ")"},
	}
}

func (p perr) get(noreply bool) *ProtocolError {
	if noreply {
		return p.quiet
	}
	return p.shown
}

// Replies memcached 1.6 sends for bad input.
const (
	replyError           = "ERROR"
	replyBadFormat       = "CLIENT_ERROR bad command line format"
	replyBadDataChunk    = "CLIENT_ERROR bad data chunk"
	replyTooLarge        = "SERVER_ERROR object too large for cache"
	replyBadDelete       = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
	replyBadDelta        = "CLIENT_ERROR invalid numeric delta argument"
	replyBadExptime      = "CLIENT_ERROR invalid exptime argument"
	replyMgFlagsTooLong  = "CLIENT_ERROR options flags are too long"
	replyFlagsTooLong    = "CLIENT_ERROR options flags too long"
	replyDuplicateFlag   = "CLIENT_ERROR duplicate flag"
	replyInvalidFlag     = "CLIENT_ERROR invalid flag"
	replyBadToken        = "CLIENT_ERROR bad token in command line format"
	replyBadKeyDecode    = "CLIENT_ERROR error decoding key"
	replyBadMLength      = "CLIENT_ERROR incorrect length for M token"
	replyBadInitial      = "CLIENT_ERROR invalid numeric initial value"
	replyBadDeltaValue   = "CLIENT_ERROR invalid numeric delta value"
	replyOpaqueTooLong   = "CLIENT_ERROR opaque token too long"
	replyBadMsMode       = "CLIENT_ERROR invalid mode for ms M token"
	replyBadMaMode       = "CLIENT_ERROR invalid mode for ma M token"
	replyInvalidOrDupFlg = "CLIENT_ERROR invalid or duplicate flag"
)

var (
	errUnknownCommand = newPerr(replyError, "unknown command or wrong number of arguments")
	errBadFormat      = newPerr(replyBadFormat, "bad command line format")
	errKeyTooLong     = newPerr(replyBadFormat, "key longer than 250 bytes")
	errBadDataChunk   = newPerr(replyBadDataChunk, "data block not followed by \\r\\n")
	errTooLarge       = newPerr(replyTooLarge, "value larger than the maximum")
	errBadDelete      = newPerr(replyBadDelete, "bad delete arguments")
	errBadDelta       = newPerr(replyBadDelta, "bad incr/decr delta")
	errBadExptime     = newPerr(replyBadExptime, "bad exptime")

	// Meta errors are never suppressed.
	errMgFlagsTooLong = &ProtocolError{Reply: replyMgFlagsTooLong, Reason: "too many meta flags"}
	errFlagsTooLong   = &ProtocolError{Reply: replyFlagsTooLong, Reason: "too many meta flags"}
	errOpaqueTooLong  = &ProtocolError{Reply: replyOpaqueTooLong, Reason: "opaque longer than 32 bytes"}
	errBadMsMode      = &ProtocolError{Reply: replyBadMsMode, Reason: "bad ms mode"}
	errBadMaMode      = &ProtocolError{Reply: replyBadMaMode, Reason: "bad ma mode"}
	errInvalidOrDup   = &ProtocolError{Reply: replyInvalidOrDupFlg, Reason: "bad meta flag"}
	errMetaBadFormat  = &ProtocolError{Reply: replyBadFormat, Reason: "bad meta command line format"}
	errMetaKeyTooLong = &ProtocolError{Reply: replyBadFormat, Reason: "key longer than 250 bytes"}
	errMetaDataChunk  = &ProtocolError{Reply: replyBadDataChunk, Reason: "data block not followed by \\r\\n"}
	errMetaTooLarge   = &ProtocolError{Reply: replyTooLarge, Reason: "value larger than the maximum"}
	errMetaDebugMiss  = &ProtocolError{Reply: "EN", Reason: "meta debug (me) is answered as a miss"}

	// preparse errors, indexed by metaErr.
	metaErrs = [...]*ProtocolError{
		metaErrNone:      nil,
		metaErrFormat:    {Reply: replyBadFormat, Reason: "bad meta flag token"},
		metaErrDuplicate: {Reply: replyDuplicateFlag, Reason: "duplicate meta flag"},
		metaErrInvalid:   {Reply: replyInvalidFlag, Reason: "invalid meta flag"},
		metaErrToken:     {Reply: replyBadToken, Reason: "bad meta flag token"},
		metaErrDecode:    {Reply: replyBadKeyDecode, Reason: "bad base64 key"},
		metaErrMLength:   {Reply: replyBadMLength, Reason: "bad M token"},
		metaErrInitial:   {Reply: replyBadInitial, Reason: "bad J token"},
		metaErrDelta:     {Reply: replyBadDeltaValue, Reason: "bad D token"},
	}

	errHTTP           = &ProtocolError{Close: true, Reason: "HTTP request line (memcached closes the connection)"}
	errLineNoNewline  = &ProtocolError{Close: true, Reason: "more than 2048 bytes without a newline (memcached closes the connection)"}
	errLineTooLong    = &ProtocolError{Close: true, Reason: "get line longer than MaxLineSize"}
	errLineOverBuffer = &ProtocolError{Close: true, Reason: "command line longer than memcached's read buffer"}
)
