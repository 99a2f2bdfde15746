package memproto

import (
	"encoding/binary"
)

// The memcached binary protocol (server side). memcached 1.6 still serves
// it, deprecated, and many clients speak nothing else: php-memcached's
// session handler by default, spymemcached, EnyimMemcached, libmemcached
// with MEMCACHED_BEHAVIOR_BINARY_PROTOCOL. A connection speaks it when its
// first byte is BinaryRequestMagic (memcached decides once per connection,
// from that byte; see Reader.Binary).
//
// A packet is a 24-byte header followed by a body of extras, key and value:
//
//	magic opcode keylen(2) extlen datatype vbucket-or-status(2)
//	bodylen(4) opaque(4) cas(8)
//
// Numbers are big-endian.

// Binary protocol magic bytes and the header size.
const (
	BinaryRequestMagic  = 0x80
	BinaryResponseMagic = 0x81
	BinaryHeaderLen     = 24
)

// BinaryOpcode is a binary protocol command.
type BinaryOpcode uint8

// The opcodes memcached 1.6 knows. Names ending in Q are the quiet
// variants: they suppress the reply of a success (and, for the get family,
// of a miss), never of an error.
const (
	BinGet       BinaryOpcode = 0x00
	BinSet       BinaryOpcode = 0x01
	BinAdd       BinaryOpcode = 0x02
	BinReplace   BinaryOpcode = 0x03
	BinDelete    BinaryOpcode = 0x04
	BinIncrement BinaryOpcode = 0x05
	BinDecrement BinaryOpcode = 0x06
	BinQuit      BinaryOpcode = 0x07
	BinFlush     BinaryOpcode = 0x08
	BinGetQ      BinaryOpcode = 0x09
	BinNoop      BinaryOpcode = 0x0a
	BinVersion   BinaryOpcode = 0x0b
	BinGetK      BinaryOpcode = 0x0c
	BinGetKQ     BinaryOpcode = 0x0d
	BinAppend    BinaryOpcode = 0x0e
	BinPrepend   BinaryOpcode = 0x0f
	BinStat      BinaryOpcode = 0x10
	BinSetQ      BinaryOpcode = 0x11
	BinAddQ      BinaryOpcode = 0x12
	BinReplaceQ  BinaryOpcode = 0x13
	BinDeleteQ   BinaryOpcode = 0x14
	BinIncrQ     BinaryOpcode = 0x15
	BinDecrQ     BinaryOpcode = 0x16
	BinQuitQ     BinaryOpcode = 0x17
	BinFlushQ    BinaryOpcode = 0x18
	BinAppendQ   BinaryOpcode = 0x19
	BinPrependQ  BinaryOpcode = 0x1a
	BinVerbosity BinaryOpcode = 0x1b
	BinTouch     BinaryOpcode = 0x1c
	BinGAT       BinaryOpcode = 0x1d
	BinGATQ      BinaryOpcode = 0x1e
	BinSASLList  BinaryOpcode = 0x20
	BinSASLAuth  BinaryOpcode = 0x21
	BinSASLStep  BinaryOpcode = 0x22
	BinGATK      BinaryOpcode = 0x23
	BinGATKQ     BinaryOpcode = 0x24
)

// quietOf maps each quiet opcode to its loud form.
var quietOf = [256]BinaryOpcode{
	BinGetQ: BinGet, BinGetKQ: BinGetK, BinSetQ: BinSet, BinAddQ: BinAdd,
	BinReplaceQ: BinReplace, BinDeleteQ: BinDelete, BinIncrQ: BinIncrement,
	BinDecrQ: BinDecrement, BinQuitQ: BinQuit, BinFlushQ: BinFlush,
	BinAppendQ: BinAppend, BinPrependQ: BinPrepend, BinGATQ: BinGAT,
	BinGATKQ: BinGATK,
}

// Loud returns the opcode without its quiet bit and whether o was quiet:
// (BinGet, true) for BinGetQ, (o, false) for an opcode that is not quiet.
func (o BinaryOpcode) Loud() (BinaryOpcode, bool) {
	if l := quietOf[o]; l != 0 || o == BinGetQ {
		return l, true
	}
	return o, false
}

// IsRetrieval reports whether o is one of the get or gat commands (loud or
// quiet), which a client pipelines to fetch many keys.
func (o BinaryOpcode) IsRetrieval() bool {
	switch l, _ := o.Loud(); l {
	case BinGet, BinGetK, BinGAT, BinGATK:
		return true
	}
	return false
}

// BinaryStatus is the status of a binary response.
type BinaryStatus uint16

// The statuses memcached 1.6 sends (protocol_binary.h).
const (
	BinStatusOK             BinaryStatus = 0x00
	BinStatusKeyNotFound    BinaryStatus = 0x01
	BinStatusKeyExists      BinaryStatus = 0x02
	BinStatusTooLarge       BinaryStatus = 0x03
	BinStatusInvalid        BinaryStatus = 0x04
	BinStatusNotStored      BinaryStatus = 0x05
	BinStatusDeltaBadValue  BinaryStatus = 0x06
	BinStatusAuthError      BinaryStatus = 0x20
	BinStatusUnknownCommand BinaryStatus = 0x81
	BinStatusOutOfMemory    BinaryStatus = 0x82
	BinStatusNotSupported   BinaryStatus = 0x83
	BinStatusInternal       BinaryStatus = 0x84
	BinStatusBusy           BinaryStatus = 0x85
	BinStatusTempFailure    BinaryStatus = 0x86
)

// Text returns the body memcached sends with an error status when it has no
// more specific message ("Not found", "Data exists for key.", ...).
func (s BinaryStatus) Text() string {
	switch s {
	case BinStatusOutOfMemory:
		return "Out of memory"
	case BinStatusUnknownCommand:
		return "Unknown command"
	case BinStatusKeyNotFound:
		return "Not found"
	case BinStatusInvalid:
		return "Invalid arguments"
	case BinStatusKeyExists:
		return "Data exists for key."
	case BinStatusTooLarge:
		return "Too large."
	case BinStatusDeltaBadValue:
		return "Non-numeric server-side value for incr or decr"
	case BinStatusNotStored:
		return "Not stored."
	case BinStatusAuthError:
		return "Auth failure."
	case BinStatusNotSupported:
		return "Not supported"
	case BinStatusInternal:
		return "Internal error"
	case BinStatusBusy:
		return "Busy"
	case BinStatusTempFailure:
		return "Temporary failure"
	}
	return ""
}

// BinaryRequest is one binary protocol request as read by
// Reader.ReadBinary.
//
// Ownership: Extras, Key and Value alias the Reader's buffer and are valid
// until the next call on the same Reader.
type BinaryRequest struct {
	Opcode   BinaryOpcode
	DataType uint8
	VBucket  uint16
	// BodyLen is the body length the header announced (extras, key and
	// value).
	BodyLen uint32
	Opaque  uint32
	CAS     uint64
	Extras  []byte
	Key     []byte
	Value   []byte
	// TooLarge is set, and Value is nil, when the value would not fit
	// MaxItemSize: its bytes are skipped before the next request is read.
	// The request is to be answered with BinStatusTooLarge (memcached's
	// E2BIG), or as its opcode requires when the opcode takes no value.
	TooLarge bool
}

// BinaryError is input that ends a binary connection: memcached closes it,
// after sending Status (with its Text) unless Status is zero (a bad magic
// byte is answered with silence).
type BinaryError struct {
	Status BinaryStatus
	Reason string
}

func (e *BinaryError) Error() string { return "memproto: binary protocol: " + e.Reason }

var (
	errBinMagic   = &BinaryError{Reason: "bad magic byte"}
	errBinLengths = &BinaryError{Status: BinStatusUnknownCommand, Reason: "key and extras longer than the body"}
	errBinKeyLong = &BinaryError{Status: BinStatusInvalid, Reason: "key longer than 250 bytes"}
)

// Binary waits for the first byte of the connection and reports whether it
// is BinaryRequestMagic, memcached's test for a binary protocol client. It
// consumes nothing. Errors are those of the underlying reader (ErrWouldBlock
// included; call again once data may have arrived).
func (r *Reader) Binary() (bool, error) {
	for r.b.buffered() == 0 {
		if err := r.b.fill(1); err != nil {
			return false, err
		}
	}
	return r.b.buf[r.b.r] == BinaryRequestMagic, nil
}

// PeekBinaryOpcode returns the opcode of the next request if its first two
// bytes are buffered.
func (r *Reader) PeekBinaryOpcode() (BinaryOpcode, bool) {
	if r.b.buffered() < 2 || r.b.buf[r.b.r] != BinaryRequestMagic {
		return 0, false
	}
	return BinaryOpcode(r.b.buf[r.b.r+1]), true
}

// ReadBinary reads the next binary protocol request into req.
//
// It returns nil and a complete request, a *BinaryError for input after
// which memcached closes the connection, or the read error of the
// underlying reader (io.EOF between requests, io.ErrUnexpectedEOF inside
// one). As ReadCommand, it passes ErrWouldBlock on having consumed nothing
// that it cannot resume from.
//
// The whole body is buffered unless its value would exceed MaxItemSize
// (see BinaryRequest.TooLarge), so a client cannot make the Reader hold
// more than one item.
func (r *Reader) ReadBinary(req *BinaryRequest) error {
	if r.swallow > 0 {
		if err := r.skipSwallow(); err != nil {
			return err
		}
	}
	r.b.shrink()
	for r.b.buffered() < BinaryHeaderLen {
		if err := r.b.fill(BinaryHeaderLen); err != nil {
			if r.b.buffered() > 0 {
				return unexpectedUnlessBlocked(err)
			}
			return err
		}
	}
	h := r.b.buf[r.b.r : r.b.r+BinaryHeaderLen]
	if h[0] != BinaryRequestMagic {
		return errBinMagic
	}
	keyLen := int(binary.BigEndian.Uint16(h[2:]))
	extLen := int(h[4])
	bodyLen := binary.BigEndian.Uint32(h[8:])
	*req = BinaryRequest{
		Opcode:   BinaryOpcode(h[1]),
		DataType: h[5],
		VBucket:  binary.BigEndian.Uint16(h[6:]),
		BodyLen:  bodyLen,
		Opaque:   binary.BigEndian.Uint32(h[12:]),
		CAS:      binary.BigEndian.Uint64(h[16:]),
	}
	if int64(keyLen)+int64(extLen) > int64(bodyLen) {
		return errBinLengths
	}
	if keyLen > MaxKeyLength {
		return errBinKeyLong
	}
	valueLen := int64(bodyLen) - int64(keyLen) - int64(extLen)
	var flags uint32
	if extLen >= 4 {
		// Storage commands' extras start with the flags; other
		// commands' values are bounded the same way.
		for r.b.buffered() < BinaryHeaderLen+4 {
			if err := r.b.fill(BinaryHeaderLen + 4); err != nil {
				return unexpectedUnlessBlocked(err)
			}
		}
		flags = binary.BigEndian.Uint32(r.b.buf[r.b.r+BinaryHeaderLen:])
	}
	need := BinaryHeaderLen + extLen + keyLen
	tooLarge := valueLen > int64(int32(^uint32(0)>>1)) || r.tooLarge(keyLen, flags, int32(valueLen))
	if !tooLarge {
		need += int(valueLen)
	}
	r.b.max = max(MaxCommandLine, BinaryHeaderLen+255+MaxKeyLength+r.maxItem())
	for r.b.buffered() < need {
		if err := r.b.fill(need); err != nil {
			return unexpectedUnlessBlocked(err)
		}
	}
	p := r.b.buf[r.b.r+BinaryHeaderLen : r.b.r+need]
	req.Extras = p[:extLen:extLen]
	req.Key = p[extLen : extLen+keyLen : extLen+keyLen]
	if tooLarge {
		req.TooLarge = true
		r.swallow = valueLen
	} else {
		req.Value = p[extLen+keyLen:]
	}
	r.b.r += need
	return nil
}

func unexpectedUnlessBlocked(err error) error {
	if err == ErrWouldBlock {
		return err
	}
	return unexpected(err)
}

// BinaryResponse describes a response to append with AppendBinary.
type BinaryResponse struct {
	Opcode BinaryOpcode
	Status BinaryStatus
	Opaque uint32
	CAS    uint64
	// Extras are the response extras (the flags of a get), Key the key
	// (GetK, GATK, a stat name) and Value the value (a get's data, an
	// incr's 8-byte result, a stat's value, an error's text).
	Extras []byte
	Key    []byte
	Value  []byte
}

// AppendBinary appends the response packet r to dst.
func AppendBinary(dst []byte, r *BinaryResponse) []byte {
	body := len(r.Extras) + len(r.Key) + len(r.Value)
	dst = AppendBinaryHeader(dst, r.Opcode, r.Status, len(r.Key), len(r.Extras), body, r.Opaque, r.CAS)
	dst = append(dst, r.Extras...)
	dst = append(dst, r.Key...)
	return append(dst, r.Value...)
}

// AppendBinaryHeader appends a response header; the caller appends the
// bodyLen bytes of extras, key and value that it announces.
func AppendBinaryHeader(dst []byte, op BinaryOpcode, status BinaryStatus, keyLen, extLen, bodyLen int, opaque uint32, cas uint64) []byte {
	var h [BinaryHeaderLen]byte
	h[0] = BinaryResponseMagic
	h[1] = byte(op)
	binary.BigEndian.PutUint16(h[2:], uint16(keyLen))
	h[4] = byte(extLen)
	binary.BigEndian.PutUint16(h[6:], uint16(status))
	binary.BigEndian.PutUint32(h[8:], uint32(bodyLen))
	binary.BigEndian.PutUint32(h[12:], opaque)
	binary.BigEndian.PutUint64(h[16:], cas)
	return append(dst, h[:]...)
}

// AppendBinaryError appends an error response whose body is msg, or the
// status's Text when msg is empty.
func AppendBinaryError(dst []byte, op BinaryOpcode, status BinaryStatus, opaque uint32, msg string) []byte {
	if msg == "" {
		msg = status.Text()
	}
	dst = AppendBinaryHeader(dst, op, status, 0, 0, len(msg), opaque, 0)
	return append(dst, msg...)
}

// BinaryBuffered reports whether the next request is buffered whole, so
// that ReadBinary returns it without reading from the connection.
func (r *Reader) BinaryBuffered() bool {
	if r.swallow > 0 || r.b.buffered() < BinaryHeaderLen {
		return false
	}
	h := r.b.buf[r.b.r : r.b.r+BinaryHeaderLen]
	return int64(r.b.buffered()) >= BinaryHeaderLen+int64(binary.BigEndian.Uint32(h[8:]))
}
