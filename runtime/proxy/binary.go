package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/memproto"
)

// The binary protocol on the client side. A binary request is translated
// into a meta request (mc.Request with Meta set) and routed through the
// same graph and upstream connections as a text one; meta is the text
// dialect that carries everything a binary reply needs: the CAS of a stored
// item (ms c), an incr that creates a missing counter (ma N J), a delete or
// append guarded by a CAS (C), and keys holding spaces or control bytes
// (b, base64). Runs of retrievals (a client's GetKQ ... GetK or ... Noop
// multiget) are routed concurrently, as the keys of one text multiget are.

// binState is the binary protocol state of a client connection.
type binState struct {
	req memproto.BinaryRequest
	// flags is scratch for the meta flags of an incr/decr.
	flags []byte
	// batch holds the binary side of the retrievals being batched; the
	// mc side is in client.slots.
	batch []binSlot
	// ext is scratch for response extras.
	ext [8]byte
}

// binSlot is one retrieval of a batch.
type binSlot struct {
	opcode memproto.BinaryOpcode // as sent (quiet or not)
	opaque uint32
	key    []byte // owned copy of the key
}

// errClose ends a client connection after its buffered replies are
// written.
var errClose = errors.New("proxy: close connection")

// Meta flags of the translated requests. Retrievals ask for the client
// flags, value and CAS; storage commands for the CAS of the stored item.
var (
	binGetFlags     = []byte("f v c")
	binGetFlagsB    = []byte("b f v c")
	binGatFlags     = []byte("T f v c")
	binGatFlagsB    = []byte("b T f v c")
	binTouchFlags   = []byte("T f c")
	binTouchFlagsB  = []byte("b T f c")
	binSetFlags     = []byte("c")
	binSetFlagsB    = []byte("b c")
	binAddFlags     = []byte("c ME")
	binAddFlagsB    = []byte("b c ME")
	binReplFlags    = []byte("c MR")
	binReplFlagsB   = []byte("b c MR")
	binAppendFlags  = []byte("c MA")
	binAppendFlagsB = []byte("b c MA")
	binPrependFlags = []byte("c MP")
	binPrependFlgB  = []byte("b c MP")
	binDeleteFlagsB = []byte("b")
)

// needsBase64 reports whether key cannot be sent as a meta token: it holds
// a space, a control byte or DEL (binary keys may hold any byte).
func needsBase64(key []byte) bool {
	for _, b := range key {
		if b <= ' ' || b == 0x7f {
			return true
		}
	}
	return false
}

func pick(b64 bool, plain, encoded []byte) []byte {
	if b64 {
		return encoded
	}
	return plain
}

// binaryCommand reads and answers one binary request, or a run of
// retrievals.
func (c *client) binaryCommand() error {
	q := &c.bin.req
	if err := c.r.ReadBinary(q); err != nil {
		return c.binaryReadError(err)
	}
	return c.execBinary(q)
}

// binInvalid answers a request whose lengths do not fit its opcode as
// memcached does: "Invalid arguments", then the connection is closed.
func (c *client) binInvalid(q *memproto.BinaryRequest) error {
	c.s.stats.protocolErrors.Add(1)
	c.out = memproto.AppendBinaryError(c.out, q.Opcode, memproto.BinStatusInvalid, q.Opaque, "")
	return errClose
}

// execBinary answers q.
func (c *client) execBinary(q *memproto.BinaryRequest) error {
	op, quiet := q.Opcode.Loud()
	nkey, next, nval := len(q.Key), len(q.Extras), len(q.Value)
	bare := nkey == 0 && next == 0 && nval == 0 && !q.TooLarge
	switch op {
	case memproto.BinGet, memproto.BinGetK, memproto.BinGAT, memproto.BinGATK:
		if !validRetrieval(op, q) {
			return c.binInvalid(q)
		}
		return c.binaryRetrievals()
	case memproto.BinTouch:
		if next != 4 || nkey == 0 {
			return c.binInvalid(q)
		}
	case memproto.BinSet, memproto.BinAdd, memproto.BinReplace:
		if next != 8 || nkey == 0 {
			return c.binInvalid(q)
		}
		if q.TooLarge {
			return c.binTooLarge(q, op)
		}
	case memproto.BinAppend, memproto.BinPrepend:
		if next != 0 || nkey == 0 {
			return c.binInvalid(q)
		}
		if q.TooLarge {
			return c.binTooLarge(q, op)
		}
	case memproto.BinDelete:
		if nkey == 0 || next != 0 || nval != 0 || q.TooLarge {
			return c.binInvalid(q)
		}
	case memproto.BinIncrement, memproto.BinDecrement:
		if nkey == 0 || next != 20 || nval != 0 || q.TooLarge {
			return c.binInvalid(q)
		}
	case memproto.BinNoop:
		if !bare {
			return c.binInvalid(q)
		}
		c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, 0, 0, 0, q.Opaque, 0)
		return nil
	case memproto.BinVersion:
		if !bare {
			return c.binInvalid(q)
		}
		v := MemcachedVersion
		c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, 0, 0, len(v), q.Opaque, 0)
		c.out = append(c.out, v...)
		return nil
	case memproto.BinQuit:
		if !bare {
			return c.binInvalid(q)
		}
		if !quiet {
			c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, 0, 0, 0, q.Opaque, 0)
		}
		return errClose
	case memproto.BinFlush:
		if nkey != 0 || nval != 0 || q.TooLarge || (next != 0 && next != 4) {
			return c.binInvalid(q)
		}
		c.binaryFlush(q, quiet)
		return nil
	case memproto.BinStat:
		if next != 0 {
			return c.binInvalid(q)
		}
		c.binaryStats(q)
		return nil
	case memproto.BinVerbosity:
		// memcached 1.6 no longer serves it; the proxy accepts it as it
		// accepts the text command.
		c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, 0, 0, 0, q.Opaque, 0)
		return nil
	case memproto.BinSASLList, memproto.BinSASLAuth, memproto.BinSASLStep:
		// As a memcached started without -S: SASL is an unknown command.
		c.out = memproto.AppendBinaryError(c.out, q.Opcode, memproto.BinStatusUnknownCommand, q.Opaque, "")
		return nil
	default:
		c.out = memproto.AppendBinaryError(c.out, q.Opcode, memproto.BinStatusUnknownCommand, q.Opaque, "")
		return nil
	}
	req, rep := &c.req, &c.rep
	c.binaryRequest(op, q, req)
	c.route(req, rep)
	c.appendBinaryReply(q.Opcode, q.Opaque, q.Key, req, rep)
	return nil
}

// validRetrieval applies memcached's length rules to a get or gat.
func validRetrieval(op memproto.BinaryOpcode, q *memproto.BinaryRequest) bool {
	if len(q.Key) == 0 || len(q.Value) != 0 || q.TooLarge {
		return false
	}
	if op == memproto.BinGAT || op == memproto.BinGATK {
		return len(q.Extras) == 4
	}
	return len(q.Extras) == 0
}

// binaryRequest translates the (valid) request q, whose opcode without its
// quiet bit is op, into req. req aliases q and c.bin.flags.
func (c *client) binaryRequest(op memproto.BinaryOpcode, q *memproto.BinaryRequest, req *mc.Request) {
	b64 := needsBase64(q.Key)
	*req = mc.Request{Key: q.Key, CAS: q.CAS}
	switch op {
	case memproto.BinGet, memproto.BinGetK:
		req.Op, req.Meta, req.MetaFlags = mc.OpGet, 'g', pick(b64, binGetFlags, binGetFlagsB)
		req.CAS = 0
	case memproto.BinGAT, memproto.BinGATK:
		req.Op, req.Meta, req.MetaFlags = mc.OpGat, 'g', pick(b64, binGatFlags, binGatFlagsB)
		req.Exptime = int64(binary.BigEndian.Uint32(q.Extras))
		req.CAS = 0
	case memproto.BinTouch:
		req.Op, req.Meta, req.MetaFlags = mc.OpTouch, 'g', pick(b64, binTouchFlags, binTouchFlagsB)
		req.Exptime = int64(binary.BigEndian.Uint32(q.Extras))
		req.CAS = 0
	case memproto.BinSet, memproto.BinAdd, memproto.BinReplace:
		req.Meta, req.Value = 's', q.Value
		req.Flags = binary.BigEndian.Uint32(q.Extras)
		req.Exptime = int64(binary.BigEndian.Uint32(q.Extras[4:]))
		switch {
		case q.CAS != 0:
			// memcached turns any of the three into a cas when the
			// request carries a CAS value.
			req.Op, req.MetaFlags = mc.OpCas, pick(b64, binSetFlags, binSetFlagsB)
		case op == memproto.BinSet:
			req.Op, req.MetaFlags = mc.OpSet, pick(b64, binSetFlags, binSetFlagsB)
		case op == memproto.BinAdd:
			req.Op, req.MetaFlags = mc.OpAdd, pick(b64, binAddFlags, binAddFlagsB)
		default:
			req.Op, req.MetaFlags = mc.OpReplace, pick(b64, binReplFlags, binReplFlagsB)
		}
	case memproto.BinAppend:
		req.Op, req.Meta, req.Value, req.MetaFlags = mc.OpAppend, 's', q.Value, pick(b64, binAppendFlags, binAppendFlagsB)
	case memproto.BinPrepend:
		req.Op, req.Meta, req.Value, req.MetaFlags = mc.OpPrepend, 's', q.Value, pick(b64, binPrependFlags, binPrependFlgB)
	case memproto.BinDelete:
		req.Op, req.Meta = mc.OpDelete, 'd'
		if b64 {
			req.MetaFlags = binDeleteFlagsB
		}
	case memproto.BinIncrement, memproto.BinDecrement:
		req.Op, req.Meta = mc.OpIncr, 'a'
		f := c.bin.flags[:0]
		if b64 {
			f = append(f, "b "...)
		}
		if op == memproto.BinDecrement {
			req.Op = mc.OpDecr
			f = append(f, "MD v c"...)
		} else {
			f = append(f, "MI v c"...)
		}
		req.Delta = binary.BigEndian.Uint64(q.Extras)
		// An expiration of 0xffffffff means "do not create a missing
		// counter"; any other creates it with the initial value.
		if exp := binary.BigEndian.Uint32(q.Extras[16:]); exp != 0xffffffff {
			f = append(f, " N"...)
			f = strconv.AppendUint(f, uint64(exp), 10)
			f = append(f, " J"...)
			f = strconv.AppendUint(f, binary.BigEndian.Uint64(q.Extras[8:]), 10)
		}
		c.bin.flags = f
		req.MetaFlags = f
	}
}

// binaryRetrievals answers the retrieval in c.bin.req and every complete
// retrieval buffered right behind it, routed concurrently, in order.
func (c *client) binaryRetrievals() error {
	var pending error
	n := 0
	limit := c.s.maxOutstanding()
	for {
		q := &c.bin.req
		if n == len(c.bin.batch) {
			c.bin.batch = append(c.bin.batch, binSlot{})
		}
		if n == len(c.slots) {
			c.slots = append(c.slots, slot{})
		}
		bs := &c.bin.batch[n]
		bs.opcode, bs.opaque = q.Opcode, q.Opaque
		bs.key = append(bs.key[:0], q.Key...)
		op, _ := q.Opcode.Loud()
		sl := &c.slots[n]
		c.binaryRequest(op, q, &sl.req)
		sl.req.Key = bs.key
		n++
		if n == limit {
			break
		}
		if next, ok := c.r.PeekBinaryOpcode(); !ok || !next.IsRetrieval() || !c.r.BinaryBuffered() {
			break
		}
		if err := c.r.ReadBinary(q); err != nil {
			pending = err
			break
		}
		if l, _ := q.Opcode.Loud(); !validRetrieval(l, q) {
			pending = errInvalidRetrieval
			break
		}
	}
	slots := c.slots[:n]
	c.routeSlots(slots)
	for i := range slots {
		bs := &c.bin.batch[i]
		c.appendBinaryReply(bs.opcode, bs.opaque, bs.key, &slots[i].req, &slots[i].rep)
		slots[i].req = mc.Request{}
	}
	switch pending {
	case nil:
		return nil
	case errInvalidRetrieval:
		return c.binInvalid(&c.bin.req)
	}
	return c.binaryReadError(pending)
}

// binaryReadError answers a *memproto.BinaryError from reading c.bin.req
// as memcached does (its status, if any, then the connection is closed)
// and passes any other read error on.
func (c *client) binaryReadError(err error) error {
	be, ok := err.(*memproto.BinaryError)
	if !ok {
		return err
	}
	c.s.stats.protocolErrors.Add(1)
	if be.Status != 0 {
		c.out = memproto.AppendBinaryError(c.out, c.bin.req.Opcode, be.Status, c.bin.req.Opaque, "")
	}
	return errClose
}

var errInvalidRetrieval = errors.New("proxy: invalid binary retrieval")

// binTooLarge answers a storage request whose value exceeds the item size
// limit as memcached does: "Too large.", and a set also removes the key's
// old value, so that no stale value survives a failed overwrite.
func (c *client) binTooLarge(q *memproto.BinaryRequest, op memproto.BinaryOpcode) error {
	c.out = memproto.AppendBinaryError(c.out, q.Opcode, memproto.BinStatusTooLarge, q.Opaque, "")
	if op == memproto.BinSet {
		c.deleteStale(q.Key)
	}
	return nil
}

// deleteStale routes a delete of key, whose answer nobody waits for.
func (c *client) deleteStale(key []byte) {
	req := mc.Request{Op: mc.OpDelete, Key: key}
	if needsBase64(key) {
		req.Meta, req.MetaFlags = 'd', binDeleteFlagsB
	}
	c.route(&req, &c.rep)
}

// binaryFlush answers Flush: flush_all to every server when enabled.
func (c *client) binaryFlush(q *memproto.BinaryRequest, quiet bool) {
	if !c.s.opts.EnableFlush {
		// memcached -F answers a disabled flush with an auth error.
		c.out = memproto.AppendBinaryError(c.out, q.Opcode, memproto.BinStatusAuthError, q.Opaque, "Command disabled")
		return
	}
	req := mc.Request{Op: mc.OpFlushAll}
	if len(q.Extras) == 4 {
		req.Exptime = int64(binary.BigEndian.Uint32(q.Extras))
	}
	c.s.flushAll(&req, &c.rep)
	if c.rep.Result.IsError() {
		status, msg := binaryError(&req, &c.rep)
		c.out = memproto.AppendBinaryError(c.out, q.Opcode, status, q.Opaque, msg)
		return
	}
	if !quiet {
		c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, 0, 0, 0, q.Opaque, 0)
	}
}

// binaryStats answers Stat with one packet per statistic (key: name, value:
// value) and an empty one at the end, from the text answer of the same
// group; a group the proxy does not serve gets "Not found", as memcached's
// unknown groups do.
func (c *client) binaryStats(q *memproto.BinaryRequest) {
	text := string(c.s.appendStats(nil, string(q.Key)))
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\r\n")
		text = rest
		switch {
		case strings.HasPrefix(line, "STAT "):
			name, value, _ := strings.Cut(line[5:], " ")
			c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, len(name), 0, len(name)+len(value), q.Opaque, 0)
			c.out = append(c.out, name...)
			c.out = append(c.out, value...)
		case line == "END" || line == "RESET" || line == "OK":
			c.out = memproto.AppendBinaryHeader(c.out, q.Opcode, 0, 0, 0, 0, q.Opaque, 0)
			return
		case line == "":
		default:
			c.out = memproto.AppendBinaryError(c.out, q.Opcode, memproto.BinStatusKeyNotFound, q.Opaque, "")
			return
		}
	}
}

// appendBinaryReply appends the answer to the binary request with opcode
// and opaque, translated into req and answered with rep.
func (c *client) appendBinaryReply(opcode memproto.BinaryOpcode, opaque uint32, key []byte, req *mc.Request, rep *mc.Reply) {
	op, quiet := opcode.Loud()
	res := rep.Result
	if res.IsError() {
		status, msg := binaryError(req, rep)
		c.out = memproto.AppendBinaryError(c.out, opcode, status, opaque, msg)
		return
	}
	ext := c.bin.ext[:0]
	switch op {
	case memproto.BinGet, memproto.BinGetK, memproto.BinGAT, memproto.BinGATK, memproto.BinTouch:
		withKey := op == memproto.BinGetK || op == memproto.BinGATK
		if res == mc.ResFound || res == mc.ResFoundStale {
			ext = binary.BigEndian.AppendUint32(ext, rep.Flags)
			var k, v []byte
			if withKey {
				k = key
			}
			if op != memproto.BinTouch {
				v = rep.Value
			}
			c.out = memproto.AppendBinaryHeader(c.out, opcode, 0, len(k), len(ext), len(ext)+len(k)+len(v), opaque, rep.CAS)
			c.out = append(c.out, ext...)
			c.out = append(c.out, k...)
			c.out = append(c.out, v...)
			return
		}
		if quiet {
			return
		}
		if withKey {
			// memcached's miss for GetK/GATK carries the key, no text.
			c.out = memproto.AppendBinaryHeader(c.out, opcode, memproto.BinStatusKeyNotFound, len(key), 0, len(key), opaque, 0)
			c.out = append(c.out, key...)
			return
		}
		c.out = memproto.AppendBinaryError(c.out, opcode, memproto.BinStatusKeyNotFound, opaque, "")
		return
	case memproto.BinIncrement, memproto.BinDecrement:
		if res == mc.ResStored || res == mc.ResFound || res == mc.ResOK {
			if quiet {
				return
			}
			n, err := strconv.ParseUint(string(bytes.TrimSpace(rep.Value)), 10, 64)
			if err != nil {
				c.out = memproto.AppendBinaryError(c.out, opcode, memproto.BinStatusInternal, opaque, "bad incr/decr reply from the server")
				return
			}
			ext = binary.BigEndian.AppendUint64(ext, n)
			c.out = memproto.AppendBinaryHeader(c.out, opcode, 0, 0, 0, len(ext), opaque, rep.CAS)
			c.out = append(c.out, ext...)
			return
		}
	default:
		if res == mc.ResStored || res == mc.ResDeleted || res == mc.ResOK || res == mc.ResTouched {
			if !quiet {
				cas := rep.CAS
				if op == memproto.BinDelete {
					cas = 0
				}
				c.out = memproto.AppendBinaryHeader(c.out, opcode, 0, 0, 0, 0, opaque, cas)
			}
			return
		}
	}
	status := memproto.BinStatusInternal
	switch res {
	case mc.ResNotFound, mc.ResNotFoundHot:
		status = memproto.BinStatusKeyNotFound
	case mc.ResExists:
		status = memproto.BinStatusKeyExists
	case mc.ResNotStored:
		// memcached's answers to a failed add and replace.
		switch req.Op {
		case mc.OpAdd:
			status = memproto.BinStatusKeyExists
		case mc.OpReplace:
			status = memproto.BinStatusKeyNotFound
		default:
			status = memproto.BinStatusNotStored
		}
	}
	c.out = memproto.AppendBinaryError(c.out, opcode, status, opaque, "")
}

// binaryError maps an error reply to a binary status and text: the
// server's own errors to memcached's statuses for them, the proxy's
// (timeouts, unreachable or marked-down servers) to a temporary failure or
// an internal error, with mcrouter's text for them.
func binaryError(req *mc.Request, rep *mc.Reply) (memproto.BinaryStatus, string) {
	msg := rep.Message
	if msg == "" {
		msg = rep.Result.ErrorText()
	}
	switch rep.Result {
	case mc.ResClientError, mc.ResBadCommand, mc.ResBadKey, mc.ResBadFlags,
		mc.ResBadExptime, mc.ResBadValue, mc.ResBadCasID, mc.ResBadLeaseID:
		if (req.Op == mc.OpIncr || req.Op == mc.OpDecr) && strings.Contains(msg, "non-numeric") {
			return memproto.BinStatusDeltaBadValue, ""
		}
		return memproto.BinStatusInvalid, msg
	case mc.ResRemoteError:
		switch {
		case strings.Contains(msg, "too large"):
			return memproto.BinStatusTooLarge, ""
		case strings.Contains(msg, "out of memory"):
			return memproto.BinStatusOutOfMemory, ""
		}
		return memproto.BinStatusInternal, msg
	case mc.ResBusy:
		return memproto.BinStatusBusy, msg
	case mc.ResTimeout, mc.ResConnectTimeout, mc.ResConnectError, mc.ResTko,
		mc.ResTryAgain, mc.ResShutdown, mc.ResDeadlineExceeded:
		return memproto.BinStatusTempFailure, msg
	case mc.ResPermissionDenied:
		return memproto.BinStatusAuthError, msg
	}
	return memproto.BinStatusInternal, msg
}
