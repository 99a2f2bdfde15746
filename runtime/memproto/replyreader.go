package memproto

import (
	"bytes"
	"io"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Defaults of ReplyReader.
const (
	// DefaultMaxReplyValueSize is the default ReplyReader.MaxValueSize.
	DefaultMaxReplyValueSize = 64 << 20
	// MaxReplyLineSize bounds a reply line (VALUE, meta or error line).
	MaxReplyLineSize = 64 << 10
)

// ReplyReader reads memcached replies from a backend connection, one per
// request, in the order the requests were sent.
//
// A ReplyReader owns a buffer of DefaultBufferSize bytes that grows to hold
// a whole reply (up to MaxValueSize of value) and shrinks back afterwards.
// rep.Value and rep.MetaFlags filled by ReadReply alias this buffer until
// the next ReadReply call.
//
// A ReplyReader is not safe for concurrent use.
type ReplyReader struct {
	// MaxValueSize is the largest value accepted in a reply; 0 means
	// DefaultMaxReplyValueSize. A larger one is a *ReplyError.
	MaxValueSize int

	b rbuf
}

// NewReplyReader returns a ReplyReader reading from rd with a buffer of
// DefaultBufferSize bytes.
func NewReplyReader(rd io.Reader) *ReplyReader { return NewReplyReaderSize(rd, DefaultBufferSize) }

// NewReplyReaderSize returns a ReplyReader reading from rd with an initial
// buffer of size bytes (at least 64).
func NewReplyReaderSize(rd io.Reader, size int) *ReplyReader {
	r := &ReplyReader{}
	r.b.init(rd, size)
	return r
}

// Reset discards any buffered data and makes r read from rd.
func (r *ReplyReader) Reset(rd io.Reader) { r.b.init(rd, r.b.size) }

// Buffered returns the number of bytes received but not yet consumed.
func (r *ReplyReader) Buffered() int { return r.b.buffered() }

// Fill reads once from the underlying reader into the buffer, consuming
// nothing: it returns nil when bytes arrived, else the reader's error
// (io.EOF at the end of the stream, ErrWouldBlock from a non-blocking
// source). A connection's reader uses it to wait for the server while no
// reply is expected, so that what arrives then is kept for ReadReply.
func (r *ReplyReader) Fill() error {
	return r.b.fill(r.b.buffered() + 1)
}

func (r *ReplyReader) maxValue() int {
	if r.MaxValueSize > 0 {
		return r.MaxValueSize
	}
	return DefaultMaxReplyValueSize
}

// Pre-allocated reasons for the common failures.
var (
	errReplyMalformed  = &ReplyError{Reason: "malformed reply line"}
	errReplyUnexpected = &ReplyError{Reason: "reply does not match the request"}
	errReplyTooLong    = &ReplyError{Reason: "reply line too long"}
	errReplyTooLarge   = &ReplyError{Reason: "value larger than MaxValueSize"}
	errReplyDataChunk  = &ReplyError{Reason: "value not followed by \\r\\n"}
	errReplyNoEnd      = &ReplyError{Reason: "VALUE not followed by END"}
	errReplyDesync     = &ReplyError{Reason: "backend rejected the command line of a storage command; its data block will be read as a command"}
	errReplyUnknownOp  = &ReplyError{Reason: "no reply format for this operation"}
)

// ReadReply reads the reply to one request of operation op (meta: the meta
// command letter, or 0 for a classic command) into rep.
//
// The result is in rep.Result: found/notfound for retrievals (a VALUE, or
// END alone), stored/notstored/exists/notfound for storage commands,
// deleted, touched, stored for incr/decr (with the new value in rep.Value),
// ok for flush_all, verbosity, version (the version in rep.Value) and
// noop; stats collects the STAT lines in rep.Value. Meta replies set
// rep.MetaFlags to the return flags, and rep.Flags and rep.CAS from the f
// and c flags. Error lines become error results with the text after
// SERVER_ERROR or CLIENT_ERROR in rep.Message: CLIENT_ERROR is
// mc.ResClientError; SERVER_ERROR is mc.ResRemoteError, or mc.ResBusy,
// mc.ResTryAgain or mc.ResShutdown for mcrouter's "307 ", "302 " and "301 "
// codes; ERROR is mc.ResBadCommand with no message.
//
// rep.Value and rep.MetaFlags alias the reader's buffer until the next
// call. Any error means the connection can no longer be trusted and must be
// closed: a read error, or a *ReplyError for a reply that is malformed or
// does not fit op (when the backend rejected the command line of a storage
// command, rep still holds the error reply, which can be relayed).
func (r *ReplyReader) ReadReply(op mc.Op, meta byte, rep *mc.Reply) error {
	r.b.max = 2*MaxReplyLineSize + r.maxValue() + 4
	r.b.shrink()
	*rep = mc.Reply{}
	end, err := r.lineAt(0)
	if err != nil {
		return err
	}
	line := r.line(0, end)
	next := end + 1
	if perr := parseErrorLine(line, rep); perr {
		r.b.r += next
		if desyncs(op, meta, line) {
			return errReplyDesync
		}
		return nil
	}
	if meta != 0 {
		return r.readMeta(op, meta, line, next, rep)
	}
	switch op {
	case mc.OpGet, mc.OpGets, mc.OpGat, mc.OpGats:
		return r.readValue(line, next, rep)
	case mc.OpSet, mc.OpAdd, mc.OpReplace, mc.OpAppend, mc.OpPrepend, mc.OpCas:
		switch string(line) {
		case "STORED":
			rep.Result = mc.ResStored
		case "NOT_STORED":
			rep.Result = mc.ResNotStored
		case "EXISTS":
			rep.Result = mc.ResExists
		case "NOT_FOUND":
			rep.Result = mc.ResNotFound
		}
	case mc.OpDelete:
		switch string(line) {
		case "DELETED":
			rep.Result = mc.ResDeleted
		case "NOT_FOUND":
			rep.Result = mc.ResNotFound
		}
	case mc.OpTouch:
		switch string(line) {
		case "TOUCHED":
			rep.Result = mc.ResTouched
		case "NOT_FOUND":
			rep.Result = mc.ResNotFound
		}
	case mc.OpIncr, mc.OpDecr:
		if string(line) == "NOT_FOUND" {
			rep.Result = mc.ResNotFound
			break
		}
		num := bytes.TrimRight(line, " ")
		if _, ok := parseDec(num); ok {
			rep.Result = mc.ResStored
			rep.Value = num
		}
	case mc.OpFlushAll, mc.OpVerbosity:
		if string(line) == "OK" {
			rep.Result = mc.ResOK
		}
	case mc.OpNoop:
		if string(line) == "MN" {
			rep.Result = mc.ResOK
		}
	case mc.OpVersion:
		if bytes.HasPrefix(line, []byte("VERSION ")) {
			rep.Result = mc.ResOK
			rep.Value = line[len("VERSION "):]
		}
	case mc.OpStats:
		return r.readStats(line, end, rep)
	default:
		r.b.r += next
		return errReplyUnknownOp
	}
	r.b.r += next
	if rep.Result == mc.ResUnknown {
		rep.Value = nil
		return errReplyUnexpected
	}
	return nil
}

// lineAt returns the offset (from b.r) of the '\n' ending the line that
// starts at offset pos, reading more as needed.
func (r *ReplyReader) lineAt(pos int) (int, error) {
	scanned := pos
	for {
		if i := bytes.IndexByte(r.b.buf[r.b.r+scanned:r.b.w], '\n'); i >= 0 {
			if scanned+i-pos > MaxReplyLineSize {
				return 0, errReplyTooLong
			}
			return scanned + i, nil
		}
		scanned = r.b.w - r.b.r
		if scanned-pos > MaxReplyLineSize {
			return 0, errReplyTooLong
		}
		if err := r.b.fill(scanned + 1); err != nil {
			if scanned > 0 {
				return 0, unexpected(err)
			}
			return 0, err
		}
	}
}

// line returns the line from offset start to the '\n' at offset end,
// without "\r\n" (or a bare "\n").
func (r *ReplyReader) line(start, end int) []byte {
	l := r.b.buf[r.b.r+start : r.b.r+end]
	if len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	return l
}

// ensure makes sure n bytes from b.r are buffered.
func (r *ReplyReader) ensure(n int) error {
	for r.b.w-r.b.r < n {
		if err := r.b.fill(n); err != nil {
			return unexpected(err)
		}
	}
	return nil
}

// readData reads a data block of n bytes plus "\r\n" at offset pos and
// returns the offset after it.
func (r *ReplyReader) readData(pos, n int) (int, error) {
	if n > r.maxValue() {
		return 0, errReplyTooLarge
	}
	if err := r.ensure(pos + n + 2); err != nil {
		return 0, err
	}
	if r.b.buf[r.b.r+pos+n] != '\r' || r.b.buf[r.b.r+pos+n+1] != '\n' {
		return 0, errReplyDataChunk
	}
	return pos + n + 2, nil
}

// readValue reads a classic retrieval reply: END, or one VALUE and END.
func (r *ReplyReader) readValue(line []byte, next int, rep *mc.Reply) error {
	if string(line) == "END" {
		rep.Result = mc.ResNotFound
		r.b.r += next
		return nil
	}
	if !bytes.HasPrefix(line, []byte("VALUE ")) {
		return errReplyUnexpected
	}
	_, rest := nextToken(line[len("VALUE "):]) // the key
	ftok, rest := nextToken(rest)
	ntok, rest := nextToken(rest)
	ctok, rest := nextToken(rest)
	if len(bytes.TrimLeft(rest, " ")) > 0 {
		return errReplyMalformed
	}
	flags, ok1 := parseDec(ftok)
	n, ok2 := parseDec(ntok)
	if !ok1 || !ok2 || flags > 1<<32-1 || n > 1<<31 {
		return errReplyMalformed
	}
	var cas uint64
	if len(ctok) > 0 {
		var ok bool
		if cas, ok = parseDec(ctok); !ok {
			return errReplyMalformed
		}
	}
	after, err := r.readData(next, int(n))
	if err != nil {
		return err
	}
	var endNL int
	if tail := r.b.buf[r.b.r+after : r.b.w]; len(tail) >= 5 && string(tail[:5]) == "END\r\n" {
		endNL = after + 4 // the usual case, without a search
	} else {
		if endNL, err = r.lineAt(after); err != nil {
			return err
		}
		if string(r.line(after, endNL)) != "END" {
			return errReplyNoEnd
		}
	}
	rep.Result = mc.ResFound
	rep.Flags = uint32(flags)
	rep.CAS = cas
	rep.Value = r.b.buf[r.b.r+next : r.b.r+next+int(n)]
	r.b.r += endNL + 1
	return nil
}

// readStats collects STAT lines up to END.
func (r *ReplyReader) readStats(line []byte, end int, rep *mc.Reply) error {
	pos := 0
	for {
		if string(line) == "END" {
			rep.Result = mc.ResOK
			rep.Value = r.b.buf[r.b.r : r.b.r+pos]
			r.b.r += end + 1
			return nil
		}
		if !bytes.HasPrefix(line, []byte("STAT ")) {
			return errReplyUnexpected
		}
		pos = end + 1
		if pos > r.maxValue() {
			return errReplyTooLarge
		}
		var err error
		if end, err = r.lineAt(pos); err != nil {
			return err
		}
		line = r.line(pos, end)
	}
}

// readMeta reads a meta reply whose first line is line.
func (r *ReplyReader) readMeta(op mc.Op, meta byte, line []byte, next int, rep *mc.Reply) error {
	if len(line) < 2 || (len(line) > 2 && line[2] != ' ') {
		return errReplyMalformed
	}
	code := string(line[:2])
	flags := line[2:]
	res := mc.ResUnknown
	va := false
	switch meta {
	case 'g':
		switch code {
		case "VA":
			res, va = mc.ResFound, true
		case "HD", "OK":
			res = mc.ResFound
		case "EN":
			res = mc.ResNotFound
		}
	case 's':
		switch code {
		case "HD", "OK":
			res = mc.ResStored
		case "NS":
			res = mc.ResNotStored
		case "EX":
			res = mc.ResExists
		case "NF":
			res = mc.ResNotFound
		}
	case 'd':
		switch code {
		case "HD", "OK":
			res = mc.ResDeleted
		case "NF":
			res = mc.ResNotFound
		case "EX":
			res = mc.ResExists
		}
	case 'a':
		switch code {
		case "VA":
			res, va = mc.ResStored, true
		case "HD", "OK":
			res = mc.ResStored
		case "NF":
			res = mc.ResNotFound
		case "NS":
			res = mc.ResNotStored
		case "EX":
			res = mc.ResExists
		}
	case 'n':
		if code == "MN" {
			res = mc.ResOK
		}
	}
	if res == mc.ResUnknown {
		return errReplyUnexpected
	}
	n := uint64(0)
	if va {
		var ntok []byte
		ntok, flags = nextToken(flags)
		var ok bool
		if n, ok = parseDec(ntok); !ok || n > 1<<31 {
			return errReplyMalformed
		}
	}
	flags = bytes.TrimLeft(flags, " ")
	// Return flags: f and c feed rep.Flags and rep.CAS.
	for rest := flags; len(rest) > 0; {
		var tok []byte
		tok, rest = nextToken(rest)
		if len(tok) < 2 {
			continue
		}
		switch tok[0] {
		case 'f':
			if v, ok := parseDec(tok[1:]); ok && v <= 1<<32-1 {
				rep.Flags = uint32(v)
			}
		case 'c':
			if v, ok := parseDec(tok[1:]); ok {
				rep.CAS = v
			}
		}
	}
	flagOff := len(line) - len(flags) // flags offset within line
	rep.Result = res
	if !va {
		if len(flags) > 0 {
			rep.MetaFlags = flags
		}
		r.b.r += next
		return nil
	}
	after, err := r.readData(next, int(n))
	if err != nil {
		return err
	}
	if len(flags) > 0 {
		rep.MetaFlags = r.b.buf[r.b.r+flagOff : r.b.r+flagOff+len(flags)]
	}
	rep.Value = r.b.buf[r.b.r+next : r.b.r+next+int(n)]
	r.b.r += after
	return nil
}

// parseErrorLine recognizes ERROR, CLIENT_ERROR and SERVER_ERROR lines.
func parseErrorLine(line []byte, rep *mc.Reply) bool {
	if len(line) < 5 {
		return false
	}
	switch {
	case bytes.HasPrefix(line, []byte("ERROR")):
		rep.Result = mc.ResBadCommand
		return true
	case bytes.HasPrefix(line, []byte("CLIENT_ERROR")) && (len(line) == 12 || line[12] == ' '):
		rep.Result = mc.ResClientError
		rep.Message = string(bytes.TrimLeft(line[12:], " "))
		return true
	case bytes.HasPrefix(line, []byte("SERVER_ERROR")) && (len(line) == 12 || line[12] == ' '):
		msg := bytes.TrimLeft(line[12:], " ")
		rep.Result = mc.ResRemoteError
		switch {
		case bytes.HasPrefix(msg, []byte("307 ")):
			rep.Result = mc.ResBusy
		case bytes.HasPrefix(msg, []byte("302 ")):
			rep.Result = mc.ResTryAgain
		case bytes.HasPrefix(msg, []byte("301 ")):
			rep.Result = mc.ResShutdown
		}
		rep.Message = string(msg)
		return true
	}
	return false
}

// desyncs reports whether an error line in reply to a storage command means
// memcached did not consume the data block (it rejected the command line
// before reading it), so that the block will produce a reply of its own.
func desyncs(op mc.Op, meta byte, line []byte) bool {
	if meta == 's' || (meta == 0 && op.HasValue()) {
		return bytes.HasPrefix(line, []byte("ERROR")) ||
			string(line) == replyBadFormat ||
			string(line) == replyFlagsTooLong
	}
	return false
}
