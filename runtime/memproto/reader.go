package memproto

import (
	"bytes"
	"errors"
	"io"
	"math"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Limits and defaults.
const (
	// DefaultBufferSize is the initial size of a Reader's or ReplyReader's
	// buffer, and memcached 1.6's read buffer size.
	DefaultBufferSize = 16 << 10
	// DefaultMaxItemSize is the default Reader.MaxItemSize: 1 MiB,
	// memcached's default item size limit (-I 1m).
	DefaultMaxItemSize = 1 << 20
	// DefaultMaxLineSize is the default Reader.MaxLineSize.
	DefaultMaxLineSize = 256 << 10
	// MaxKeyLength is the longest key memcached accepts.
	MaxKeyLength = 250
	// LineLimit is memcached's limit for a command line whose newline has
	// not arrived yet: when more than LineLimit bytes have arrived without
	// a newline, the connection is closed unless the line starts with
	// "get " or "gets " after at most 100 spaces (a large multiget).
	LineLimit = 2048
	// MaxCommandLine is the longest command line other than a get/gets
	// that memcached can process: its 16 KiB read buffer must hold the
	// line and its newline. A longer line closes the connection.
	MaxCommandLine = 16 << 10
	// ItemOverhead is what memcached 1.6 adds to the key and value lengths
	// of an item on 64-bit hosts: a 48-byte header, 8 bytes of CAS, the
	// key's NUL and the value's "\r\n".
	ItemOverhead = 48 + 8 + 1 + 2

	maxTokens     = 24 // memcached's MAX_TOKENS, including the terminal one
	maxMetaTokens = 20 // memcached's MFLAG_MAX_OPT_LENGTH
	maxOpaqueLen  = 32 // memcached's MFLAG_MAX_OPAQUE_LENGTH, 'O' included
)

// ErrWouldBlock is what an io.Reader given to a Reader returns when no data
// can be read without blocking. Unlike other read errors it is not sticky:
// ReadCommand passes it on and can be called again (see ReadCommand).
var ErrWouldBlock = errors.New("memproto: read would block")

// Reader reads memcached text protocol commands (classic and meta) from a
// client connection, behaving like memcached 1.6's parser, down to the
// error replies and which inputs close the connection (an HTTP request
// line, more than 2048 bytes without a newline, a line over 16 KiB).
// Deliberate differences: get/gets lines are bounded by MaxLineSize; the
// meta flags E, x and S of later memcached versions are accepted (and
// passed on to the backend, which judges them); "me" is answered as a
// miss; a get with a key over 250 bytes, or a line that closes the
// connection, does not make earlier pipelined replies vanish, as it does
// in memcached 1.6 (conn_release_items drops the unsent ones); a storage
// command whose line is rejected (a key over 250 bytes, bad flags) has its
// data block skipped when its length is valid, where memcached reads the
// block as the next command and puts pipelining clients out of step; and
// a long line is judged once all that has arrived of it is read, where
// memcached judges what one read into its 16 KiB buffer brought (and may
// close a connection whose long line straddles two reads).
//
// A Reader owns a buffer of DefaultBufferSize bytes that grows to hold a
// long multiget line (up to MaxLineSize) or a data block (up to
// MaxItemSize) and shrinks back afterwards. Slices in the Command filled by
// ReadCommand alias this buffer until the next ReadCommand call.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	// MaxItemSize is the item size limit of the backends, memcached's -I
	// option; 0 means DefaultMaxItemSize (1 MiB). As in memcached, a
	// storage command is refused when its item would not fit: when
	// ItemOverhead + len(key) + 4 (if flags != 0) + len(value) exceeds
	// MaxItemSize (1048516 bytes of value for a one-byte key and zero
	// flags at 1 MiB). It is answered with "SERVER_ERROR object too large
	// for cache", its data block is skipped, and the connection survives.
	// The Reader buffers values up to this size.
	MaxItemSize int
	// MaxLineSize bounds a get/gets line (the only lines memcached lets
	// grow beyond LineLimit); 0 means DefaultMaxLineSize. A longer one
	// closes the connection.
	MaxLineSize int

	b       rbuf
	swallow int64 // bytes of a rejected data block to skip
	pending error // the rejection to report once swallow is skipped
	scanned int   // bytes after b.r known to hold no '\n'
	keys    [][]byte
	scratch []byte // base64-decoded meta key
	toks    [maxTokens - 1][]byte
	tokOff  [maxTokens - 1]int
}

// NewReader returns a Reader reading from rd with a buffer of
// DefaultBufferSize bytes.
func NewReader(rd io.Reader) *Reader { return NewReaderSize(rd, DefaultBufferSize) }

// NewReaderSize returns a Reader reading from rd with an initial buffer of
// size bytes (at least 64).
func NewReaderSize(rd io.Reader, size int) *Reader {
	r := &Reader{}
	r.b.init(rd, size)
	return r
}

// Reset discards any buffered data and state and makes r read from rd,
// keeping its buffer and limits.
func (r *Reader) Reset(rd io.Reader) {
	r.b.init(rd, r.b.size)
	r.swallow, r.scanned, r.pending = 0, 0, nil
}

// Buffered returns the number of bytes received but not yet consumed: when
// it is zero after ReadCommand, no further command is ready and it is a
// good time to flush replies.
func (r *Reader) Buffered() int { return r.b.buffered() }

func (r *Reader) maxItem() int {
	if r.MaxItemSize > 0 {
		return r.MaxItemSize
	}
	return DefaultMaxItemSize
}

// tooLarge reports whether memcached would refuse the item.
func (r *Reader) tooLarge(nkey int, flags uint32, vlen int32) bool {
	limit := int64(r.maxItem())
	size := int64(ItemOverhead+nkey) + int64(vlen)
	if flags != 0 {
		size += 4
	}
	return size > limit
}

func (r *Reader) maxLine() int {
	if r.MaxLineSize > 0 {
		return r.MaxLineSize
	}
	return DefaultMaxLineSize
}

// ReadCommand reads the next command into cmd.
//
// It returns nil and a complete command, or a *ProtocolError for input
// memcached rejects (write its Reply, then close the connection if Close
// is set, else call ReadCommand again), or the read error of the
// underlying reader: io.EOF at the end of the stream between commands,
// io.ErrUnexpectedEOF inside one.
//
// If the underlying reader returns ErrWouldBlock (a non-blocking socket
// with no data yet), ReadCommand returns ErrWouldBlock having consumed no
// part of a command; call it again once data may have arrived, and it
// resumes where it stopped.
func (r *Reader) ReadCommand(cmd *Command) error {
	r.b.max = max(MaxCommandLine, r.maxLine()) + r.maxItem() + 2
	if r.swallow > 0 || r.pending != nil {
		// A rejected data block whose skipping was interrupted by
		// ErrWouldBlock: finish it, then report the rejection.
		if r.swallow > 0 {
			if err := r.skipSwallow(); err != nil {
				return err
			}
		}
		perr := r.pending
		r.pending = nil
		if perr != nil {
			return perr
		}
	}
	r.b.shrink()
	nl, err := r.findLine()
	if err != nil {
		return err
	}
	lineLen := nl + 1 - r.b.r
	data, perr := r.parseLine(r.commandLine(nl), cmd)
	if perr != nil {
		r.b.r = nl + 1
		if r.swallow > 0 {
			// memcached sends the error only once the rejected data block
			// has been read and dropped.
			if err := r.skipSwallow(); err != nil {
				if err == ErrWouldBlock {
					r.pending = perr
				}
				return err
			}
		}
		return perr
	}
	if data < 0 {
		r.b.r = nl + 1
		return nil
	}
	for r.b.w-(nl+1) < data {
		buf, start := r.b.buf, r.b.r
		if err := r.b.fill(lineLen + data); err != nil {
			return unexpected(err)
		}
		if &r.b.buf[0] != &buf[0] || r.b.r != start {
			// The line moved: parse it again where it is now, so that the
			// command's slices point into the live buffer.
			nl = r.b.r + lineLen - 1
			r.parseLine(r.commandLine(nl), cmd)
		}
	}
	block := r.b.buf[nl+1 : nl+1+data]
	r.b.r = nl + 1 + data
	if block[data-2] != '\r' || block[data-1] != '\n' {
		if cmd.Meta != 0 {
			return errMetaDataChunk
		}
		return errBadDataChunk.get(cmd.NoReply)
	}
	cmd.Value = block[:data-2]
	return nil
}

// commandLine returns the command line ending at the '\n' at index nl as
// memcached sees it: without the '\r' before the '\n' (unless the line is
// just "\r"), and up to its first NUL byte (memcached works on a C string).
func (r *Reader) commandLine(nl int) []byte {
	line := r.b.buf[r.b.r:nl]
	if len(line) > 1 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	return line
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// skipSwallow discards the rest of a rejected data block.
func (r *Reader) skipSwallow() error {
	for {
		r.swallow -= r.b.discard(r.swallow)
		if r.swallow == 0 {
			return nil
		}
		if err := r.b.fill(1); err != nil {
			return unexpected(err)
		}
	}
}

// findLine returns the index of the '\n' ending the next command line,
// applying memcached's rule for lines without a newline.
func (r *Reader) findLine() (int, error) {
	for {
		start := r.b.r + r.scanned
		if i := bytes.IndexByte(r.b.buf[start:r.b.w], '\n'); i >= 0 {
			r.scanned = 0
			nl := start + i
			if nl-r.b.r >= MaxCommandLine && !isMultiGet(r.b.buf[r.b.r:nl]) {
				return 0, errLineOverBuffer
			}
			if nl-r.b.r > r.maxLine() && nl-r.b.r >= MaxCommandLine {
				return 0, errLineTooLong
			}
			return nl, nil
		}
		pending := r.b.w - r.b.r
		r.scanned = pending
		if pending > LineLimit {
			if !isMultiGet(r.b.buf[r.b.r:r.b.w]) {
				// memcached judges what one read into its 16 KiB
				// buffer brought: read on while ours came back full
				// (the rest of the line may be waiting), as a
				// smaller buffer needs more reads for the same bytes.
				if !r.b.full || pending >= MaxCommandLine {
					return 0, errLineNoNewline
				}
			} else if pending >= r.maxLine() {
				return 0, errLineTooLong
			}
		}
		if err := r.b.fill(pending + 1); err != nil {
			if pending > 0 {
				return 0, unexpected(err)
			}
			return 0, err
		}
	}
}

// isMultiGet is memcached's test for a long line that may keep growing: at
// most 100 leading spaces, then "get " or "gets ".
func isMultiGet(b []byte) bool {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i > 100 {
		return false
	}
	b = b[i:]
	return bytes.HasPrefix(b, []byte("get ")) || bytes.HasPrefix(b, []byte("gets "))
}

// tokenize splits line on spaces like memcached's tokenize_command: at most
// 23 tokens; rest is what follows the 23rd token, if anything.
func (r *Reader) tokenize(line []byte) (n int, rest []byte) {
	i := 0
	for n < len(r.toks) {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return n, nil
		}
		j := len(line)
		if k := bytes.IndexByte(line[i:], ' '); k >= 0 {
			j = i + k
		}
		r.toks[n] = line[i:j]
		r.tokOff[n] = i
		n++
		i = j
	}
	if i < len(line) {
		rest = line[i+1:]
	}
	return n, rest
}

// parseLine parses a command line. It returns the length of the data block
// to read (value plus "\r\n"), or -1 if there is none.
func (r *Reader) parseLine(line []byte, cmd *Command) (int, *ProtocolError) {
	*cmd = Command{}
	n, rest := r.tokenize(line)
	// memcached's ntokens counts a terminal token: ntokens == n+1.
	if n == 0 || len(r.toks[0]) < 2 {
		return -1, errUnknownCommand.shown
	}
	name := r.toks[0]
	if name[0] == 'm' && len(name) == 2 {
		return r.parseMeta(line, n, cmd)
	}
	if (name[0] == 'g' || string(name) == "bget") && n < 2 {
		return -1, errUnknownCommand.shown
	}
	switch string(name) {
	case "get", "bget":
		return -1, r.parseGet(cmd, mc.OpGet, n, rest)
	case "gets":
		return -1, r.parseGet(cmd, mc.OpGets, n, rest)
	case "gat":
		return -1, r.parseGet(cmd, mc.OpGat, n, rest)
	case "gats":
		return -1, r.parseGet(cmd, mc.OpGats, n, rest)
	case "set":
		return r.parseStore(cmd, mc.OpSet, n)
	case "add":
		return r.parseStore(cmd, mc.OpAdd, n)
	case "replace":
		return r.parseStore(cmd, mc.OpReplace, n)
	case "append":
		return r.parseStore(cmd, mc.OpAppend, n)
	case "prepend":
		return r.parseStore(cmd, mc.OpPrepend, n)
	case "cas":
		return r.parseStore(cmd, mc.OpCas, n)
	case "delete":
		return -1, r.parseDelete(cmd, n)
	case "incr":
		return -1, r.parseArith(cmd, mc.OpIncr, n)
	case "decr":
		return -1, r.parseArith(cmd, mc.OpDecr, n)
	case "touch":
		return -1, r.parseTouch(cmd, n)
	case "flush_all":
		return -1, r.parseFlushAll(cmd, n)
	case "version":
		cmd.Op = mc.OpVersion
		return -1, nil
	case "quit":
		cmd.Op = mc.OpQuit
		return -1, nil
	case "verbosity":
		if n != 2 && n != 3 {
			return -1, errUnknownCommand.shown
		}
		cmd.Op = mc.OpVerbosity
		cmd.NoReply = string(r.toks[n-1]) == "noreply"
		if _, ok := cstrtoul(r.toks[1]); !ok {
			return -1, errBadFormat.get(cmd.NoReply)
		}
		cmd.Args = r.toks[1]
		return -1, nil
	case "stats":
		cmd.Op = mc.OpStats
		cmd.Args = r.args(line, n)
		return -1, nil
	case "shutdown":
		cmd.Op = mc.OpShutdown
		cmd.Args = r.args(line, n)
		return -1, nil
	case "slabs":
		return -1, r.parseSlabs(n)
	}
	return -1, unknownCommand(name, r.toks[n-1])
}

// unknownCommand answers a command line the Reader does not take as
// memcached's process_command_ascii does: "ERROR", except that a line
// whose last token starts with "HTTP/" (an HTTP request sent to memcached)
// closes the connection without a reply. memcached applies that rule only
// at the end of its dispatch, so not to lines starting with a letter it
// dispatches on first (g, s, a, c, i, d, t) nor to commands it has but the
// Reader does not take (lru_crawler, watch, lru, extstore, refresh_certs).
func unknownCommand(name, last []byte) *ProtocolError {
	switch name[0] {
	case 'g', 's', 'a', 'c', 'i', 'd', 't':
		return errUnknownCommand.shown
	}
	switch string(name) {
	case "lru_crawler", "watch", "lru", "extstore", "refresh_certs":
		return errUnknownCommand.shown
	}
	if bytes.HasPrefix(last, []byte("HTTP/")) {
		return errHTTP
	}
	return errUnknownCommand.shown
}

// parseSlabs checks a slabs command as memcached's process_slabs_command
// does, so that malformed arguments get memcached's error. The proxy does
// not pass slabs commands to servers: a well-formed one gets "ERROR", as
// an unknown command (suppressed by noreply where memcached honours it).
func (r *Reader) parseSlabs(n int) *ProtocolError {
	switch {
	case n == 4 && string(r.toks[1]) == "reassign":
		_, ok1 := cstrtol(r.toks[2])
		_, ok2 := cstrtol(r.toks[3])
		if !ok1 || !ok2 {
			return errBadFormat.shown
		}
	case n >= 3 && string(r.toks[1]) == "automove":
		nr := string(r.toks[n-1]) == "noreply"
		if string(r.toks[2]) != "ratio" {
			if _, ok := cstrtoul(r.toks[2]); !ok {
				return errBadFormat.get(nr)
			}
		}
		return errUnknownCommand.get(nr)
	}
	return errUnknownCommand.shown
}

// args returns the line after the command name, trimmed of spaces.
func (r *Reader) args(line []byte, n int) []byte {
	if n < 2 {
		return nil
	}
	return bytes.TrimRight(line[r.tokOff[1]:], " ")
}

func (r *Reader) parseGet(cmd *Command, op mc.Op, n int, rest []byte) *ProtocolError {
	cmd.Op = op
	first := 1
	if op == mc.OpGat || op == mc.OpGats {
		exp, ok := cstrtol(r.toks[1])
		if !ok {
			return errBadExptime.shown
		}
		cmd.Exptime = int64(exp)
		first = 2
	}
	keys := r.keys[:0]
	for _, k := range r.toks[first:n] {
		if len(k) > MaxKeyLength {
			return errKeyTooLong.shown
		}
		keys = append(keys, k)
	}
	for len(rest) > 0 {
		i := 0
		for i < len(rest) && rest[i] == ' ' {
			i++
		}
		j := len(rest)
		if k := bytes.IndexByte(rest[i:], ' '); k >= 0 {
			j = i + k
		}
		if j > i {
			if j-i > MaxKeyLength {
				r.keys = keys
				return errKeyTooLong.shown
			}
			keys = append(keys, rest[i:j])
		}
		rest = rest[j:]
	}
	r.keys = keys
	cmd.Keys = keys
	return nil
}

func (r *Reader) key1(cmd *Command) {
	r.keys = append(r.keys[:0], r.toks[1])
	cmd.Keys = r.keys
}

// parseStore parses set/add/replace/append/prepend/cas, following
// memcached's process_update_command.
func (r *Reader) parseStore(cmd *Command, op mc.Op, n int) (int, *ProtocolError) {
	nargs := 5 // key flags exptime bytes [noreply]
	if op == mc.OpCas {
		nargs = 6
	}
	if n != nargs && n != nargs+1 {
		return -1, errUnknownCommand.shown
	}
	cmd.Op = op
	nr := string(r.toks[n-1]) == "noreply"
	cmd.NoReply = nr
	if len(r.toks[1]) > MaxKeyLength {
		return -1, r.rejectBlock(r.toks[4], errKeyTooLong.get(nr))
	}
	flags, ok1 := cstrtoul(r.toks[2])
	exp, ok2 := cstrtol(r.toks[3])
	vlen, ok3 := cstrtol(r.toks[4])
	if !ok1 || !ok2 || !ok3 {
		return -1, r.rejectBlock(r.toks[4], errBadFormat.get(nr))
	}
	if op == mc.OpCas {
		cas, ok := cstrtoull(r.toks[5])
		if !ok {
			return -1, r.rejectBlock(r.toks[4], errBadFormat.get(nr))
		}
		cmd.CAS = cas
	}
	if vlen < 0 || vlen > math.MaxInt32-2 {
		return -1, errBadFormat.get(nr)
	}
	if r.tooLarge(len(r.toks[1]), flags, vlen) {
		r.swallow = int64(vlen) + 2
		if op == mc.OpSet {
			return -1, invalidate(errTooLarge.get(nr), 0, false, r.toks[1])
		}
		return -1, errTooLarge.get(nr)
	}
	cmd.Flags = flags
	cmd.Exptime = int64(exp)
	r.key1(cmd)
	return int(vlen) + 2, nil
}

// rejectBlock arranges for the data block of a storage command whose line
// is rejected to be skipped, when its length token is valid, and returns
// perr. This is a deliberate difference from memcached, which reads that
// block as the next command line: its reply is a second error (or, for a
// block that happens to be a command, that command's) that puts a
// pipelining client out of step with its replies.
func (r *Reader) rejectBlock(length []byte, perr *ProtocolError) *ProtocolError {
	if v, ok := cstrtol(length); ok && v >= 0 && v <= math.MaxInt32-2 {
		r.swallow = int64(v) + 2
	}
	return perr
}

// invalidate returns a copy of perr asking the caller to delete key (see
// ProtocolError.Invalidate): a classic delete when meta is 0, else an md,
// with the b flag when b is set (key is then the decoded key).
func invalidate(perr *ProtocolError, meta byte, b bool, key []byte) *ProtocolError {
	e := *perr
	e.Invalidate = &mc.Request{Op: mc.OpDelete, Key: bytes.Clone(key), Meta: meta}
	if b {
		e.Invalidate.MetaFlags = []byte("b")
	}
	return &e
}

// parseDelete follows memcached's process_delete_command.
func (r *Reader) parseDelete(cmd *Command, n int) *ProtocolError {
	if n < 2 || n > 4 {
		return errUnknownCommand.shown
	}
	cmd.Op = mc.OpDelete
	if n > 2 {
		zero := string(r.toks[2]) == "0"
		cmd.NoReply = string(r.toks[n-1]) == "noreply"
		valid := (n == 3 && (zero || cmd.NoReply)) || (n == 4 && zero && cmd.NoReply)
		if !valid {
			return errBadDelete.get(cmd.NoReply)
		}
	}
	if len(r.toks[1]) > MaxKeyLength {
		return errKeyTooLong.get(cmd.NoReply)
	}
	r.key1(cmd)
	return nil
}

// parseArith follows memcached's process_arithmetic_command.
func (r *Reader) parseArith(cmd *Command, op mc.Op, n int) *ProtocolError {
	if n != 3 && n != 4 {
		return errUnknownCommand.shown
	}
	cmd.Op = op
	cmd.NoReply = string(r.toks[n-1]) == "noreply"
	if len(r.toks[1]) > MaxKeyLength {
		return errKeyTooLong.get(cmd.NoReply)
	}
	d, ok := cstrtoull(r.toks[2])
	if !ok {
		return errBadDelta.get(cmd.NoReply)
	}
	cmd.Delta = d
	r.key1(cmd)
	return nil
}

// parseTouch follows memcached's process_touch_command.
func (r *Reader) parseTouch(cmd *Command, n int) *ProtocolError {
	if n != 3 && n != 4 {
		return errUnknownCommand.shown
	}
	cmd.Op = mc.OpTouch
	cmd.NoReply = string(r.toks[n-1]) == "noreply"
	if len(r.toks[1]) > MaxKeyLength {
		return errKeyTooLong.get(cmd.NoReply)
	}
	exp, ok := cstrtol(r.toks[2])
	if !ok {
		return errBadExptime.get(cmd.NoReply)
	}
	cmd.Exptime = int64(exp)
	r.key1(cmd)
	return nil
}

// parseFlushAll follows memcached's process_flush_all_command.
func (r *Reader) parseFlushAll(cmd *Command, n int) *ProtocolError {
	if n > 3 {
		return errUnknownCommand.shown
	}
	cmd.Op = mc.OpFlushAll
	cmd.NoReply = string(r.toks[n-1]) == "noreply"
	want := 1
	if cmd.NoReply {
		want = 2
	}
	if n != want {
		exp, ok := cstrtol(r.toks[1])
		if !ok {
			return errBadExptime.get(cmd.NoReply)
		}
		cmd.Exptime = int64(exp)
	}
	return nil
}
